package detectors

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// SpectrumSignal is the name of the frequency-spectrum signal.
const SpectrumSignal = "video.spectrum"

// Spectrum compares the high-frequency content of the face with that of
// the background in the same frame. Generated faces are rendered at a lower
// resolution and up-sampled, which leaves their azimuthally averaged power
// spectrum short of high frequencies (Durall et al. 2020, Dzanic et al.
// 2020). In compressed video the codec removes much of that band too, so an
// absolute threshold would mostly measure the codec: the face is compared
// with background patches of the same size from the same frame, which went
// through the same camera and codec.
//
// For every analysed frame a square patch of the mid face (cheeks, nose;
// half the box wide, at most 64 px, at native resolution: resizing would
// destroy the band of interest) and up to five patches of the same size
// beside and above the head are transformed with OpenCV's DFT after a Hann
// window. Each spectrum's slope is its mean log power between 0.375 and 1 ×
// Nyquist minus that between 0.06 and 0.19 × Nyquist, which also cancels
// the patches' contrast. The frame's measurement is the face's slope minus
// the mean background slope (decades, shown in dB); the summary is its
// median over frames.
//
// Cost: up to six DFTs of at most 64×64 about every 0.2 s. Memory:
// histograms and the current timeline window.
type Spectrum struct {
	sampler texSampler
	noBg    int // frames with a usable face but no usable background patch
	spec    *texSpectrum
	face    [texSpectrumBins]float64
	bg      [texSpectrumBins]float64

	diff, faceSlope texHist
	win             texWindow
	windows         []Finding
	closed          bool
}

// Spectrum parameters.
const (
	spectrumMinFace  = 48 // px face box width (24-px patches)
	spectrumMinPatch = 24
	spectrumMaxPatch = 64
	spectrumMinStd   = 1.0 // grey levels: flatter background patches carry no spectrum
	spectrumLoBin0   = 1   // low band: bins 1–2 (0.06–0.19 × Nyquist)
	spectrumLoBin1   = 3
	spectrumHiBin0   = 6 // high band: bins 6–15 (0.375–1 × Nyquist)
	spectrumHiBin1   = texSpectrumBins

	// The score is a logistic in the median slope difference, centred on
	// the 10th percentile of the 56 measured genuine dev videos (−1.2
	// decades = −12 dB; median −2.5 dB, 90th percentile +0.3 dB), width 0.3
	// decades. Genuine faces vary widely here, so the confidence stays
	// modest.
	spectrumMid     = -1.2
	spectrumScale   = 0.3
	spectrumLow     = -1.2 // genuine dev 10th–90th percentile, decades
	spectrumHigh    = 0.0
	spectrumMaxConf = 0.4
)

// NewSpectrum returns the frequency-spectrum detector.
func NewSpectrum() *Spectrum {
	return &Spectrum{
		sampler:   texSampler{minFaceW: spectrumMinFace},
		spec:      newTexSpectrum(),
		diff:      texHist{lo: -3, hi: 3},
		faceSlope: texHist{lo: -8, hi: 2},
	}
}

// Name implements VideoDetector.
func (d *Spectrum) Name() string { return SpectrumSignal }

// Observe implements VideoDetector.
func (d *Spectrum) Observe(f *VideoFrame) error {
	if err := texCheckFrame(f); err != nil {
		return err
	}
	face, ok := d.sampler.admit(f)
	if !ok {
		return nil
	}
	diff, fs, nbg, ok := d.measure(f.Gray, face.Rect)
	if !ok {
		if nbg < 0 {
			d.noBg++
		}
		return nil
	}
	d.sampler.used++
	d.diff.add(diff)
	d.faceSlope.add(fs)
	d.win.add(f.Time, diff, float64(nbg)/2, d.flush)
	return nil
}

func spectrumSlope(s []float64) float64 {
	var hi, lo float64
	for _, v := range s[spectrumHiBin0:spectrumHiBin1] {
		hi += v
	}
	for _, v := range s[spectrumLoBin0:spectrumLoBin1] {
		lo += v
	}
	return hi/float64(spectrumHiBin1-spectrumHiBin0) - lo/float64(spectrumLoBin1-spectrumLoBin0)
}

// spectrumPatchSize is the side of the face and background patches for a
// face box width w, or 0 when the face is too small.
func spectrumPatchSize(w int) int {
	s := min(spectrumMaxPatch, (w/2)/8*8)
	if s < spectrumMinPatch {
		return 0
	}
	return s
}

// measure returns the frame's slope difference (face − background), the
// face's slope and how many background patches were usable (−1 when the
// face was measured but no background patch was).
func (d *Spectrum) measure(gray gocv.Mat, r image.Rectangle) (diff, faceSlope float64, nbg int, ok bool) {
	s := spectrumPatchSize(r.Dx())
	if s == 0 {
		return 0, 0, 0, false
	}
	cx, cy := (r.Min.X+r.Max.X)/2, r.Min.Y+r.Dy()*55/100
	fp := image.Rect(cx-s/2, cy-s/2, cx-s/2+s, cy-s/2+s)
	if _, _, ok := d.spec.patch(gray, fp, d.face[:]); !ok {
		return 0, 0, 0, false
	}
	gx, gy := r.Dx()/4, r.Dy()/4 // the head plus a quarter box on each side is excluded
	mid := (r.Min.Y + r.Max.Y) / 2
	cands := [...]image.Point{
		{r.Min.X - gx - s, mid - s/2}, {r.Max.X + gx, mid - s/2}, // beside the face
		{r.Min.X - gx - s, r.Min.Y - s/2}, {r.Max.X + gx, r.Min.Y - s/2}, // beside the hair
		{cx - s/2, r.Min.Y - gy - s}, // above the head
	}
	var bgSlope float64
	for _, c := range cands {
		mean, std, ok := d.spec.patch(gray, image.Rect(c.X, c.Y, c.X+s, c.Y+s), d.bg[:])
		if !ok || std < spectrumMinStd || mean <= contextDarkTile || mean >= contextLightTile {
			continue
		}
		bgSlope += spectrumSlope(d.bg[:])
		nbg++
	}
	if nbg == 0 {
		return 0, 0, -1, false
	}
	faceSlope = spectrumSlope(d.face[:])
	return faceSlope - bgSlope/float64(nbg), faceSlope, nbg, true
}

// spectrumSentence describes a slope difference (decades) for a recruiter.
func spectrumSentence(diff float64) string {
	rng := fmt.Sprintf("genuine faces: between %.0f dB steeper and %.0f dB flatter", -10*spectrumLow, 10*spectrumHigh)
	if diff < 0 {
		return fmt.Sprintf("The face's fine detail fell off %.1f dB more steeply than the background's (%s)", -10*diff, rng)
	}
	return fmt.Sprintf("The face's fine detail fell off %.1f dB less steeply than the background's (%s)", 10*diff, rng)
}

func spectrumScore(diff float64) float64 { return texLogistic(diff, spectrumMid, -spectrumScale) }

func (d *Spectrum) flush(w *texWindow) {
	med, q := w.stats()
	start, end := w.bounds()
	n := float64(len(w.vals))
	d.windows = append(d.windows, Finding{
		Signal: SpectrumSignal, Modality: Video, Start: start, End: end,
		Score:       texRound(spectrumScore(med), 3),
		Confidence:  texRound(spectrumMaxConf*texClamp01(q)*n/(n+10), 3),
		Values:      []Measurement{M("face_minus_background_slope", texRound(10*med, 2), "dB", 10*spectrumLow, 10*spectrumHigh)},
		Explanation: spectrumSentence(med) + ".",
	})
}

// Finish implements VideoDetector.
func (d *Spectrum) Finish() Result {
	d.win.finish(d.flush)
	if reason := d.sampler.notMeasured(); reason != "" {
		if d.noBg > d.sampler.used {
			reason = "no background beside or above the face to compare its spectrum with (the face fills the picture)"
		}
		return NotMeasured(SpectrumSignal, Video, reason)
	}
	diff := d.diff.quantile(0.5)
	n := float64(d.sampler.used)
	score := spectrumScore(diff)
	conf := spectrumMaxConf * n / (n + 25)
	verdict := "which is typical of a face filmed directly by the camera"
	switch {
	case score >= 0.7:
		verdict = "which suggests a face rendered at a lower resolution and scaled up"
	case score >= 0.4:
		verdict = "which is at the soft end of what genuine faces show"
	}
	return Result{
		Signal: SpectrumSignal, Modality: Video, Windows: d.windows,
		Summary: &Finding{
			Signal: SpectrumSignal, Modality: Video, Start: 0, End: d.sampler.lastT,
			Score: texRound(score, 3), Confidence: texRound(conf, 3),
			Values: []Measurement{
				M("face_minus_background_slope", texRound(10*diff, 2), "dB", 10*spectrumLow, 10*spectrumHigh),
				{Name: "face_slope", Value: texRound(10*d.faceSlope.quantile(0.5), 2), Unit: "dB"},
				{Name: "frames", Value: n},
			},
			Explanation: spectrumSentence(diff) + ", " + verdict + ".",
		},
	}
}

// Close implements VideoDetector. It is idempotent.
func (d *Spectrum) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return d.spec.Close()
}
