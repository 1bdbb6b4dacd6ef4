-- 011: the audit trail (docs/security.md, "Audit trail"; store/store.h, AppendAudit): one row per
-- request the server answered, in order, each holding the hash of its predecessor and its own,
-- SHA-256(previous hash || record) (store/audit_chain.h). `seq` is assigned by the appender,
-- which reads the head of the chain inside the writer's IMMEDIATE transaction: 1, 2, 3... with no
-- gap, so a missing number is a removed record.
--
-- The triggers keep the table append-only for anything that runs through SQL without meaning to
-- change it; someone who can write the file can drop them, which is what the hash chain is for.
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  recorded INTEGER NOT NULL,
  record BLOB NOT NULL,
  previous_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
