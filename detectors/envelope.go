package detectors

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/stat"

	"github.com/bonafide-dev/bonafide/media"
)

// EnvelopeSignal is the name of the spectral envelope / vocoder residual
// signal.
const EnvelopeSignal = "audio.envelope"

// Envelope measures the fine structure of voiced speech against its
// smoothed spectral envelope. In each voiced 32-ms frame of the 16-kHz
// voice stream it takes the log power spectrum, smooths it by cepstral
// liftering (the first envelopeLifter cepstral coefficients, i.e. detail
// coarser than ~530 Hz) and measures the standard deviation of the
// residual (log spectrum − envelope) in 0.3–4 kHz and 4–7.6 kHz.
//
// A natural voice's residual holds the harmonics and the aspiration noise
// between them: a noise-excited band alone gives about 5.0 dB with this
// analysis (the log of a χ² periodogram less what the lifter absorbs, see
// TestEnvelopeWhiteNoise) and harmonics add to it. Vocoders and formant/parametric synthesisers
// rebuild the spectrum from a smooth envelope and a regular excitation;
// their residual is smoother than noise. The score rises as the mean
// residual falls below the noise reference.
//
// Spectral flatness and tilt are reported alongside for context; they do
// not enter the score, because they depend on the microphone and codec
// more than on the voice.
type Envelope struct {
	started bool
	start   float64
	st      *chSTFT
	vad     *VAD
	speech  bool
	dct     *fourier.DCT
	logp    []float64
	cep     []float64
	env     []float64
	xs, ys  []float64 // tilt regression

	n                       int // voiced frames
	sumRes, sumLow, sumHigh float64
	nHigh                   int
	sumFlat, sumTilt        float64
	winN                    int
	winRes                  float64
	winIdx                  int
	frames                  int
	lastT                   float64
	windows                 []Finding
}

const (
	envelopeN      = 512 // 32 ms at 16 kHz
	envelopeLifter = 30
	// envelopeMinVoiced is the least voiced speech (s) for a summary; a
	// window needs envelopeWinVoiced.
	envelopeMinVoiced = 1.0
	envelopeWinVoiced = 0.5
	// envelopeMid is the residual of a noise-excited spectrum with this
	// analysis (5.0 dB, TestEnvelopeWhiteNoise). Natural voiced speech adds
	// harmonics and breath noise and lies above it (dev genuine items:
	// 4.85–7.9 dB, median ≈ 6.3); a vocoder or synthesiser that rebuilds
	// the spectrum from a smooth envelope lies around or below it (dev TTS:
	// 4.75–6.0). The logistic is centred on the noise reference.
	envelopeMid   = 5.0
	envelopeScale = 0.2
	// A band is skipped in a frame when it is this far below the frame's
	// strongest band (a band-limited channel leaves it empty, and an empty
	// band's residual says nothing about the voice).
	envelopeEmptyDB = 45.0
)

// NewEnvelope returns the spectral envelope / vocoder residual detector.
func NewEnvelope() *Envelope {
	h := envelopeN/2 + 1
	d := &Envelope{
		st:   newChSTFT(envelopeN, envelopeN/2),
		vad:  NewVAD(media.VoiceRate),
		dct:  fourier.NewDCT(h),
		logp: make([]float64, h),
		cep:  make([]float64, h),
		env:  make([]float64, h),
	}
	return d
}

// Name implements AudioDetector.
func (d *Envelope) Name() string { return EnvelopeSignal }

// Rate implements AudioDetector: the 16-kHz voice stream.
func (d *Envelope) Rate() int { return media.VoiceRate }

// ObserveAudio implements AudioDetector.
func (d *Envelope) ObserveAudio(c media.Chunk) error {
	if !d.started {
		d.started = true
		d.start = c.Start.Seconds()
	}
	s := c.Samples
	for len(s) > 0 {
		k := min(d.st.hop, len(s))
		d.vad.Push(s[:k], func(f VADFrame) { d.speech = f.Speech })
		d.st.push(s[:k], d.frame)
		s = s[k:]
	}
	return nil
}

const envelopeBinHz = float64(media.VoiceRate) / envelopeN

func envBin(f float64) int { return int(math.Round(f / envelopeBinHz)) }

func (d *Envelope) frame(f chFrame) {
	d.frames++
	t := d.start + float64(f.Start)/float64(media.VoiceRate)
	d.lastT = t + float64(envelopeN)/float64(media.VoiceRate)
	if w := windowOf(t); w != d.winIdx {
		d.flushWindow()
		d.winIdx = w
	}
	if !d.speech || f.RMSdB < -50 {
		return
	}
	p := f.Power
	lo, hi := envBin(100), envBin(7600)
	var low, all float64
	for k := lo; k <= hi; k++ {
		all += p[k]
		if k <= envBin(1000) {
			low += p[k]
		}
	}
	// Voiced frames carry most of their energy below 1 kHz.
	if all <= 0 || low < 0.5*all {
		return
	}
	rl, rh, okL, okH := d.roughness(p)
	if !okL {
		return
	}
	res := rl
	if okH {
		res = (rl + rh) / 2
		d.sumHigh += rh
		d.nHigh++
	}
	d.sumLow += rl
	d.sumRes += res
	d.n++
	d.winRes += res
	d.winN++
	// Flatness and tilt over 0.1–7.6 kHz, for context.
	const toDB = 10 / math.Ln10
	var lg float64
	if d.xs == nil {
		for k := lo; k <= hi; k++ {
			d.xs = append(d.xs, float64(k)*envelopeBinHz/1000)
		}
		d.ys = make([]float64, len(d.xs))
	}
	for k := lo; k <= hi; k++ {
		lg += d.logp[k]
		d.ys[k-lo] = toDB * d.logp[k]
	}
	nb := float64(hi - lo + 1)
	d.sumFlat += toDB * (lg/nb - math.Log(all/nb))
	_, slope := stat.LinearRegression(d.xs, d.ys, nil, false)
	d.sumTilt += slope
}

func (d *Envelope) flushWindow() {
	if float64(d.winN)*d.hopSec() >= envelopeWinVoiced {
		r := d.winRes / float64(d.winN)
		start := float64(d.winIdx) * WindowSeconds
		f := Finding{
			Signal: d.Name(), Modality: Audio, Start: start, End: start + WindowSeconds,
			Score:      round3(envelopeScore(r)),
			Confidence: round3(chClamp01(float64(d.winN) * d.hopSec() / 2)),
			Values:     []Measurement{M("residual_roughness", round3(r), "dB", envelopeMid, 9.5)},
		}
		f.Explanation = envelopeExplain(r)
		d.windows = append(d.windows, f)
	}
	d.winN, d.winRes = 0, 0
}

func (d *Envelope) hopSec() float64 { return float64(d.st.hop) / float64(media.VoiceRate) }

// envelopeScore maps the mean residual roughness (dB) to a score: high
// when the fine structure is smoother than a noise-excited spectrum.
func envelopeScore(r float64) float64 {
	return 0.02 + 0.96*chLogistic(r, envelopeMid, -envelopeScale)
}

func envelopeExplain(r float64) string {
	if envelopeScore(r) >= 0.5 {
		return fmt.Sprintf("The fine structure of the voiced sounds is unusually smooth (%.1f dB around the spectral envelope, where even random noise gives %.1f dB and a natural voice more), as when a vocoder or speech synthesiser rebuilds the voice.",
			r, envelopeMid)
	}
	return fmt.Sprintf("The fine structure of the voiced sounds varies around the spectral envelope as much as a natural voice does (%.1f dB).", r)
}

// roughness returns the standard deviation (dB) of the log power
// spectrum p around its cepstrally smoothed envelope in 0.3–4 kHz and
// 4–7.6 kHz; ok is false for a band that is empty in this frame.
func (d *Envelope) roughness(p []float64) (rl, rh float64, okL, okH bool) {
	peak := 0.0
	for _, v := range p {
		peak = math.Max(peak, v)
	}
	if peak <= 0 {
		return 0, 0, false, false
	}
	floor := peak * 1e-12 // −120 dB: keeps digital zeros finite
	for k, v := range p {
		d.logp[k] = math.Log(v + floor)
	}
	// Cepstrum (DCT-I of the even log spectrum), lifter, back.
	d.dct.Transform(d.cep, d.logp)
	for q := envelopeLifter; q < len(d.cep); q++ {
		d.cep[q] = 0
	}
	d.dct.Transform(d.env, d.cep)
	scale := 1 / float64(2*(len(d.env)-1))
	for k := range d.env {
		d.env[k] *= scale
	}
	const toDB = 10 / math.Ln10
	peakDB := toDB * math.Log(peak)
	band := func(f0, f1 float64) (float64, bool) {
		k0, k1 := envBin(f0), envBin(f1)
		var sum float64
		for k := k0; k <= k1; k++ {
			sum += p[k]
		}
		if chPowerDB(sum/float64(k1-k0+1)) < peakDB-envelopeEmptyDB {
			return 0, false
		}
		var s1, s2 float64
		for k := k0; k <= k1; k++ {
			r := toDB * (d.logp[k] - d.env[k])
			s1 += r
			s2 += r * r
		}
		n := float64(k1 - k0 + 1)
		m := s1 / n
		return math.Sqrt(math.Max(0, s2/n-m*m)), true
	}
	rl, okL = band(300, 4000)
	rh, okH = band(4000, 7600)
	return rl, rh, okL, okH
}

// Finish implements AudioDetector.
func (d *Envelope) Finish() Result {
	if !d.started {
		return NotMeasured(d.Name(), Audio, "no audio could be decoded")
	}
	d.flushWindow()
	voiced := float64(d.n) * d.hopSec()
	if d.n == 0 {
		return NotMeasured(d.Name(), Audio, "no voiced speech found (silence, noise or unvoiced sounds only)")
	}
	if voiced < envelopeMinVoiced {
		return NotMeasured(d.Name(), Audio, fmt.Sprintf("only %.1f s of voiced speech, at least %.1f s needed", voiced, envelopeMinVoiced))
	}
	n := float64(d.n)
	r := d.sumRes / n
	vals := []Measurement{
		M("residual_roughness", round3(r), "dB", envelopeMid, 9.5),
		M("residual_low_band", round3(d.sumLow/n), "dB", envelopeMid, 10),
	}
	if d.nHigh > 0 {
		vals = append(vals, M("residual_high_band", round3(d.sumHigh/float64(d.nHigh)), "dB", envelopeMid, 9))
	}
	vals = append(vals,
		Measurement{Name: "spectral_flatness", Value: round3(d.sumFlat / n), Unit: "dB"},
		Measurement{Name: "spectral_tilt", Value: round3(d.sumTilt / n), Unit: "dB/kHz"},
		Measurement{Name: "voiced_seconds", Value: round3(voiced), Unit: "s"},
	)
	sum := Finding{
		Signal: d.Name(), Modality: Audio, Start: d.start, End: d.lastT,
		Score:       round3(envelopeScore(r)),
		Confidence:  round3(chClamp01(voiced / 4)),
		Values:      vals,
		Explanation: envelopeExplain(r),
	}
	return Result{Signal: d.Name(), Modality: Audio, Summary: &sum, Windows: d.windows}
}

// Close implements AudioDetector. It holds nothing and is idempotent.
func (d *Envelope) Close() error { return nil }
