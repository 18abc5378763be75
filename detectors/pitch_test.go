package detectors

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/media"
)

// voicePitchFrames runs a PitchTracker over samples and returns its frames
// (without their Span).
func voicePitchFrames(t testing.TB, samples []float32) []PitchFrame {
	t.Helper()
	pt, err := NewPitchTracker(media.VoiceRate, PitchConfig{})
	require.NoError(t, err)
	var out []PitchFrame
	step := media.VoiceRate / 10
	for i := 0; i < len(samples); i += step {
		j := min(len(samples), i+step)
		c := media.Chunk{Start: time.Duration(float64(i) / media.VoiceRate * float64(time.Second)), Rate: media.VoiceRate, Samples: samples[i:j]}
		require.NoError(t, pt.Push(c, func(f PitchFrame) {
			f.Span = nil
			out = append(out, f)
		}))
	}
	return out
}

func TestPitchTrackerF0(t *testing.T) {
	for _, f0 := range []float64{90, 120, 220, 350} {
		t.Run("", func(t *testing.T) {
			x, _ := voiceSpec{seconds: 1, f0: voiceConst(f0), seed: 1}.render(media.VoiceRate)
			frames := voicePitchFrames(t, x)
			require.Greater(t, len(frames), 90)
			for _, f := range frames {
				require.True(t, f.Voiced, "frame %d at %.0f Hz", f.Index, f0)
				require.InDelta(t, f0, f.F0, 0.02*f0, "frame %d", f.Index)
				require.Less(t, f.Aperiodicity, 0.05)
			}
			// Frame times advance by the hop from the first frame's centre.
			require.InDelta(t, 0.01, frames[1].Time-frames[0].Time, 1e-9)
		})
	}
}

func TestPitchTrackerFollowsGlide(t *testing.T) {
	// 100 → 200 Hz over 2 s: every voiced frame within 2 % of the contour.
	f0 := func(t float64) float64 { return 100 * math.Pow(2, t/2) }
	x, _ := voiceSpec{seconds: 2, f0: f0, seed: 2}.render(media.VoiceRate)
	frames := voicePitchFrames(t, x)
	voiced := 0
	for _, f := range frames {
		if f.Voiced {
			voiced++
			require.InDelta(t, f0(f.Time), f.F0, 0.02*f0(f.Time), "t=%.2f", f.Time)
		}
	}
	require.Greater(t, voiced, len(frames)*9/10)
}

func TestPitchTrackerUnvoiced(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	noise := make([]float32, media.VoiceRate*2)
	for i := range noise {
		noise[i] = float32(0.2 * rng.NormFloat64())
	}
	for _, tc := range []struct {
		name    string
		samples []float32
		maxFrac float64
	}{
		{"all zero", make([]float32, media.VoiceRate), 0},
		{"white noise", noise, 0.03},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := voicePitchFrames(t, tc.samples)
			require.NotEmpty(t, frames)
			n := 0
			for _, f := range frames {
				if f.Voiced {
					n++
				}
			}
			require.LessOrEqual(t, float64(n), tc.maxFrac*float64(len(frames)))
		})
	}
	// Shorter than one analysis span: no frame at all.
	require.Empty(t, voicePitchFrames(t, make([]float32, 300)))
}

func TestPitchTrackerClipping(t *testing.T) {
	x, _ := voiceSpec{seconds: 1, f0: voiceConst(150), amp: 2, seed: 3}.render(media.VoiceRate)
	clipped := 0
	for _, v := range x {
		if v == 1 || v == -1 {
			clipped++
		}
	}
	require.Greater(t, clipped, len(x)/50, "the fixture must actually clip")
	for _, f := range voicePitchFrames(t, x) {
		require.True(t, f.Voiced)
		require.InDelta(t, 150, f.F0, 3)
	}
}

func TestPitchTrackerHNR(t *testing.T) {
	for _, snr := range []float64{10, 20} {
		x, _ := voiceSpec{seconds: 2, f0: voiceConst(130), seed: 4}.render(media.VoiceRate)
		var p float64
		for _, v := range x {
			p += float64(v) * float64(v)
		}
		noise := math.Sqrt(p/float64(len(x))) * math.Pow(10, -snr/20)
		rng := rand.New(rand.NewPCG(9, 9))
		for i := range x {
			x[i] += float32(noise * rng.NormFloat64())
		}
		var h []float64
		for _, f := range voicePitchFrames(t, x) {
			require.True(t, f.Voiced)
			h = append(h, f.HNR())
		}
		sort.Float64s(h)
		require.InDelta(t, snr, h[len(h)/2], 2.5, "median HNR at SNR %.0f dB", snr)
	}
}

func TestPitchTrackerErrors(t *testing.T) {
	for _, cfg := range []PitchConfig{
		{MinF0: 300, MaxF0: 200},
		{MaxF0: 5000},
		{WindowSeconds: 0.001},
	} {
		_, err := NewPitchTracker(media.VoiceRate, cfg)
		require.True(t, errors.Is(err, ErrPitchConfig), "%+v: %v", cfg, err)
	}
	_, err := NewPitchTracker(0, PitchConfig{})
	require.ErrorIs(t, err, ErrPitchConfig)
	pt, err := NewPitchTracker(media.VoiceRate, PitchConfig{})
	require.NoError(t, err)
	err = pt.Push(media.Chunk{Rate: 48000, Samples: make([]float32, 4800)}, func(PitchFrame) {})
	require.ErrorIs(t, err, ErrVoiceRate)
}

func TestVoicePulsesJitterShimmer(t *testing.T) {
	// Per-cycle SDs chosen so that the local jitter of the synthesised
	// peaks is about 1 % and 3 % (the synthesiser reports the exact value).
	for _, tc := range []struct {
		f0, jit, shim, wantJ float64
	}{
		{120, 0.0173, 0.03, 1}, {120, 0.052, 0.08, 3}, {220, 0.0173, 0.03, 1}, {220, 0.052, 0.08, 3},
	} {
		x, truth := voiceSpec{seconds: 3, f0: voiceConst(tc.f0), jitter: tc.jit, shimmer: tc.shim, seed: 7}.render(media.VoiceRate)
		require.InDelta(t, tc.wantJ, truth.jitter, 0.2*tc.wantJ, "fixture jitter")
		pt, err := NewPitchTracker(media.VoiceRate, PitchConfig{})
		require.NoError(t, err)
		pul := newVoicePulses(media.VoiceRate, 0)
		acc := newMPAcc()
		step := media.VoiceRate / 10
		for i := 0; i < len(x); i += step {
			c := media.Chunk{Rate: media.VoiceRate, Samples: x[i:min(len(x), i+step)]}
			pul.push(c.Samples)
			require.NoError(t, pt.Push(c, func(f PitchFrame) { pul.frame(f, 160, acc.cycle) }))
		}
		m, ok := acc.measure(100)
		require.True(t, ok)
		// Cycles counted: most of the 3 s.
		require.Greater(t, m.pairs, 3*tc.f0*0.8)
		require.InDelta(t, truth.jitter, m.jitter, 0.1*truth.jitter+0.05, "jitter at %.0f Hz", tc.f0)
		require.InDelta(t, truth.shimmer, m.shimmer, 0.1*truth.shimmer+0.1, "shimmer at %.0f Hz", tc.f0)
	}
}

func TestVoiceHistQuantile(t *testing.T) {
	h := newVoiceHist(0, 100, 0.1)
	require.True(t, math.IsNaN(h.quantile(0.5)))
	for i := 0; i < 1000; i++ {
		h.add(float64(i) / 10)
	}
	h.add(math.NaN())
	require.Equal(t, 1000.0, h.count())
	require.InDelta(t, 50, h.quantile(0.5), 0.15)
	require.InDelta(t, 10, h.quantile(0.1), 0.15)
	// 10–90 % range of a uniform 0–100 spread is 80; robustSD scales it.
	require.InDelta(t, 80/2.563, h.robustSD(), 0.2)
	h.reset()
	require.Zero(t, h.count())
}
