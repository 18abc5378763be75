package live_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/live"
	"github.com/bonafide-dev/bonafide/media/whip"
	"github.com/bonafide-dev/bonafide/models"
)

type recorder struct {
	mu     sync.Mutex
	events []live.Event
}

func (r *recorder) emit(e live.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// scores returns the score events so far.
func (r *recorder) scores() []live.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []live.Event
	for _, e := range r.events {
		if e.Kind == "score" {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) kinds() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, e := range r.events {
		out[e.Kind]++
	}
	return out
}

// A real interview clip published over WebRTC is scored segment by segment
// while it plays, a signal held over a (deliberately low) threshold raises
// an alert, and the session ends when the call does.
func TestLiveScoresAndAlerts(t *testing.T) {
	for _, fullBand := range []bool{true, false} {
		t.Run(fmt.Sprintf("full band %v", fullBand), func(t *testing.T) { liveScoresAndAlerts(t, fullBand) })
	}
}

func liveScoresAndAlerts(t *testing.T, fullBand bool) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf, ogg := whiptest.Fixtures(t, clip, 8, 640, 25, false, false)
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)

	ep, err := whip.NewEndpoint(whip.Config{FullBand: fullBand})
	require.NoError(t, err)
	var pub *whip.Publication
	client, err := whiptest.Publish(context.Background(), func(offer string) (string, error) {
		p, answer, err := ep.Publish(context.Background(), offer, t.TempDir())
		pub = p
		return answer, err
	}, ivf, ogg, false)
	require.NoError(t, err)
	defer client.Close()

	var rec recorder
	sess := live.Start(pub, live.Config{
		Analysis:   analysis.Config{FaceModels: fm},
		Segment:    4 * time.Second,
		AlertScore: 0.001, AlertConfidence: 0.001, AlertAfter: 4 * time.Second,
	}, rec.emit)
	<-client.Finished()
	require.NoError(t, client.Close())
	select {
	case <-pub.Done():
	case <-time.After(40 * time.Second):
		t.Fatal("the publication did not notice the peer leaving")
	}
	require.NoError(t, pub.Close())
	select {
	case <-sess.Finished():
	case <-time.After(30 * time.Second):
		t.Fatal("live session did not finish")
	}
	require.NoError(t, sess.Close())
	require.NoError(t, sess.Close())

	k := rec.kinds()
	require.GreaterOrEqual(t, k["score"], 2, "8 s in 4-s segments")
	require.GreaterOrEqual(t, k["alert"], 1)
	require.Equal(t, 1, k["ended"])
	var scored, bandMeasured bool
	segments := 0
	for _, e := range rec.events {
		if e.Kind != "score" {
			continue
		}
		segments++
		total := 0
		for _, n := range e.Tally {
			total += n
		}
		require.Equal(t, segments, total, "the tally counts every segment so far")
		require.Positive(t, e.Tally[e.Verdict], "including this one")
	}
	for _, e := range rec.events {
		if e.Kind == "score" && e.Authenticity != nil {
			scored = true
			require.NotEmpty(t, e.Signals)
			require.Greater(t, e.FaceSeconds, 1.0)
			bandlimit := false
			for _, sg := range e.Signals {
				if sg.Name != "audio.bandlimit" {
					continue
				}
				bandlimit = true
				if fullBand {
					// Measured on the 48-kHz band, or not for a reason of
					// its own (too little speech in one segment).
					require.NotContains(t, sg.Reason, "16-kHz", "the band is fed")
					require.NotContains(t, sg.Reason, "no audio", "the band is fed")
					bandMeasured = bandMeasured || sg.Measured
				} else {
					require.False(t, sg.Measured)
					require.Contains(t, sg.Reason, "16-kHz voice only", "says why, not that the call had no sound")
				}
			}
			require.True(t, bandlimit, "the band-limit signal is listed")
		}
	}
	require.True(t, scored, "at least one segment had enough face and voice for a score")
	require.Equal(t, fullBand, bandMeasured, "band limit measured live exactly when the full band is decoded")
	// Alerts come only from signals the model gives weight to: with an
	// alert score every measured signal crosses, a measured signal without
	// weight stays silent.
	w, ok := models.DefaultScorer().(models.SignalWeigher)
	require.True(t, ok)
	silent := false
	for _, e := range rec.events {
		if e.Kind == "alert" {
			assert.True(t, w.Counts(e.Alert.Signal), "alert from %s, which the model does not weigh", e.Alert.Signal)
		}
		for _, sg := range e.Signals {
			if sg.Measured && !w.Counts(sg.Name) {
				silent = true
				assert.False(t, sg.Alerting, sg.Name)
			}
		}
	}
	assert.True(t, silent, "some measured signal carries no weight in the model (e.g. video.virtualcam)")
	st := sess.Stats()
	require.Greater(t, st.FramesAnalyzed, 20)
	require.Greater(t, st.AudioSeconds, 5.0)
	require.Zero(t, st.OppositePhaseSeconds, "an ordinary voice is mixed as usual")
	for _, e := range rec.scores() {
		require.Empty(t, e.Notes)
	}
}

// Closing the session while media still flows stops it promptly.
func TestLiveCloseWhileStreaming(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "519.mp4")
	ivf, _ := whiptest.Fixtures(t, clip, 4, 640, 25, false, true)
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	ep, err := whip.NewEndpoint(whip.Config{})
	require.NoError(t, err)
	var pub *whip.Publication
	client, err := whiptest.Publish(context.Background(), func(offer string) (string, error) {
		p, answer, err := ep.Publish(context.Background(), offer, t.TempDir())
		pub = p
		return answer, err
	}, ivf, "", true)
	require.NoError(t, err)
	var rec recorder
	sess := live.Start(pub, live.Config{Analysis: analysis.Config{FaceModels: fm}}, rec.emit)
	time.Sleep(3 * time.Second)
	done := make(chan struct{})
	go func() { sess.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	require.NoError(t, pub.Close())
	require.NoError(t, client.Close())
}

func TestTallyText(t *testing.T) {
	for _, tc := range []struct {
		tally map[models.Verdict]int
		want  string
	}{
		{nil, ""},
		{map[models.Verdict]int{models.Genuine: 1}, "1 segment: 1 genuine"},
		{map[models.Verdict]int{models.Genuine: 10, models.Inconclusive: 1, models.Manipulated: 1, models.Suspicious: 0},
			"12 segments: 1 manipulated, 1 inconclusive, 10 genuine"},
	} {
		assert.Equal(t, tc.want, live.TallyText(tc.tally))
	}
}

// publish starts a WHIP publication of o on a fresh endpoint.
func publish(t *testing.T, wcfg whip.Config, o whiptest.Options) (*whip.Publication, *whiptest.Publisher) {
	t.Helper()
	ep, err := whip.NewEndpoint(wcfg)
	require.NoError(t, err)
	var pub *whip.Publication
	client, err := whiptest.PublishWith(context.Background(), func(offer string) (string, error) {
		p, answer, err := ep.Publish(context.Background(), offer, t.TempDir())
		pub = p
		return answer, err
	}, o)
	require.NoError(t, err)
	return pub, client
}

// hangUp ends the call and waits (generously) for the session to finish.
func hangUp(t *testing.T, client *whiptest.Publisher, pub *whip.Publication, sess *live.Session) {
	t.Helper()
	require.NoError(t, client.Close())
	select {
	case <-pub.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("the publication did not notice the peer leaving")
	}
	require.NoError(t, pub.Close())
	select {
	case <-sess.Finished():
	case <-time.After(60 * time.Second):
		t.Fatal("live session did not finish")
	}
	require.NoError(t, sess.Close())
}

// The audio track stops sending after 1 s while the video goes on and the
// connection stays up (a muted or replaced microphone): segments are still
// scored while the video is being sent, without the audio and saying so,
// and no more than MaxOpenSegments are open at once. (Before the watermark
// nothing was scored until the call ended, and the open segments piled up.)
func TestLiveSilentTrack(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "driving/d6.mp4") // 33 s, a talking face
	ivf, _ := whiptest.Fixtures(t, clip, 20, 640, 25, false, true)
	_, ogg := whiptest.Fixtures(t, clip, 1, 640, 25, true, false)
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	pub, client := publish(t, whip.Config{}, whiptest.Options{Video: ivf, Audio: ogg})
	defer client.Close()
	var rec recorder
	sess := live.Start(pub, live.Config{
		Analysis: analysis.Config{FaceModels: fm},
		Segment:  2 * time.Second, SilenceGrace: time.Second, MaxOpenSegments: 3,
	}, rec.emit)
	defer sess.Close()

	// Segments that had video and no audio. The timeout is generous (a
	// loaded machine); nothing waits on a fixed sleep.
	withoutAudio := func() []live.Event {
		var out []live.Event
		for _, e := range rec.scores() {
			if len(e.Missing) == 1 && e.Missing[0] == "audio" {
				out = append(out, e)
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return len(withoutAudio()) >= 3 }, 120*time.Second, 100*time.Millisecond,
		"segments after the audio fell silent are scored during the call")
	select {
	case <-pub.Done():
		t.Fatal("the call ended: the scores must come while it runs")
	case <-client.Finished():
		t.Log("the publisher sent all its video before the third score (a slow machine?)")
	default:
	}
	st := sess.Stats()
	t.Logf("during the call: %d scores, %d without audio; stats %+v", len(rec.scores()), len(withoutAudio()), st)
	require.GreaterOrEqual(t, st.Silences, 1, "the audio fell silent")
	require.Positive(t, st.FramesAnalyzed)
	_, most := sess.OpenSegments()
	require.LessOrEqual(t, most, 3, "open segments stay bounded")
	for _, e := range withoutAudio() {
		explained := false
		for _, sg := range e.Signals {
			if sg.Modality == "audio" && !sg.Measured {
				require.Contains(t, sg.Reason, "no audio reached the live analysis", sg.Name)
				explained = true
			}
		}
		require.True(t, explained, "the audio signals say why they were not measured")
	}

	hangUp(t, client, pub, sess)
	_, most = sess.OpenSegments()
	require.LessOrEqual(t, most, 3)
	require.Equal(t, 1, rec.kinds()["ended"])
}

// A video track that arrives after TrackWait (a camera switched on late)
// is analysed from its arrival on; before, it was never analysed and its
// packets counted as dropped.
func TestLiveLateTrack(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf, ogg := whiptest.Fixtures(t, clip, 10, 640, 25, false, false)
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	pub, client := publish(t, whip.Config{}, whiptest.Options{Video: ivf, Audio: ogg, VideoDelay: 4 * time.Second})
	defer client.Close()
	var rec recorder
	sess := live.Start(pub, live.Config{
		Analysis: analysis.Config{FaceModels: fm},
		Segment:  2 * time.Second, TrackWait: time.Second,
	}, rec.emit)
	defer sess.Close()
	select {
	case <-client.Finished(): // 4 s of delay and 10 s of video
	case <-time.After(120 * time.Second):
		t.Fatal("the publisher did not finish")
	}
	hangUp(t, client, pub, sess)

	st := sess.Stats()
	t.Logf("%d scores; stats %+v", len(rec.scores()), st)
	require.Equal(t, 1, st.LateTracks, "the video came after TrackWait")
	require.Greater(t, st.FramesAnalyzed, 10, "the late video is analysed")
	for _, tr := range st.Tracks {
		if tr.Kind == "video" {
			require.Less(t, tr.Dropped, tr.Frames/2, "the late track's frames are decoded, not dropped")
		}
	}
	face := false
	for _, e := range rec.scores() {
		face = face || e.FaceSeconds > 0
	}
	require.True(t, face, "a face is seen in some segment after the video arrived")
}

// fakeClock is a wall clock a test moves by hand.
type fakeClock struct {
	mu   sync.Mutex
	base time.Time
	at   float64 // seconds after base
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Duration(c.at * float64(time.Second)))
}

func (c *fakeClock) set(at float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = max(c.at, at) // never backwards
}

// bareSession is a session on 2-s segments without a publication, fed by
// hand under a fake clock.
func bareSession(t *testing.T, rec *recorder) (*live.Session, *fakeClock) {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	clk := &fakeClock{base: time.Unix(1_000_000, 0)}
	s := live.NewBareSession(live.Config{
		Analysis: analysis.Config{FaceModels: fm},
		Segment:  2 * time.Second, SilenceGrace: time.Second, MaxOpenSegments: 3,
	}, rec.emit, clk.base, clk.now, "video", "audio")
	t.Cleanup(func() { s.EndSide("video"); s.EndSide("audio") })
	return s, clk
}

func starts(evs []live.Event) []float64 {
	var out []float64
	for _, e := range evs {
		out = append(out, e.Start)
	}
	return out
}

// A sample whose time falls back into a segment its side has passed (the
// video decoder's nominal time after drops, a burst of late frames) is
// dropped and counted: the scored segment is neither re-created nor fed
// after its detectors were closed.
func TestLateSampleDropped(t *testing.T) {
	var rec recorder
	s, clk := bareSession(t, &rec)
	feed := func(side string, at, wall float64) bool {
		clk.set(wall)
		ok, err := s.Feed(side, at)
		require.NoError(t, err)
		return ok
	}
	require.True(t, feed("video", 0.5, 0.5))
	require.True(t, feed("audio", 0.5, 0.5))
	require.True(t, feed("video", 2.5, 2.5))
	require.True(t, feed("audio", 2.6, 2.6)) // both past segment 0: scored
	require.Equal(t, []float64{0}, starts(rec.scores()))

	require.False(t, feed("video", 1.0, 2.7), "below the side's reached segment")
	require.False(t, feed("audio", 1.9, 2.8))
	require.Equal(t, 2, s.Stats().LateDropped)
	open, _ := s.OpenSegments()
	require.Equal(t, 1, open, "segment 0 was not re-created")
	require.Equal(t, []float64{0}, starts(rec.scores()), "nor scored again")

	s.EndSide("video")
	s.EndSide("audio")
	require.Equal(t, []float64{0, 2}, starts(rec.scores()))
}

// With one side far behind (here: sending nothing, and never seen idle by
// the watermark), at most MaxOpenSegments are open: the oldest is scored
// with what it has, counted, and the lagging side's samples for it are
// dropped later.
func TestOpenSegmentsCapped(t *testing.T) {
	var rec recorder
	s, clk := bareSession(t, &rec)
	for _, at := range []float64{0.5, 2.5, 4.5, 6.5, 8.5} {
		clk.set(at)
		ok, err := s.Feed("audio", at)
		require.NoError(t, err)
		require.True(t, ok)
	}
	open, most := s.OpenSegments()
	require.Equal(t, 3, open)
	require.Equal(t, 3, most)
	require.Equal(t, 2, s.Stats().ForcedSegments)
	scores := rec.scores()
	require.Equal(t, []float64{0, 2}, starts(scores))
	for _, e := range scores {
		require.Equal(t, []string{"video"}, e.Missing)
		for _, sg := range e.Signals {
			if sg.Modality == "video" {
				require.False(t, sg.Measured)
				require.Contains(t, sg.Reason, "no video reached the live analysis", sg.Name)
			}
		}
	}
	ok, err := s.Feed("video", 1.0)
	require.NoError(t, err)
	require.False(t, ok, "its segment was scored")
	require.Equal(t, 1, s.Stats().LateDropped)
	s.EndSide("video")
	s.EndSide("audio")
	require.Equal(t, []float64{0, 2, 4, 6, 8}, starts(rec.scores()))
}

// The audio falls silent while the video goes on: the watermark moves the
// audio side on with the wall clock, so segments are scored during the
// call (not by the cap), without the audio. When the audio comes back its
// sample clock has no gap for the pause (ffmpeg decodes what arrives), so
// it is placed at the wall clock rather than dropped as late.
func TestSilentSideWatermark(t *testing.T) {
	var rec recorder
	s, clk := bareSession(t, &rec)
	step := func(side string, at, wall float64) bool {
		clk.set(wall)
		ok, err := s.Feed(side, at)
		require.NoError(t, err)
		s.Watermark()
		_, most := s.OpenSegments()
		require.LessOrEqual(t, most, 3)
		return ok
	}
	for at := 0.0; at < 2; at += 0.1 {
		require.True(t, step("audio", at, at))
		require.True(t, step("video", at, at))
	}
	for at := 2.0; at < 12; at += 0.2 { // the audio is silent
		require.True(t, step("video", at, at))
	}
	st := s.Stats()
	require.Equal(t, 1, st.Silences)
	require.Zero(t, st.ForcedSegments, "the watermark completed them, not the cap")
	require.Zero(t, st.LateDropped)
	scores := rec.scores()
	require.Equal(t, []float64{0, 2, 4, 6, 8}, starts(scores), "scored during the call, SilenceGrace behind the wall clock")
	require.Empty(t, scores[0].Missing)
	for _, e := range scores[1:] {
		require.Equal(t, []string{"audio"}, e.Missing)
	}

	// The audio comes back at 12.3 s; its own clock says 2.0 s.
	require.True(t, step("audio", 2.0, 12.3), "placed at the wall clock, not dropped")
	require.True(t, step("audio", 2.1, 12.4))
	require.True(t, step("video", 12.4, 12.4))
	require.Zero(t, s.Stats().LateDropped)
	s.EndSide("video")
	s.EndSide("audio")
	scores = rec.scores()
	require.Equal(t, []float64{0, 2, 4, 6, 8, 10, 12}, starts(scores))
	last := scores[len(scores)-1]
	require.Empty(t, last.Missing, "both tracks fed the segment after the pause")
}

// A track whose first sample comes only after it was declared silent (a
// keyframe that took long to come: the video's clock starts at it) is
// placed at the wall clock, not dropped as late.
func TestFirstSampleAfterSilence(t *testing.T) {
	var rec recorder
	s, clk := bareSession(t, &rec)
	for at := 0.0; at < 8; at += 0.1 {
		clk.set(at)
		ok, err := s.Feed("audio", at)
		require.NoError(t, err)
		require.True(t, ok)
		s.Watermark()
	}
	require.Equal(t, 1, s.Stats().Silences, "the video sent nothing")
	require.NotEmpty(t, rec.scores(), "scored without it")
	ok, err := s.Feed("video", 0) // its first frame, at 7.9 s on the wall clock
	require.NoError(t, err)
	require.True(t, ok, "placed at the wall clock")
	require.Zero(t, s.Stats().LateDropped)
	s.EndSide("video")
	s.EndSide("audio")
	scores := rec.scores()
	last := scores[len(scores)-1]
	require.Equal(t, 6.0, last.Start)
	require.Empty(t, last.Missing, "the frame joined the audio of its segment")
}

// Making a segment's detectors takes tens of milliseconds (cascades,
// models): the session's lock is free meanwhile, so Stats and the other
// side's samples go on; when both sides make the same segment at once, one
// is kept and the other closed; a segment completed meanwhile drops the
// sample.
func TestSegmentMadeWithoutLock(t *testing.T) {
	var rec recorder
	s, clk := bareSession(t, &rec)
	entered, release := make(chan struct{}), make(chan struct{})
	var letGo sync.Once
	free := func() { letGo.Do(func() { close(release) }) }
	var made atomic.Int32
	s.SetNewSegment(func(cfg analysis.Config) (*analysis.Segment, error) {
		if made.Add(1) == 1 {
			close(entered)
			<-release
		}
		return analysis.NewSegment(cfg)
	})
	clk.set(0.5)
	video := make(chan bool)
	go func() {
		ok, err := s.Feed("video", 0.5)
		assert.NoError(t, err)
		video <- ok
	}()
	<-entered
	// Deadlock guards only: with the lock held they would never return.
	within := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { f(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			free() // so that the test can end
			t.Fatalf("%s waited for a segment being made", what)
		}
	}
	within("Stats", func() { s.Stats() })
	within("the audio side", func() {
		ok, err := s.Feed("audio", 0.5)
		assert.NoError(t, err)
		assert.True(t, ok)
	})
	open, _ := s.OpenSegments()
	require.Equal(t, 1, open, "the audio side made segment 0")
	free()
	require.True(t, <-video, "the video side joins the audio side's segment 0")
	open, _ = s.OpenSegments()
	require.Equal(t, 1, open, "its own copy was closed, not kept")
	require.Equal(t, int32(2), made.Load())

	// A segment completed while a side was making it (the other side ran
	// MaxOpenSegments ahead, forcing the oldest complete): the sample is
	// late.
	entered, release = make(chan struct{}), make(chan struct{})
	letGo = sync.Once{}
	made.Store(0)
	clk.set(2.5)
	go func() {
		ok, err := s.Feed("video", 2.5) // makes segment 1, held
		assert.NoError(t, err)
		video <- ok
	}()
	<-entered
	within("the audio side", func() {
		for _, at := range []float64{4.5, 6.5, 8.5, 10.5} { // segments 2–5
			clk.set(at)
			ok, err := s.Feed("audio", at)
			assert.NoError(t, err)
			assert.True(t, ok)
		}
	})
	free()
	require.False(t, <-video, "segment 1 was completed while it was made")
	st := s.Stats()
	assert.Equal(t, 1, st.LateDropped)
	assert.Equal(t, 2, st.ForcedSegments, "segments 0 and 2")
	assert.Zero(t, st.Silences)
	s.EndSide("video")
	s.EndSide("audio")
	assert.Equal(t, []float64{0, 4, 6, 8, 10}, starts(rec.scores()))
}

// A side making a new segment is busy, not idle: a watermark tick meanwhile
// does not take it for silent (only the side that really is idle).
func TestWatermarkSparesSideMakingSegment(t *testing.T) {
	var rec recorder
	s, clk := bareSession(t, &rec)
	clk.set(0.5)
	for _, side := range []string{"video", "audio"} {
		ok, err := s.Feed(side, 0.5)
		require.NoError(t, err)
		require.True(t, ok)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	s.SetNewSegment(func(cfg analysis.Config) (*analysis.Segment, error) {
		close(entered)
		<-release
		return analysis.NewSegment(cfg)
	})
	video := make(chan bool)
	go func() {
		clk.set(2.5)
		ok, err := s.Feed("video", 2.5) // makes segment 1, held
		assert.NoError(t, err)
		video <- ok
	}()
	<-entered
	clk.set(10)
	s.Watermark() // both sides last delivered at 0.5 s; video is busy
	close(release)
	require.True(t, <-video)
	assert.Equal(t, 1, s.Stats().Silences, "the audio side alone was silent")
	s.EndSide("video")
	s.EndSide("audio")
	assert.Equal(t, []float64{0, 2}, starts(rec.scores()))
}

// A voice sent on the two channels in opposite phase (a miswired
// microphone) is heard live: the reader analyses the channels' difference,
// whose speech the segments measure, and each segment's score event says
// so in its notes, as the full report of the recording does. Before, the
// live path mixed the channels, the voice cancelled and every segment had
// no speech and no note.
func TestLiveOppositePhaseVoice(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ogg := filepath.Join(t.TempDir(), "antiphase.ogg")
	testutil.FFmpeg(t, "-i", clip, "-t", "8", "-vn",
		"-af", "aresample=48000,aformat=channel_layouts=mono,pan=stereo|c0=c0|c1=-1*c0",
		"-c:a", "libopus", "-b:a", "64k", "-page_duration", "20000", ogg)
	pub, client := publish(t, whip.Config{}, whiptest.Options{Audio: ogg})
	defer client.Close()
	var rec recorder
	sess := live.Start(pub, live.Config{Segment: 4 * time.Second}, rec.emit)
	defer sess.Close()
	select {
	case <-client.Finished():
	case <-time.After(60 * time.Second):
		t.Fatal("the publisher did not finish sending")
	}
	hangUp(t, client, pub, sess)

	st := sess.Stats()
	require.Greater(t, st.OppositePhaseSeconds, 4.0, "most of the 8 s came from the channels' difference")
	speech, noted := 0.0, 0
	for _, e := range rec.scores() {
		speech += e.SpeechSeconds
		if len(e.Notes) > 0 {
			noted++
			require.Len(t, e.Notes, 1)
			require.Contains(t, e.Notes[0], "opposite phase")
		}
	}
	require.Greater(t, speech, 3.0, "the voice is heard, not cancelled")
	require.GreaterOrEqual(t, noted, 2, "every segment with the voice carries the note")
}
