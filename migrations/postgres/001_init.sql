-- The PostgreSQL store: the same tables as the SQLite migrations 001-004, for several gateway
-- processes sharing one database. Times are timestamptz, except an event's `at`, which is
-- hashed into the audit chain exactly as written (ISO-8601 text). JSON values are `json`, an
-- exact copy of the text (jsonb would refuse the "\u0000" a tool result may hold), except an
-- event's payload: text, hashed as stored.

-- Append-only audit events, hash-chained: seq is assigned by the writer holding the chain's
-- advisory lock (never a sequence: a rolled-back batch must not leave a gap in the chain).
CREATE TABLE events (
  seq        bigint PRIMARY KEY,
  type       text NOT NULL,
  at         text NOT NULL,
  agent      text,
  profile    text,
  server     text,
  tool       text,
  payload    text NOT NULL,
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);
CREATE INDEX events_type ON events (type, seq);

-- The database itself refuses to change or remove an event, whoever asks.
CREATE FUNCTION gatehouse_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% are append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION gatehouse_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_change();

-- Last listing of each downstream server (tools, resources, templates, prompts).
CREATE TABLE schema_cache (
  server     text PRIMARY KEY,
  listing    json NOT NULL,
  listed_at  timestamptz NOT NULL,
  source     text NOT NULL
);

-- Approval requests and their single-use grants. Every change is a compare-and-set on status.
-- `ord` orders requests made in the same millisecond (the later insert is newer).
CREATE TABLE approvals (
  id                text PRIMARY KEY,
  ord               bigint GENERATED ALWAYS AS IDENTITY,
  status            text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'consumed')),
  server            text NOT NULL,
  tool              text NOT NULL,
  exposed_name      text NOT NULL,
  arguments         json NOT NULL,
  agent             text NOT NULL,
  profile           text NOT NULL,
  gate              text NOT NULL,
  reason            text NOT NULL,
  binding_hash      text NOT NULL,
  policy_version    text NOT NULL,
  requested_at      timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  decided_at        timestamptz,
  decided_by        text,
  decision_reason   text,
  grant_expires_at  timestamptz,
  consumed_at       timestamptz
);
CREATE INDEX approvals_status_requested ON approvals (status, requested_at DESC, ord DESC);
CREATE INDEX approvals_requested ON approvals (requested_at DESC, ord DESC);

-- A request leaving `pending` (decided, or expired) wakes the calls waiting on it in every
-- gateway process at once: they LISTEN on this channel. Sent when the transaction commits.
CREATE FUNCTION gatehouse_approval_decided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_approval_decided', NEW.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER approvals_decided AFTER UPDATE OF status ON approvals
  FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending')
  EXECUTE FUNCTION gatehouse_approval_decided();

-- One entry per (agent, tool, key); the primary key is what makes claim() atomic.
CREATE TABLE idempotency (
  agent        text NOT NULL,
  tool         text NOT NULL,
  key          text NOT NULL,
  fingerprint  text NOT NULL,
  state        text NOT NULL CHECK (state IN ('in_progress', 'committed', 'failed')),
  result       json,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (agent, tool, key)
);
CREATE INDEX idempotency_expires ON idempotency (expires_at);

-- G1 calls waiting for a human to look at them.
CREATE TABLE review_items (
  id         text PRIMARY KEY,
  ord        bigint GENERATED ALWAYS AS IDENTITY,
  at         timestamptz NOT NULL,
  agent      text NOT NULL,
  profile    text NOT NULL,
  server     text NOT NULL,
  tool       text NOT NULL,
  arguments  json NOT NULL,
  outcome    text NOT NULL,
  summary    text NOT NULL,
  acked_at   timestamptz,
  acked_by   text
);
CREATE INDEX review_items_pending ON review_items (at DESC, ord DESC) WHERE acked_at IS NULL;
CREATE INDEX review_items_at ON review_items (at DESC, ord DESC);

-- Tool pins (trust on first use). Every write takes the pins advisory lock and sets `version`
-- to max(version) + 1, so that max(version) grows, in commit order, with every change.
CREATE TABLE tool_pins (
  server              text NOT NULL,
  tool                text NOT NULL,
  hash                text NOT NULL,
  definition          json NOT NULL,
  pinned_at           timestamptz NOT NULL,
  status              text NOT NULL CHECK (status IN ('pinned', 'quarantined')),
  changed_hash        text,
  changed_definition  json,
  changed_at          timestamptz,
  version             bigint NOT NULL,
  PRIMARY KEY (server, tool)
);
CREATE INDEX tool_pins_version ON tool_pins (version);

-- Keys the gateway generates for itself (the confirm-token HMAC key). Written once, never changed.
CREATE TABLE gateway_keys (
  name        text PRIMARY KEY,
  key         bytea NOT NULL,
  created_at  timestamptz NOT NULL
);
