-- Gongzhi schema 14: points (积分) kept like money — a double-entry ledger
-- per community whose every transfer is a leaf of the community's
-- tamper-evident log (fund_leaves / fund_nodes keyed by the community's
-- id) — and the points store (积分超市).

-- One row per community with points. Every points write first updates this
-- row (a row lock on PostgreSQL, the single writer on SQLite), so log
-- positions are dense and the writes of one community are serialised.
CREATE TABLE points_books (
  community_id TEXT PRIMARY KEY REFERENCES places(id),
  log_size BIGINT NOT NULL DEFAULT 0,
  hold_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

-- Balances (credits - debits). Only the issuing account goes below zero;
-- the database refuses anything else even if a check were missed.
CREATE TABLE points_accounts (
  community_id TEXT NOT NULL REFERENCES places(id),
  account TEXT NOT NULL,
  person_id TEXT REFERENCES people(id),
  debits BIGINT NOT NULL DEFAULT 0 CHECK (debits >= 0),
  credits BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
  CHECK (account = 'issued' OR credits >= debits),
  PRIMARY KEY (community_id, account)
);
CREATE INDEX points_accounts_person ON points_accounts(person_id);

-- Immutable transfers; seq is the leaf index in the community's log.
CREATE TABLE points_transfers (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES places(id),
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  debit TEXT NOT NULL,
  credit TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  person_id TEXT REFERENCES people(id),
  reason TEXT NOT NULL,
  link TEXT,
  reverses TEXT UNIQUE REFERENCES points_transfers(id),
  by_user TEXT NOT NULL,
  at BIGINT NOT NULL,
  UNIQUE (community_id, seq)
);
CREATE INDEX points_transfers_person ON points_transfers(person_id, seq);

-- Client-supplied idempotency keys (scoped to the caller).
CREATE TABLE points_idempotency (
  community_id TEXT NOT NULL REFERENCES places(id),
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (community_id, idem_key)
);

-- Award rules as data: points per unit of a kind; the latest row wins.
CREATE TABLE points_rules (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES places(id),
  kind TEXT NOT NULL,
  points BIGINT NOT NULL CHECK (points >= 0),
  set_by TEXT NOT NULL,
  set_at BIGINT NOT NULL
);
CREATE INDEX points_rules_community ON points_rules(community_id, kind, set_at);

-- The points store's catalogue (a community's or a place inside it).
CREATE TABLE store_items (
  id TEXT PRIMARY KEY,
  place_id TEXT NOT NULL REFERENCES places(id),
  community_id TEXT NOT NULL REFERENCES places(id),
  name TEXT NOT NULL,
  points BIGINT NOT NULL CHECK (points > 0),
  stock BIGINT NOT NULL CHECK (stock >= 0),
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX store_items_community ON store_items(community_id);

-- Redemptions: the hold transfer reserves the points, the stock is taken;
-- resolved once (handed over, or voided and both returned).
CREATE TABLE store_redemptions (
  id TEXT PRIMARY KEY,
  item_id TEXT NOT NULL REFERENCES store_items(id),
  community_id TEXT NOT NULL REFERENCES places(id),
  person_id TEXT NOT NULL REFERENCES people(id),
  points BIGINT NOT NULL CHECK (points > 0),
  status TEXT NOT NULL,
  hold_transfer_id TEXT NOT NULL REFERENCES points_transfers(id),
  deadline_at BIGINT NOT NULL,
  resolved_transfer_id TEXT UNIQUE REFERENCES points_transfers(id),
  resolved_by TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX store_redemptions_held ON store_redemptions(status, deadline_at);
CREATE INDEX store_redemptions_person ON store_redemptions(person_id);

-- Micro-wishes (微心愿): recorded for a household by a grid worker or the
-- station, verified by the community, claimed whole or in shares by
-- partner units (共驻共建单位) serving the community, delivered, confirmed;
-- what nobody claims the community resolves (by_community = 1).
CREATE TABLE wishes (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES places(id),
  place_id TEXT NOT NULL REFERENCES places(id),
  person_id TEXT NOT NULL REFERENCES people(id),
  need TEXT NOT NULL,
  reason TEXT NOT NULL,
  flags TEXT NOT NULL,
  status TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  verified_at BIGINT,
  fulfilled_at BIGINT,
  by_community BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX wishes_community ON wishes(community_id, status);

CREATE TABLE wish_claims (
  id TEXT PRIMARY KEY,
  wish_id TEXT NOT NULL REFERENCES wishes(id),
  org_id TEXT NOT NULL REFERENCES organisations(id),
  share_permille BIGINT NOT NULL CHECK (share_permille > 0 AND share_permille <= 1000),
  claimed_by TEXT NOT NULL,
  claimed_at BIGINT NOT NULL,
  delivered_at BIGINT,
  UNIQUE (wish_id, org_id)
);
