package models

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
)

// FusionFormat is the value of LogisticModel.Format; bump it on a change of
// the weights file that an older binary cannot read.
const FusionFormat = "bonafide.fusion/v1"

// Sentinel errors of the trained model.
var (
	// ErrNoWeights means no weights file is embedded (the rule model is used).
	ErrNoWeights = errors.New("no trained fusion weights embedded")
	// ErrBadWeights means a weights file could not be read or is inconsistent.
	ErrBadWeights = errors.New("invalid fusion weights")
	// ErrNoTrainingData means a sub-model had too few labelled items of one
	// class, or no usable feature, to be fitted.
	ErrNoTrainingData = errors.New("not enough training data")
)

// Feature kinds.
const (
	// FeatScore is a signal's 0–1 score, shrunk towards the feature's centre
	// (Feature.Mean) by its confidence and imputed with it when the signal
	// is missing.
	FeatScore = "score"
	// FeatValue is one of a signal's raw measurements (Feature.Value names
	// it), imputed with the training mean when missing.
	FeatValue = "value"
	// FeatMissing is 1 when the signal was not measured, else 0. Its weight
	// is constrained to be ≤ 0: a missing signal never counts as evidence of
	// manipulation.
	FeatMissing = "missing"
)

// zClip bounds standardised features so that one extreme measurement on an
// unfamiliar recording cannot dominate the score.
const zClip = 4.0

// Feature is one input of a sub-model: x = (raw − Mean) / Scale, clipped to
// ±4, times Weight. Mean is the feature's centre: for scores, the median of
// the genuine training items when trained with CentreOnGenuine (fusion-v10
// on), else the mean of all training items. Missing indicators are not
// standardised (Mean 0, Scale 1).
type Feature struct {
	Signal string  `json:"signal"`
	Kind   string  `json:"kind"`            // FeatScore, FeatValue or FeatMissing
	Value  string  `json:"value,omitempty"` // measurement name for FeatValue
	Mean   float64 `json:"mean"`
	Scale  float64 `json:"scale"`
	Weight float64 `json:"weight"`
}

// Name is the feature's display name, e.g. "video.pulse" or
// "video.pulse:missing".
func (f Feature) Name() string {
	switch f.Kind {
	case FeatMissing:
		return f.Signal + ":missing"
	case FeatValue:
		return f.Signal + ":" + f.Value
	}
	return f.Signal
}

// Platt is an affine map A·z+B of a logit, fitted by logistic regression on
// out-of-fold values (Platt scaling).
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// Map returns A·z+B.
func (p Platt) Map(z float64) float64 { return p.A*z + p.B }

// Prob returns the probability 1/(1+exp(−(A·z+B))).
func (p Platt) Prob(z float64) float64 { return sigmoid(p.Map(z)) }

// SubModel is the logistic regression of one modality. It applies to an
// input in which at least one of its signals was measured; otherwise the
// modality is not measured.
type SubModel struct {
	Modality string    `json:"modality"`
	Bias     float64   `json:"bias"`
	Features []Feature `json:"features"`
	// Evidence maps the logit to calibrated log-odds minus the log-odds of
	// the sub-model's training base rate: the log-likelihood ratio of the
	// modality, 0 for an uninformative one. Sub-models trained on different
	// class mixes are comparable on this scale.
	Evidence Platt `json:"evidence"`
	// TrainedOn is the number of items the sub-model was fitted on.
	TrainedOn int `json:"trained_on"`
}

// signals returns the distinct signal names the sub-model reads, in order.
func (m *SubModel) signals() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range m.Features {
		if !seen[f.Signal] {
			seen[f.Signal] = true
			out = append(out, f.Signal)
		}
	}
	return out
}

// applies reports whether at least one of the sub-model's signals was
// measured in in.
func (m *SubModel) applies(idx map[string]*Signal) bool {
	for _, name := range m.signals() {
		if s := idx[name]; s != nil && s.Measured {
			return true
		}
	}
	return false
}

// terms returns each feature's term w·x of the logit for the signals in idx.
func (m *SubModel) terms(idx map[string]*Signal, confWeighted bool) []float64 {
	out := make([]float64, len(m.Features))
	for i, f := range m.Features {
		out[i] = f.Weight * f.x(idx[f.Signal], confWeighted)
	}
	return out
}

// x computes the feature's standardised value for signal s (nil = absent).
func (f Feature) x(s *Signal, confWeighted bool) float64 {
	measured := s != nil && s.Measured
	if f.Kind == FeatMissing {
		if measured {
			return 0
		}
		return 1
	}
	raw := f.Mean // imputation at the centre: no evidence beyond a typical reading
	if measured {
		switch f.Kind {
		case FeatScore:
			if v := s.Score; isFinite(v) {
				c := 1.0
				if confWeighted {
					c = clamp(s.Confidence, 0, 1)
				}
				raw = f.Mean + c*(v-f.Mean)
			}
		case FeatValue:
			if v, ok := s.Values[f.Value]; ok && isFinite(v) {
				raw = v
			}
		}
	}
	scale := f.Scale
	if scale <= 0 {
		scale = 1
	}
	return clamp((raw-f.Mean)/scale, -zClip, zClip)
}

// CVMetrics are the cross-validated figures written into a weights file.
type CVMetrics struct {
	Folds int   `json:"folds"`
	Seed  int64 `json:"seed"`
	// Per group ("overall", "video", "audio", "av"): n, AUC, EER, FPR and
	// recall at the manipulated threshold.
	Groups map[string]CVGroup `json:"groups"`
}

// CVGroup is one row of CVMetrics; nil metrics were undefined (one class
// missing).
type CVGroup struct {
	N                   int      `json:"n"`
	AUC                 *float64 `json:"auc"`
	EER                 *float64 `json:"eer"`
	FPRAtManipulated    *float64 `json:"fpr_at_manipulated"`
	RecallAtManipulated *float64 `json:"recall_at_manipulated"`
	// RecallAtInconclusive is the share of manipulated items whose verdict
	// was anything but genuine (1 − it were called genuine); absent from
	// weights files older than fusion-v8's second writing.
	RecallAtInconclusive *float64 `json:"recall_at_inconclusive,omitempty"`
	// FPRAtInconclusive is the share of genuine items whose verdict was
	// anything but genuine.
	FPRAtInconclusive *float64 `json:"fpr_at_inconclusive,omitempty"`
}

// LogisticModel is the trained fusion model: one L2-regularised logistic
// regression per modality over that modality's signal scores (missing
// scores imputed at the feature's centre; optionally missing indicators), each
// calibrated with Platt scaling on out-of-fold logits into
// a log-likelihood ratio. The interview's evidence is the highest modality
// evidence, because one manipulated stream is enough and a missing stream
// must neither dilute nor fake evidence; a second Platt scaling (Combine),
// fitted on out-of-fold evidence, turns it into the probability of
// manipulation. A modality's score is the same map applied to its own
// evidence, so the interview's probability is the highest modality score.
// Verdict thresholds were chosen on out-of-fold probabilities for target
// false-positive rates.
//
// A LogisticModel is immutable after loading and safe for concurrent use.
type LogisticModel struct {
	Format  string `json:"format"`
	Name    string `json:"version"` // e.g. "fusion-v1"
	Trained string `json:"trained"` // RFC 3339 date of training
	// Manifest is the SHA-256 of the manifest the model was trained on.
	Manifest string `json:"manifest_sha256"`
	// TrainedOn lists the SHA-256 of every manifest whose items trained it,
	// when that is more than Manifest (bonafide train --train-on).
	TrainedOn []string `json:"trained_on_sha256,omitempty"`
	// ConfidenceWeighted shrinks a score towards its centre (Feature.Mean) by the
	// signal's confidence.
	ConfidenceWeighted bool         `json:"confidence_weighted"`
	Options            TrainOptions `json:"options"`
	SubModels          []SubModel   `json:"submodels"`
	// Combine maps the highest modality evidence to the probability.
	Combine    Platt      `json:"combine"`
	Thresholds Thresholds `json:"thresholds"`
	// LiveThresholds, when set, replace Thresholds for live segments
	// (Input.Live): they are chosen the same way, on the out-of-fold scores
	// of the genuine training items' segments (Sample.Segment).
	LiveThresholds *Thresholds `json:"live_thresholds,omitempty"`
	CV             *CVMetrics  `json:"cv,omitempty"`
	Notes          []string    `json:"notes,omitempty"`
}

// Version implements Scorer.
func (m *LogisticModel) Version() string { return m.Name }

// Validation implements Validated: the cross-validated figures of m's
// recipe, nil when the weights file has none.
func (m *LogisticModel) Validation() *CVMetrics { return m.CV }

// Recipe returns the training options that made m, for retraining or
// cross-validating the same recipe. Weights files written before
// MissingIndicators existed (fusion-v5 and older) were trained with missing
// indicators but do not record it: their indicator features say so.
func (m *LogisticModel) Recipe() TrainOptions {
	opt := m.Options
	for _, sm := range m.SubModels {
		for _, f := range sm.Features {
			if f.Kind == FeatMissing {
				opt.MissingIndicators = true
			}
		}
	}
	return opt
}

// Counts implements SignalWeigher: a signal counts when a sub-model gives
// its score (or one of its raw values) a positive weight.
func (m *LogisticModel) Counts(signal string) bool {
	for _, sm := range m.SubModels {
		for _, f := range sm.Features {
			if f.Signal == signal && f.Kind != FeatMissing && f.Weight > 0 {
				return true
			}
		}
	}
	return false
}

// Validate checks that the model is usable.
func (m *LogisticModel) Validate() error {
	if m.Format != FusionFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrBadWeights, m.Format, FusionFormat)
	}
	if len(m.SubModels) == 0 {
		return fmt.Errorf("%w: no sub-model", ErrBadWeights)
	}
	if m.Combine.A < 0 || !isFinite(m.Combine.A) || !isFinite(m.Combine.B) {
		return fmt.Errorf("%w: combine %+v", ErrBadWeights, m.Combine)
	}
	for _, t := range []*Thresholds{&m.Thresholds, m.LiveThresholds} {
		if t != nil && (t.Suspicious < 0 || t.Suspicious > t.Inconclusive || t.Inconclusive > t.Genuine || t.Genuine > 101) {
			return fmt.Errorf("%w: thresholds %+v not ordered", ErrBadWeights, *t)
		}
	}
	for _, sm := range m.SubModels {
		switch sm.Modality {
		case ModVideo, ModAudio, ModAV:
		default:
			return fmt.Errorf("%w: unknown modality %q", ErrBadWeights, sm.Modality)
		}
		for _, f := range sm.Features {
			if !isFinite(f.Weight) || !isFinite(f.Mean) || !isFinite(f.Scale) {
				return fmt.Errorf("%w: %s has a non-finite parameter", ErrBadWeights, f.Name())
			}
			if f.Kind == FeatMissing && f.Weight > 0 {
				return fmt.Errorf("%w: missing indicator %s has a positive weight", ErrBadWeights, f.Name())
			}
		}
	}
	return nil
}

// modalityEval is one applicable sub-model's logit, terms and calibrated
// probability.
type modalityEval struct {
	sub   *SubModel
	z     float64
	terms []float64
	p     float64
}

// evaluate returns the applicable sub-models' evaluations by modality.
func (m *LogisticModel) evaluate(idx map[string]*Signal) map[string]*modalityEval {
	out := map[string]*modalityEval{}
	for i := range m.SubModels {
		sm := &m.SubModels[i]
		if !sm.applies(idx) {
			continue
		}
		terms := sm.terms(idx, m.ConfidenceWeighted)
		z := sm.Bias
		for _, t := range terms {
			z += t
		}
		out[sm.Modality] = &modalityEval{sub: sm, z: z, terms: terms, p: m.Combine.Prob(sm.Evidence.Map(z))}
	}
	return out
}

func (m *LogisticModel) hasModality(mod string) bool {
	for i := range m.SubModels {
		if m.SubModels[i].Modality == mod {
			return true
		}
	}
	return false
}

// combine is the interview's probability: the highest modality
// probability, NaN when no modality applies.
func combine(ev map[string]*modalityEval) float64 {
	best := math.NaN()
	for _, e := range ev {
		if math.IsNaN(best) || e.p > best {
			best = e.p
		}
	}
	return best
}

// Score implements Scorer.
//
// Contributions split the deciding modality's departure from a typical
// recording among its signals: a typical recording has every signal at its
// centre (Feature.Mean: with CentreOnGenuine, a typical genuine reading; logit
// z0 = bias, probability p0), and signal j, whose terms
// add c_j to the logit, gets −100·c_j·(p − p0)/(z − z0) points (the
// integrated gradient along the straight path from z0 to z, exact for one
// sigmoid). The points of the deciding modality's signals add up to the
// authenticity score minus that of a typical recording; signals of other
// modalities get 0, because only the highest modality decides. Negative
// points pull towards "manipulated".
func (m *LogisticModel) Score(in Input) Output {
	out := Output{Modalities: map[string]ModalityScore{}}
	ev := m.evaluate(index(in))
	for _, mod := range []string{ModVideo, ModAudio, ModAV} {
		if e, ok := ev[mod]; ok {
			out.Modalities[mod] = ModalityScore{Measured: true, Score: e.p}
			continue
		}
		reason := "no signal of this modality could be measured"
		if !m.hasModality(mod) {
			reason = "the model has no trained " + mod + " part: no " + mod + " signal separated genuine from manipulated recordings in training"
		}
		out.Modalities[mod] = ModalityScore{Reason: reason}
	}
	p := combine(ev)
	if !math.IsNaN(p) {
		var dec *modalityEval
		for _, mod := range []string{ModVideo, ModAudio, ModAV} {
			if e := ev[mod]; e != nil && (dec == nil || e.p > dec.p) {
				dec = e
			}
		}
		z0 := dec.sub.Bias
		slope := m.Combine.A * dec.sub.Evidence.A
		var ratio float64 // dp/dz averaged over the path z0 → z
		if math.Abs(dec.z-z0) < 1e-9 {
			ratio = dec.p * (1 - dec.p) * slope
		} else {
			ratio = (dec.p - m.Combine.Prob(dec.sub.Evidence.Map(z0))) / (dec.z - z0)
		}
		for _, s := range in.Signals {
			pts := 0.0
			if s.Modality == dec.sub.Modality {
				for i, f := range dec.sub.Features {
					if f.Signal == s.Name {
						pts -= 100 * ratio * dec.terms[i]
					}
				}
			}
			out.Contributions = append(out.Contributions, Contribution{Signal: s.Name, Modality: s.Modality, Points: math.Round(pts*10) / 10})
		}
		sort.SliceStable(out.Contributions, func(i, j int) bool {
			return math.Abs(out.Contributions[i].Points) > math.Abs(out.Contributions[j].Points)
		})
	}
	finish(&out, p, in, m.thresholdsFor(in))
	return out
}

// thresholdsFor returns the verdict thresholds for in: the live ones for a
// live segment when the model has them.
func (m *LogisticModel) thresholdsFor(in Input) Thresholds {
	if in.Live && m.LiveThresholds != nil {
		return *m.LiveThresholds
	}
	return m.Thresholds
}

// Informative reports whether any signal carries weight: a model whose
// weights are all zero gives every recording the same score.
func (m *LogisticModel) Informative() bool {
	if m.Combine.A <= 0 {
		return false
	}
	for i := range m.SubModels {
		if m.SubModels[i].informative() {
			return true
		}
	}
	return false
}

// informative reports whether a measured signal moves the sub-model's
// evidence.
func (m *SubModel) informative() bool {
	if m.Evidence.A <= 0 {
		return false
	}
	for _, f := range m.Features {
		if f.Kind != FeatMissing && f.Weight != 0 {
			return true
		}
	}
	return false
}

// Marshal returns the model as indented JSON, as written to models/weights.
func (m *LogisticModel) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseLogisticModel reads and validates a weights file.
func ParseLogisticModel(data []byte) (*LogisticModel, error) {
	var m LogisticModel
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWeights, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

//go:embed weights
var weightsFS embed.FS

// EmbeddedModel returns the newest embedded weights file
// (models/weights/fusion-vN.json with the highest N), or ErrNoWeights.
func EmbeddedModel() (*LogisticModel, error) {
	ents, err := weightsFS.ReadDir("weights")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoWeights, err)
	}
	best, bestN := "", -1
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "fusion-v") || !strings.HasSuffix(name, ".json") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "fusion-v"), ".json"))
		if err != nil {
			continue
		}
		if n > bestN {
			best, bestN = name, n
		}
	}
	if best == "" {
		return nil, ErrNoWeights
	}
	data, err := weightsFS.ReadFile(path.Join("weights", best))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWeights, err)
	}
	m, err := ParseLogisticModel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", best, err)
	}
	return m, nil
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
