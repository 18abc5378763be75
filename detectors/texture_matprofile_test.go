//go:build matprofile

package detectors

import (
	"bytes"
	"image"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

// Every Mat the texture detectors allocate, per frame and for their own
// buffers, is freed by the end of Close; Close twice frees nothing twice.
func TestTextureMatLeak(t *testing.T) {
	// The scene with a neck, so that the seam measures too; the face is
	// pasted through the landmark hull.
	genuine, pasted := texTSeamPair(t, 96)
	before := gocv.MatProfile.Count()
	for name, mk := range texTDetectors() {
		d := mk()
		r := texTRun(t, d, 14, texTFace, pasted)
		require.True(t, r.Measured(), name)
		require.NoError(t, d.Close())
		require.NoError(t, d.Close())
		// Frames without a face, with a tiny face, with a face at the
		// picture's edge (landmarks partly outside it) and without
		// landmarks take the other paths.
		d = mk()
		_ = texTRun(t, d, 3, image.Rectangle{}, genuine)
		_ = texTRun(t, d, 3, image.Rect(0, 0, 30, 30), genuine)
		_ = texTRun(t, d, 3, image.Rect(500, 300, 640, 480), genuine)
		_ = texTRun(t, d, 3, image.Rect(-60, -40, 140, 160), genuine)
		_ = texTRunFaces(t, d, 3, []Face{{Rect: texTFace}}, genuine)
		require.NoError(t, d.Close())
	}
	if after := gocv.MatProfile.Count(); after != before {
		var b bytes.Buffer
		_ = gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("leaked %d Mats:\n%s", after-before, b.String())
	}
}
