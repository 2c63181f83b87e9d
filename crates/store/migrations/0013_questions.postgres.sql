CREATE TRIGGER vote_ballot_answers_no_update BEFORE UPDATE OR DELETE ON vote_ballot_answers
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
