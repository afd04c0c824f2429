-- Each gateway process ("host:pid") says that it is alive, every few seconds, and that it stopped
-- when it stops cleanly: how a gateway on one host tells whether a process of another host that
-- left calls in flight is gone (docs/governance.md, "Crash recovery").
CREATE TABLE gateway_processes (
  owner      TEXT PRIMARY KEY,
  started_at TEXT NOT NULL,
  last_seen  TEXT NOT NULL,
  stopped_at TEXT
);
