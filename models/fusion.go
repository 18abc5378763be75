// Package models fuses detector evidence into per-modality scores and one
// authenticity score, and holds the models the analysis loads: the fusion
// weights (embedded in the binary) and the paths of OpenCV's face models.
package models

import (
	"fmt"
	"math"
	"sort"
)

// Verdict is the plain-language outcome of an analysis.
type Verdict string

// Verdicts, from most to least reassuring.
const (
	Genuine      Verdict = "genuine"
	Inconclusive Verdict = "inconclusive"
	Suspicious   Verdict = "suspicious"
	Manipulated  Verdict = "manipulated"
)

// Modality names as used in reports.
const (
	ModVideo = "video"
	ModAudio = "audio"
	ModAV    = "av"
)

// Signal is one detector's summary as the fusion model sees it.
type Signal struct {
	Name       string
	Modality   string
	Measured   bool
	Score      float64 // 0 genuine-looking … 1 manipulated-looking
	Confidence float64 // 0 … 1
	// Values are the detector's raw measurements by name.
	Values map[string]float64
}

// Input is everything the model scores.
type Input struct {
	Signals       []Signal
	FaceSeconds   float64
	SpeechSeconds float64
	// Live says the signals come from one live segment of a call, not a
	// whole recording: a model with live thresholds (fitted on segments'
	// scores, which spread wider) uses them for the verdicts.
	Live bool
}

// ModalityScore is the fused score of one modality.
type ModalityScore struct {
	Score    float64 `json:"score"` // probability-like, 1 = manipulated
	Measured bool    `json:"measured"`
	Reason   string  `json:"reason,omitempty"` // why not measured
	// Verdict is the model's thresholds applied to this modality's score
	// alone (empty when not measured); the interview's verdict also weighs
	// coverage.
	Verdict Verdict `json:"verdict,omitempty"`
}

// Contribution says how much one signal moved the score.
type Contribution struct {
	Signal   string `json:"signal"`
	Modality string `json:"modality"`
	// Points is the signal's effect on the 0–100 authenticity score:
	// negative values pull towards "manipulated".
	Points float64 `json:"points"`
}

// Output is the model's result.
type Output struct {
	// Probability of manipulation in [0,1]; NaN when nothing was measurable.
	Probability   float64
	Authenticity  *int // 0–100, 100 = genuine; nil when nothing was measurable
	Verdict       Verdict
	VerdictReason string
	Modalities    map[string]ModalityScore
	Contributions []Contribution
}

// Thresholds map the authenticity score to a verdict: scores at or above
// Genuine are genuine, at or above Inconclusive inconclusive, at or above
// Suspicious suspicious, below it manipulated.
type Thresholds struct {
	Genuine      int `json:"genuine"`
	Inconclusive int `json:"inconclusive"`
	Suspicious   int `json:"suspicious"`
}

// VerdictFor maps an authenticity score to a verdict.
func (t Thresholds) VerdictFor(a int) Verdict {
	switch {
	case a >= t.Genuine:
		return Genuine
	case a >= t.Inconclusive:
		return Inconclusive
	case a >= t.Suspicious:
		return Suspicious
	default:
		return Manipulated
	}
}

// MinCoverageSeconds is the least face or speech time a modality needs to
// count as measured at all.
const MinCoverageSeconds = 3.0

// FrozenPictureFraction is the share of the time a face was seen during
// which the picture stood still, in stretches of 2 s or more
// (video.virtualcam's still_fraction, which measures the runs: whole
// frames identical to the one before), from which a recording is never called genuine: whatever
// the face signals measured was one still image, not a live face (a still
// image fed as the camera, a frozen feed). A single hold among moving
// pictures counts for its own time only, and a picture that changes once
// a second is never still. The dev corpus's genuine videos stand still
// for none of their time (at most 52–53 % of their frame pairs repeat, in
// a screen capture refreshing at half its rate), nor do its fakes. Only
// the recording's verdict changes: each modality's own verdict stays the
// model's.
const FrozenPictureFraction = 0.9

// virtualCamSignal is detectors.VirtualCamSignal (models imports no
// detector code).
const virtualCamSignal = "video.virtualcam"

// frozenPicture returns the share of the face time during which the
// picture stood still, when it reaches FrozenPictureFraction.
func frozenPicture(in Input) (float64, bool) {
	for _, s := range in.Signals {
		if s.Name != virtualCamSignal || !s.Measured {
			continue
		}
		if f, ok := s.Values["still_fraction"]; ok && f >= FrozenPictureFraction {
			return f, true
		}
	}
	return 0, false
}

// Scorer turns signals into a score. Implementations are immutable and safe
// for concurrent use.
type Scorer interface {
	Version() string
	Score(in Input) Output
}

// Validated is implemented by scorers whose weights carry the
// cross-validated figures of their training recipe: reports quote them so
// that a verdict is read with its error rates.
type Validated interface {
	Validation() *CVMetrics
}

// SignalWeigher is implemented by scorers that can say whether a signal's
// score counts towards manipulation in them: a trained model gives no
// weight to signals that did not separate genuine from manipulated items.
// Live alerts are raised only for signals that count.
type SignalWeigher interface {
	Counts(signal string) bool
}

// RuleModel is the documented hand-set rule used until a trained model is
// available: each modality's score is the confidence-weighted mean of its
// signals' scores (weights per signal, default 1), and the interview's
// probability of manipulation is the highest modality score, because one
// manipulated stream is enough.
type RuleModel struct {
	Weights    map[string]float64
	Thresholds Thresholds
}

// DefaultRuleModel returns the rule model with its documented thresholds.
func DefaultRuleModel() *RuleModel {
	return &RuleModel{
		Weights:    map[string]float64{},
		Thresholds: Thresholds{Genuine: 70, Inconclusive: 45, Suspicious: 25},
	}
}

// Version implements Scorer.
func (m *RuleModel) Version() string { return "rule-1" }

// Counts implements SignalWeigher: a signal counts unless its weight is 0
// or less.
func (m *RuleModel) Counts(signal string) bool {
	w, ok := m.Weights[signal]
	return !ok || w > 0
}

// Score implements Scorer.
func (m *RuleModel) Score(in Input) Output {
	out := Output{Modalities: map[string]ModalityScore{}}
	type acc struct{ num, den float64 }
	sums := map[string]*acc{}
	for _, s := range in.Signals {
		if !s.Measured {
			continue
		}
		w := 1.0
		if v, ok := m.Weights[s.Name]; ok {
			w = v
		}
		a := sums[s.Modality]
		if a == nil {
			a = &acc{}
			sums[s.Modality] = a
		}
		a.num += w * s.Confidence * s.Score
		a.den += w * s.Confidence
	}
	best, bestMod := math.NaN(), ""
	for _, mod := range []string{ModVideo, ModAudio, ModAV} {
		a := sums[mod]
		ms := ModalityScore{}
		switch {
		case a == nil || a.den == 0:
			ms.Reason = "no signal of this modality could be measured"
		default:
			ms.Measured, ms.Score = true, a.num/a.den
		}
		out.Modalities[mod] = ms
		if ms.Measured && (math.IsNaN(best) || ms.Score > best) {
			best, bestMod = ms.Score, mod
		}
	}
	for _, s := range in.Signals {
		if !s.Measured {
			continue
		}
		a := sums[s.Modality]
		if a == nil || a.den == 0 {
			continue
		}
		w := 1.0
		if v, ok := m.Weights[s.Name]; ok {
			w = v
		}
		pts := 0.0
		if s.Modality == bestMod {
			// Share of the deciding modality's score, against a neutral 0.5.
			pts = -100 * w * s.Confidence * (s.Score - 0.5) / a.den
		}
		out.Contributions = append(out.Contributions, Contribution{Signal: s.Name, Modality: s.Modality, Points: math.Round(pts*10) / 10})
	}
	sort.SliceStable(out.Contributions, func(i, j int) bool {
		return math.Abs(out.Contributions[i].Points) > math.Abs(out.Contributions[j].Points)
	})
	finish(&out, best, in, m.Thresholds)
	return out
}

// finish sets probability, authenticity and verdict, refusing a confident
// verdict when too little face and voice were measured.
func finish(out *Output, p float64, in Input, th Thresholds) {
	for mod, ms := range out.Modalities {
		if ms.Measured {
			ms.Verdict = th.VerdictFor(int(math.Round(100 * (1 - ms.Score))))
			out.Modalities[mod] = ms
		}
	}
	out.Probability = p
	if math.IsNaN(p) {
		out.Verdict = Inconclusive
		out.VerdictReason = "no signal could be measured"
		return
	}
	a := int(math.Round(100 * (1 - p)))
	out.Authenticity = &a
	out.Verdict = th.VerdictFor(a)
	if in.FaceSeconds < MinCoverageSeconds && in.SpeechSeconds < MinCoverageSeconds {
		out.VerdictReason = fmt.Sprintf("too little to judge: %.1f s with a face and %.1f s of speech (at least %.0f s of either needed)",
			in.FaceSeconds, in.SpeechSeconds, MinCoverageSeconds)
		// No number either: a score from missing data would look confident.
		out.Verdict = Inconclusive
		out.Authenticity = nil
		return
	}
	if f, ok := frozenPicture(in); ok && out.Verdict == Genuine {
		// Nothing measured says "manipulated", but nothing showed a live
		// face either: the score stands, the verdict is not "genuine".
		out.Verdict = Inconclusive
		out.VerdictReason = fmt.Sprintf("the picture did not move for %.0f%% of the time a face was seen "+
			"(a still image fed as the camera, or a frozen feed), so nothing showed a live face", 100*f)
	}
}

// DefaultScorer returns the model the binary ships with: the newest trained
// fusion model embedded from models/weights, or the rule model when none is
// embedded or it cannot be read (LoadDefaultScorer reports why).
func DefaultScorer() Scorer {
	s, err := LoadDefaultScorer()
	if err != nil {
		return DefaultRuleModel()
	}
	return s
}

// LoadDefaultScorer returns the embedded trained model, or the rule model
// with ErrNoWeights when none is embedded, or the rule model with an error
// wrapping ErrBadWeights when the embedded file is invalid.
func LoadDefaultScorer() (Scorer, error) {
	m, err := EmbeddedModel()
	if err != nil {
		return DefaultRuleModel(), err
	}
	return m, nil
}
