package live_test

import (
	"context"
	"fmt"
	"sync"
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
		p, answer, err := ep.Publish(offer, t.TempDir())
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
		p, answer, err := ep.Publish(offer, t.TempDir())
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
