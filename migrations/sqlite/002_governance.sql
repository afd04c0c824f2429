-- Governance state: approvals, the idempotency ledger, the review queue and tool pins.
-- Times are ISO-8601 UTC strings from toISOString(), so comparing them as text orders them.
-- JSON values are stored as TEXT.

-- Approval requests and their single-use grants. Every change is a compare-and-set on status.
CREATE TABLE approvals (
  id                TEXT PRIMARY KEY,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'consumed')),
  server            TEXT NOT NULL,
  tool              TEXT NOT NULL,
  exposed_name      TEXT NOT NULL,
  arguments         TEXT NOT NULL,
  agent             TEXT NOT NULL,
  profile           TEXT NOT NULL,
  gate              TEXT NOT NULL,
  reason            TEXT NOT NULL,
  binding_hash      TEXT NOT NULL,
  policy_version    TEXT NOT NULL,
  requested_at      TEXT NOT NULL,
  expires_at        TEXT NOT NULL,
  decided_at        TEXT,
  decided_by        TEXT,
  decision_reason   TEXT,
  grant_expires_at  TEXT,
  consumed_at       TEXT
);
-- list() newest first, with or without a status filter (rowid, implicit in both, breaks ties).
CREATE INDEX approvals_status_requested ON approvals (status, requested_at);
CREATE INDEX approvals_requested ON approvals (requested_at);

-- One entry per (agent, tool, key); the primary key is what makes claim() atomic.
CREATE TABLE idempotency (
  agent        TEXT NOT NULL,
  tool         TEXT NOT NULL,
  key          TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('in_progress', 'committed', 'failed')),
  result       TEXT,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  PRIMARY KEY (agent, tool, key)
);
-- prune() deletes by expiry.
CREATE INDEX idempotency_expires ON idempotency (expires_at);

-- G1 calls waiting for a human to look at them.
CREATE TABLE review_items (
  id         TEXT PRIMARY KEY,
  at         TEXT NOT NULL,
  agent      TEXT NOT NULL,
  profile    TEXT NOT NULL,
  server     TEXT NOT NULL,
  tool       TEXT NOT NULL,
  arguments  TEXT NOT NULL,
  outcome    TEXT NOT NULL,
  summary    TEXT NOT NULL,
  acked_at   TEXT,
  acked_by   TEXT
);
-- list({ pending: true }) is `acked_at IS NULL ORDER BY at DESC`; the plain list orders by at.
CREATE INDEX review_items_acked_at ON review_items (acked_at, at);
CREATE INDEX review_items_at ON review_items (at);

-- Tool pins (trust on first use). `version` is set to max(version) + 1 by every statement that
-- changes a row, so max(version) grows with any change made by any process sharing the file.
CREATE TABLE tool_pins (
  server              TEXT NOT NULL,
  tool                TEXT NOT NULL,
  hash                TEXT NOT NULL,
  definition          TEXT NOT NULL,
  pinned_at           TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('pinned', 'quarantined')),
  changed_hash        TEXT,
  changed_definition  TEXT,
  changed_at          TEXT,
  version             INTEGER NOT NULL,
  PRIMARY KEY (server, tool)
);
-- version() and every write read max(version): keep that an index lookup, not a scan.
CREATE INDEX tool_pins_version ON tool_pins (version);
