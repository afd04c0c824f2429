-- No query of the gateway reads events by type: calls and audit read them by seq, and the runs
-- projection reads a seq range (with this index it chose the type index and sorted). The index
-- cost every event commit one or two more pages: about 25 µs of a 75 µs commit of a call's two
-- events (`npm run bench:store`, sequential).
DROP INDEX IF EXISTS events_type;
