package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// Label is the ground truth of one stream of a training item.
type Label int8

// Labels.
const (
	LabelNone        Label = iota // no such stream
	LabelGenuine                  // the stream is genuine
	LabelManipulated              // the stream is manipulated
)

// Sample is one labelled training item.
type Sample struct {
	Input Input
	// Group is the item's source group: items of one group (the same person
	// or source recording) always sit in the same fold.
	Group int
	// Overall is manipulated when any stream is; Video and Audio label each
	// stream (LabelNone when the file has no such stream).
	Overall, Video, Audio Label
	// NoTrain keeps the sample out of every training set of CrossValidate
	// (it is only scored); NoScore keeps it from being scored (it only
	// trains the folds that do not hold it out). Both are off by default.
	NoTrain, NoScore bool
	// Segment, when set, is the same item's features from one live segment
	// (Live set). Train scores it out of fold like the whole recording and
	// chooses the model's LiveThresholds on the genuine items' segments;
	// segments never train the weights.
	Segment *Input
}

// LabelFor returns the label a modality's sub-model is trained on: the
// stream label for video and audio; for av (which needs both streams) the
// soundtrack's label, because audio-visual signals ask whether the sound
// belongs to the face as filmed (a dubbed or delayed track), not whether
// the picture was altered (a lip-synced mouth matches its audio).
func (s Sample) LabelFor(mod string) Label {
	switch mod {
	case ModVideo:
		return s.Video
	case ModAudio:
		return s.Audio
	case ModAV:
		if s.Video == LabelNone || s.Audio == LabelNone {
			return LabelNone
		}
		return s.Audio
	}
	return LabelNone
}

// TrainOptions are the settings of Train; the zero value means defaults.
type TrainOptions struct {
	Folds int   `json:"folds"` // inner folds for calibration and thresholds (5)
	Seed  int64 `json:"seed"`  // fold assignment seed (1)
	// L2 is the ridge penalty λ on the standardised weights in the summed
	// log-loss Σ loss + λ/2·|w|² (1).
	L2 float64 `json:"l2"`
	// Target false-positive rates, on out-of-fold probabilities, of the
	// verdicts "manipulated" (0.02), "suspicious or worse" (0.10) and
	// "inconclusive or worse" (0.25).
	TargetFPR       float64 `json:"target_fpr"`
	SuspiciousFPR   float64 `json:"suspicious_fpr"`
	InconclusiveFPR float64 `json:"inconclusive_fpr"`
	// MinMeasured is how many labelled items of its modality must have a
	// signal measured for it to become a feature (10).
	MinMeasured int `json:"min_measured"`
	// Values adds raw measurements as features, as "signal:measurement".
	Values []string `json:"values,omitempty"`
	// UseConfidence shrinks each score towards its centre (Feature.Mean) by its
	// confidence. Off by default: confidence grows with the seconds a
	// detector measured, and clip length must not leak into the model.
	UseConfidence bool `json:"use_confidence,omitempty"`
	// MissingIndicators adds, for every signal that is sometimes not
	// measured, a 0/1 "missing" feature with a weight ≤ 0. Off by default:
	// a signal that could not be measured is then imputed at its score's
	// centre (see CentreOnGenuine) and has no other effect. Learned indicators key on which
	// recordings are hard to measure (on the dev corpus, real-world genuine
	// clips far more often than generated fakes) rather than on
	// manipulation, and they would let a candidate look more genuine by
	// hiding from a detector.
	MissingIndicators bool `json:"missing_indicators,omitempty"`
	// CentreOnGenuine standardises each score around the median of the
	// genuine training items instead of the mean of all of them, so a
	// signal that could not be measured counts as a typical genuine
	// reading of it rather than as an average one. With the mean, losing a
	// signal that usually clears genuine recordings (audio.bandlimit on a
	// narrowband call) pushes every recording towards "manipulated", and
	// the false-positive rate at a fixed threshold rises on channels where
	// it cannot be measured. A typical genuine recording then adds nothing
	// to the logit, and the reports' points measure the departure from it.
	// The zero value is the mean, the recipe of fusion-v9 and older (whose
	// files do not record the option); `bonafide train` turns it on by
	// default.
	CentreOnGenuine bool `json:"centre_on_genuine,omitempty"`
	// Signals, when set, limits the features to these signals (ablations
	// and feature selection); by default every signal measured on at least
	// MinMeasured items is used.
	Signals []string `json:"signals,omitempty"`
	// Iterations of the optimiser (3000).
	Iterations int `json:"iterations"`
}

func (o *TrainOptions) defaults() {
	if o.Folds <= 1 {
		o.Folds = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.L2 <= 0 {
		o.L2 = 1
	}
	if o.TargetFPR <= 0 {
		o.TargetFPR = 0.02
	}
	if o.SuspiciousFPR <= 0 {
		o.SuspiciousFPR = 0.10
	}
	if o.InconclusiveFPR <= 0 {
		o.InconclusiveFPR = 0.25
	}
	if o.MinMeasured <= 0 {
		o.MinMeasured = 10
	}
	if o.Iterations <= 0 {
		o.Iterations = 3000
	}
}

// Train fits the fusion model on samples: per modality, an L2-regularised
// logistic regression with non-negative weights on the signal scores (and,
// with MissingIndicators, non-positive weights on missing indicators;
// otherwise a missing signal is imputed at its mean), calibrated into evidence
// by Platt scaling on out-of-fold logits (folds by Group); the combination
// of the highest modality evidence into a probability, by Platt scaling on
// the out-of-fold evidence; and verdict thresholds chosen on the
// out-of-fold interview probabilities for the target false-positive rates.
// It is deterministic for a given Seed. The caller sets Name, Trained,
// Manifest and CV.
func Train(samples []Sample, opt TrainOptions) (*LogisticModel, error) {
	opt.defaults()
	groups := make([]int, len(samples))
	for i, s := range samples {
		groups[i] = s.Group
	}
	folds := GroupFolds(groups, opt.Folds, opt.Seed)
	m := &LogisticModel{Format: FusionFormat, ConfidenceWeighted: opt.UseConfidence, Options: opt}
	// oof[mod][i] is sample i's out-of-fold evidence, NaN when the
	// sub-model does not apply to it; oofSeg[mod][i] the same for its
	// segment.
	oof, oofSeg := map[string][]float64{}, map[string][]float64{}
	var skipped []string
	for _, mod := range []string{ModVideo, ModAudio, ModAV} {
		sub, ev, evSeg, err := trainModality(samples, folds, mod, opt, m.ConfidenceWeighted)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", mod, err))
			continue
		}
		if !sub.informative() {
			// Its evidence would be a constant: leave the modality out
			// rather than give every recording the same modality score.
			skipped = append(skipped, fmt.Sprintf("%s: no signal separates the classes", mod))
			continue
		}
		m.SubModels = append(m.SubModels, *sub)
		oof[mod], oofSeg[mod] = ev, evSeg
	}
	if len(m.SubModels) == 0 {
		return nil, fmt.Errorf("%w: no modality could be fitted (%s)", ErrNoTrainingData, strings.Join(skipped, "; "))
	}
	for _, s := range skipped {
		m.Notes = append(m.Notes, "sub-model not fitted: "+s)
	}
	// Interview-level out-of-fold evidence: the highest modality.
	best, bestSeg := highest(oof, len(samples)), highest(oofSeg, len(samples))
	var es, ys []float64
	for i, s := range samples {
		if !math.IsNaN(best[i]) && s.Overall != LabelNone {
			es = append(es, best[i])
			ys = append(ys, boolf(s.Overall == LabelManipulated))
		}
	}
	comb, err := fitPlatt(es, ys, opt.Iterations)
	if err != nil {
		return nil, err
	}
	m.Combine = comb
	authenticity := func(ev float64) int {
		if math.IsNaN(ev) {
			return 101 // unscored items never reach a verdict threshold
		}
		return int(math.Round(100 * (1 - comb.Prob(ev))))
	}
	var neg, negSeg []int
	for i, s := range samples {
		if s.Overall != LabelGenuine {
			continue
		}
		neg = append(neg, authenticity(best[i]))
		if s.Segment != nil {
			negSeg = append(negSeg, authenticity(bestSeg[i]))
		}
	}
	m.Thresholds = chooseThresholds(neg, opt)
	if len(negSeg) >= MinLiveGenuine {
		t := chooseThresholds(negSeg, opt)
		m.LiveThresholds = &t
		m.Notes = append(m.Notes, fmt.Sprintf("live thresholds chosen on the segments of %d genuine items", len(negSeg)))
	}
	return m, nil
}

// MinLiveGenuine is the least number of genuine items with a segment for
// Train to choose live thresholds.
const MinLiveGenuine = 20

// highest returns, per sample, the highest evidence of any modality (NaN
// when none applies).
func highest(ev map[string][]float64, n int) []float64 {
	best := make([]float64, n)
	for i := range best {
		best[i] = math.NaN()
		for _, e := range ev {
			if v := e[i]; !math.IsNaN(v) && (math.IsNaN(best[i]) || v > best[i]) {
				best[i] = v
			}
		}
	}
	return best
}

// chooseThresholds picks, for each verdict boundary, the highest
// authenticity cut whose false-positive rate on the genuine items'
// authenticities neg stays within its target; "manipulated" needs at most
// 50 (probability ≥ 0.5).
func chooseThresholds(neg []int, opt TrainOptions) Thresholds {
	cut := func(target float64, limit int) int {
		best := 0
		for c := 0; c <= limit; c++ {
			fp := 0
			for _, a := range neg {
				if a < c {
					fp++
				}
			}
			if len(neg) > 0 && float64(fp)/float64(len(neg)) <= target {
				best = c
			}
		}
		return best
	}
	t := Thresholds{Suspicious: cut(opt.TargetFPR, 50)}
	t.Inconclusive = max(t.Suspicious, cut(opt.SuspiciousFPR, 80))
	t.Genuine = max(t.Inconclusive, cut(opt.InconclusiveFPR, 95))
	return t
}

// trainModality fits one modality's sub-model and returns it with every
// sample's out-of-fold evidence and its segment's (NaN where it does not
// apply or there is no segment).
func trainModality(samples []Sample, folds []int, mod string, opt TrainOptions, confWeighted bool) (*SubModel, []float64, []float64, error) {
	var use []int
	for i, s := range samples {
		if s.LabelFor(mod) != LabelNone {
			use = append(use, i)
		}
	}
	final, err := fitSubModel(samples, use, mod, opt, confWeighted)
	if err != nil {
		return nil, nil, nil, err
	}
	// Out-of-fold logits for calibration (and of the segments, which do
	// not calibrate).
	var zs, ys []float64
	zOOF, zSeg := make([]float64, len(samples)), make([]float64, len(samples))
	for i := range zOOF {
		zOOF[i], zSeg[i] = math.NaN(), math.NaN()
	}
	logit := func(sub *SubModel, in Input) float64 {
		idx := index(in)
		if !sub.applies(idx) {
			return math.NaN()
		}
		z := sub.Bias
		for _, t := range sub.terms(idx, confWeighted) {
			z += t
		}
		return z
	}
	nFolds := 0
	for _, f := range folds {
		nFolds = max(nFolds, f+1)
	}
	for k := 0; k < nFolds; k++ {
		var train, test []int
		for _, i := range use {
			if folds[i] == k {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
		if len(test) == 0 {
			continue
		}
		sub, err := fitSubModel(samples, train, mod, opt, confWeighted)
		if err != nil {
			continue // this fold's items get no out-of-fold logit
		}
		for _, i := range test {
			if seg := samples[i].Segment; seg != nil {
				zSeg[i] = logit(sub, *seg)
			}
			z := logit(sub, samples[i].Input)
			if math.IsNaN(z) {
				continue
			}
			zOOF[i] = z
			zs = append(zs, z)
			ys = append(ys, boolf(samples[i].LabelFor(mod) == LabelManipulated))
		}
	}
	cal, err := fitPlatt(zs, ys, opt.Iterations)
	if err != nil {
		return nil, nil, nil, err
	}
	// Remove the base rate of this sub-model's items (smoothed), so that
	// the evidence of an uninformative sub-model is 0.
	var npos float64
	for _, y := range ys {
		npos += y
	}
	prior := (npos + 1) / (float64(len(ys)) + 2)
	cal.B -= math.Log(prior / (1 - prior))
	final.Evidence = cal
	evidence := func(zs []float64) []float64 {
		ev := make([]float64, len(zs))
		for i, z := range zs {
			ev[i] = math.NaN()
			if !math.IsNaN(z) {
				ev[i] = cal.Map(z)
			}
		}
		return ev
	}
	return final, evidence(zOOF), evidence(zSeg), nil
}

// fitSubModel fits the logistic regression of modality mod on the samples
// rows (whose LabelFor(mod) is set). Feature means and scales come from
// those rows only.
func fitSubModel(samples []Sample, rows []int, mod string, opt TrainOptions, confWeighted bool) (*SubModel, error) {
	// Signals of this modality measured often enough.
	count := map[string]int{}
	for _, i := range rows {
		for _, s := range samples[i].Input.Signals {
			if s.Modality == mod && s.Measured {
				count[s.Name]++
			}
		}
	}
	var names []string
	for n, c := range count {
		if c >= opt.MinMeasured && (len(opt.Signals) == 0 || slices.Contains(opt.Signals, n)) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no %s signal measured on at least %d items", ErrNoTrainingData, mod, opt.MinMeasured)
	}
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	// Rows the sub-model applies to.
	var applied []int
	idxs := map[int]map[string]*Signal{}
	for _, i := range rows {
		idx := index(samples[i].Input)
		for n := range wanted {
			if s := idx[n]; s != nil && s.Measured {
				applied = append(applied, i)
				idxs[i] = idx
				break
			}
		}
	}
	var npos, nneg int
	for _, i := range applied {
		if samples[i].LabelFor(mod) == LabelManipulated {
			npos++
		} else {
			nneg++
		}
	}
	if npos < 2 || nneg < 2 {
		return nil, fmt.Errorf("%w: %s has %d manipulated and %d genuine items", ErrNoTrainingData, mod, npos, nneg)
	}
	sub := &SubModel{Modality: mod, TrainedOn: len(applied)}
	for _, n := range names {
		var raw, genuine []float64
		missing := 0
		for _, i := range applied {
			s := idxs[i][n]
			if s == nil || !s.Measured {
				missing++
				continue
			}
			if isFinite(s.Score) {
				raw = append(raw, s.Score)
				if samples[i].LabelFor(mod) == LabelGenuine {
					genuine = append(genuine, s.Score)
				}
			}
		}
		mean, sd := meanStd(raw)
		if opt.CentreOnGenuine && len(genuine) > 0 {
			mean = median(genuine)
		}
		sub.Features = append(sub.Features, Feature{Signal: n, Kind: FeatScore, Mean: mean, Scale: math.Max(sd, 0.02)})
		for _, v := range opt.Values {
			sig, val, ok := strings.Cut(v, ":")
			if !ok || sig != n {
				continue
			}
			var vals []float64
			for _, i := range applied {
				if s := idxs[i][n]; s != nil && s.Measured {
					if x, ok := s.Values[val]; ok && isFinite(x) {
						vals = append(vals, x)
					}
				}
			}
			if len(vals) >= opt.MinMeasured {
				vm, vs := meanStd(vals)
				if vs > 0 {
					sub.Features = append(sub.Features, Feature{Signal: n, Kind: FeatValue, Value: val, Mean: vm, Scale: vs})
				}
			}
		}
		if opt.MissingIndicators && missing > 0 && missing < len(applied) {
			sub.Features = append(sub.Features, Feature{Signal: n, Kind: FeatMissing, Scale: 1})
		}
	}
	// Design matrix.
	d := len(sub.Features)
	X := make([][]float64, len(applied))
	y := make([]float64, len(applied))
	for r, i := range applied {
		X[r] = make([]float64, d)
		for j, f := range sub.Features {
			X[r][j] = f.x(idxs[i][f.Signal], confWeighted)
		}
		y[r] = boolf(samples[i].LabelFor(mod) == LabelManipulated)
	}
	lo, hi := make([]float64, d), make([]float64, d)
	for j, f := range sub.Features {
		switch f.Kind {
		case FeatScore:
			lo[j], hi[j] = 0, math.Inf(1) // a more manipulated-looking score never lowers the risk
		case FeatMissing:
			lo[j], hi[j] = math.Inf(-1), 0 // a missing signal is never evidence of manipulation
		default:
			lo[j], hi[j] = math.Inf(-1), math.Inf(1)
		}
	}
	w, b := fitLogistic(X, y, opt.L2, lo, hi, opt.Iterations)
	sub.Bias = b
	for j := range sub.Features {
		sub.Features[j].Weight = w[j]
	}
	return sub, nil
}

// fitPlatt fits the calibration A·z+B on out-of-fold logits z with labels y,
// using Platt's smoothed targets; A is kept ≥ 0.
func fitPlatt(z, y []float64, iters int) (Platt, error) {
	var npos, nneg float64
	for _, v := range y {
		if v > 0.5 {
			npos++
		} else {
			nneg++
		}
	}
	if npos == 0 || nneg == 0 {
		return Platt{}, fmt.Errorf("%w: out-of-fold logits of one class only (%v manipulated, %v genuine)", ErrNoTrainingData, npos, nneg)
	}
	hiT, loT := (npos+1)/(npos+2), 1/(nneg+2)
	X := make([][]float64, len(z))
	t := make([]float64, len(z))
	for i := range z {
		X[i] = []float64{z[i]}
		t[i] = loT
		if y[i] > 0.5 {
			t[i] = hiT
		}
	}
	w, b := fitLogistic(X, t, 1e-3, []float64{0}, []float64{math.Inf(1)}, iters)
	return Platt{A: w[0], B: b}, nil
}

// fitLogistic minimises Σ [log(1+e^z) − y·z] + λ/2·|w|², z = X·w + b, with
// (possibly soft) targets y in [0,1] and box constraints lo ≤ w ≤ hi, by
// projected accelerated gradient descent (FISTA) from zero. It is
// deterministic. The bias b is not penalised.
func fitLogistic(X [][]float64, y []float64, lambda float64, lo, hi []float64, iters int) ([]float64, float64) {
	n := len(X)
	d := len(lo)
	// Lipschitz bound of the gradient: ¼·λmax([X 1]ᵀ[X 1]) + λ ≤ ¼·‖[X 1]‖²_F + λ.
	fro := float64(n)
	for _, row := range X {
		for _, v := range row {
			fro += v * v
		}
	}
	step := 1 / (0.25*fro + lambda)
	w, wPrev, v := make([]float64, d+1), make([]float64, d+1), make([]float64, d+1) // last entry: bias
	grad := make([]float64, d+1)
	t := 1.0
	for it := 0; it < iters; it++ {
		for j := range grad {
			grad[j] = 0
		}
		for r, row := range X {
			z := v[d]
			for j, x := range row {
				z += v[j] * x
			}
			e := sigmoid(z) - y[r]
			for j, x := range row {
				grad[j] += e * x
			}
			grad[d] += e
		}
		copy(wPrev, w)
		for j := 0; j < d; j++ {
			w[j] = clamp(v[j]-step*(grad[j]+lambda*v[j]), lo[j], hi[j])
		}
		w[d] = v[d] - step*grad[d]
		tNext := (1 + math.Sqrt(1+4*t*t)) / 2
		for j := range v {
			v[j] = w[j] + (t-1)/tNext*(w[j]-wPrev[j])
		}
		t = tNext
	}
	return w[:d], w[d]
}

// GroupFolds assigns every item to one of k folds so that all items of a
// group share a fold. Groups are shuffled with seed, then placed largest
// first into the fold with the fewest items, so folds are balanced and the
// assignment is deterministic for a seed. k is lowered to the number of
// groups when there are fewer.
func GroupFolds(groups []int, k int, seed int64) []int {
	size := map[int]int{}
	for _, g := range groups {
		size[g]++
	}
	ids := make([]int, 0, len(size))
	for g := range size {
		ids = append(ids, g)
	}
	sort.Ints(ids)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x62_6f_6e_61_66_69_64_65))
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	sort.SliceStable(ids, func(i, j int) bool { return size[ids[i]] > size[ids[j]] })
	k = max(1, min(k, len(ids)))
	load := make([]int, k)
	foldOf := map[int]int{}
	for _, g := range ids {
		best := 0
		for f := 1; f < k; f++ {
			if load[f] < load[best] {
				best = f
			}
		}
		foldOf[g] = best
		load[best] += size[g]
	}
	out := make([]int, len(groups))
	for i, g := range groups {
		out[i] = foldOf[g]
	}
	return out
}

// CrossValidate trains on all folds but one and scores the held-out fold,
// for each of opt.Folds folds by group, and returns every sample's
// out-of-fold output (each fold's model has its own calibration and
// thresholds, fitted on its training part only). A fold whose training part
// cannot be fitted leaves its samples' outputs with a NaN probability and
// an inconclusive verdict, and is reported in the error list.
//
// Samples marked NoTrain are never trained on and samples marked NoScore
// never scored (their Output says "not scored"): with both, a model can be
// trained on one set (e.g. the original recordings) and tested on another
// (the same sources through a call codec), fold by fold.
func CrossValidate(samples []Sample, opt TrainOptions) ([]Output, []error) {
	opt.defaults()
	groups := make([]int, len(samples))
	for i, s := range samples {
		groups[i] = s.Group
	}
	folds := GroupFolds(groups, opt.Folds, opt.Seed)
	out := make([]Output, len(samples))
	for i := range out {
		out[i] = Output{Probability: math.NaN(), Verdict: Inconclusive, VerdictReason: "not scored"}
	}
	var errs []error
	nFolds := 0
	for _, f := range folds {
		nFolds = max(nFolds, f+1)
	}
	for k := 0; k < nFolds; k++ {
		var train []Sample
		scored := false
		for i, s := range samples {
			if folds[i] != k && !s.NoTrain {
				train = append(train, s)
			}
			scored = scored || (folds[i] == k && !s.NoScore)
		}
		if !scored {
			continue
		}
		m, err := Train(train, opt)
		if err != nil {
			errs = append(errs, fmt.Errorf("fold %d: %w", k, err))
			continue
		}
		for i, s := range samples {
			if folds[i] == k && !s.NoScore {
				out[i] = m.Score(s.Input)
			}
		}
	}
	return out, errs
}

func index(in Input) map[string]*Signal {
	idx := make(map[string]*Signal, len(in.Signals))
	for i := range in.Signals {
		idx[in.Signals[i].Name] = &in.Signals[i]
	}
	return idx
}

// median returns the median of v (not empty); v is not modified.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func meanStd(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)))
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
