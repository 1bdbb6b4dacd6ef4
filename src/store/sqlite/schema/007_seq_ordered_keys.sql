-- 007: the token code and reference target indexes end in `seq`. See docs/search.md, "How a
-- request becomes SQL".
--
-- With every other column of the key fixed by one equality (`code=system|code`,
-- `subject=Patient/1`), the matches then come out of the index in seq order, which is the order
-- of an unsorted page: a page walks the index from its cursor and stops after `count + 1` rows,
-- however many resources match. Before, every match was collected and sorted first, so a
-- population-wide search cost in proportion to the whole result. Same number of B-trees; each
-- entry is a few bytes longer.
DROP INDEX search_token_code;
CREATE INDEX search_token_code ON search_token (type, param, code, system, seq);
DROP INDEX search_reference_target;
CREATE INDEX search_reference_target ON search_reference (type, param, target_type, target_id, seq);
