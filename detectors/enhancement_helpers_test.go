package detectors

import (
	"context"
	"errors"
	"image"
	"io"
	"math/rand"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// Helpers shared by the camera-level detector tests (enhancement, virtual
// camera, BRISQUE). Names carry a cam prefix: other groups' tests live in
// the same package.

// camCorpusVideo returns the path of the first video item of kind whose
// source contains sourcePart.
func camCorpusVideo(t testing.TB, kind, sourcePart string) string {
	t.Helper()
	for _, it := range testutil.Corpus(t) {
		if it.Modality == "video" && it.Kind == kind && strings.Contains(it.Source, sourcePart) {
			return it.Path
		}
	}
	t.Fatalf("no video item of kind %q with source containing %q", kind, sourcePart)
	return ""
}

// camEdit changes a decoded frame in place before detectors see it; faces
// are the tracked faces of the unedited frame.
type camEdit func(img *gocv.Mat, faces []Face)

// camRun decodes path at the default analysis settings, tracks faces and
// feeds every detector, as the analysis pipeline does. It returns the
// detectors' results; the detectors are closed.
func camRun(t testing.TB, path string, edit camEdit, dets ...VideoDetector) []Result {
	t.Helper()
	for _, d := range dets {
		defer func() { require.NoError(t, d.Close()) }()
	}
	ctx := context.Background()
	tools := media.Tools{}
	info, err := tools.Probe(ctx, path)
	require.NoError(t, err)
	vr, err := tools.OpenVideo(ctx, info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	tr, err := NewFaceTracker(fm)
	require.NoError(t, err)
	defer tr.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		gocv.CvtColor(f.Image, &gray, gocv.ColorBGRToGray)
		faces := tr.Track(gray, f.PTS.Seconds())
		img := f.Image
		if edit != nil {
			edit(&img, faces)
			gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
		}
		vf := &VideoFrame{Index: f.Index, Time: f.PTS.Seconds(), Image: img, Gray: gray, Faces: faces, FPS: 10}
		for _, d := range dets {
			require.NoError(t, d.Observe(vf))
		}
	}
	out := make([]Result, len(dets))
	for i, d := range dets {
		out[i] = d.Finish()
	}
	return out
}

// camSynth makes synthetic frames: a smooth background and a face-like
// ellipse with a fixed fine skin texture, dark eyes, brows and mouth
// (strong edges), plus fresh sensor noise in every frame. Face is the box a
// face tracker would report (inside the head outline).
type camSynth struct {
	rng   *rand.Rand
	base  []float64
	w, h  int
	face  image.Rectangle
	noise float64 // σ of the per-frame noise, grey levels
}

func newCamSynth(seed int64, w, h int, noise float64) *camSynth {
	s := &camSynth{rng: rand.New(rand.NewSource(seed)), w: w, h: h, noise: noise}
	cx, cy, ax, ay := w/2, h/2, 90, 110
	s.face = image.Rect(cx-75, cy-85, cx+75, cy+100)
	dark := []struct {
		r image.Rectangle
		v float64
	}{
		{image.Rect(cx-50, cy-25, cx-20, cy-13), 40}, // eyes
		{image.Rect(cx+20, cy-25, cx+50, cy-13), 40},
		{image.Rect(cx-52, cy-45, cx-16, cy-39), 70}, // brows
		{image.Rect(cx+16, cy-45, cx+52, cy-39), 70},
		{image.Rect(cx-35, cy+45, cx+35, cy+55), 80}, // mouth
	}
	s.base = make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 60 + 60*float64(x)/float64(w)
			fx, fy := float64(x-cx)/float64(ax), float64(y-cy)/float64(ay)
			if fx*fx+fy*fy < 1 {
				v = 170 + 6*s.rng.NormFloat64() // skin with fine texture
				for _, d := range dark {
					if image.Pt(x, y).In(d.r) {
						v = d.v
					}
				}
			}
			s.base[y*w+x] = v
		}
	}
	return s
}

// frame returns a BGR and a grey frame (the scene plus fresh noise); the
// caller closes both.
func (s *camSynth) frame(t testing.TB) (bgr, gray gocv.Mat) {
	t.Helper()
	buf := make([]byte, len(s.base))
	for i, b := range s.base {
		v := b + s.noise*s.rng.NormFloat64()
		buf[i] = byte(min(255, max(0, v+0.5)))
	}
	g, err := gocv.NewMatFromBytes(s.h, s.w, gocv.MatTypeCV8UC1, buf)
	require.NoError(t, err)
	gray = g.Clone() // own the pixels: NewMatFromBytes does not copy buf
	require.NoError(t, g.Close())
	bgr = gocv.NewMat()
	gocv.CvtColor(gray, &bgr, gocv.ColorGrayToBGR)
	return bgr, gray
}

// camFeed runs n synthetic frames at 10 fps through d; repeat makes every
// frame appear that many times in a row (a slow source).
func camFeed(t testing.TB, d VideoDetector, s *camSynth, n, repeat int) {
	t.Helper()
	var bgr, gray gocv.Mat
	for i := 0; i < n; i++ {
		if i%repeat == 0 {
			if i > 0 {
				require.NoError(t, bgr.Close())
				require.NoError(t, gray.Close())
			}
			bgr, gray = s.frame(t)
		}
		f := &VideoFrame{Index: i, Time: float64(i) / 10, Image: bgr, Gray: gray,
			Faces: []Face{{Rect: s.face, TrackID: 1, Detected: true}}, FPS: 10}
		require.NoError(t, d.Observe(f))
	}
	if n > 0 {
		require.NoError(t, bgr.Close())
		require.NoError(t, gray.Close())
	}
}

// camCPU returns the process's user+system CPU time in nanoseconds. The
// benchmarks report CPU time per operation besides wall time, because the
// shared test machine is often loaded and wall time then overstates cost.
func camCPU(t testing.TB) int64 {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru.Utime.Nano() + ru.Stime.Nano()
}
