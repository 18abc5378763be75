package detectors

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

var physioBG = [3]float64{70, 80, 90}

// pulsePainter paints a skin-coloured face whose three pulse regions get
// the relative colour change mod(region, t) along the blood-volume
// direction, with per-pixel noise.
func pulsePainter(face image.Rectangle, mod func(region int, i int, t float64) float64, seed uint64) physioPainter {
	rng := rand.New(rand.NewPCG(seed, 1))
	return func(i int, t float64, pix []uint8, w, h int) {
		bounds := image.Rect(0, 0, w, h)
		physioFill(pix, w, bounds, physioBG, 0, nil)
		physioFill(pix, w, face, physioSkin, 3, rng)
		for r, reg := range pulseRegions {
			rect := Sub(face, reg, bounds)
			m := mod(r, i, t)
			var c [3]float64
			for k := range c {
				c[k] = physioSkin[k] * (1 + m*physioPBV[k])
			}
			physioFill(pix, w, rect, c, 3, rng)
		}
	}
}

func TestPulseSynthetic(t *testing.T) {
	face := image.Rect(100, 60, 220, 180)
	const fps, n = 10.0, 300
	t.Run("coherent 1.2 Hz pulse", func(t *testing.T) {
		paint := pulsePainter(face, func(_ int, _ int, tm float64) float64 {
			return 0.012 * math.Sin(2*math.Pi*1.2*tm)
		}, 1)
		res := physioSynth{w: 320, h: 240, fps: fps, frames: n, face: face, paint: paint}.run(t, NewPulse())[0]
		physioCheckResult(t, res, PulseSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.InDelta(t, 72, findingValue(t, res.Summary, "pulse_rate"), 6, "1.2 Hz = 72 bpm")
		assert.Greater(t, findingValue(t, res.Summary, "region_coherence"), 0.8)
		assert.Greater(t, findingValue(t, res.Summary, "pulse_snr"), 5.0)
		assert.Less(t, findingValue(t, res.Summary, "peak_frequency_spread"), 0.1)
		assert.Less(t, res.Summary.Score, 0.2)
		// 30 s in 10-s windows every 5 s: [0,10] [5,15] … [20,30].
		require.Len(t, res.Windows, 5)
		for _, w := range res.Windows {
			assert.InDelta(t, 10, w.End-w.Start, 0.2)
		}
	})
	t.Run("independent noise per region", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		paint := pulsePainter(face, func(int, int, float64) float64 {
			return 0.012 * rng.NormFloat64()
		}, 2)
		res := physioSynth{w: 320, h: 240, fps: fps, frames: n, face: face, paint: paint}.run(t, NewPulse())[0]
		physioCheckResult(t, res, PulseSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.Less(t, math.Abs(findingValue(t, res.Summary, "region_coherence")), 0.2)
		assert.Greater(t, res.Summary.Score, 0.7)
	})
	t.Run("lamp flicker shared with the background is not a pulse", func(t *testing.T) {
		// A reddish 1.3-Hz lamp flicker on the whole picture, and
		// independent noise in each region: the flicker is the same in
		// face and context and is removed, so the regions stay incoherent.
		rng := rand.New(rand.NewPCG(8, 8))
		inner := pulsePainter(face, func(int, int, float64) float64 {
			return 0.012 * rng.NormFloat64()
		}, 6)
		paint := func(i int, tm float64, pix []uint8, w, h int) {
			inner(i, tm, pix, w, h)
			g := 1 + 0.03*math.Sin(2*math.Pi*1.3*tm)
			for k := 2; k < len(pix); k += 3 {
				pix[k] = uint8(math.Min(255, math.Round(float64(pix[k])*g)))
			}
		}
		res := physioSynth{w: 320, h: 240, fps: fps, frames: n, face: face, paint: paint}.run(t, NewPulse())[0]
		physioCheckResult(t, res, PulseSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.Less(t, findingValue(t, res.Summary, "region_coherence"), 0.3)
		assert.Greater(t, math.Abs(findingValue(t, res.Summary, "pulse_rate")-78), 3.0, "the lamp is not the pulse")
	})
	t.Run("pulse in one region only", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 9))
		paint := pulsePainter(face, func(r int, _ int, tm float64) float64 {
			if r == 0 {
				return 0.012 * math.Sin(2*math.Pi*1.2*tm)
			}
			return 0.012 * rng.NormFloat64()
		}, 3)
		res := physioSynth{w: 320, h: 240, fps: fps, frames: n, face: face, paint: paint}.run(t, NewPulse())[0]
		physioCheckResult(t, res, PulseSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.Less(t, findingValue(t, res.Summary, "region_coherence"), 0.3)
		assert.Greater(t, res.Summary.Score, 0.5)
	})
}

func TestPulseNotMeasurable(t *testing.T) {
	steady := func(face image.Rectangle) physioPainter {
		return pulsePainter(face, func(_ int, _ int, tm float64) float64 {
			return 0.012 * math.Sin(2*math.Pi*1.2*tm)
		}, 4)
	}
	big := image.Rect(100, 60, 220, 180)
	tiny := image.Rect(140, 100, 190, 150)
	cases := []struct {
		name   string
		synth  physioSynth
		reason string
	}{
		{"low frame rate", physioSynth{w: 320, h: 240, fps: 5, frames: 100, face: big, paint: steady(big)}, "frame rate"},
		{"tiny face", physioSynth{w: 320, h: 240, fps: 10, frames: 200, face: tiny, paint: steady(tiny)}, "smaller than"},
		{"short clip", physioSynth{w: 320, h: 240, fps: 10, frames: 25, face: big, paint: steady(big)}, "stable"},
		{"no face", physioSynth{w: 320, h: 240, fps: 10, frames: 50, paint: steady(big)}, "no face"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.synth.run(t, NewPulse())[0]
			assert.False(t, res.Measured())
			assert.Equal(t, PulseSignal, res.Signal)
			assert.Contains(t, res.NotMeasurable, c.reason)
		})
	}
}

func TestPulseTrackChangeResets(t *testing.T) {
	// Two 6-s stretches of different tracks: each is analysed on its own,
	// never across the switch.
	face := image.Rect(100, 60, 220, 180)
	paint := pulsePainter(face, func(_ int, _ int, tm float64) float64 {
		return 0.012 * math.Sin(2*math.Pi*1.2*tm)
	}, 5)
	s := physioSynth{w: 320, h: 240, fps: 10, frames: 120, face: face, paint: paint,
		edit: func(i int, f *VideoFrame) { f.Faces[0].TrackID = 1 + i/60 }}
	res := s.run(t, NewPulse())[0]
	physioCheckResult(t, res, PulseSignal)
	t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
	require.Len(t, res.Windows, 2)
	assert.LessOrEqual(t, res.Windows[0].End, res.Windows[1].Start)
}

// Every physiological detector rejects unreadable frames and frames after
// Close with its sentinel errors instead of crashing.
func TestPhysioObserveErrors(t *testing.T) {
	img := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8UC3)
	defer img.Close()
	gray := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8U)
	defer gray.Close()
	wrongGray := gocv.NewMatWithSize(60, 80, gocv.MatTypeCV8U)
	defer wrongGray.Close()
	faces := []Face{{Rect: image.Rect(20, 10, 130, 115), TrackID: 1, Detected: true}}
	for _, d := range []VideoDetector{NewPulse(), NewBlinks(), NewFlicker()} {
		t.Run(d.Name(), func(t *testing.T) {
			err := d.Observe(&VideoFrame{Image: gray, Gray: gray, Faces: faces, FPS: 10})
			assert.ErrorIs(t, err, ErrPhysioFrame, "grey picture as BGR")
			err = d.Observe(&VideoFrame{Image: img, Gray: wrongGray, Faces: faces, FPS: 10})
			assert.ErrorIs(t, err, ErrPhysioFrame, "grey copy of another size")
			require.NoError(t, d.Observe(&VideoFrame{Image: img, Gray: gray, Faces: faces, FPS: 10}))
			require.NoError(t, d.Close())
			assert.ErrorIs(t, d.Observe(&VideoFrame{Image: img, Gray: gray, Faces: faces, FPS: 10}), ErrPhysioClosed)
			assert.False(t, d.Finish().Measured())
		})
	}
}

// A coherent colour rhythm is called a live pulse only at a resting rate.
func TestPulseExplainRate(t *testing.T) {
	for _, tc := range []struct {
		coh, bpm float64
		want     string
	}{
		{0.9, 72, "as expected of a live face"},
		{0.9, 146, "outside a resting pulse"},
		{0.9, 40, "outside a resting pulse"},
		{-0.5, 72, "did not agree"},
	} {
		assert.Contains(t, pulseExplain(tc.coh, tc.bpm), tc.want, "coherence %.1f at %.0f bpm", tc.coh, tc.bpm)
	}
}
