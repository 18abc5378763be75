-- Accounts, sessions, API tokens, interviews, reports and webhooks.
-- Times are Unix milliseconds (UTC).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'recruiter')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    token_hash BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE interviews (
    id               TEXT    PRIMARY KEY,
    owner_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    candidate        TEXT    NOT NULL DEFAULT '',
    title            TEXT    NOT NULL DEFAULT '',
    source           TEXT    NOT NULL DEFAULT 'upload',
    media_file       TEXT    NOT NULL,
    original_name    TEXT    NOT NULL DEFAULT '',
    size_bytes       INTEGER NOT NULL DEFAULT 0,
    duration_seconds REAL    NOT NULL DEFAULT 0,
    status           TEXT    NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'failed')),
    progress         REAL    NOT NULL DEFAULT 0,
    error            TEXT    NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    verdict          TEXT    NOT NULL DEFAULT '',
    authenticity     INTEGER,
    probability      REAL,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
);
CREATE INDEX interviews_created ON interviews (created_at DESC, id DESC);
CREATE INDEX interviews_status ON interviews (status, created_at DESC);
CREATE INDEX interviews_verdict ON interviews (verdict, created_at DESC);

CREATE TABLE reports (
    interview_id TEXT    PRIMARY KEY REFERENCES interviews (id) ON DELETE CASCADE,
    json         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
