package analysis_test

import (
	"context"
	"path/filepath"
	"strings"
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

// The high-pass in front of the detectors runs in floating point: on a
// full-scale 16-bit recording, run in the file's own integer format, its
// overshoot clipped and ffmpeg logged a warning per audio frame, which the
// report counted as decoding problems.
func TestHighPassDoesNotClipLoudRecordings(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	loud := filepath.Join(t.TempDir(), "loud.flac")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "aevalsrc=0.999*sgn(sin(2*PI*150*t)):s=44100:d=3", "-c:a", "flac", "-sample_fmt", "s16", loud)
	rep, err := analysis.Analyze(context.Background(), loud, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	require.Zero(t, rep.Analysis.DecodeWarnings, "%v", rep.Analysis.Notes)
}

// A voice recorded on the two channels in opposite phase (a miswired
// microphone; the same genuine reading as above, right channel inverted)
// is clear on headphones, but its usual mix is silence: the analysis heard
// no speech and could not judge the voice. It is now analysed on the
// channels' difference, and the report says so.
func TestOppositePhaseStereoHasSpeech(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	clip := testutil.CorpusItem(t, "audio", "genuine", "1363-135842-0000")
	stereo := filepath.Join(t.TempDir(), "antiphase.flac")
	testutil.FFmpeg(t, "-i", clip, "-af", "pan=stereo|c0=c0|c1=-1*c0", "-c:a", "flac", stereo)
	rep, err := analysis.Analyze(context.Background(), stereo, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	require.Greater(t, rep.Coverage.SpeechSeconds, 3.0, "5.3 s of reading")
	require.True(t, rep.Audio.Measured)
	require.True(t, signal(t, rep, "audio.pitchformant").Measured)
	require.Contains(t, strings.Join(rep.Analysis.Notes, "\n"), "opposite phase")
}
