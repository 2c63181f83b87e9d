CREATE TRIGGER api_tokens_revocation_final BEFORE UPDATE ON api_tokens
WHEN (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at)
  OR NEW.expires_at IS NOT OLD.expires_at OR NEW.user_id IS NOT OLD.user_id
  OR NEW.token_hash IS NOT OLD.token_hash
BEGIN SELECT RAISE(ABORT, 'an API token''s revocation, expiry and owner are final'); END;
CREATE TRIGGER api_tokens_no_delete BEFORE DELETE ON api_tokens
BEGIN SELECT RAISE(ABORT, 'api_tokens are revoked, never deleted'); END;
CREATE TRIGGER sessions_revocation_final BEFORE UPDATE ON sessions
WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at
BEGIN SELECT RAISE(ABORT, 'a session''s revocation is final'); END;
