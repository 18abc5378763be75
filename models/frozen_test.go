package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A picture that stood still (video.virtualcam's still_fraction at or
// above FrozenPictureFraction) turns a "genuine" verdict into
// "inconclusive" with the reason, keeping the score; any other verdict,
// and a picture that moved, stay as they were.
func TestFrozenPictureIsNotGenuine(t *testing.T) {
	th := Thresholds{Genuine: 51, Inconclusive: 42, Suspicious: 28}
	cam := func(still float64, measured bool) Signal {
		return Signal{Name: virtualCamSignal, Modality: ModVideo, Measured: measured, Score: 1,
			Values: map[string]float64{"duplicate_frame_fraction": 1, "still_fraction": still}}
	}
	for _, tc := range []struct {
		name   string
		p      float64
		sig    Signal
		face   float64
		want   Verdict
		reason string
	}{
		{"frozen, else genuine", 0.3, cam(0.95, true), 6, Inconclusive, "the picture did not move for 95% of the time a face was seen"},
		{"frozen at the limit", 0.3, cam(FrozenPictureFraction, true), 6, Inconclusive, "did not move"},
		{"held part of the time", 0.3, cam(0.6, true), 6, Genuine, ""},
		{"not measured", 0.3, cam(1, false), 6, Genuine, ""},
		{"an older report without still_fraction", 0.3, Signal{Name: virtualCamSignal, Measured: true, Values: map[string]float64{"duplicate_frame_fraction": 1}}, 6, Genuine, ""},
		{"frozen and manipulated", 0.9, cam(1, true), 6, Manipulated, ""},
		{"frozen and suspicious", 0.6, cam(1, true), 6, Suspicious, ""},
		{"too little to judge comes first", 0.3, cam(1, true), 1, Inconclusive, "too little to judge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := Output{Modalities: map[string]ModalityScore{}}
			finish(&out, tc.p, Input{Signals: []Signal{tc.sig}, FaceSeconds: tc.face}, th)
			assert.Equal(t, tc.want, out.Verdict)
			if tc.reason == "" {
				assert.Empty(t, out.VerdictReason)
			} else {
				assert.Contains(t, out.VerdictReason, tc.reason)
			}
			if tc.face >= MinCoverageSeconds {
				assert.NotNil(t, out.Authenticity, "the score stands")
			}
		})
	}
}
