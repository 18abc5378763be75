package detectors

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// The residual of a noise-excited spectrum is the reference the score is
// centred on: it must sit just above envelopeMid.
func TestEnvelopeWhiteNoise(t *testing.T) {
	d := NewEnvelope()
	st := newChSTFT(envelopeN, envelopeN/2)
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 20*envelopeN)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	var sum float64
	n := 0
	st.push(x, func(f chFrame) {
		rl, rh, okL, okH := d.roughness(f.Power)
		require.True(t, okL)
		require.True(t, okH)
		sum += (rl + rh) / 2
		n++
	})
	ref := sum / float64(n)
	t.Logf("white-noise residual roughness %.2f dB over %d frames", ref, n)
	require.InDelta(t, envelopeMid, ref, 0.15)
}

// Known answers at both ends of the scale: a voice with resolved
// harmonics (deep valleys between them) is far rougher than noise and
// reads as natural; a spectrum with no fine structure at all (what an
// over-smoothed vocoder would produce) reads as synthetic.
func TestEnvelopeSynthetic(t *testing.T) {
	voiced := chRun(t, NewEnvelope(), chVoiceFile(t, chVoice{Rate: 48000, Seconds: 8, NoiseDB: -70, Jitter: 0.005, Seed: 7}))
	chRequireWellFormed(t, voiced, EnvelopeSignal)
	require.Greater(t, summaryValue(t, voiced, "residual_roughness"), envelopeMid+1.5)
	require.Less(t, voiced.Summary.Score, 0.1, voiced.Summary.Explanation)
	require.Less(t, summaryValue(t, voiced, "spectral_tilt"), 0.0)

	d := NewEnvelope()
	p := make([]float64, envelopeN/2+1)
	for k := range p {
		f := float64(k) * envelopeBinHz
		// Formant-like smooth envelope with a 1-dB ripple.
		p[k] = (1/(1+math.Pow((f-600)/150, 2)) + 0.3/(1+math.Pow((f-1800)/250, 2)) + 0.01) * (1 + 0.1*math.Sin(float64(k)))
	}
	rl, rh, okL, okH := d.roughness(p)
	require.True(t, okL)
	require.True(t, okH)
	require.Less(t, (rl+rh)/2, 1.0)
	require.Greater(t, envelopeScore((rl+rh)/2), 0.9)
}

// A narrowband channel leaves 4–8 kHz empty: that band must be skipped,
// not read as an unnaturally smooth residual.
func TestEnvelopeNarrowbandChannel(t *testing.T) {
	src := chVoiceFile(t, chVoice{Rate: 48000, Seconds: 8, NoiseDB: -70, Jitter: 0.03, BreathDB: -6, Seed: 8})
	nb := filepath.Join(t.TempDir(), "nb.wav")
	testutil.FFmpeg(t, "-i", src, "-af", "aresample=8000,aresample=48000", "-ar", "48000", "-c:a", "pcm_s16le", nb)
	wide, narrow := chRun(t, NewEnvelope(), src), chRun(t, NewEnvelope(), nb)
	require.True(t, narrow.Measured(), narrow.NotMeasurable)
	for _, m := range narrow.Summary.Values {
		require.NotEqual(t, "residual_high_band", m.Name, "the empty band was used")
	}
	require.InDelta(t, wide.Summary.Score, narrow.Summary.Score, 0.3)
}

func TestEnvelopeNotMeasurable(t *testing.T) {
	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4", "-c:a", "pcm_s16le", silence)
	// Bursts of white noise: "speech" for the VAD, but nothing voiced.
	hiss := filepath.Join(dir, "hiss.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "anoisesrc=r=48000:a=0.3:d=4:seed=3", "-af", "tremolo=f=2:d=1", "-c:a", "pcm_s16le", hiss)
	for _, tc := range []struct{ name, path, reason string }{
		{"silence", silence, "no voiced speech"},
		{"unvoiced only", hiss, "no voiced speech"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chRun(t, NewEnvelope(), tc.path)
			require.False(t, r.Measured())
			require.Contains(t, r.NotMeasurable, tc.reason)
		})
	}
	require.Contains(t, NewEnvelope().Finish().NotMeasurable, "no audio")
}

// Dev direction: synthetic voices vs genuine speech.
func TestEnvelopeCorpusDirection(t *testing.T) {
	gen := chRun(t, NewEnvelope(), testutil.CorpusFile(t, "genuine", "jfk.wav"))
	for _, tc := range []struct{ kind, source string }{
		{"tts-espeak", "espeak-ng -v en-us"},
		{"tts-flite", "flite -voice rms"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			r := chRun(t, NewEnvelope(), testutil.CorpusFile(t, tc.kind, tc.source))
			require.Greater(t, r.Summary.Score, gen.Summary.Score+0.4, "%s / %s", r.Summary.Explanation, gen.Summary.Explanation)
		})
	}
}

func BenchmarkEnvelope(b *testing.B) {
	x := chVoice{Rate: media.VoiceRate, Seconds: 10, NoiseDB: -55, Jitter: 0.01, BreathDB: -20, Seed: 4}.samples()
	chBench(b, func() AudioDetector { return NewEnvelope() }, media.VoiceRate, x)
}
