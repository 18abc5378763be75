package analysis_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

// Sound in which no speech is heard is not judged as a voice: a steady
// 200-Hz tone is perfectly periodic, and the pitch detectors scored it 1
// ("resonances that do not fit the pitch", "too regular") before.
func TestNoSpeechNoVoiceSignals(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	tone := filepath.Join(t.TempDir(), "tone.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "sine=frequency=200:duration=12:sample_rate=44100", "-af", "volume=0.3", tone)
	rep, err := analysis.Analyze(context.Background(), tone, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	assert.Zero(t, rep.Coverage.SpeechSeconds)
	assert.False(t, rep.Audio.Measured, "no audio score from a tone")
	for _, s := range rep.Audio.Signals {
		assert.False(t, s.Measured, s.Name)
	}
	for _, name := range []string{"audio.pitchformant", "audio.microprosody", "audio.synthprosody"} {
		assert.Contains(t, signal(t, rep, name).Reason, "less than a second of speech was heard", name)
	}
}
