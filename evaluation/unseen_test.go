package evaluation

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/models"
)

func TestFamily(t *testing.T) {
	for kind, want := range map[string]string{
		"faceswap-ffpp-c40":          "faceswap-ffpp",
		"faceswap-ffpp":              "faceswap-ffpp",
		"sim-render-128":             "sim-render",
		"sim-swap-160":               "sim-swap-160",
		"lipsync-wav2lip-gfpgan":     "lipsync-wav2lip",
		"bandlimit-16k":              "bandlimit-16k",
		"tts-espeak":                 "tts-espeak",
		"changer-rubberband-formant": "changer-rubberband",
		"changer-rubberband":         "changer-rubberband",
		"changer-soundstretch":       "changer-soundstretch",
	} {
		assert.Equal(t, want, Family(kind), kind)
	}
}

// Two manipulations, each visible in its own signal: seen, each is
// caught; unseen, the model never learned the left-out one's signal and it
// falls to chance, while the other stays caught.
func TestUnseenKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	var recs []Record
	groups := map[string]int{}
	add := func(kind, label string, x, y float64) {
		rel := fmt.Sprintf("v%d.mp4", len(recs))
		groups[rel] = len(recs)
		sig := func(name string, v float64) models.Signal {
			return models.Signal{Name: name, Modality: models.ModVideo, Measured: true, Score: v, Confidence: 1}
		}
		recs = append(recs, Record{
			Item: Item{Rel: rel, Kind: kind, Label: label, VideoLabel: label, AudioLabel: None},
			Features: Features{Signals: []models.Signal{
				sig("video.x", x+0.1*rng.NormFloat64()), sig("video.y", y+0.1*rng.NormFloat64()),
			}, FaceSeconds: 10, HasVideo: true},
		})
	}
	for i := 0; i < 60; i++ {
		add("genuine", Genuine, 0.3, 0.3)
	}
	for i := 0; i < 30; i++ {
		add("swap-a", Manipulated, 0.8, 0.3)
		add("swap-b-c40", Manipulated, 0.3, 0.8)
	}
	opt := models.TrainOptions{Folds: 3, Iterations: 500}
	scored, errs := CrossValidated(recs, nil, true, groups, opt)
	require.Empty(t, errs)
	seen := Evaluate(scored, nil).Kinds
	unseen, errs := UnseenKinds(recs, nil, true, groups, opt)
	require.Empty(t, errs)
	require.Len(t, unseen, 2, "both manipulated kinds, not the genuine one")
	for _, k := range []string{"swap-a", "swap-b-c40"} {
		assert.Greater(t, float64(seen[k].AUC), 0.95, "%s seen", k)
		assert.Less(t, float64(unseen[k].AUC), 0.75, "%s unseen: its signal never trained", k)
		assert.Equal(t, 30, unseen[k].Manipulated)
		assert.Equal(t, 60, unseen[k].Genuine, "against every genuine item, scored out of fold")
	}
}
