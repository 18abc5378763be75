package analysis_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

func value(s report.Signal, name string) (float64, bool) {
	for _, v := range s.Values {
		if v.Name == name {
			return v.Value, true
		}
	}
	return 0, false
}

// A call recorded in gallery view: two genuine dev talking heads side by
// side, with the left one's voice. The whole picture shows two faces;
// analysing the left tile is exactly analysing the left person alone (the
// same pixels: every signal the same), and the right tile measures the
// other face.
func TestGalleryRegion(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	dir := t.TempDir()
	left := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	right := testutil.CorpusItem(t, "video", "genuine", "driving/d6.mp4")
	// Lossless at the analysis rate, so that a crop of the gallery and the
	// left tile on its own hold the same pixels.
	lossless := []string{"-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "flac"}
	gallery := filepath.Join(dir, "gallery.mkv")
	testutil.FFmpeg(t, append([]string{"-i", left, "-i", right, "-t", "8", "-filter_complex",
		"[0:v]fps=10,scale=320:320,setsar=1[l];[1:v]fps=10,scale=320:320,setsar=1[r];[l][r]hstack=inputs=2[v]",
		"-map", "[v]", "-map", "0:a"}, append(lossless, gallery)...)...)
	alone := filepath.Join(dir, "alone.mkv")
	testutil.FFmpeg(t, append([]string{"-i", gallery, "-vf", "crop=320:320:0:0", "-map", "0:v", "-map", "0:a"},
		append(lossless, alone)...)...)

	analyse := func(path, region string) *report.Report {
		t.Helper()
		reg, err := media.ParseRegion(region)
		require.NoError(t, err)
		rep, err := analysis.Analyze(context.Background(), path,
			analysis.Config{FaceModels: fm, Video: media.VideoOptions{Region: reg}})
		require.NoError(t, err)
		return rep
	}
	whole := analyse(gallery, "whole")
	several, ok := value(signal(t, whole, "face.presence"), "several_faces_fraction")
	require.True(t, ok)
	assert.Greater(t, several, 0.5, "the whole picture shows both faces")
	assert.Empty(t, whole.Analysis.Region)

	l := analyse(gallery, "left")
	solo := analyse(alone, "whole")
	assert.Equal(t, "left", l.Analysis.Region)
	assert.Equal(t, []int{320, 320}, []int{l.Analysis.AnalysisWidth, l.Analysis.AnalysisHeight})
	assert.Contains(t, l.Analysis.Notes, "only the left half of the picture was analysed (x 0–50 %, y 0–100 % of the upright picture): faces outside it were not looked at")
	several, _ = value(signal(t, l, "face.presence"), "several_faces_fraction")
	assert.Zero(t, several, "one face in the left tile")
	require.Equal(t, len(solo.AllSignals()), len(l.AllSignals()))
	for i, s := range solo.AllSignals() {
		got := l.AllSignals()[i]
		assert.Equal(t, s.Measured, got.Measured, s.Name)
		assert.Equal(t, s.Score, got.Score, "%s: the left tile is the left person alone", s.Name)
	}
	assert.Equal(t, solo.Authenticity, l.Authenticity)

	r := analyse(gallery, "right")
	assert.Equal(t, "right", r.Analysis.Region)
	hl, _ := value(signal(t, l, "face.presence"), "median_face_height")
	hr, _ := value(signal(t, r, "face.presence"), "median_face_height")
	assert.NotEqual(t, hl, hr, "the right tile measures the other face")

	// A region that does not fit is refused before anything is analysed.
	_, err = analysis.Analyze(context.Background(), gallery,
		analysis.Config{FaceModels: fm, Video: media.VideoOptions{Region: media.Region{X: 0.8, W: 0.5, H: 1}}})
	require.ErrorIs(t, err, media.ErrBadRegion)
}
