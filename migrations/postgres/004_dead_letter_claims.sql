-- As SQLite 008: the process ("host:pid") whose `gatehouse dlq retry` moved a letter to `retrying`.
ALTER TABLE dead_letters ADD COLUMN claimed_by TEXT;
