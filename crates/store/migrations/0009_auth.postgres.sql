CREATE FUNCTION gongzhi_token_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'api_tokens are revoked, never deleted';
  END IF;
  IF (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at)
     OR NEW.expires_at IS DISTINCT FROM OLD.expires_at OR NEW.user_id IS DISTINCT FROM OLD.user_id
     OR NEW.token_hash IS DISTINCT FROM OLD.token_hash THEN
    RAISE EXCEPTION 'an API token''s revocation, expiry and owner are final';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER api_tokens_final BEFORE UPDATE OR DELETE ON api_tokens
FOR EACH ROW EXECUTE FUNCTION gongzhi_token_final();
CREATE FUNCTION gongzhi_session_revocation_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
    RAISE EXCEPTION 'a session''s revocation is final';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER sessions_revocation_final BEFORE UPDATE ON sessions
FOR EACH ROW EXECUTE FUNCTION gongzhi_session_revocation_final();
