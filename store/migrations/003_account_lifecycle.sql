-- Account life cycle (security review, finding 9): an account can be
-- disabled without deleting it. NULL means active; otherwise the time
-- (Unix milliseconds, UTC) it was disabled. A disabled account's sessions
-- are deleted when it is disabled, and its API tokens stay stored but are
-- refused until it is enabled again (see Users.DisableUser).
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
