package detectors

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"

	"gocv.io/x/gocv"
)

// Helpers shared by the texture/compositing detectors (video.boundary,
// video.seam, video.context, video.spectrum). Names carry a "tex" (or, for
// the landmark geometry, "seam") prefix because the package is shared by
// several groups.

// texLogistic maps x to (0,1) with a smooth step centred on mid: values
// scale above mid give 0.73, 2·scale give 0.88. A negative scale makes
// lower x look more manipulated.
func texLogistic(x, mid, scale float64) float64 {
	return 1 / (1 + math.Exp(-(x-mid)/scale))
}

// texQuantile returns the q-quantile (0..1, linear interpolation) of v. It
// sorts a copy; NaN for an empty slice.
func texQuantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return texQuantileSorted(s, q)
}

func texQuantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := pos - float64(i)
	return s[i]*(1-f) + s[i+1]*f
}

func texClamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func texRound(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// ErrTextureFrame is returned by the texture detectors' Observe when a
// frame's Mats are not the 8-bit BGR and grey pictures VideoFrame promises.
var ErrTextureFrame = errors.New("texture detectors: frame is not 8-bit BGR with a matching grey image")

func texCheckFrame(f *VideoFrame) error {
	if f.Image.Empty() || f.Gray.Empty() || f.Image.Type() != gocv.MatTypeCV8UC3 || f.Gray.Type() != gocv.MatTypeCV8U ||
		f.Image.Cols() != f.Gray.Cols() || f.Image.Rows() != f.Gray.Rows() {
		return ErrTextureFrame
	}
	return nil
}

// texHist is a fixed-range histogram for quantiles of a per-frame value
// over a whole recording in constant memory. Values outside [lo, hi] are
// clamped into the end bins; with 1000 bins the quantile error is under
// 0.1 % of the range, far below the spread between recordings.
type texHist struct {
	lo, hi float64
	bins   [1000]int
	n      int
}

func (h *texHist) add(v float64) {
	if math.IsNaN(v) {
		return
	}
	i := int((v - h.lo) / (h.hi - h.lo) * float64(len(h.bins)))
	i = max(0, min(len(h.bins)-1, i))
	h.bins[i]++
	h.n++
}

// quantile returns the q-quantile (bin centre); NaN when empty.
func (h *texHist) quantile(q float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	target := q * float64(h.n-1)
	c := 0
	for i, b := range h.bins {
		c += b
		if float64(c) > target {
			return h.lo + (float64(i)+0.5)*(h.hi-h.lo)/float64(len(h.bins))
		}
	}
	return h.hi
}

// texSampler decides which frames a texture detector analyses and keeps
// the counts its not-measurable reasons need. It samples at most one frame
// per texSampleInterval seconds: neighbouring frames at 10 fps add little
// about texture and halve the cost.
type texSampler struct {
	minFaceW   int
	nextT      float64
	started    bool
	frames     int // frames seen
	faceFrames int // sampled frames with a face
	smallFaces int // sampled frames whose face was narrower than minFaceW
	maxFaceW   int
	used       int // frames that gave a measurement
	lastT      float64
}

// texSampleInterval is the least time between two analysed frames (5 fps).
const texSampleInterval = 0.19

// texMinFrames is the least number of measured frames (about 2 s of face at
// 5 fps) for a summary.
const texMinFrames = 10

// admit returns the primary face when f should be analysed.
func (s *texSampler) admit(f *VideoFrame) (Face, bool) {
	s.frames++
	s.lastT = f.Time
	if s.started && f.Time < s.nextT {
		return Face{}, false
	}
	face, ok := f.Primary()
	if !ok {
		return Face{}, false
	}
	s.started, s.nextT = true, f.Time+texSampleInterval
	s.faceFrames++
	s.maxFaceW = max(s.maxFaceW, face.Rect.Dx())
	if face.Rect.Dx() < s.minFaceW {
		s.smallFaces++
		return Face{}, false
	}
	return face, true
}

// notMeasured returns the reason a detector with s's counts cannot report,
// or "" when it has enough data.
func (s *texSampler) notMeasured() string {
	switch {
	case s.frames == 0:
		return "no video frame was analysed"
	case s.faceFrames == 0:
		return fmt.Sprintf("no face was visible in any of %d analysed frames", s.frames)
	case s.used == 0 && s.smallFaces > 0:
		return fmt.Sprintf("the face is too small to judge its texture: at most %d px wide, %d px needed", s.maxFaceW, s.minFaceW)
	case s.used < texMinFrames:
		return fmt.Sprintf("too little usable face: %d frames measured, %d (about %.0f s) needed", s.used, texMinFrames, texMinFrames*texSampleInterval+0.1)
	}
	return ""
}

// texWindow collects the per-frame values of one timeline window (at most
// WindowSeconds/texSampleInterval of them) and turns them into a Finding.
type texWindow struct {
	idx    int
	vals   []float64
	qual   []float64
	start  float64
	end    float64
	active bool
}

// add adds v (with a data-quality weight q in [0,1]) at time t; when t
// belongs to a later window, the finished window is passed to flush first.
func (w *texWindow) add(t, v, q float64, flush func(*texWindow)) {
	idx := windowOf(t)
	if w.active && idx != w.idx {
		flush(w)
		w.active = false
	}
	if !w.active {
		w.idx, w.vals, w.qual, w.active = idx, w.vals[:0], w.qual[:0], true
		w.start = t
	}
	w.vals = append(w.vals, v)
	w.qual = append(w.qual, q)
	w.end = t
}

// finish flushes the last window.
func (w *texWindow) finish(flush func(*texWindow)) {
	if w.active {
		flush(w)
		w.active = false
	}
}

// median and mean quality of the window.
func (w *texWindow) stats() (median, quality float64) {
	var q float64
	for _, v := range w.qual {
		q += v
	}
	return texQuantile(w.vals, 0.5), q / float64(max(1, len(w.qual)))
}

// bounds returns the window's timeline span.
func (w *texWindow) bounds() (float64, float64) {
	return float64(w.idx) * WindowSeconds, float64(w.idx+1) * WindowSeconds
}

// texNoiseBlocks estimates the noise level of every block×block tile of a
// grey region with Immerkær's operator (Immerkær 1996, "Fast noise variance
// estimation"): the image is filtered with the 3×3 kernel
// [1 −2 1; −2 4 −2; 1 −2 1], which cancels smooth content up to second
// order; for white noise of standard deviation σ its response has standard
// deviation 6σ. Each tile's RMS response / 6 is therefore its noise level on
// flat tiles and a measure of fine detail (sharpness) on textured ones. The
// tile means of the grey level are returned too, to reject clipped tiles.
//
// Mats are allocated once and reused; the caller owns the texNoiser and
// must Close it.
type texNoiser struct {
	kernel, hp, sq, sigma, mean gocv.Mat
	closed                      bool
}

func newTexNoiser() *texNoiser {
	k := gocv.NewMatWithSize(3, 3, gocv.MatTypeCV32F)
	vals := [9]float32{1, -2, 1, -2, 4, -2, 1, -2, 1}
	for i, v := range vals {
		k.SetFloatAt(i/3, i%3, v)
	}
	return &texNoiser{kernel: k, hp: gocv.NewMat(), sq: gocv.NewMat(), sigma: gocv.NewMat(), mean: gocv.NewMat()}
}

// texBlockGrid is the result of texNoiser.blocks: tile (i, j) covers
// Origin + (j·Block, i·Block) … + Block.
type texBlockGrid struct {
	Origin     image.Point
	Block      int
	Rows, Cols int
	Sigma      []float32 // noise/detail level per tile, grey levels
	Mean       []float32 // mean grey level per tile
}

// Rect returns tile (i, j) in frame coordinates.
func (g *texBlockGrid) Rect(i, j int) image.Rectangle {
	x, y := g.Origin.X+j*g.Block, g.Origin.Y+i*g.Block
	return image.Rect(x, y, x+g.Block, y+g.Block)
}

// blocks measures the tiles of roi (clipped to gray's bounds and trimmed to
// whole tiles). It returns false when roi holds fewer than 2×2 tiles.
func (n *texNoiser) blocks(gray gocv.Mat, roi image.Rectangle, block int, g *texBlockGrid) bool {
	roi = roi.Intersect(image.Rect(0, 0, gray.Cols(), gray.Rows()))
	cols, rows := roi.Dx()/block, roi.Dy()/block
	if cols < 2 || rows < 2 {
		return false
	}
	roi = image.Rect(roi.Min.X, roi.Min.Y, roi.Min.X+cols*block, roi.Min.Y+rows*block)
	reg := gray.Region(roi)
	gocv.Filter2D(reg, &n.hp, gocv.MatTypeCV32F, n.kernel, image.Pt(-1, -1), 0, gocv.BorderReflect101)
	gocv.Resize(reg, &n.mean, image.Pt(cols, rows), 0, 0, gocv.InterpolationArea)
	reg.Close()
	gocv.Multiply(n.hp, n.hp, &n.sq)
	gocv.Resize(n.sq, &n.sigma, image.Pt(cols, rows), 0, 0, gocv.InterpolationArea)
	sig, err := n.sigma.DataPtrFloat32()
	if err != nil {
		return false
	}
	g.Origin, g.Block, g.Rows, g.Cols = roi.Min, block, rows, cols
	g.Sigma = g.Sigma[:0]
	g.Mean = g.Mean[:0]
	for _, v := range sig {
		g.Sigma = append(g.Sigma, float32(math.Sqrt(math.Max(float64(v), 0))/6))
	}
	mb, err := n.mean.DataPtrUint8()
	if err != nil {
		return false
	}
	for _, v := range mb {
		g.Mean = append(g.Mean, float32(v))
	}
	return true
}

// Close frees the Mats. It is idempotent.
func (n *texNoiser) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	for _, m := range []*gocv.Mat{&n.kernel, &n.hp, &n.sq, &n.sigma, &n.mean} {
		m.Close()
	}
	return nil
}
