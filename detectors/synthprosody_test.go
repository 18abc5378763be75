package detectors

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

func TestLineResidual(t *testing.T) {
	require.InDelta(t, 0, lineResidual([]float64{1, 2, 3, 4, 5}), 1e-12)
	require.InDelta(t, 0, lineResidual([]float64{7}), 1e-12)
	// A parabola leaves a known residual: y = x² on 0..4 → RMS 0.7483.
	require.InDelta(t, math.Sqrt(2.8), lineResidual([]float64{0, 1, 4, 9, 16}), 1e-9)
}

func TestSynthProsodySynthetic(t *testing.T) {
	monotone := func(t float64) float64 {
		// Words of flat pitch with a slight declination, like default TTS.
		if math.Mod(t, 0.6) > 0.5 {
			return 0
		}
		return 120 * math.Pow(2, -0.5*t/12)
	}
	lines := func(t float64) float64 {
		// Straight pitch lines between targets within a ±1.5 st range.
		if math.Mod(t, 0.8) > 0.7 {
			return 0
		}
		u := math.Mod(t, 0.35) / 0.35
		return 120 * math.Pow(2, (-1.5+3*u)/12)
	}
	wide := func(t float64) float64 {
		// Straight lines again, but spanning ±5 st: the contour shape is
		// reported (below) but does not raise the score.
		if math.Mod(t, 0.8) > 0.7 {
			return 0
		}
		u := math.Mod(t, 0.35) / 0.35
		return 120 * math.Pow(2, (-5+10*u)/12)
	}
	for _, tc := range []struct {
		name     string
		f0       func(float64) float64
		min, max float64
	}{
		{"monotone", monotone, 0.9, 1},
		{"straight lines", lines, 0.8, 1},
		{"straight lines, wide range", wide, 0, 0.1},
		{"intonated", voiceIntonation(120, 4), 0, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, _ := voiceSpec{seconds: 10, f0: tc.f0, jitter: 0.004, shimmer: 0.08, noise: 0.002, seed: 4}.render(media.VoiceRate)
			d, err := NewSynthProsody()
			require.NoError(t, err)
			r := voiceRun(t, d, x)
			voiceWellFormed(t, r, SynthProsodySignal)
			t.Logf("spread %.2f st, line residual %.1f cents, score %.2f", summaryValue(t, r, "f0_spread"), summaryValue(t, r, "contour_line_residual"), r.Summary.Score)
			require.GreaterOrEqual(t, r.Summary.Score, tc.min)
			require.LessOrEqual(t, r.Summary.Score, tc.max)
			require.Len(t, r.Windows, 2)
			if tc.name != "intonated" {
				require.Less(t, summaryValue(t, r, "contour_line_residual"), 8.0)
			} else {
				require.Greater(t, summaryValue(t, r, "contour_line_residual"), 15.0)
			}
		})
	}
}

func TestSynthProsodyCorpusTTS(t *testing.T) {
	// The espeak and flite interview answers against genuine readers of
	// similar length: TTS is flatter on average. (Some calm genuine readers
	// are nearly as flat: this is a direction, not a separation.)
	score := func(path string) float64 {
		d, err := NewSynthProsody()
		require.NoError(t, err)
		r := voiceRun(t, d, voiceDecode(t, path))
		voiceWellFormed(t, r, SynthProsodySignal)
		require.NotNil(t, r.Summary, r.NotMeasurable)
		return r.Summary.Score
	}
	var tts, genuine []float64
	for _, kind := range []string{"tts-espeak", "tts-flite"} {
		for _, p := range voiceCorpusKind(t, kind)[:3] {
			tts = append(tts, score(p))
		}
	}
	for _, src := range []string{"1034-121119", "2989-138028", "jfk.wav", "1088-129236", "8629-261139", "4340-15220"} {
		genuine = append(genuine, score(testutil.CorpusFile(t, "genuine", src)))
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	t.Logf("scores: tts %v, genuine %v", tts, genuine)
	require.Greater(t, mean(tts), mean(genuine)+0.4)
}
