-- 019: the audit trail's search by block summaries instead of indexes (store/store.h,
-- SearchAudit; sqlite/audit_blocks.h). Each block of 4096 records (seq >> 12) has one row here:
-- the range of its records' times and a Bloom filter of the patients they name. A search by
-- patient or date reads the summaries newest first and scans only the blocks that may hold a
-- match (a rowid range). The two indexes this replaces cost every append about a microsecond
-- (an entry in the time index, one at a random place of the block's part of the patient
-- index); a summary costs one row rewrite per block per batch (docs/benchmarks.md,
-- "Authorization"). The table is derived from audit_log: it is not covered by the hash chain and
-- a search is not the trail's check (`vesta audit verify` is).
--
-- Blocks appended before this migration get their time range here and no filter (NULL: any
-- patient may be in them, the block is scanned).
CREATE TABLE audit_block (
  block INTEGER PRIMARY KEY,
  first_recorded INTEGER NOT NULL,
  last_recorded INTEGER NOT NULL,
  patients BLOB
);
INSERT INTO audit_block (block, first_recorded, last_recorded, patients)
  SELECT seq >> 12, min(recorded), max(recorded), NULL FROM audit_log GROUP BY seq >> 12;
DROP INDEX audit_log_by_patient_block;
DROP INDEX audit_log_by_recorded;
