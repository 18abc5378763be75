package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

// TestEmbeddedModelScoresCorpusItem loads the weights built into the binary
// and scores a dev corpus video through the whole analysis.
func TestEmbeddedModelScoresCorpusItem(t *testing.T) {
	s, err := models.LoadDefaultScorer()
	require.NoError(t, err, "models/weights must hold a valid fusion-vN.json")
	m, ok := s.(*models.LogisticModel)
	require.True(t, ok)
	assert.Equal(t, m.Version(), models.DefaultScorer().Version())
	assert.NotEmpty(t, m.Manifest)
	assert.NotEmpty(t, m.Trained)
	require.NotNil(t, m.CV)
	assert.Contains(t, m.CV.Groups, "overall")
	require.NotNil(t, m.LiveThresholds, "the shipped model carries thresholds for live segments (train --segment)")

	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	path := testutil.CorpusFile(t, "genuine-voxceleb2", "Pose_Source")
	rep, err := analysis.Analyze(context.Background(), path, analysis.Config{FaceModels: fm, Scorer: models.DefaultScorer()})
	require.NoError(t, err)
	assert.Equal(t, m.Version(), rep.Analysis.ModelVersion)
	require.NotNil(t, rep.Authenticity, "a talking-head video with sound must be scored")
	require.NotNil(t, rep.Probability)
	assert.True(t, rep.Video.Measured || rep.Audio.Measured)
	// The deciding modality's measured signals that the model knows carry
	// contributions; the report lists them with the signals.
	known := map[string]bool{}
	for _, sm := range m.SubModels {
		for _, f := range sm.Features {
			known[f.Signal] = true
		}
	}
	nonzero := 0
	for _, sig := range rep.AllSignals() {
		if sig.Measured && known[sig.Name] && sig.Contribution != 0 {
			nonzero++
		}
	}
	assert.Positive(t, nonzero, "at least one signal's contribution is shown")
}
