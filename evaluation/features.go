package evaluation

import (
	"math"

	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// Features is what the fusion model needs from one analysed item: every
// scoring signal (measured or not, with its raw values) and the coverage.
// It is what the cache stores.
type Features struct {
	Signals       []models.Signal `json:"signals"`
	FaceSeconds   float64         `json:"face_seconds"`
	SpeechSeconds float64         `json:"speech_seconds"`
	HasVideo      bool            `json:"has_video"`
	HasAudio      bool            `json:"has_audio"`
}

// Input returns the model input.
func (f Features) Input() models.Input {
	return models.Input{Signals: f.Signals, FaceSeconds: f.FaceSeconds, SpeechSeconds: f.SpeechSeconds}
}

// FeaturesFromReport extracts the features from an analysis report.
// Informational signals are left out, as in analysis.Signals. A measured
// signal with a non-finite score counts as not measured, and non-finite raw
// values are dropped, so that a detector bug cannot poison the model.
func FeaturesFromReport(rep *report.Report) Features {
	f := Features{
		FaceSeconds:   rep.Coverage.FaceSeconds,
		SpeechSeconds: rep.Coverage.SpeechSeconds,
		HasVideo:      rep.Analysis.Video != nil,
		HasAudio:      rep.Analysis.Audio != nil,
	}
	for _, s := range rep.AllSignals() {
		if s.Informational {
			continue
		}
		sig := models.Signal{Name: s.Name, Modality: s.Modality, Measured: s.Measured}
		if s.Measured && finite(s.Score) {
			sig.Score, sig.Confidence = s.Score, s.Confidence
			if !finite(sig.Confidence) {
				sig.Confidence = 0
			}
			sig.Values = map[string]float64{}
			for _, v := range s.Values {
				if finite(v.Value) {
					sig.Values[v.Name] = v.Value
				}
			}
		} else {
			sig.Measured = false
		}
		f.Signals = append(f.Signals, sig)
	}
	return f
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
