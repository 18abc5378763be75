-- Webhook ids are never reused (state audit, 2026-11-30). A delivery job
-- queued for a webhook looks its hook up by id, and SQLite gives a plain
-- INTEGER PRIMARY KEY's largest freed id to the next row: a webhook created
-- after the newest one was deleted would have received the deleted one's
-- queued events (candidate names, verdicts), signed with its own secret.
-- AUTOINCREMENT never hands out an id again. (An id freed before this
-- migration, above every id left, can still be reused once.)
CREATE TABLE webhooks_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO webhooks_new (id, url, secret, created_by, created_at)
    SELECT id, url, secret, created_by, created_at FROM webhooks;
DROP TABLE webhooks;
ALTER TABLE webhooks_new RENAME TO webhooks;
