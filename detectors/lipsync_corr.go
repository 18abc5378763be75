package detectors

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
)

// This file holds the numerical core of the lip-sync detector: a
// cross-validated kernel ridge regression that predicts the voice loudness
// envelope from the mouth crops, evaluated at every audio lag, and the
// envelope sampling it needs. It keeps no state between windows.

// errLSSingular is returned when a fold's kernel system cannot be solved
// (degenerate input, e.g. identical frames).
var errLSSingular = errors.New("lipsync: singular kernel system")

const (
	lsRidgeLambda = 1.0 // ridge strength, relative to the kernel's unit diagonal
	lsFoldBlock   = 5   // frames per cross-validation test block (0.5 s at 10 fps)
	lsFoldGuard   = 2   // frames left out on each side of a test block
)

// lsRidge predicts a per-frame target from per-frame feature vectors with
// kernel ridge regression (linear kernel on standardised features) and
// scores the prediction by cross-validation over contiguous blocks of
// frames, with a guard band so that neighbouring (autocorrelated) frames do
// not leak into the training set. The kernel does not depend on the target,
// so one lsRidge serves every lag and every surrogate.
type lsRidge struct {
	n     int
	folds []lsFold
	pred  []float64 // scratch
	yc    []float64 // scratch
}

// withScratch returns r sharing its (read-only) folds with its own scratch
// buffers, for use on another goroutine.
func (r *lsRidge) withScratch() *lsRidge {
	c := *r
	c.pred = make([]float64, len(r.pred))
	c.yc = make([]float64, len(r.yc))
	return &c
}

type lsFold struct {
	test, train []int
	m           *mat.Dense // len(test) × len(train): prediction operator
}

// newLSRidge builds the regression for feature rows x (n frames × p
// features). Columns are standardised here; constant columns are ignored.
func newLSRidge(x [][]float64) (*lsRidge, error) {
	n := len(x)
	folds := n / lsFoldBlock
	if folds < 4 {
		return nil, errLSSingular
	}
	p := len(x[0])
	z := mat.NewDense(n, p, nil)
	for k := 0; k < p; k++ {
		var m float64
		for i := 0; i < n; i++ {
			m += x[i][k]
		}
		m /= float64(n)
		var s float64
		for i := 0; i < n; i++ {
			d := x[i][k] - m
			s += d * d
		}
		s = math.Sqrt(s / float64(n))
		if s < 1e-9 {
			continue // constant column: leave zeros
		}
		for i := 0; i < n; i++ {
			z.Set(i, k, (x[i][k]-m)/s)
		}
	}
	var k mat.SymDense
	k.SymOuterK(1/float64(p), z)

	r := &lsRidge{n: n, pred: make([]float64, n), yc: make([]float64, n)}
	for f := 0; f < folds; f++ {
		lo, hi := f*n/folds, (f+1)*n/folds
		var fo lsFold
		for i := 0; i < n; i++ {
			switch {
			case i >= lo && i < hi:
				fo.test = append(fo.test, i)
			case i >= lo-lsFoldGuard && i < hi+lsFoldGuard:
				// guard band: neither test nor train
			default:
				fo.train = append(fo.train, i)
			}
		}
		if len(fo.train) < 2 || len(fo.test) == 0 {
			return nil, errLSSingular
		}
		a := mat.NewSymDense(len(fo.train), nil)
		for ai, i := range fo.train {
			for bi := ai; bi < len(fo.train); bi++ {
				v := k.At(i, fo.train[bi])
				if ai == bi {
					v += lsRidgeLambda
				}
				a.SetSym(ai, bi, v)
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(a) {
			return nil, errLSSingular
		}
		// m = K[test,train] · A⁻¹ = (A⁻¹ · K[train,test])ᵀ
		b := mat.NewDense(len(fo.train), len(fo.test), nil)
		for bi, i := range fo.train {
			for ti, j := range fo.test {
				b.Set(bi, ti, k.At(i, j))
			}
		}
		var sol mat.Dense
		if err := ch.SolveTo(&sol, b); err != nil {
			return nil, errLSSingular
		}
		fo.m = mat.DenseCopyOf(sol.T())
		r.folds = append(r.folds, fo)
	}
	return r, nil
}

// cvCorr returns the correlation between y and its cross-validated
// prediction. It is 0 when either has no variance.
func (r *lsRidge) cvCorr(y []float64) float64 {
	for _, fo := range r.folds {
		var my float64
		for _, j := range fo.train {
			my += y[j]
		}
		my /= float64(len(fo.train))
		for bi, j := range fo.train {
			r.yc[bi] = y[j] - my
		}
		yc := r.yc[:len(fo.train)]
		for ti, i := range fo.test {
			row := fo.m.RawRowView(ti)
			var s float64
			for bi, v := range row {
				s += v * yc[bi]
			}
			r.pred[i] = s + my
		}
	}
	return lsPearson(r.pred, y)
}

// lsPearson is the sample correlation of a and b (same length); 0 when either
// is constant.
func lsPearson(a, b []float64) float64 {
	n := float64(len(a))
	if n < 2 {
		return 0
	}
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= n
	mb /= n
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa <= 0 || sbb <= 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

// lsEnvelope is a loudness envelope in dB sampled every lsHop seconds; value
// k describes [t0+k·hop, t0+(k+1)·hop).
type lsEnvelope struct {
	t0 float64
	v  []float64
}

// at returns the envelope at time t by linear interpolation between hop
// centres, with the samples rotated by shift hops (circularly; shift 0 is
// the true alignment). ok is false outside the envelope.
func (e lsEnvelope) at(t float64, shift int) (float64, bool) {
	x := (t-e.t0)/lsHop - 0.5
	i := int(math.Floor(x))
	n := len(e.v)
	if i < 0 || i+1 >= n {
		return 0, false
	}
	f := x - float64(i)
	a, b := e.v[(i+shift)%n], e.v[(i+1+shift)%n]
	return a*(1-f) + b*f, true
}

// lsSmooth returns x smoothed with a centred moving average of width w
// (odd), shrinking the window at the edges.
func lsSmooth(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	h := w / 2
	var sum float64
	lo, hi := 0, 0 // current window [lo, hi)
	for i := range x {
		for hi < len(x) && hi <= i+h {
			sum += x[hi]
			hi++
		}
		for lo < i-h {
			sum -= x[lo]
			lo++
		}
		out[i] = sum / float64(hi-lo)
	}
	return out
}

// lsParabolic refines the position of the maximum at index i of c by
// fitting a parabola through its neighbours; it returns the fractional
// offset in [-0.5, 0.5] and the interpolated height.
func lsParabolic(c []float64, i int) (float64, float64) {
	if i <= 0 || i >= len(c)-1 {
		return 0, c[i]
	}
	a, b, d := c[i-1], c[i], c[i+1]
	den := a - 2*b + d
	if den >= 0 {
		return 0, b
	}
	off := 0.5 * (a - d) / den
	off = math.Max(-0.5, math.Min(0.5, off))
	return off, b - 0.25*(a-d)*off
}

// lsLogistic is the smooth 0–1 step used to map measurements to scores.
func lsLogistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
