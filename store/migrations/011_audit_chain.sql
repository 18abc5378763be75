-- The audit log is a hash chain (Audit, VerifyAudit): each entry keeps the
-- hash of the entry before it (prev) and its own (hash, over prev and its
-- fields), both lowercase hex SHA-256. Entries recorded before this
-- migration keep '' in both and are reported as not chained; the last of
-- their ids is kept in audit_chain, so that an entry without a hash after
-- it is seen as altered.
ALTER TABLE audit_events ADD COLUMN prev TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE TABLE audit_chain (last_unchained INTEGER NOT NULL);
INSERT INTO audit_chain (last_unchained) SELECT coalesce(max(id), 0) FROM audit_events;
