//go:build matprofile

package detectors

import (
	"bytes"
	"image"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

// Every Mat the camera-level detectors (enhancement with BRISQUE, virtual
// camera) allocate, per frame and for their own buffers, is freed by Close;
// a second Close frees nothing twice. Run with -tags matprofile.
func TestCameraMatLeak(t *testing.T) {
	before := gocv.MatProfile.Count()
	for name, mk := range map[string]func() VideoDetector{
		"enhancement": func() VideoDetector { return newTestEnhancement(t) },
		"virtualcam":  func() VideoDetector { return NewVirtualCam() },
	} {
		d := mk()
		s := newCamSynth(7, 640, 360, 2)
		camFeed(t, d, s, 30, 1) // measured path, BRISQUE included
		camFeed(t, d, s, 6, 3)  // duplicated frames
		// Frames without a face, with a tiny face, with a profile face and
		// with a face at the picture's edge take the other paths.
		for i, faces := range [][]Face{
			nil,
			{{Rect: image.Rect(10, 10, 40, 40), TrackID: 1}},
			{{Rect: s.face, TrackID: 1, Profile: true}},
			{{Rect: image.Rect(560, 250, 700, 420), TrackID: 1}},
		} {
			bgr, gray := s.frame(t)
			require.NoError(t, d.Observe(&VideoFrame{Index: 100 + i, Time: 10 + float64(i)/10, Image: bgr, Gray: gray, Faces: faces, FPS: 10}))
			require.NoError(t, bgr.Close())
			require.NoError(t, gray.Close())
		}
		r := d.Finish()
		require.True(t, r.Measured(), "%s: %s", name, r.NotMeasurable)
		require.NoError(t, d.Close())
		require.NoError(t, d.Close())
	}
	b := loadBrisqueForLeak(t)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())

	if after := gocv.MatProfile.Count(); after != before {
		var buf bytes.Buffer
		require.NoError(t, gocv.MatProfile.WriteTo(&buf, 1))
		t.Fatalf("Mat leak: %d before, %d after\n%s", before, after, buf.String())
	}
}

func loadBrisqueForLeak(t *testing.T) *Brisque {
	t.Helper()
	b := camLoadBrisque(t)
	bgr, gray := newCamSynth(8, 320, 240, 2).frame(t)
	defer bgr.Close()
	defer gray.Close()
	_, err := b.Score(bgr)
	require.NoError(t, err)
	return b
}
