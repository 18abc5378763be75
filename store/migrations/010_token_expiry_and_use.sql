-- API tokens may expire, and the time of their last use is kept (to the
-- minute), so that an operator can see and revoke tokens nobody uses.
-- NULL: never expires / never used. Unix milliseconds (UTC).
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
