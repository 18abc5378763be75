package detectors

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/media"
)

func TestMicroProsodySynthetic(t *testing.T) {
	// The same intonated voice with perfectly regular cycles, with human
	// amounts of jitter and shimmer, and with far too much jitter.
	for _, tc := range []struct {
		name            string
		jitter, shimmer float64
		minScore        float64
		maxScore        float64
	}{
		{"regular", 0, 0, 0.9, 1},
		{"human", 0.05, 0.12, 0, 0.2},
		{"rough", 0.07, 0.15, 0, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, truth := voiceSpec{seconds: 8, f0: voiceIntonation(130, 3), jitter: tc.jitter, shimmer: tc.shimmer, noise: 0.002, seed: 3}.render(media.VoiceRate)
			d, err := NewMicroProsody()
			require.NoError(t, err)
			r := voiceRun(t, d, x)
			voiceWellFormed(t, r, MicroProsodySignal)
			j := summaryValue(t, r, "jitter_local")
			t.Logf("jitter: synthesised %.2f%%, measured %.2f%%; shimmer %.2f%% / %.2f%%; score %.2f", truth.jitter, j, truth.shimmer, summaryValue(t, r, "shimmer_local"), r.Summary.Score)
			// The intonation itself moves the cycle lengths a little, so
			// even "regular" has about 1 % jitter. Strong jitter reads low:
			// the roughest frames fall below the voicing threshold.
			require.InDelta(t, truth.jitter, j, 0.2*truth.jitter+0.2)
			require.GreaterOrEqual(t, r.Summary.Score, tc.minScore)
			require.LessOrEqual(t, r.Summary.Score, tc.maxScore)
			require.Greater(t, r.Summary.Confidence, 0.5)
			require.NotEmpty(t, r.Windows)
		})
	}
}

func TestMicroProsodyCorpusTTS(t *testing.T) {
	// espeak's formant synthesis is far more regular from cycle to cycle
	// than any of these genuine readers (LibriSpeech, one male and one
	// female, and JFK). flite's voices are not: this signal misses them.
	var tts, genuine []float64
	for _, p := range voiceCorpusKind(t, "tts-espeak")[:3] {
		d, err := NewMicroProsody()
		require.NoError(t, err)
		r := voiceRun(t, d, voiceDecode(t, p))
		voiceWellFormed(t, r, MicroProsodySignal)
		tts = append(tts, summaryValue(t, r, "jitter_local"))
	}
	for _, src := range []string{"1034-121119", "2989-138028", "jfk.wav"} {
		d, err := NewMicroProsody()
		require.NoError(t, err)
		r := voiceRun(t, d, voiceCorpusAudio(t, "genuine", src))
		voiceWellFormed(t, r, MicroProsodySignal)
		genuine = append(genuine, summaryValue(t, r, "jitter_local"))
	}
	t.Logf("jitter: espeak %v, genuine %v", tts, genuine)
	for _, j := range tts {
		for _, g := range genuine {
			require.Less(t, j, g)
		}
	}
}

func TestMicroProsodyScores(t *testing.T) {
	// The score is the most abnormal measurement's, through a logistic at
	// each end of its normal range.
	for _, tc := range []struct {
		name     string
		m        mpMeasure
		min, max float64
	}{
		{"typical", mpMeasure{jitter: 3.3, shimmer: 9, hnr: 11}, 0, 0.05},
		{"too regular", mpMeasure{jitter: 1.2, shimmer: 9, hnr: 11}, 0.95, 1},
		{"too irregular", mpMeasure{jitter: 9, shimmer: 9, hnr: 11}, 0.9, 1},
		{"steady loudness", mpMeasure{jitter: 3, shimmer: 1, hnr: 11}, 0.95, 1},
		{"too clean", mpMeasure{jitter: 3, shimmer: 9, hnr: 30}, 0.95, 1},
	} {
		sj, ss, sh := mpScores(tc.m)
		s := max(sj, ss, sh)
		require.GreaterOrEqual(t, s, tc.min, tc.name)
		require.LessOrEqual(t, s, tc.max, tc.name)
	}
}
