-- 006: the reference `url` index holds only the references searched by URL. See docs/storage.md,
-- "Write cost".
--
-- A relative reference (`Patient/123`) is found through search_reference_target; only absolute
-- URLs, urn: references and others without a target id are looked up by `url` (src/search/
-- query.cc repeats the WHERE term, as SQLite requires to use a partial index). Relative references
-- are most references, and each was one more index entry, often one more dirty page per commit.
DROP INDEX search_reference_url;
CREATE INDEX search_reference_url ON search_reference (type, param, url) WHERE target_id = '';
