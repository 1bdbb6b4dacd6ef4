-- 007: a patient's audit records found by blocks of 4096 records (store/store.h, SearchAudit).
-- The index on (patient, seq) put every appended record at a random place of a large index: each
-- batch of appends dirtied about one index page per record (a full-page image in the WAL after
-- each checkpoint). Keyed by the block first (seq >> 12), the records appended go to the last
-- block's few pages. A patient's records, newest first, are looked up a run of blocks at a time,
-- from the newest down (postgres_store.cc, SearchAudit).
DROP INDEX audit_log_by_patient;
CREATE INDEX audit_log_by_patient_block ON audit_log ((seq >> 12), patient, seq)
  WHERE patient IS NOT NULL;
