package evaluation

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAUCAndEERHandComputed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scores   []float64
		positive []bool
		auc, eer float64
	}{
		{
			name:     "perfect separation",
			scores:   []float64{0.1, 0.2, 0.8, 0.9},
			positive: []bool{false, false, true, true},
			auc:      1, eer: 0,
		},
		{
			name:     "inverted",
			scores:   []float64{0.9, 0.8, 0.2, 0.1},
			positive: []bool{false, false, true, true},
			auc:      0, eer: 1,
		},
		{
			// Pairs (pos, neg): 0.8 beats 0.1, 0.4; 0.35 beats 0.1 only.
			// AUC = 3/4. ROC points (fpr, fnr): (0,1) (0,.5) (.5,.5) … the
			// crossing is at the point (0.5, 0.5).
			name:     "one swap",
			scores:   []float64{0.1, 0.4, 0.35, 0.8},
			positive: []bool{false, false, true, true},
			auc:      0.75, eer: 0.5,
		},
		{
			// All tied: AUC 0.5; the only step goes from (0,1) to (1,0),
			// crossing at 0.5.
			name:     "all tied",
			scores:   []float64{0.5, 0.5, 0.5, 0.5},
			positive: []bool{false, true, false, true},
			auc:      0.5, eer: 0.5,
		},
		{
			// neg {0.2, 0.5, 0.5}, pos {0.5, 0.9}. Pairs: 0.9 beats all 3;
			// 0.5 beats 0.2 and ties two 0.5 (2 × ½): (3 + 1 + 1) / 6 = 5/6.
			// ROC (fpr, fnr): (0,1) → 0.9: (0, .5) → 0.5 block: (2/3, 0).
			// On that segment fpr = 2s/3, fnr = .5 − .5s; equal at
			// s = 3/7, EER = 2/7.
			name:     "ties across classes",
			scores:   []float64{0.2, 0.5, 0.5, 0.5, 0.9},
			positive: []bool{false, false, false, true, true},
			auc:      5.0 / 6, eer: 2.0 / 7,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.auc, AUC(tc.scores, tc.positive), 1e-12)
			assert.InDelta(t, tc.eer, EER(tc.scores, tc.positive), 1e-12)
		})
	}
}

func TestMetricsUndefinedWithOneClass(t *testing.T) {
	s, p := []float64{0.1, 0.9}, []bool{true, true}
	assert.True(t, math.IsNaN(AUC(s, p)))
	assert.True(t, math.IsNaN(EER(s, p)))
	fpr, rec := Rates([]bool{true, false}, p)
	assert.True(t, math.IsNaN(fpr))
	assert.Equal(t, 0.5, rec)
}

func TestRates(t *testing.T) {
	flagged := []bool{true, false, false, false, true, false}
	positive := []bool{false, false, false, false, true, true}
	fpr, rec := Rates(flagged, positive)
	assert.Equal(t, 0.25, fpr)
	assert.Equal(t, 0.5, rec)
}

func TestNumJSON(t *testing.T) {
	b, err := Num(math.NaN()).MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, "null", string(b))
	b, err = Num(0.123456).MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, "0.1235", string(b))
}

func TestRepeatsSpread(t *testing.T) {
	nan := Num(math.NaN())
	r := Summarise([]RepeatRow{
		{Seed: 1, Overall: 0.6, Video: 0.5, Audio: nan, AV: 0.7, FPRAtManipulated: 0},
		{Seed: 2, Overall: 0.7, Video: 0.5, Audio: nan, AV: nan, FPRAtManipulated: 0.02},
		{Seed: 3, Overall: 0.8, Video: 0.5, Audio: nan, AV: nan, FPRAtManipulated: 0.01},
	})
	assert.InDelta(t, 0.7, float64(r.Overall.Mean), 1e-12)
	assert.InDelta(t, 0.1, float64(r.Overall.SD), 1e-12, "sample standard deviation of 0.6, 0.7, 0.8")
	assert.Equal(t, Num(0.6), r.Overall.Min)
	assert.Equal(t, Num(0.8), r.Overall.Max)
	assert.Equal(t, Num(0), r.Video.SD)
	assert.True(t, math.IsNaN(float64(r.Audio.Mean)), "every run undefined")
	assert.Equal(t, Num(0.7), r.AV.Mean, "undefined runs are left out")
	assert.Equal(t, Num(0), r.AV.SD, "one defined run")
	assert.InDelta(t, 0.01, float64(r.FPRAtManipulated.Mean), 1e-12)
	assert.Len(t, r.Runs, 3)
}

// AttachSegments gives a sample its item's live segment (matched by
// path), never a whole-recording record's features.
func TestAttachSegments(t *testing.T) {
	rec := func(rel string, live bool, face float64) Record {
		return Record{Item: Item{Rel: rel}, Live: live, Features: Features{FaceSeconds: face}}
	}
	recs := []Record{rec("a.mp4", false, 20), rec("b.mp4", false, 20), rec("train0:a.mp4", false, 20)}
	segs := []Record{rec("a.mp4", true, 8), rec("b.mp4", false, 8)}
	samples := Samples(recs, map[string]int{})
	AttachSegments(samples, recs, segs)
	require.NotNil(t, samples[0].Segment)
	assert.Equal(t, 8.0, samples[0].Segment.FaceSeconds)
	assert.True(t, samples[0].Segment.Live)
	assert.False(t, samples[0].Input.Live)
	assert.Nil(t, samples[1].Segment, "b's record is not a live segment")
	assert.Nil(t, samples[2].Segment, "a copy of a is another item")
}
