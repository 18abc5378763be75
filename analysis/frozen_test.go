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

// A still picture of a face held up while a real voice speaks (the first
// frame of a genuine dev talking head, repeated under its own sound) is
// never called genuine: its face signals measured one photo. The shipped
// model scores this one 56, in its genuine range, so the verdict comes
// from the frozen-picture rule (if a retrained model scores it below its
// genuine threshold, choose another clip: the rule must be exercised).
// The same recording in motion is not affected.
func TestStillPictureIsNotGenuine(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	src := testutil.CorpusItem(t, "video", "genuine-voxceleb2", "Pose_Source/517600055")
	dir := t.TempDir()
	still, frame := filepath.Join(dir, "still.mp4"), filepath.Join(dir, "frame.png")
	testutil.FFmpeg(t, "-i", src, "-frames:v", "1", frame)
	testutil.FFmpeg(t, "-loop", "1", "-framerate", "25", "-i", frame, "-i", src, "-map", "0:v", "-map", "1:a", "-shortest",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", still)
	lm, ok := models.DefaultScorer().(*models.LogisticModel)
	require.True(t, ok)

	rep, err := analysis.Analyze(context.Background(), still, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	cam := signal(t, rep, "video.virtualcam")
	require.True(t, cam.Measured, cam.Reason)
	share, ok := value(cam, "still_fraction")
	require.True(t, ok)
	assert.GreaterOrEqual(t, share, models.FrozenPictureFraction)
	require.NotNil(t, rep.Authenticity, "there is face and speech enough to score")
	require.GreaterOrEqual(t, *rep.Authenticity, lm.Thresholds.Genuine, "the model alone would call it genuine")
	assert.Equal(t, models.Inconclusive, rep.Verdict, "a photo with a voice is not a genuine interview")
	assert.Contains(t, rep.VerdictReason, "the picture did not move")
	assert.Contains(t, rep.Summary, "The picture did not move")

	rep, err = analysis.Analyze(context.Background(), src, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	cam = signal(t, rep, "video.virtualcam")
	require.True(t, cam.Measured, cam.Reason)
	share, ok = value(cam, "still_fraction")
	require.True(t, ok)
	assert.Zero(t, share)
	assert.Equal(t, models.Genuine, rep.Verdict, "in motion: the model's verdict")
	assert.Empty(t, rep.VerdictReason)
}
