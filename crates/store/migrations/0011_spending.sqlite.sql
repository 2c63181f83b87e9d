CREATE TRIGGER vote_spending_no_update BEFORE UPDATE ON vote_spending
BEGIN SELECT RAISE(ABORT, 'vote_spending is append-only'); END;
CREATE TRIGGER vote_spending_no_delete BEFORE DELETE ON vote_spending
BEGIN SELECT RAISE(ABORT, 'vote_spending is append-only'); END;
