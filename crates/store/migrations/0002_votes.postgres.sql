CREATE TRIGGER vote_ballots_no_update BEFORE UPDATE OR DELETE ON vote_ballots
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER vote_electorate_no_update BEFORE UPDATE OR DELETE ON vote_electorate
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER matter_steps_no_update BEFORE UPDATE OR DELETE ON matter_steps
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
