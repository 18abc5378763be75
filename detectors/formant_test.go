package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// voiceVowel is a sustained synthetic vowel: glottal-like cycles at f0
// through resonators at the formants scaled by k from a 17.5-cm neutral
// tube (500, 1500, 2500, 3500 Hz).
func voiceVowel(f0, k, seconds float64, seed uint64) []float32 {
	x, _ := voiceSpec{
		seconds: seconds, f0: voiceConst(f0), jitter: 0.01, shimmer: 0.03, seed: seed, amp: 0.05,
		formants:   []float64{500 * k, 1500 * k, 2500 * k, 3500 * k},
		bandwidths: []float64{60, 90, 120, 150},
	}.render(media.VoiceRate)
	return x
}

func TestFormantAnalyzerSyntheticVowel(t *testing.T) {
	for _, k := range []float64{1, 1.2} {
		x := voiceVowel(120, k, 0.5, 1)
		fa, err := NewFormantAnalyzer(media.VoiceRate, nil)
		require.NoError(t, err)
		span := make([]float64, len(x))
		for i, v := range x {
			span[i] = float64(v)
		}
		dst := make([]Formants, len(fa.Ceilings()))
		require.True(t, fa.Analyze(span, len(span)/2, dst))
		// At a ceiling that holds four of the vowel's formants, F1–F3 are
		// found within 8 %.
		for i, c := range fa.Ceilings() {
			if c < 3700*k || c > 5500*k {
				continue
			}
			require.True(t, dst[i].OK, "ceiling %.0f", c)
			for j, want := range []float64{500 * k, 1500 * k, 2500 * k} {
				require.InDelta(t, want, dst[i].F[j], 0.08*want, "k=%.1f ceiling %.0f F%d", k, c, j+1)
			}
		}
	}
}

func TestFormantAnalyzerErrors(t *testing.T) {
	_, err := NewFormantAnalyzer(48000, nil)
	require.ErrorIs(t, err, ErrVoiceRate)
	_, err = NewFormantAnalyzer(media.VoiceRate, []float64{9000})
	require.ErrorIs(t, err, ErrPitchConfig)
	fa, err := NewFormantAnalyzer(media.VoiceRate, nil)
	require.NoError(t, err)
	dst := make([]Formants, len(fa.Ceilings()))
	require.False(t, fa.Analyze(make([]float64, 1000), 500, dst), "silence")
	require.False(t, fa.Analyze(make([]float64, 100), 50, dst), "too short")
	require.False(t, fa.Analyze(make([]float64, 1000), 500, dst[:1]), "wrong dst length")
}

func TestPitchFormantScaleTracksVocalTract(t *testing.T) {
	// Same pitch, vocal tract 25 % shorter: the measured formant scale
	// rises and so does the residual against the pitch-implied scale.
	run := func(k float64) Result {
		d, err := NewPitchFormant()
		require.NoError(t, err)
		r := voiceRun(t, d, voiceVowel(120, k, 3, 2))
		voiceWellFormed(t, r, PitchFormantSignal)
		return r
	}
	base, short := run(1), run(1.25)
	require.InDelta(t, 120, summaryValue(t, base, "median_f0"), 2)
	require.Greater(t, summaryValue(t, short, "formant_scale"), 1.12*summaryValue(t, base, "formant_scale"))
	require.Greater(t, summaryValue(t, short, "scale_residual"), summaryValue(t, base, "scale_residual")+0.1)
}

func TestPitchFormantSoxShift(t *testing.T) {
	// `sox pitch 400` raises F0 and formants together by 26 %: the voice
	// then has resonances too high for its pitch. Two male LibriSpeech
	// voices of the dev corpus; the shift is made here with sox.
	for _, src := range []string{"1034-121119", "6415-100596"} {
		t.Run(src, func(t *testing.T) {
			orig := testutil.CorpusFile(t, "genuine", src)
			shifted := voiceSox(t, orig, "pitch", "400")
			d1, err := NewPitchFormant()
			require.NoError(t, err)
			d2, err := NewPitchFormant()
			require.NoError(t, err)
			ro, rs := voiceRun(t, d1, voiceDecode(t, orig)), voiceRun(t, d2, voiceDecode(t, shifted))
			voiceWellFormed(t, ro, PitchFormantSignal)
			voiceWellFormed(t, rs, PitchFormantSignal)
			require.InDelta(t, 1.26, summaryValue(t, rs, "median_f0")/summaryValue(t, ro, "median_f0"), 0.05)
			require.Greater(t, summaryValue(t, rs, "scale_residual"), summaryValue(t, ro, "scale_residual")+0.08)
			require.Greater(t, rs.Summary.Score, ro.Summary.Score+0.3)
		})
	}
}

func TestPitchFormantCorpusDirection(t *testing.T) {
	// Every pitch-sox item of the dev corpus against its own genuine
	// original: the formant-scale residual moves the way sox shifted the
	// voice (up for positive cents, down for negative), and the shifted
	// voices score higher on average. Genuine voices do not sit exactly on
	// the human F0–formant line either, which is why this is a weak signal
	// (dev AUC about 0.75).
	items := testutil.Corpus(t)
	run := func(path string) Result {
		d, err := NewPitchFormant()
		require.NoError(t, err)
		r := voiceRun(t, d, voiceDecode(t, path))
		voiceWellFormed(t, r, PitchFormantSignal)
		require.NotNil(t, r.Summary, r.NotMeasurable)
		return r
	}
	var shiftScore, origScore float64
	n := 0
	for _, it := range items {
		if it.Modality != "audio" || it.Kind != "pitch-sox" {
			continue
		}
		in := it.Source[strings.Index(it.Source, "input: ")+len("input: "):]
		var origPath string
		for _, g := range items {
			if g.Modality == "audio" && g.Kind == "genuine" && strings.HasPrefix(g.Source, in) {
				origPath = g.Path
			}
		}
		require.NotEmpty(t, origPath, "original of %s", in)
		var cents float64
		_, err := fmt.Sscanf(it.Source[strings.Index(it.Source, " pitch ")+len(" pitch "):], "%g", &cents)
		require.NoError(t, err)
		rs, ro := run(it.Path), run(origPath)
		moved := summaryValue(t, rs, "scale_residual") - summaryValue(t, ro, "scale_residual")
		t.Logf("%+5.0f cents: residual %+.3f → %+.3f, score %.2f → %.2f", cents,
			summaryValue(t, ro, "scale_residual"), summaryValue(t, rs, "scale_residual"), ro.Summary.Score, rs.Summary.Score)
		require.Equal(t, math.Signbit(cents), math.Signbit(moved), "%s shifted %+.0f cents", in, cents)
		shiftScore += rs.Summary.Score
		origScore += ro.Summary.Score
		n++
	}
	require.Equal(t, 10, n)
	require.Greater(t, shiftScore/float64(n), origScore/float64(n)+0.05)
}

func TestVoiceDetectorsNotMeasurable(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	noise := make([]float32, media.VoiceRate*5)
	for i := range noise {
		noise[i] = float32(0.1 * rng.NormFloat64())
	}
	short, _ := voiceSpec{seconds: 0.6, f0: voiceIntonation(120, 1), jitter: 0.03, shimmer: 0.05, seed: 1}.render(media.VoiceRate)
	for _, tc := range []struct {
		name    string
		samples []float32
	}{
		{"silence", make([]float32, media.VoiceRate*5)},
		{"white noise", noise},
		{"too little speech", append(short, make([]float32, media.VoiceRate*4)...)},
		{"very short", make([]float32, 100)},
		{"nothing", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range voiceDetectors(t) {
				r := voiceRun(t, d, tc.samples)
				voiceWellFormed(t, r, d.Name())
				require.Nil(t, r.Summary, "%s measured %s", d.Name(), tc.name)
				require.NotEmpty(t, r.NotMeasurable)
				require.Empty(t, r.Windows)
			}
		})
	}
}

func TestVoiceDetectorsEdgeCases(t *testing.T) {
	// A loud, clipped, intonated voice: every detector measures it and
	// keeps its contract; a wrong sample rate is an error, not a panic.
	x, _ := voiceSpec{seconds: 8, f0: voiceIntonation(140, 2), jitter: 0.03, shimmer: 0.08, amp: 1.5, noise: 0.003, seed: 2,
		formants: []float64{550, 1600, 2600}, bandwidths: []float64{80, 100, 140}}.render(media.VoiceRate)
	for _, d := range voiceDetectors(t) {
		r := voiceRun(t, d, x)
		voiceWellFormed(t, r, d.Name())
		require.NotNil(t, r.Summary, "%s: %s", d.Name(), r.NotMeasurable)
		require.NotEmpty(t, r.Windows, d.Name())
		err := d.ObserveAudio(media.Chunk{Rate: 48000, Samples: make([]float32, 4800)})
		require.ErrorIs(t, err, ErrVoiceRate, d.Name())
	}
}
