-- 017: a patient's audit records found by blocks of 4096 records (store/store.h, SearchAudit).
-- The index on (patient, seq) put every appended record at a random place of a large index: each
-- batch of appends dirtied about one index page per record, and the trail's writer, not the
-- server, limited how fast it read (docs/benchmarks.md, "Authorization"). Keyed by the block
-- first (seq >> 12), the records appended go to the last block's few pages. A patient's records,
-- newest first, are one index seek per block, from the newest block down
-- (sqlite/audit_read.cc).
DROP INDEX audit_log_by_patient;
CREATE INDEX audit_log_by_patient_block ON audit_log ((seq >> 12), patient)
  WHERE patient IS NOT NULL;
