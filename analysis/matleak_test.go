//go:build matprofile

package analysis_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

// Every Mat the pipeline allocates — decoder buffer, face tracker, every
// detector, evidence crops — is closed by the end of an analysis.
func TestAnalyzeMatLeak(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	cfg := analysis.Config{FaceModels: fm}
	before := gocv.MatProfile.Count()
	for _, clip := range []string{
		testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez"), // face and speech
		testutil.CorpusItem(t, "video", "deepfakes-ffpp", "519_515"),             // face, no audio
	} {
		rep, err := analysis.Analyze(context.Background(), clip, cfg)
		require.NoError(t, err)
		require.NoError(t, analysis.WriteEvidence(context.Background(), rep, clip, t.TempDir(), cfg))
	}
	if after := gocv.MatProfile.Count(); after != before {
		var b bytes.Buffer
		_ = gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("leaked %d Mats:\n%s", after-before, b.String())
	}
}
