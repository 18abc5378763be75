-- The part of the shared picture the live bot analyses (media.Region's
-- text, as interviews.region); '' is the whole picture.
ALTER TABLE live_sessions ADD COLUMN region TEXT NOT NULL DEFAULT '';
