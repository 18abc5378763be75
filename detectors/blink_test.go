package detectors

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// blinkPainter paints a simple face (skin with noise, brows, nose, mouth)
// whose eyes are open except in the frames closed reports.
func blinkPainter(face image.Rectangle, closed func(i int) bool, seed uint64) physioPainter {
	rng := rand.New(rand.NewPCG(seed, 3))
	fw, fh := float64(face.Dx()), float64(face.Dy())
	at := func(fx0, fy0, fx1, fy1 float64) image.Rectangle {
		return image.Rect(face.Min.X+int(fx0*fw), face.Min.Y+int(fy0*fh), face.Min.X+int(fx1*fw), face.Min.Y+int(fy1*fh))
	}
	dark := [3]float64{40, 35, 35}
	white := [3]float64{225, 225, 230}
	return func(i int, _ float64, pix []uint8, w, h int) {
		physioFill(pix, w, image.Rect(0, 0, w, h), physioBG, 0, nil)
		physioFill(pix, w, face, physioSkin, 3, rng)
		physioFill(pix, w, at(0.20, 0.26, 0.42, 0.29), dark, 4, rng) // brows
		physioFill(pix, w, at(0.58, 0.26, 0.80, 0.29), dark, 4, rng)
		physioFill(pix, w, at(0.47, 0.45, 0.53, 0.64), [3]float64{90, 115, 160}, 4, rng) // nose shadow
		physioFill(pix, w, at(0.35, 0.78, 0.65, 0.82), [3]float64{70, 70, 140}, 4, rng)  // mouth
		for _, x0 := range []float64{0.20, 0.58} {
			if closed(i) {
				physioFill(pix, w, at(x0, 0.385, x0+0.22, 0.395), dark, 4, rng) // lashes
				continue
			}
			physioFill(pix, w, at(x0, 0.34, x0+0.22, 0.42), white, 4, rng)
			physioFill(pix, w, at(x0+0.07, 0.34, x0+0.15, 0.42), dark, 4, rng) // iris
		}
	}
}

func TestBlinksSynthetic(t *testing.T) {
	face := image.Rect(100, 60, 220, 180)
	t.Run("20 blinks a minute of 200 ms", func(t *testing.T) {
		// 40 s at 10 fps; the eyes close for 2 frames every 3 s from 1.5 s.
		paint := blinkPainter(face, func(i int) bool { return i%30 == 15 || i%30 == 16 }, 1)
		res := physioSynth{w: 320, h: 240, fps: 10, frames: 400, face: face, paint: paint}.run(t, NewBlinks())[0]
		physioCheckResult(t, res, BlinkSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.Equal(t, 13.0, findingValue(t, res.Summary, "blinks"), "%+v", res.Windows)
		assert.InDelta(t, 19.5, findingValue(t, res.Summary, "blink_rate"), 1)
		assert.InDelta(t, 200, findingValue(t, res.Summary, "median_blink_duration"), 1)
		assert.Less(t, res.Summary.Score, 0.2)
		assert.LessOrEqual(t, res.Summary.Confidence, blinkMaxConfidence)
		assert.NotEmpty(t, res.Windows)
	})
	t.Run("eyes that never close", func(t *testing.T) {
		paint := blinkPainter(face, func(int) bool { return false }, 2)
		res := physioSynth{w: 320, h: 240, fps: 10, frames: 400, face: face, paint: paint}.run(t, NewBlinks())[0]
		physioCheckResult(t, res, BlinkSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.Equal(t, 0.0, findingValue(t, res.Summary, "blinks"))
		// Counted over at most 30 s: p = 5 % at 6 a minute.
		assert.InDelta(t, 0.5, res.Summary.Score, 0.01, "no blink in 40 s")
		assert.Contains(t, res.Summary.Explanation, "unusually rare")
	})
	t.Run("a long closure is not a blink", func(t *testing.T) {
		// Eyes shut for 1.5 s every 10 s (looking down), no blinks.
		paint := blinkPainter(face, func(i int) bool { return i%100 >= 50 && i%100 < 65 }, 3)
		res := physioSynth{w: 320, h: 240, fps: 10, frames: 400, face: face, paint: paint}.run(t, NewBlinks())[0]
		physioCheckResult(t, res, BlinkSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.Equal(t, 0.0, findingValue(t, res.Summary, "blinks"))
	})
}

// blinkLandmarks returns 68 points whose eyes are open (lid gap 9 px on a
// 30-px eye, EAR 0.3) or closed (gap 1 px).
func blinkLandmarks(face image.Rectangle, closed bool) []image.Point {
	pts := make([]image.Point, Landmarks68)
	for i := range pts {
		pts[i] = face.Min.Add(image.Pt(face.Dx()/2, face.Dy()/2))
	}
	gap := 9
	if closed {
		gap = 1
	}
	for k, r := range [][2]int{LandmarkRightEye, LandmarkLeftEye} {
		x0, y := face.Min.X+15+50*k, face.Min.Y+45
		// Corner, two upper lid points, corner, two lower lid points.
		pts[r[0]] = image.Pt(x0, y)
		pts[r[0]+1] = image.Pt(x0+10, y-gap/2)
		pts[r[0]+2] = image.Pt(x0+20, y-gap/2)
		pts[r[0]+3] = image.Pt(x0+30, y)
		pts[r[0]+4] = image.Pt(x0+20, y+gap-gap/2)
		pts[r[0]+5] = image.Pt(x0+10, y+gap-gap/2)
	}
	return pts
}

func TestBlinksLandmarks(t *testing.T) {
	face := image.Rect(100, 60, 220, 180)
	closed := func(i int) bool { return i%30 == 15 || i%30 == 16 }
	// The picture never blinks; only the landmarks do, so the result comes
	// from the eye aspect ratio.
	paint := blinkPainter(face, func(int) bool { return false }, 5)
	s := physioSynth{w: 320, h: 240, fps: 10, frames: 400, face: face, paint: paint,
		edit: func(i int, f *VideoFrame) { f.Faces[0].Landmarks = blinkLandmarks(face, closed(i)) }}
	res := s.run(t, NewBlinks())[0]
	physioCheckResult(t, res, BlinkSignal)
	assert.Equal(t, 13.0, findingValue(t, res.Summary, "blinks"))
	assert.InDelta(t, 200, findingValue(t, res.Summary, "median_blink_duration"), 1)
	assert.Equal(t, 1.0, findingValue(t, res.Summary, "landmark_fraction"))
	assert.Less(t, res.Summary.Score, 0.2)
	assert.InDelta(t, 0.3, func() float64 { e, _ := blinkEAR(blinkLandmarks(face, false)); return e }(), 0.001)
}

func TestBlinksNotMeasurable(t *testing.T) {
	big := image.Rect(100, 60, 220, 180)
	tiny := image.Rect(140, 100, 180, 140)
	blinking := func(face image.Rectangle) physioPainter {
		return blinkPainter(face, func(i int) bool { return i%30 == 15 }, 4)
	}
	cases := []struct {
		name   string
		synth  physioSynth
		reason string
	}{
		{"low frame rate", physioSynth{w: 320, h: 240, fps: 4, frames: 120, face: big, paint: blinking(big)}, "frame rate"},
		{"tiny face", physioSynth{w: 320, h: 240, fps: 10, frames: 200, face: tiny, paint: blinking(tiny)}, "smaller than"},
		{"short clip", physioSynth{w: 320, h: 240, fps: 10, frames: 50, face: big, paint: blinking(big)}, "only"},
		{"profile", physioSynth{w: 320, h: 240, fps: 10, frames: 200, face: big, paint: blinking(big),
			edit: func(_ int, f *VideoFrame) { f.Faces[0].Profile = true }}, "profile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.synth.run(t, NewBlinks())[0]
			assert.False(t, res.Measured())
			assert.Equal(t, BlinkSignal, res.Signal)
			assert.Contains(t, res.NotMeasurable, c.reason)
		})
	}
}

// The score says how unlikely a low count is, so it grows with the seconds
// measured up to 30 s, not with the rate alone; beyond 30 s only the rate
// counts, and frequent blinking is not scored.
func TestBlinkScore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		seconds  float64
		min, max float64
	}{
		{"one blink in 13 s", 1, 13, 0, 0.1},
		{"none in 13 s", 0, 13, 0, 0.2},
		{"none in 20 s", 0, 20, 0.26, 0.28},
		{"none in 30 s", 0, 30, 0.49, 0.51},
		{"none in an hour", 0, 3600, 0.49, 0.51},
		{"20 a minute for a minute", 20, 60, 0, 0.06},
		{"3 a minute for a minute", 3, 60, 0.13, 0.15},
		// A genuine talkative person measured at 65 a minute (dev corpus,
		// 17 dips in 15.8 s) scored 0.55 while the high side was scored.
		{"60 a minute for a minute", 60, 60, 0, 0.06},
		{"17 in 15.8 s", 17, 15.8, 0, 0.06},
		{"60 a minute for 30 minutes", 1800, 1800, 0, 0.06},
		// Long recordings: e^−λ underflows beyond λ ≈ 745 in float64, and
		// the count is scaled to 30 s.
		{"20 a minute for 4 hours", 4800, 4 * 3600, 0, 0.06},
		{"3 a minute for 4 hours", 720, 4 * 3600, 0.13, 0.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := blinkScore(tc.n, tc.seconds)
			assert.GreaterOrEqual(t, s, tc.min)
			assert.LessOrEqual(t, s, tc.max)
		})
	}
	// The evidence grows with time at the same low rate, up to 30 s.
	assert.Less(t, blinkScore(0, 13), blinkScore(0, 20))
	assert.Less(t, blinkScore(1, 10), blinkScore(2, 30))
	assert.InDelta(t, blinkScore(4, 60), blinkScore(40, 600), 1e-12)
	assert.InDelta(t, blinkScore(0, 60), blinkScore(0, 6000), 1e-12)
	assert.Contains(t, blinkExplain(60.0/13, 1, 13), "too short to tell")
	assert.Contains(t, blinkExplain(3, 30, 600), "not so few that it is a cue")
	assert.Contains(t, blinkExplain(0, 0, 600), "unusually rare")
	// One blink in ten minutes scores 0.477: rare, whatever the length.
	assert.Contains(t, blinkExplain(0.1, 1, 600), "unusually rare")
	assert.Contains(t, blinkExplain(60.0/20, 1, 20), "too short to tell")
	// No blink at all over the counted span stays at 0.5 or above.
	assert.Greater(t, blinkScore(0, 3600), 0.5)
	assert.Contains(t, blinkExplain(64.6, 17, 15.8), "does not count towards the score")
	assert.InDelta(t, 1, poissonCDF(50, 3), 1e-12)
	assert.InDelta(t, 0.5, poissonCDF(1440, 1440), 0.02, "a long recording at exactly the low rate")
	assert.InDelta(t, math.Exp(-2)*(1+2+2), poissonCDF(2, 2), 1e-12)
	assert.Equal(t, 0.0, poissonCDF(-1, 2))
	// Fractional counts (a long recording scaled to 30 s) lie between
	// their neighbours.
	assert.Greater(t, poissonCDF(2.5, 6), poissonCDF(2, 6))
	assert.Less(t, poissonCDF(2.5, 6), poissonCDF(3, 6))
}
