CREATE TRIGGER party_checkins_no_update BEFORE UPDATE OR DELETE ON party_checkins
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER party_receipts_no_update BEFORE UPDATE OR DELETE ON party_receipts
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
