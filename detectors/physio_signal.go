package detectors

import (
	"math"
	"math/cmplx"
	"slices"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"
	"gonum.org/v1/gonum/stat"
)

// One-dimensional signal helpers shared by the physiological video
// detectors (pulse, blinks, flicker). Every name carries the physio prefix
// so that the package's other files stay free to use short names.

// physioResample returns x sampled at times ts (increasing, seconds) on a
// uniform grid of n points starting at ts[0] with step 1/fs, by linear
// interpolation. ts and x must have the same length ≥ 2.
func physioResample(ts, x []float64, fs float64, n int) []float64 {
	out := make([]float64, n)
	j := 0
	for i := range out {
		t := ts[0] + float64(i)/fs
		for j < len(ts)-2 && ts[j+1] < t {
			j++
		}
		dt := ts[j+1] - ts[j]
		if dt <= 0 {
			out[i] = x[j]
			continue
		}
		a := (t - ts[j]) / dt
		a = math.Max(0, math.Min(1, a))
		out[i] = x[j] + a*(x[j+1]-x[j])
	}
	return out
}

// physioDetrend removes the least-squares line from x in place.
func physioDetrend(x []float64) {
	n := len(x)
	if n < 2 {
		return
	}
	idx := make([]float64, n)
	for i := range idx {
		idx[i] = float64(i)
	}
	alpha, beta := stat.LinearRegression(idx, x, nil, false)
	for i := range x {
		x[i] -= alpha + beta*float64(i)
	}
}

// physioBandPass keeps the components of x (sampled at fs) between lo and
// hi Hz: the FFT bins outside the band are zeroed and the signal is
// transformed back. x is detrended first so that the edges do not leak.
// The result is a new slice.
func physioBandPass(x []float64, fs, lo, hi float64) []float64 {
	y := slices.Clone(x)
	physioDetrend(y)
	fft := fourier.NewFFT(len(y))
	coef := fft.Coefficients(nil, y)
	for i := range coef {
		f := fft.Freq(i) * fs
		if f < lo || f > hi {
			coef[i] = 0
		}
	}
	out := fft.Sequence(nil, coef)
	n := float64(len(y))
	for i := range out {
		out[i] /= n // gonum's inverse is unnormalised
	}
	return out
}

// physioSpectrum is a one-sided power spectrum of a Hann-windowed,
// zero-padded signal.
type physioSpectrum struct {
	freq  []float64 // Hz
	power []float64
}

// physioPowerSpectrum returns the power spectrum of x (sampled at fs),
// zero-padded to at least minLen points for a finer frequency grid.
func physioPowerSpectrum(x []float64, fs float64, minLen int) physioSpectrum {
	n := max(len(x), minLen)
	seq := make([]float64, n)
	copy(seq, x)
	window.Hann(seq[:len(x)])
	fft := fourier.NewFFT(n)
	coef := fft.Coefficients(nil, seq)
	s := physioSpectrum{freq: make([]float64, len(coef)), power: make([]float64, len(coef))}
	for i, c := range coef {
		s.freq[i] = fft.Freq(i) * fs
		a := cmplx.Abs(c)
		s.power[i] = a * a
	}
	return s
}

// peak returns the frequency of the highest power between lo and hi Hz and
// the signal-to-noise ratio in dB of that peak (power within ±halfWidth Hz
// of it and of its first harmonic, against the rest of the band), as in de
// Haan & Jeanne (2013). ok is false when the band holds no bin.
func (s physioSpectrum) peak(lo, hi, halfWidth float64) (freq, snrDB float64, ok bool) {
	best := -1
	for i, f := range s.freq {
		if f < lo || f > hi {
			continue
		}
		if best < 0 || s.power[i] > s.power[best] {
			best = i
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	f0 := s.freq[best]
	var sig, noise float64
	for i, f := range s.freq {
		if f < lo || f > hi {
			continue
		}
		if math.Abs(f-f0) <= halfWidth || math.Abs(f-2*f0) <= 2*halfWidth {
			sig += s.power[i]
		} else {
			noise += s.power[i]
		}
	}
	if sig <= 0 {
		return f0, -30, true
	}
	if noise <= 0 {
		return f0, 30, true
	}
	return f0, math.Max(-30, math.Min(30, 10*math.Log10(sig/noise))), true
}

// physioCorrelation is Pearson's correlation of a and b, 0 when either is
// constant.
func physioCorrelation(a, b []float64) float64 {
	if len(a) != len(b) || len(a) < 3 {
		return 0
	}
	if stat.StdDev(a, nil) == 0 || stat.StdDev(b, nil) == 0 {
		return 0
	}
	r := stat.Correlation(a, b, nil)
	if math.IsNaN(r) {
		return 0
	}
	return r
}

// physioLogistic maps x to (0,1): 0.5 at x0, rising with x; width is the
// distance from x0 at which the value reaches about 0.73. A negative width
// makes the function fall with x.
func physioLogistic(x, x0, width float64) float64 {
	return 1 / (1 + math.Exp(-(x-x0)/width))
}

// physioMedian returns the median of x (0 for an empty slice) without
// modifying x.
func physioMedian(x []float64) float64 {
	return physioQuantile(x, 0.5)
}

// physioQuantile returns the p-quantile of x by linear interpolation (0 for
// an empty slice) without modifying x.
func physioQuantile(x []float64, p float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	pos := p * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := pos - float64(i)
	return s[i]*(1-f) + s[i+1]*f
}

// physioClamp01 limits v to [0,1].
func physioClamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// physioRound rounds v to digits decimals.
func physioRound(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// physioWeightedMedian returns the value below which half of the total
// weight lies (0 for an empty slice).
func physioWeightedMedian(x, w []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	ws := slices.Clone(w)
	stat.SortWeighted(s, ws)
	var total float64
	for _, v := range ws {
		total += v
	}
	var acc float64
	for i, v := range ws {
		acc += v
		if acc >= total/2 {
			return s[i]
		}
	}
	return s[len(s)-1]
}

// physioRegressOut returns x minus its least-squares projection on ref.
func physioRegressOut(x, ref []float64) []float64 {
	var xy, yy float64
	for i := range x {
		xy += x[i] * ref[i]
		yy += ref[i] * ref[i]
	}
	out := slices.Clone(x)
	if yy == 0 {
		return out
	}
	b := xy / yy
	for i := range out {
		out[i] -= b * ref[i]
	}
	return out
}

// physioRelative returns x divided by its mean, minus 1 (all zeros when the
// mean is not positive).
func physioRelative(x []float64) []float64 {
	out := make([]float64, len(x))
	m := physioMean(x)
	if m <= 0 {
		return out
	}
	for i, v := range x {
		out[i] = v/m - 1
	}
	return out
}
