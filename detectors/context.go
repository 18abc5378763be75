package detectors

import (
	"fmt"
	"image"
	"math"
	"sort"

	"gocv.io/x/gocv"
)

// ContextSignal is the name of the face-versus-context texture signal.
const ContextSignal = "video.context"

// FaceContext compares the sensor noise and fine detail of the inner face
// with those of its surroundings in the same frame (hair, neck, shoulders,
// background). Swap and reenactment tools render the face at 128–512 px,
// smooth it and scale it into the frame, so it carries less sensor noise
// and fine texture than the rest of the picture, which the camera saw
// directly.
//
// Every analysed frame is cut into 8×8 tiles over the face box grown by one
// box on each side, and each tile gets its noise/detail level from
// Immerkær's operator (see texNoiser). When the primary face has
// landmarks on a frontal view, the face set is the tiles whose centre lies
// more than 0.08 face widths inside the landmark hull (jaw line and lifted
// brows, the outline swap tools paste through; see seamFace) and the
// context set the tiles more than 0.08 face widths outside it; tiles on
// the hull's feathered edge belong to neither. Otherwise (profile views,
// failed fits) the face set is the Haar box's inner face
// (RegionInnerFace) and the context the tiles outside the box grown by
// 15 %. Context tiles clipped to black or white are dropped. Two ratios
// are taken, each normalised by the frame's own context so that camera,
// lighting and codec cancel:
//
//   - noise floor: 25th percentile of the face tiles / 25th percentile of
//     the context tiles (the flattest tiles show the sensor noise);
//   - fine detail (sharpness): 90th percentile / 90th percentile (the most
//     textured tiles show how sharp each part is).
//
// The frame's measurement is the mean of the two log ratios and the summary
// its median over frames. Faces are naturally smoother than a textured
// background and sharper than a blurred one, so the ratios are judged
// against their spread on genuine dev videos, not against 1.
//
// Cost: one 3×3 filter over at most the whole frame, two resizes and two
// partial sorts of a few thousand tiles, about every 0.2 s. Memory:
// histograms and the current timeline window.
type FaceContext struct {
	sampler   texSampler
	noise     *texNoiser
	grid      texBlockGrid
	face, ctx []float64
	// withLandmarks counts the measured frames placed by the landmark
	// hull rather than the Haar box.
	withLandmarks int

	combo, noiseRatio, detailRatio, level texHist
	win                                   texWindow
	windows                               []Finding
	closed                                bool
}

// FaceContext parameters.
const (
	contextMinFace   = 48   // px face box width: at least about 5×6 inner-face tiles
	contextTile      = 8    // px
	contextGrow      = 1.0  // context area: face box grown by one box per side
	contextExclude   = 0.15 // tiles touching the face box grown by this are neither
	contextMinTiles  = 8    // per side and frame
	contextEps       = 0.25 // grey levels added to both sides of a ratio
	contextDarkTile  = 12   // tiles darker or brighter than these are clipped
	contextLightTile = 243
	// contextHullMargin (face widths) keeps face and context tiles off the
	// hull, where a swap mask's feathered edge mixes both.
	contextHullMargin = 0.08

	// The score is a logistic in the median mean log ratio, centred on the
	// 10th percentile of the 65 genuine dev videos pooled over three
	// conditions: as they are (−0.135), re-encoded like a call with VP8 at
	// 400 kb/s (−0.15) and with H.264 at 500 kb/s (−0.13), i.e. −0.13: the
	// face has 88 % of its context's noise and detail (genuine median
	// 0.16). Width 0.12: a typical genuine face scores about 0.08 and one
	// with a third less noise and detail than its context (−0.4) about 0.9.
	contextMid     = -0.13
	contextScale   = 0.12
	contextLow     = -0.13 // genuine dev 10th–90th percentile of the mean log ratio, pooled
	contextHigh    = 0.60
	contextMaxConf = 0.6
)

// NewFaceContext returns the face-versus-context detector.
func NewFaceContext() *FaceContext {
	return &FaceContext{
		sampler:     texSampler{minFaceW: contextMinFace},
		noise:       newTexNoiser(),
		combo:       texHist{lo: -3, hi: 3},
		noiseRatio:  texHist{lo: -3, hi: 3},
		detailRatio: texHist{lo: -3, hi: 3},
		level:       texHist{lo: 0, hi: 20},
	}
}

// Name implements VideoDetector.
func (d *FaceContext) Name() string { return ContextSignal }

// Observe implements VideoDetector.
func (d *FaceContext) Observe(f *VideoFrame) error {
	if err := texCheckFrame(f); err != nil {
		return err
	}
	face, ok := d.sampler.admit(f)
	if !ok {
		return nil
	}
	var hull *seamFace
	if !face.Profile {
		if g, err := newSeamFace(face.Landmarks); err == nil {
			hull = &g
		}
	}
	nr, dr, level, ok := d.measure(f.Gray, face.Rect, hull)
	if !ok {
		return nil
	}
	if hull != nil {
		d.withLandmarks++
	}
	d.sampler.used++
	c := (nr + dr) / 2
	d.combo.add(c)
	d.noiseRatio.add(nr)
	d.detailRatio.add(dr)
	d.level.add(level)
	d.win.add(f.Time, c, contextQuality(level), d.flush)
	return nil
}

// measure returns the frame's noise-floor and detail log ratios (face over
// context) and the context's noise floor in grey levels.
func (d *FaceContext) measure(gray gocv.Mat, r image.Rectangle, hull *seamFace) (noiseRatio, detailRatio, level float64, ok bool) {
	bounds := image.Rect(0, 0, gray.Cols(), gray.Rows())
	if !d.noise.blocks(gray, Grow(r, contextGrow, bounds), contextTile, &d.grid) {
		return 0, 0, 0, false
	}
	inner := Sub(r, RegionInnerFace, bounds)
	excl := Grow(r, contextExclude, bounds)
	var near image.Rectangle
	if hull != nil {
		m := int(math.Ceil(contextHullMargin * hull.w))
		near = image.Rect(hull.bbox.Min.X-m, hull.bbox.Min.Y-m, hull.bbox.Max.X+m+1, hull.bbox.Max.Y+m+1)
	}
	d.face, d.ctx = d.face[:0], d.ctx[:0]
	for i := 0; i < d.grid.Rows; i++ {
		for j := 0; j < d.grid.Cols; j++ {
			tile := d.grid.Rect(i, j)
			k := i*d.grid.Cols + j
			if hull != nil {
				switch contextHullSide(hull, tile, near) {
				case -1:
					d.face = append(d.face, float64(d.grid.Sigma[k]))
				case 1:
					if d.grid.Mean[k] > contextDarkTile && d.grid.Mean[k] < contextLightTile {
						d.ctx = append(d.ctx, float64(d.grid.Sigma[k]))
					}
				}
				continue
			}
			switch {
			case tile.In(inner):
				d.face = append(d.face, float64(d.grid.Sigma[k]))
			case !tile.Overlaps(excl) && d.grid.Mean[k] > contextDarkTile && d.grid.Mean[k] < contextLightTile:
				d.ctx = append(d.ctx, float64(d.grid.Sigma[k]))
			}
		}
	}
	if len(d.face) < contextMinTiles || len(d.ctx) < contextMinTiles {
		return 0, 0, 0, false
	}
	sort.Float64s(d.face)
	sort.Float64s(d.ctx)
	f25, f90 := texQuantileSorted(d.face, 0.25), texQuantileSorted(d.face, 0.9)
	c25, c90 := texQuantileSorted(d.ctx, 0.25), texQuantileSorted(d.ctx, 0.9)
	noiseRatio = math.Log((f25 + contextEps) / (c25 + contextEps))
	detailRatio = math.Log((f90 + contextEps) / (c90 + contextEps))
	return noiseRatio, detailRatio, c25, true
}

// contextHullSide places a tile against the landmark hull: −1 when its
// centre lies more than contextHullMargin face widths inside the hull (the
// face), +1 when more than that outside (the context), 0 in between (the
// mask's feathered edge, which belongs to neither). Tiles outside near,
// the hull's bounding box grown by the margin, are outside without
// measuring.
func contextHullSide(hull *seamFace, tile, near image.Rectangle) int {
	c := seamPt{float64(tile.Min.X+tile.Max.X) / 2, float64(tile.Min.Y+tile.Max.Y) / 2}
	if !image.Pt(int(c.x), int(c.y)).In(near) {
		return 1
	}
	return seamPolySide(c, hull.hull, contextHullMargin*hull.w)
}

// contextQuality is the data-quality weight of a frame whose context noise
// floor is level: the noise half of the measurement needs sensor noise, the
// fine-detail half does not.
func contextQuality(level float64) float64 { return 0.3 + 0.7*texNoiseQuality(level) }

func contextScore(c float64) float64 { return texLogistic(c, contextMid, -contextScale) }

func (d *FaceContext) flush(w *texWindow) {
	med, q := w.stats()
	start, end := w.bounds()
	n := float64(len(w.vals))
	d.windows = append(d.windows, Finding{
		Signal: ContextSignal, Modality: Video, Start: start, End: end,
		Score:      texRound(contextScore(med), 3),
		Confidence: texRound(contextMaxConf*q*n/(n+10), 3),
		Values:     []Measurement{M("face_to_context", texRound(math.Exp(med), 3), "×", texRound(math.Exp(contextLow), 2), texRound(math.Exp(contextHigh), 2))},
		Explanation: fmt.Sprintf("The face had %.0f%% of the noise and fine detail of its surroundings (genuine faces: %.0f–%.0f%%).",
			100*math.Exp(med), 100*math.Exp(contextLow), 100*math.Exp(contextHigh)),
	})
}

// Finish implements VideoDetector.
func (d *FaceContext) Finish() Result {
	d.win.finish(d.flush)
	if reason := d.sampler.notMeasured(); reason != "" {
		return NotMeasured(ContextSignal, Video, reason)
	}
	c := d.combo.quantile(0.5)
	level := d.level.quantile(0.5)
	n := float64(d.sampler.used)
	score := contextScore(c)
	conf := contextMaxConf * contextQuality(level) * n / (n + 25)
	verdict := "which is typical of a face filmed by the same camera as its surroundings"
	switch {
	case score >= 0.7:
		verdict = "which suggests a face rendered smoother than the rest of the picture and pasted in"
	case score >= 0.4:
		verdict = "which is at the smooth end of what genuine faces show"
	}
	return Result{
		Signal: ContextSignal, Modality: Video, Windows: d.windows,
		Summary: &Finding{
			Signal: ContextSignal, Modality: Video, Start: 0, End: d.sampler.lastT,
			Score: texRound(score, 3), Confidence: texRound(conf, 3),
			Values: []Measurement{
				M("face_to_context", texRound(math.Exp(c), 3), "×", texRound(math.Exp(contextLow), 2), texRound(math.Exp(contextHigh), 2)),
				{Name: "noise_floor_ratio", Value: texRound(math.Exp(d.noiseRatio.quantile(0.5)), 3), Unit: "×"},
				{Name: "fine_detail_ratio", Value: texRound(math.Exp(d.detailRatio.quantile(0.5)), 3), Unit: "×"},
				{Name: "context_noise", Value: texRound(level, 2), Unit: "grey levels"},
				{Name: "frames", Value: n},
				{Name: "landmark_frames", Value: texRound(float64(d.withLandmarks)/n, 3), Unit: "share"},
			},
			Explanation: fmt.Sprintf("The face had %.0f%% of the noise and fine detail of its surroundings (genuine faces: %.0f–%.0f%%), %s.",
				100*math.Exp(c), 100*math.Exp(contextLow), 100*math.Exp(contextHigh), verdict),
		},
	}
}

// Close implements VideoDetector. It is idempotent.
func (d *FaceContext) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return d.noise.Close()
}
