CREATE TRIGGER vote_current_ballots_forward BEFORE UPDATE ON vote_current_ballots
WHEN NEW.seq <= OLD.seq OR NEW.vote_id <> OLD.vote_id OR NEW.owner_id <> OLD.owner_id
BEGIN SELECT RAISE(ABORT, 'vote_current_ballots only moves forward'); END;
CREATE TRIGGER vote_current_ballots_no_delete BEFORE DELETE ON vote_current_ballots
BEGIN SELECT RAISE(ABORT, 'vote_current_ballots only moves forward'); END;
