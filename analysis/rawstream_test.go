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

// A raw H.264 stream has no duration in a container: the coverage is
// measured against what was decoded, not against 0 s ("a face was visible
// for 3.9 s of 0.0 s", and an empty timeline, before).
func TestRawStreamCoverage(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	clip := testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105")
	raw := filepath.Join(t.TempDir(), "face.h264")
	testutil.FFmpeg(t, "-i", clip, "-an", "-c:v", "libx264", "-preset", "ultrafast", "-f", "h264", raw)
	rep, err := analysis.Analyze(context.Background(), raw, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	cov := rep.Coverage
	assert.InDelta(t, 4.4, cov.DurationSeconds, 0.3, "the decoded length")
	assert.Greater(t, cov.FaceSeconds, 3.0)
	assert.LessOrEqual(t, cov.FaceSeconds, cov.DurationSeconds)
	assert.Greater(t, cov.FaceFraction, 0.7)
	require.NotEmpty(t, rep.Timeline)
	assert.Greater(t, rep.Timeline[len(rep.Timeline)-1].End, 4.0)
	assert.NotContains(t, cov.Statement, "of 0.0 s")
}
