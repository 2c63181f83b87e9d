CREATE TRIGGER vote_ballots_no_update BEFORE UPDATE ON vote_ballots
BEGIN SELECT RAISE(ABORT, 'vote_ballots is append-only'); END;
CREATE TRIGGER vote_ballots_no_delete BEFORE DELETE ON vote_ballots
BEGIN SELECT RAISE(ABORT, 'vote_ballots is append-only'); END;
CREATE TRIGGER vote_electorate_no_update BEFORE UPDATE ON vote_electorate
BEGIN SELECT RAISE(ABORT, 'vote_electorate is append-only'); END;
CREATE TRIGGER vote_electorate_no_delete BEFORE DELETE ON vote_electorate
BEGIN SELECT RAISE(ABORT, 'vote_electorate is append-only'); END;
