-- Each process that answers calls before their events are committed keeps those events in a
-- journal file of its own beside the database (docs/events.md, "Durability"). `through` is the
-- number of the last journal line whose event is committed, advanced in the same transaction as
-- the events: the next process to open the store after that one died appends the lines after it,
-- exactly once.
CREATE TABLE event_journals (
  name    TEXT PRIMARY KEY,
  through INTEGER NOT NULL
);
