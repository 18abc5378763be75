package detectors

import (
	"image"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/media"
)

// lsSyllables is a syllable-like mouth opening signal: phrases of 1.5–3 s
// with a syllable every 0.18–0.32 s, separated by 0.4–0.8 s pauses.
type lsSyllables struct {
	at  []float64 // syllable centres, s
	amp []float64
}

func newLSSyllables(seed uint64, dur float64) lsSyllables {
	rng := rand.New(rand.NewPCG(seed, 7))
	var s lsSyllables
	t := -3 * rng.Float64() // already talking at time 0
	for t < dur {
		end := t + 1.5 + 1.5*rng.Float64()
		for t < end && t < dur {
			s.at = append(s.at, t)
			s.amp = append(s.amp, 0.4+0.6*rng.Float64())
			t += 0.18 + 0.14*rng.Float64()
		}
		t += 0.4 + 0.4*rng.Float64()
	}
	return s
}

// open returns the opening in [0, 1] at time t: raised-cosine bumps 0.2 s wide.
func (s lsSyllables) open(t float64) float64 {
	var v float64
	for i, c := range s.at {
		if d := math.Abs(t - c); d < 0.1 {
			v = math.Max(v, s.amp[i]*0.5*(1+math.Cos(math.Pi*d/0.1)))
		}
	}
	return v
}

// lsSynth describes a synthetic recording.
type lsSynth struct {
	start    float64 // first frame / sample time, s
	dur      float64
	fps      float64
	faceSize int     // face box side, px; 0 = no face
	delay    float64 // audio delay relative to natural sync, s
	// delayUntil, when above 0, ends the delay there: the voice is in
	// natural sync from then on.
	delayUntil float64
	otherSeed  uint64 // when non-zero, the voice follows another mouth
	silent     bool   // audio is digital silence
	noVideo    bool
	noAudio    bool
	// stillMouth keeps the mouth half open and still while the voice
	// speaks (a covered mouth, or a "face" that is not the speaker's).
	stillMouth bool
	// listening, when above 0, is the share of every 15 s in which another
	// person (the interviewer) speaks while the face listens, mouth
	// closed: the last listening·15 s of each 15 s.
	listening float64
}

// lsTurn is the length of one exchange of a synthetic conversation.
const lsTurn = 15.0

// lsTurns keeps the syllables of s inside the interviewer's turns (their
// true) or outside them (false).
func lsTurns(s lsSyllables, listening float64, theirs bool) lsSyllables {
	var out lsSyllables
	for i, c := range s.at {
		if (math.Mod(c, lsTurn) >= lsTurn*(1-listening)) == theirs {
			out.at = append(out.at, c)
			out.amp = append(out.amp, s.amp[i])
		}
	}
	return out
}

// feedLS runs the synthetic recording through d the way the pipeline does:
// video frames from one goroutine and 16-kHz audio chunks from another.
func feedLS(t testing.TB, d *LipSync, s lsSynth) {
	t.Helper()
	if s.fps == 0 {
		s.fps = 10
	}
	mouth := newLSSyllables(1, s.start+s.dur)
	voice := mouth
	if s.otherSeed != 0 {
		voice = newLSSyllables(s.otherSeed, s.start+s.dur)
	}
	if s.listening > 0 {
		mouth = lsTurns(mouth, s.listening, false)
		voice = lsTurns(voice, s.listening, false)
		other := lsTurns(newLSSyllables(99, s.start+s.dur), s.listening, true)
		voice.at = append(voice.at, other.at...)
		voice.amp = append(voice.amp, other.amp...)
	}
	var wg sync.WaitGroup
	var verr, aerr error
	if !s.noVideo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verr = feedLSVideo(d, s, mouth)
		}()
	}
	if !s.noAudio {
		wg.Add(1)
		go func() {
			defer wg.Done()
			aerr = feedLSAudio(d, s, voice)
		}()
	}
	wg.Wait()
	require.NoError(t, verr)
	require.NoError(t, aerr)
}

func feedLSVideo(d *LipSync, s lsSynth, mouth lsSyllables) error {
	const w, h = 200, 200
	rng := rand.New(rand.NewPCG(3, 3))
	base := make([]byte, w*h)
	for i := range base {
		base[i] = byte(130 + rng.IntN(30))
	}
	face := image.Rect(40, 30, 40+s.faceSize, 30+s.faceSize)
	m := Sub(face, RegionMouth, image.Rect(0, 0, w, h))
	cx, cy := float64(m.Min.X+m.Max.X)/2, float64(m.Min.Y+m.Max.Y)/2
	ax := float64(m.Dx()) * 0.4
	buf := make([]byte, w*h)
	n := int(s.dur * s.fps)
	for i := 0; i < n; i++ {
		tm := s.start + float64(i)/s.fps
		open := mouth.open(tm)
		if s.stillMouth {
			open = 0.5
		}
		ay := 1 + float64(m.Dy())*0.4*open
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := int(base[y*w+x]) + rng.IntN(7) - 3
				dx, dy := (float64(x)-cx)/ax, (float64(y)-cy)/ay
				if s.faceSize > 0 && dx*dx+dy*dy <= 1 {
					v = 40 + rng.IntN(7)
				}
				buf[y*w+x] = byte(v)
			}
		}
		gray, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8U, buf)
		if err != nil {
			return err
		}
		f := &VideoFrame{Index: i, Time: tm, Image: gray, Gray: gray, FPS: s.fps}
		if s.faceSize > 0 {
			f.Faces = []Face{{Rect: face, TrackID: 1, Detected: true}}
		}
		err = d.Observe(f)
		gray.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func feedLSAudio(d *LipSync, s lsSynth, voice lsSyllables) error {
	rng := rand.New(rand.NewPCG(5, 5))
	const chunk = media.VoiceRate / 10
	n := int(s.dur * media.VoiceRate)
	samples := make([]float32, chunk)
	first := int(math.Round(s.start * media.VoiceRate))
	for start := first; start < first+n; start += chunk {
		for i := range samples {
			tm := float64(start+i) / media.VoiceRate
			delay := s.delay
			if s.delayUntil > 0 && tm >= s.delayUntil {
				delay = 0
			}
			a := 0.003 + 0.3*voice.open(tm-lsLead-delay)
			if s.silent {
				a = 0
			}
			samples[i] = float32(a * rng.NormFloat64())
		}
		c := media.Chunk{Start: time.Duration(float64(start) / media.VoiceRate * float64(time.Second)), Rate: media.VoiceRate, Samples: samples}
		if err := d.ObserveAudio(c); err != nil {
			return err
		}
	}
	return nil
}

func runLSSynth(t testing.TB, s lsSynth) Result {
	t.Helper()
	d := NewLipSync()
	defer func() { require.NoError(t, d.Close()) }()
	feedLS(t, d, s)
	return d.Finish()
}

func TestLipSyncSyntheticDelay(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delay     float64
		wantScore func(float64) bool
		wantWords string
	}{
		{"in sync", 0, func(s float64) bool { return s < 0.2 }, "match the voice"},
		{"voice 120 ms late (call tolerance)", 0.12, func(s float64) bool { return s < 0.2 }, "match the voice"},
		{"voice 300 ms late", 0.30, func(s float64) bool { return s > 0.8 }, "voice processing latency"},
		{"voice 200 ms early", -0.20, func(s float64) bool { return s < 0.5 }, ""},
		{"voice 350 ms early", -0.35, func(s float64) bool { return s > 0.8 }, "a real-time face swap delays the picture"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runLSSynth(t, lsSynth{dur: 12, faceSize: 120, delay: tc.delay})
			require.True(t, r.Measured(), r.NotMeasurable)
			sum := r.Summary
			assert.InDelta(t, tc.delay*1000, findingValue(t, sum, "audio_delay"), 40, "measured delay")
			assert.Greater(t, findingValue(t, sum, "sync_evidence_z"), 3.0)
			assert.True(t, tc.wantScore(sum.Score), "score %.3f", sum.Score)
			assert.Contains(t, sum.Explanation, tc.wantWords)
			if math.Abs(tc.delay) > 0.25 {
				// A recording saved out of step does the same.
				assert.Contains(t, sum.Explanation, "check whether the whole recording is out of sync")
			}
			assert.Equal(t, AV, sum.Modality)
			assert.Equal(t, LipSyncSignal, r.Signal)
			require.Len(t, r.Windows, 2, "10-s windows every 5 s over 12 s")
			for _, w := range r.Windows {
				assert.InDelta(t, tc.delay*1000, findingValue(t, &w, "audio_delay"), 40, "window %.0f–%.0f s", w.Start, w.End)
				assert.Less(t, w.Start, w.End)
			}
		})
	}
}

// TestLipSyncSyntheticOtherVoice gives the face a voice that follows
// another mouth (same syllable statistics, independent timing): over a
// minute of speech the best correlation stays at chance level and the
// detector says the audio does not belong to the face. The score weighs
// the strength of the sync at 10 s of speech however long the recording
// (lsEvidenceSpeech), so a minute of chance level scores about 0.7, as
// 10 s of it does. (On 10-s clips the chance level of such quasi-rhythmic
// signals is wide, so single short clips are only weak evidence; the
// confidence says so.)
func TestLipSyncSyntheticOtherVoice(t *testing.T) {
	for _, seed := range []uint64{11, 12, 13, 14} {
		r := runLSSynth(t, lsSynth{dur: 60, faceSize: 120, otherSeed: seed})
		require.True(t, r.Measured(), r.NotMeasurable)
		sum := r.Summary
		z := findingValue(t, sum, "sync_evidence_z")
		assert.Less(t, z, 1.5, "seed %d: no alignment beats chance clearly", seed)
		assert.Less(t, findingValue(t, sum, "sync_correlation"), 0.15, "seed %d", seed)
		assert.Greater(t, sum.Score, 0.6, "seed %d: z %.2f", seed, z)
		assert.Contains(t, sum.Explanation, "may not belong to this face")
		assert.Greater(t, sum.Confidence, 0.9)
	}
	// The matching voice over the same minute: far above chance.
	r := runLSSynth(t, lsSynth{dur: 60, faceSize: 120})
	require.True(t, r.Measured(), r.NotMeasurable)
	assert.Greater(t, findingValue(t, r.Summary, "sync_evidence_z"), 5.0)
	assert.Greater(t, findingValue(t, r.Summary, "sync_correlation"), 0.5)
	assert.Less(t, r.Summary.Score, 0.05)
	assert.Zero(t, findingValue(t, r.Summary, "windows_mouth_still"))
	assert.NotContains(t, r.Summary.Explanation, "another person")
}

// TestLipSyncConversation: the recording of an interview carries the
// interviewer's voice too, while the candidate's face listens with the
// mouth still. Lip sync leaves out the windows in which the mouth hardly
// moves while the voice speaks and measures the rest. Before, the mouth
// gate took the median change over the whole recording, so a candidate
// who listened a third of the time or more made lip sync "not measured";
// a foreign voice in the candidate's turns is still found.
func TestLipSyncConversation(t *testing.T) {
	for _, listening := range []float64{1.0 / 3, 0.5} {
		r := runLSSynth(t, lsSynth{dur: 90, faceSize: 120, listening: listening})
		require.True(t, r.Measured(), "listening %.2f: %s", listening, r.NotMeasurable)
		sum := r.Summary
		assert.Greater(t, findingValue(t, sum, "sync_evidence_z"), 5.0, "listening %.2f", listening)
		assert.Less(t, sum.Score, 0.05, "listening %.2f", listening)
		assert.GreaterOrEqual(t, findingValue(t, sum, "mouth_motion"), lsMinMouthMotion, "the listening windows are left out")
		assert.Positive(t, findingValue(t, sum, "windows_mouth_still"))
		assert.Contains(t, sum.Explanation, "another person speaking, as the interviewer", "and the report says so")

		r = runLSSynth(t, lsSynth{dur: 90, faceSize: 120, listening: listening, otherSeed: 12})
		require.True(t, r.Measured(), "listening %.2f, foreign voice: %s", listening, r.NotMeasurable)
		assert.Greater(t, r.Summary.Score, 0.5, "listening %.2f, foreign voice", listening)
		assert.Contains(t, r.Summary.Explanation, "may not belong to this face")
	}
}

func TestLipSyncNotMeasurable(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    lsSynth
		want string
	}{
		{"no face", lsSynth{dur: 12, faceSize: 0}, "no frontal face"},
		{"face too small", lsSynth{dur: 12, faceSize: 60}, "too small"},
		{"no speech", lsSynth{dur: 12, faceSize: 120, silent: true}, "too little speech"},
		{"too short", lsSynth{dur: 3.5, faceSize: 120}, "too little speech"},
		{"audio only", lsSynth{dur: 12, faceSize: 120, noVideo: true}, "no video"},
		{"video only", lsSynth{dur: 12, faceSize: 120, noAudio: true}, "no audio"},
		{"2 fps", lsSynth{dur: 12, fps: 2, faceSize: 120}, "frames per second"},
		{"mouth still while the voice speaks", lsSynth{dur: 30, faceSize: 120, stillMouth: true}, "hardly changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runLSSynth(t, tc.s)
			assert.False(t, r.Measured())
			assert.Nil(t, r.Summary)
			assert.Contains(t, r.NotMeasurable, tc.want)
			assert.Equal(t, LipSyncSignal, r.Signal)
		})
	}
}

func TestLipSyncScoreMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		e      lsEstimate
		speech float64
		lo, hi float64
		reason string
	}{
		{"clear peak in sync", lsEstimate{lag: 0.02, z: 4}, 6, 0, 0.05, "sync"},
		{"clear peak, call offset", lsEstimate{lag: 0.10, z: 4}, 6, 0, 0.05, "sync"},
		{"clear peak, 300 ms late", lsEstimate{lag: 0.30, z: 4, replication: 3}, 6, 0.9, 1, "delay"},
		{"clear peak, 300 ms early", lsEstimate{lag: -0.30, z: 4, replication: 3}, 6, 0.9, 1, "delay"},
		// A delay that one half of the frames places at natural sync is a
		// side peak that won by chance, not evidence (lsReplMid).
		{"clear peak, 300 ms late, one half prefers natural sync", lsEstimate{lag: 0.30, z: 4, replication: -0.5}, 6, 0, 0.05, "unreplicated"},
		{"clear peak, 300 ms late, halves agree but not by a chance spread", lsEstimate{lag: 0.30, z: 4, replication: 0.9}, 6, 0.3, 0.5, "unreplicated"},
		{"clear peak, 300 ms late, halves agree by a chance spread", lsEstimate{lag: 0.30, z: 4, replication: lsReplMid}, 6, 0.4, 0.55, "sync"},
		{"late peak at range edge", lsEstimate{lag: 0.5, z: 4, edge: true}, 6, 0, 0.05, "sync"},
		{"chance level, short clip", lsEstimate{lag: 0.3, z: 0}, 6, 0.45, 0.55, "mismatch"},
		{"below chance, short clip", lsEstimate{lag: 0.0, z: -1.5}, 6, 0.8, 1, "mismatch"},
		{"weak peak, short clip", lsEstimate{lag: 0.1, z: 1.0}, 6, 0.1, 0.35, "sync"},
		// Beyond 10 s of speech only the strength of the sync counts: a
		// chance level that scored 0.99 over a minute scores as over 10 s.
		{"chance level, a minute", lsEstimate{lag: 0.1, z: 0.3}, 60, 0.6, 0.75, "mismatch"},
		{"clear peak, a minute", lsEstimate{lag: 0.1, z: 6}, 60, 0, 0.1, "sync"},
		{"clear peak, 300 ms late, a minute", lsEstimate{lag: 0.30, z: 9, replication: 6}, 60, 0.9, 1, "delay"},
		// The replication margin is scaled to 10 s of speech like z.
		{"clear peak, 300 ms late, a minute, weakly replicated", lsEstimate{lag: 0.30, z: 9, replication: 2}, 60, 0.2, 0.45, "unreplicated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, reason := scoreLipSync(tc.e, tc.speech)
			assert.GreaterOrEqual(t, s, tc.lo)
			assert.LessOrEqual(t, s, tc.hi)
			assert.Equal(t, tc.reason, reason)
		})
	}
	// The same sync strength (z growing with √speech) scores the same over
	// 10 s, a minute and an hour.
	for _, k := range []float64{0, 0.3, 1} {
		s10, _ := scoreLipSync(lsEstimate{lag: 0.05, z: k * math.Sqrt(10)}, 10)
		for _, speech := range []float64{60, 3600} {
			s, _ := scoreLipSync(lsEstimate{lag: 0.05, z: k * math.Sqrt(speech)}, speech)
			assert.InDelta(t, s10, s, 1e-9, "strength %.1f over %.0f s", k, speech)
		}
	}
	// Monotonic in z for a fixed lag, and in |lag| for a trusted peak.
	prev := 2.0
	for z := -3.0; z <= 6; z += 0.25 {
		s, _ := scoreLipSync(lsEstimate{lag: 0.05, z: z}, 10)
		assert.LessOrEqual(t, s, prev+0.005, "z %.2f", z)
		prev = s
	}
	prev = -1
	for lag := 0.0; lag <= 0.5; lag += 0.01 {
		s, _ := scoreLipSync(lsEstimate{lag: lag, z: 5, replication: 3}, 10)
		assert.GreaterOrEqual(t, s, prev-1e-12, "lag %.2f", lag)
		prev = s
	}
}

// TestLipSyncReplication: a best peak 300 ms from natural sync counts as
// a delay only when each half of the frames on its own prefers it to
// natural sync.
func TestLipSyncReplication(t *testing.T) {
	bump := func(at, height float64) []float64 {
		c := make([]float64, lsNumLags)
		for i := range c {
			d := (lsLagMin + float64(i)*lsLagStep - at) / 0.06
			c[i] = height * math.Exp(-d*d/2)
		}
		return c
	}
	add := func(a, b []float64) []float64 {
		out := make([]float64, len(a))
		for i := range a {
			out[i] = a[i] + b[i]
		}
		return out
	}
	var surr [][]float64
	for k := range 16 {
		// Chance peaks of 0.1 ± 0.05.
		surr = append(surr, bump(-0.3+0.04*float64(k), 0.1+0.05*math.Sin(float64(k))))
	}
	late, sync := bump(0.3, 0.6), bump(0, 0.45)
	for _, tc := range []struct {
		name       string
		half       [2][]float64
		lo, hi     float64
		wantReason string
	}{
		{"both halves late", [2][]float64{add(late, sync), add(late, sync)}, 2, 5, "delay"},
		{"second half at natural sync", [2][]float64{add(late, bump(0, 0.2)), add(bump(0.3, 0.3), bump(0, 0.6))}, -10, -1, "unreplicated"},
		{"no halves", [2][]float64{}, 0, 0, "unreplicated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := lsEvaluate(add(late, sync), tc.half, surr)
			assert.InDelta(t, 0.3, e.lag, 0.02)
			assert.Greater(t, e.z, 4.0)
			assert.GreaterOrEqual(t, e.replication, tc.lo)
			assert.LessOrEqual(t, e.replication, tc.hi)
			_, reason := scoreLipSync(e, 6)
			assert.Equal(t, tc.wantReason, reason)
		})
	}
}

// TestLipSyncReplicationPipeline runs the halves through the detector: a
// voice 300 ms late in the first half of a 10-s recording and in sync in
// the second wins the whole curve at about +280 ms with z ≈ 5, but one
// half places it at natural sync, so it is not a delay (it scored about
// 0.9 before the halves were asked). Over 30 s the same switch is not
// taken for a delay either, while a steady 300-ms delay over 30 s (five
// windows, pooled halves) still is.
func TestLipSyncReplicationPipeline(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         lsSynth
		wantDelay bool
	}{
		{"10 s, late then in sync", lsSynth{dur: 10, faceSize: 120, delay: 0.3, delayUntil: 5}, false},
		{"30 s, late then in sync", lsSynth{dur: 30, faceSize: 120, delay: 0.3, delayUntil: 15}, false},
		{"30 s, late throughout", lsSynth{dur: 30, faceSize: 120, delay: 0.3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runLSSynth(t, tc.s)
			require.True(t, r.Measured(), r.NotMeasurable)
			sum := r.Summary
			if tc.wantDelay {
				assert.Greater(t, sum.Score, 0.8)
				assert.Contains(t, sum.Explanation, "voice processing latency")
				assert.Greater(t, findingValue(t, sum, "delay_replication_z"), lsReplMid+1)
				return
			}
			assert.Less(t, sum.Score, 0.5, "delay %.0f ms, z %.2f", findingValue(t, sum, "audio_delay"), findingValue(t, sum, "sync_evidence_z"))
			assert.NotContains(t, sum.Explanation, "steady delay")
			if math.Abs(findingValue(t, sum, "audio_delay")) > lsDelayMid*1000 {
				assert.Less(t, findingValue(t, sum, "delay_replication_z"), lsReplMid)
			}
		})
	}
}

// TestLipSyncHalfPools: window k's first half goes to pool k mod 2 and its
// second half to pool (k+1) mod 2, so that with windows every 5 s each
// pool holds alternate 5-s blocks and the pools never share a block (the
// second half of window k is the first half of window k+1).
func TestLipSyncHalfPools(t *testing.T) {
	var a lsAccum
	for k := range 4 {
		// Each half's "curve" is 10^b for the 5-s block b it covers, so
		// that a pool's sum says which blocks went into it.
		block := func(b int) []float64 {
			c := make([]float64, 3)
			for i := range c {
				c[i] = math.Pow(10, float64(b))
			}
			return c
		}
		a.add(lsWindowResult{index: k, weight: 2, curve: make([]float64, 3),
			half: [2][]float64{block(k), block(k + 1)}, surr: [][]float64{make([]float64, 3)}})
	}
	assert.Equal(t, [2]float64{4, 4}, a.halfW)
	for i := range 3 {
		// Pool 0: blocks 0, 2, 2, 4 (windows 0 and 2 give their first
		// half, 1 and 3 their second); pool 1: blocks 1, 1, 3, 3.
		assert.InDelta(t, 1+100+100+10000, a.half[0][i], 1e-9)
		assert.InDelta(t, 10+10+1000+1000, a.half[1][i], 1e-9)
	}
}

func TestLipSyncParabolicPeak(t *testing.T) {
	// Samples of -(x-0.3)² at x = -1, 0, 1: the vertex is at +0.3.
	c := []float64{-1.69, -0.09, -0.49}
	off, h := lsParabolic(c, 1)
	assert.InDelta(t, 0.3, off, 1e-9)
	assert.InDelta(t, 0, h, 1e-9)
	off, h = lsParabolic(c, 0)
	assert.Equal(t, 0.0, off)
	assert.Equal(t, -1.69, h)
}

func TestLipSyncCloseIdempotent(t *testing.T) {
	d := NewLipSync()
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())
	gray := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U)
	defer gray.Close()
	require.NoError(t, d.Observe(&VideoFrame{Gray: gray, Image: gray, FPS: 10,
		Faces: []Face{{Rect: image.Rect(0, 0, 90, 90), Detected: true}}}), "Observe after Close is a no-op")
}

func TestLipSyncRejectsWrongRate(t *testing.T) {
	d := NewLipSync()
	defer d.Close()
	err := d.ObserveAudio(media.Chunk{Rate: 48000, Samples: make([]float32, 480)})
	require.Error(t, err)
}

// TestLipSyncMemoryBounded feeds a long recording and checks that the
// tracks hold only about one window, and that a track running far ahead of
// the other is capped (dropped and counted) instead of growing.
func TestLipSyncMemoryBounded(t *testing.T) {
	const dur = 60.0
	d := NewLipSync()
	defer d.Close()
	mouth := newLSSyllables(1, dur)
	maxFrames, maxHops := 0, 0
	// Interleave one second of each side at a time, as a live call arrives.
	for sec := 0.0; sec < dur; sec++ {
		step := lsSynth{start: sec, dur: 1, fps: 10, faceSize: 120}
		require.NoError(t, feedLSVideo(d, step, mouth))
		require.NoError(t, feedLSAudio(d, step, mouth))
		d.mu.Lock()
		maxFrames = max(maxFrames, len(d.tr.frames))
		maxHops = max(maxHops, len(d.tr.rms))
		d.mu.Unlock()
	}
	r := d.Finish()
	require.True(t, r.Measured(), r.NotMeasurable)
	assert.Len(t, r.Windows, 11, "windows start every 5 s; the last one starts at 50 s")
	assert.InDelta(t, 0, findingValue(t, r.Summary, "audio_delay"), 40)
	bound := lsWindow + lsWinHop + 2*lsMargin // seconds held at most
	assert.LessOrEqual(t, maxFrames, int(bound*10))
	assert.LessOrEqual(t, maxHops, int(bound/lsHop))

	// Audio far ahead of the video: stored up to the cap, then dropped.
	d2 := NewLipSync()
	defer d2.Close()
	d2.maxAhead = 20
	require.NoError(t, feedLSVideo(d2, lsSynth{dur: 0.1, fps: 10, faceSize: 120}, mouth))
	require.NoError(t, feedLSAudio(d2, lsSynth{dur: dur}, mouth))
	d2.mu.Lock()
	held, dropped := float64(len(d2.tr.rms))*lsHop, d2.tr.dropped
	d2.mu.Unlock()
	assert.InDelta(t, 20, held, 0.2, "seconds of audio held")
	assert.InDelta(t, dur-20, dropped, 0.2, "seconds of audio dropped and counted")
	r2 := d2.Finish()
	assert.False(t, r2.Measured())

	// Video without any audio: the video track is capped too.
	d3 := NewLipSync()
	defer d3.Close()
	d3.maxVideoAhead = 20
	require.NoError(t, feedLSVideo(d3, lsSynth{dur: dur, fps: 10, faceSize: 120}, mouth))
	d3.mu.Lock()
	kept, droppedV := len(d3.tr.frames), d3.tr.dropped
	d3.mu.Unlock()
	assert.InDelta(t, 201, kept, 1, "frames held")
	assert.InDelta(t, dur-20, droppedV, 0.2, "seconds of video dropped and counted")
	assert.Contains(t, d3.Finish().NotMeasurable, "no audio")
}

// BenchmarkLipSyncObserve measures the per-frame cost on the video
// goroutine: mouth crop, resize and copy for a 200-px face in a 640×360
// frame.
func BenchmarkLipSyncObserve(b *testing.B) {
	d := NewLipSync()
	defer d.Close()
	gray := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8U)
	defer gray.Close()
	gocv.RandU(&gray, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 0, 0, 0))
	f := &VideoFrame{Image: gray, Gray: gray, FPS: 10, Faces: []Face{{Rect: image.Rect(220, 80, 420, 280), Detected: true}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Index, f.Time = i, float64(i)/10
		if err := d.Observe(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLipSyncAudio measures the cost of one second of 16-kHz audio on
// the audio goroutine (band envelope and VAD), without window work.
func BenchmarkLipSyncAudio(b *testing.B) {
	d := NewLipSync()
	defer d.Close()
	samples := make([]float32, media.VoiceRate/10)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range samples {
		samples[i] = float32(0.1 * rng.NormFloat64())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < 10; k++ {
			c := media.Chunk{Start: time.Duration(i*10+k) * 100 * time.Millisecond, Rate: media.VoiceRate, Samples: samples}
			if err := d.ObserveAudio(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkLipSyncWindow measures one 10-s window at 10 fps (regression,
// 101 delays, 16 surrogates). Windows start every 5 s, so the cost per
// analysed frame is this divided by 50.
func BenchmarkLipSyncWindow(b *testing.B) {
	d := NewLipSync()
	defer d.Close()
	mouth := newLSSyllables(1, 12)
	// Video up to 9.9 s, audio up to 11 s: window 0 is covered but not yet
	// computed (the video has not reached 10 s).
	require.NoError(b, feedLSVideo(d, lsSynth{dur: 10, fps: 10, faceSize: 120}, mouth))
	require.NoError(b, feedLSAudio(d, lsSynth{dur: 11}, mouth))
	d.mu.Lock()
	defer d.mu.Unlock()
	require.Equal(b, 0, d.tr.nextWin)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.windows = d.windows[:0]
		d.computeWindow(0, lsWindow)
		if len(d.windows) != 1 {
			b.Fatal("window not measured")
		}
	}
}

// The result does not depend on how the video and audio goroutines happen
// to interleave: a window is measured on the same span of audio whether
// the audio ran far ahead or only just reached the window's end. (The
// pipeline feeds them concurrently; before the fix a window could be cut
// short by audio that had only just passed its margin, and re-running an
// analysis moved the chance level.)
func TestLipSyncSameResultWhateverTheInterleaving(t *testing.T) {
	s := lsSynth{dur: 30, fps: 10, faceSize: 100}
	mouth := newLSSyllables(1, s.dur)
	run := func(first string) Result {
		d := NewLipSync()
		defer func() { require.NoError(t, d.Close()) }()
		if first == "video" {
			require.NoError(t, feedLSVideo(d, s, mouth))
			require.NoError(t, feedLSAudio(d, s, mouth))
		} else {
			require.NoError(t, feedLSAudio(d, s, mouth))
			require.NoError(t, feedLSVideo(d, s, mouth))
		}
		return d.Finish()
	}
	a, b := run("video"), run("audio")
	require.NotNil(t, a.Summary)
	require.NotNil(t, b.Summary)
	assert.Equal(t, a.Summary.Score, b.Summary.Score)
	assert.Equal(t, a.Summary.Values, b.Summary.Values)
}

func TestLipSyncMotionMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{0.234}, 0.235},
		{"odd", []float64{0.05, 0.30, 0.11}, 0.115},
		{"even takes the lower middle", []float64{0.05, 0.11, 0.30, 0.40}, 0.115},
		{"beyond the range", []float64{9, 9, 9}, (lsMotionBins - 0.5) * lsMotionBin},
		{"negative clamps", []float64{-1}, 0.005},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h lsMotionHist
			for _, v := range tc.in {
				h.add(v)
			}
			assert.InDelta(t, tc.want, h.median(), 1e-9)
			assert.Equal(t, len(tc.in), h.n)
		})
	}
}
