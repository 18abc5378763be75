//go:build matprofile

package detectors

import (
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

// TestLipSyncMatLeak runs the lip-sync detector over measured frames (with
// audio, so windows are computed), frames without a face, with a tiny face,
// with a profile face and with a face cut by the picture's edge, and checks
// that every Mat it allocated is freed by Close (twice is harmless). Run
// with -tags matprofile.
func TestLipSyncMatLeak(t *testing.T) {
	before := gocv.MatProfile.Count()
	d := NewLipSync()
	feedLS(t, d, lsSynth{dur: 12, faceSize: 120})
	gray := gocv.NewMatWithSize(200, 200, gocv.MatTypeCV8U)
	for i, faces := range [][]Face{
		nil,
		{{Rect: image.Rect(10, 10, 40, 40), TrackID: 1, Detected: true}},
		{{Rect: image.Rect(40, 30, 160, 150), TrackID: 1, Profile: true}},
		{{Rect: image.Rect(120, 120, 260, 260), TrackID: 1, Detected: true}},
		{{Rect: image.Rect(40, 30, 160, 150), TrackID: 1, Detected: true}},
	} {
		require.NoError(t, d.Observe(&VideoFrame{Index: 200 + i, Time: 12 + float64(i)/10, Image: gray, Gray: gray, Faces: faces, FPS: 10}))
	}
	require.NoError(t, gray.Close())
	r := d.Finish()
	require.True(t, r.Measured(), r.NotMeasurable)
	assert.Greater(t, gocv.MatProfile.Count(), before, "the detector holds its resize buffer until Close")
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())
	assert.Equal(t, before, gocv.MatProfile.Count(), "Mats leaked")
}
