package detectors

import (
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

func camLoadBrisque(t testing.TB) *Brisque {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	require.NotEmpty(t, fm.Brisque, "BRISQUE model (opencv-data) not installed")
	b, err := NewBrisque(fm.Brisque, fm.Range)
	require.NoError(t, err)
	return b
}

// camCorpusFrame decodes the frame at `at` seconds of a corpus video.
func camCorpusFrame(t testing.TB, kind, sourcePart, at string) gocv.Mat {
	t.Helper()
	src := camCorpusVideo(t, kind, sourcePart)
	out := filepath.Join(t.TempDir(), "frame.png")
	testutil.FFmpeg(t, "-ss", at, "-i", src, "-frames:v", "1", out)
	img := gocv.IMRead(out, gocv.IMReadColor)
	require.False(t, img.Empty())
	return img
}

func TestBrisqueRealFrameAndBlur(t *testing.T) {
	b := camLoadBrisque(t)
	defer b.Close()
	img := camCorpusFrame(t, "genuine", "LivePortrait", "1")
	defer img.Close()
	sharp, err := b.Score(img)
	require.NoError(t, err)
	require.False(t, math.IsNaN(sharp) || math.IsInf(sharp, 0))

	blurred := gocv.NewMat()
	defer blurred.Close()
	gocv.GaussianBlur(img, &blurred, image.Pt(0, 0), 4, 4, gocv.BorderReflect)
	soft, err := b.Score(blurred)
	require.NoError(t, err)
	t.Logf("BRISQUE sharp %.1f blurred %.1f", sharp, soft)
	require.Greater(t, soft, sharp+10, "a heavily blurred frame must score worse")
}

func TestBrisqueErrors(t *testing.T) {
	_, err := NewBrisque("", "")
	require.ErrorIs(t, err, ErrBrisqueUnavailable)
	_, err = NewBrisque("/nonexistent/brisque_model_live.yml", "/nonexistent/brisque_range_live.yml")
	require.ErrorIs(t, err, ErrBrisqueUnavailable)

	b := camLoadBrisque(t)
	for _, tc := range []struct {
		name string
		img  func() gocv.Mat
	}{
		{"empty", gocv.NewMat},
		{"too small", func() gocv.Mat { return gocv.NewMatWithSize(16, 16, gocv.MatTypeCV8UC1) }},
		{"float", func() gocv.Mat { return gocv.NewMatWithSize(64, 64, gocv.MatTypeCV32F) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.img()
			defer img.Close()
			_, err := b.Score(img)
			require.ErrorIs(t, err, ErrBrisqueInput)
		})
	}
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "Close is idempotent")
	img := gocv.NewMatWithSize(64, 64, gocv.MatTypeCV8UC1)
	defer img.Close()
	_, err = b.Score(img)
	require.ErrorIs(t, err, ErrBrisqueClosed)
}

// BenchmarkBrisqueFace measures one BRISQUE evaluation on a 128×128 face
// crop (the detector runs it about once a second).
func BenchmarkBrisqueFace(b *testing.B) {
	br := camLoadBrisque(b)
	defer br.Close()
	s := newCamSynth(9, 640, 360, 2)
	bgr, gray := s.frame(b)
	defer bgr.Close()
	defer gray.Close()
	roi := gray.Region(s.face)
	defer roi.Close()
	crop := gocv.NewMat()
	defer crop.Close()
	gocv.Resize(roi, &crop, image.Pt(enhBrisquePx, enhBrisquePx), 0, 0, gocv.InterpolationArea)
	b.ResetTimer()
	cpu0 := camCPU(b)
	for i := 0; i < b.N; i++ {
		if _, err := br.Score(crop); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(camCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}
