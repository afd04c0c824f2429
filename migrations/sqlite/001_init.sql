-- Append-only audit events. The triggers make the database itself refuse changes.
CREATE TABLE events (
  seq      INTEGER PRIMARY KEY,
  type     TEXT NOT NULL,
  at       TEXT NOT NULL,
  agent    TEXT,
  profile  TEXT,
  server   TEXT,
  tool     TEXT,
  payload  TEXT NOT NULL
);
CREATE INDEX events_type ON events (type);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Last listing of each downstream server (tools, resources, templates, prompts).
CREATE TABLE schema_cache (
  server     TEXT PRIMARY KEY,
  listing    TEXT NOT NULL,
  listed_at  TEXT NOT NULL,
  source     TEXT NOT NULL
);
