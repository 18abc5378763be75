package evaluation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/models"
)

// scoredItems makes n audio items in groups of two (one genuine, one
// manipulated per group), with probabilities from p.
func scoredItems(n int, p func(i int, manipulated bool) float64) ([]Scored, map[string]int) {
	groups := map[string]int{}
	var out []Scored
	for i := 0; i < n; i++ {
		manip := i%2 == 1
		label := Genuine
		if manip {
			label = Manipulated
		}
		rel := fmt.Sprintf("a%d.wav", i)
		groups[rel] = i / 2
		prob := p(i, manip)
		out = append(out, Scored{
			Record: Record{Item: Item{Rel: rel, Label: label, VideoLabel: None, AudioLabel: label, Modality: "audio"}},
			Output: models.Output{Probability: prob, Modalities: map[string]models.ModalityScore{
				models.ModAudio: {Score: prob, Measured: true},
			}},
		})
	}
	return out, groups
}

func TestBootstrapAUC(t *testing.T) {
	perfect, groups := scoredItems(40, func(i int, m bool) float64 {
		if m {
			return 0.9
		}
		return 0.1
	})
	ci := BootstrapAUC(perfect, groups, 200, 1)
	assert.Equal(t, Num(1), ci.Overall.Low)
	assert.Equal(t, Num(1), ci.Overall.High)
	assert.Equal(t, Num(1), ci.Audio.Low)
	assert.True(t, math.IsNaN(float64(ci.Video.Low)), "no video items: undefined")
	assert.True(t, math.IsNaN(float64(ci.AV.High)))

	rng := rand.New(rand.NewPCG(1, 2))
	noisy, groups := scoredItems(80, func(i int, m bool) float64 {
		v := rng.Float64()
		if m {
			v += 0.3
		}
		return v
	})
	point := float64(Evaluate(noisy, nil).Overall.AUC)
	ci = BootstrapAUC(noisy, groups, 500, 7)
	assert.Less(t, float64(ci.Overall.Low), point)
	assert.Greater(t, float64(ci.Overall.High), point)
	assert.Greater(t, float64(ci.Overall.High-ci.Overall.Low), 0.1, "40 groups leave a wide interval")
	again := BootstrapAUC(noisy, groups, 500, 7)
	require.Equal(t, ci.Overall, again.Overall, "deterministic for a seed")
	require.Equal(t, ci.Audio, again.Audio)

	// One group holding everything cannot vary: the interval is the point.
	one := map[string]int{}
	for rel := range groups {
		one[rel] = 0
	}
	ci = BootstrapAUC(noisy, one, 100, 7)
	assert.InDelta(t, point, float64(ci.Overall.Low), 1e-9)
	assert.InDelta(t, point, float64(ci.Overall.High), 1e-9)
}
