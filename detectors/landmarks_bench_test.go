package detectors_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

// BenchmarkLandmarksFit times one 68-point fit on a real face (the face of
// a 720p FF++ frame scaled to the 640-px analysis width):
//
//	go test ./detectors -run '^$' -bench LandmarksFit
func BenchmarkLandmarksFit(b *testing.B) {
	fm, err := models.LocateFaceModels("")
	require.NoError(b, err)
	lm, err := detectors.NewLandmarker(fm.Landmarks)
	require.NoError(b, err)
	defer lm.Close()
	tracker, err := detectors.NewFaceTracker(fm)
	require.NoError(b, err)
	defer tracker.Close()
	png := b.TempDir() + "/frame.png"
	testutil.FFmpeg(b, "-ss", "2", "-i", testutil.CorpusItem(b, "video", "genuine", "519.mp4"),
		"-vf", "scale=640:-2", "-frames:v", "1", png)
	gray := gocv.IMRead(png, gocv.IMReadGrayScale)
	defer gray.Close()
	faces := tracker.Detect(gray)
	require.NotEmpty(b, faces)
	b.ResetTimer()
	for range b.N {
		if _, err := lm.Fit(gray, faces[0]); err != nil {
			b.Fatal(err)
		}
	}
}
