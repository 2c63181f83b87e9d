CREATE TRIGGER fund_transfers_no_update BEFORE UPDATE ON fund_transfers
BEGIN SELECT RAISE(ABORT, 'fund_transfers is append-only'); END;
CREATE TRIGGER fund_transfers_no_delete BEFORE DELETE ON fund_transfers
BEGIN SELECT RAISE(ABORT, 'fund_transfers is append-only'); END;
CREATE TRIGGER fund_leaves_no_update BEFORE UPDATE ON fund_leaves
BEGIN SELECT RAISE(ABORT, 'fund_leaves is append-only'); END;
CREATE TRIGGER fund_leaves_no_delete BEFORE DELETE ON fund_leaves
BEGIN SELECT RAISE(ABORT, 'fund_leaves is append-only'); END;
