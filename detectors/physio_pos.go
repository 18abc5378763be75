package detectors

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// physioPOS extracts a pulse signal from the mean skin colour of one region
// (b, g, r sampled uniformly at fs) with the plane-orthogonal-to-skin method
// of Wang, den Brinker, Stuijk & de Haan (2017, "Algorithmic principles of
// remote PPG"): in overlapping 1.6-s windows the colour is divided by its
// temporal mean, projected onto the plane orthogonal to the skin tone
// (S1 = G−B, S2 = G+B−2R), the two projections are combined with
// alpha = σ(S1)/σ(S2), and the windows are overlap-added. The projection
// cancels brightness changes common to the three channels (lighting,
// shading), which the pulse is not.
func physioPOS(b, g, r []float64, fs float64) []float64 {
	n := len(r)
	l := int(math.Ceil(1.6 * fs))
	h := make([]float64, n)
	if n < l || l < 2 {
		return h
	}
	s1 := make([]float64, l)
	s2 := make([]float64, l)
	for m := 0; m+l <= n; m++ {
		mb, mg, mr := physioMean(b[m:m+l]), physioMean(g[m:m+l]), physioMean(r[m:m+l])
		if mb <= 0 || mg <= 0 || mr <= 0 {
			continue
		}
		for i := range l {
			cb, cg, cr := b[m+i]/mb, g[m+i]/mg, r[m+i]/mr
			s1[i] = cg - cb
			s2[i] = cg + cb - 2*cr
		}
		alpha := 0.0
		if sd2 := stat.StdDev(s2, nil); sd2 > 0 {
			alpha = stat.StdDev(s1, nil) / sd2
		}
		var mean float64
		for i := range l {
			mean += s1[i] + alpha*s2[i]
		}
		mean /= float64(l)
		for i := range l {
			h[m+i] += s1[i] + alpha*s2[i] - mean
		}
	}
	return h
}

func physioMean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
