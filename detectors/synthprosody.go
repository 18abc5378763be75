package detectors

import (
	"fmt"
	"math"

	"github.com/bonafide-dev/bonafide/media"
)

// SynthProsodySignal is the name of the synthetic-prosody signal.
const SynthProsodySignal = "audio.synthprosody"

// Thresholds of the synthetic-prosody score. Human speech moves its pitch
// widely: the F0 standard deviation of read and conversational English is
// about 2–5 semitones (Traunmüller & Eriksson 1995 report 2–4 st for
// neutral readings, more for lively speech). Rule-based and statistical TTS
// with default prosody is close to monotone. Measured as a robust SD (from
// the 10–90 % range), the genuine dev voices span 1.1–10 st with four of
// 33 below 1.9 (calm read sentences), the espeak and flite voices 1.1–2.2.
//
// The contour's straightness within syllables (RMS distance from a line
// over 150 ms) is reported but does not enter the score: rule-based
// synthesis interpolates straight lines between pitch targets (espeak
// 11–22 cents, genuine voices 13.5–65, median 30), but sustained musical
// notes behind a speaker are straight too, and on the dev set the pitch
// spread already catches what it would.
const (
	spSpreadLow  = 1.9 // st: robust F0 SD at score 0.5
	spSpreadW    = 0.15
	spLinearLow  = 12.0 // cents: bottom of the reported normal range
	spPiece      = 15   // frames of 10 ms: a 150-ms piece of contour
	spPieceHop   = 5    // pieces overlap: a new one every 50 ms of voicing
	spMinVoiced  = 150
	spMinPieces  = 8
	spMinWinVoic = 100
	spMinWinPcs  = 5
)

// SynthProsody measures the intonation trait of text-to-speech: an
// unnaturally narrow pitch range (monotone, flat contours). It also reports
// how straight the pitch contour is within syllables (interpolated
// targets), as context.
// It uses the F0 track of a PitchTracker only, so it never looks at
// silence, its length or the loudness of the recording. Memory is constant.
type SynthProsody struct {
	pitch   pitchStream
	total   *spAcc
	win     *spAcc
	wins    voiceWindows
	windows []Finding
	span    voiceSpan
	piece   []float64 // semitones of the current voiced run's last spPiece frames
	run     int       // frames in the current voiced run
}

type spAcc struct {
	st     *voiceHist // F0 in semitones re 100 Hz, voiced frames
	linear *voiceHist // RMS off a straight line per piece, cents
}

func newSPAcc() *spAcc {
	return &spAcc{st: newVoiceHist(-15, 35, 0.05), linear: newVoiceHist(0, 500, 0.25)}
}

func (a *spAcc) reset() {
	a.st.reset()
	a.linear.reset()
}

type spMeasure struct {
	spread, linear, rangeST float64
	voiced, pieces          float64
}

func (a *spAcc) measure(minVoiced, minPieces float64) (spMeasure, bool) {
	if a.st.count() < minVoiced || a.linear.count() < minPieces {
		return spMeasure{}, false
	}
	return spMeasure{
		spread:  a.st.robustSD(),
		linear:  a.linear.quantile(0.5),
		rangeST: a.st.quantile(0.95) - a.st.quantile(0.05),
		voiced:  a.st.count(),
		pieces:  a.linear.count(),
	}, true
}

// NewSynthProsody returns the synthetic-prosody detector.
func NewSynthProsody() (*SynthProsody, error) {
	pt, err := NewPitchTracker(media.VoiceRate, PitchConfig{})
	if err != nil {
		return nil, err
	}
	return newSynthProsody(pt)
}

// newSynthProsody builds the detector on pitch frames from pt, which may be
// shared with other detectors (SharedPitch).
func newSynthProsody(pt pitchStream) (*SynthProsody, error) {
	return &SynthProsody{pitch: pt, total: newSPAcc(), win: newSPAcc(), piece: make([]float64, 0, spPiece)}, nil
}

// Name implements AudioDetector.
func (d *SynthProsody) Name() string { return SynthProsodySignal }

// Rate implements AudioDetector.
func (d *SynthProsody) Rate() int { return media.VoiceRate }

// ObserveAudio implements AudioDetector.
func (d *SynthProsody) ObserveAudio(c media.Chunk) error {
	d.span.observe(c)
	return d.pitch.Push(c, d.frame)
}

func (d *SynthProsody) frame(f PitchFrame) {
	d.wins.at(f.Time, d.flush)
	if !f.Voiced {
		d.piece, d.run = d.piece[:0], 0
		return
	}
	st := 12 * math.Log2(f.F0/100)
	d.total.st.add(st)
	d.win.st.add(st)
	if len(d.piece) == spPiece {
		copy(d.piece, d.piece[1:])
		d.piece = d.piece[:spPiece-1]
	}
	d.piece = append(d.piece, st)
	d.run++
	if len(d.piece) == spPiece && (d.run-spPiece)%spPieceHop == 0 {
		r := 100 * lineResidual(d.piece)
		d.total.linear.add(r)
		d.win.linear.add(r)
	}
}

// lineResidual returns the RMS distance of y from its least-squares line
// over equally spaced x.
func lineResidual(y []float64) float64 {
	n := float64(len(y))
	var sx, sy, sxx, sxy float64
	for i, v := range y {
		x := float64(i)
		sx += x
		sy += v
		sxx += x * x
		sxy += x * v
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	b := (n*sxy - sx*sy) / den
	a := (sy - b*sx) / n
	var rss float64
	for i, v := range y {
		r := v - a - b*float64(i)
		rss += r * r
	}
	return math.Sqrt(rss / n)
}

func (d *SynthProsody) flush(idx int) {
	defer d.win.reset()
	m, ok := d.win.measure(spMinWinVoic, spMinWinPcs)
	if !ok {
		return
	}
	start, end := windowSpan(idx)
	d.windows = append(d.windows, d.finding(m, start, math.Min(end, d.span.end)))
}

// spScore maps the pitch spread to the score: a logistic falling through
// 0.5 at spSpreadLow semitones.
func spScore(m spMeasure) float64 {
	return voiceLogistic(-m.spread, -spSpreadLow, spSpreadW)
}

func (d *SynthProsody) finding(m spMeasure, start, end float64) Finding {
	score := spScore(m)
	var expl string
	switch {
	case score < 0.5:
		expl = fmt.Sprintf("The voice's intonation moves like human speech (pitch varies by %.1f semitones).", m.spread)
	case m.linear < spLinearLow:
		expl = fmt.Sprintf("The voice is close to monotone (pitch varies by only %.1f semitones, human speech typically 2–5) and moves in straight lines within syllables, as with text-to-speech.", m.spread)
	default:
		expl = fmt.Sprintf("The voice is close to monotone (pitch varies by only %.1f semitones, human speech typically 2–5), as with text-to-speech or a very flat speaker.", m.spread)
	}
	seconds := m.voiced * d.pitch.HopSeconds()
	return Finding{
		Signal:     SynthProsodySignal,
		Modality:   Audio,
		Start:      start,
		End:        end,
		Score:      voiceRound(score, 3),
		Confidence: voiceRound(voiceConfidence(seconds, 3), 3),
		Values: []Measurement{
			M("f0_spread", voiceRound(m.spread, 2), "st", spSpreadLow, 8),
			M("contour_line_residual", voiceRound(m.linear, 1), "cents", spLinearLow, 200),
			{Name: "f0_range_5_95", Value: voiceRound(m.rangeST, 1), Unit: "st"},
			{Name: "voiced_seconds", Value: voiceRound(seconds, 2), Unit: "s"},
		},
		Explanation: expl,
	}
}

// Finish implements AudioDetector.
func (d *SynthProsody) Finish() Result {
	d.wins.finish(d.flush)
	m, ok := d.total.measure(spMinVoiced, spMinPieces)
	if !ok {
		return NotMeasured(SynthProsodySignal, Audio, fmt.Sprintf(
			"too little voiced speech to judge intonation (%.1f s with %.0f stretches of steady voicing, need %.1f s and %d)",
			d.total.st.count()*d.pitch.HopSeconds(), d.total.linear.count(), spMinVoiced*d.pitch.HopSeconds(), spMinPieces))
	}
	f := d.finding(m, d.span.start, d.span.end)
	return Result{Signal: SynthProsodySignal, Modality: Audio, Summary: &f, Windows: d.windows}
}

// Close implements AudioDetector. The detector holds no resources, so
// Close does nothing and is idempotent.
func (d *SynthProsody) Close() error { return nil }
