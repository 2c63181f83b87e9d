-- Gongzhi schema 4: the common fund's books (double-entry, TigerBeetle-style)
-- and their append-only RFC 6962 Merkle log, per compound.
-- Money is BIGINT fen; times BIGINT unix ms.

-- One row per compound with books. Every fund write first updates this row
-- (a row lock on PostgreSQL, the single writer on SQLite), so the writes of
-- one compound are serialised: log positions are dense and balance checks
-- see the latest balances.
CREATE TABLE fund_books (
  compound_id TEXT PRIMARY KEY REFERENCES places(id),
  log_size BIGINT NOT NULL DEFAULT 0,
  approver_role_a TEXT NOT NULL,
  approver_role_b TEXT NOT NULL,
  pending_timeout_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE fund_accounts (
  compound_id TEXT NOT NULL REFERENCES places(id),
  code TEXT NOT NULL,
  debits_pending BIGINT NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted BIGINT NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending BIGINT NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted BIGINT NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  PRIMARY KEY (compound_id, code)
);

-- Immutable entries. seq is the entry's leaf index in the compound's log.
CREATE TABLE fund_transfers (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  debit_code TEXT NOT NULL,
  credit_code TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  code TEXT NOT NULL,
  memo TEXT NOT NULL,
  pending_id TEXT UNIQUE REFERENCES fund_transfers(id),
  link TEXT,
  vote_id TEXT,
  by_user TEXT NOT NULL,
  by_role TEXT NOT NULL,
  at BIGINT NOT NULL,
  timeout_at BIGINT,
  UNIQUE (compound_id, seq)
);

-- The Merkle log: leaf hashes (hex of SHA-256(0x00 || leaf bytes)).
CREATE TABLE fund_leaves (
  compound_id TEXT NOT NULL REFERENCES places(id),
  idx BIGINT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (compound_id, idx)
);

-- Client-supplied idempotency keys of money-moving requests.
CREATE TABLE fund_idempotency (
  compound_id TEXT NOT NULL REFERENCES places(id),
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (compound_id, idem_key)
);

-- Disbursement requests and their two approvals.
CREATE TABLE fund_disbursements (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  purpose TEXT NOT NULL,
  payee TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  category TEXT NOT NULL,
  source TEXT NOT NULL,
  documents_json TEXT NOT NULL,
  link TEXT,
  vote_id TEXT,
  state TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  pending_transfer_id TEXT REFERENCES fund_transfers(id),
  first_by TEXT,
  first_role TEXT,
  second_by TEXT,
  second_role TEXT,
  final_transfer_id TEXT REFERENCES fund_transfers(id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX fund_disbursements_compound ON fund_disbursements(compound_id, state);

-- Fee bills: one per part per period (area × rate), and what was paid.
CREATE TABLE fund_bills (
  id TEXT PRIMARY KEY,
  compound_id TEXT NOT NULL REFERENCES places(id),
  period TEXT NOT NULL,
  part_id TEXT NOT NULL REFERENCES parts(id),
  owner_id TEXT NOT NULL REFERENCES owners(id),
  area_centi BIGINT NOT NULL,
  rate BIGINT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount >= 0),
  paid BIGINT NOT NULL DEFAULT 0 CHECK (paid >= 0 AND paid <= amount),
  created_at BIGINT NOT NULL,
  UNIQUE (compound_id, period, part_id)
);
CREATE INDEX fund_bills_owner ON fund_bills(owner_id);

-- Dividends: a chosen amount shared by area among all parts (largest
-- remainder), one statement line per part.
CREATE TABLE fund_dividend_lines (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  compound_id TEXT NOT NULL REFERENCES places(id),
  part_id TEXT NOT NULL REFERENCES parts(id),
  owner_id TEXT NOT NULL REFERENCES owners(id),
  area_centi BIGINT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount >= 0),
  transfer_id TEXT NOT NULL REFERENCES fund_transfers(id),
  created_at BIGINT NOT NULL
);
CREATE INDEX fund_dividend_lines_owner ON fund_dividend_lines(owner_id);
CREATE INDEX fund_dividend_lines_run ON fund_dividend_lines(run_id);
