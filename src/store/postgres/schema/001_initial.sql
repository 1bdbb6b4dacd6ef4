-- 001: versioned resources, the PostgreSQL twin of src/store/sqlite/schema/001_initial.sql (the
-- same tables, columns and semantics; see docs/storage.md). Spelling differences only:
--   INTEGER PRIMARY KEY -> BIGINT GENERATED ALWAYS AS IDENTITY,  BLOB -> BYTEA,
--   INTEGER -> BIGINT / SMALLINT,  no WITHOUT ROWID.

-- One row per resource version, never deleted. `json` holds the exact bytes served for that
-- version (BYTEA, not JSONB, so nothing re-encodes it); NULL for a delete.
-- `seq` is the store-wide insertion order: it breaks ties between equal `last_updated` values in
-- history listings and is what index tables will point at. Identity values are handed out at
-- insert, not at commit, so a reader may see a larger seq before a smaller one commits; history
-- orders by (last_updated, seq) and paging is a keyset on both, as in the SQLite store.
-- `superseded_at` is the next version's last_updated (NULL while this version is current): it
-- makes `_at` a range test on one row, `last_updated <= high AND superseded_at > low`.
CREATE TABLE resource (
  seq           BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type          TEXT     NOT NULL,
  id            TEXT     NOT NULL,
  version       BIGINT   NOT NULL,
  last_updated  BIGINT   NOT NULL,   -- microseconds since the Unix epoch, UTC
  superseded_at BIGINT,              -- microseconds; NULL for the current version
  deleted       SMALLINT NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  json          BYTEA,
  CHECK ((deleted = 1 AND json IS NULL) OR (deleted = 0 AND json IS NOT NULL))
);

-- vread, and the guarantee that a version number is taken once: two writers that both read
-- version N and both insert N + 1 collide here (unique violation -> kConflict).
CREATE UNIQUE INDEX resource_version ON resource (type, id, version);

-- History, newest first, at the three levels (instance, type, system). The trailing `seq`
-- breaks ties so that keyset paging on (last_updated, seq) never skips or repeats a row.
CREATE INDEX resource_history_instance ON resource (type, id, last_updated DESC, seq DESC);
CREATE INDEX resource_history_type ON resource (type, last_updated DESC, seq DESC);
CREATE INDEX resource_history_system ON resource (last_updated DESC, seq DESC);

-- The current version of each (type, id): one row, updated on every write. Read is a primary key
-- lookup here plus one row of `resource`; the compare-and-set locks this row (SELECT ... FOR
-- UPDATE) and reads `version` from it.
CREATE TABLE resource_current (
  type    TEXT   NOT NULL,
  id      TEXT   NOT NULL,
  version BIGINT NOT NULL,
  seq     BIGINT NOT NULL REFERENCES resource (seq),
  PRIMARY KEY (type, id)
);
