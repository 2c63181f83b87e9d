CREATE TRIGGER points_transfers_no_update BEFORE UPDATE OR DELETE ON points_transfers
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER points_rules_no_update BEFORE UPDATE OR DELETE ON points_rules
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
