-- Gongzhi schema 13: votes with questions and elections (record format
-- gongzhi.vote/2). A vote's questions are fixed while it is a draft and
-- stored as the record spells them: [{"id", "title", "seats",
-- "max_choices", "options": [{"id", "label"}]}]; NULL for a yes/no vote.
ALTER TABLE votes ADD COLUMN questions_json TEXT;

-- Each ballot's answers in a vote with questions, appended with the ballot
-- in its transaction (append-only, as vote_ballots). Such a ballot's choice
-- column reads 'abstain': it takes part in the vote; what it chose is here,
-- {"q1": ["c1", "c4"]} in the vote's question order.
CREATE TABLE vote_ballot_answers (
  ballot_id TEXT PRIMARY KEY REFERENCES vote_ballots(id),
  vote_id TEXT NOT NULL REFERENCES votes(id),
  answers_json TEXT NOT NULL
);
