package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSignalWeigher(t *testing.T) {
	lm := &LogisticModel{SubModels: []SubModel{{Modality: "video", Features: []Feature{
		{Signal: "video.a", Kind: FeatScore, Weight: 0.5},
		{Signal: "video.b", Kind: FeatScore, Weight: 0},
		{Signal: "video.c", Kind: FeatMissing, Weight: 1},
	}}}}
	rm := &RuleModel{Weights: map[string]float64{"video.b": 0}}
	for _, tc := range []struct {
		w      SignalWeigher
		signal string
		want   bool
	}{
		{lm, "video.a", true},
		{lm, "video.b", false}, // no weight
		{lm, "video.c", false}, // only its missing indicator
		{lm, "video.d", false}, // not a feature
		{rm, "video.b", false}, // weight 0
		{rm, "video.x", true},  // default weight 1
	} {
		assert.Equal(t, tc.want, tc.w.Counts(tc.signal), "%T %s", tc.w, tc.signal)
	}
}
