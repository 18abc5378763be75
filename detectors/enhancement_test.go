package detectors

import (
	"image"
	"math"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

func newTestEnhancement(t testing.TB) *Enhancement {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	return NewEnhancement(fm.Brisque, fm.Range)
}

// A face smoothed with an edge-preserving (bilateral) filter, the core of
// most beauty filters, must be flagged; the same synthetic face is not.
func TestEnhancementSyntheticSmoothedFace(t *testing.T) {
	run := func(smooth bool) Result {
		d := newTestEnhancement(t)
		defer func() { require.NoError(t, d.Close()) }()
		s := newCamSynth(1, 640, 360, 2)
		smoothed := gocv.NewMat()
		defer smoothed.Close()
		for i := 0; i < 40; i++ {
			bgr, gray := s.frame(t)
			if smooth {
				roi := gray.Region(Grow(s.face, 0.1, image.Rect(0, 0, 640, 360)))
				gocv.BilateralFilter(roi, &smoothed, 9, 40, 5)
				smoothed.CopyTo(&roi)
				require.NoError(t, roi.Close())
			}
			f := &VideoFrame{Index: i, Time: float64(i) / 10, Image: bgr, Gray: gray,
				Faces: []Face{{Rect: s.face, TrackID: 1, Detected: true}}, FPS: 10}
			require.NoError(t, d.Observe(f))
			require.NoError(t, bgr.Close())
			require.NoError(t, gray.Close())
		}
		return d.Finish()
	}
	orig, filt := run(false), run(true)
	require.NotNil(t, orig.Summary, orig.NotMeasurable)
	require.NotNil(t, filt.Summary, filt.NotMeasurable)
	t.Logf("original: %.3f %v", orig.Summary.Score, orig.Summary.Values)
	t.Logf("smoothed: %.3f %v", filt.Summary.Score, filt.Summary.Values)
	assert.Less(t, orig.Summary.Score, 0.5)
	assert.Greater(t, filt.Summary.Score, 0.5)
	// Face-only filtering leaves the face cleaner than its noisy surroundings.
	assert.Less(t, summaryValue(t, filt, "face_context_noise_ratio"), enhFaceCtxCentre)
	assert.Greater(t, summaryValue(t, orig, "face_context_noise_ratio"), 0.8)
	assert.Equal(t, EnhancementSignal, filt.Signal)
	assert.NotEmpty(t, filt.Summary.Explanation)
}

// The same on a real face: a genuine corpus clip, with its face passed
// through a strong bilateral filter, against the untouched clip. This
// high-quality face has smooth skin to begin with (score 0.37 untouched),
// so the test asserts the direction and a clear step, not a verdict.
func TestEnhancementRealFaceBilateral(t *testing.T) {
	src := camCorpusVideo(t, "genuine", "WDA_AlexandriaOcasioCortez")
	smoothed := gocv.NewMat()
	defer smoothed.Close()
	beauty := func(img *gocv.Mat, faces []Face) {
		if len(faces) == 0 {
			return
		}
		roi := img.Region(Grow(faces[0].Rect, 0.15, image.Rect(0, 0, img.Cols(), img.Rows())))
		gocv.BilateralFilter(roi, &smoothed, 15, 50, 15)
		smoothed.CopyTo(&roi)
		if err := roi.Close(); err != nil {
			t.Error(err)
		}
	}
	orig := camRun(t, src, nil, newTestEnhancement(t))[0]
	filt := camRun(t, src, beauty, newTestEnhancement(t))[0]
	require.NotNil(t, orig.Summary, orig.NotMeasurable)
	require.NotNil(t, filt.Summary, filt.NotMeasurable)
	t.Logf("original: %.3f %v", orig.Summary.Score, orig.Summary.Values)
	t.Logf("filtered: %.3f %v", filt.Summary.Score, filt.Summary.Values)
	assert.Less(t, orig.Summary.Score, 0.5)
	assert.Greater(t, filt.Summary.Score, orig.Summary.Score+0.1)
	assert.Less(t, summaryValue(t, filt, "skin_edge_ratio"), 0.95*summaryValue(t, orig, "skin_edge_ratio"))
	assert.Greater(t, summaryValue(t, filt, "brisque_face"), summaryValue(t, orig, "brisque_face"))
	assert.NotEmpty(t, filt.Windows)
}

// Direction on the dev corpus: each enhance-hqdn3d item against the
// genuine-reencode-x264 control made from the same source with the same
// encoder settings.
func TestEnhancementDevPairs(t *testing.T) {
	for _, src := range []string{"WDA_AlexandriaOcasioCortez", "driving/d12.mp4"} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			enh := camRun(t, camCorpusVideo(t, "enhance-hqdn3d", src), nil, newTestEnhancement(t))[0]
			ctl := camRun(t, camCorpusVideo(t, "genuine-reencode-x264", src), nil, newTestEnhancement(t))[0]
			require.NotNil(t, enh.Summary, enh.NotMeasurable)
			require.NotNil(t, ctl.Summary, ctl.NotMeasurable)
			t.Logf("enhanced %.3f %v", enh.Summary.Score, enh.Summary.Values)
			t.Logf("control  %.3f %v", ctl.Summary.Score, ctl.Summary.Values)
			assert.Greater(t, enh.Summary.Score, ctl.Summary.Score)
			assert.Less(t, summaryValue(t, enh, "skin_edge_ratio"), summaryValue(t, ctl, "skin_edge_ratio"))
		})
	}
}

func TestEnhancementNotMeasurable(t *testing.T) {
	dir := t.TempDir()
	noFace := filepath.Join(dir, "noface.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=4",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", noFace)
	tiny := filepath.Join(dir, "tiny.mp4")
	testutil.FFmpeg(t, "-i", camCorpusVideo(t, "genuine", "WDA_AlexandriaOcasioCortez"), "-t", "4",
		"-vf", "scale=96:-2", "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", tiny)
	short := filepath.Join(dir, "short.mp4")
	testutil.FFmpeg(t, "-i", camCorpusVideo(t, "genuine", "WDA_AlexandriaOcasioCortez"), "-t", "1",
		"-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", short)

	for _, tc := range []struct {
		name, path, reason string
	}{
		{"no face", noFace, "too little usable face"},
		{"face too small", tiny, "face too small"},
		{"too short", short, "too little usable face"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := camRun(t, tc.path, nil, newTestEnhancement(t))[0]
			require.Nil(t, r.Summary)
			assert.Contains(t, r.NotMeasurable, tc.reason)
			assert.Equal(t, EnhancementSignal, r.Signal)
		})
	}
	t.Run("no frames", func(t *testing.T) {
		d := newTestEnhancement(t)
		defer d.Close()
		r := d.Finish()
		assert.False(t, r.Measured())
		assert.Contains(t, r.NotMeasurable, "no video frame")
	})
}

// Without the BRISQUE model the detector still measures and says so.
func TestEnhancementWithoutBrisque(t *testing.T) {
	d := NewEnhancement("/nonexistent/model.yml", "/nonexistent/range.yml")
	camFeed(t, d, newCamSynth(2, 640, 360, 2), 30, 1)
	r := d.Finish()
	require.NotNil(t, r.Summary, r.NotMeasurable)
	assert.Contains(t, r.Summary.Explanation, "BRISQUE was unavailable")
	for _, m := range r.Summary.Values {
		assert.NotEqual(t, "brisque_face", m.Name)
	}
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close is idempotent")
	assert.ErrorIs(t, d.Observe(&VideoFrame{}), ErrCameraDetectorClosed)
}

func TestEnhancementScoreMapping(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		s      enhStats
		lo, hi float64
	}{
		{"typical genuine", enhStats{ratio: 0.12, faceCtx: nan, tempNoise: nan}, 0, 0.2},
		{"at the centre", enhStats{ratio: enhRatioCentre, faceCtx: nan, tempNoise: nan}, 0.49, 0.51},
		{"very smooth skin", enhStats{ratio: 0.05, faceCtx: nan, tempNoise: nan}, 0.85, 1},
		{"face cleaner than context", enhStats{ratio: 0.1, faceCtx: 0.3, tempNoise: nan}, 0.5, 1},
		{"noise is not scored", enhStats{ratio: enhRatioCentre, faceCtx: nan, tempNoise: 0.6}, 0.49, 0.51},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.s.score()
			assert.GreaterOrEqual(t, v, tc.lo)
			assert.LessOrEqual(t, v, tc.hi)
		})
	}
	assert.True(t, math.IsNaN(enhStats{ratio: nan}.score()))
}

func TestCamSelect(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    []float32
	}{
		{"one", []float32{3}},
		{"sorted", []float32{1, 2, 3, 4, 5, 6}},
		{"reversed", []float32{9, 7, 5, 3, 1}},
		{"ties", []float32{2, 2, 2, 1, 1, 3, 3, 2}},
		{"random", []float32{0.3, 9, -1, 4.5, 4.5, 2, 8, 0, 7, 1.5, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range []float64{0, 0.2, 0.5, 0.95, 1} {
				want := append([]float32(nil), tc.v...)
				sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
				got := camSelect(append([]float32(nil), tc.v...), q)
				assert.Equal(t, want[int(q*float64(len(want)-1))], got, "q=%v", q)
			}
		})
	}
	assert.True(t, math.IsNaN(float64(camSelect(nil, 0.5))))
}

// BenchmarkEnhancementObserve measures the per-frame cost on a 640×360
// frame with a 150×185 px face (BRISQUE once per 10 frames, as at 10 fps).
func BenchmarkEnhancementObserve(b *testing.B) {
	d := newTestEnhancement(b)
	defer d.Close()
	s := newCamSynth(3, 640, 360, 2)
	bgr, gray := s.frame(b)
	defer bgr.Close()
	defer gray.Close()
	f := &VideoFrame{Image: bgr, Gray: gray, Faces: []Face{{Rect: s.face, TrackID: 1, Detected: true}}, FPS: 10}
	b.ResetTimer()
	cpu0 := camCPU(b)
	for i := 0; i < b.N; i++ {
		f.Index, f.Time = i, float64(i)/10
		if err := d.Observe(f); err != nil {
			b.Fatal(err)
		}
		if len(d.track) > 10000 { // keep memory flat over long runs
			d.track, d.noise, d.bq = d.track[:0], d.noise[:0], d.bq[:0]
		}
	}
	b.ReportMetric(float64(camCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}
