CREATE TRIGGER procedure_library_append_only BEFORE UPDATE OR DELETE ON procedure_library
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
