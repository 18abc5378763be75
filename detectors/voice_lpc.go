package detectors

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"

	"github.com/bonafide-dev/bonafide/media"
)

// Formants are F1–F3 of one frame at one formant ceiling.
type Formants struct {
	F  [3]float64 // Hz
	OK bool       // false when fewer than three formants were found
}

// FormantAnalyzer estimates F1–F3 of a voiced frame by linear prediction at
// several formant ceilings at once.
//
// Which ceiling suits a voice depends on its vocal-tract length (Praat
// advises 5 kHz for men and 5.5 kHz for women), and a fixed ceiling drags
// the formants of a much longer or shorter tract towards the expected
// ones; measuring the vocal tract therefore needs the ceiling chosen per
// speaker (Escudero et al. 2009). Each ceiling uses selective linear
// prediction (Makhoul 1975): the pre-emphasised, Hamming-windowed 25-ms
// frame's power spectrum is cut at the ceiling and treated as a whole
// spectrum, its autocorrelation feeds a 10th-order Levinson recursion (five
// formants below the ceiling), and the formants are the lowest three peaks
// of the all-pole envelope above 200 Hz. One FFT serves every ceiling.
//
// A FormantAnalyzer is used from one goroutine and holds no resources.
type FormantAnalyzer struct {
	ceilings []float64
	fft      *fourier.FFT
	win      []float64
	buf      []float64
	coef     []complex128
	pow      []float64
	cosTab   [][]float64 // per ceiling: (lpcOrder+1) × (K+1)
	kmax     []int
	envFFT   *fourier.FFT
	abuf     []float64
	acoef    []complex128
	r        []float64
	lpc, tmp []float64
}

const (
	lpcOrder      = 10
	formantWin    = 400 // 25 ms at 16 kHz
	formantNFFT   = 512
	formantEnvN   = 256 // envelope resolution: ceiling/128 per bin, refined by a parabola
	formantMinHz  = 200
	formantPreEmp = 0.9806 // exp(−2π·50/16000): pre-emphasis from 50 Hz
)

// DefaultFormantCeilings are 3.4–6.6 kHz in 10 % steps: from a vocal tract
// about 30 % longer than an average man's to one as short as a child's.
func DefaultFormantCeilings() []float64 {
	var c []float64
	for f := 3400.0; f <= 6700; f *= 1.1 {
		c = append(c, math.Round(f))
	}
	return c
}

// NewFormantAnalyzer returns an analyzer for media.VoiceRate audio with the
// given ceilings (Hz, each below the Nyquist frequency; nil takes
// DefaultFormantCeilings). A wrong rate returns an error wrapping
// ErrVoiceRate, bad ceilings one wrapping ErrPitchConfig.
func NewFormantAnalyzer(rate int, ceilings []float64) (*FormantAnalyzer, error) {
	if rate != media.VoiceRate {
		return nil, fmt.Errorf("%w: formant analysis needs %d Hz, got %d Hz", ErrVoiceRate, media.VoiceRate, rate)
	}
	if ceilings == nil {
		ceilings = DefaultFormantCeilings()
	}
	binHz := float64(rate) / formantNFFT
	a := &FormantAnalyzer{
		ceilings: append([]float64(nil), ceilings...),
		fft:      fourier.NewFFT(formantNFFT),
		win:      make([]float64, formantWin),
		buf:      make([]float64, formantNFFT),
		coef:     make([]complex128, formantNFFT/2+1),
		pow:      make([]float64, formantNFFT/2+1),
		envFFT:   fourier.NewFFT(formantEnvN),
		abuf:     make([]float64, formantEnvN),
		acoef:    make([]complex128, formantEnvN/2+1),
		r:        make([]float64, lpcOrder+1),
		lpc:      make([]float64, lpcOrder+1),
		tmp:      make([]float64, lpcOrder+1),
	}
	for i := range a.win {
		a.win[i] = 1
	}
	window.Hamming(a.win)
	for _, c := range a.ceilings {
		if c < 2000 || c >= float64(rate)/2 {
			return nil, fmt.Errorf("%w: formant ceiling %.0f Hz outside 2000–%d Hz", ErrPitchConfig, c, rate/2)
		}
		K := int(math.Round(c / binHz))
		tab := make([]float64, (lpcOrder+1)*(K+1))
		for l := 0; l <= lpcOrder; l++ {
			for k := 0; k <= K; k++ {
				w := 1.0
				if k == 0 || k == K {
					w = 0.5 // trapezoid ends
				}
				tab[l*(K+1)+k] = w * math.Cos(math.Pi*float64(l*k)/float64(K))
			}
		}
		a.cosTab = append(a.cosTab, tab)
		a.kmax = append(a.kmax, K)
	}
	return a, nil
}

// Ceilings returns the analyzer's formant ceilings in Hz.
func (a *FormantAnalyzer) Ceilings() []float64 { return a.ceilings }

// SpanNeeded is how many samples either side of the centre Analyze reads.
func (a *FormantAnalyzer) SpanNeeded() int { return formantWin/2 + 1 }

// Analyze estimates the formants of the frame centred on x[centre] at every
// ceiling, writing dst[i] for Ceilings()[i] (dst must be that long). It
// returns false when x does not reach far enough or the frame is silent.
func (a *FormantAnalyzer) Analyze(x []float64, centre int, dst []Formants) bool {
	for i := range dst {
		dst[i] = Formants{}
	}
	first := centre - formantWin/2
	if first < 1 || first+formantWin > len(x) || len(dst) != len(a.ceilings) {
		return false
	}
	clear(a.buf)
	for i := 0; i < formantWin; i++ {
		j := first + i
		a.buf[i] = (x[j] - formantPreEmp*x[j-1]) * a.win[i]
	}
	a.fft.Coefficients(a.coef, a.buf)
	var total float64
	for i, z := range a.coef {
		a.pow[i] = real(z)*real(z) + imag(z)*imag(z)
		total += a.pow[i]
	}
	if total <= 1e-12 {
		return false
	}
	for ci, ceil := range a.ceilings {
		dst[ci] = a.atCeiling(ci, ceil)
	}
	return true
}

func (a *FormantAnalyzer) atCeiling(ci int, ceil float64) Formants {
	K := a.kmax[ci]
	tab := a.cosTab[ci]
	for l := 0; l <= lpcOrder; l++ {
		row := tab[l*(K+1) : (l+1)*(K+1)]
		var s float64
		for k, c := range row {
			s += c * a.pow[k]
		}
		a.r[l] = s
	}
	if a.r[0] <= 0 {
		return Formants{}
	}
	a.r[0] *= 1 + 1e-6 // white-noise correction keeps the recursion stable
	if !levinson(a.r, a.lpc, a.tmp) {
		return Formants{}
	}
	clear(a.abuf)
	copy(a.abuf, a.lpc)
	a.envFFT.Coefficients(a.acoef, a.abuf)
	// The envelope is 1/|A|²; its peaks are the minima of |A|², refined
	// by a parabola through the log envelope at the three nearest bins.
	mag := func(i int) float64 {
		z := a.acoef[i]
		return real(z)*real(z) + imag(z)*imag(z)
	}
	env := func(i int) float64 { return -math.Log(mag(i) + 1e-30) }
	var out Formants
	n := 0
	hz := ceil / float64(formantEnvN/2)
	prev, cur := mag(0), mag(1)
	for i := 1; i < formantEnvN/2 && n < 3; i++ {
		next := mag(i + 1)
		if cur < prev && cur <= next {
			pos := float64(i)
			e0, e1, e2 := env(i-1), env(i), env(i+1)
			if den := e0 - 2*e1 + e2; den < 0 {
				if off := 0.5 * (e0 - e2) / den; math.Abs(off) < 1 {
					pos += off
				}
			}
			if f := pos * hz; f >= formantMinHz {
				out.F[n] = f
				n++
			}
		}
		prev, cur = cur, next
	}
	out.OK = n == 3
	return out
}

// levinson solves the normal equations of linear prediction from the
// autocorrelation r (Levinson–Durbin). On return lpc[0] = 1 and lpc[1..p]
// are the predictor polynomial's coefficients. It reports false when the
// recursion is unstable.
func levinson(r, lpc, tmp []float64) bool {
	p := len(r) - 1
	clear(lpc)
	lpc[0] = 1
	e := r[0]
	for i := 1; i <= p; i++ {
		acc := r[i]
		for j := 1; j < i; j++ {
			acc += lpc[j] * r[i-j]
		}
		k := -acc / e
		copy(tmp, lpc)
		for j := 1; j < i; j++ {
			lpc[j] = tmp[j] + k*tmp[i-j]
		}
		lpc[i] = k
		e *= 1 - k*k
		if e <= 0 || math.IsNaN(e) {
			return false
		}
	}
	return true
}
