package analysis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

func signal(t *testing.T, rep *report.Report, name string) report.Signal {
	t.Helper()
	for _, m := range []report.Modality{rep.Video, rep.Audio, rep.AV} {
		for _, s := range m.Signals {
			if s.Name == name {
				return s
			}
		}
	}
	t.Fatalf("no signal %s in the report", name)
	return report.Signal{}
}

// A ranged analysis sees only its stretch of the recording, as if it were
// the whole file, and without the full-band audio it says why the
// band-limit signal is missing instead of blaming the recording.
func TestAnalyzeRangeWithoutFullBand(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ctx := context.Background()

	whole, err := analysis.Analyze(ctx, clip, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	require.Greater(t, whole.Coverage.DurationSeconds, 7.5)
	// The clip's sound is 16 kHz: the whole analysis says so.
	require.Contains(t, signal(t, whole, "audio.bandlimit").Reason, "sampled at 16.0 kHz")

	cfg := analysis.Config{FaceModels: fm, Start: 2 * time.Second, Duration: 4 * time.Second, NoFullBand: true}
	cfg.Video.FPS = 8
	part, err := analysis.Analyze(ctx, clip, cfg)
	require.NoError(t, err)
	require.InDelta(t, 4, part.Coverage.DurationSeconds, 0.01)
	require.InDelta(t, 32, part.Analysis.FramesAnalyzed, 2)
	require.InDelta(t, 4, part.Analysis.AudioSeconds, 0.2)
	require.LessOrEqual(t, part.Coverage.FaceSeconds, 4.0)
	require.Greater(t, part.Coverage.FaceSeconds, 2.5)
	bl := signal(t, part, "audio.bandlimit")
	require.False(t, bl.Measured)
	require.Contains(t, bl.Reason, "16-kHz voice")
	require.Contains(t, part.Analysis.Notes, "only 4.0 s from 2.0 s were analysed")
	for _, w := range part.Timeline {
		require.LessOrEqual(t, w.End, 4.0+1e-9, "times are relative to the stretch")
	}

	cfg.Start = time.Hour
	_, err = analysis.Analyze(ctx, clip, cfg)
	require.ErrorIs(t, err, analysis.ErrNothingDecoded, "a stretch beyond the end")
	cfg.Start = -time.Second
	_, err = analysis.Analyze(ctx, clip, cfg)
	require.Error(t, err)
}
