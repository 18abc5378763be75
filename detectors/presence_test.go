package detectors

import (
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

// Face time is the time the frames with a face stand for: a source slower
// than the analysis rate (a 2-fps meeting bot) delivers every frame, each
// for its whole interval, and a gap in the picture is not face time.
func TestFacePresenceCoverage(t *testing.T) {
	frame := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8U)
	defer frame.Close()
	for _, tc := range []struct {
		name  string
		times []float64 // frame times; every frame has a face
		want  float64
	}{
		{"10 fps for 4 s", seq(0, 4, 0.1), 4.0},
		{"2 fps for 4 s", seq(0, 4, 0.5), 4.0},
		{"1 fps for 6 s", seq(0, 6, 1), 6.0},
		{"10 fps with a 3-s gap", append(seq(0, 2, 0.1), seq(5, 7, 0.1)...), 4.2},
		{"0.2 fps: at most a second a frame", seq(0, 20, 5), 4 * presenceMaxCredit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewFacePresence()
			for i, tm := range tc.times {
				f := &VideoFrame{Index: i, Time: tm, Image: frame, Gray: frame, FPS: 10,
					Faces: []Face{{Rect: image.Rect(40, 20, 100, 90), TrackID: 1, Detected: true}}}
				require.NoError(t, d.Observe(f))
			}
			d.Finish()
			assert.InDelta(t, tc.want, d.Coverage().Seconds, 0.11)
		})
	}
}

// seq returns from, from+step, … below to.
func seq(from, to, step float64) []float64 {
	var s []float64
	for i := 0; from+float64(i)*step < to-1e-9; i++ {
		s = append(s, from+float64(i)*step)
	}
	return s
}
