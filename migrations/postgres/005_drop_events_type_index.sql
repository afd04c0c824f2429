-- As SQLite 009: no query reads events by type; the index only cost every append.
DROP INDEX IF EXISTS events_type;
