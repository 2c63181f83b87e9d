-- What a passed vote authorised to be spent from the maintenance fund
-- (Civil Code art. 278 (5)): an amount and a purpose, fixed while the vote is
-- a draft, so the owners vote on them. Disbursements from the fund that name
-- the vote together never exceed the amount. Append-only: one row per vote.
CREATE TABLE vote_spending (
  vote_id TEXT PRIMARY KEY REFERENCES votes(id),
  compound_id TEXT NOT NULL REFERENCES places(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  purpose TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at BIGINT NOT NULL
);
CREATE INDEX fund_disbursements_vote ON fund_disbursements(vote_id);
-- reversals are found by the transfer they name (`reverses:<id>`)
CREATE INDEX fund_transfers_link ON fund_transfers(compound_id, link);
-- the public board lists every transfer of a period
CREATE INDEX fund_transfers_at ON fund_transfers(compound_id, at);
