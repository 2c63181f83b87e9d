-- Gongzhi schema 3: cases (诉求/工单), their append-only events, photos and
-- routing rules. Portable SQL; the photo table and the append-only triggers
-- are in the per-engine companions.

CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  category TEXT NOT NULL,
  priority TEXT NOT NULL,
  status TEXT NOT NULL,
  is_open BIGINT NOT NULL,
  place_id TEXT NOT NULL REFERENCES places(id),
  place_path TEXT NOT NULL,
  part_id TEXT REFERENCES parts(id),
  holder_place_id TEXT NOT NULL REFERENCES places(id),
  level TEXT NOT NULL,
  org_kind TEXT NOT NULL,
  org_id TEXT REFERENCES organisations(id),
  grid_id TEXT REFERENCES grids(id),
  assignee_user_id TEXT REFERENCES users(id),
  description TEXT NOT NULL,
  address TEXT,
  lat TEXT,
  lon TEXT,
  channel TEXT NOT NULL,
  reporter_user_id TEXT REFERENCES users(id),
  reporter_name TEXT,
  reporter_phone TEXT,
  raised_by TEXT NOT NULL,
  consent_publish BIGINT NOT NULL DEFAULT 0,
  duplicate_of TEXT REFERENCES cases(id),
  reported_at BIGINT NOT NULL,
  response_due BIGINT NOT NULL,
  resolution_due BIGINT NOT NULL,
  responded_at BIGINT,
  resolved_at BIGINT,
  closed_at BIGINT,
  rating BIGINT,
  rated_at BIGINT,
  rating_comment TEXT,
  reopens BIGINT NOT NULL DEFAULT 0,
  escalations BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);
CREATE INDEX cases_path ON cases(place_path);
CREATE INDEX cases_open_due ON cases(is_open, resolution_due);
CREATE INDEX cases_reporter ON cases(reporter_user_id);
CREATE INDEX cases_reported ON cases(reported_at);

CREATE TABLE case_events (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  note TEXT,
  data_json TEXT
);
CREATE INDEX case_events_case ON case_events(case_id, at);

CREATE TABLE case_routes (
  id TEXT PRIMARY KEY,
  community_id TEXT REFERENCES places(id),
  category TEXT NOT NULL,
  org_kind TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX case_routes_community ON case_routes(community_id);
