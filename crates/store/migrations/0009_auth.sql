-- API tokens expire and remember when they were last used (written at most
-- about once a minute per token); sessions can be revoked (password change,
-- an administrator). A revocation is a fact set once (companions' triggers).
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
-- Tokens made before they expired get the longest lifetime (365 days), counted from their creation.
UPDATE api_tokens SET expires_at = created_at + 31536000000;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
ALTER TABLE sessions ADD COLUMN revoked_at BIGINT;
CREATE INDEX sessions_user ON sessions(user_id);
