package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synthetic makes n labelled items in groups of two (a genuine original and
// its manipulated copy share a group, as in the corpus). video.a separates
// the video classes, video.b is noise whose missingness goes with
// manipulation (a trap: it must not become evidence), audio.c separates the
// audio classes, and every third item has no audio stream.
func synthetic(n int, seed uint64) []Sample {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []Sample
	for i := 0; i < n; i++ {
		manip := i%2 == 1
		s := Sample{Group: i / 2, Overall: LabelGenuine, Video: LabelGenuine, Audio: LabelGenuine}
		a := clamp(0.3+0.15*rng.NormFloat64(), 0, 1)
		c := clamp(0.3+0.15*rng.NormFloat64(), 0, 1)
		videoManip := manip && i%4 == 1
		audioManip := manip && i%4 == 3
		if videoManip {
			a = clamp(0.7+0.15*rng.NormFloat64(), 0, 1)
			s.Video, s.Overall = LabelManipulated, LabelManipulated
		}
		if audioManip {
			c = clamp(0.7+0.15*rng.NormFloat64(), 0, 1)
			s.Audio, s.Overall = LabelManipulated, LabelManipulated
		}
		bMissing := rng.Float64() < 0.1
		if videoManip {
			bMissing = rng.Float64() < 0.8
		}
		s.Input.Signals = []Signal{
			{Name: "video.a", Modality: ModVideo, Measured: true, Score: a, Confidence: 1, Values: map[string]float64{"raw": 10 * a}},
			{Name: "video.b", Modality: ModVideo, Measured: !bMissing, Score: rng.Float64(), Confidence: 1},
		}
		s.Input.FaceSeconds = 8
		if i%3 == 0 && !audioManip {
			s.Audio = LabelNone
		} else {
			s.Input.Signals = append(s.Input.Signals, Signal{Name: "audio.c", Modality: ModAudio, Measured: true, Score: c, Confidence: 1})
			s.Input.SpeechSeconds = 6
		}
		out = append(out, s)
	}
	return out
}

func TestTrainIsDeterministicForASeed(t *testing.T) {
	data := synthetic(120, 1)
	opt := TrainOptions{Seed: 3, Iterations: 500}
	m1, err := Train(data, opt)
	require.NoError(t, err)
	m2, err := Train(data, opt)
	require.NoError(t, err)
	b1, err := m1.Marshal()
	require.NoError(t, err)
	b2, err := m2.Marshal()
	require.NoError(t, err)
	assert.Equal(t, string(b1), string(b2))

	o1, e1 := CrossValidate(data, opt)
	o2, e2 := CrossValidate(data, opt)
	require.Empty(t, e1)
	require.Empty(t, e2)
	for i := range o1 {
		assert.Equal(t, o1[i].Probability, o2[i].Probability)
	}
}

// Training on one set and scoring another: when the training set is an
// exact copy of the scored one (NoScore copies, NoTrain originals), every
// fold trains on the same data as plain cross-validation and scores the
// same; the copies are never scored.
func TestCrossValidateTrainOnOtherSamples(t *testing.T) {
	data := synthetic(120, 4)
	opt := TrainOptions{Seed: 5, Iterations: 500}
	plain, errs := CrossValidate(data, opt)
	require.Empty(t, errs)

	var split []Sample
	for _, s := range data {
		s.NoTrain = true
		split = append(split, s)
	}
	for _, s := range data {
		s.NoScore = true
		split = append(split, s)
	}
	out, errs := CrossValidate(split, opt)
	require.Empty(t, errs)
	for i := range data {
		assert.InDelta(t, plain[i].Probability, out[i].Probability, 1e-12, "sample %d", i)
		assert.True(t, math.IsNaN(out[len(data)+i].Probability), "copies are not scored")
		assert.Equal(t, "not scored", out[len(data)+i].VerdictReason)
	}

	// Scored samples that never train: with nothing else to train on, every
	// fold fails and says so.
	for i := range data {
		split[len(data)+i].NoTrain = true
	}
	_, errs = CrossValidate(split, opt)
	assert.NotEmpty(t, errs)
}

func TestTrainedModelConstraintsAndRoundTrip(t *testing.T) {
	m, err := Train(synthetic(160, 2), TrainOptions{Iterations: 1000, MissingIndicators: true})
	require.NoError(t, err)
	m.Name = "fusion-v0"
	require.Len(t, m.SubModels, 2, "video and audio (av has no signal)")
	for _, sm := range m.SubModels {
		for _, f := range sm.Features {
			switch f.Kind {
			case FeatScore:
				assert.GreaterOrEqual(t, f.Weight, 0.0, f.Name())
			case FeatMissing:
				assert.LessOrEqual(t, f.Weight, 0.0, "%s: a missing signal must never count as evidence", f.Name())
			}
		}
	}
	video := subModel(t, m, ModVideo)
	var wa float64
	names := map[string]bool{}
	for _, f := range video.Features {
		names[f.Name()] = true
		if f.Name() == "video.a" {
			wa = f.Weight
		}
	}
	assert.True(t, names["video.b:missing"], "video.b is sometimes missing, so it gets an indicator")
	assert.Greater(t, wa, 0.5, "the separating signal carries weight")
	assert.Greater(t, video.Evidence.A, 0.0)
	th := m.Thresholds
	assert.True(t, th.Suspicious <= th.Inconclusive && th.Inconclusive <= th.Genuine, "%+v", th)
	assert.LessOrEqual(t, th.Suspicious, 50)

	data, err := m.Marshal()
	require.NoError(t, err)
	back, err := ParseLogisticModel(data)
	require.NoError(t, err)
	assert.Equal(t, m, back)
}

func TestMissingSignalIsNotEvidence(t *testing.T) {
	m, err := Train(synthetic(160, 4), TrainOptions{Iterations: 1000, MissingIndicators: true})
	require.NoError(t, err)
	base := Input{FaceSeconds: 8, SpeechSeconds: 6, Signals: []Signal{
		{Name: "video.a", Modality: ModVideo, Measured: true, Score: 0.5, Confidence: 1},
		{Name: "video.b", Modality: ModVideo, Measured: true, Score: 0.5, Confidence: 1},
		{Name: "audio.c", Modality: ModAudio, Measured: true, Score: 0.3, Confidence: 1},
	}}
	measured := m.Score(base)
	missing := base
	missing.Signals = append([]Signal(nil), base.Signals...)
	missing.Signals[1] = Signal{Name: "video.b", Modality: ModVideo}
	gone := m.Score(missing)
	assert.LessOrEqual(t, gone.Modalities[ModVideo].Score, measured.Modalities[ModVideo].Score+1e-9,
		"video.b missing must not raise the video score, although it went with manipulation in training")

	// A whole stream missing: the other modality alone decides.
	audioOnly := Input{SpeechSeconds: 6, Signals: []Signal{
		{Name: "audio.c", Modality: ModAudio, Measured: true, Score: 0.3, Confidence: 1},
		{Name: "video.a", Modality: ModVideo},
		{Name: "video.b", Modality: ModVideo},
	}}
	out := m.Score(audioOnly)
	assert.False(t, out.Modalities[ModVideo].Measured)
	assert.True(t, out.Modalities[ModAudio].Measured)
	assert.InDelta(t, out.Modalities[ModAudio].Score, out.Probability, 1e-12)

	// Nothing measured: no score at all.
	none := m.Score(Input{Signals: []Signal{{Name: "video.a", Modality: ModVideo}}})
	assert.True(t, math.IsNaN(none.Probability))
	assert.Nil(t, none.Authenticity)
	assert.Equal(t, Inconclusive, none.Verdict)
}

func TestScoreContributions(t *testing.T) {
	m, err := Train(synthetic(160, 5), TrainOptions{Iterations: 1000})
	require.NoError(t, err)
	in := Input{FaceSeconds: 8, SpeechSeconds: 6, Signals: []Signal{
		{Name: "video.a", Modality: ModVideo, Measured: true, Score: 0.95, Confidence: 1},
		{Name: "video.b", Modality: ModVideo, Measured: true, Score: 0.5, Confidence: 1},
		{Name: "audio.c", Modality: ModAudio, Measured: true, Score: 0.2, Confidence: 1},
		{Name: "video.new", Modality: ModVideo, Measured: true, Score: 1, Confidence: 1},
	}}
	out := m.Score(in)
	require.NotNil(t, out.Authenticity)
	require.NotEmpty(t, out.Contributions)
	byName := map[string]float64{}
	for _, c := range out.Contributions {
		byName[c.Signal] = c.Points
	}
	assert.Equal(t, "video.a", out.Contributions[0].Signal, "the strongest evidence comes first")
	assert.Less(t, byName["video.a"], -5.0, "a manipulated-looking score pulls authenticity down")
	assert.Equal(t, 0.0, byName["video.new"], "a signal the model does not know has no effect")
	assert.Equal(t, 0.0, byName["audio.c"], "the audio stream does not decide this interview")
	assert.Equal(t, Manipulated, out.Modalities[ModVideo].Verdict)
	// The video signals' points add up to the departure from a typical
	// recording (all signals at their means).
	video := subModel(t, m, ModVideo)
	p0 := m.Combine.Prob(video.Evidence.Map(video.Bias))
	assert.InDelta(t, -100*(out.Probability-p0), byName["video.a"]+byName["video.b"], 0.15)
	assert.NotEmpty(t, out.Modalities[ModAudio].Verdict)

	// By default confidence does not change the score (it grows with clip
	// length); with UseConfidence a low confidence shrinks a signal towards
	// its typical value.
	low := in
	low.Signals = append([]Signal(nil), in.Signals...)
	low.Signals[0].Confidence = 0.1
	assert.Equal(t, out.Probability, m.Score(low).Probability)
	mc, err := Train(synthetic(160, 5), TrainOptions{Iterations: 1000, UseConfidence: true})
	require.NoError(t, err)
	assert.Less(t, mc.Score(low).Probability, mc.Score(in).Probability)
}

func TestGroupFolds(t *testing.T) {
	groups := []int{0, 0, 0, 1, 2, 2, 3, 4, 4, 4, 4, 5, 6, 7, 8, 9}
	f1 := GroupFolds(groups, 4, 9)
	assert.Equal(t, f1, GroupFolds(groups, 4, 9), "deterministic for a seed")
	foldOf := map[int]int{}
	load := make([]int, 4)
	for i, g := range groups {
		if f, ok := foldOf[g]; ok {
			assert.Equal(t, f, f1[i], "group %d split across folds", g)
		}
		foldOf[g] = f1[i]
		load[f1[i]]++
	}
	for _, l := range load {
		assert.InDelta(t, 4, l, 1, "folds are balanced: %v", load)
	}
	assert.Equal(t, []int{0, 0, 0}, GroupFolds([]int{5, 5, 5}, 3, 1), "fewer groups than folds")
}

func TestTrainNeedsBothClasses(t *testing.T) {
	data := synthetic(40, 6)
	for i := range data {
		data[i].Overall, data[i].Video = LabelGenuine, LabelGenuine
		if data[i].Audio != LabelNone {
			data[i].Audio = LabelGenuine
		}
	}
	_, err := Train(data, TrainOptions{Iterations: 100})
	assert.ErrorIs(t, err, ErrNoTrainingData)
}

func TestParseLogisticModelRejectsBadFiles(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"not json", "{"},
		{"wrong format", `{"format":"x","submodels":[{"modality":"video"}]}`},
		{"no submodel", `{"format":"bonafide.fusion/v1","submodels":[]}`},
		{"positive missing weight", `{"format":"bonafide.fusion/v1","thresholds":{"genuine":70,"inconclusive":45,"suspicious":25},"submodels":[{"modality":"video","features":[{"signal":"s","kind":"missing","scale":1,"weight":0.5}]}]}`},
		{"unordered thresholds", `{"format":"bonafide.fusion/v1","thresholds":{"genuine":20,"inconclusive":45,"suspicious":25},"submodels":[{"modality":"video"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLogisticModel([]byte(tc.body))
			assert.ErrorIs(t, err, ErrBadWeights)
		})
	}
}

func TestFitLogisticMatchesKnownOptimum(t *testing.T) {
	// One feature, symmetric data: x = ±1 with labels 1/0 on 3 of 4 items
	// each side. The unpenalised optimum has b = 0 and σ(w) = 3/4, so
	// w = ln 3.
	X := [][]float64{{1}, {1}, {1}, {1}, {-1}, {-1}, {-1}, {-1}}
	y := []float64{1, 1, 1, 0, 0, 0, 0, 1}
	inf := math.Inf(1)
	w, b := fitLogistic(X, y, 0, []float64{-inf}, []float64{inf}, 5000)
	assert.InDelta(t, math.Log(3), w[0], 1e-6)
	assert.InDelta(t, 0, b, 1e-6)
	// The constraint w ≤ 0 pins it to zero.
	w, _ = fitLogistic(X, y, 0, []float64{-inf}, []float64{0}, 500)
	assert.Equal(t, 0.0, w[0])
}

func TestInformative(t *testing.T) {
	m, err := Train(synthetic(120, 8), TrainOptions{Iterations: 500})
	require.NoError(t, err)
	assert.True(t, m.Informative())
	flat := &LogisticModel{Combine: Platt{A: 1}, SubModels: []SubModel{{Modality: ModVideo, Evidence: Platt{A: 1},
		Features: []Feature{{Signal: "s", Kind: FeatScore, Scale: 1}, {Signal: "s", Kind: FeatMissing, Scale: 1, Weight: -1}}}}}
	assert.False(t, flat.Informative(), "only a missing indicator carries weight")
}

// The dev corpus's trap: signals go unmeasured far more often on genuine
// recordings (short or noisy real-world clips) than on generated fakes. By
// default a missing signal is imputed at its training mean, so hiding from
// a detector scores exactly like an average measurement; only with
// MissingIndicators does the model learn that missing means genuine.
func TestMissingSignalIsNeutralByDefault(t *testing.T) {
	data := synthetic(200, 6)
	rng := rand.New(rand.NewPCG(6, 9))
	for i := range data {
		missing := rng.Float64() < 0.05
		if data[i].Video == LabelGenuine {
			missing = rng.Float64() < 0.7
		}
		data[i].Input.Signals[1].Measured = !missing
	}
	input := func(bMeasured bool, b float64) Input {
		return Input{FaceSeconds: 8, Signals: []Signal{
			{Name: "video.a", Modality: ModVideo, Measured: true, Score: 0.5, Confidence: 1},
			{Name: "video.b", Modality: ModVideo, Measured: bMeasured, Score: b, Confidence: 1},
		}}
	}
	tests := []struct {
		name       string
		indicators bool
	}{{"default", false}, {"with indicators", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Train(data, TrainOptions{Iterations: 1000, MissingIndicators: tc.indicators})
			require.NoError(t, err)
			video := subModel(t, m, ModVideo)
			var mean float64
			indicator := false
			for _, f := range video.Features {
				if f.Signal == "video.b" && f.Kind == FeatScore {
					mean = f.Mean
				}
				indicator = indicator || f.Kind == FeatMissing
			}
			assert.Equal(t, tc.indicators, indicator)
			hidden := m.Score(input(false, 0)).Modalities[ModVideo].Score
			average := m.Score(input(true, mean)).Modalities[ModVideo].Score
			if tc.indicators {
				assert.Less(t, hidden, average-0.01, "the learned indicator rewards a missing signal")
			} else {
				assert.InDelta(t, average, hidden, 1e-9, "a missing signal scores like an average one")
			}
		})
	}
}

func TestTrainSignalsOption(t *testing.T) {
	m, err := Train(synthetic(160, 8), TrainOptions{Iterations: 500, Signals: []string{"video.a", "audio.c"}})
	require.NoError(t, err)
	for _, sm := range m.SubModels {
		for _, f := range sm.Features {
			assert.NotEqual(t, "video.b", f.Signal, "video.b was not selected")
		}
	}
	_, err = Train(synthetic(160, 8), TrainOptions{Iterations: 500, Signals: []string{"video.nothing"}})
	assert.ErrorIs(t, err, ErrNoTrainingData)
}

// subModel returns m's sub-model of modality mod; the test fails without one.
func subModel(t *testing.T, m *LogisticModel, mod string) *SubModel {
	t.Helper()
	for i := range m.SubModels {
		if m.SubModels[i].Modality == mod {
			return &m.SubModels[i]
		}
	}
	t.Fatalf("no %s sub-model", mod)
	return nil
}

func TestRecipeOfOlderWeights(t *testing.T) {
	data := synthetic(160, 10)
	with, err := Train(data, TrainOptions{Iterations: 300, MissingIndicators: true})
	require.NoError(t, err)
	without, err := Train(data, TrainOptions{Iterations: 300})
	require.NoError(t, err)
	assert.True(t, with.Recipe().MissingIndicators)
	assert.False(t, without.Recipe().MissingIndicators)
	// A weights file from before the option: indicator features, no flag.
	old := *with
	old.Options.MissingIndicators = false
	assert.True(t, old.Recipe().MissingIndicators, "its indicator features tell the recipe")
}

// With live segments (here: the same items with noisier scores, as a
// shorter stretch gives), Train chooses live thresholds on the segments'
// out-of-fold scores; they hold a noisier genuine segment to the same
// false-positive rates, so they sit lower than the whole-recording ones,
// and Score uses them only for Input.Live. Without segments there are none.
func TestLiveThresholds(t *testing.T) {
	samples := synthetic(200, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range samples {
		seg := samples[i].Input
		seg.Live = true
		seg.Signals = append([]Signal(nil), seg.Signals...)
		for j := range seg.Signals {
			seg.Signals[j].Score = clamp(seg.Signals[j].Score+0.25*rng.NormFloat64(), 0, 1)
		}
		samples[i].Segment = &seg
	}
	opt := TrainOptions{Iterations: 1000, TargetFPR: 0.05}
	m, err := Train(samples, opt)
	require.NoError(t, err)
	require.NotNil(t, m.LiveThresholds)
	live, whole := *m.LiveThresholds, m.Thresholds
	assert.True(t, live.Suspicious <= live.Inconclusive && live.Inconclusive <= live.Genuine, "%+v", live)
	assert.Less(t, live.Genuine, whole.Genuine, "noisier genuine segments need a lower bar for 'genuine'")
	assert.LessOrEqual(t, live.Suspicious, whole.Suspicious)
	require.NoError(t, m.Validate())

	// The same input gets the live verdict only as a live segment.
	var in Input
	found := false
	for _, s := range samples {
		out := m.Score(s.Input)
		if out.Authenticity == nil {
			continue
		}
		if a := *out.Authenticity; a >= live.Genuine && a < whole.Genuine {
			in, found = s.Input, true
			break
		}
	}
	require.True(t, found, "some item scores between the two 'genuine' bars")
	assert.NotEqual(t, Genuine, m.Score(in).Verdict)
	in.Live = true
	assert.Equal(t, Genuine, m.Score(in).Verdict)

	data, err := m.Marshal()
	require.NoError(t, err)
	back, err := ParseLogisticModel(data)
	require.NoError(t, err)
	assert.Equal(t, m.LiveThresholds, back.LiveThresholds)
	bad := *m
	bad.LiveThresholds = &Thresholds{Genuine: 10, Inconclusive: 40, Suspicious: 20}
	require.ErrorIs(t, bad.Validate(), ErrBadWeights)

	for i := range samples {
		samples[i].Segment = nil
	}
	m, err = Train(samples, opt)
	require.NoError(t, err)
	assert.Nil(t, m.LiveThresholds)
	in.Live = true
	assert.Equal(t, m.Score(in).Verdict, m.Score(Input{Signals: in.Signals, FaceSeconds: in.FaceSeconds, SpeechSeconds: in.SpeechSeconds}).Verdict,
		"without live thresholds a live segment is judged like a recording")
}

// With CentreOnGenuine, a signal that could not be measured counts as a
// typical genuine reading of it; with the default (the mean of all items),
// it counts as an average reading, which is more manipulated-looking than
// a typical genuine one when the signal separates the classes.
func TestCentreOnGenuine(t *testing.T) {
	data := synthetic(200, 8)
	rng := rand.New(rand.NewPCG(8, 3))
	var genuineB []float64
	for i := range data {
		a := data[i].Input.Signals[0].Score
		b := clamp(a+0.1*rng.NormFloat64(), 0, 1) // informative, like video.a
		data[i].Input.Signals[1].Score = b
		data[i].Input.Signals[1].Measured = rng.Float64() < 0.8
		if data[i].Input.Signals[1].Measured && data[i].Video == LabelGenuine {
			genuineB = append(genuineB, b)
		}
	}
	input := func(bMeasured bool, b float64) Input {
		return Input{FaceSeconds: 8, Signals: []Signal{
			{Name: "video.a", Modality: ModVideo, Measured: true, Score: 0.5, Confidence: 1},
			{Name: "video.b", Modality: ModVideo, Measured: bMeasured, Score: b, Confidence: 1},
		}}
	}
	typical := median(genuineB)
	for _, centre := range []bool{false, true} {
		m, err := Train(data, TrainOptions{Iterations: 1000, CentreOnGenuine: centre})
		require.NoError(t, err)
		var fb Feature
		for _, f := range subModel(t, m, ModVideo).Features {
			if f.Signal == "video.b" {
				fb = f
			}
		}
		require.Greater(t, fb.Weight, 0.1, "premise: video.b separates the classes")
		hidden := m.Score(input(false, 0)).Modalities[ModVideo].Score
		genuineLike := m.Score(input(true, typical)).Modalities[ModVideo].Score
		if centre {
			assert.InDelta(t, typical, fb.Mean, 1e-12, "centred on the genuine median")
			assert.InDelta(t, genuineLike, hidden, 1e-9, "a missing signal scores like a typical genuine reading")
		} else {
			assert.Greater(t, fb.Mean, typical+0.05, "premise: the mean of all items lies above the genuine median")
			assert.Greater(t, hidden, genuineLike+0.01, "mean imputation: a missing signal looks more manipulated than a typical genuine reading")
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), tc.in...)
		assert.Equal(t, tc.want, median(in))
		assert.Equal(t, tc.in, in, "median must not reorder its input")
	}
}
