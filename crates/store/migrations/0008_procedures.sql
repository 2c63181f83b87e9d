-- A place's own procedures (a community's "小院说事", say): versions are
-- appended, the newest of a key at a place is current; matters copy the
-- procedure they follow, so a later version never changes a matter.
CREATE TABLE procedure_library (
    id TEXT PRIMARY KEY,
    place_id TEXT NOT NULL REFERENCES places(id),
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    procedure_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX procedure_library_place_key ON procedure_library (place_id, key, created_at);
