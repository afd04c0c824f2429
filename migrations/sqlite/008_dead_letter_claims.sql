-- The process ("host:pid") whose `gatehouse dlq retry` moved a letter to `retrying`: a later
-- retry or drop may take back a letter whose process is gone (see governance.md, "Dead letters").
ALTER TABLE dead_letters ADD COLUMN claimed_by TEXT;
