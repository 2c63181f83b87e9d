CREATE TRIGGER mediations_no_update BEFORE UPDATE OR DELETE ON mediations
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER mediation_parties_no_update BEFORE UPDATE OR DELETE ON mediation_parties
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER mediation_mediators_no_update BEFORE UPDATE OR DELETE ON mediation_mediators
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER mediation_sessions_no_update BEFORE UPDATE OR DELETE ON mediation_sessions
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER mediation_outcomes_no_update BEFORE UPDATE OR DELETE ON mediation_outcomes
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER notification_attempts_no_update BEFORE UPDATE OR DELETE ON notification_attempts
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
-- The work queue (open cases below a place, soonest deadline first). Partial
-- indexes over open cases only: by place then deadline (a building's or
-- compound's open cases found by range, few to sort) and by deadline with the
-- path inside the index (an ordered scan that filters in the index and stops
-- at the page size). SQLite already serves the queue from cases_open_due and
-- ignores these, so they are PostgreSQL's only (see BENCHMARKS.md).
CREATE INDEX cases_queue_path ON cases(place_path, resolution_due, id) WHERE is_open = 1;
CREATE INDEX cases_queue_due ON cases(resolution_due, id, place_path) WHERE is_open = 1;
