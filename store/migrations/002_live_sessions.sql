-- Live screening sessions (issue 7): a WHIP publisher sends a call's media,
-- it is scored while it arrives, and its recording becomes an interview when
-- the session ends. Times are Unix milliseconds (UTC).
CREATE TABLE live_sessions (
    id           TEXT    PRIMARY KEY,
    owner_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    candidate    TEXT    NOT NULL DEFAULT '',
    title        TEXT    NOT NULL DEFAULT '',
    token_hash   BLOB    NOT NULL UNIQUE,
    state        TEXT    NOT NULL CHECK (state IN ('waiting', 'live', 'ending', 'ended')),
    end_reason   TEXT    NOT NULL DEFAULT '',
    error        TEXT    NOT NULL DEFAULT '',
    interview_id TEXT    REFERENCES interviews (id) ON DELETE SET NULL,
    stats        BLOB,
    last_score   BLOB,
    alerts       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    ended_at     INTEGER
);
CREATE INDEX live_sessions_created ON live_sessions (created_at DESC, id DESC);
CREATE INDEX live_sessions_state ON live_sessions (state);
CREATE INDEX live_sessions_interview ON live_sessions (interview_id);
