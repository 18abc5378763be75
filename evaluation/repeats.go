package evaluation

import (
	"fmt"
	"math"
	"strings"
)

// RepeatRow is one cross-validation run's headline figures: the AUC of the
// overall, video, audio and av rows and the overall false-positive rate at
// the verdict manipulated.
type RepeatRow struct {
	Seed             int64 `json:"seed"`
	Overall          Num   `json:"overall_auc"`
	Video            Num   `json:"video_auc"`
	Audio            Num   `json:"audio_auc"`
	AV               Num   `json:"av_auc"`
	FPRAtManipulated Num   `json:"fpr_at_manipulated"`
}

// RowOf returns res's headline figures as the run with fold seed seed.
func RowOf(res *Result, seed int64) RepeatRow {
	return RepeatRow{Seed: seed, Overall: res.Overall.AUC, Video: res.Video.AUC, Audio: res.Audio.AUC, AV: res.AV.AUC,
		FPRAtManipulated: res.Overall.FPRAtManipulated}
}

// Spread summarises one figure over repeated runs; undefined runs (NaN)
// are left out, and all four are NaN when every run is.
type Spread struct {
	Mean Num `json:"mean"`
	SD   Num `json:"sd"`
	Min  Num `json:"min"`
	Max  Num `json:"max"`
}

// Repeats is cross-validation repeated with other fold assignments: with
// a few hundred items, which sources share a fold moves the figures by a
// few hundredths, and a change smaller than that spread is noise.
type Repeats struct {
	Runs             []RepeatRow `json:"runs"`
	Overall          Spread      `json:"overall_auc"`
	Video            Spread      `json:"video_auc"`
	Audio            Spread      `json:"audio_auc"`
	AV               Spread      `json:"av_auc"`
	FPRAtManipulated Spread      `json:"fpr_at_manipulated"`
}

// Summarise computes the spread of every figure over runs.
func Summarise(runs []RepeatRow) *Repeats {
	col := func(f func(RepeatRow) Num) Spread {
		var v []float64
		for _, r := range runs {
			if x := float64(f(r)); !math.IsNaN(x) {
				v = append(v, x)
			}
		}
		return spreadOf(v)
	}
	return &Repeats{
		Runs:             runs,
		Overall:          col(func(r RepeatRow) Num { return r.Overall }),
		Video:            col(func(r RepeatRow) Num { return r.Video }),
		Audio:            col(func(r RepeatRow) Num { return r.Audio }),
		AV:               col(func(r RepeatRow) Num { return r.AV }),
		FPRAtManipulated: col(func(r RepeatRow) Num { return r.FPRAtManipulated }),
	}
}

// spreadOf returns the mean, the sample standard deviation (0 for one
// value), the minimum and the maximum of v.
func spreadOf(v []float64) Spread {
	nan := Num(math.NaN())
	if len(v) == 0 {
		return Spread{nan, nan, nan, nan}
	}
	var sum float64
	lo, hi := v[0], v[0]
	for _, x := range v {
		sum += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	mean := sum / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	sd := 0.0
	if len(v) > 1 {
		sd = math.Sqrt(ss / float64(len(v)-1))
	}
	return Spread{Num(mean), Num(sd), Num(lo), Num(hi)}
}

func writeRepeats(b *strings.Builder, r *Repeats) {
	fmt.Fprintf(b, "\nRepeated cross-validation, %d fold assignments (seeds", len(r.Runs))
	for _, run := range r.Runs {
		fmt.Fprintf(b, " %d", run.Seed)
	}
	b.WriteString("); the tables are the first:\n")
	fmt.Fprintf(b, "%-26s %7s %7s %7s %7s\n", "figure", "mean", "sd", "min", "max")
	row := func(name string, s Spread) {
		fmt.Fprintf(b, "%-26s %7s %7s %7s %7s\n", name, fnum(s.Mean), fnum(s.SD), fnum(s.Min), fnum(s.Max))
	}
	row("overall AUC", r.Overall)
	row("video AUC", r.Video)
	row("audio AUC", r.Audio)
	row("av AUC", r.AV)
	row("overall FPR@man", r.FPRAtManipulated)
}
