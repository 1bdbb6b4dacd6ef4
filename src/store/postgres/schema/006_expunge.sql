-- 006: removing versions (store/store.h, ExpungeHistory). See docs/storage.md.
--
-- resource_current.seq referenced resource (seq): PostgreSQL checks such a constraint on every
-- delete from `resource` by looking resource_current up by seq, which no index serves, so each
-- version removed read the whole table. An index on resource_current (seq) would be one more
-- entry for every write to maintain, and would keep updates of the row from being HOT. The
-- constraint goes instead, as in the SQLite store, where it is not enforced (foreign keys are
-- off): the store is the only writer of both tables, and each write statement (write_sql.h) and
-- each expunge moves or keeps them together.
ALTER TABLE resource_current DROP CONSTRAINT IF EXISTS resource_current_seq_fkey;
