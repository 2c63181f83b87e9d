CREATE TRIGGER vote_spending_no_update BEFORE UPDATE OR DELETE ON vote_spending
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
