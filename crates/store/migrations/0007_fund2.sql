-- Gongzhi schema 7: the common fund, second part — typed log entries,
-- budgets, remuneration, emergency use, payment gateway, waivers, audits.
-- Money is BIGINT fen; times BIGINT unix ms.

-- Non-transfer entries of a compound's Merkle log (approvals, voids,
-- budgets, billing runs, publications, matter steps, audit reports). seq is
-- the entry's leaf index; transfers and records share one dense sequence.
-- body_json is the canonical JSON of gongzhi_domain::book_entries::RecordBody.
CREATE TABLE fund_records (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  body_json TEXT NOT NULL,
  by_user TEXT NOT NULL,
  by_role TEXT NOT NULL,
  at BIGINT NOT NULL,
  UNIQUE (compound_id, seq)
);
CREATE INDEX fund_records_subject ON fund_records(compound_id, subject);

-- Annual budgets by category, each adopted by a passed vote. A later
-- adoption for the same year supersedes the earlier one (both stay).
CREATE TABLE fund_budgets (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  year BIGINT NOT NULL,
  vote_id TEXT NOT NULL REFERENCES votes(id),
  lines_json TEXT NOT NULL,
  record_id TEXT NOT NULL REFERENCES fund_records(id),
  adopted_by TEXT NOT NULL,
  adopted_at BIGINT NOT NULL
);
CREATE INDEX fund_budgets_year ON fund_budgets(compound_id, year);

-- Steward remuneration: trust model (酬金制, basis points of the period's
-- fee income) or lump sum (包干制), 'none' until the compound sets it;
-- emergency-use approver roles.
ALTER TABLE fund_books ADD COLUMN remuneration_mode TEXT NOT NULL DEFAULT 'none';
ALTER TABLE fund_books ADD COLUMN remuneration_bp BIGINT NOT NULL DEFAULT 1000;
ALTER TABLE fund_books ADD COLUMN lump_sum_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fund_books ADD COLUMN emergency_roles TEXT NOT NULL DEFAULT 'committee_member,steward';

-- One remuneration posting per compound and period (idempotent).
CREATE TABLE fund_remunerations (
  compound_id TEXT NOT NULL REFERENCES places(id),
  period TEXT NOT NULL,
  mode TEXT NOT NULL,
  basis BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  transfer_id TEXT REFERENCES fund_transfers(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (compound_id, period)
);

-- A declared emergency (elevator_stopped, facade_risk, leak, …) lets
-- maintenance-fund spending go without a vote, with its own approvals.
ALTER TABLE fund_disbursements ADD COLUMN emergency TEXT;

-- Online payments through a gateway: an intent per bill payment, and every
-- callback event id seen (a replayed callback is refused).
CREATE TABLE fund_payment_intents (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  bill_id TEXT NOT NULL REFERENCES fund_bills(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  gateway TEXT NOT NULL,
  state TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  confirmed_at BIGINT,
  transfer_id TEXT REFERENCES fund_transfers(id)
);
CREATE TABLE fund_gateway_events (
  gateway TEXT NOT NULL,
  event_id TEXT NOT NULL,
  intent_id TEXT NOT NULL REFERENCES fund_payment_intents(id),
  received_at BIGINT NOT NULL,
  PRIMARY KEY (gateway, event_id)
);

-- Hardship waivers: the steward and the compound's party branch approve.
ALTER TABLE fund_bills ADD COLUMN waived BIGINT NOT NULL DEFAULT 0;
CREATE TABLE fund_waivers (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  bill_id TEXT NOT NULL REFERENCES fund_bills(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  reason TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  steward_by TEXT,
  branch_by TEXT,
  transfer_id TEXT REFERENCES fund_transfers(id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- A dividend line credited against the owner's open fee bills.
ALTER TABLE fund_dividend_lines ADD COLUMN credited BIGINT NOT NULL DEFAULT 0;

-- Audit reports (maintenance fund: every 3 years).
CREATE TABLE fund_audits (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  scope TEXT NOT NULL,
  period_from TEXT NOT NULL,
  period_to TEXT NOT NULL,
  summary TEXT NOT NULL,
  document_sha256 TEXT,
  auditor TEXT NOT NULL,
  audited_at BIGINT NOT NULL,
  record_id TEXT NOT NULL REFERENCES fund_records(id)
);
CREATE INDEX fund_audits_compound ON fund_audits(compound_id, scope, audited_at);

-- Cached interior nodes of the Merkle log: the hash (hex) of every perfect
-- subtree of 2^level leaves (level >= 1), written as it completes, in the
-- transaction that appends its last leaf. Roots and proofs are composed
-- from these instead of rehashing every leaf.
CREATE TABLE fund_nodes (
  compound_id TEXT NOT NULL REFERENCES places(id),
  level BIGINT NOT NULL,
  idx BIGINT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (compound_id, level, idx)
);
