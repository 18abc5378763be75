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

// A genuine candidate close to the camera, her forehead cut off by the top
// of the picture (a dev talking head, LivePortrait's d6, cropped to its
// lower 300 of 480 rows, with its own voice): the face is screened and lip
// sync finds her voice in sync with her mouth. Before, the tracker missed
// her face and followed a false "face" on her ear, whose "mouth" never
// moved: lip sync called the voice foreign (authenticity 15), then, with
// the mouth-motion gate, could not measure it.
func TestCloseUpForeheadCutOff(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	clip := filepath.Join(t.TempDir(), "close.mp4")
	testutil.FFmpeg(t, "-i", testutil.CorpusItem(t, "video", "genuine", "driving/d6.mp4"), "-t", "15",
		"-vf", "crop=480:300:0:180", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-c:a", "aac", clip)
	rep, err := analysis.Analyze(context.Background(), clip, analysis.Config{FaceModels: fm})
	require.NoError(t, err)
	assert.Greater(t, rep.Coverage.FaceFraction, 0.9, "her face is found")
	ls := signal(t, rep, "av.lipsync")
	require.True(t, ls.Measured, "lip sync measured: %s", ls.Reason)
	assert.Less(t, ls.Score, 0.3, "her voice is in sync with her mouth")
	presence := signal(t, rep, "face.presence")
	var height float64
	for _, v := range presence.Values {
		if v.Name == "median_face_height" {
			height = v.Value
		}
	}
	assert.Greater(t, height, 170.0, "the whole face, not an ear")
}
