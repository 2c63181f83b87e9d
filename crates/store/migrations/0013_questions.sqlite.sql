CREATE TRIGGER vote_ballot_answers_no_update BEFORE UPDATE ON vote_ballot_answers
BEGIN SELECT RAISE(ABORT, 'vote_ballot_answers is append-only'); END;
CREATE TRIGGER vote_ballot_answers_no_delete BEFORE DELETE ON vote_ballot_answers
BEGIN SELECT RAISE(ABORT, 'vote_ballot_answers is append-only'); END;
