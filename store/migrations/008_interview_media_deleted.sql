-- When the retention policy deleted the interview's recording and evidence
-- images (--media-retention) while keeping its report; NULL while they are
-- kept. Times are Unix milliseconds (UTC).
ALTER TABLE interviews ADD COLUMN media_deleted_at INTEGER;
-- The hourly check looks for finished interviews that keep their media.
CREATE INDEX interviews_media_kept ON interviews (created_at) WHERE media_deleted_at IS NULL;
