-- 014: deferred index builds for bulk loads. See docs/storage.md, "Bulk loads", and
-- src/store/sqlite/bulk_load.h.
--
-- A store opened for a bulk load (SqliteStoreOptions::bulk_load) drops the indexes that new rows
-- would enter in random key order and records each one's CREATE statement here, in the same
-- transaction; closing the store builds them again from these rows (CREATE INDEX sorts the keys
-- once) and empties the table, again in one transaction. A process that stops during a load
-- leaves the rows: the next open of the store builds the indexes before anything else. Searches
-- give the same results meanwhile (the rows are all in the tables), only slower.
CREATE TABLE IF NOT EXISTS deferred_index (
  name TEXT PRIMARY KEY,
  sql  TEXT NOT NULL
);
