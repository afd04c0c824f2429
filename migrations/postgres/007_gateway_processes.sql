-- As SQLite 010: each gateway process ("host:pid") says that it is alive, every few seconds, and
-- that it stopped. Times are the database server's (now()), so that hosts' clocks need not agree.
CREATE TABLE gateway_processes (
  owner      text PRIMARY KEY,
  started_at timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  stopped_at timestamptz
);
