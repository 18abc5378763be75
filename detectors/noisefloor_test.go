package detectors

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// The same 48-kHz voice with a continuous room-noise floor, and gated to
// digital silence between words (a noise gate or a synthesiser).
func TestNoiseFloorSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name       string
		v          chVoice
		minS, maxS float64
		digital    float64 // minimum digital-silence fraction
	}{
		{"continuous floor -55 dBFS", chVoice{Rate: 48000, Seconds: 8, NoiseDB: -55, Jitter: 0.01, BreathDB: -20, Seed: 5}, 0, 0.1, 0},
		{"continuous floor -65 dBFS", chVoice{Rate: 48000, Seconds: 8, NoiseDB: -65, Jitter: 0.01, BreathDB: -20, Seed: 6}, 0, 0.2, 0},
		{"gated", chVoice{Rate: 48000, Seconds: 8, Gated: true, Jitter: 0.01, BreathDB: -20, Seed: 5}, 0.9, 1, 0.5},
		// Long digital silence before and after the speech must not count:
		// only pauses between words do.
		{"continuous floor with silent lead-in and tail", chVoice{Rate: 48000, Seconds: 8, NoiseDB: -55, Jitter: 0.01, BreathDB: -20, Lead: 3, Seed: 5}, 0, 0.1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chRun(t, NewNoiseFloor(), chVoiceFile(t, tc.v))
			chRequireWellFormed(t, r, NoiseFloorSignal)
			require.GreaterOrEqual(t, r.Summary.Score, tc.minS, r.Summary.Explanation)
			require.LessOrEqual(t, r.Summary.Score, tc.maxS, r.Summary.Explanation)
			require.GreaterOrEqual(t, summaryValue(t, r, "digital_silence_fraction"), tc.digital)
			require.GreaterOrEqual(t, summaryValue(t, r, "pauses"), 4.0)
			if !tc.v.Gated {
				// White noise at 48 kHz keeps a third of its power in the
				// 16-kHz voice stream: −4.8 dB.
				require.InDelta(t, tc.v.NoiseDB-4.8, summaryValue(t, r, "pause_level"), 2, "the pause level is the room noise")
				require.Zero(t, summaryValue(t, r, "digital_silence_fraction"))
			}
		})
	}
}

// The score must not depend on how long the pauses are, only on how quiet.
func TestNoiseFloorPauseLengthDoesNotDecide(t *testing.T) {
	const rate = media.VoiceRate
	mk := func(gap float64) []float64 {
		var x []float64
		rngState := uint32(1)
		noise := func() float64 {
			rngState = rngState*1664525 + 1013904223
			return (float64(rngState)/math.MaxUint32 - 0.5) * 2 * 0.003 // ≈ −55 dBFS
		}
		for w := 0; w < 8; w++ {
			for i := 0; i < int(0.3*rate); i++ {
				env := math.Sin(math.Pi * float64(i) / (0.3 * rate))
				x = append(x, 0.3*env*math.Sin(2*math.Pi*220*float64(i)/rate)+noise())
			}
			for i := 0; i < int(gap*rate); i++ {
				x = append(x, noise())
			}
		}
		return x
	}
	var scores []float64
	for _, gap := range []float64{0.35, 1.5} {
		d := NewNoiseFloor()
		chFeed(t, d, rate, mk(gap))
		r := d.Finish()
		require.True(t, r.Measured(), r.NotMeasurable)
		scores = append(scores, r.Summary.Score)
	}
	require.InDelta(t, scores[0], scores[1], 0.05)
}

func TestNoiseFloorNotMeasurable(t *testing.T) {
	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4", "-c:a", "pcm_s16le", silence)
	for _, tc := range []struct{ name, path, reason string }{
		{"silence", silence, "no speech"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chRun(t, NewNoiseFloor(), tc.path)
			require.False(t, r.Measured())
			require.Contains(t, r.NotMeasurable, tc.reason)
		})
	}
	require.Contains(t, NewNoiseFloor().Finish().NotMeasurable, "no audio")

	// One utterance in room noise: speech, but no pause between words
	// (the silence before and after it does not count).
	const rate = media.VoiceRate
	x := make([]float64, 3*rate)
	for i := range x {
		x[i] = 0.002 * math.Sin(float64(i)*1.7) * math.Sin(float64(i)*0.37)
		if i >= rate/2 && i < 5*rate/2 {
			x[i] += 0.3 * math.Sin(math.Pi*float64(i-rate/2)/(2*rate)) * math.Sin(2*math.Pi*180*float64(i)/rate)
		}
	}
	d := NewNoiseFloor()
	chFeed(t, d, rate, x)
	r := d.Finish()
	require.False(t, r.Measured())
	require.Contains(t, r.NotMeasurable, "too few pauses")
}

// Dev direction: synthetic speech with gated pauses vs a genuine reading.
func TestNoiseFloorCorpusDirection(t *testing.T) {
	tts := testutil.CorpusFile(t, "tts-espeak", "espeak-ng -v en-us")
	gen := testutil.CorpusFile(t, "genuine", "1034-121119")
	rt, rg := chRun(t, NewNoiseFloor(), tts), chRun(t, NewNoiseFloor(), gen)
	require.True(t, rt.Measured(), rt.NotMeasurable)
	require.True(t, rg.Measured(), rg.NotMeasurable)
	require.Greater(t, rt.Summary.Score, rg.Summary.Score+0.5, "%s / %s", rt.Summary.Explanation, rg.Summary.Explanation)
}

func BenchmarkNoiseFloor(b *testing.B) {
	x := chVoice{Rate: media.VoiceRate, Seconds: 10, NoiseDB: -55, Jitter: 0.01, BreathDB: -20, Seed: 4}.samples()
	chBench(b, func() AudioDetector { return NewNoiseFloor() }, media.VoiceRate, x)
}
