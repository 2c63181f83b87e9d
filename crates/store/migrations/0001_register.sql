-- Gongzhi schema 1: the register, access and the audit trail.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL (and PostgreSQL-compatible
-- engines). Ids are app-generated UUIDv7 text; times are BIGINT unix milliseconds;
-- areas are BIGINT hundredths of m²; booleans are BIGINT 0/1.

CREATE TABLE places (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  parent_id TEXT REFERENCES places(id),
  natural_key TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  code TEXT UNIQUE,
  created_at BIGINT NOT NULL
);
CREATE INDEX places_parent ON places(parent_id);
CREATE INDEX places_path ON places(path);

CREATE TABLE owners (
  id TEXT PRIMARY KEY,
  owner_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  phone TEXT,
  consent_publish_name BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

CREATE TABLE parts (
  id TEXT PRIMARY KEY,
  place_id TEXT NOT NULL REFERENCES places(id),
  compound_id TEXT NOT NULL REFERENCES places(id),
  number TEXT NOT NULL,
  kind TEXT NOT NULL,
  area_centi BIGINT NOT NULL CHECK (area_centi > 0),
  area_basis TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES owners(id),
  natural_key TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX parts_place ON parts(place_id);
CREATE INDEX parts_compound ON parts(compound_id);
CREATE INDEX parts_owner ON parts(owner_id);

CREATE TABLE people (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  phone TEXT,
  id_number TEXT,
  consent_publish_name BIGINT NOT NULL DEFAULT 0,
  home_place_id TEXT REFERENCES places(id),
  created_at BIGINT NOT NULL
);
CREATE INDEX people_home ON people(home_place_id);

CREATE TABLE residents (
  id TEXT PRIMARY KEY,
  person_id TEXT NOT NULL REFERENCES people(id),
  part_id TEXT NOT NULL REFERENCES parts(id),
  relation TEXT NOT NULL,
  since BIGINT NOT NULL,
  until BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX residents_part ON residents(part_id);
CREATE INDEX residents_person ON residents(person_id);

CREATE TABLE grids (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  place_id TEXT NOT NULL REFERENCES places(id),
  parent_id TEXT REFERENCES grids(id),
  worker_person_id TEXT REFERENCES people(id),
  created_at BIGINT NOT NULL
);
CREATE INDEX grids_place ON grids(place_id);

CREATE TABLE grid_parts (
  grid_id TEXT NOT NULL REFERENCES grids(id),
  part_id TEXT NOT NULL UNIQUE REFERENCES parts(id),
  PRIMARY KEY (grid_id, part_id)
);

CREATE TABLE organisations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  place_id TEXT NOT NULL REFERENCES places(id),
  parent_id TEXT REFERENCES organisations(id),
  created_at BIGINT NOT NULL
);
CREATE INDEX organisations_place ON organisations(place_id);

CREATE TABLE organisation_places (
  org_id TEXT NOT NULL REFERENCES organisations(id),
  place_id TEXT NOT NULL REFERENCES places(id),
  PRIMARY KEY (org_id, place_id)
);
CREATE INDEX organisation_places_place ON organisation_places(place_id);

CREATE TABLE memberships (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organisations(id),
  person_id TEXT NOT NULL REFERENCES people(id),
  role TEXT NOT NULL,
  member_type TEXT,
  building_id TEXT REFERENCES places(id),
  term_start BIGINT NOT NULL,
  term_end BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX memberships_org ON memberships(org_id);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  person_id TEXT REFERENCES people(id),
  disabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

CREATE TABLE grants (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL,
  place_id TEXT REFERENCES places(id),
  grid_id TEXT REFERENCES grids(id),
  created_at BIGINT NOT NULL
);
CREATE INDEX grants_user ON grants(user_id);

CREATE TABLE owner_accounts (
  user_id TEXT NOT NULL REFERENCES users(id),
  owner_id TEXT NOT NULL REFERENCES owners(id),
  PRIMARY KEY (user_id, owner_id)
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  scope_path TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT
);
CREATE INDEX audit_scope ON audit_log(scope_path);
CREATE INDEX audit_entity ON audit_log(entity_id);
