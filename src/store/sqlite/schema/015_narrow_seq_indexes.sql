-- 015: the index tables' `seq` indexes hold `seq` alone. See docs/storage.md, "Search indexes".
--
-- They serve the lookups of one resource's rows: deleting a replaced version's rows, _include,
-- sort keys and :missing. Those read the table rows anyway (for the values), and a resource's rows
-- are inserted together, so they are neighbours in the table: the type and the parameter name in
-- the key only repeated, in every entry, what the row next to it holds. An entry shrinks from
-- (seq, type, param, rowid) to (seq, rowid), about a third of the size; the store loses some 250
-- bytes a resource (docs/benchmarks.md, "Import and store size").
DROP INDEX search_token_seq;
CREATE INDEX search_token_seq ON search_token (seq);
DROP INDEX search_string_seq;
CREATE INDEX search_string_seq ON search_string (seq);
DROP INDEX search_date_seq;
CREATE INDEX search_date_seq ON search_date (seq);
DROP INDEX search_number_seq;
CREATE INDEX search_number_seq ON search_number (seq);
DROP INDEX search_quantity_seq;
CREATE INDEX search_quantity_seq ON search_quantity (seq);
DROP INDEX search_reference_seq;
CREATE INDEX search_reference_seq ON search_reference (seq);
DROP INDEX search_uri_seq;
CREATE INDEX search_uri_seq ON search_uri (seq);
DROP INDEX search_composite_seq;
CREATE INDEX search_composite_seq ON search_composite (seq);
