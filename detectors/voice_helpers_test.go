package detectors

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// voiceSpec describes a synthetic voice: a train of glottal-like cycles
// (harmonic k at amplitude 0.8^k, cosine phase, so each cycle has one sharp
// peak in its middle) whose period follows an F0 contour, with optional
// per-cycle jitter and shimmer and noise. With formants, the cycles are
// broadband pulses with a glottal tilt through vocal-tract resonances (a
// vowel), scaled to a peak of amp.
type voiceSpec struct {
	seconds float64
	// f0 gives the F0 in Hz at time t; ≤ 0 means unvoiced there.
	f0 func(t float64) float64
	// jitter and shimmer are per-cycle relative standard deviations of the
	// period and the amplitude.
	jitter, shimmer float64
	amp             float64 // peak level of a cycle before resonances (default 0.3)
	noise           float64 // RMS of white noise added everywhere
	// formants (Hz) and their bandwidths filter the cycles, like a vowel.
	formants, bandwidths []float64
	seed                 uint64
}

// voiceTruth is what the synthesiser made: local jitter and shimmer (%) of
// the cycle peaks.
type voiceTruth struct{ jitter, shimmer float64 }

func (s voiceSpec) render(rate int) ([]float32, voiceTruth) {
	rng := rand.New(rand.NewPCG(s.seed, 7))
	amp := s.amp
	if amp == 0 {
		amp = 0.3
	}
	n := int(s.seconds * float64(rate))
	x := make([]float64, 0, n+rate/10)
	var peaks, amps []float64
	var truth voiceTruth
	var dT, sT, dA, sA float64
	flushRun := func() {
		for i := 2; i < len(peaks); i++ {
			dT += math.Abs(peaks[i] - 2*peaks[i-1] + peaks[i-2])
			sT += peaks[i] - peaks[i-1]
		}
		for i := 1; i < len(amps); i++ {
			dA += math.Abs(amps[i] - amps[i-1])
			sA += amps[i]
		}
		peaks, amps = peaks[:0], amps[:0]
	}
	t := 0.0 // start of the next cycle, fractional samples
	for len(x) < n {
		f := s.f0(t / float64(rate))
		if f <= 0 {
			flushRun()
			end := t + 0.01*float64(rate)
			for i := len(x); float64(i) < end; i++ {
				x = append(x, 0)
			}
			t = end
			continue
		}
		T := float64(rate) / f * (1 + s.jitter*rng.NormFloat64())
		A := amp * (1 + s.shimmer*rng.NormFloat64())
		peaks = append(peaks, t+T/2)
		amps = append(amps, A)
		end := t + T
		for i := len(x); float64(i) < end; i++ {
			if len(s.formants) > 0 {
				// Broadband excitation for vowels: one pulse per cycle.
				v := 0.0
				if i == int(math.Round(t+T/2)) {
					v = A
				}
				x = append(x, v)
				continue
			}
			ph := 2*math.Pi*(float64(i)-t)/T - math.Pi
			var v float64
			for k := 1; k <= 12; k++ {
				v += math.Pow(0.8, float64(k)) * math.Cos(float64(k)*ph)
			}
			x = append(x, A*v/3)
		}
		t = end
	}
	flushRun()
	if sT > 0 {
		truth.jitter = 100 * dT / sT
	}
	if sA > 0 {
		truth.shimmer = 100 * dA / sA
	}
	x = x[:n]
	if len(s.formants) > 0 {
		// Glottal spectral tilt (−6 dB/octave above 160 Hz), the vocal
		// tract's resonances, then the level back to amp.
		var y float64
		for i, v := range x {
			y = v + 0.94*y
			x[i] = y
		}
		for i, fr := range s.formants {
			x = voiceResonate(x, fr, s.bandwidths[i], float64(rate))
		}
		var peak float64
		for _, v := range x {
			peak = math.Max(peak, math.Abs(v))
		}
		if peak > 0 {
			for i := range x {
				x[i] *= amp / peak
			}
		}
	}
	out := make([]float32, n)
	for i, v := range x {
		if s.noise > 0 {
			v += s.noise * rng.NormFloat64()
		}
		out[i] = float32(max(-1, min(1, v)))
	}
	return out, truth
}

// voiceResonate filters x through a two-pole resonator at f Hz with
// bandwidth b Hz, normalised to unit gain at f.
func voiceResonate(x []float64, f, b, rate float64) []float64 {
	r := math.Exp(-math.Pi * b / rate)
	th := 2 * math.Pi * f / rate
	a1, a2 := 2*r*math.Cos(th), -r*r
	// Gain at the resonance frequency.
	z := complex(math.Cos(th), math.Sin(th))
	den := 1 - complex(a1, 0)/z - complex(a2, 0)/(z*z)
	g := math.Hypot(real(den), imag(den))
	out := make([]float64, len(x))
	var y1, y2 float64
	for i, v := range x {
		y := g*v + a1*y1 + a2*y2
		out[i] = y
		y2, y1 = y1, y
	}
	return out
}

// voiceConst returns a constant F0 contour.
func voiceConst(f float64) func(float64) float64 { return func(float64) float64 { return f } }

// voiceIntonation is a speech-like F0 contour: syllables of 120–250 ms,
// 40 % of them followed by a pause of 40–120 ms, each with its own curved
// pitch movement (continuous within a word) around a slowly declining
// baseline, spanning about ±4 semitones.
func voiceIntonation(base float64, seed uint64) func(float64) float64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	type syl struct{ start, end, st0, st1, bend float64 }
	var syls []syl
	st := 0.0
	for t := 0.0; t < 120; {
		d := 0.12 + 0.13*rng.Float64()
		next := max(-6, min(6, st+3*rng.NormFloat64()))
		syls = append(syls, syl{t, t + d, st, next, 2 * rng.NormFloat64()})
		st = next
		t += d
		if rng.Float64() < 0.4 { // a pause between words
			t += 0.04 + 0.08*rng.Float64()
			st = 4 * rng.NormFloat64()
		}
	}
	return func(t float64) float64 {
		for _, s := range syls {
			if t >= s.start && t < s.end {
				u := (t - s.start) / (s.end - s.start)
				st := s.st0 + (s.st1-s.st0)*u + s.bend*4*u*(1-u) - 0.3*t
				return base * math.Pow(2, st/12)
			}
			if s.start > t {
				break
			}
		}
		return 0
	}
}

// voiceRun feeds samples to d in 100-ms chunks, finishes it and closes it
// twice (Close must be idempotent).
func voiceRun(t testing.TB, d AudioDetector, samples []float32) Result {
	t.Helper()
	require.Equal(t, media.VoiceRate, d.Rate())
	step := media.VoiceRate / 10
	for i := 0; i < len(samples); i += step {
		j := min(len(samples), i+step)
		c := media.Chunk{Start: time.Duration(float64(i) / media.VoiceRate * float64(time.Second)), Rate: media.VoiceRate, Samples: samples[i:j]}
		require.NoError(t, d.ObserveAudio(c))
	}
	r := d.Finish()
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())
	return r
}

// voiceDecode decodes a media file's audio to the 16 kHz voice stream.
func voiceDecode(t testing.TB, path string) []float32 {
	t.Helper()
	tools := media.Tools{}
	info, err := tools.Probe(context.Background(), path)
	require.NoError(t, err)
	ar, err := tools.OpenAudio(context.Background(), info, media.AudioOptions{SampleRate: media.VoiceRate})
	require.NoError(t, err)
	defer ar.Close()
	var out []float32
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, c.Samples...)
	}
}

// voiceCorpusAudio returns the decoded audio of the dev corpus audio item of
// kind whose source contains sourcePart.
func voiceCorpusAudio(t testing.TB, kind, sourcePart string) []float32 {
	t.Helper()
	return voiceDecode(t, testutil.CorpusFile(t, kind, sourcePart))
}

// voiceCorpusKind returns the paths of the audio items of a kind, in
// manifest order.
func voiceCorpusKind(t testing.TB, kind string) []string {
	t.Helper()
	var out []string
	for _, it := range testutil.Corpus(t) {
		if it.Modality == "audio" && it.Kind == kind {
			out = append(out, it.Path)
		}
	}
	require.NotEmpty(t, out, "no audio items of kind %s", kind)
	return out
}

// voiceSox runs sox in → out (a WAV in a temporary folder) with effects.
func voiceSox(t testing.TB, in string, effects ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sox.wav")
	args := append([]string{in, out}, effects...)
	b, err := exec.Command("sox", args...).CombinedOutput()
	require.NoError(t, err, "sox %s: %s", strings.Join(args, " "), b)
	return out
}

// voiceWellFormed checks the contract every voice Result keeps.
func voiceWellFormed(t testing.TB, r Result, signal string) {
	t.Helper()
	require.Equal(t, signal, r.Signal)
	require.Equal(t, Audio, r.Modality)
	if r.Summary == nil {
		require.NotEmpty(t, r.NotMeasurable)
		return
	}
	require.Empty(t, r.NotMeasurable)
	for _, f := range append([]Finding{*r.Summary}, r.Windows...) {
		require.Equal(t, signal, f.Signal)
		require.Equal(t, Audio, f.Modality)
		require.GreaterOrEqual(t, f.Score, 0.0)
		require.LessOrEqual(t, f.Score, 1.0)
		require.GreaterOrEqual(t, f.Confidence, 0.0)
		require.LessOrEqual(t, f.Confidence, 1.0)
		require.Less(t, f.Start, f.End)
		require.NotEmpty(t, f.Explanation)
		require.NotEmpty(t, f.Values)
		for _, m := range f.Values {
			require.False(t, math.IsNaN(m.Value) || math.IsInf(m.Value, 0), "%s = %v", m.Name, m.Value)
		}
	}
	for _, w := range r.Windows {
		require.LessOrEqual(t, w.End-w.Start, WindowSeconds+1e-9)
	}
}

// voiceDetectors returns one fresh instance of each voice detector.
func voiceDetectors(t testing.TB) []AudioDetector {
	t.Helper()
	pf, err := NewPitchFormant()
	require.NoError(t, err)
	mp, err := NewMicroProsody()
	require.NoError(t, err)
	sp, err := NewSynthProsody()
	require.NoError(t, err)
	return []AudioDetector{pf, mp, sp}
}
