-- Signed checkpoints, the sanctioned prune path, and the runs table: the SQLite migration 006 for
-- PostgreSQL (docs/events.md). Times that are signed or compared with an event's `at` are kept
-- as the exact ISO-8601 text, compared byte by byte (COLLATE "C"), as SQLite compares them.

-- A checkpoint vouches for the chain up to `seq`: the event there has `hash`, signed (Ed25519)
-- by the key `key_id` at `at`. Append-only like the events.
CREATE TABLE audit_checkpoints (
  seq        bigint PRIMARY KEY,
  hash       text NOT NULL,
  at         text NOT NULL,
  key_id     text NOT NULL,
  signature  text NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION gatehouse_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_change();

-- Each `gatehouse audit prune` records its floor first, signed: events up to `floor_seq` may then
-- be deleted, and nothing above it. The floor must be a checkpoint, so that the remaining chain
-- starts at a signed (seq, hash) and still verifies.
CREATE TABLE audit_prunes (
  floor_seq  bigint PRIMARY KEY,
  pruned_at  text NOT NULL,
  key_id     text NOT NULL,
  signature  text NOT NULL,
  deleted    bigint NOT NULL,
  by         text NOT NULL
);
CREATE FUNCTION gatehouse_prune_at_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq = NEW.floor_seq) THEN
    RAISE EXCEPTION 'a prune floor must be the seq of a signed checkpoint' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_prunes_at_checkpoint BEFORE INSERT ON audit_prunes
  FOR EACH ROW EXECUTE FUNCTION gatehouse_prune_at_checkpoint();
CREATE TRIGGER audit_prunes_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_prunes
  FOR EACH ROW EXECUTE FUNCTION gatehouse_refuse_change();
CREATE TRIGGER audit_prunes_no_truncate BEFORE TRUNCATE ON audit_prunes
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_change();

-- Events stay append-only (no UPDATE, no TRUNCATE: 001), except that a DELETE below the highest
-- recorded prune floor goes through.
DROP TRIGGER events_no_update_or_delete ON events;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION gatehouse_refuse_change();
CREATE FUNCTION gatehouse_events_delete_below_floor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.seq > coalesce((SELECT max(floor_seq) FROM audit_prunes), 0) THEN
    RAISE EXCEPTION 'events are append-only (only gatehouse audit prune deletes, below a signed checkpoint)' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN OLD;
END
$$;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION gatehouse_events_delete_below_floor();

-- One row per tool call, projected in bulk from the call events (runs-projection.ts), as on
-- SQLite. status: running (requested, no outcome yet), succeeded, failed, held, denied.
CREATE TABLE runs (
  run_id       text PRIMARY KEY,
  agent        text,
  profile      text,
  server       text,
  tool         text,
  gate         text,
  status       text NOT NULL,
  outcome      text,
  code         text,
  started_at   text COLLATE "C" NOT NULL,
  duration_ms  double precision,
  first_seq    bigint NOT NULL,
  last_seq     bigint NOT NULL
);
CREATE INDEX runs_status_started ON runs (status, started_at DESC);
-- status rides along so that "agent + status" is filtered in the index before any row is read.
CREATE INDEX runs_agent_started ON runs (agent, started_at DESC, status);
CREATE INDEX runs_started ON runs (started_at DESC);

-- How far the runs table has read the events.
CREATE TABLE runs_projection (
  id        integer PRIMARY KEY CHECK (id = 1),
  last_seq  bigint NOT NULL
);
INSERT INTO runs_projection (id, last_seq) VALUES (1, 0);
