package evaluation

import (
	"math"
	"sort"
)

// AUC is the area under the ROC curve of scores (higher = more likely
// positive) against labels, computed as the Mann–Whitney statistic with
// tied scores counted as half: the probability that a random positive
// scores above a random negative. It is NaN without both classes.
func AUC(scores []float64, positive []bool) float64 {
	type sv struct {
		s   float64
		pos bool
	}
	v := make([]sv, len(scores))
	var npos, nneg float64
	for i, s := range scores {
		v[i] = sv{s, positive[i]}
		if positive[i] {
			npos++
		} else {
			nneg++
		}
	}
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	sort.Slice(v, func(i, j int) bool { return v[i].s < v[j].s })
	// Mid-ranks (1-based) over tie blocks.
	var rankSum float64
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j].s == v[i].s {
			j++
		}
		mid := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			if v[k].pos {
				rankSum += mid
			}
		}
		i = j
	}
	return (rankSum - npos*(npos+1)/2) / (npos * nneg)
}

// EER is the equal error rate: the rate at which the false-positive rate
// (negatives at or above the threshold) equals the false-negative rate
// (positives below it), interpolated linearly along the ROC curve between
// its points at each distinct score (so tied scores form one step). It is
// NaN without both classes.
func EER(scores []float64, positive []bool) float64 {
	var npos, nneg float64
	for _, p := range positive {
		if p {
			npos++
		} else {
			nneg++
		}
	}
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	// ROC points from the strictest threshold (nothing flagged) down.
	fpr, fnr := 0.0, 1.0
	var tp, fp float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if positive[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		f1, g1 := fp/nneg, 1-tp/npos
		if f1 >= g1 {
			// The crossing lies on the segment (fpr,fnr) → (f1,g1).
			df, dg := f1-fpr, g1-fnr
			if df-dg == 0 {
				return f1
			}
			s := (fnr - fpr) / (df - dg)
			return fpr + s*df
		}
		fpr, fnr = f1, g1
		i = j
	}
	return fpr // not reached: at the last point fpr = 1 ≥ fnr = 0
}

// Rates returns the false-positive rate (flagged negatives / negatives) and
// the recall (flagged positives / positives); each is NaN when its class is
// empty.
func Rates(flagged, positive []bool) (fpr, recall float64) {
	var fp, tp, nneg, npos float64
	for i, f := range flagged {
		if positive[i] {
			npos++
			if f {
				tp++
			}
		} else {
			nneg++
			if f {
				fp++
			}
		}
	}
	fpr, recall = math.NaN(), math.NaN()
	if nneg > 0 {
		fpr = fp / nneg
	}
	if npos > 0 {
		recall = tp / npos
	}
	return fpr, recall
}
