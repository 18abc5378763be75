package whip_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/media/whip"
)

// Audio packets lost on the way (here the second from 1.2 s): the live
// sound and the recording keep the sound after the loss at its time, with
// silence for what was lost, as the picture keeps its frames' times.
// pion's Ogg writer counts the samples it is given, so before, the sound
// after each loss came earlier by the loss, in the live decoder and in the
// report of the recording: one lost packet in a hundred put a minute-long
// call's sound 0.6 s ahead of the mouth by its end.
func TestPublishLostAudio(t *testing.T) {
	for _, ms := range []string{"20", "10"} {
		t.Run(ms+" ms packets", func(t *testing.T) { publishLostAudio(t, ms) })
	}
}

func publishLostAudio(t *testing.T, frameMS string) {
	defer test.CheckRoutines(t)()
	ogg := filepath.Join(t.TempDir(), "tone.ogg")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", testutil.ToneChange, "-ac", "2", "-c:a", "libopus", "-b:a", "64k",
		"-frame_duration", frameMS, "-page_duration", frameMS+"000", ogg)
	lost := func(at time.Duration) bool { return at >= 1200*time.Millisecond && at < 2200*time.Millisecond }
	client, pub, dir := publish(t, whip.Config{}, whiptest.Options{Audio: ogg, AudioLost: lost})
	var tr whip.Track
	select {
	case tr = <-pub.Tracks():
	case <-time.After(10 * time.Second):
		t.Fatal("no track arrived")
	}
	live := readVoice(tr)
	finish(t, client, pub)
	testutil.CheckToneChange(t, <-live, media.VoiceRate)
	st := pub.Stats()
	require.Len(t, st, 1)
	require.InDelta(t, 1.0, st[0].FilledSeconds, 0.05, "the missing second is counted")

	testutil.CheckToneChange(t, recordedVoice(t, pub, dir), media.VoiceRate)
	require.NoError(t, client.Close())
}

// A pause in the sound longer than Config.LiveAudioFill (2.5 s from
// 0.2 s) is filled in the recording but not in the live decoder's input,
// where the live scorer places the sound after it at the wall clock;
// within it, it is filled live too.
func TestLiveAudioFillLimit(t *testing.T) {
	ogg := filepath.Join(t.TempDir(), "tone.ogg")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", testutil.ToneChange, "-ac", "2", "-c:a", "libopus", "-b:a", "64k", "-page_duration", "20000", ogg)
	lost := func(at time.Duration) bool { return at >= 200*time.Millisecond && at < 2700*time.Millisecond }
	for _, tt := range []struct {
		name   string
		fill   time.Duration
		filled bool
	}{{"default limit", 0, false}, {"a higher limit", 5 * time.Second, true}} {
		t.Run(tt.name, func(t *testing.T) {
			defer test.CheckRoutines(t)()
			client, pub, dir := publish(t, whip.Config{LiveAudioFill: tt.fill}, whiptest.Options{Audio: ogg, AudioLost: lost})
			tr := <-pub.Tracks()
			live := readVoice(tr)
			finish(t, client, pub)
			x := <-live
			if tt.filled {
				testutil.CheckToneChange(t, x, media.VoiceRate)
			} else {
				require.InDelta(t, 2.5, float64(len(x))/media.VoiceRate, 0.1, "the live sound has the pause left out")
			}
			testutil.CheckToneChange(t, recordedVoice(t, pub, dir), media.VoiceRate)
			require.NoError(t, client.Close())
		})
	}
}

// readVoice reads the audio track's live voice to its end (and closes it)
// on its own goroutine, and hands it over.
func readVoice(tr whip.Track) <-chan []float32 {
	out := make(chan []float32, 1)
	go func() {
		defer tr.Audio.Close()
		var x []float32
		for c, err := tr.Audio.Next(); err == nil; c, err = tr.Audio.Next() {
			x = append(x, c.Samples...)
		}
		out <- x
	}()
	return out
}

// recordedVoice merges pub's recording in dir and returns its voice.
func recordedVoice(t *testing.T, pub *whip.Publication, dir string) []float32 {
	t.Helper()
	out := filepath.Join(dir, "recording.mkv")
	require.NoError(t, pub.Recording(context.Background(), out))
	info, err := media.Tools{}.Probe(context.Background(), out)
	require.NoError(t, err)
	ar, err := media.Tools{}.OpenAudio(context.Background(), info, media.AudioOptions{SampleRate: media.VoiceRate})
	require.NoError(t, err)
	defer ar.Close()
	var x []float32
	for c, err := ar.Next(); err == nil; c, err = ar.Next() {
		x = append(x, c.Samples...)
	}
	return x
}
