package analysis_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// A recorder that stalled for a third of a second at 1 s: the sound of
// those moments is missing and the sound after them keeps its timestamps
// (copies of a genuine dev talking head, the picture copied bit-exact, the
// sound re-encoded as AAC). The analysis fills the stall with silence and
// says so, and lip sync measures exactly what it measures on the same
// recording with those moments muted in place. Decoded back to back, as
// before, the voice after the stall came a third of a second early: the
// copy whose timestamps run on without the jump shows it.
func TestStalledRecorderKeepsSoundInStep(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	src := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	dir := t.TempDir()
	copyOf := func(name, af string) string {
		out := filepath.Join(dir, name)
		testutil.FFmpeg(t, "-i", src, "-map", "0:v", "-map", "0:a", "-c:v", "copy", "-af", af, "-c:a", "aac", out)
		return out
	}
	// Whole 64-ms frames of the decoded sound, 1.024–1.344 s: left out,
	// or kept and muted.
	const cut = "aselect='not(between(t,1,1.3))'"
	stalled := copyOf("stalled.mp4", cut)
	muted := copyOf("muted.mp4", "volume='not(between(t,1,1.3))':eval=frame")
	backToBack := copyOf("b2b.mp4", cut+",asetpts=N/SR/TB")

	lipsync := func(path string) (delay, z float64, notes string) {
		t.Helper()
		rep, err := analysis.Analyze(context.Background(), path, analysis.Config{FaceModels: fm})
		require.NoError(t, err)
		s := signal(t, rep, "av.lipsync")
		require.True(t, s.Measured, s.Reason)
		return mustValue(t, s, "audio_delay"), mustValue(t, s, "sync_evidence_z"), strings.Join(rep.Analysis.Notes, "\n")
	}
	sd, sz, notes := lipsync(stalled)
	assert.Contains(t, notes, "timestamps jump ahead by 0.32 s at 1.0 s")
	md, mz, mnotes := lipsync(muted)
	assert.NotContains(t, mnotes, "timestamps jump")
	assert.InDelta(t, md, sd, 10, "delay (ms): stalled %.0f, muted in place %.0f", sd, md)
	assert.InDelta(t, mz, sz, 0.2, "sync evidence")
	bd, _, _ := lipsync(backToBack)
	assert.Less(t, bd, sd-150, "back to back the voice comes early: %.0f ms against %.0f", bd, sd)
}

func mustValue(t *testing.T, s report.Signal, name string) float64 {
	t.Helper()
	v, ok := value(s, name)
	require.True(t, ok, "%s has no value %s", s.Name, name)
	return v
}
