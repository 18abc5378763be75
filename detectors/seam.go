package detectors

import (
	"fmt"
	"math"
	"sort"
)

// SeamSignal is the name of the landmark-hull seam signal.
const SeamSignal = "video.seam"

// Seam looks for the seam a face swap leaves along the lower edge of its
// mask. Swap tools paste the generated face through the hull of the jaw
// line and the brows (see seamMapper); along the jaw the hull runs over
// the chin, where the pasted face (rendered, resampled, smoothed) meets the
// neck, which the camera filmed directly. A genuine chin and neck are the
// same camera's skin: their noise levels differ only by shading. So the
// detector compares, in every analysed frame, the image-noise level of the
// skin in a thin band just outside the jaw line below the chin (0.03–0.15
// face widths out, skin-coloured cells only) with that of the face in a
// band just inside it (0.03–0.12 face widths in, away from the mouth): the
// seam step is ln(noise outside / noise inside), positive when the face is
// smoother than the neck below it. The summary is the median over frames.
//
// Only the chin is scored. On the sides of a frontal face the hull runs
// along the cheek's outline, beyond which lie ears, hair and background,
// and the forehead above the brow line is covered by hair or included in
// "whole face" masks, so neither reliably has camera skin on its outer
// side; their steps were measured on the dev corpus and did not separate
// swaps from genuine faces (see docs/detectors-video-texture.md). The
// colour and fine-detail steps across the chin are reported, not scored,
// for the same reason.
//
// Cost: one 3×3 filter over the landmark region at native resolution, a
// few resizes and morphological operations on a 64-cells-per-face-width
// grid, about every 0.2 s. Memory: histograms and the current timeline
// window.
type Seam struct {
	sampler  seamSampler
	mapper   *seamMapper
	noSkin   int       // frames with a usable face but no skin below the chin
	positive int       // frames whose step exceeds seamPersist
	vin      []float64 // scratch

	step, detailStep, colourStep, level texHist
	win                                 texWindow
	windows                             []Finding
	closed                              bool
}

// Seam parameters.
const (
	seamMinFace  = 48 // px jaw width (and Haar box width)
	seamMinCells = 8  // cells per band and frame
	// A frame's step above seamPersist counts towards the share of frames
	// in which the chin looked pasted (reported, not scored).
	seamPersist = 0.1

	// The score is a logistic in the median step, centred on the 90th
	// percentile of the 64 measured genuine dev videos pooled over three
	// conditions: as they are (90th percentile 0.47), re-encoded like a
	// call with VP8 at 400 kb/s (0.28) and with H.264 at 500 kb/s (0.27),
	// i.e. 0.32 (1.38×); width 0.07. A genuine median (−0.01) scores about
	// 0.01 and a face with 1.65× less noise than the neck below it (0.5)
	// about 0.93. Genuine 10th–90th percentile, pooled: −0.18 … +0.32.
	seamMid     = 0.32
	seamScale   = 0.07
	seamLow     = -0.18
	seamHigh    = 0.32
	seamMaxConf = 0.3 // a weak signal (dev AUC about 0.6)
)

// NewSeam returns the landmark-hull seam detector.
func NewSeam() *Seam {
	return &Seam{
		sampler:    seamSampler{texSampler: texSampler{minFaceW: seamMinFace}},
		mapper:     newSeamMapper(),
		step:       texHist{lo: -3, hi: 3},
		detailStep: texHist{lo: -3, hi: 3},
		colourStep: texHist{lo: 0, hi: 1},
		level:      texHist{lo: 0, hi: 20},
	}
}

// Name implements VideoDetector.
func (d *Seam) Name() string { return SeamSignal }

// Observe implements VideoDetector.
func (d *Seam) Observe(f *VideoFrame) error {
	if err := texCheckFrame(f); err != nil {
		return err
	}
	face, ok := d.sampler.admit(f)
	if !ok {
		return nil
	}
	sm, ok, err := d.mapper.measure(f.Image, f.Gray, &face)
	if err != nil || !ok {
		return err
	}
	step, detail, colour, level, ok := d.chinSteps(&sm)
	if !ok {
		d.noSkin++
		return nil
	}
	d.sampler.used++
	d.step.add(step)
	d.detailStep.add(detail)
	d.colourStep.add(colour)
	d.level.add(level)
	if step > seamPersist {
		d.positive++
	}
	d.win.add(f.Time, step, texNoiseQuality(level), d.flush)
	return nil
}

// chinSteps returns the steps of noise (log), fine detail (log) and colour
// (log-chromaticity distance) from the band inside the jaw line to the skin
// band outside it below the chin, and the outside noise level in grey
// levels. ok is false when either band has too few cells.
func (d *Seam) chinSteps(sm *seamMap) (noise, detail, colour, level float64, ok bool) {
	var in, out [4]float64 // medians of noise, detail, ln(R/G), ln(B/G)
	for k := range in {
		var okIn, okOut bool
		in[k], okIn = d.median(sm, seamIn, k)
		out[k], okOut = d.median(sm, seamOut, k)
		if !okIn || !okOut {
			return 0, 0, 0, 0, false
		}
	}
	level = math.Max(0, math.Exp(out[0])-0.25)
	return out[0] - in[0], out[1] - in[1], math.Hypot(out[2]-in[2], out[3]-in[3]), level, true
}

// median returns the median of feature k (0 noise, 1 detail, 2 ln(R/G), 3
// ln(B/G)) over the chin-zone cells with the given label.
func (d *Seam) median(sm *seamMap, label uint8, k int) (float64, bool) {
	v := d.vin[:0]
	for i := range sm.cells {
		c := &sm.cells[i]
		if c.label != label || c.zone != seamNeck {
			continue
		}
		v = append(v, float64([4]float32{c.noise, c.detail, c.lr, c.lb}[k]))
	}
	d.vin = v
	if len(v) < seamMinCells {
		return 0, false
	}
	sort.Float64s(v)
	return texQuantileSorted(v, 0.5), true
}

func seamScore(step float64) float64 { return texLogistic(step, seamMid, seamScale) }

func seamSentence(step float64) string {
	return fmt.Sprintf("Across the jaw line, the skin below the chin carried %.2f× the image noise of the face just above it (genuine faces: %.2f–%.2f×)",
		math.Exp(step), math.Exp(seamLow), math.Exp(seamHigh))
}

func (d *Seam) flush(w *texWindow) {
	med, q := w.stats()
	start, end := w.bounds()
	n := float64(len(w.vals))
	d.windows = append(d.windows, Finding{
		Signal: SeamSignal, Modality: Video, Start: start, End: end,
		Score:       texRound(seamScore(med), 3),
		Confidence:  texRound(seamMaxConf*q*n/(n+10), 3),
		Values:      []Measurement{M("chin_seam_noise_step", texRound(math.Exp(med), 3), "×", texRound(math.Exp(seamLow), 2), texRound(math.Exp(seamHigh), 2))},
		Explanation: seamSentence(med) + ".",
	})
}

// Finish implements VideoDetector.
func (d *Seam) Finish() Result {
	d.win.finish(d.flush)
	if reason := d.sampler.notMeasured(); reason != "" {
		if d.noSkin > 0 && d.noSkin >= d.sampler.used {
			reason = fmt.Sprintf("the skin below the chin was visible in only %d of %d frames with a frontal face (beard, collar, shadow or the picture's edge)", d.sampler.used, d.sampler.used+d.noSkin)
		}
		return NotMeasured(SeamSignal, Video, reason)
	}
	step := d.step.quantile(0.5)
	level := d.level.quantile(0.5)
	n := float64(d.sampler.used)
	score := seamScore(step)
	conf := seamMaxConf * texNoiseQuality(level) * n / (n + 25)
	verdict := "which is typical of one camera's skin on both sides"
	switch {
	case score >= 0.7:
		verdict = "which suggests a smoother, pasted face meeting the camera's skin at the edge of a swap mask"
	case score >= 0.4:
		verdict = "which is at the upper edge of what genuine faces show"
	}
	return Result{
		Signal: SeamSignal, Modality: Video, Windows: d.windows,
		Summary: &Finding{
			Signal: SeamSignal, Modality: Video, Start: 0, End: d.sampler.lastT,
			Score: texRound(score, 3), Confidence: texRound(conf, 3),
			Values: []Measurement{
				M("chin_seam_noise_step", texRound(math.Exp(step), 3), "×", texRound(math.Exp(seamLow), 2), texRound(math.Exp(seamHigh), 2)),
				{Name: "chin_seam_detail_step", Value: texRound(math.Exp(d.detailStep.quantile(0.5)), 3), Unit: "×"},
				{Name: "chin_seam_colour_step", Value: texRound(d.colourStep.quantile(0.5), 3), Unit: "log-chromaticity"},
				{Name: "seam_persistence", Value: texRound(float64(d.positive)/n, 3)},
				{Name: "neck_noise", Value: texRound(level, 2), Unit: "grey levels"},
				{Name: "frames", Value: n},
			},
			Explanation: seamSentence(step) + ", " + verdict + ".",
		},
	}
}

// Close implements VideoDetector. It is idempotent.
func (d *Seam) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return d.mapper.Close()
}

// seamSampler is texSampler for the landmark-based detectors: it admits
// only frames whose primary face has landmarks fitted on a frontal view,
// and counts the others for the not-measurable reason.
type seamSampler struct {
	texSampler
	noLandmarks, profile int
}

// admit returns the primary face's landmark geometry when f should be
// analysed.
func (s *seamSampler) admit(f *VideoFrame) (seamFace, bool) {
	face, ok := s.texSampler.admit(f)
	if !ok {
		return seamFace{}, false
	}
	if face.Profile {
		s.profile++
		return seamFace{}, false
	}
	g, err := newSeamFace(face.Landmarks)
	if err != nil {
		s.noLandmarks++
		return seamFace{}, false
	}
	if g.w < float64(s.minFaceW) {
		s.smallFaces++
		return seamFace{}, false
	}
	return g, true
}

// notMeasured returns the reason the detector cannot report, or "".
func (s *seamSampler) notMeasured() string {
	if s.used == 0 && s.faceFrames > s.smallFaces && s.noLandmarks+s.profile >= s.faceFrames-s.smallFaces {
		return fmt.Sprintf("no frontal face with landmarks in any of %d frames with a face (%d profile views, %d failed landmark fits)",
			s.faceFrames, s.profile, s.noLandmarks)
	}
	return s.texSampler.notMeasured()
}
