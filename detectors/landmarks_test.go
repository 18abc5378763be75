package detectors_test

import (
	"image"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/models"
)

// The 68 landmarks of a real face fall inside and around its box in the
// expected layout: eyes above the nose tip above the mouth above the chin.
func TestLandmarksRealFace(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	require.NotEmpty(t, fm.Landmarks, "libdlib-data ships the 68-point model")
	began := time.Now()
	lm, err := detectors.NewLandmarker(fm.Landmarks)
	require.NoError(t, err)
	t.Logf("model loaded in %v", time.Since(began))
	defer lm.Close()
	tracker, err := detectors.NewFaceTracker(fm)
	require.NoError(t, err)
	defer tracker.Close()

	gray := corpusGrayFrame(t, "519.mp4")
	defer gray.Close()
	faces := tracker.Detect(gray)
	require.NotEmpty(t, faces)
	box := faces[0]
	began = time.Now()
	pts, err := lm.Fit(gray, box)
	require.NoError(t, err)
	t.Logf("fit in %v", time.Since(began))
	require.Len(t, pts, detectors.Landmarks68)
	grown := detectors.Grow(box, 0.25, image.Rect(0, 0, gray.Cols(), gray.Rows()))
	for i, p := range pts {
		require.True(t, p.In(grown), "point %d %v outside %v", i, p, grown)
	}
	eyeY := (pts[37].Y + pts[44].Y) / 2
	require.Less(t, eyeY, pts[33].Y, "eyes above the nose tip")
	require.Less(t, pts[33].Y, pts[62].Y, "nose above the mouth")
	require.Less(t, pts[62].Y, pts[8].Y, "mouth above the chin")
	require.Less(t, pts[36].X, pts[45].X, "image-left eye corner left of the other")

	_, err = lm.Fit(gray, image.Rectangle{})
	require.ErrorIs(t, err, detectors.ErrLandmarks)
	require.NoError(t, lm.Close())
	require.NoError(t, lm.Close(), "Close is idempotent")
	_, err = lm.Fit(gray, box)
	require.ErrorIs(t, err, detectors.ErrLandmarks)
}
