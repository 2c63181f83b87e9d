CREATE TRIGGER procedure_library_no_update BEFORE UPDATE ON procedure_library
BEGIN SELECT RAISE(ABORT, 'procedure_library is append-only'); END;
CREATE TRIGGER procedure_library_no_delete BEFORE DELETE ON procedure_library
BEGIN SELECT RAISE(ABORT, 'procedure_library is append-only'); END;
