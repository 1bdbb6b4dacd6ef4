-- 005: what a search of the audit trail finds a record by (store/store.h, SearchAudit): the
-- patient, the user, the resource and the outcome, taken from the record when it is appended,
-- with indexes that list a patient's, a user's or a resource's records newest first, and the
-- records of a time range. Records appended before this migration have none of the columns and
-- are found by date only (the table is append-only: they are not filled in).
ALTER TABLE audit_log ADD COLUMN patient TEXT COLLATE "C";
ALTER TABLE audit_log ADD COLUMN agent TEXT COLLATE "C";
ALTER TABLE audit_log ADD COLUMN entity TEXT COLLATE "C";
ALTER TABLE audit_log ADD COLUMN outcome INTEGER;
CREATE INDEX audit_log_by_recorded ON audit_log (recorded);
CREATE INDEX audit_log_by_patient ON audit_log (patient, seq) WHERE patient IS NOT NULL;
CREATE INDEX audit_log_by_agent ON audit_log (agent, seq) WHERE agent IS NOT NULL;
CREATE INDEX audit_log_by_entity ON audit_log (entity, seq) WHERE entity IS NOT NULL;
