-- Issue 6 §4-5: dead letters, and keyed calls whose outcome a crash made unknown (as SQLite 007).

-- `unknown`: the process that ran the call died after it went downstream. `owner` is the
-- process that claimed the key ("host:pid"), `started_at` when the call went downstream.
ALTER TABLE idempotency DROP CONSTRAINT idempotency_state_check;
ALTER TABLE idempotency ADD CONSTRAINT idempotency_state_check CHECK (state IN ('in_progress', 'committed', 'failed', 'unknown'));
ALTER TABLE idempotency ADD COLUMN owner text;
ALTER TABLE idempotency ADD COLUMN started_at timestamptz;
CREATE INDEX idempotency_state ON idempotency (state);

-- Work that failed after its retries and waits for an operator (`gatehouse dlq`). Never deleted.
CREATE TABLE dead_letters (
  id             text PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('call', 'events')),
  status         text NOT NULL CHECK (status IN ('open', 'retrying', 'retried', 'dropped')),
  created_at     timestamptz NOT NULL,
  agent          text,
  profile        text,
  server         text,
  tool           text,
  payload        json NOT NULL,
  error          json NOT NULL,
  attempts       integer NOT NULL,
  settled_at     timestamptz,
  settled_by     text,
  settle_reason  text
);
CREATE INDEX dead_letters_status ON dead_letters (status, created_at);
