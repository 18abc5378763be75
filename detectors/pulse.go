package detectors

import (
	"errors"
	"fmt"
	"image"
	"math"

	"gonum.org/v1/gonum/stat"
)

// PulseSignal is the name of the blood-flow (remote photoplethysmography)
// signal.
const PulseSignal = "video.pulse"

// Pulse parameters. The band is the range of human heart rates (42–240
// bpm). Windows of 10 s hold 7–40 beats, enough for a spectral peak with
// 0.1-Hz resolution; shorter stable stretches (≥ 3 s) are analysed whole.
const (
	pulseWindowSec = 10.0
	pulseHopSec    = 5.0
	pulseMinSec    = 3.0
	pulseMinFPS    = 8.0
	pulseMinFace   = 80 // px, face box height and width
	pulseLoHz      = 0.7
	pulseHiHz      = 4.0
	pulsePatch     = 96 // the face box is resized to pulsePatch² before averaging
	pulseMinSkin   = 0.3
	// pulseGapFrames frames without a usable face end a stretch.
	pulseGapFrames = 3
	// pulseBoxGain smooths the face box further than the tracker does
	// (exponential, per frame): a box that jitters by a few pixels moves
	// hair, brows and background in and out of the regions, a colour change
	// far larger than the pulse.
	pulseBoxGain = 0.25
	// pulseBGPatch is the size the context (the face box grown by half on
	// every side) is resized to for its mean colour.
	pulseBGPatch = 48
)

// pulseRegions are the skin patches whose pulses are compared: forehead,
// left cheek, right cheek.
var pulseRegions = [3][4]float64{RegionForehead, RegionLeftCheek, RegionRightCheek}

// Score mapping of the region coherence (mean pairwise correlation of the
// three band-passed pulse signals, in [−1, 1]). On a live face the three
// regions carry the same heartbeat; a face re-rendered frame by frame
// carries either no pulse or one that differs between regions
// (FakeCatcher, Ciftci et al. 2020). Independent noise in the 0.7–4 Hz
// band gives 0 ± 0.15 for a 10-s window at 10 fps, so the score is 0.5 at
// pulseCoherenceMid, just above pure noise, and reaches 0.8 at about −0.05.
// Through web compression at 10 fps the pulse is weak even on live faces:
// the genuine dev recordings spread from −0.07 (10th percentile) over 0.10
// (median) to 0.39 (90th), so 36 % of them score above 0.5; and the dev
// fakes are on the whole *more* coherent than the genuine items (see
// docs/detectors-video-physiology.md). The confidence is capped at
// pulseMaxConfidence for these reasons.
const (
	pulseCoherenceMid   = 0.05
	pulseCoherenceWidth = 0.07
	pulseMaxConfidence  = 0.4
	pulseNormalCohLow   = 0.0 // genuine dev: about the 30th and 90th percentiles
	pulseNormalCohHigh  = 0.4
	// Normal ranges shown for the other values: genuine dev 10th–90th
	// percentiles, rounded.
	pulseNormalSNRLow     = -5.0
	pulseNormalSNRHigh    = 3.0
	pulseNormalSpreadHigh = 1.8
)

// pulseSample is the mean skin colour (B, G, R) of each region in one frame.
type pulseSample struct {
	t  float64
	c  [3][3]float64
	bg [3]float64 // mean colour around the face (background, hair, neck)
}

// pulseWindow is what one analysed window measured.
type pulseWindow struct {
	start, end float64
	fps        float64
	coherence  float64 // mean pairwise correlation of the regions' pulses
	spreadHz   float64 // max − min of the regions' peak frequencies
	snrDB      float64 // SNR of the combined pulse
	rateHz     float64 // peak frequency of the combined pulse
}

// Pulse measures the blood-flow signal of the primary face: the POS pulse
// (Wang et al. 2017) of the forehead and both cheeks over sliding 10-s
// windows, its signal-to-noise ratio, and above all the coherence of the
// three regions, which is the cue that survives a swap carrying the
// driver's pulse. The context's band-passed relative colour change is
// regressed out of each region's, channel by channel, before POS
// (illumination rectification, Li et al. 2014): a flickering lamp or a
// compression pumping that changes face and background alike is not a
// pulse and must not look coherent. It keeps
// at most one window of per-frame colour means (twelve floats per frame)
// and a few numbers per 5 s, so its memory does not grow with the length.
type Pulse struct {
	patch   physioPatch
	bgPatch physioPatch

	seg       []pulseSample // current stable stretch, at most one window long
	segTrack  int
	segStart  float64
	box       [4]float64 // smoothed face box of the stretch
	lastT     float64    // time of the last sample of the stretch
	lastEnd   float64    // end of the last analysed window of this stretch
	segWindow bool       // a window was analysed in this stretch

	windows []pulseWindow
	covered float64   // seconds of face analysed, overlaps counted once
	skin    []float64 // skin fraction of the regions per window
	skinAcc float64   // running sum over the current window's frames
	skinN   int

	physioClock
	faceFrames, smallFaces int
	cutFaces               int     // frames whose forehead or a cheek lay outside the picture
	longestSec             float64 // longest stable stretch
	lowFPS                 int     // windows skipped for frame rate
	lowFPSValue            float64
}

// NewPulse returns the blood-flow detector.
func NewPulse() *Pulse {
	return &Pulse{patch: newPhysioPatch(pulsePatch, pulsePatch), bgPatch: newPhysioPatch(pulseBGPatch, pulseBGPatch), segTrack: -1, physioClock: newPhysioClock()}
}

// Name implements VideoDetector.
func (d *Pulse) Name() string { return PulseSignal }

// Observe implements VideoDetector.
func (d *Pulse) Observe(f *VideoFrame) error {
	if err := d.tick(f); err != nil {
		return err
	}
	face, ok := f.Primary()
	if !ok {
		d.endStretch()
		return nil
	}
	d.faceFrames++
	whole := face.Whole()
	if whole.Dx() < pulseMinFace || whole.Dy() < pulseMinFace {
		d.smallFaces++
		d.endStretch()
		return nil
	}
	gap := pulseGapFrames / math.Max(f.FPS, 1)
	if face.TrackID != d.segTrack || (len(d.seg) > 0 && f.Time-d.lastT > gap) {
		d.endStretch()
		d.segTrack, d.segStart = face.TrackID, f.Time
		d.box = physioBox(whole)
	}
	nb := physioBox(whole)
	for i := range d.box {
		d.box[i] += pulseBoxGain * (nb[i] - d.box[i])
	}
	pix, inside, err := d.patch.load(f.Image, physioRect(d.box))
	if err != nil {
		return err
	}
	// On a face the picture cuts off, each region is measured on its part
	// inside the frame; a frame where too little of one is left is skipped.
	var regs [len(pulseRegions)]image.Rectangle
	for i, reg := range pulseRegions {
		var ok bool
		if regs[i], ok = physioRegionInside(physioScaleRect(reg, pulsePatch, pulsePatch), inside); !ok {
			d.cutFaces++
			d.endStretch()
			return nil
		}
	}
	s := pulseSample{t: f.Time}
	bounds := image.Rect(0, 0, f.Image.Cols(), f.Image.Rows())
	grown := Grow(physioRect(d.box), 0.5, bounds)
	bpix, _, err := d.bgPatch.load(f.Image, grown)
	if err != nil {
		return err
	}
	s.bg = physioRingMean(bpix, pulseBGPatch, grown, physioRect(d.box))
	for i, reg := range regs {
		var frac float64
		s.c[i], frac = physioSkinMean(pix, pulsePatch, reg, pulseMinSkin)
		d.skinAcc += frac / 3
	}
	d.skinN++
	d.seg = append(d.seg, s)
	d.lastT = f.Time
	d.longestSec = math.Max(d.longestSec, f.Time-d.segStart)
	if f.Time-d.seg[0].t >= pulseWindowSec-1e-6 && (!d.segWindow || f.Time-d.lastEnd >= pulseHopSec-1e-6) {
		d.analyse()
		// Keep only what the next window (one hop later) needs.
		keep := f.Time + pulseHopSec - pulseWindowSec
		i := 0
		for i < len(d.seg) && d.seg[i].t < keep {
			i++
		}
		d.seg = append(d.seg[:0], d.seg[i:]...)
	}
	return nil
}

// endStretch analyses the tail of the current stretch and starts afresh.
func (d *Pulse) endStretch() {
	if len(d.seg) > 1 {
		span := d.seg[len(d.seg)-1].t - d.seg[0].t
		if (!d.segWindow && span >= pulseMinSec) || (d.segWindow && d.lastT-d.lastEnd >= pulseHopSec/2) {
			d.analyse()
		}
	}
	d.seg = d.seg[:0]
	d.segTrack = -1
	d.segWindow = false
}

// analyse measures the window held in d.seg (its last pulseWindowSec).
func (d *Pulse) analyse() {
	end := d.seg[len(d.seg)-1].t
	from := 0
	for from < len(d.seg)-1 && end-d.seg[from].t > pulseWindowSec+1e-6 {
		from++
	}
	win := d.seg[from:]
	start := win[0].t
	if d.segWindow {
		start = math.Max(start, d.lastEnd)
	}
	newSec := end - start
	d.segWindow, d.lastEnd = true, end
	w, ok := pulseMeasure(win)
	if d.skinN > 0 {
		d.skin = append(d.skin, d.skinAcc/float64(d.skinN))
	}
	d.skinAcc, d.skinN = 0, 0
	if !ok {
		d.lowFPS++
		d.lowFPSValue = w.fps
		return
	}
	d.windows = append(d.windows, w)
	d.covered += newSec
}

// pulseMeasure computes the pulse statistics of one window of samples: the
// colour means are resampled to a uniform grid at the window's own frame
// rate, band-passed to 0.7–4 Hz per channel and rid of the context's
// colour change in that band, turned into POS pulses, band-passed again,
// and compared. ok is false when the frame rate is too low.
func pulseMeasure(win []pulseSample) (pulseWindow, bool) {
	n := len(win)
	w := pulseWindow{start: win[0].t, end: win[n-1].t}
	span := w.end - w.start
	if n < 2 || span <= 0 {
		return w, false
	}
	w.fps = float64(n-1) / span
	if w.fps < pulseMinFPS {
		return w, false
	}
	fs := w.fps
	m := int(span*fs) + 1
	ts := make([]float64, n)
	for i, s := range win {
		ts[i] = s.t
	}
	hi := math.Min(pulseHiHz, 0.45*fs)
	var pulses [3][]float64
	var peaks [3]float64
	ch := make([]float64, n)
	// The context's relative colour change per channel, in the pulse band.
	var bgRel [3][]float64
	for c := range 3 {
		for i, s := range win {
			ch[i] = s.bg[c]
		}
		bgRel[c] = physioBandPass(physioRelative(physioResample(ts, ch, fs, m)), fs, pulseLoHz, hi)
	}
	for r := range pulseRegions {
		var rgb [3][]float64
		for c := range 3 {
			for i, s := range win {
				ch[i] = s.c[r][c]
			}
			// Rectify: remove what the region's colour shares with the
			// context, then rebuild a colour around 1 for POS.
			x := physioRegressOut(physioBandPass(physioRelative(physioResample(ts, ch, fs, m)), fs, pulseLoHz, hi), bgRel[c])
			for i := range x {
				x[i]++
			}
			rgb[c] = x
		}
		pulses[r] = physioBandPass(physioPOS(rgb[0], rgb[1], rgb[2], fs), fs, pulseLoHz, hi)
		spec := physioPowerSpectrum(pulses[r], fs, 512)
		peaks[r], _, _ = spec.peak(pulseLoHz, hi, 0.15)
	}
	var sum float64
	for i := range 3 {
		for j := i + 1; j < 3; j++ {
			sum += physioCorrelation(pulses[i], pulses[j])
		}
	}
	w.coherence = sum / 3
	w.spreadHz = math.Max(peaks[0], math.Max(peaks[1], peaks[2])) - math.Min(peaks[0], math.Min(peaks[1], peaks[2]))
	// The combined pulse: the three regions standardised and summed.
	comb := make([]float64, m)
	for _, p := range pulses {
		sd := stat.StdDev(p, nil)
		if sd == 0 {
			continue
		}
		for i, v := range p {
			comb[i] += v / sd
		}
	}
	spec := physioPowerSpectrum(comb, fs, 512)
	w.rateHz, w.snrDB, _ = spec.peak(pulseLoHz, hi, 0.15)
	return w, true
}

// pulseScore maps a region coherence to a score.
func pulseScore(coherence float64) float64 {
	return physioLogistic(-coherence, -pulseCoherenceMid, pulseCoherenceWidth)
}

// Finish implements VideoDetector.
func (d *Pulse) Finish() Result {
	d.endStretch()
	r := Result{Signal: PulseSignal, Modality: Video}
	if len(d.windows) == 0 {
		return NotMeasured(PulseSignal, Video, d.reason())
	}
	var cohs, snrs, spreads, rates, weights []float64
	seconds := d.covered
	for _, w := range d.windows {
		dur := w.end - w.start
		cohs = append(cohs, w.coherence)
		snrs = append(snrs, w.snrDB)
		spreads = append(spreads, w.spreadHz)
		rates = append(rates, w.rateHz)
		weights = append(weights, dur)
		r.Windows = append(r.Windows, Finding{
			Signal: PulseSignal, Modality: Video, Start: w.start, End: w.end,
			Score:      physioRound(pulseScore(w.coherence), 3),
			Confidence: physioRound(pulseConfidence(dur), 3),
			Values: []Measurement{
				M("region_coherence", physioRound(w.coherence, 3), "", pulseNormalCohLow, pulseNormalCohHigh),
				M("pulse_snr", physioRound(w.snrDB, 2), "dB", pulseNormalSNRLow, pulseNormalSNRHigh),
				{Name: "pulse_rate", Value: physioRound(60*w.rateHz, 1), Unit: "bpm"},
			},
			Explanation: pulseExplain(w.coherence, 60*w.rateHz),
		})
	}
	coh := physioWeightedMedian(cohs, weights)
	snr := physioWeightedMedian(snrs, weights)
	spread := physioWeightedMedian(spreads, weights)
	rate := physioWeightedMedian(rates, weights)
	r.Summary = &Finding{
		Signal: PulseSignal, Modality: Video,
		Start: d.windows[0].start, End: d.windows[len(d.windows)-1].end,
		Score:      physioRound(pulseScore(coh), 3),
		Confidence: physioRound(pulseConfidence(seconds), 3),
		Values: []Measurement{
			M("region_coherence", physioRound(coh, 3), "", pulseNormalCohLow, pulseNormalCohHigh),
			M("peak_frequency_spread", physioRound(spread, 3), "Hz", 0, pulseNormalSpreadHigh),
			M("pulse_snr", physioRound(snr, 2), "dB", pulseNormalSNRLow, pulseNormalSNRHigh),
			{Name: "pulse_rate", Value: physioRound(60*rate, 1), Unit: "bpm"},
			{Name: "windows", Value: float64(len(d.windows))},
			{Name: "skin_fraction", Value: physioRound(physioMedian(d.skin), 3)},
			{Name: "measured_seconds", Value: physioRound(seconds, 2), Unit: "s"},
		},
		Explanation: pulseExplain(coh, 60*rate),
	}
	return r
}

// pulseConfidence grows with the seconds of stable face analysed up to
// 30 s; the signal is indirect (a colour change of a fraction of a grey
// level, through compression), so it never exceeds pulseMaxConfidence.
func pulseConfidence(seconds float64) float64 {
	return pulseMaxConfidence * physioClamp01(seconds/30)
}

func pulseExplain(coh, bpm float64) string {
	if coh >= pulseCoherenceMid && (bpm < 45 || bpm > 120) {
		// The score follows the coherence alone; the rate only tempers
		// what the sentence claims.
		return fmt.Sprintf("The skin colour of the forehead and both cheeks varied together (coherence %.2f, typical of live faces %.1f–%.1f), as on live faces, though at about %.0f a minute, outside a resting pulse (45–120), the rhythm may come from lighting or compression rather than blood flow.",
			coh, pulseNormalCohLow, pulseNormalCohHigh, bpm)
	}
	if coh >= pulseCoherenceMid {
		return fmt.Sprintf("The faint skin-colour pulse of the forehead and both cheeks agreed (coherence %.2f, typical of live faces %.1f–%.1f; about %.0f beats per minute), as expected of a live face.",
			coh, pulseNormalCohLow, pulseNormalCohHigh, bpm)
	}
	return fmt.Sprintf("The faint skin-colour pulse of the forehead and both cheeks did not agree (coherence %.2f, typical of live faces %.1f–%.1f), which can mean a face rendered without real blood flow but also a heavily compressed video.",
		coh, pulseNormalCohLow, pulseNormalCohHigh)
}

// reason says why no window could be analysed.
func (d *Pulse) reason() string {
	switch {
	case d.frames == 0:
		return "no video frame was analysed"
	case d.faceFrames == 0:
		return "no face was visible"
	case d.frames > 1 && d.prevT > d.firstT && float64(d.frames-1)/(d.prevT-d.firstT) < pulseMinFPS:
		return fmt.Sprintf("the frame rate (%.1f fps) is below the %.0f fps a pulse measurement needs",
			float64(d.frames-1)/(d.prevT-d.firstT), pulseMinFPS)
	case d.lowFPS > 0:
		return fmt.Sprintf("the frame rate (%.1f fps) is below the %.0f fps a pulse measurement needs", d.lowFPSValue, pulseMinFPS)
	case d.smallFaces*2 > d.faceFrames:
		return fmt.Sprintf("the face is smaller than the %d px a pulse measurement needs", pulseMinFace)
	case d.cutFaces*2 > d.faceFrames:
		return "the picture cut off the forehead or a cheek, where the pulse is measured"
	default:
		return fmt.Sprintf("the face was never stable for the %.0f s a pulse measurement needs (longest %.1f s)", pulseMinSec, d.longestSec)
	}
}

// Close implements VideoDetector. It is idempotent.
func (d *Pulse) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return errors.Join(d.patch.close(), d.bgPatch.close())
}
