-- 018: audit records appended from now on keep their hash as its 32 bytes (a BLOB) and an empty
-- previous_hash: the previous hash is the hash of the row before, which ReadAudit reads with it
-- (sqlite/audit_read.cc). A fifth fewer bytes a record for the writer to append and the log to
-- copy (docs/benchmarks.md, "Authorization"). Rows appended before keep both as hex; readers
-- handle both. No table changes: this version number only keeps older builds, which would read
-- the new rows' hashes wrongly, from opening the database.
SELECT 1;
