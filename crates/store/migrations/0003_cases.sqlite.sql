CREATE TABLE case_photos (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  sha256 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  bytes BLOB NOT NULL,
  added_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX case_photos_case ON case_photos(case_id);
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_photos_no_update BEFORE UPDATE ON case_photos
BEGIN SELECT RAISE(ABORT, 'case_photos is append-only'); END;
CREATE TRIGGER case_photos_no_delete BEFORE DELETE ON case_photos
BEGIN SELECT RAISE(ABORT, 'case_photos is append-only'); END;
