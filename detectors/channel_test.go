package detectors

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// chVoice describes a synthetic speech-like test signal: "syllables" of a
// glottal pulse train with jitter through three formant resonators, plus
// breath noise, separated by pauses, over a background noise.
type chVoice struct {
	Rate     int
	Seconds  float64
	NoiseDB  float64 // continuous background noise, dBFS (ignored when Gated)
	Gated    bool    // background only while a syllable sounds, zeros between
	Jitter   float64 // relative period jitter (natural voices: ~0.01)
	BreathDB float64 // breath noise relative to the pulses, dB; 0 = none
	Lead     float64 // digital silence before the first and after the last syllable, s
	Seed     uint64
}

// samples renders the signal in [-1, 1].
func (v chVoice) samples() []float64 {
	rng := rand.New(rand.NewPCG(v.Seed, 7))
	n := int(v.Seconds * float64(v.Rate))
	lead := int(v.Lead * float64(v.Rate))
	out := make([]float64, n+2*lead)
	fs := float64(v.Rate)
	type reson struct{ a1, a2, y1, y2 float64 }
	mk := func(f, bw float64) reson {
		r := math.Exp(-math.Pi * bw / fs)
		return reson{a1: 2 * r * math.Cos(2*math.Pi*f/fs), a2: -r * r}
	}
	res := []reson{mk(600, 80), mk(1500, 100), mk(2600, 140)}
	noiseAmp := math.Pow(10, v.NoiseDB/20)
	breath := 0.0
	if v.BreathDB != 0 {
		breath = math.Pow(10, v.BreathDB/20)
	}
	syl := int(0.26 * fs)
	gaps := []float64{0.12, 0.18, 0.35, 0.14, 0.5}
	pos, gi, nextPulse := 0, 0, 0.0
	f0 := 130.0
	for pos < n {
		end := min(n, pos+syl)
		for i := pos; i < end; i++ {
			x := 0.0
			if float64(i) >= nextPulse {
				x = 1
				period := fs / (f0 * (1 + 0.15*math.Sin(float64(i)/fs*2)))
				nextPulse += period * (1 + v.Jitter*rng.NormFloat64())
			}
			env := math.Sin(math.Pi * float64(i-pos) / float64(end-pos))
			x += breath * 0.3 * rng.NormFloat64()
			y := 0.0
			for k := range res {
				r := &res[k]
				o := x + r.a1*r.y1 + r.a2*r.y2
				r.y2, r.y1 = r.y1, o
				y += o
			}
			out[lead+i] = 0.02 * env * y
		}
		pos = end + int(gaps[gi%len(gaps)]*fs)
		nextPulse = float64(pos)
		gi++
	}
	peak := 0.0
	for _, s := range out {
		peak = math.Max(peak, math.Abs(s))
	}
	for i := range out {
		out[i] *= 0.5 / peak
	}
	if v.Gated || noiseAmp == 0 {
		return out
	}
	for i := lead; i < lead+n; i++ {
		out[i] += noiseAmp * rng.NormFloat64()
	}
	return out
}

// chWriteWAV writes mono 16-bit PCM with go-audio/wav.
func chWriteWAV(t testing.TB, path string, rate int, x []float64) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	enc := wav.NewEncoder(f, rate, 16, 1, 1)
	buf := &audio.IntBuffer{Format: &audio.Format{NumChannels: 1, SampleRate: rate}, SourceBitDepth: 16, Data: make([]int, len(x))}
	for i, v := range x {
		buf.Data[i] = int(math.Round(math.Max(-1, math.Min(1, v)) * 32767))
	}
	require.NoError(t, enc.Write(buf))
	require.NoError(t, enc.Close())
	require.NoError(t, f.Close())
}

// chVoiceFile renders v to a WAV in a temporary folder.
func chVoiceFile(t testing.TB, v chVoice) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "voice.wav")
	chWriteWAV(t, p, v.Rate, v.samples())
	return p
}

// chRun decodes path through the media package at d.Rate(), feeds d and
// returns its result.
func chRun(t testing.TB, d AudioDetector, path string) Result {
	t.Helper()
	ctx := context.Background()
	info, err := media.Tools{}.Probe(ctx, path)
	require.NoError(t, err)
	ar, err := media.Tools{}.OpenAudio(ctx, info, media.AudioOptions{SampleRate: d.Rate()})
	require.NoError(t, err)
	defer ar.Close()
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.NoError(t, d.ObserveAudio(c))
	}
	r := d.Finish()
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close is idempotent")
	return r
}

// chFeed feeds d the samples x (at rate) in 100-ms chunks.
func chFeed(t testing.TB, d AudioDetector, rate int, x []float64) {
	t.Helper()
	chunk := rate / 10
	buf := make([]float32, chunk)
	for i := 0; i < len(x); i += chunk {
		n := min(chunk, len(x)-i)
		for j := 0; j < n; j++ {
			buf[j] = float32(x[i+j])
		}
		start := time.Duration(float64(i) / float64(rate) * float64(time.Second))
		require.NoError(t, d.ObserveAudio(media.Chunk{Start: start, Rate: rate, Samples: buf[:n]}))
	}
}

// chRequireWellFormed checks the Result contract every channel detector
// keeps.
func chRequireWellFormed(t testing.TB, r Result, signal string) {
	t.Helper()
	require.Equal(t, signal, r.Signal)
	require.Equal(t, Audio, r.Modality)
	require.NotNil(t, r.Summary, "not measured: %s", r.NotMeasurable)
	for _, f := range append([]Finding{*r.Summary}, r.Windows...) {
		require.Equal(t, signal, f.Signal)
		require.GreaterOrEqual(t, f.Score, 0.0)
		require.LessOrEqual(t, f.Score, 1.0)
		require.GreaterOrEqual(t, f.Confidence, 0.0)
		require.LessOrEqual(t, f.Confidence, 1.0)
		require.NotEmpty(t, f.Explanation)
		require.NotEmpty(t, f.Values)
		require.Less(t, f.Start, f.End)
	}
}

// chCorpusPair returns a manipulated dev item of kind and the genuine item
// whose source contains genuineSource (the manipulated item's source
// contains manipSource).
func chCorpusPair(t testing.TB, kind, manipSource, genuineSource string) (manip, genuine string) {
	t.Helper()
	return testutil.CorpusFile(t, kind, manipSource), testutil.CorpusFile(t, "genuine", genuineSource)
}

// chBench runs d (fresh from mk) over x and reports the process CPU time
// per second of audio, which on a shared machine is steadier than the
// wall time.
func chBench(b *testing.B, mk func() AudioDetector, rate int, x []float64) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	audioSec := float64(len(x)) / float64(rate)
	b.ResetTimer()
	c0 := cpu()
	for b.Loop() {
		d := mk()
		chFeed(b, d, rate, x)
		_ = d.Finish()
	}
	b.ReportMetric(float64((cpu()-c0).Microseconds())/1000/float64(b.N)/audioSec, "cpu-ms/audio-s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N)/audioSec, "wall-ms/audio-s")
}

func TestChannelRegistered(t *testing.T) {
	s := &Set{}
	require.NoError(t, registerChannel(Config{}, s))
	var names []string
	for _, d := range s.Audio {
		names = append(names, d.Name())
	}
	require.ElementsMatch(t, []string{BandLimitSignal, NoiseFloorSignal, EnvelopeSignal}, names)
	for _, d := range s.Audio {
		require.True(t, strings.HasPrefix(d.Name(), "audio."))
	}
}

func TestChannelHistQuantile(t *testing.T) {
	var h chHist
	require.True(t, math.IsNaN(h.quantile(0.5)))
	for _, v := range []float64{-20, -30, -40, -200, -50} {
		h.add(v)
	}
	require.Equal(t, -40.0, h.quantile(0.5))
	require.Equal(t, chFloorDB, h.quantile(0.1), "digital silence is clamped to the floor")
	require.Equal(t, -20.0, h.quantile(1))
}

func TestChannelSTFTSine(t *testing.T) {
	const rate, n = 48000, 2048
	st := newChSTFT(n, n/2)
	x := make([]float32, rate)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*3000*float64(i)/rate))
	}
	frames := 0
	st.push(x, func(f chFrame) {
		frames++
		best := 0
		for k := range f.Power {
			if f.Power[k] > f.Power[best] {
				best = k
			}
		}
		require.InDelta(t, 3000, float64(best)*rate/n, rate/n)
		require.InDelta(t, 20*math.Log10(0.5/math.Sqrt2), f.RMSdB, 0.1)
	})
	require.Equal(t, (rate-n)/(n/2)+1, frames)
}
