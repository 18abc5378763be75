package whip_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/media/whip"
)

// Files, Stats and Alignment are safe to call while the tracks run (run
// with -race): the owner may show them during a call. Files lists a track's
// recording from its arrival, and the same names after Close.
func TestAccessorsDuringSession(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf, ogg := whiptest.Fixtures(t, clip, 2, 640, 25, false, false)
	client, pub, _ := publish(t, whip.Config{}, whiptest.Options{Video: ivf, Audio: ogg})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var seen []string // every name Files returned during the session
	wg.Add(1)
	go func() { // polls from before the first track until after Close
		defer wg.Done()
		for {
			for _, f := range pub.Files() {
				if !slices.Contains(seen, f) {
					seen = append(seen, f)
				}
			}
			_ = pub.Stats()
			_, _, _ = pub.Alignment()
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	for range 2 {
		select {
		case tr := <-pub.Tracks():
			go drain(tr)
		case <-time.After(10 * time.Second):
			t.Fatal("tracks did not arrive")
		}
	}
	finish(t, client, pub)
	close(stop)
	wg.Wait()
	require.ElementsMatch(t, []string{"video.ivf", "audio.ogg"}, seen, "listed during the session")
	require.ElementsMatch(t, []string{"video.ivf", "audio.ogg"}, pub.Files(), "listed after Close")
	_, _, ok := pub.Alignment()
	require.True(t, ok, "both tracks recorded")
	require.NoError(t, client.Close())
}
