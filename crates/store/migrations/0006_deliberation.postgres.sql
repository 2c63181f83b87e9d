CREATE TRIGGER matter_comments_append_only BEFORE UPDATE OR DELETE ON matter_comments
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER questionnaire_answers_append_only BEFORE UPDATE OR DELETE ON questionnaire_answers
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER door_records_append_only BEFORE UPDATE OR DELETE ON door_records
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER meeting_minutes_append_only BEFORE UPDATE OR DELETE ON meeting_minutes
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
CREATE TRIGGER matter_documents_append_only BEFORE UPDATE OR DELETE ON matter_documents
FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only();
