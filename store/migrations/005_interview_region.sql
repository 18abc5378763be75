-- The part of the picture to analyse (media.Region's text: "left",
-- "top-right", "x,y,w,h" fractions), chosen at upload for a call recorded
-- in gallery view; '' is the whole picture.
ALTER TABLE interviews ADD COLUMN region TEXT NOT NULL DEFAULT '';
