package detectors

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

// scan says for each box whether only a profile cascade found it: a box
// of the upward scan (a face the top edge cuts off) was found by the
// frontal cascade, whatever the first scan found.
func TestScanProfilePerBox(t *testing.T) {
	png := filepath.Join(t.TempDir(), "close.png")
	testutil.FFmpeg(t, "-ss", "2", "-i", testutil.CorpusItem(t, "video", "genuine", "driving/d6.mp4"), "-frames:v", "1",
		"-vf", "crop=480:300:0:180,format=gray", png)
	gray := gocv.IMRead(png, gocv.IMReadGrayScale)
	defer gray.Close()
	require.False(t, gray.Empty())
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	tr, err := NewFaceTracker(fm)
	require.NoError(t, err)
	defer tr.Close()
	for _, fast := range []bool{true, false} {
		rects, profiles := tr.scan(gray, fast)
		require.Len(t, profiles, len(rects))
		above := 0
		for i, r := range rects {
			if r.Min.Y < 0 {
				above++
				require.False(t, profiles[i], "box %v of the upward scan", r)
			}
		}
		require.Positive(t, above, "fast %v: the face the top edge cuts off is found (%v)", fast, rects)
	}
}
