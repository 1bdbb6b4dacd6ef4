-- 010: the string `norm` index ends in `seq`. See docs/search.md, "How a request becomes SQL".
--
-- A name search (`family=smi`) reads the seqs of a range of this index; with `seq` in the key the
-- range alone answers it, without reading a table row per match, and two name conditions
-- (`family=...&given=...`) are two such ranges that SQLite intersects. Same number of B-trees.
DROP INDEX search_string_norm;
CREATE INDEX search_string_norm ON search_string (type, param, norm, seq);
