-- Gongzhi schema 10: each owner's current ballot per vote, so that turnout,
-- the vote read, the public board and the close never scan superseded
-- ballots. vote_ballots stays the append-only record; this table is an
-- index over it, written in the transaction that appends the ballot
-- (votes::cast) and only ever moved forward (a higher seq; triggers).
-- owner_ord is the N of the owner's opaque key o-N in the frozen electorate
-- (owners in the natural order of their first part): the board's order and
-- its page cursor.
CREATE TABLE vote_current_ballots (
  vote_id TEXT NOT NULL REFERENCES votes(id),
  owner_id TEXT NOT NULL REFERENCES owners(id),
  ballot_id TEXT NOT NULL REFERENCES vote_ballots(id),
  seq BIGINT NOT NULL,
  owner_ord BIGINT NOT NULL,
  cast_at BIGINT NOT NULL,
  PRIMARY KEY (vote_id, owner_id)
);
CREATE INDEX vote_current_ballots_ord ON vote_current_ballots(vote_id, owner_ord);

-- Ballots cast before this table existed: each owner's highest seq.
INSERT INTO vote_current_ballots (vote_id, owner_id, ballot_id, seq, owner_ord, cast_at)
SELECT b.vote_id, b.owner_id, b.id, b.seq,
       COALESCE((SELECT CAST(SUBSTR(MIN(e.owner_ref), 3) AS BIGINT) FROM vote_electorate e
                 WHERE e.vote_id = b.vote_id AND e.owner_id = b.owner_id), 0),
       b.cast_at
FROM vote_ballots b
WHERE b.seq = (SELECT MAX(b2.seq) FROM vote_ballots b2
               WHERE b2.vote_id = b.vote_id AND b2.owner_id = b.owner_id);
