package detectors

import (
	"math"

	"github.com/bonafide-dev/bonafide/media"
)

// voiceHist is a fixed-bin histogram for quantiles in constant memory: the
// voice detectors keep one per statistic and per timeline window instead of
// every frame's value, so a four-hour interview costs what a minute does.
type voiceHist struct {
	lo, step float64
	bins     []float64
	n        float64
}

func newVoiceHist(lo, hi, step float64) *voiceHist {
	return &voiceHist{lo: lo, step: step, bins: make([]float64, int(math.Ceil((hi-lo)/step)))}
}

// add counts v (clamped into the histogram's range).
func (h *voiceHist) add(v float64) {
	if math.IsNaN(v) {
		return
	}
	i := int((v - h.lo) / h.step)
	i = max(0, min(len(h.bins)-1, i))
	h.bins[i]++
	h.n++
}

func (h *voiceHist) count() float64 { return h.n }

func (h *voiceHist) reset() {
	clear(h.bins)
	h.n = 0
}

// quantile returns the q-quantile (0 ≤ q ≤ 1), interpolated inside the bin;
// NaN when empty.
func (h *voiceHist) quantile(q float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	target := q * h.n
	var cum float64
	for i, c := range h.bins {
		if c > 0 && cum+c >= target {
			frac := (target - cum) / c
			return h.lo + (float64(i)+frac)*h.step
		}
		cum += c
	}
	return h.lo + float64(len(h.bins))*h.step
}

// robustSD is the 10–90 % range over 2.563: the standard deviation of a
// normal distribution, insensitive to up to 10 % of outliers at either end
// (octave errors of the pitch tracker).
func (h *voiceHist) robustSD() float64 {
	return (h.quantile(0.9) - h.quantile(0.1)) / 2.563
}

// voiceLogistic maps x to (0,1): 0.5 at x = centre, rising over about
// ±2·width. Every voice score is a documented logistic of a raw value.
func voiceLogistic(x, centre, width float64) float64 {
	return 1 / (1 + math.Exp(-(x-centre)/width))
}

// voiceConfidence grows with the amount of data: 1−exp(−have/scale).
func voiceConfidence(have, scale float64) float64 {
	if have <= 0 {
		return 0
	}
	return 1 - math.Exp(-have/scale)
}

// voiceRound rounds to d decimals for report values.
func voiceRound(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// voiceWindows follows the timeline window (WindowSeconds) of a voice
// detector's frames and calls flush for each window that ends.
type voiceWindows struct {
	cur     int
	started bool
}

// at moves to the window of time t, flushing the previous one first when
// t is in a new window.
func (w *voiceWindows) at(t float64, flush func(idx int)) {
	i := windowOf(t)
	if !w.started {
		w.cur, w.started = i, true
		return
	}
	if i != w.cur {
		flush(w.cur)
		w.cur = i
	}
}

// finish flushes the last window.
func (w *voiceWindows) finish(flush func(idx int)) {
	if w.started {
		flush(w.cur)
	}
}

// windowSpan returns the start and end time of timeline window idx.
func windowSpan(idx int) (float64, float64) {
	return float64(idx) * WindowSeconds, float64(idx+1) * WindowSeconds
}

// voiceSpan records the time span of the audio a detector saw.
type voiceSpan struct {
	start, end float64
	started    bool
}

func (s *voiceSpan) observe(c media.Chunk) {
	t := c.Start.Seconds()
	if !s.started {
		s.start, s.started = t, true
	}
	if c.Rate > 0 {
		s.end = t + float64(len(c.Samples))/float64(c.Rate)
	}
}
