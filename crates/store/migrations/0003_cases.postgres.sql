CREATE TABLE case_photos (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  sha256 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  bytes BYTEA NOT NULL,
  added_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX case_photos_case ON case_photos(case_id);
CREATE TRIGGER case_events_no_update BEFORE UPDATE OR DELETE ON case_events
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER case_photos_no_update BEFORE UPDATE OR DELETE ON case_photos
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
