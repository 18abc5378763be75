package detectors

import "math"

// voiceHistory keeps the most recent samples of a stream with their
// absolute indices, so that analyses can look a little back in time. Its
// memory is bounded by 2·keep samples.
type voiceHistory struct {
	buf  []float64
	base int64 // absolute index of buf[0]
	keep int
}

func newVoiceHistory(keep int) *voiceHistory { return &voiceHistory{keep: keep} }

func (h *voiceHistory) push(s []float32) {
	for _, v := range s {
		h.buf = append(h.buf, float64(v))
	}
	if len(h.buf) > 2*h.keep {
		drop := len(h.buf) - h.keep
		n := copy(h.buf, h.buf[drop:])
		h.buf = h.buf[:n]
		h.base += int64(drop)
	}
}

// end is the absolute index one past the newest sample.
func (h *voiceHistory) end() int64 { return h.base + int64(len(h.buf)) }

// has reports whether samples [from, to) are all held.
func (h *voiceHistory) has(from, to int64) bool { return from >= h.base && to <= h.end() }

// at returns sample i; the caller checks has first.
func (h *voiceHistory) at(i int64) float64 { return h.buf[i-h.base] }

// voiceCycle is one glottal cycle found by voicePulses.
type voiceCycle struct {
	Time   float64 // seconds (stream time) of the cycle's closing pulse
	Period float64 // samples
	Amp    float64 // height of the cycle's closing peak (polarity-corrected)
	// Prev* describe the cycle before when Chained (same voiced run).
	Chained             bool
	PrevPeriod, PrevAmp float64
}

// voicePulses marks glottal cycles in voiced speech, like Praat's periodic
// point process: a voiced run starts at the strongest peak of one period;
// each next pulse is found by cross-correlating the waveform around the
// last pulse with the waveform 0.7–1.4 periods later (robust to formant
// ringing) and then refined to the local peak (sub-sample, parabolic). The
// distance between pulses is the cycle's period and the height of its
// closing peak its amplitude. A run stops at an unvoiced frame or when the
// correlation drops below minCycleCorr.
type voicePulses struct {
	rate       int
	hist       *voiceHistory
	last       float64 // absolute position of the last pulse; <0: no run
	pol        float64 // +1 or −1: polarity of the pulses in this run
	prevPeriod float64
	prevAmp    float64
	start      float64   // stream time of absolute sample 0
	cs         []float64 // scratch: correlation per lag
}

const (
	minCycleCorr = 0.6 // below this the next cycle does not resemble the last
	maxPeriodFac = 1.3 // Praat's "maximum period factor" for jitter pairs
	maxAmpFac    = 1.6 // Praat's "maximum amplitude factor" for shimmer pairs
)

func newVoicePulses(rate int, start float64) *voicePulses {
	// Keep at least 300 ms: frames arrive up to one 100-ms chunk after
	// their samples were pushed, their centre lags the newest sample by
	// half a span (about 22 ms), and a run starts two periods (up to 33 ms
	// at 60 Hz) before a frame's centre.
	return &voicePulses{rate: rate, hist: newVoiceHistory(rate * 3 / 10), last: -1, start: start}
}

func (p *voicePulses) push(s []float32) { p.hist.push(s) }

func (p *voicePulses) reset() {
	p.last, p.prevPeriod, p.prevAmp = -1, 0, 0
}

// frame advances pulse marking up to the centre of f and calls emit for each
// completed cycle.
func (p *voicePulses) frame(f PitchFrame, hopSamples int, emit func(voiceCycle)) {
	if !f.Voiced || f.F0 <= 0 {
		p.reset()
		return
	}
	T := float64(p.rate) / f.F0
	c := float64(f.Centre)
	if p.last >= 0 && c-p.last > 3*T {
		p.reset()
	}
	if p.last < 0 && !p.startRun(c, T) {
		return
	}
	limit := c + float64(hopSamples)/2
	for p.last < limit {
		if !p.next(T, emit) {
			return
		}
	}
}

// startRun places the first pulse of a run at the strongest peak of the
// period before c, choosing the run's polarity.
func (p *voicePulses) startRun(c, T float64) bool {
	lo, hi := int64(c-2*T), int64(c)
	if !p.hist.has(lo-1, hi+2) {
		return false
	}
	mx, mn := math.Inf(-1), math.Inf(1)
	for i := lo; i <= hi; i++ {
		v := p.hist.at(i)
		mx = math.Max(mx, v)
		mn = math.Min(mn, v)
	}
	p.pol = 1
	if -mn > mx {
		p.pol = -1
	}
	pos, ok := p.peak(int64(c-T), hi)
	if !ok {
		return false
	}
	p.last = pos
	return true
}

// peak returns the sub-sample position of the largest pol·x in [lo, hi].
func (p *voicePulses) peak(lo, hi int64) (float64, bool) {
	if !p.hist.has(lo-1, hi+2) || hi < lo {
		return 0, false
	}
	best := lo
	for i := lo + 1; i <= hi; i++ {
		if p.pol*p.hist.at(i) > p.pol*p.hist.at(best) {
			best = i
		}
	}
	y0, y1, y2 := p.pol*p.hist.at(best-1), p.pol*p.hist.at(best), p.pol*p.hist.at(best+1)
	pos := float64(best)
	if den := y0 - 2*y1 + y2; den < 0 {
		if off := 0.5 * (y0 - y2) / den; math.Abs(off) < 1 {
			pos += off
		}
	}
	return pos, true
}

// next finds the pulse after p.last. It returns false when it needs more
// samples or when the run broke.
func (p *voicePulses) next(T float64, emit func(voiceCycle)) bool {
	h := int64(math.Round(T / 2))
	lagLo, lagHi := int64(math.Floor(0.7*T)), int64(math.Ceil(1.4*T))
	anchor := int64(math.Round(p.last))
	if !p.hist.has(anchor-h, anchor+lagHi+h+2) {
		return false
	}
	var e1 float64
	for k := -h; k <= h; k++ {
		v := p.hist.at(anchor + k)
		e1 += v * v
	}
	if e1 <= 0 {
		p.reset()
		return false
	}
	corr := func(lag int64) float64 {
		var xy, e2 float64
		for k := -h; k <= h; k++ {
			a, b := p.hist.at(anchor+k), p.hist.at(anchor+lag+k)
			xy += a * b
			e2 += b * b
		}
		if e2 <= 0 {
			return 0
		}
		return xy / math.Sqrt(e1*e2)
	}
	bestLag, bestC := lagLo, math.Inf(-1)
	cs := p.cs[:0]
	for lag := lagLo; lag <= lagHi; lag++ {
		v := corr(lag)
		cs = append(cs, v)
		if v > bestC {
			bestLag, bestC = lag, v
		}
	}
	p.cs = cs
	if bestC < minCycleCorr || bestLag == lagLo || bestLag == lagHi {
		p.reset()
		return false
	}
	lag := float64(bestLag)
	i := bestLag - lagLo
	y0, y1, y2 := cs[i-1], cs[i], cs[i+1]
	if den := y0 - 2*y1 + y2; den < 0 {
		if off := 0.5 * (y0 - y2) / den; math.Abs(off) < 1 {
			lag += off
		}
	}
	guess := p.last + lag
	w := math.Max(1, 0.15*T)
	q, ok := p.peak(int64(math.Round(guess-w)), int64(math.Round(guess+w)))
	if !ok {
		return false
	}
	if math.Abs(q-guess) >= w-0.5 {
		q = guess // no clear peak near the correlation's estimate
	}
	period := q - p.last
	amp := p.pol * p.vertex(int64(math.Round(q)))
	cyc := voiceCycle{
		Time:       p.start + q/float64(p.rate),
		Period:     period,
		Amp:        amp,
		Chained:    p.prevPeriod > 0,
		PrevPeriod: p.prevPeriod,
		PrevAmp:    p.prevAmp,
	}
	emit(cyc)
	p.last, p.prevPeriod, p.prevAmp = q, period, amp
	return true
}

// vertex returns the height of the parabola through samples i−1, i, i+1.
func (p *voicePulses) vertex(i int64) float64 {
	y0, y1, y2 := p.hist.at(i-1), p.hist.at(i), p.hist.at(i+1)
	den := y0 - 2*y1 + y2
	if den == 0 {
		return y1
	}
	off := 0.5 * (y0 - y2) / den
	if math.Abs(off) >= 1 {
		return y1
	}
	return y1 - 0.25*(y0-y2)*off
}

// jitterPair reports whether a cycle and its predecessor form a valid
// jitter pair (Praat's rules: both chained, period ratio ≤ 1.3).
func (c voiceCycle) jitterPair() bool {
	if !c.Chained || c.Period <= 0 || c.PrevPeriod <= 0 {
		return false
	}
	r := c.Period / c.PrevPeriod
	return r <= maxPeriodFac && r >= 1/maxPeriodFac
}

// shimmerPair reports whether a cycle and its predecessor form a valid
// shimmer pair (amplitude ratio ≤ 1.6, and a valid jitter pair).
func (c voiceCycle) shimmerPair() bool {
	if !c.jitterPair() || c.Amp <= 0 || c.PrevAmp <= 0 {
		return false
	}
	r := c.Amp / c.PrevAmp
	return r <= maxAmpFac && r >= 1/maxAmpFac
}
