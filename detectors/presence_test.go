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

// When another face shows in a tenth of the frames or more (a gallery
// view), the explanation says whose face the signals describe.
func TestFacePresenceSeveralFaces(t *testing.T) {
	frame := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8U)
	defer frame.Close()
	one := Face{Rect: image.Rect(40, 20, 100, 90), TrackID: 1, Detected: true}
	two := Face{Rect: image.Rect(110, 10, 150, 50), TrackID: 2, Detected: true}
	for _, tc := range []struct {
		name    string
		every   int // a second face in every every-th frame; 0: never
		want    float64
		mention bool
	}{
		{"one face", 0, 0, false},
		{"a second face in a twentieth", 20, 0.05, false},
		{"a second face in half", 2, 0.5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewFacePresence()
			for i, tm := range seq(0, 4, 0.1) {
				faces := []Face{one}
				if tc.every > 0 && i%tc.every == 0 {
					faces = append(faces, two)
				}
				require.NoError(t, d.Observe(&VideoFrame{Index: i, Time: tm, Image: frame, Gray: frame, FPS: 10, Faces: faces}))
			}
			r := d.Finish()
			require.NotNil(t, r.Summary)
			assert.InDelta(t, tc.want, findingValue(t, r.Summary, "several_faces_fraction"), 1e-9)
			if tc.mention {
				assert.Contains(t, r.Summary.Explanation, "In 50% of those frames more than one face was found")
			} else {
				assert.NotContains(t, r.Summary.Explanation, "more than one face")
			}
		})
	}
}
