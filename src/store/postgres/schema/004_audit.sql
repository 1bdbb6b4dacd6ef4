-- 004: the audit trail (docs/security.md, "Audit trail"; store/store.h, AppendAudit): one row per
-- request the server answered, in order, each holding the hash of its predecessor and its own,
-- SHA-256(previous hash || record) (store/audit_chain.h). `seq` is assigned by the appender
-- under a transaction-scoped advisory lock (every node of the database appends to this one
-- chain): 1, 2, 3... with no gap, so a missing number is a removed record. Not sharded: the
-- chain is one sequence.
--
-- The trigger keeps the table append-only for anything that runs through SQL without meaning to
-- change it; the table's owner can disable it, which is what the hash chain is for.
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  recorded BIGINT NOT NULL,
  record BYTEA NOT NULL,
  previous_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
