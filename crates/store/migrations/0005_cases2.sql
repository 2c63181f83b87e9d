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

-- Notifications of case changes (an outbox: written in the same transaction
-- as the case event), one delivery per channel, every attempt recorded
-- (append-only).
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  case_id TEXT NOT NULL REFERENCES cases(id),
  event_kind TEXT NOT NULL,
  to_status TEXT NOT NULL,
  note TEXT,
  created_at BIGINT NOT NULL,
  read_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

CREATE TABLE notification_deliveries (
  id TEXT PRIMARY KEY,
  notification_id TEXT NOT NULL REFERENCES notifications(id),
  channel TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  claimed_at BIGINT,
  done_at BIGINT,
  UNIQUE (notification_id, channel)
);
CREATE INDEX notification_deliveries_state ON notification_deliveries(state, created_at);

CREATE TABLE notification_attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES notification_deliveries(id),
  at BIGINT NOT NULL,
  ok BIGINT NOT NULL,
  detail TEXT
);
CREATE INDEX notification_attempts_delivery ON notification_attempts(delivery_id);

-- Open311: how POST requests.json answers in a jurisdiction (`id`: the case
-- is created at once; `token`: the request is queued for acceptance and
-- answered with a token), and the queue of requests waiting for acceptance.
CREATE TABLE open311_settings (
  place_id TEXT PRIMARY KEY REFERENCES places(id),
  answer TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE open311_queue (
  token TEXT PRIMARY KEY,
  place_id TEXT NOT NULL REFERENCES places(id),
  place_path TEXT NOT NULL,
  api_user_id TEXT NOT NULL REFERENCES users(id),
  request_json TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  state TEXT NOT NULL,
  case_id TEXT REFERENCES cases(id),
  decided_by TEXT,
  decided_at BIGINT,
  reason TEXT
);
CREATE INDEX open311_queue_path ON open311_queue(state, place_path);
