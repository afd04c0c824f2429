-- Issue 6 §4-5: dead letters, and keyed calls whose outcome a crash made unknown.

-- The idempotency ledger gains `unknown` (the process that ran the call died after it went
-- downstream: nobody knows whether it ran), the process that claimed the key (`owner`,
-- "host:pid") and when the call went downstream (`started_at`). SQLite cannot change a CHECK,
-- so the table is rebuilt.
CREATE TABLE idempotency_new (
  agent        TEXT NOT NULL,
  tool         TEXT NOT NULL,
  key          TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('in_progress', 'committed', 'failed', 'unknown')),
  result       TEXT,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  owner        TEXT,
  started_at   TEXT,
  PRIMARY KEY (agent, tool, key)
);
INSERT INTO idempotency_new (agent, tool, key, fingerprint, state, result, created_at, expires_at)
  SELECT agent, tool, key, fingerprint, state, result, created_at, expires_at FROM idempotency;
DROP TABLE idempotency;
ALTER TABLE idempotency_new RENAME TO idempotency;
CREATE INDEX idempotency_expires ON idempotency (expires_at);
-- Reconciliation at start and `gatehouse commits list` read by state.
CREATE INDEX idempotency_state ON idempotency (state);

-- Work that failed after its retries and waits for an operator (`gatehouse dlq`): an approved
-- call that ran after its agent stopped waiting (kind `call`), or a batch of audit events the
-- event store refused (kind `events`). Rows are never deleted: retried and dropped ones stay.
CREATE TABLE dead_letters (
  id             TEXT PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('call', 'events')),
  status         TEXT NOT NULL CHECK (status IN ('open', 'retrying', 'retried', 'dropped')),
  created_at     TEXT NOT NULL,
  agent          TEXT,
  profile        TEXT,
  server         TEXT,
  tool           TEXT,
  payload        TEXT NOT NULL,
  error          TEXT NOT NULL,
  attempts       INTEGER NOT NULL,
  settled_at     TEXT,
  settled_by     TEXT,
  settle_reason  TEXT
);
CREATE INDEX dead_letters_status ON dead_letters (status, created_at);
