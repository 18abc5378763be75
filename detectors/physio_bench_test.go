package detectors

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

// BenchmarkPhysioObserve measures the per-frame cost of each physiological
// detector on a 640×360 frame with a 160-px face, the typical analysis
// input (10 fps). The pulse cost includes its window analysis every 5 s,
// amortised over the frames.
func BenchmarkPhysioObserve(b *testing.B) {
	const w, h = 640, 360
	face := image.Rect(240, 80, 400, 240)
	img := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	defer img.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	pix, err := img.DataPtrUint8()
	require.NoError(b, err)
	rng := rand.New(rand.NewPCG(1, 2))
	physioFill(pix, w, image.Rect(0, 0, w, h), physioBG, 10, rng)
	physioFill(pix, w, face, physioSkin, 5, rng)
	gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
	for _, c := range []struct {
		name string
		make func() VideoDetector
	}{
		{"pulse", func() VideoDetector { return NewPulse() }},
		{"blinks", func() VideoDetector { return NewBlinks() }},
		{"flicker", func() VideoDetector { return NewFlicker() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := c.make()
			b.Cleanup(func() { require.NoError(b, d.Close()) })
			i := 0
			for b.Loop() {
				tm := float64(i) / 10
				// Move the face a little so that nothing is cached.
				dx := int(3 * math.Sin(tm))
				vf := &VideoFrame{Index: i, Time: tm, Image: img, Gray: gray, FPS: 10,
					Faces: []Face{{Rect: face.Add(image.Pt(dx, 0)), TrackID: 1, Detected: true}}}
				if err := d.Observe(vf); err != nil {
					b.Fatal(err)
				}
				i++
			}
			d.Finish()
		})
	}
}
