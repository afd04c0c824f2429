-- Tamper evidence: each event carries the hash of the one before it and its own.
-- Events written before this migration have no hash; the chain starts after them.
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;
