// Package report defines the analysis report: its versioned JSON schema
// (documented in docs/report-schema.md) and its plain-text rendering.
package report

import (
	"fmt"
	"math"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/models"
)

// Schema is the value of Report.Schema. Bump the version on any change that
// removes or renames a field; adding fields keeps it.
const Schema = "bonafide.report/v1"

// Report is the result of analysing one recording.
type Report struct {
	Schema string `json:"schema"`
	// Authenticity is 0–100, 100 = genuine; null when nothing could be
	// measured.
	Authenticity *int           `json:"authenticity"`
	Probability  *float64       `json:"probability_manipulated"`
	Verdict      models.Verdict `json:"verdict"`
	// VerdictReason explains an inconclusive verdict caused by missing data,
	// a damaged file or a picture that did not move.
	VerdictReason string `json:"verdict_reason,omitempty"`
	Summary       string `json:"summary"`

	Video Modality `json:"video"`
	Audio Modality `json:"audio"`
	AV    Modality `json:"av"`
	// Enhancement is the image-enhancement (beauty filter) signal, reported
	// apart from face swaps; nil when that detector did not run.
	Enhancement *Signal `json:"enhancement,omitempty"`

	Timeline    []Window      `json:"timeline"`
	Coverage    Coverage      `json:"coverage"`
	NotMeasured []NotMeasured `json:"not_measured"`
	Evidence    []Evidence    `json:"evidence,omitempty"`
	Analysis    Analysis      `json:"analysis"`
	// ModelValidation is how often the scoring model's verdicts were right
	// when it was cross-validated: what a verdict is worth. Nil when the
	// model carries no such figures (the rule model).
	ModelValidation *ModelValidation `json:"model_validation,omitempty"`
}

// ModelValidation quotes the scoring model's cross-validated figures on its
// labelled corpus (folds by source: every item scored by a model that never
// saw its source). Rates are 0–1; null when undefined or not recorded.
type ModelValidation struct {
	Items int      `json:"items"`
	AUC   *float64 `json:"auc"`
	// GenuineCalledManipulated is the share of genuine recordings whose
	// verdict was "manipulated" (the false-positive rate).
	GenuineCalledManipulated *float64 `json:"genuine_called_manipulated"`
	// ManipulatedCalledManipulated is the share of manipulated recordings
	// whose verdict was "manipulated".
	ManipulatedCalledManipulated *float64 `json:"manipulated_called_manipulated"`
	// ManipulatedCalledGenuine is the share of manipulated recordings whose
	// verdict was "genuine" (missed).
	ManipulatedCalledGenuine *float64 `json:"manipulated_called_genuine"`
	// Statement says the same in a sentence for the reader of a report.
	Statement string `json:"statement"`
}

// NewModelValidation quotes the overall row of a model's cross-validated
// figures; nil without one.
func NewModelValidation(cv *models.CVMetrics) *ModelValidation {
	if cv == nil {
		return nil
	}
	g, ok := cv.Groups["overall"]
	if !ok || g.N == 0 {
		return nil
	}
	v := &ModelValidation{Items: g.N, AUC: g.AUC, GenuineCalledManipulated: g.FPRAtManipulated,
		ManipulatedCalledManipulated: g.RecallAtManipulated}
	if g.RecallAtInconclusive != nil {
		// Rounded like the rates it derives from (4 decimals), so that
		// 1 − 0.4946 reads 0.5054, not 0.5054000000000001.
		missed := math.Round((1-*g.RecallAtInconclusive)*1e4) / 1e4
		v.ManipulatedCalledGenuine = &missed
	}
	v.Statement = v.statement()
	return v
}

func (v *ModelValidation) statement() string {
	s := "A screening aid, not proof."
	if v.ManipulatedCalledManipulated == nil || v.GenuineCalledManipulated == nil {
		return s
	}
	genuine := percent(*v.GenuineCalledManipulated) + " of the genuine ones"
	if *v.GenuineCalledManipulated == 0 {
		// Not one in a sample of a hundred or so is not "never".
		genuine = "none of the genuine ones (which does not mean it never raises a false alarm)"
	}
	s += fmt.Sprintf(" In cross-validation on %d labelled recordings (each scored by a model that had not seen its source), it called %s of the manipulated ones \"manipulated\" and %s",
		v.Items, percent(*v.ManipulatedCalledManipulated), genuine)
	if v.ManipulatedCalledGenuine != nil {
		s += fmt.Sprintf(", and let %s of the manipulated ones through as \"genuine\"", percent(*v.ManipulatedCalledGenuine))
	}
	return s + `. "Genuine" means nothing suspicious was found, not that the recording is verified.`
}

// percent prints a rate for a reader: whole percent, one decimal below 10 %.
func percent(r float64) string {
	p := 100 * r
	if p > 0 && p < 10 {
		return fmt.Sprintf("%.1f %%", p)
	}
	return fmt.Sprintf("%.0f %%", p)
}

// Modality is the fused score of one modality and its signals.
type Modality struct {
	// Score is 0–1, 1 = manipulated; null when not measured.
	Score    *float64 `json:"score"`
	Measured bool     `json:"measured"`
	Reason   string   `json:"reason,omitempty"`
	Signals  []Signal `json:"signals"`
}

// Signal is one detector's outcome.
type Signal struct {
	Name     string `json:"name"`
	Modality string `json:"modality"`
	Measured bool   `json:"measured"`
	// Informational signals are shown but do not enter the score.
	Informational bool    `json:"informational,omitempty"`
	Reason        string  `json:"reason,omitempty"` // why not measured
	Score         float64 `json:"score"`
	Confidence    float64 `json:"confidence"`
	// Contribution is the signal's effect on the authenticity score in
	// points (negative: towards manipulated).
	Contribution float64                 `json:"contribution"`
	Values       []detectors.Measurement `json:"values,omitempty"`
	Explanation  string                  `json:"explanation,omitempty"`
	// Findings are the signal's per-window findings.
	Findings []detectors.Finding `json:"findings,omitempty"`
}

// Window is one timeline window.
type Window struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Per-modality scores 0–1 (1 = manipulated); null when not measured in
	// this window.
	Video *float64 `json:"video"`
	Audio *float64 `json:"audio"`
	AV    *float64 `json:"av"`
	// Overall is the highest of the three; null when none was measured.
	Overall       *float64 `json:"overall"`
	FaceSeconds   float64  `json:"face_seconds"`
	SpeechSeconds float64  `json:"speech_seconds"`
}

// Coverage says how much of the recording could be analysed.
type Coverage struct {
	DurationSeconds float64 `json:"duration_seconds"`
	FaceSeconds     float64 `json:"face_seconds"`
	SpeechSeconds   float64 `json:"speech_seconds"`
	FaceFraction    float64 `json:"face_fraction"`
	SpeechFraction  float64 `json:"speech_fraction"`
	Statement       string  `json:"statement"`
}

// NotMeasured names a signal that could not be measured and why.
type NotMeasured struct {
	Signal string `json:"signal"`
	Reason string `json:"reason"`
}

// Evidence is a file written with --evidence.
type Evidence struct {
	Kind  string  `json:"kind"` // "face" (JPEG crop) or "spectrogram" (PNG)
	File  string  `json:"file"` // file name inside the evidence folder
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Score float64 `json:"score"`
	Note  string  `json:"note"`
}

// Analysis records what was analysed and how.
type Analysis struct {
	Version         string      `json:"version"`
	ModelVersion    string      `json:"model_version"`
	File            string      `json:"file"`
	SizeBytes       int64       `json:"size_bytes"`
	Container       string      `json:"container"`
	DurationSeconds float64     `json:"duration_seconds"`
	Video           *VideoInput `json:"video"`
	Audio           *AudioInput `json:"audio"`
	AnalysisFPS     float64     `json:"analysis_fps"`
	AnalysisWidth   int         `json:"analysis_width"`
	AnalysisHeight  int         `json:"analysis_height"`
	// Region is the part of the picture analysed when it was not the whole
	// (media.Region's form: "left", "top-right", … or "x,y,w,h" fractions
	// of the upright picture); AnalysisWidth and AnalysisHeight are its
	// size. Empty: the whole picture.
	Region string `json:"region,omitempty"`
	// FramesAnalyzed were decoded and passed to every video detector.
	FramesAnalyzed int `json:"frames_analyzed"`
	// FramesSkipped are source frames not analysed: left out by sampling
	// at AnalysisFPS.
	FramesSkipped int `json:"frames_skipped"`
	// FramesDropped is always 0: the analysis of a file drops no frames
	// (a live call's drops are in its session statistics). Kept in the
	// schema for readers that expect it.
	FramesDropped int `json:"frames_dropped"`
	// AudioSeconds is the length of decoded voice audio.
	AudioSeconds   float64  `json:"audio_seconds"`
	DecodeWarnings int      `json:"decode_warnings"`
	Notes          []string `json:"notes,omitempty"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
}

// VideoInput describes the input's video stream.
type VideoInput struct {
	Codec        string  `json:"codec"`
	Width        int     `json:"width"`
	Height       int     `json:"height"`
	FPS          float64 `json:"fps"`
	Rotation     int     `json:"rotation"`
	VariableRate bool    `json:"variable_frame_rate"`
}

// AudioInput describes the input's audio stream.
type AudioInput struct {
	Codec      string `json:"codec"`
	SampleRate int    `json:"sample_rate"`
	Channels   int    `json:"channels"`
}

// AllSignals returns the signals of every modality.
func (r *Report) AllSignals() []Signal {
	var out []Signal
	for _, m := range []Modality{r.Video, r.Audio, r.AV} {
		out = append(out, m.Signals...)
	}
	return out
}
