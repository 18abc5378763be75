package detectors

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// FlickerSignal is the name of the temporal flicker / identity drift
// signal.
const FlickerSignal = "video.flicker"

// Flicker parameters.
const (
	flickerMinFace   = 64 // px face box height
	flickerFacePatch = 32 // inner face resized to 32², enough for colour and coarse texture
	flickerCtxPatch  = 48 // face box grown by flickerCtxGrow, resized to 48²
	flickerCtxGrow   = 0.5
	flickerMinCtx    = 0.25 // the ring must be at least this fraction of its patch
	flickerMinSkin   = 0.3
	flickerGapFrames = 3
	flickerMinFrames = 20 // frame triples for a summary
	// Floors added to face and context instability before dividing, so
	// that a perfectly still context does not make the ratio explode: about
	// the instability of a static scene after 8-bit quantisation.
	flickerChromaFloor = 0.2    // chromaticity ×1000
	flickerRelFloor    = 0.0005 // relative brightness or texture change
	// An appearance jump is a frame whose face changed more than
	// flickerSpikeFace times the window's median change while the context
	// changed less than flickerSpikeCtx times its own: the face alone
	// changed, as when a swap breaks down for a frame.
	flickerSpikeFace = 4.0
	flickerSpikeCtx  = 2.0
)

// Score mapping of the colour flicker ratio (the face's chromaticity
// instability over its context's). A swap renders and colour-matches the
// face anew in every frame, so its colour jitters in a way the real skin,
// hair and background around it do not (the temporal inconsistency that
// live challenges such as GOTCHA, arXiv 2210.06186, provoke). The ratio of
// genuine dev recordings spreads from 0.48 (10th percentile) over 0.90
// (median) to 1.33 (90th); the score is 0.5 at 1.5 and 0.88 at 2.2.
const (
	flickerRatioMid      = 1.5
	flickerRatioWidth    = 0.2 // in natural-log units
	flickerMaxConfidence = 0.5
	flickerNormalChrLow  = 0.5
	flickerNormalChrHigh = 1.35
)

// flickerFeat is what one frame contributes: colour, brightness and
// texture of the face and of its context ring, and the thumbnails used for
// appearance jumps.
type flickerFeat struct {
	t                   float64
	faceChroma, ctxChr  [2]float64 // r/(r+g+b), g/(r+g+b)
	faceLuma, ctxLuma   float64
	faceTex, ctxTex     float64 // mean absolute luma gradient
	faceThumb, ctxThumb []float64
	ctxMask             []bool // context pixels outside the face box
	transition          bool   // detection state changed (frontal↔profile, lost↔found)
}

// flickerFrame is the instability of the middle frame of a triple.
type flickerFrame struct {
	chrFace, chrCtx   float64 // chromaticity second difference (×1000)
	lumFace, lumCtx   float64 // relative brightness second difference
	texFace, texCtx   float64 // relative texture second difference
	jumpFace, jumpCtx float64 // 1 − correlation with the previous thumbnail
	transition        bool
}

// flickerStats are the medians of one timeline window.
type flickerStats struct {
	start, end        float64
	n                 int
	seconds           float64 // frame intervals covered
	chrFace, chrCtx   float64
	lumFace, lumCtx   float64
	texFace, texCtx   float64
	jumpFace, jumpCtx float64
	spikes            int // face jumps the context does not share
	transJump         float64
	transitions       int
}

// Flicker measures frame-to-frame instability of the primary face's colour,
// brightness and texture relative to the context around it (hair, neck,
// background), so that camera motion, exposure and lighting changes, which
// move both, cancel; and sudden appearance jumps of the face that the
// context does not share, as when a swap breaks down on a profile turn or
// an occlusion. Memory: the last three frames' features and the per-frame
// numbers of the current 5-s timeline window, reduced to a few medians when
// the window closes.
type Flicker struct {
	face, ctx physioPatch

	hist                      []flickerFeat // last frames of the current stretch (≤ 3)
	track                     int
	lastT                     float64
	prevDetected, prevProfile bool

	cur     int // timeline window being filled
	curWin  []flickerFrame
	curSec  float64
	windows []flickerStats

	physioClock
	faceFrames, smallFaces int
	noContext              int // frames whose face left too little context
}

// NewFlicker returns the temporal flicker detector.
func NewFlicker() *Flicker {
	return &Flicker{
		face:        newPhysioPatch(flickerFacePatch, flickerFacePatch),
		ctx:         newPhysioPatch(flickerCtxPatch, flickerCtxPatch),
		track:       -1,
		physioClock: newPhysioClock(),
	}
}

// Name implements VideoDetector.
func (d *Flicker) Name() string { return FlickerSignal }

// Observe implements VideoDetector.
func (d *Flicker) Observe(f *VideoFrame) error {
	if err := d.tick(f); err != nil {
		return err
	}
	if w := windowOf(f.Time); w != d.cur {
		d.closeWindow()
		d.cur = w
	}
	face, ok := f.Primary()
	if !ok {
		d.hist = d.hist[:0]
		d.track = -1
		return nil
	}
	d.faceFrames++
	if face.Whole().Dy() < flickerMinFace {
		d.smallFaces++
		d.hist = d.hist[:0]
		return nil
	}
	fps := math.Max(f.FPS, 1)
	if face.TrackID != d.track || (len(d.hist) > 0 && f.Time-d.lastT > flickerGapFrames/fps) {
		d.hist = d.hist[:0]
		d.track = face.TrackID
		d.prevDetected, d.prevProfile = face.Detected, face.Profile
	}
	feat, ok, err := d.features(f, face)
	if err != nil {
		return err
	}
	if !ok {
		d.noContext++
		d.hist = d.hist[:0]
		return nil
	}
	feat.transition = face.Detected != d.prevDetected || face.Profile != d.prevProfile
	d.prevDetected, d.prevProfile = face.Detected, face.Profile
	d.lastT = f.Time
	if len(d.hist) == 3 {
		d.hist = append(d.hist[:0], d.hist[1:]...)
	}
	d.hist = append(d.hist, feat)
	if len(d.hist) == 3 {
		d.curWin = append(d.curWin, flickerTriple(d.hist[0], d.hist[1], d.hist[2]))
		d.curSec += d.hist[2].t - d.hist[1].t
	}
	return nil
}

// features measures the face and its context ring in frame f. ok is false
// when the face or the ring is too small to measure.
func (d *Flicker) features(f *VideoFrame, face Face) (feat flickerFeat, ok bool, err error) {
	bounds := image.Rect(0, 0, f.Image.Cols(), f.Image.Rows())
	// The inner face and the ring are placed on the whole box and cut to
	// the frame: on a face the picture cuts off, they are the parts of it
	// that the frame shows.
	inner := Sub(face.Whole(), RegionInnerFace, bounds)
	grown := Grow(face.Whole(), flickerCtxGrow, bounds)
	if inner.Dx() < 8 || inner.Dy() < 8 || grown.Dx() < 8 || grown.Dy() < 8 {
		return feat, false, nil
	}
	feat.t = f.Time
	pix, _, err := d.face.load(f.Image, inner)
	if err != nil {
		return feat, false, err
	}
	n := flickerFacePatch
	// Colour from the skin only: eyes and mouth change with expression.
	bgr, _ := physioSkinMean(pix, n, image.Rect(0, 0, n, n), flickerMinSkin)
	feat.faceChroma, feat.faceLuma = flickerChroma(bgr)
	feat.faceThumb, feat.faceTex = flickerLuma(pix, n, nil)

	pix, _, err = d.ctx.load(f.Image, grown)
	if err != nil {
		return feat, false, err
	}
	// The face box inside the grown patch, in patch pixels, is left out.
	m := flickerCtxPatch
	sx, sy := float64(m)/float64(grown.Dx()), float64(m)/float64(grown.Dy())
	hole := image.Rect(int(float64(face.Rect.Min.X-grown.Min.X)*sx), int(float64(face.Rect.Min.Y-grown.Min.Y)*sy),
		int(math.Ceil(float64(face.Rect.Max.X-grown.Min.X)*sx)), int(math.Ceil(float64(face.Rect.Max.Y-grown.Min.Y)*sy)))
	mask := make([]bool, m*m)
	ring := 0
	var sum [3]float64
	for y := range m {
		for x := range m {
			if image.Pt(x, y).In(hole) {
				continue
			}
			i := y*m + x
			mask[i] = true
			ring++
			for c := range 3 {
				sum[c] += float64(pix[3*i+c])
			}
		}
	}
	if float64(ring) < flickerMinCtx*float64(m*m) {
		return feat, false, nil
	}
	for c := range sum {
		sum[c] /= float64(ring)
	}
	feat.ctxChr, feat.ctxLuma = flickerChroma(sum)
	feat.ctxThumb, feat.ctxTex = flickerLuma(pix, m, mask)
	feat.ctxMask = mask
	return feat, true, nil
}

// flickerChroma returns the chromaticity (r, g) and the luma of a mean
// BGR colour.
func flickerChroma(bgr [3]float64) ([2]float64, float64) {
	s := bgr[0] + bgr[1] + bgr[2]
	luma := 0.114*bgr[0] + 0.587*bgr[1] + 0.299*bgr[2]
	if s <= 0 {
		return [2]float64{}, luma
	}
	return [2]float64{bgr[2] / s, bgr[1] / s}, luma
}

// flickerLuma returns the luma of every pixel of a w×w BGR patch (0 where
// mask is false) and the mean absolute luma gradient inside the mask (all
// pixels when mask is nil).
func flickerLuma(pix []uint8, w int, mask []bool) ([]float64, float64) {
	l := make([]float64, w*w)
	in := func(i int) bool { return mask == nil || mask[i] }
	for i := range l {
		if in(i) {
			l[i] = 0.114*float64(pix[3*i]) + 0.587*float64(pix[3*i+1]) + 0.299*float64(pix[3*i+2])
		}
	}
	var tex float64
	n := 0
	for y := 0; y < w-1; y++ {
		for x := 0; x < w-1; x++ {
			i := y*w + x
			if in(i) && in(i+1) && in(i+w) {
				tex += math.Abs(l[i+1]-l[i]) + math.Abs(l[i+w]-l[i])
				n++
			}
		}
	}
	if n > 0 {
		tex /= float64(n)
	}
	return l, tex
}

// flickerTriple measures the instability of the middle frame b: how far
// each quantity departs from the mean of its neighbours (a second
// difference, blind to steady drifts such as slow motion or a lighting
// ramp), and the appearance jump from a to b.
func flickerTriple(a, b, c flickerFeat) flickerFrame {
	sd := func(x, y, z float64) float64 { return math.Abs(y - (x+z)/2) }
	rel := func(x, y, z float64) float64 {
		m := (x + y + z) / 3
		if m <= 0 {
			return 0
		}
		return sd(x, y, z) / m
	}
	chr := func(x, y, z [2]float64) float64 {
		return 1000 * math.Hypot(sd(x[0], y[0], z[0]), sd(x[1], y[1], z[1]))
	}
	return flickerFrame{
		chrFace:    chr(a.faceChroma, b.faceChroma, c.faceChroma),
		chrCtx:     chr(a.ctxChr, b.ctxChr, c.ctxChr),
		lumFace:    rel(a.faceLuma, b.faceLuma, c.faceLuma),
		lumCtx:     rel(a.ctxLuma, b.ctxLuma, c.ctxLuma),
		texFace:    rel(a.faceTex, b.faceTex, c.faceTex),
		texCtx:     rel(a.ctxTex, b.ctxTex, c.ctxTex),
		jumpFace:   1 - physioCorrelation(a.faceThumb, b.faceThumb),
		jumpCtx:    flickerRingJump(a, b),
		transition: b.transition,
	}
}

// flickerRingJump is 1 − the correlation of two frames' context rings over
// the pixels both hold (the hole moves when the face box is clipped at the
// frame's edge).
func flickerRingJump(a, b flickerFeat) float64 {
	x := make([]float64, 0, len(a.ctxThumb))
	y := make([]float64, 0, len(a.ctxThumb))
	for i := range a.ctxThumb {
		if a.ctxMask[i] && b.ctxMask[i] {
			x = append(x, a.ctxThumb[i])
			y = append(y, b.ctxThumb[i])
		}
	}
	return 1 - physioCorrelation(x, y)
}

func (d *Flicker) closeWindow() {
	fr, sec := d.curWin, d.curSec
	d.curWin, d.curSec = d.curWin[:0], 0
	if len(fr) < 3 {
		return
	}
	col := func(get func(flickerFrame) float64) float64 {
		v := make([]float64, len(fr))
		for i, x := range fr {
			v[i] = get(x)
		}
		return physioMedian(v)
	}
	s := flickerStats{start: float64(d.cur) * WindowSeconds, end: float64(d.cur+1) * WindowSeconds, n: len(fr), seconds: sec}
	s.chrFace = col(func(x flickerFrame) float64 { return x.chrFace })
	s.chrCtx = col(func(x flickerFrame) float64 { return x.chrCtx })
	s.lumFace = col(func(x flickerFrame) float64 { return x.lumFace })
	s.lumCtx = col(func(x flickerFrame) float64 { return x.lumCtx })
	s.texFace = col(func(x flickerFrame) float64 { return x.texFace })
	s.texCtx = col(func(x flickerFrame) float64 { return x.texCtx })
	s.jumpFace = col(func(x flickerFrame) float64 { return x.jumpFace })
	s.jumpCtx = col(func(x flickerFrame) float64 { return x.jumpCtx })
	var tj []float64
	prev := false
	for _, x := range fr {
		// A jump and the jump back (a one-frame break-down) are one event.
		spike := x.jumpFace > flickerSpikeFace*s.jumpFace+0.01 && x.jumpCtx < flickerSpikeCtx*s.jumpCtx+0.005
		if spike && !prev {
			s.spikes++
		}
		prev = spike
		if x.transition {
			s.transitions++
			tj = append(tj, x.jumpFace)
		}
	}
	if len(tj) > 0 && s.jumpFace > 0 {
		s.transJump = physioMedian(tj) / s.jumpFace
	}
	d.windows = append(d.windows, s)
}

// Finish implements VideoDetector.
func (d *Flicker) Finish() Result {
	d.closeWindow()
	n, spikes, trans := 0, 0, 0
	var seconds float64
	var chr, lum, tex, transJ, wts []float64
	r := Result{Signal: FlickerSignal, Modality: Video}
	for _, w := range d.windows {
		n += w.n
		seconds += w.seconds
		spikes += w.spikes
		trans += w.transitions
		if w.transitions > 0 {
			transJ = append(transJ, w.transJump)
		}
		c := flickerRatio(w.chrFace, w.chrCtx, flickerChromaFloor)
		chr = append(chr, c)
		lum = append(lum, flickerRatio(w.lumFace, w.lumCtx, flickerRelFloor))
		tex = append(tex, flickerRatio(w.texFace, w.texCtx, flickerRelFloor))
		wts = append(wts, float64(w.n))
		r.Windows = append(r.Windows, Finding{
			Signal: FlickerSignal, Modality: Video, Start: w.start, End: math.Min(w.end, d.prevT),
			Score:       physioRound(flickerScore(c), 3),
			Confidence:  physioRound(flickerConfidence(w.n), 3),
			Values:      []Measurement{M("colour_flicker_ratio", physioRound(c, 3), "", flickerNormalChrLow, flickerNormalChrHigh)},
			Explanation: flickerExplain(c),
		})
	}
	if n < flickerMinFrames {
		return NotMeasured(FlickerSignal, Video, d.reason())
	}
	c := physioWeightedMedian(chr, wts)
	vals := []Measurement{
		M("colour_flicker_ratio", physioRound(c, 3), "", flickerNormalChrLow, flickerNormalChrHigh),
		M("brightness_flicker_ratio", physioRound(physioWeightedMedian(lum, wts), 3), "", 0.45, 1.7),
		M("texture_flicker_ratio", physioRound(physioWeightedMedian(tex, wts), 3), "", 0.65, 4.3),
		M("appearance_jumps", physioRound(60*float64(spikes)/math.Max(seconds, 1e-9), 2), "/min", 0, 20),
		{Name: "detection_changes", Value: float64(trans)},
	}
	if len(transJ) > 0 {
		vals = append(vals, M("jump_at_detection_change", physioRound(physioMedian(transJ), 2), "×", 0, 10))
	}
	vals = append(vals, Measurement{Name: "measured_seconds", Value: physioRound(seconds, 2), Unit: "s"})
	r.Summary = &Finding{
		Signal: FlickerSignal, Modality: Video, Start: d.windows[0].start, End: math.Min(d.windows[len(d.windows)-1].end, d.prevT),
		Score:       physioRound(flickerScore(c), 3),
		Confidence:  physioRound(flickerConfidence(n), 3),
		Values:      vals,
		Explanation: flickerExplain(c),
	}
	return r
}

// flickerScore maps the colour flicker ratio to a score: 0.5 at
// flickerRatioMid, logistic in the logarithm of the ratio.
func flickerScore(ratio float64) float64 {
	return physioLogistic(math.Log(math.Max(ratio, 1e-6)), math.Log(flickerRatioMid), flickerRatioWidth)
}

// flickerConfidence grows with the frame triples measured, up to 30 s at
// 10 fps; the cue is indirect, so it stays at most flickerMaxConfidence.
func flickerConfidence(triples int) float64 {
	return flickerMaxConfidence * physioClamp01(float64(triples)/300)
}

func flickerExplain(ratio float64) string {
	switch sc := flickerScore(ratio); {
	case sc < 0.3:
		return fmt.Sprintf("The colour of the face changed from frame to frame %.1f times as much as its surroundings (live faces %.1f–%.1f), as in a live recording.",
			ratio, flickerNormalChrLow, flickerNormalChrHigh)
	case sc < 0.5:
		return fmt.Sprintf("The colour of the face changed from frame to frame %.1f times as much as its surroundings (live faces %.1f–%.1f), a little more than in most live recordings.",
			ratio, flickerNormalChrLow, flickerNormalChrHigh)
	default:
		return fmt.Sprintf("The colour of the face flickered from frame to frame %.1f times as much as its surroundings (live faces %.1f–%.1f), which suggests a face re-rendered frame by frame.",
			ratio, flickerNormalChrLow, flickerNormalChrHigh)
	}
}

// flickerRatio is (face + floor) / (context + floor).
func flickerRatio(face, ctx, floor float64) float64 {
	return (face + floor) / (ctx + floor)
}

func (d *Flicker) reason() string {
	switch {
	case d.frames == 0:
		return "no video frame was analysed"
	case d.faceFrames == 0:
		return "no face was visible"
	case d.smallFaces*2 > d.faceFrames:
		return fmt.Sprintf("the face is smaller than the %d px needed to compare it with its surroundings", flickerMinFace)
	case d.noContext*2 > d.faceFrames:
		return "the face fills the frame, leaving no surroundings to compare it with"
	default:
		return "the face was visible for too few consecutive frames"
	}
}

// Close implements VideoDetector. It is idempotent.
func (d *Flicker) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return errors.Join(d.face.close(), d.ctx.close())
}
