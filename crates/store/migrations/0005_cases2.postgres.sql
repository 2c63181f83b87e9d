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
