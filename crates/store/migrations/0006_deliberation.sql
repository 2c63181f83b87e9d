-- Deliberation around a matter (issue 4): comments, questionnaires and their
-- answers, door-to-door records (敲门行动), meetings and their minutes.
-- Comments, answers, door records and minutes are append-only (triggers in
-- the companions): a replaced answer or corrected minutes is a new row.

CREATE TABLE matter_comments (
  id TEXT PRIMARY KEY,
  matter_id TEXT NOT NULL REFERENCES matters(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  author TEXT NOT NULL,
  body TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX matter_comments_matter ON matter_comments(matter_id, at);

CREATE TABLE questionnaires (
  id TEXT PRIMARY KEY,
  matter_id TEXT NOT NULL REFERENCES matters(id),
  title TEXT NOT NULL,
  questions_json TEXT NOT NULL,
  closes_at BIGINT NOT NULL,
  closed_at BIGINT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX questionnaires_matter ON questionnaires(matter_id);

CREATE TABLE questionnaire_answers (
  id TEXT PRIMARY KEY,
  questionnaire_id TEXT NOT NULL REFERENCES questionnaires(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  seq BIGINT NOT NULL,
  answers_json TEXT NOT NULL,
  at BIGINT NOT NULL,
  UNIQUE (questionnaire_id, user_id, seq)
);

CREATE TABLE door_records (
  id TEXT PRIMARY KEY,
  matter_id TEXT NOT NULL REFERENCES matters(id),
  part_id TEXT NOT NULL REFERENCES parts(id),
  visited_on TEXT NOT NULL,
  opinion TEXT NOT NULL,
  worker TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  vote_id TEXT REFERENCES votes(id),
  ballot_receipt TEXT,
  at BIGINT NOT NULL
);
CREATE INDEX door_records_matter ON door_records(matter_id, part_id);

CREATE TABLE meetings (
  id TEXT PRIMARY KEY,
  matter_id TEXT REFERENCES matters(id),
  place_id TEXT NOT NULL REFERENCES places(id),
  scope_path TEXT NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  location TEXT NOT NULL,
  agenda_json TEXT NOT NULL,
  participants_json TEXT NOT NULL,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  announced_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX meetings_scope ON meetings(scope_path);
CREATE INDEX meetings_matter ON meetings(matter_id);

CREATE TABLE meeting_minutes (
  id TEXT PRIMARY KEY,
  meeting_id TEXT NOT NULL REFERENCES meetings(id),
  seq BIGINT NOT NULL,
  minutes TEXT NOT NULL,
  attendance_json TEXT NOT NULL,
  decisions_json TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  at BIGINT NOT NULL,
  UNIQUE (meeting_id, seq)
);

-- Documents attached to a matter's done steps (a contract, a notice): the
-- file in hex with its SHA-256, append-only.
CREATE TABLE matter_documents (
  id TEXT PRIMARY KEY,
  matter_id TEXT NOT NULL REFERENCES matters(id),
  step_idx BIGINT NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes_hex TEXT NOT NULL,
  added_by TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX matter_documents_matter ON matter_documents(matter_id, step_idx);
