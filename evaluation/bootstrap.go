package evaluation

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Interval is a two-sided 95 % interval; both ends are NaN (JSON null)
// when too few resamples had both classes.
type Interval struct {
	Low  Num `json:"low"`
	High Num `json:"high"`
}

// AUCIntervals are bootstrap intervals of the headline AUCs.
type AUCIntervals struct {
	Resamples int      `json:"resamples"`
	Overall   Interval `json:"overall"`
	Video     Interval `json:"video"`
	Audio     Interval `json:"audio"`
	AV        Interval `json:"av"`
}

// BootstrapAUC resamples the source groups (groups maps a manifest path to
// its group, as GroupsByPath returns) with replacement n times, with the
// given seed, and returns the 2.5th and 97.5th percentiles of the overall,
// video, audio and av AUCs of the scored items. It measures how much the
// figures depend on which sources the corpus happens to hold; items of one
// group (one person or clip) move together, because they are not
// independent evidence. Unscored items count 0.5, as in Evaluate.
func BootstrapAUC(scored []Scored, groups map[string]int, n int, seed uint64) *AUCIntervals {
	byGroup := map[int]*headlineEntries{}
	var ids []int
	for _, s := range scored {
		g := groups[s.Item.Rel]
		r, ok := byGroup[g]
		if !ok {
			r = &headlineEntries{}
			byGroup[g] = r
			ids = append(ids, g)
		}
		r.add(s)
	}
	sort.Ints(ids)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var all, video, audio, av []float64
	for k := 0; k < n && len(ids) > 0; k++ {
		var sample headlineEntries
		for range ids {
			sample.addAll(byGroup[ids[rng.IntN(len(ids))]])
		}
		all = appendAUC(all, sample.all)
		video = appendAUC(video, sample.video)
		audio = appendAUC(audio, sample.audio)
		av = appendAUC(av, sample.av)
	}
	return &AUCIntervals{Resamples: n, Overall: interval(all, n), Video: interval(video, n), Audio: interval(audio, n), AV: interval(av, n)}
}

// appendAUC appends the AUC of es when both classes are present.
func appendAUC(to []float64, es []entry) []float64 {
	scores := make([]float64, len(es))
	pos := make([]bool, len(es))
	for i, e := range es {
		scores[i], pos[i] = e.p, e.positive
		if math.IsNaN(e.p) {
			scores[i] = 0.5
		}
	}
	if a := AUC(scores, pos); !math.IsNaN(a) {
		to = append(to, a)
	}
	return to
}

// interval returns the central 95 % of v, NaN when fewer than 90 % of the
// n resamples had both classes.
func interval(v []float64, n int) Interval {
	if len(v) == 0 || float64(len(v)) < 0.9*float64(n) {
		return Interval{Num(math.NaN()), Num(math.NaN())}
	}
	sort.Float64s(v)
	at := func(q float64) Num {
		i := int(math.Round(q * float64(len(v)-1)))
		return Num(v[i])
	}
	return Interval{at(0.025), at(0.975)}
}
