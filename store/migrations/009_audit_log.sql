-- The audit log: who did what to which interview, live session, webhook
-- or account, and when (Audit). It holds the acting account's id and
-- e-mail address as they were, the client's address and the target's id;
-- never a candidate's name, a report or a file name, so that it can
-- outlive what it is about (the retention policy deletes interviews; the
-- audit log has its own period). Times are Unix milliseconds (UTC).
CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    user_id INTEGER,             -- NULL: not an account (the server, the command line, a publisher, a failed login)
    actor   TEXT    NOT NULL,    -- the account's e-mail, or "server", "cli:NAME", "publisher", "anonymous"
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL DEFAULT '',  -- "interview:ID", "session:ID", "webhook:N", "user:N"
    addr    TEXT    NOT NULL DEFAULT '',
    detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_target ON audit_events (target, id);
CREATE INDEX audit_events_at ON audit_events (at);
