-- Gongzhi schema 15: accounts for real people. Sign-up by phone (one-time
-- codes, stored only as hashes), household claims checked against the
-- register, invitations to a role, forced password resets.

ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN must_reset BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX users_phone ON users(phone);

-- Every request for a code is a row (also those that sent no code), so the
-- limits count the same for a phone with or without an account.
CREATE TABLE phone_codes (
  id TEXT PRIMARY KEY,
  phone TEXT NOT NULL,
  purpose TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  ip TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  used_at BIGINT
);
CREATE INDEX phone_codes_phone ON phone_codes(phone, purpose, created_at);
CREATE INDEX phone_codes_ip ON phone_codes(ip, created_at);

CREATE TABLE household_claims (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  compound_id TEXT NOT NULL REFERENCES places(id),
  building TEXT NOT NULL,
  unit TEXT NOT NULL,
  number TEXT NOT NULL,
  owner_name TEXT NOT NULL,
  claimant_name TEXT NOT NULL,
  relation TEXT NOT NULL,
  part_id TEXT REFERENCES parts(id),
  status TEXT NOT NULL,
  decided_by TEXT,
  decided_at BIGINT,
  note TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX household_claims_compound ON household_claims(compound_id, status, created_at);
CREATE INDEX household_claims_user ON household_claims(user_id, created_at);
CREATE INDEX household_claims_part ON household_claims(part_id, status);

CREATE TABLE invitations (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  place_id TEXT REFERENCES places(id),
  grid_id TEXT REFERENCES grids(id),
  invited_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  accepted_at BIGINT,
  accepted_user_id TEXT REFERENCES users(id),
  revoked_at BIGINT
);
CREATE INDEX invitations_place ON invitations(place_id, created_at);
