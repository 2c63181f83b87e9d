CREATE TRIGGER fund_transfers_no_update BEFORE UPDATE OR DELETE ON fund_transfers
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER fund_leaves_no_update BEFORE UPDATE OR DELETE ON fund_leaves
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
