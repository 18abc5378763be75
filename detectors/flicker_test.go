package detectors

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// flickerScene paints a static textured background and a static textured
// face, with fresh per-pixel noise in every frame. faceGain and allGain
// return per-frame (B, G, R) gains of the face pixels and of every pixel;
// swap reports frames in which the face shows another texture.
type flickerScene struct {
	face     image.Rectangle
	faceGain func(i int) [3]float64
	allGain  func(i int) [3]float64
	swap     func(i int) bool
}

func (s flickerScene) painter(w, h int, seed uint64) physioPainter {
	rng := rand.New(rand.NewPCG(seed, 5))
	tex := func(n int, amp float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = (rng.Float64()*2 - 1) * amp
		}
		return v
	}
	bgTex := tex(w*h, 25)
	faceTex := tex(w*h, 12)
	otherTex := tex(w*h, 12)
	one := func(int) [3]float64 { return [3]float64{1, 1, 1} }
	if s.faceGain == nil {
		s.faceGain = one
	}
	if s.allGain == nil {
		s.allGain = one
	}
	return func(i int, _ float64, pix []uint8, w, h int) {
		fg, ag := s.faceGain(i), s.allGain(i)
		ft := faceTex
		if s.swap != nil && s.swap(i) {
			ft = otherTex
		}
		for y := range h {
			for x := range w {
				k := y*w + x
				in := image.Pt(x, y).In(s.face)
				for c := range 3 {
					v := physioBG[c] + bgTex[k]
					g := ag[c]
					if in {
						v = physioSkin[c] + ft[k]
						g *= fg[c]
					}
					v = v*g + (rng.Float64()*2-1)*2
					pix[3*k+c] = uint8(math.Max(0, math.Min(255, math.Round(v))))
				}
			}
		}
	}
}

func TestFlickerSynthetic(t *testing.T) {
	face := image.Rect(110, 60, 210, 170)
	const w, h, n = 320, 240, 200
	noise := rand.New(rand.NewPCG(11, 11))
	cases := []struct {
		name       string
		scene      flickerScene
		minScore   float64
		maxScore   float64
		minJumps   float64
		maxJumps   float64
		minColRati float64
	}{
		{name: "steady face", scene: flickerScene{face: face}, maxScore: 0.3, maxJumps: 3},
		{name: "face colour flickers alone", scene: flickerScene{face: face, faceGain: func(int) [3]float64 {
			d := 0.03 * noise.NormFloat64()
			return [3]float64{1 - d, 1, 1 + d}
		}}, minScore: 0.8, maxScore: 1, maxJumps: 60, minColRati: 3},
		{name: "lighting flickers everywhere", scene: flickerScene{face: face, allGain: func(int) [3]float64 {
			g, d := 1+0.05*noise.NormFloat64(), 0.03*noise.NormFloat64()
			return [3]float64{g * (1 - d), g, g * (1 + d)}
		}}, maxScore: 0.5, maxJumps: 60},
		{name: "face texture breaks every 2 s", scene: flickerScene{face: face, swap: func(i int) bool { return i%20 == 10 }},
			maxScore: 0.5, minJumps: 20, maxJumps: 40},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := physioSynth{w: w, h: h, fps: 10, frames: n, face: face, paint: c.scene.painter(w, h, uint64(i))}
			res := s.run(t, NewFlicker())[0]
			physioCheckResult(t, res, FlickerSignal)
			t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
			assert.GreaterOrEqual(t, res.Summary.Score, c.minScore)
			assert.LessOrEqual(t, res.Summary.Score, c.maxScore)
			jumps := findingValue(t, res.Summary, "appearance_jumps")
			assert.GreaterOrEqual(t, jumps, c.minJumps)
			assert.LessOrEqual(t, jumps, c.maxJumps)
			assert.GreaterOrEqual(t, findingValue(t, res.Summary, "colour_flicker_ratio"), c.minColRati)
			assert.Len(t, res.Windows, 4) // 20 s in 5-s windows
			assert.LessOrEqual(t, res.Summary.Confidence, flickerMaxConfidence)
		})
	}
}

func TestFlickerNotMeasurable(t *testing.T) {
	big := image.Rect(110, 60, 210, 170)
	tiny := image.Rect(140, 100, 180, 140)
	cases := []struct {
		name   string
		synth  physioSynth
		reason string
	}{
		{"tiny face", physioSynth{w: 320, h: 240, fps: 10, frames: 60, face: tiny, paint: flickerScene{face: tiny}.painter(320, 240, 1)}, "smaller than"},
		{"short clip", physioSynth{w: 320, h: 240, fps: 10, frames: 12, face: big, paint: flickerScene{face: big}.painter(320, 240, 2)}, "too few"},
		{"no face", physioSynth{w: 320, h: 240, fps: 10, frames: 30, paint: flickerScene{face: big}.painter(320, 240, 3)}, "no face"},
		{"face fills the frame", physioSynth{w: 120, h: 120, fps: 10, frames: 60, face: image.Rect(0, 0, 120, 120),
			paint: flickerScene{face: image.Rect(0, 0, 120, 120)}.painter(120, 120, 4)}, "surroundings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.synth.run(t, NewFlicker())[0]
			assert.False(t, res.Measured())
			assert.Equal(t, FlickerSignal, res.Signal)
			assert.Contains(t, res.NotMeasurable, c.reason)
		})
	}
}
