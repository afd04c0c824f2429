-- Signed checkpoints, the sanctioned prune path, and the runs view (docs/events.md).

-- A checkpoint vouches for the chain up to `seq`: the event there has `hash`, signed (Ed25519)
-- by the key `key_id` at `at`. Append-only like the events.
CREATE TABLE audit_checkpoints (
  seq        INTEGER PRIMARY KEY,
  hash       TEXT NOT NULL,
  at         TEXT NOT NULL,
  key_id     TEXT NOT NULL,
  signature  TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;

-- Each `gatehouse audit prune` records its floor first, signed: events up to `floor_seq` may then
-- be deleted, and nothing above it. The floor must be a checkpoint, so that the remaining chain
-- starts at a signed (seq, hash) and still verifies.
CREATE TABLE audit_prunes (
  floor_seq  INTEGER PRIMARY KEY,
  pruned_at  TEXT NOT NULL,
  key_id     TEXT NOT NULL,
  signature  TEXT NOT NULL,
  deleted    INTEGER NOT NULL,
  by         TEXT NOT NULL
);
CREATE TRIGGER audit_prunes_at_checkpoint BEFORE INSERT ON audit_prunes
WHEN NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq = NEW.floor_seq)
BEGIN SELECT RAISE(ABORT, 'a prune floor must be the seq of a signed checkpoint'); END;
CREATE TRIGGER audit_prunes_no_update BEFORE UPDATE ON audit_prunes
BEGIN SELECT RAISE(ABORT, 'audit prunes are append-only'); END;
CREATE TRIGGER audit_prunes_no_delete BEFORE DELETE ON audit_prunes
BEGIN SELECT RAISE(ABORT, 'audit prunes are append-only'); END;

-- Events stay append-only, except below the highest recorded prune floor.
DROP TRIGGER IF EXISTS events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN OLD.seq > coalesce((SELECT max(floor_seq) FROM audit_prunes), 0)
BEGIN SELECT RAISE(ABORT, 'events are append-only (only gatehouse audit prune deletes, below a signed checkpoint)'); END;

-- One row per tool call, kept by the trigger below from the call events in the same transaction
-- as the event itself (a SQL view over the events could not be indexed). Few indexes on purpose:
-- each costs a page write per call on the audit path (prune's DELETE by last_seq scans instead).
-- status: running (requested, no outcome yet), succeeded, failed, held, denied.
CREATE TABLE runs (
  run_id       TEXT PRIMARY KEY,
  agent        TEXT,
  profile      TEXT,
  server       TEXT,
  tool         TEXT,
  gate         TEXT,
  status       TEXT NOT NULL,
  outcome      TEXT,
  code         TEXT,
  started_at   TEXT NOT NULL,
  duration_ms  REAL,
  first_seq    INTEGER NOT NULL,
  last_seq     INTEGER NOT NULL
);
CREATE INDEX runs_status_started ON runs (status, started_at DESC);
-- status rides along so that "agent + status" is filtered in the index before any row is read.
CREATE INDEX runs_agent_started ON runs (agent, started_at DESC, status);
CREATE INDEX runs_started ON runs (started_at DESC);

CREATE TRIGGER events_to_runs AFTER INSERT ON events
WHEN NEW.type IN ('tool.call.requested', 'tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied')
BEGIN
  INSERT INTO runs (run_id, agent, profile, server, tool, gate, status, outcome, code, started_at, duration_ms, first_seq, last_seq)
  VALUES (
    coalesce(json_extract(NEW.payload, '$.runId'), 'event-' || NEW.seq),
    NEW.agent, NEW.profile, NEW.server, NEW.tool,
    json_extract(NEW.payload, '$.gate'),
    CASE NEW.type
      WHEN 'tool.call.requested' THEN 'running'
      WHEN 'tool.call.succeeded' THEN 'succeeded'
      WHEN 'tool.call.failed' THEN 'failed'
      WHEN 'tool.call.held' THEN 'held'
      ELSE 'denied'
    END,
    json_extract(NEW.payload, '$.outcome'),
    json_extract(NEW.payload, '$.code'),
    NEW.at,
    json_extract(NEW.payload, '$.durationMs'),
    NEW.seq, NEW.seq
  )
  -- The outcome completes the row its request opened; a late "requested" never reopens a run.
  ON CONFLICT (run_id) DO UPDATE SET
    server = excluded.server, tool = excluded.tool, gate = excluded.gate, status = excluded.status,
    outcome = excluded.outcome, code = excluded.code, duration_ms = excluded.duration_ms, last_seq = excluded.last_seq
  WHERE excluded.status <> 'running';
END;

-- Calls recorded before runs existed: one row each from its outcome event.
INSERT OR IGNORE INTO runs (run_id, agent, profile, server, tool, gate, status, outcome, code, started_at, duration_ms, first_seq, last_seq)
SELECT
  coalesce(json_extract(payload, '$.runId'), 'event-' || seq), agent, profile, server, tool, json_extract(payload, '$.gate'),
  CASE type WHEN 'tool.call.succeeded' THEN 'succeeded' WHEN 'tool.call.failed' THEN 'failed' WHEN 'tool.call.held' THEN 'held' ELSE 'denied' END,
  json_extract(payload, '$.outcome'), json_extract(payload, '$.code'), at, json_extract(payload, '$.durationMs'), seq, seq
FROM events
WHERE type IN ('tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied');
