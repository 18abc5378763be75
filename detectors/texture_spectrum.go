package detectors

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// texSpectrumBins is the number of radial frequency bins, evenly spaced
// from 0 to the Nyquist frequency, of an azimuthally averaged spectrum.
const texSpectrumBins = 16

// texSpectrum computes azimuthally averaged power spectra (Durall et al.
// 2020) of square grey patches with OpenCV's DFT. The patch is made zero
// mean and multiplied by a 2-D Hann window so that its borders do not leak
// into the high frequencies. Mats are reused between calls; Close frees
// them.
type texSpectrum struct {
	f, dft  gocv.Mat
	windows map[int][]float32 // Hann window per patch size
	bins    map[int][]int8    // radial bin of every DFT cell per patch size, −1 = unused
	closed  bool
}

func newTexSpectrum() *texSpectrum {
	return &texSpectrum{f: gocv.NewMat(), dft: gocv.NewMat(), windows: map[int][]float32{}, bins: map[int][]int8{}}
}

func (s *texSpectrum) window(n int) []float32 {
	if w, ok := s.windows[n]; ok {
		return w
	}
	h := make([]float64, n)
	for i := range h {
		h[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(n))
	}
	w := make([]float32, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			w[i*n+j] = float32(h[i] * h[j])
		}
	}
	s.windows[n] = w
	return w
}

// binsOf returns the radial bin of every cell of an n×n DFT: the
// normalised radius |f|/f_Nyquist in (0, 1] split into texSpectrumBins; DC
// and the corners beyond the Nyquist circle get −1.
func (s *texSpectrum) binsOf(n int) []int8 {
	if b, ok := s.bins[n]; ok {
		return b
	}
	b := make([]int8, n*n)
	half := float64(n) / 2
	for u := 0; u < n; u++ {
		fu := float64(u)
		if u > n/2 {
			fu -= float64(n)
		}
		for v := 0; v < n; v++ {
			fv := float64(v)
			if v > n/2 {
				fv -= float64(n)
			}
			rad := math.Sqrt(fu*fu+fv*fv) / half
			switch {
			case rad == 0 || rad > 1:
				b[u*n+v] = -1
			default:
				b[u*n+v] = int8(min(int(rad*texSpectrumBins), texSpectrumBins-1))
			}
		}
	}
	s.bins[n] = b
	return b
}

// patch writes the log10 azimuthal power spectrum of gray's square region
// r into out (texSpectrumBins values) and returns the patch's grey-level
// standard deviation. It returns false when r is not a square inside gray
// or the DFT output cannot be read. It also returns the patch's mean grey level.
func (s *texSpectrum) patch(gray gocv.Mat, r image.Rectangle, out []float64) (mean, std float64, ok bool) {
	n := r.Dx()
	if n != r.Dy() || n < 8 || !r.In(image.Rect(0, 0, gray.Cols(), gray.Rows())) {
		return 0, 0, false
	}
	reg := gray.Region(r)
	reg.ConvertTo(&s.f, gocv.MatTypeCV32F)
	reg.Close()
	px, err := s.f.DataPtrFloat32()
	if err != nil || len(px) != n*n {
		return 0, 0, false
	}
	for _, v := range px {
		mean += float64(v)
	}
	mean /= float64(n * n)
	var ss float64
	win := s.window(n)
	for i, v := range px {
		d := float64(v) - mean
		ss += d * d
		px[i] = float32(d) * win[i]
	}
	gocv.DFT(s.f, &s.dft, gocv.DftComplexOutput)
	c, err := s.dft.DataPtrFloat32()
	if err != nil || len(c) != 2*n*n {
		return 0, 0, false
	}
	var sum [texSpectrumBins]float64
	var cnt [texSpectrumBins]int
	for i, b := range s.binsOf(n) {
		if b < 0 {
			continue
		}
		re, im := float64(c[2*i]), float64(c[2*i+1])
		sum[b] += re*re + im*im
		cnt[b]++
	}
	for b := range out[:texSpectrumBins] {
		p := 1e-6
		if cnt[b] > 0 {
			p += sum[b] / float64(cnt[b]) / float64(n*n)
		}
		out[b] = math.Log10(p)
	}
	return mean, math.Sqrt(ss / float64(n*n)), true
}

// Close frees the Mats. It is idempotent.
func (s *texSpectrum) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.f.Close()
	s.dft.Close()
	return nil
}
