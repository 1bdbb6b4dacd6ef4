-- 001: versioned resources. See docs/storage.md.
--
-- Written in the subset of SQL that SQLite and PostgreSQL share, so that the PostgreSQL twin
-- (src/store/postgres/schema/001_initial.sql, to come) differs only in spelling:
--   INTEGER PRIMARY KEY (rowid alias) -> BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY
--   BLOB -> BYTEA,  INTEGER -> BIGINT / SMALLINT.

-- One row per resource version, never deleted. `json` holds the exact bytes served for that
-- version (BLOB, not TEXT, so nothing re-encodes it); NULL for a delete.
-- `seq` is the store-wide insertion order: it breaks ties between equal `last_updated` values in
-- history listings and is what index tables (search, compartments) point at.
-- `superseded_at` is the next version's last_updated (NULL while this version is current): it
-- makes `_at` a range test on one row, `last_updated <= high AND superseded_at > low`.
CREATE TABLE resource (
  seq           INTEGER PRIMARY KEY,
  type          TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  last_updated  INTEGER NOT NULL,   -- microseconds since the Unix epoch, UTC
  superseded_at INTEGER,            -- microseconds; NULL for the current version
  deleted       INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  json          BLOB,
  CHECK ((deleted = 1 AND json IS NULL) OR (deleted = 0 AND json IS NOT NULL))
);

-- vread, and the guarantee that a version number is taken once.
CREATE UNIQUE INDEX resource_version ON resource (type, id, version);

-- History, newest first, at the three levels (instance, type, system). The trailing `seq`
-- breaks ties so that keyset paging on (last_updated, seq) never skips or repeats a row.
CREATE INDEX resource_history_instance ON resource (type, id, last_updated DESC, seq DESC);
CREATE INDEX resource_history_type ON resource (type, last_updated DESC, seq DESC);
CREATE INDEX resource_history_system ON resource (last_updated DESC, seq DESC);

-- The current version of each (type, id): one row, replaced on every write. Read is a primary
-- key lookup here plus one row of `resource`; the compare-and-set reads `version` from here.
CREATE TABLE resource_current (
  type    TEXT    NOT NULL,
  id      TEXT    NOT NULL,
  version INTEGER NOT NULL,
  seq     INTEGER NOT NULL REFERENCES resource (seq),
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
