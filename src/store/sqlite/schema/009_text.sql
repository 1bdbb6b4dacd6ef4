-- 009: the full-text index behind _text and _content (https://hl7.org/fhir/R4/search.html#text).
-- See docs/storage.md, "Search indexes", and src/search/text.h.
--
-- One row per current, non-deleted resource that has any text, rowid = resource.seq, written by
-- the search index hook in the same transaction as the version's other index rows; the replaced
-- version's row is removed in that transaction too (only current versions are indexed). The text
-- is extracted on the caller's thread (WriteHook::Prepare); the writer thread only tokenizes it.
--
--   narrative  the resource's text.div without markup           (_text)
--   content    its other text values, one per line, each once   (_content searches both columns)
--
-- content='': the table keeps the index only, not a second copy of the text (the resource's JSON
-- is the copy). FTS5 then removes a row only given the words it was inserted with: the hook
-- extracts them again from the replaced version's JSON, which never changes (SQLite 3.40, Debian
-- 12, has no contentless_delete). Were they ever to differ (an extraction changed between
-- binaries), the leftover words point at a seq that is no longer current, which no search can
-- return (every search joins search_resource), until `vesta reindex` rebuilds the table.
-- tokenize: unicode61 folds case and, with remove_diacritics 2, accents, so that `cafe` finds
-- "Café". detail=full (the default) keeps word positions, which quoted phrases need.
-- columnsize=0: no per-row token counts (they serve ranking only, which search does not do).
--
-- SQLite only (FTS5). The PostgreSQL twin is a tsvector per resource with a GIN index.
CREATE VIRTUAL TABLE search_text USING fts5(
  narrative,
  content,
  content = '',
  tokenize = 'unicode61 remove_diacritics 2',
  columnsize = 0
);

-- Whether the resource has a row in search_text. FTS5 must never be asked to delete a row it does
-- not have (it keeps a row count and reports corruption when that would go below zero): rows
-- stored before this migration have none until `vesta reindex`.
ALTER TABLE search_resource ADD COLUMN has_text INTEGER NOT NULL DEFAULT 0;
