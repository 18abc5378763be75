package detectors

import (
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// Synthetic scenes for the texture detectors: a textured background and a
// shaded, lightly textured face ellipse, both filmed with the same sensor
// noise; and the same scene with the face re-rendered at low resolution,
// smoothed and blended back through a feathered ellipse, as a swap tool
// does. The face box is given, not detected, so the tests exercise the
// detectors alone.

const (
	texTW, texTH = 640, 480
)

var texTFace = image.Rect(220, 110, 420, 310) // 200-px face box

// texTScene returns a clean (noise-free) BGR scene as float planes.
func texTScene(face image.Rectangle, seed int64) [3][]float64 {
	rng := rand.New(rand.NewSource(seed))
	var out [3][]float64
	for c := range out {
		out[c] = make([]float64, texTW*texTH)
	}
	// Background texture: a few random sinusoids at several scales.
	type wave struct{ fx, fy, ph, amp float64 }
	var waves []wave
	for i := 0; i < 12; i++ {
		f := 0.01 + 0.25*rng.Float64()*rng.Float64()
		th := rng.Float64() * math.Pi
		waves = append(waves, wave{f * math.Cos(th), f * math.Sin(th), rng.Float64() * 6.28, 4 + 10*rng.Float64()})
	}
	// The head is not concentric with the face box, as with a real Haar
	// box (eyebrows to mouth): the skin runs from above the box top to
	// below it (chin), the hair covers the top of the head, and the outline
	// is therefore at a different distance from the box centre in every
	// direction.
	fw, fh := float64(face.Dx()), float64(face.Dy())
	hx, hy := float64(face.Min.X)+fw/2, float64(face.Min.Y)+0.62*fh
	ax, ay := 0.56*fw, 0.78*fh
	hairline := float64(face.Min.Y) + 0.02*fh
	skin := [3]float64{110, 140, 195} // B, G, R
	for y := 0; y < texTH; y++ {
		for x := 0; x < texTW; x++ {
			i := y*texTW + x
			var bg float64
			for _, w := range waves {
				bg += w.amp * math.Sin(w.fx*float64(x)+w.fy*float64(y)+w.ph)
			}
			base := [3]float64{150 + 0.05*float64(x) + bg, 120 + 0.04*float64(y) + bg, 90 + bg}
			dx, dy := (float64(x)-hx)/ax, (float64(y)-hy)/ay
			rho := math.Sqrt(dx*dx + dy*dy)
			switch {
			case rho < 1.08 && float64(y) < hairline: // dark hair, coarse strands
				strand := 4 * math.Sin(0.25*float64(x)+0.05*float64(y))
				base = [3]float64{40 + strand, 35 + strand, 30 + strand}
			case rho < 1:
				shade := 20 * (1 - rho*rho) // rounded shading
				tex := 1.5 * math.Sin(0.35*float64(x)+0.2*float64(y)) * math.Sin(0.3*float64(y)-0.15*float64(x))
				for c := range base {
					base[c] = skin[c] + shade + tex
				}
			}
			for c := range out {
				out[c][i] = base[c]
			}
		}
	}
	return out
}

// texTNoisy returns the scene seen through a lens (Gaussian blur, σ = 1.2
// px) with Gaussian sensor noise of sigma grey levels, as a BGR Mat
// (caller closes).
func texTNoisy(t testing.TB, scene [3][]float64, sigma float64, seed int64) gocv.Mat {
	rng := rand.New(rand.NewSource(seed))
	m := gocv.NewMatWithSize(texTH, texTW, gocv.MatTypeCV8UC3)
	px, err := m.DataPtrUint8()
	require.NoError(t, err)
	for i := 0; i < texTW*texTH; i++ {
		for c := 0; c < 3; c++ {
			px[3*i+c] = uint8(math.Max(0, math.Min(255, math.Round(scene[c][i]))))
		}
	}
	gocv.GaussianBlur(m, &m, image.Pt(0, 0), 1.2, 1.2, gocv.BorderReflect101)
	px, err = m.DataPtrUint8()
	require.NoError(t, err)
	for i := range px {
		px[i] = uint8(math.Max(0, math.Min(255, math.Round(float64(px[i])+sigma*rng.NormFloat64()))))
	}
	return m
}

// texTPaste renders the face of frame at renderW px wide (INTER_AREA down,
// a slight blur, bilinear up) and blends it back through a feathered
// ellipse that is opaque up to 0.75 of the box radius and fades out at
// 1.0, returning a new Mat.
func texTPaste(t testing.TB, frame gocv.Mat, face image.Rectangle, renderW int) gocv.Mat {
	crop := frame.Region(face)
	small := gocv.NewMat()
	gocv.Resize(crop, &small, image.Pt(renderW, renderW*face.Dy()/face.Dx()), 0, 0, gocv.InterpolationArea)
	gocv.GaussianBlur(small, &small, image.Pt(3, 3), 0.8, 0.8, gocv.BorderReflect101)
	up := gocv.NewMat()
	gocv.Resize(small, &up, image.Pt(face.Dx(), face.Dy()), 0, 0, gocv.InterpolationLinear)
	crop.Close()
	small.Close()
	out := frame.Clone()
	op, err := out.DataPtrUint8()
	require.NoError(t, err)
	upx, err := up.DataPtrUint8()
	require.NoError(t, err)
	cx, cy := float64(face.Dx())/2, float64(face.Dy())/2
	for y := 0; y < face.Dy(); y++ {
		for x := 0; x < face.Dx(); x++ {
			dx, dy := (float64(x)-cx)/cx, (float64(y)-cy)/cy
			rho := math.Sqrt(dx*dx + dy*dy)
			a := texClamp01((1.0 - rho) / 0.25)
			if a == 0 {
				continue
			}
			oi := 3 * ((face.Min.Y+y)*texTW + face.Min.X + x)
			ui := 3 * (y*face.Dx() + x)
			for c := 0; c < 3; c++ {
				op[oi+c] = uint8(math.Round(a*float64(upx[ui+c]) + (1-a)*float64(op[oi+c])))
			}
		}
	}
	up.Close()
	return out
}

// texTRun feeds n frames made by mk (called with the frame number; it
// returns a BGR Mat the runner closes) with the given face box (none when
// empty) and its synthetic landmarks to d, 0.2 s apart, and returns d's
// Result.
func texTRun(t testing.TB, d VideoDetector, n int, face image.Rectangle, mk func(i int) gocv.Mat) Result {
	var faces []Face
	if !face.Empty() {
		faces = []Face{{Rect: face, TrackID: 1, Detected: true, Landmarks: texTLandmarks(face)}}
	}
	return texTRunFaces(t, d, n, faces, mk)
}

// texTRunFaces is texTRun with the faces given as they are.
func texTRunFaces(t testing.TB, d VideoDetector, n int, faces []Face, mk func(i int) gocv.Mat) Result {
	gray := gocv.NewMat()
	defer gray.Close()
	for i := 0; i < n; i++ {
		img := mk(i)
		gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
		vf := &VideoFrame{Index: i, Time: 0.2 * float64(i), Image: img, Gray: gray, FPS: 5, Faces: faces}
		err := d.Observe(vf)
		img.Close()
		require.NoError(t, err)
	}
	return d.Finish()
}

// texTCheckResult checks the invariants every measured Result keeps.
func texTCheckResult(t testing.TB, r Result, signal string) {
	t.Helper()
	require.Equal(t, signal, r.Signal)
	require.Equal(t, Video, r.Modality)
	require.NotNil(t, r.Summary, r.NotMeasurable)
	for _, f := range append([]Finding{*r.Summary}, r.Windows...) {
		require.Equal(t, signal, f.Signal)
		require.GreaterOrEqual(t, f.Score, 0.0)
		require.LessOrEqual(t, f.Score, 1.0)
		require.GreaterOrEqual(t, f.Confidence, 0.0)
		require.LessOrEqual(t, f.Confidence, 1.0)
		require.NotEmpty(t, f.Explanation)
		require.NotEmpty(t, f.Values)
		require.NotNil(t, f.Values[0].NormalLow, "the first value carries its genuine range")
		require.LessOrEqual(t, f.Start, f.End)
	}
	require.NotEmpty(t, r.Windows)
}

// texTPair is a synthetic genuine scene and its pasted counterpart, as
// frame makers with fresh sensor noise per frame.
func texTPair(t testing.TB, renderW int) (genuine, pasted func(i int) gocv.Mat) {
	scene := texTScene(texTFace, 7)
	genuine = func(i int) gocv.Mat { return texTNoisy(t, scene, 3, int64(100+i)) }
	pasted = func(i int) gocv.Mat {
		g := texTNoisy(t, scene, 3, int64(100+i))
		defer g.Close()
		return texTPaste(t, g, texTFace, renderW)
	}
	return genuine, pasted
}

func texTDetectors() map[string]func() VideoDetector {
	return map[string]func() VideoDetector{
		BoundarySignal: func() VideoDetector { return NewBoundary() },
		SeamSignal:     func() VideoDetector { return NewSeam() },
		ContextSignal:  func() VideoDetector { return NewFaceContext() },
		SpectrumSignal: func() VideoDetector { return NewSpectrum() },
	}
}

// texTHead is the head ellipse texTScene draws for a face box: centre,
// semi-axes and the hairline.
func texTHead(face image.Rectangle) (hx, hy, ax, ay, hairline float64) {
	fw, fh := float64(face.Dx()), float64(face.Dy())
	return float64(face.Min.X) + fw/2, float64(face.Min.Y) + 0.62*fh, 0.56 * fw, 0.78 * fh, float64(face.Min.Y) + 0.02*fh
}

// texTLandmarks returns 68 landmarks (iBUG 300-W layout) that fit the head
// texTScene draws for face: the jaw just inside the lower half of the head
// ellipse, brows, eyes, nose and mouth where a frontal face has them.
func texTLandmarks(face image.Rectangle) []image.Point {
	hx, hy, ax, ay, _ := texTHead(face)
	pts := make([]image.Point, 0, Landmarks68)
	add := func(x, y float64) { pts = append(pts, image.Pt(int(math.Round(x)), int(math.Round(y)))) }
	for i := 0; i <= 16; i++ { // jaw, image left to right through the chin
		th := math.Pi - float64(i)*math.Pi/16
		add(hx+0.97*ax*math.Cos(th), hy+0.97*ay*math.Sin(th))
	}
	eyeY, browY := hy-0.25*ay, hy-0.40*ay
	for _, side := range []float64{-1, 1} { // brows 17–21 then 22–26
		for i := 0; i < 5; i++ {
			u := float64(i) / 4
			x := hx + side*(0.62-0.5*u)*ax
			if side > 0 {
				x = hx + (0.12+0.5*u)*ax
			}
			add(x, browY-0.04*ay*math.Sin(math.Pi*u))
		}
	}
	for i := 0; i < 4; i++ { // nose bridge 27–30
		add(hx, browY+0.05*ay+float64(i)*0.1*ay)
	}
	for i := 0; i < 5; i++ { // nostrils 31–35
		add(hx+(-0.16+0.08*float64(i))*ax, hy+0.12*ay)
	}
	for _, cx := range []float64{hx - 0.36*ax, hx + 0.36*ax} { // eyes 36–41, 42–47
		for i := 0; i < 6; i++ {
			th := math.Pi - float64(i)*math.Pi/3
			add(cx+0.14*ax*math.Cos(th), eyeY-0.05*ay*math.Sin(th))
		}
	}
	my := hy + 0.45*ay
	for i := 0; i < 12; i++ { // outer lips 48–59
		th := math.Pi - float64(i)*2*math.Pi/12
		add(hx+0.30*ax*math.Cos(th), my-0.09*ay*math.Sin(th))
	}
	for i := 0; i < 8; i++ { // inner lips 60–67
		th := math.Pi - float64(i)*2*math.Pi/8
		add(hx+0.22*ax*math.Cos(th), my-0.04*ay*math.Sin(th))
	}
	return pts
}

// texTSceneNeck is texTScene with a neck of the same skin, a little darker
// (shaded by the chin), below the head.
func texTSceneNeck(face image.Rectangle, seed int64) [3][]float64 {
	out := texTScene(face, seed)
	hx, hy, ax, ay, _ := texTHead(face)
	skin := [3]float64{110, 140, 195}
	for y := int(hy); y < texTH; y++ {
		for x := int(hx - 0.55*ax); x < int(hx+0.55*ax); x++ {
			dx, dy := (float64(x)-hx)/ax, (float64(y)-hy)/ay
			if dx*dx+dy*dy < 1 {
				continue
			}
			tex := 1.5 * math.Sin(0.35*float64(x)+0.2*float64(y)) * math.Sin(0.3*float64(y)-0.15*float64(x))
			for c := range out {
				out[c][y*texTW+x] = 0.85*skin[c] + tex
			}
		}
	}
	return out
}

// texTPasteHull re-renders the face of frame at renderW px per face width
// (area down, slight blur, bilinear up) and blends it back through the
// landmark hull (jaw and brows lifted by a third of the eye-to-brow
// distance), feathered over about 4 % of the face width, as swap tools do.
func texTPasteHull(t testing.TB, frame gocv.Mat, lm []image.Point, renderW int) gocv.Mat {
	g, err := newSeamFace(lm)
	require.NoError(t, err)
	box := g.bbox.Inset(-4).Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	crop := frame.Region(box)
	small, up := gocv.NewMat(), gocv.NewMat()
	h := renderW * box.Dy() / box.Dx()
	gocv.Resize(crop, &small, image.Pt(renderW, h), 0, 0, gocv.InterpolationArea)
	crop.Close()
	gocv.GaussianBlur(small, &small, image.Pt(3, 3), 0.8, 0.8, gocv.BorderReflect101)
	gocv.Resize(small, &up, image.Pt(box.Dx(), box.Dy()), 0, 0, gocv.InterpolationLinear)
	small.Close()
	mask := gocv.NewMatWithSize(frame.Rows(), frame.Cols(), gocv.MatTypeCV8U)
	var poly []image.Point
	for _, q := range g.hull {
		poly = append(poly, image.Pt(int(q.x), int(q.y)))
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{poly})
	gocv.FillPoly(&mask, pv, color.RGBA{255, 255, 255, 255})
	pv.Close()
	feather := 0.04 * g.w
	gocv.GaussianBlur(mask, &mask, image.Pt(0, 0), feather/2, feather/2, gocv.BorderReflect101)
	out := frame.Clone()
	op, err := out.DataPtrUint8()
	require.NoError(t, err)
	upx, err := up.DataPtrUint8()
	require.NoError(t, err)
	mk, err := mask.DataPtrUint8()
	require.NoError(t, err)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			a := float64(mk[y*frame.Cols()+x]) / 255
			if a == 0 {
				continue
			}
			oi, ui := 3*(y*frame.Cols()+x), 3*((y-box.Min.Y)*box.Dx()+x-box.Min.X)
			for c := 0; c < 3; c++ {
				op[oi+c] = uint8(math.Round(a*float64(upx[ui+c]) + (1-a)*float64(op[oi+c])))
			}
		}
	}
	up.Close()
	mask.Close()
	return out
}

func TestTextureNotMeasurable(t *testing.T) {
	scene := texTScene(texTFace, 3)
	mk := func(i int) gocv.Mat { return texTNoisy(t, scene, 3, int64(i)) }
	cases := []struct {
		name   string
		frames int
		face   image.Rectangle
		want   string
	}{
		{"no frames", 0, texTFace, "no video frame"},
		{"no face", 12, image.Rectangle{}, "no face was visible"},
		{"tiny face", 12, image.Rect(300, 200, 330, 230), "too small"},
		{"too short", 4, texTFace, "too little usable face"},
	}
	for name, mkDet := range texTDetectors() {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				d := mkDet()
				defer d.Close()
				r := texTRun(t, d, tc.frames, tc.face, mk)
				require.False(t, r.Measured())
				require.Equal(t, name, r.Signal)
				want := tc.want
				if name == SeamSignal && tc.name == "too short" {
					// This scene has no neck: the seam names that first
					// (TestSeamNotMeasurable has its short case).
					want = "skin below the chin"
				}
				require.Contains(t, r.NotMeasurable, want)
			})
		}
	}
}

func TestTextureRejectsBadFrames(t *testing.T) {
	for name, mkDet := range texTDetectors() {
		t.Run(name, func(t *testing.T) {
			d := mkDet()
			defer d.Close()
			img := gocv.NewMatWithSize(48, 64, gocv.MatTypeCV8U) // grey where BGR is promised
			defer img.Close()
			err := d.Observe(&VideoFrame{Image: img, Gray: img, Faces: []Face{{Rect: image.Rect(0, 0, 40, 40)}}})
			require.ErrorIs(t, err, ErrTextureFrame)
			require.NoError(t, d.Close())
			require.NoError(t, d.Close(), "Close is idempotent")
		})
	}
}

func TestTextureRegistered(t *testing.T) {
	s := &Set{}
	require.NoError(t, registerVideoTexture(Config{FPS: 10}, s))
	defer s.Close()
	var names []string
	for _, d := range s.Video {
		names = append(names, d.Name())
	}
	require.ElementsMatch(t, []string{BoundarySignal, SeamSignal, ContextSignal, SpectrumSignal}, names)
}

func TestTextureHistQuantile(t *testing.T) {
	h := texHist{lo: -1, hi: 1}
	require.True(t, math.IsNaN(h.quantile(0.5)))
	for i := 0; i < 1000; i++ {
		h.add(-1 + 2*float64(i)/999)
	}
	h.add(math.NaN())
	require.Equal(t, 1000, h.n)
	require.InDelta(t, 0, h.quantile(0.5), 0.01)
	require.InDelta(t, -0.8, h.quantile(0.1), 0.01)
	h.add(50) // clamped into the top bin
	require.InDelta(t, 1, h.quantile(1), 0.01)
}

func TestTextureNoiseBlocksMeasureSigma(t *testing.T) {
	// Immerkær's estimator recovers the noise of a flat grey picture.
	for _, sigma := range []float64{2, 5} {
		flat := [3][]float64{}
		for c := range flat {
			flat[c] = make([]float64, texTW*texTH)
			for i := range flat[c] {
				flat[c][i] = 128
			}
		}
		img := texTNoisy(t, flat, sigma, 1)
		gray := gocv.NewMat()
		gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
		n := newTexNoiser()
		var g texBlockGrid
		require.True(t, n.blocks(gray, image.Rect(100, 100, 300, 260), 8, &g))
		require.Equal(t, 25, g.Cols)
		require.Equal(t, 20, g.Rows)
		var v []float64
		for _, s := range g.Sigma {
			v = append(v, float64(s))
		}
		// The grey conversion averages three independent channels:
		// σ_gray² = (0.299² + 0.587² + 0.114²) σ².
		want := sigma * math.Sqrt(0.299*0.299+0.587*0.587+0.114*0.114)
		require.InDelta(t, want, texQuantile(v, 0.5), 0.15*want)
		require.False(t, n.blocks(gray, image.Rect(0, 0, 12, 12), 8, &g), "under 2×2 tiles")
		require.NoError(t, n.Close())
		require.NoError(t, n.Close())
		gray.Close()
		img.Close()
	}
}

// texTEvidence is, per signal, the summary value that grows with the
// evidence of manipulation: the ring contrast, the chin seam's noise step,
// and the negated face/context ratio and face−background slope. Direction tests compare these rather
// than the scores, which saturate near 0 for most genuine-looking videos.
var texTEvidence = map[string]struct {
	value string
	sign  float64
}{
	BoundarySignal: {"ring_contrast", 1},
	SeamSignal:     {"chin_seam_noise_step", 1},
	ContextSignal:  {"face_to_context", -1},
	SpectrumSignal: {"face_minus_background_slope", -1},
}

// texTCorpusScores runs the four texture detectors over the first
// seconds of a corpus video through the real decoder, face tracker and
// landmark fit and returns each signal's evidence value (missing when not
// measured).
func texTCorpusScores(t testing.TB, path string, seconds float64) map[string]float64 {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	var tools media.Tools
	ctx := context.Background()
	info, err := tools.Probe(ctx, path)
	require.NoError(t, err)
	opts := media.DefaultVideoOptions()
	opts.Duration = time.Duration(seconds * float64(time.Second))
	vr, err := tools.OpenVideo(ctx, info, opts)
	require.NoError(t, err)
	defer vr.Close()
	tr, err := NewFaceTracker(fm)
	require.NoError(t, err)
	defer tr.Close()
	lm, err := NewLandmarker(fm.Landmarks)
	require.NoError(t, err)
	defer lm.Close()
	dets := []VideoDetector{NewBoundary(), NewSeam(), NewFaceContext(), NewSpectrum()}
	defer func() {
		for _, d := range dets {
			require.NoError(t, d.Close())
		}
	}()
	gray := gocv.NewMat()
	defer gray.Close()
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		gocv.CvtColor(f.Image, &gray, gocv.ColorBGRToGray)
		vf := &VideoFrame{Index: f.Index, Time: f.PTS.Seconds(), Image: f.Image, Gray: gray, FPS: opts.FPS}
		vf.Faces = tr.Track(gray, vf.Time)
		if len(vf.Faces) > 0 { // as analysis.FramePreparer does
			if pts, err := lm.Fit(gray, vf.Faces[0].Rect); err == nil {
				vf.Faces[0].Landmarks = pts
			}
		}
		for _, d := range dets {
			require.NoError(t, d.Observe(vf))
		}
	}
	out := map[string]float64{}
	for _, d := range dets {
		if r := d.Finish(); r.Measured() {
			texTCheckResult(t, r, d.Name())
			e := texTEvidence[d.Name()]
			out[d.Name()] = e.sign * summaryValue(t, r, e.value)
		}
	}
	return out
}

// texTByKind locates a corpus item by kind and source substring.
func texTByKind(kind, src string) func(t testing.TB) string {
	return func(t testing.TB) string { return testutil.CorpusFile(t, kind, src) }
}

// texTSim locates the simulated item (or its re-encoded genuine control)
// of the given kind made from the genuine original whose source contains
// origSrc: the simulated items name their input by its corpus path.
func texTSim(kind, origSrc string) func(t testing.TB) string {
	return func(t testing.TB) string {
		orig := testutil.CorpusFile(t, "genuine", origSrc)
		return testutil.CorpusFile(t, kind, "simswap.py video/"+filepath.Base(orig)+" ")
	}
}

// texTPairs are dev-corpus pairs of a genuine video and a manipulated one
// made from the same source, and which signals are expected to find more
// evidence of manipulation in the manipulated one (false: a known miss,
// logged but not asserted; see docs/detectors-video-texture.md).
var texTPairs = []struct {
	name                          string
	genuine, fake                 func(t testing.TB) string
	boundary, seam, ctx, spectrum bool
}{
	{"ffpp-deepfakes-519", texTByKind("genuine", "519.mp4"), texTByKind("deepfakes-ffpp", "519_515"), true, false, true, true},
	{"ffpp-faceswap-634", texTByKind("genuine", "634.mp4"), texTByKind("faceswap-ffpp", "634_660"), true, false, false, true},
	// FF++ c23: the seam's chin step is larger on the genuine 519 than on
	// its Deepfakes version, and equal on 634/FaceSwap: known misses.
	// DeepFaceLive: over the 20 dev pairs boundary, context and spectrum
	// order the swap above its source in only 9–12 pairs (chance) and the
	// seam in 13 of 19, so no direction is asserted; the pairs still check
	// that every signal measures these downscaled screen captures.
	{"sim-render-128-634", texTSim("genuine-reencode-sim", "634.mp4"), texTSim("sim-render-128", "634.mp4"), true, true, true, true},
	{"sim-swap-160-519", texTSim("genuine-reencode-sim", "519.mp4"), texTSim("sim-swap-160", "519.mp4"), true, true, true, false},
	{"dfl-Tim_Chrys_0", texTByKind("genuine-dfl-source", "Tim_Chrys_0.mp4"), texTByKind("faceswap-deepfacelive", "Tim_Chrys_0.mp4"), false, false, false, false},
	{"dfl-Kim_Jarrey_3", texTByKind("genuine-dfl-source", "Kim_Jarrey_3.mp4"), texTByKind("faceswap-deepfacelive", "Kim_Jarrey_3.mp4"), false, false, false, false},
}

func TestTextureCorpusDirection(t *testing.T) {
	testutil.CorpusDir(t)
	for _, p := range texTPairs {
		t.Run(p.name, func(t *testing.T) {
			gen := texTCorpusScores(t, p.genuine(t), 10)
			fake := texTCorpusScores(t, p.fake(t), 10)
			for sig, want := range map[string]bool{BoundarySignal: p.boundary, SeamSignal: p.seam, ContextSignal: p.ctx, SpectrumSignal: p.spectrum} {
				g, okG := gen[sig]
				f, okF := fake[sig]
				require.True(t, okG && okF, "%s measured on both", sig)
				t.Logf("%s evidence: genuine %.3f manipulated %.3f", sig, g, f)
				if want {
					require.Greater(t, f, g, "%s should score the manipulated video higher", sig)
				}
			}
		})
	}
}

// texTCPUTime returns the process's user+system CPU time.
func texTCPUTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	require.NoError(tb, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTextureObserve measures each detector's cost per analysed frame
// (640×480, 200-px face box, 217-px jaw width, with landmarks). The detectors analyse at most one frame per
// texSampleInterval, i.e. every second frame at the default 10 fps, so
// the cost per decoded frame is about half of this.
func BenchmarkTextureObserve(b *testing.B) {
	scene := texTSceneNeck(texTFace, 7)
	img := texTNoisy(b, scene, 3, 1)
	defer img.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
	for name, mk := range texTDetectors() {
		b.Run(name, func(b *testing.B) {
			d := mk()
			defer d.Close()
			vf := &VideoFrame{Image: img, Gray: gray, FPS: 10, Faces: []Face{{Rect: texTFace, Detected: true, Landmarks: texTLandmarks(texTFace)}}}
			cpu0 := texTCPUTime(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				vf.Index, vf.Time = i, 0.2*float64(i)
				if err := d.Observe(vf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// CPU time (all threads, OpenCV's included) is the cost that
			// matters on a shared machine, where wall time also counts
			// waiting for a core.
			b.ReportMetric(float64(texTCPUTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
