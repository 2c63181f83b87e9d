-- Gongzhi schema 5: cases, part two. Mediations (调解) of dispute cases:
-- the mediation, its parties, mediators, sessions and one outcome, all
-- append-only (triggers in the per-engine companions; the outcome's primary
-- key is the mediation, so a mediation concludes at most once).

CREATE TABLE mediations (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL UNIQUE REFERENCES cases(id),
  place_path TEXT NOT NULL,
  opened_by TEXT NOT NULL,
  opened_at BIGINT NOT NULL
);
CREATE INDEX mediations_path ON mediations(place_path);

CREATE TABLE mediation_parties (
  mediation_id TEXT NOT NULL REFERENCES mediations(id),
  seq BIGINT NOT NULL,
  name TEXT NOT NULL,
  side TEXT NOT NULL,
  phone TEXT,
  PRIMARY KEY (mediation_id, seq)
);

CREATE TABLE mediation_mediators (
  mediation_id TEXT NOT NULL REFERENCES mediations(id),
  org_id TEXT NOT NULL REFERENCES organisations(id),
  PRIMARY KEY (mediation_id, org_id)
);

CREATE TABLE mediation_sessions (
  id TEXT PRIMARY KEY,
  mediation_id TEXT NOT NULL REFERENCES mediations(id),
  seq BIGINT NOT NULL,
  held_at BIGINT NOT NULL,
  place TEXT NOT NULL,
  attendees_json TEXT NOT NULL,
  notes TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  UNIQUE (mediation_id, seq)
);

CREATE TABLE mediation_outcomes (
  mediation_id TEXT PRIMARY KEY REFERENCES mediations(id),
  kind TEXT NOT NULL,
  text TEXT,
  referred_to TEXT,
  concluded_by TEXT NOT NULL,
  concluded_at BIGINT NOT NULL
);
