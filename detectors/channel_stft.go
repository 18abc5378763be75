package detectors

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"
)

// chSTFT cuts a mono stream into Hann-windowed frames of n samples every hop
// samples and hands each frame's power spectrum to a callback. It keeps at
// most n samples between calls, so its memory does not grow with the
// stream. It is used by the channel detectors (band limit, envelope) and is
// not safe for concurrent use.
type chSTFT struct {
	n, hop int
	fft    *fourier.FFT
	win    []float64
	winSS  float64 // sum of squared window weights, to scale power
	pend   []float64
	frame  []float64
	coef   []complex128
	power  []float64
	start  int64 // stream index of pend[0]
}

// chFrame is one analysed frame. Power is owned by the chSTFT and valid
// only during the callback.
type chFrame struct {
	Start int64     // stream index of the frame's first sample
	Power []float64 // |X(k)|² / Σw², k = 0 … n/2 (a periodogram)
	RMSdB float64   // unwindowed frame level, dBFS
}

func newChSTFT(n, hop int) *chSTFT {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	w = window.Hann(w)
	var ss float64
	for _, v := range w {
		ss += v * v
	}
	return &chSTFT{
		n: n, hop: hop,
		fft:   fourier.NewFFT(n),
		win:   w,
		winSS: ss,
		pend:  make([]float64, 0, n),
		frame: make([]float64, n),
		coef:  make([]complex128, n/2+1),
		power: make([]float64, n/2+1),
	}
}

// push feeds samples and calls emit for every completed frame.
func (s *chSTFT) push(samples []float32, emit func(chFrame)) {
	for len(samples) > 0 {
		k := min(s.n-len(s.pend), len(samples))
		for _, v := range samples[:k] {
			s.pend = append(s.pend, float64(v))
		}
		samples = samples[k:]
		if len(s.pend) < s.n {
			return
		}
		var e float64
		for i, v := range s.pend {
			e += v * v
			s.frame[i] = v * s.win[i]
		}
		s.fft.Coefficients(s.coef, s.frame)
		for i, c := range s.coef {
			s.power[i] = (real(c)*real(c) + imag(c)*imag(c)) / s.winSS
		}
		emit(chFrame{Start: s.start, Power: s.power, RMSdB: chPowerDB(e / float64(s.n))})
		// Keep the overlap.
		copy(s.pend, s.pend[s.hop:])
		s.pend = s.pend[:s.n-s.hop]
		s.start += int64(s.hop)
	}
}

// chFloorDB is the level given to digital silence (and anything quieter).
const chFloorDB = -160.0

// chPowerDB converts a mean power to dB, floored at chFloorDB.
func chPowerDB(p float64) float64 {
	if p <= 1e-16 {
		return chFloorDB
	}
	return math.Max(chFloorDB, 10*math.Log10(p))
}

// chNextPow2 returns the smallest power of two ≥ n (and ≥ 2).
func chNextPow2(n int) int {
	p := 2
	for p < n {
		p *= 2
	}
	return p
}

// chSpectrum is a power spectrum on bins 0 … n/2 with a bin width, with
// prefix sums for fast band means.
type chSpectrum struct {
	binHz float64
	cum   []float64 // cum[k] = Σ power[0:k]
}

func newChSpectrum(power []float64, binHz float64) chSpectrum {
	cum := make([]float64, len(power)+1)
	for k, p := range power {
		cum[k+1] = cum[k] + p
	}
	return chSpectrum{binHz: binHz, cum: cum}
}

// bandDB returns the mean power over [f0, f1] Hz in dB.
func (s chSpectrum) bandDB(f0, f1 float64) float64 {
	k0 := int(math.Round(f0 / s.binHz))
	k1 := int(math.Round(f1 / s.binHz))
	k0 = max(0, min(k0, len(s.cum)-2))
	k1 = max(k0, min(k1, len(s.cum)-2))
	return chPowerDB((s.cum[k1+1] - s.cum[k0]) / float64(k1-k0+1))
}

// chLogistic is the smooth 0…1 step used to map raw values to scores:
// 0.5 at x = mid, rising with x when scale > 0 (falling when scale < 0);
// |scale| is the distance from mid at which it reaches 0.73.
func chLogistic(x, mid, scale float64) float64 {
	return 1 / (1 + math.Exp(-(x-mid)/scale))
}

// chClamp01 limits v to [0, 1].
func chClamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// chHist is a fixed-size histogram of levels in dB (chFloorDB … 0 dBFS in
// 0.5-dB bins), for medians and percentiles in constant memory.
type chHist struct {
	bins [321]int32
	n    int
}

func (h *chHist) add(db float64) {
	i := int(math.Round((db - chFloorDB) * 2))
	i = max(0, min(i, len(h.bins)-1))
	h.bins[i]++
	h.n++
}

// quantile returns the level below which a fraction q of the values lie.
func (h *chHist) quantile(q float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	target := int(math.Ceil(q * float64(h.n)))
	target = max(1, target)
	acc := 0
	for i, c := range h.bins {
		acc += int(c)
		if acc >= target {
			return chFloorDB + float64(i)/2
		}
	}
	return 0
}

func (h *chHist) reset() { *h = chHist{} }
