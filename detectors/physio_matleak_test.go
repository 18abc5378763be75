//go:build matprofile

package detectors

import (
	"bytes"
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// The physiological detectors close every Mat they allocate, on every path:
// a measurable face, no face, a face too small, a face whose box reaches
// above the frame (the padded patch), one carried almost out of it and a
// track switch.
func TestPhysioMatLeak(t *testing.T) {
	before := gocv.MatProfile.Count()
	face := image.Rect(100, 60, 220, 180)
	paint := pulsePainter(face, func(_ int, _ int, tm float64) float64 {
		return 0.012 * math.Sin(2*math.Pi*1.2*tm)
	}, 1)
	s := physioSynth{w: 320, h: 240, fps: 10, frames: 260, face: face, paint: paint,
		edit: func(i int, f *VideoFrame) {
			switch {
			case i%100 >= 90:
				f.Faces = nil
			case i%100 >= 80:
				f.Faces[0].Rect = image.Rect(140, 100, 180, 140)
			case i%100 >= 75:
				f.Faces[0].Box = image.Rect(100, -20, 220, 100)
				f.Faces[0].Rect = image.Rect(100, 0, 220, 100)
			case i%100 >= 70: // carried almost out of the picture
				f.Faces[0].Box = image.Rect(100, -118, 220, 1)
				f.Faces[0].Rect = image.Rect(100, 0, 220, 1)
			case i >= 130:
				f.Faces[0].TrackID = 2
			}
		}}
	res := s.run(t, NewPulse(), NewBlinks(), NewFlicker())
	for _, r := range res {
		if r.Summary == nil {
			t.Fatalf("%s not measured: %s", r.Signal, r.NotMeasurable)
		}
	}
	if after := gocv.MatProfile.Count(); after != before {
		var b bytes.Buffer
		_ = gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("leaked %d Mats:\n%s", after-before, b.String())
	}
}
