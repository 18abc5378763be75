package detectors

import (
	"context"
	"errors"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// physioPainter paints frame i (time t) of a synthetic video into pix, a
// w×h BGR buffer.
type physioPainter func(i int, t float64, pix []uint8, w, h int)

// physioSynth is a synthetic video: a background with one face box whose
// pixels a painter sets.
type physioSynth struct {
	w, h   int
	fps    float64
	frames int
	face   image.Rectangle // empty: no face reported
	paint  physioPainter
	// edit, when set, may change each frame before the detectors see it.
	edit func(i int, f *VideoFrame)
}

// run feeds the synthetic video to the detectors and returns their
// results. Every Mat it makes is closed before it returns.
func (s physioSynth) run(t testing.TB, dets ...VideoDetector) []Result {
	t.Helper()
	img := gocv.NewMatWithSize(s.h, s.w, gocv.MatTypeCV8UC3)
	defer img.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	pix, err := img.DataPtrUint8()
	require.NoError(t, err)
	for i := range s.frames {
		tm := float64(i) / s.fps
		s.paint(i, tm, pix, s.w, s.h)
		gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
		vf := &VideoFrame{Index: i, Time: tm, Image: img, Gray: gray, FPS: s.fps}
		if !s.face.Empty() {
			vf.Faces = []Face{{Rect: s.face, TrackID: 1, Detected: true}}
		}
		if s.edit != nil {
			s.edit(i, vf)
		}
		for _, d := range dets {
			require.NoError(t, d.Observe(vf))
		}
	}
	out := make([]Result, len(dets))
	for i, d := range dets {
		out[i] = d.Finish()
		require.NoError(t, d.Close())
		require.NoError(t, d.Close(), "Close must be idempotent")
	}
	return out
}

// physioFill paints rectangle r of pix (width w) with colour bgr plus
// uniform noise of ±noise levels. The part of r outside the buffer is
// left out (a face the picture cuts off).
func physioFill(pix []uint8, w int, r image.Rectangle, bgr [3]float64, noise float64, rng *rand.Rand) {
	r = r.Intersect(image.Rect(0, 0, w, len(pix)/(3*w)))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := 3 * (y*w + x)
			for c := range 3 {
				v := bgr[c]
				if noise > 0 {
					v += (rng.Float64()*2 - 1) * noise
				}
				pix[i+c] = uint8(math.Max(0, math.Min(255, math.Round(v))))
			}
		}
	}
}

// physioSkin is a typical skin colour (B, G, R).
var physioSkin = [3]float64{110, 140, 190}

// physioPBV is the relative colour change of skin with blood volume (R, G,
// B order in de Haan & van Leest 2014: 0.33, 0.77, 0.53), here as B, G, R.
var physioPBV = [3]float64{0.53, 0.77, 0.33}

// physioCorpusRun decodes a corpus video at the default analysis settings,
// tracks faces and fits the primary face's landmarks like the pipeline
// (analysis.FramePreparer, which this package cannot import) and feeds the
// detectors.
func physioCorpusRun(t testing.TB, path string, dets ...VideoDetector) []Result {
	t.Helper()
	ctx := context.Background()
	tools := media.Tools{}
	info, err := tools.Probe(ctx, path)
	require.NoError(t, err)
	vr, err := tools.OpenVideo(ctx, info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	tracker, err := NewFaceTracker(fm)
	require.NoError(t, err)
	defer tracker.Close()
	lm, err := NewLandmarker(fm.Landmarks)
	require.NoError(t, err)
	defer lm.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		gocv.CvtColor(f.Image, &gray, gocv.ColorBGRToGray)
		tm := f.PTS.Seconds()
		// Like the pipeline's frame preparation: faces, then the primary
		// face's landmarks (a failed fit leaves them nil).
		faces := tracker.Track(gray, tm)
		if len(faces) > 0 {
			if pts, err := lm.Fit(gray, faces[0].Rect); err == nil {
				faces[0].Landmarks = pts
			}
		}
		vf := &VideoFrame{Index: f.Index, Time: tm, Image: f.Image, Gray: gray, Faces: faces, FPS: 10}
		for _, d := range dets {
			require.NoError(t, d.Observe(vf))
		}
	}
	out := make([]Result, len(dets))
	for i, d := range dets {
		out[i] = d.Finish()
		require.NoError(t, d.Close())
	}
	return out
}

// physioCorpusPath returns the corpus item of kind whose source contains
// part.
func physioCorpusPath(t testing.TB, kind, part string) string {
	t.Helper()
	return testutil.CorpusFile(t, kind, part)
}

// physioCheckResult checks the invariants every measured result keeps.
func physioCheckResult(t testing.TB, r Result, signal string) {
	t.Helper()
	require.Equal(t, signal, r.Signal)
	require.Equal(t, Video, r.Modality)
	require.NotNil(t, r.Summary, "not measured: %s", r.NotMeasurable)
	for _, f := range append([]Finding{*r.Summary}, r.Windows...) {
		require.Equal(t, signal, f.Signal)
		require.GreaterOrEqual(t, f.Score, 0.0)
		require.LessOrEqual(t, f.Score, 1.0)
		require.GreaterOrEqual(t, f.Confidence, 0.0)
		require.LessOrEqual(t, f.Confidence, 1.0)
		require.LessOrEqual(t, f.Start, f.End)
		require.NotEmpty(t, f.Explanation)
		require.NotEmpty(t, f.Values)
	}
}
