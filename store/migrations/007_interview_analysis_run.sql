-- Which analysis of the interview is current: 0 for the first, one more
-- each time it is analysed again. The analysis job carries it, so that a
-- new analysis is a new job (the finished one may still be "running" in
-- the queue for a moment), and a job of an older run does nothing.
ALTER TABLE interviews ADD COLUMN analysis_run INTEGER NOT NULL DEFAULT 0;
