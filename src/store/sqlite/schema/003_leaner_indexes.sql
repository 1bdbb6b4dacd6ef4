-- 003: fewer index entries per write. See docs/storage.md, "Write cost".
--
-- A create inserts one row into tens of B-trees on the single writer; each index dropped or
-- narrowed here is an insert (and often a dirty page in the commit) saved on every write.

-- Instance history reads the (type, id) range of resource_version, the unique index every write
-- needs anyway, and sorts that resource's versions: there are few per resource.
DROP INDEX resource_history_instance;

-- Most tokens have no display text (codes such as status, identifiers without a type) and many no
-- system: those rows need no entry in the indexes for `system|` and :text searches. The queries
-- that use these indexes repeat the WHERE term (src/search/query.cc), as SQLite requires.
DROP INDEX search_token_system;
CREATE INDEX search_token_system ON search_token (type, param, system) WHERE system <> '';
DROP INDEX search_token_text;
CREATE INDEX search_token_text ON search_token (type, param, text) WHERE text <> '';
