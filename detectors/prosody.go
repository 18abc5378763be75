package detectors

import (
	"fmt"
	"math"

	"github.com/bonafide-dev/bonafide/media"
)

// MicroProsodySignal is the name of the micro-prosody signal.
const MicroProsodySignal = "audio.microprosody"

// Normal ranges of the micro-prosody measurements on running speech, as
// this instrument measures them. The classic clinical norms (Praat on
// sustained vowels: jitter < 1.04 %, shimmer < 3.81 %, HNR > 20 dB) are
// for held vowels; running speech is less regular, and on the genuine dev
// voices (35 items: read audiobooks, speeches, interviews, three of them
// with music) this instrument gives jitter 1.9–4.9 % (one item with loud
// music 7.7 %), shimmer 4–17 % and HNR 7–16 dB. The ranges below are
// those, slightly widened. Jitter reads low above about 5 %: the roughest
// frames fall below the voicing threshold.
const (
	mpJitterLow  = 1.8 // % — below: too regular for a human voice
	mpJitterHigh = 6.0 // % — above: implausibly irregular
	mpJitterW    = 0.15
	mpJitterHW   = 0.5
	mpHNRHigh    = 22.0 // dB — above: cleaner than any running speech
	mpHNRW       = 1.5
	mpShimLow    = 3.0 // % — below: amplitude too steady
	mpShimHigh   = 20.0
	mpShimW      = 0.5
	mpShimHW     = 1.5
	// mpMinPairs jitter pairs (about 1.5 s of voicing at 120 Hz) are
	// needed for a summary, mpMinWinPairs for a timeline window.
	mpMinPairs    = 180
	mpMinWinPairs = 120
)

// MicroProsody measures cycle-to-cycle regularity of the voice: jitter
// (local, % of the period), shimmer (local, % of the peak amplitude), the
// harmonics-to-noise ratio and the F0 micro-variation between 10-ms frames.
// Synthetic voices (formant and parametric TTS, vocoders) are often too
// regular; broken vocoders and voice changers can be implausibly irregular.
// Glottal cycles are marked in voiced frames of a PitchTracker by
// waveform cross-correlation (voicePulses); Praat's rules pick the cycle
// pairs that count (period ratio ≤ 1.3, amplitude ratio ≤ 1.6). Memory is
// constant: sums and histograms.
type MicroProsody struct {
	pitch   pitchStream
	pulses  *voicePulses
	total   *mpAcc
	win     *mpAcc
	wins    voiceWindows
	windows []Finding
	span    voiceSpan
	prevSt  [2]float64 // semitones of the last two frames; 0 = unvoiced
}

type mpAcc struct {
	dT, sT, nT float64 // jitter: Σ|ΔT|, ΣT, pairs
	dA, sA, nA float64 // shimmer: Σ|ΔA|, ΣA, pairs
	hnr        *voiceHist
	micro      *voiceHist // |second difference| of the F0 contour, cents
}

func newMPAcc() *mpAcc {
	return &mpAcc{hnr: newVoiceHist(-20, 40, 0.1), micro: newVoiceHist(0, 200, 0.25)}
}

func (a *mpAcc) reset() {
	a.dT, a.sT, a.nT, a.dA, a.sA, a.nA = 0, 0, 0, 0, 0, 0
	a.hnr.reset()
	a.micro.reset()
}

func (a *mpAcc) cycle(c voiceCycle) {
	if c.jitterPair() {
		a.dT += math.Abs(c.Period - c.PrevPeriod)
		a.sT += c.Period
		a.nT++
	}
	if c.shimmerPair() {
		a.dA += math.Abs(c.Amp - c.PrevAmp)
		a.sA += c.Amp
		a.nA++
	}
}

type mpMeasure struct {
	jitter, shimmer, hnr, micro float64
	pairs                       float64
}

func (a *mpAcc) measure(minPairs float64) (mpMeasure, bool) {
	if a.nT < minPairs || a.nA < minPairs/2 || a.sT <= 0 || a.sA <= 0 {
		return mpMeasure{}, false
	}
	return mpMeasure{
		jitter:  100 * a.dT / a.sT,
		shimmer: 100 * a.dA / a.sA,
		hnr:     a.hnr.quantile(0.5),
		micro:   a.micro.quantile(0.5),
		pairs:   a.nT,
	}, true
}

// NewMicroProsody returns the micro-prosody detector.
func NewMicroProsody() (*MicroProsody, error) {
	pt, err := NewPitchTracker(media.VoiceRate, PitchConfig{})
	if err != nil {
		return nil, err
	}
	return newMicroProsody(pt)
}

// newMicroProsody builds the detector on pitch frames from pt, which may be
// shared with other detectors (SharedPitch).
func newMicroProsody(pt pitchStream) (*MicroProsody, error) {
	return &MicroProsody{pitch: pt, total: newMPAcc(), win: newMPAcc()}, nil
}

// Name implements AudioDetector.
func (d *MicroProsody) Name() string { return MicroProsodySignal }

// Rate implements AudioDetector.
func (d *MicroProsody) Rate() int { return media.VoiceRate }

// ObserveAudio implements AudioDetector.
func (d *MicroProsody) ObserveAudio(c media.Chunk) error {
	d.span.observe(c)
	if d.pulses == nil {
		d.pulses = newVoicePulses(media.VoiceRate, c.Start.Seconds())
	}
	if c.Rate == media.VoiceRate {
		d.pulses.push(c.Samples)
	}
	return d.pitch.Push(c, d.frame)
}

func (d *MicroProsody) frame(f PitchFrame) {
	d.wins.at(f.Time, d.flush)
	hop := int(math.Round(d.pitch.HopSeconds() * media.VoiceRate))
	d.pulses.frame(f, hop, d.cycle)
	st := 0.0
	if f.Voiced {
		st = 12 * math.Log2(f.F0/100)
		h := f.HNR()
		d.total.hnr.add(h)
		d.win.hnr.add(h)
		if d.prevSt[0] != 0 && d.prevSt[1] != 0 {
			// Cents; a jump of more than 2 semitones in 10 ms is a tracking
			// error, not micro-variation.
			if v := 100 * math.Abs(st-2*d.prevSt[1]+d.prevSt[0]); v < 200 {
				d.total.micro.add(v)
				d.win.micro.add(v)
			}
		}
	}
	d.prevSt[0], d.prevSt[1] = d.prevSt[1], st
}

func (d *MicroProsody) cycle(c voiceCycle) {
	d.total.cycle(c)
	d.win.cycle(c)
}

func (d *MicroProsody) flush(idx int) {
	defer d.win.reset()
	m, ok := d.win.measure(mpMinWinPairs)
	if !ok {
		return
	}
	start, end := windowSpan(idx)
	d.windows = append(d.windows, d.finding(m, start, math.Min(end, d.span.end)))
}

// mpScores returns the score of each measurement: how far outside the
// normal range it is, through a logistic at each end of the range.
func mpScores(m mpMeasure) (jitter, shimmer, hnr float64) {
	jitter = math.Max(voiceLogistic(-m.jitter, -mpJitterLow, mpJitterW), voiceLogistic(m.jitter, mpJitterHigh, mpJitterHW))
	shimmer = math.Max(voiceLogistic(-m.shimmer, -mpShimLow, mpShimW), voiceLogistic(m.shimmer, mpShimHigh, mpShimHW))
	hnr = voiceLogistic(m.hnr, mpHNRHigh, mpHNRW)
	return
}

func (d *MicroProsody) finding(m mpMeasure, start, end float64) Finding {
	sj, ss, sh := mpScores(m)
	score := math.Max(sj, math.Max(ss, sh))
	var expl string
	switch {
	case score < 0.5:
		expl = fmt.Sprintf("The voice varies from one vocal-fold cycle to the next like a human voice (jitter %.1f%%, shimmer %.1f%%, harmonics-to-noise %.0f dB).",
			m.jitter, m.shimmer, m.hnr)
	case sj == score && m.jitter < mpJitterLow:
		expl = fmt.Sprintf("The voice's pitch is unnaturally steady from one vocal-fold cycle to the next (jitter %.1f%%, human speech %.1f–%.0f%%), as in synthetic speech.",
			m.jitter, mpJitterLow, mpJitterHigh)
	case sj == score:
		expl = fmt.Sprintf("The voice's pitch is unnaturally unsteady from one cycle to the next (jitter %.1f%%, human speech %.1f–%.0f%%), as with a broken vocoder or voice changer.",
			m.jitter, mpJitterLow, mpJitterHigh)
	case ss == score && m.shimmer < mpShimLow:
		expl = fmt.Sprintf("The voice's loudness is unnaturally steady from one cycle to the next (shimmer %.1f%%, human speech %.0f–%.0f%%), as in synthetic speech.",
			m.shimmer, mpShimLow, mpShimHigh)
	case ss == score:
		expl = fmt.Sprintf("The voice's loudness jumps from one cycle to the next far more than in human speech (shimmer %.1f%%, normal %.0f–%.0f%%).",
			m.shimmer, mpShimLow, mpShimHigh)
	default:
		expl = fmt.Sprintf("The voice is cleaner than human speech normally is (harmonics-to-noise %.0f dB, normally below %.0f dB), as in synthetic speech.",
			m.hnr, mpHNRHigh)
	}
	// A cycle at 120 Hz lasts 8 ms: 300 pairs are about 2.5 s of voicing.
	return Finding{
		Signal:     MicroProsodySignal,
		Modality:   Audio,
		Start:      start,
		End:        end,
		Score:      voiceRound(score, 3),
		Confidence: voiceRound(voiceConfidence(m.pairs, 300), 3),
		Values: []Measurement{
			M("jitter_local", voiceRound(m.jitter, 2), "%", mpJitterLow, mpJitterHigh),
			M("shimmer_local", voiceRound(m.shimmer, 2), "%", mpShimLow, mpShimHigh),
			M("hnr", voiceRound(m.hnr, 1), "dB", 5, mpHNRHigh),
			M("f0_microvariation", voiceRound(m.micro, 1), "cents", 3, 16),
			{Name: "cycle_pairs", Value: m.pairs},
		},
		Explanation: expl,
	}
}

// Finish implements AudioDetector.
func (d *MicroProsody) Finish() Result {
	d.wins.finish(d.flush)
	m, ok := d.total.measure(mpMinPairs)
	if !ok {
		return NotMeasured(MicroProsodySignal, Audio, fmt.Sprintf(
			"too little steadily voiced speech to measure jitter and shimmer (%.0f vocal-fold cycles, need %d)", d.total.nT, mpMinPairs))
	}
	f := d.finding(m, d.span.start, d.span.end)
	return Result{Signal: MicroProsodySignal, Modality: Audio, Summary: &f, Windows: d.windows}
}

// Close implements AudioDetector. The detector holds no resources, so
// Close does nothing and is idempotent.
func (d *MicroProsody) Close() error { return nil }
