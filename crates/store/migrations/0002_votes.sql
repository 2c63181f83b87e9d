-- Gongzhi schema 2: owners' votes (Civil Code art. 278), frozen electorates,
-- append-only ballots, ballot evidence, community settings.

CREATE TABLE settings (
  place_id TEXT NOT NULL REFERENCES places(id),
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (place_id, name)
);

CREATE TABLE votes (
  id TEXT PRIMARY KEY,
  place_id TEXT NOT NULL REFERENCES places(id),
  scope_path TEXT NOT NULL,
  title TEXT NOT NULL,
  rule_json TEXT NOT NULL,
  opens_at BIGINT NOT NULL,
  closes_at BIGINT NOT NULL,
  channels TEXT NOT NULL,
  status TEXT NOT NULL,
  proxy_limit BIGINT,
  total_area BIGINT,
  total_heads BIGINT,
  opened_at BIGINT,
  closed_at BIGINT,
  result_json TEXT,
  record_json TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX votes_scope ON votes(scope_path);

-- The electorate frozen at opening: every exclusive part in scope with its
-- area and owner of record; owner_ref is the opaque key published in the record.
CREATE TABLE vote_electorate (
  vote_id TEXT NOT NULL REFERENCES votes(id),
  part_id TEXT NOT NULL REFERENCES parts(id),
  part_label TEXT NOT NULL,
  area_centi BIGINT NOT NULL CHECK (area_centi > 0),
  owner_id TEXT NOT NULL REFERENCES owners(id),
  owner_ref TEXT NOT NULL,
  PRIMARY KEY (vote_id, part_id)
);
CREATE INDEX vote_electorate_owner ON vote_electorate(vote_id, owner_id);

CREATE TABLE vote_evidence (
  id TEXT PRIMARY KEY,
  vote_id TEXT NOT NULL REFERENCES votes(id),
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes_hex TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- Append-only: an owner's current ballot is the one with the highest seq;
-- earlier ones stay, superseded.
CREATE TABLE vote_ballots (
  id TEXT PRIMARY KEY,
  vote_id TEXT NOT NULL REFERENCES votes(id),
  owner_id TEXT NOT NULL REFERENCES owners(id),
  seq BIGINT NOT NULL,
  choice TEXT NOT NULL,
  channel TEXT NOT NULL,
  receipt TEXT NOT NULL UNIQUE,
  cast_by TEXT NOT NULL,
  proxy_holder TEXT,
  evidence_id TEXT REFERENCES vote_evidence(id),
  supersedes TEXT REFERENCES vote_ballots(id),
  cast_at BIGINT NOT NULL,
  UNIQUE (vote_id, owner_id, seq)
);
CREATE INDEX vote_ballots_vote ON vote_ballots(vote_id);

-- Matters (议题) following a procedure that is data (see domain procedure.rs);
-- steps are append-only.
CREATE TABLE matters (
  id TEXT PRIMARY KEY,
  place_id TEXT NOT NULL REFERENCES places(id),
  scope_path TEXT NOT NULL,
  title TEXT NOT NULL,
  procedure_json TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX matters_scope ON matters(scope_path);

CREATE TABLE matter_steps (
  id TEXT PRIMARY KEY,
  matter_id TEXT NOT NULL REFERENCES matters(id),
  idx BIGINT NOT NULL,
  step_key TEXT NOT NULL,
  role TEXT NOT NULL,
  actor TEXT NOT NULL,
  note TEXT NOT NULL,
  vote_id TEXT REFERENCES votes(id),
  at BIGINT NOT NULL,
  UNIQUE (matter_id, idx)
);
