CREATE TRIGGER points_transfers_no_update BEFORE UPDATE ON points_transfers
BEGIN SELECT RAISE(ABORT, 'points_transfers is append-only'); END;
CREATE TRIGGER points_transfers_no_delete BEFORE DELETE ON points_transfers
BEGIN SELECT RAISE(ABORT, 'points_transfers is append-only'); END;
CREATE TRIGGER points_rules_no_update BEFORE UPDATE ON points_rules
BEGIN SELECT RAISE(ABORT, 'points_rules is append-only'); END;
CREATE TRIGGER points_rules_no_delete BEFORE DELETE ON points_rules
BEGIN SELECT RAISE(ABORT, 'points_rules is append-only'); END;
