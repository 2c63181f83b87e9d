CREATE TRIGGER fund_records_no_update BEFORE UPDATE OR DELETE ON fund_records
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER fund_budgets_no_update BEFORE UPDATE OR DELETE ON fund_budgets
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER fund_audits_no_update BEFORE UPDATE OR DELETE ON fund_audits
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER fund_nodes_no_update BEFORE UPDATE OR DELETE ON fund_nodes
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
