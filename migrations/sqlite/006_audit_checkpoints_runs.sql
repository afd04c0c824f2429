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

-- One row per tool call, projected from the call events (a SQL view over the events could not be
-- indexed). Not by a trigger: kept on the append path it cost about +50 µs of CPU per event
-- commit, while projecting in bulk (runs-projection.ts) costs 6-15 µs per event. `gatehouse
-- runs` catches up before it reads, and a gateway every half second.
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

-- How far the runs table has read the events.
CREATE TABLE runs_projection (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq  INTEGER NOT NULL
);
INSERT INTO runs_projection (id, last_seq) VALUES (1, 0);
