package detectors

import (
	"fmt"
	"math"

	"github.com/bonafide-dev/bonafide/media"
)

// PitchFormantSignal is the name of the pitch-vs-formant signal.
const PitchFormantSignal = "audio.pitchformant"

// Joint F0–formant model. Across speaker groups, pitch and vocal-tract size
// go together: in Hillenbrand et al. (1995) women speak 0.50 natural-log
// units higher than men (227 vs 138 Hz) with formants 0.154 higher
// (F1–F3 ×1.18, ×1.17, ×1.15), a slope of 0.31; children fall on the same
// trend. A pitch shifter breaks it: `sox pitch` scales F0 and formants
// together (slope 1), a formant-preserving shifter moves F0 alone (slope 0).
// Our formant-scale estimate recovers about 75 % of a known scaling (sox
// shifts of dev utterances against their originals), so the slope as we
// measure it is 0.31 × 0.75 ≈ 0.23.
const (
	pfSlope    = 0.23
	pfRefF0    = 130.0 // Hz: F0 at which the expected scale is pfOffset
	pfOffset   = -0.02 // median scale of genuine dev voices at pfRefF0 (instrument offset)
	pfResidual = 0.17  // |residual| at score 0.5: 1.7 SD of the genuine dev voices (SD 0.10)
	pfWidth    = 0.035
	// pfAperiodic: only clearly periodic frames (vowel nuclei) are analysed.
	pfAperiodic = 0.15
	// pfMinFrames analysed frames (every other 10-ms frame, so 1.2 s of
	// clearly voiced speech) are needed for a summary, pfMinWinFrames for a
	// timeline window.
	pfMinFrames    = 60
	pfMinWinFrames = 40
)

// Nearey's (1978) log-mean formant normalisation relative to a 17.5-cm
// neutral tube, whose formants are 500, 1500 and 2500 Hz.
var pfNeutral = [3]float64{500, 1500, 2500}

// PitchFormant measures whether the voice's pitch (F0) and its formants
// (vocal-tract resonances) fit one natural vocal tract. It tracks F0 with a
// PitchTracker and, on every other clearly voiced frame, F1–F3 at several
// formant ceilings (FormantAnalyzer); per recording it favours the ceiling
// whose formant tracks are smoothest (after Escudero et al. 2009),
// summarises the formants as a log-mean scale (Nearey 1978) and compares
// that scale with the one human voices of this pitch have. Memory is
// constant: histograms, not frames.
type PitchFormant struct {
	pitch   pitchStream
	fa      *FormantAnalyzer
	fm      []Formants
	total   *pfAcc
	win     *pfAcc
	wins    voiceWindows
	windows []Finding
	span    voiceSpan
}

// pfAcc accumulates the measurements of one scope (a window or the whole
// stream).
type pfAcc struct {
	logF0     *voiceHist
	scale     []*voiceHist // per ceiling: log-mean formant scale
	formant   [][3]*voiceHist
	jump      []float64 // per ceiling: summed |Δ log F| between chained frames
	njump     []float64
	prev      []Formants
	prevIndex int64
	frames    int
}

func newPFAcc(n int) *pfAcc {
	a := &pfAcc{
		logF0: newVoiceHist(math.Log(50), math.Log(600), 0.005),
		jump:  make([]float64, n), njump: make([]float64, n),
		prev: make([]Formants, n), prevIndex: -10,
	}
	for i := 0; i < n; i++ {
		a.scale = append(a.scale, newVoiceHist(-1, 1, 0.005))
		a.formant = append(a.formant, [3]*voiceHist{
			newVoiceHist(math.Log(150), math.Log(7000), 0.01),
			newVoiceHist(math.Log(150), math.Log(7000), 0.01),
			newVoiceHist(math.Log(150), math.Log(7000), 0.01),
		})
	}
	return a
}

func (a *pfAcc) reset() {
	a.logF0.reset()
	for i := range a.scale {
		a.scale[i].reset()
		for k := 0; k < 3; k++ {
			a.formant[i][k].reset()
		}
		a.jump[i], a.njump[i] = 0, 0
		a.prev[i] = Formants{}
	}
	a.prevIndex, a.frames = -10, 0
}

func (a *pfAcc) add(f PitchFrame, fm []Formants) {
	a.frames++
	a.logF0.add(math.Log(f.F0))
	chained := f.Index-a.prevIndex == 2
	for i, x := range fm {
		if !x.OK {
			a.prev[i] = Formants{}
			continue
		}
		var s float64
		for k := 0; k < 3; k++ {
			l := math.Log(x.F[k])
			s += (l - math.Log(pfNeutral[k])) / 3
			a.formant[i][k].add(l)
		}
		a.scale[i].add(s)
		if chained && a.prev[i].OK {
			var j float64
			for k := 0; k < 3; k++ {
				j += math.Abs(math.Log(x.F[k]/a.prev[i].F[k])) / 3
			}
			a.jump[i] += j
			a.njump[i]++
		}
		a.prev[i] = x
	}
	a.prevIndex = f.Index
}

// pfMeasure is what one scope measured.
type pfMeasure struct {
	f0, scale, expected, residual float64
	formants                      [3]float64
	ceiling                       float64
	frames                        int
}

// measure returns the scope's measurements; false when there is too
// little data. The formant scale is a soft choice among the ceilings: each
// ceiling's median scale weighted by 1/jump⁴, where jump is the mean
// frame-to-frame change of its formant tracks, so the ceiling whose tracks
// are smoothest dominates without a hard switch between neighbours.
func (a *pfAcc) measure(ceilings []float64, minFrames int) (pfMeasure, bool) {
	if a.frames < minFrames {
		return pfMeasure{}, false
	}
	best := -1
	var sw, ss float64
	for i := range ceilings {
		if a.njump[i] < float64(minFrames)/3 || a.jump[i] <= 0 {
			continue
		}
		j := a.jump[i] / a.njump[i]
		w := 1 / (j * j * j * j)
		sw += w
		ss += w * a.scale[i].quantile(0.5)
		if best < 0 || j < a.jump[best]/a.njump[best] {
			best = i
		}
	}
	if best < 0 {
		return pfMeasure{}, false
	}
	m := pfMeasure{
		f0:      math.Exp(a.logF0.quantile(0.5)),
		scale:   ss / sw,
		ceiling: ceilings[best],
		frames:  a.frames,
	}
	for k := 0; k < 3; k++ {
		m.formants[k] = math.Exp(a.formant[best][k].quantile(0.5))
	}
	m.expected = pfOffset + pfSlope*math.Log(m.f0/pfRefF0)
	m.residual = m.scale - m.expected
	return m, true
}

// NewPitchFormant returns the pitch-vs-formant detector.
func NewPitchFormant() (*PitchFormant, error) {
	pt, err := NewPitchTracker(media.VoiceRate, PitchConfig{})
	if err != nil {
		return nil, err
	}
	return newPitchFormant(pt)
}

// newPitchFormant builds the detector on pitch frames from pt, which may be
// shared with other detectors (SharedPitch).
func newPitchFormant(pt pitchStream) (*PitchFormant, error) {
	fa, err := NewFormantAnalyzer(media.VoiceRate, nil)
	if err != nil {
		return nil, err
	}
	n := len(fa.Ceilings())
	return &PitchFormant{pitch: pt, fa: fa, fm: make([]Formants, n), total: newPFAcc(n), win: newPFAcc(n)}, nil
}

// Name implements AudioDetector.
func (d *PitchFormant) Name() string { return PitchFormantSignal }

// Rate implements AudioDetector.
func (d *PitchFormant) Rate() int { return media.VoiceRate }

// ObserveAudio implements AudioDetector.
func (d *PitchFormant) ObserveAudio(c media.Chunk) error {
	d.span.observe(c)
	return d.pitch.Push(c, d.frame)
}

func (d *PitchFormant) frame(f PitchFrame) {
	d.wins.at(f.Time, d.flush)
	// Every other frame: formant tracks move slowly, and it halves the cost.
	if !f.Voiced || f.Aperiodicity >= pfAperiodic || f.Index%2 != 0 {
		return
	}
	if !d.fa.Analyze(f.Span, len(f.Span)/2, d.fm) {
		return
	}
	d.total.add(f, d.fm)
	d.win.add(f, d.fm)
}

func (d *PitchFormant) flush(idx int) {
	defer d.win.reset()
	m, ok := d.win.measure(d.fa.Ceilings(), pfMinWinFrames)
	if !ok {
		return
	}
	start, end := windowSpan(idx)
	d.windows = append(d.windows, d.finding(m, start, math.Min(end, d.span.end)))
}

func (d *PitchFormant) finding(m pfMeasure, start, end float64) Finding {
	score := voiceLogistic(math.Abs(m.residual), pfResidual, pfWidth)
	lo, hi := math.Exp(m.expected-pfResidual), math.Exp(m.expected+pfResidual)
	seconds := float64(m.frames) * 2 * d.pitch.HopSeconds()
	var expl string
	switch {
	case score >= 0.5 && m.residual > 0:
		expl = fmt.Sprintf("The voice's resonances sit %.0f%% higher than a vocal tract speaking at %.0f Hz normally has, as when a voice changer raises pitch and formants together.",
			100*(math.Exp(m.residual)-1), m.f0)
	case score >= 0.5:
		expl = fmt.Sprintf("The voice's resonances sit %.0f%% lower than a vocal tract speaking at %.0f Hz normally has, as when a voice changer shifts pitch and formants, or pitch alone.",
			100*(1-math.Exp(m.residual)), m.f0)
	default:
		expl = fmt.Sprintf("The voice's pitch (%.0f Hz) and resonances fit one natural vocal tract (formants %+.0f%% from what this pitch implies).",
			m.f0, 100*(math.Exp(m.residual)-1))
	}
	return Finding{
		Signal:     PitchFormantSignal,
		Modality:   Audio,
		Start:      start,
		End:        end,
		Score:      voiceRound(score, 3),
		Confidence: voiceRound(voiceConfidence(seconds, 2), 3),
		Values: []Measurement{
			M("median_f0", voiceRound(m.f0, 1), "Hz", 75, 300),
			M("formant_scale", voiceRound(math.Exp(m.scale), 3), "ratio", voiceRound(lo, 3), voiceRound(hi, 3)),
			{Name: "expected_formant_scale", Value: voiceRound(math.Exp(m.expected), 3), Unit: "ratio"},
			M("scale_residual", voiceRound(m.residual, 3), "log", -pfResidual, pfResidual),
			{Name: "f1", Value: math.Round(m.formants[0]), Unit: "Hz"},
			{Name: "f2", Value: math.Round(m.formants[1]), Unit: "Hz"},
			{Name: "f3", Value: math.Round(m.formants[2]), Unit: "Hz"},
			{Name: "formant_ceiling", Value: m.ceiling, Unit: "Hz"},
			{Name: "voiced_seconds_analysed", Value: voiceRound(seconds, 2), Unit: "s"},
		},
		Explanation: expl,
	}
}

// Finish implements AudioDetector.
func (d *PitchFormant) Finish() Result {
	d.wins.finish(d.flush)
	m, ok := d.total.measure(d.fa.Ceilings(), pfMinFrames)
	if !ok {
		have := float64(d.total.frames) * 2 * d.pitch.HopSeconds()
		return NotMeasured(PitchFormantSignal, Audio, fmt.Sprintf(
			"too little clearly voiced speech to measure pitch against formants (%.1f s, need %.1f s)",
			have, float64(pfMinFrames)*2*d.pitch.HopSeconds()))
	}
	f := d.finding(m, d.span.start, d.span.end)
	return Result{Signal: PitchFormantSignal, Modality: Audio, Summary: &f, Windows: d.windows}
}

// Close implements AudioDetector. The detector holds no resources, so
// Close does nothing and is idempotent.
func (d *PitchFormant) Close() error { return nil }
