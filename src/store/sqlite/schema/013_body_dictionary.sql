-- 013: compressed resource bodies. See docs/storage.md, "Compressed bodies", and
-- src/store/sqlite/body_codec.h.
--
-- From this migration on, `resource.json` of a new version holds one zstd frame (RFC 8878) of the
-- JSON instead of the JSON itself when that is smaller. A frame starts with the bytes
-- 28 B5 2F FD, a resource's JSON with `{`: that first byte is the marker, so rows written before
-- stay as they are and are read as before, without a rewrite. The frame's header names the
-- dictionary it needs (Dictionary_ID, RFC 8878 3.1.1.1.3; 0 for none): a row of this table.
--
-- One dictionary per resource type, trained from the first bodies of that type a process writes
-- while the store has none for the type (body_codec.h, kTrainSamples). A type may get a newer
-- dictionary later (the newest `created` is used for new writes); rows are never deleted, so
-- every frame stays readable. `id` is the dictionary's own Dictionary_ID, a hash of its content.
-- A dictionary row is inserted in the same transaction as the first version compressed with it.
-- IF NOT EXISTS: a store taken back to an older schema version (a test of migration 009 does)
-- keeps the table and the rows that need it.
CREATE TABLE IF NOT EXISTS body_dictionary (
  id      INTEGER PRIMARY KEY,
  type    TEXT    NOT NULL,
  created INTEGER NOT NULL,  -- microseconds since the Unix epoch, UTC
  samples INTEGER NOT NULL,  -- how many bodies it was trained from
  dict    BLOB    NOT NULL
);
