package analysis_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// The same recording gets the same report, however busy the machine. A
// meeting-recording copy of an FF++ clip (scripts/callcodec.sh's
// "recording" profile) has two overlapping face boxes in its first frame,
// which OpenCV returns in an order that varies with its threads; before the
// boxes were put in reading order, one analysis in five of six running at
// once tracked a different primary face and scored the video differently.
func TestAnalysisIsDeterministic(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	src := testutil.CorpusItem(t, "video", "deepfakes-ffpp-c40", "c40/videos/183_253.mp4")
	clip := filepath.Join(t.TempDir(), "recording.mkv")
	testutil.FFmpeg(t, "-i", src, "-map", "0:v:0", "-vf", "scale=w='min(854,iw)':h=-2,fps=15",
		"-c:v", "libx264", "-preset", "veryfast", "-b:v", "400k", "-maxrate", "500k", "-bufsize", "800k", "-pix_fmt", "yuv420p", clip)

	scores := func(rep *report.Report) map[string]float64 {
		out := map[string]float64{}
		for _, s := range rep.Video.Signals {
			out[s.Name] = s.Score
		}
		return out
	}
	const runs = 6
	got := make([]map[string]float64, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := analysis.Analyze(context.Background(), clip, analysis.Config{FaceModels: fm})
			if err == nil {
				got[i] = scores(rep)
			}
		}()
	}
	wg.Wait()
	require.NotEmpty(t, got[0], "the first analysis failed")
	for i := 1; i < runs; i++ {
		require.Equal(t, got[0], got[i], "analysis %d", i)
	}
}
