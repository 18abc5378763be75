package analysis_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

// A genuine dev recording of clear reading (LibriSpeech 1363-135842-0000)
// carries a DC offset of −0.13 (−17.5 dBFS). With the offset in every
// frame's level the speech detector heard no speech at all and the
// recording could not be judged; without it the reading is speech.
func TestDCOffsetRecordingHasSpeech(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	clip := testutil.CorpusItem(t, "audio", "genuine", "1363-135842-0000")
	rep, err := analysis.Analyze(context.Background(), clip, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	require.Greater(t, rep.Coverage.SpeechSeconds, 3.0, "5.3 s of reading")
	require.NotContains(t, rep.VerdictReason, "too little to judge")
	require.True(t, signal(t, rep, "audio.noisefloor").Measured, "the pauses between words are found")
}
