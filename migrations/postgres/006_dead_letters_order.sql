-- Letters of the same millisecond were listed in the order of their random ids, so `dlq list`
-- (and its --limit) showed them in any order. `ord` lists the later insert first, as SQLite's
-- rowid does and as approvals and review_items do here. Rows already there are numbered in
-- the order the table holds them.
ALTER TABLE dead_letters ADD COLUMN ord bigint GENERATED ALWAYS AS IDENTITY;
