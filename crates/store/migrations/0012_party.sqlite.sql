CREATE TRIGGER party_checkins_no_update BEFORE UPDATE ON party_checkins
BEGIN SELECT RAISE(ABORT, 'party_checkins is append-only'); END;
CREATE TRIGGER party_checkins_no_delete BEFORE DELETE ON party_checkins
BEGIN SELECT RAISE(ABORT, 'party_checkins is append-only'); END;
CREATE TRIGGER party_receipts_no_update BEFORE UPDATE ON party_receipts
BEGIN SELECT RAISE(ABORT, 'party_receipts is append-only'); END;
CREATE TRIGGER party_receipts_no_delete BEFORE DELETE ON party_receipts
BEGIN SELECT RAISE(ABORT, 'party_receipts is append-only'); END;
