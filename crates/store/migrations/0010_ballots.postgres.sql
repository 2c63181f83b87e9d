CREATE FUNCTION gongzhi_current_ballot_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.seq <= OLD.seq OR NEW.vote_id <> OLD.vote_id OR NEW.owner_id <> OLD.owner_id THEN
    RAISE EXCEPTION 'vote_current_ballots only moves forward';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER vote_current_ballots_forward BEFORE UPDATE OR DELETE ON vote_current_ballots
FOR EACH ROW EXECUTE FUNCTION gongzhi_current_ballot_forward();
