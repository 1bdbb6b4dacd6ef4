-- 012: what a search of the audit trail finds a record by (store/store.h, SearchAudit): the
-- patient, the user, the resource and the outcome, taken from the record when it is appended.
-- Two indexes: a patient's records newest first (the accounting of who saw a patient's record)
-- and the records of a time range. A user's or a resource's records are found by reading the
-- table newest first (within the date range or the patient when the search gives them): every
-- index is paid by every append, and the audit writer is what limits a server's reads
-- (docs/benchmarks.md, "Authorization"). Records appended before this migration have none of
-- the columns and are found by date only (the table is append-only: they are not filled in).
ALTER TABLE audit_log ADD COLUMN patient TEXT;
ALTER TABLE audit_log ADD COLUMN agent TEXT;
ALTER TABLE audit_log ADD COLUMN entity TEXT;
ALTER TABLE audit_log ADD COLUMN outcome INTEGER;
CREATE INDEX audit_log_by_recorded ON audit_log (recorded);
CREATE INDEX audit_log_by_patient ON audit_log (patient, seq) WHERE patient IS NOT NULL;
