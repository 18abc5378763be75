package analysis_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
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

	// The premise: the tracker starts with two tracks for the one face.
	ctx := context.Background()
	info, err := media.Tools{}.Probe(ctx, clip)
	require.NoError(t, err)
	vr, err := media.Tools{}.OpenVideo(ctx, info, media.DefaultVideoOptions())
	require.NoError(t, err)
	gray := gocv.NewMat()
	tr, err := detectors.NewFaceTracker(fm)
	require.NoError(t, err)
	most := 0
	for range 3 {
		f, err := vr.Next()
		require.NoError(t, err)
		gocv.CvtColor(f.Image, &gray, gocv.ColorBGRToGray)
		most = max(most, len(tr.Track(gray, f.PTS.Seconds())))
	}
	require.Equal(t, 2, most, "the first frames must hold two tracks, or this test tests nothing")
	require.NoError(t, tr.Close())
	require.NoError(t, gray.Close())
	require.NoError(t, vr.Close())

	scores := func(rep *report.Report) map[string]float64 {
		out := map[string]float64{}
		for _, s := range rep.Video.Signals {
			out[s.Name] = s.Score
		}
		return out
	}
	const runs = 6
	got := make([]map[string]float64, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := analysis.Analyze(ctx, clip, analysis.Config{FaceModels: fm})
			if errs[i] = err; err == nil {
				got[i] = scores(rep)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "analysis %d", i)
	}
	for i := 1; i < runs; i++ {
		require.Equal(t, got[0], got[i], "analysis %d", i)
	}
}
