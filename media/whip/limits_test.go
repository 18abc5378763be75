package whip_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/media/whip"
)

// An offer with two video tracks (both sending) gets one decoder and one
// recording: the first video track is taken, the second read and
// discarded, and counted.
func TestExtraVideoTrackIgnored(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf, _ := whiptest.Fixtures(t, clip, 3, 640, 25, false, true)
	tools, runs := countingFFmpeg(t)
	ep, err := whip.NewEndpoint(whip.Config{Tools: tools})
	require.NoError(t, err)
	dir := t.TempDir()
	client, pub := publishVideoTracks(t, ep, dir, ivf, 2)

	var tr whip.Track
	select {
	case tr = <-pub.Tracks():
	case <-time.After(10 * time.Second):
		t.Fatal("no track arrived")
	}
	require.Equal(t, "video", tr.Kind)
	decoded := make(chan int)
	go func() { n, _ := drain(tr); decoded <- n }()
	select {
	case <-client.finished:
	case <-time.After(20 * time.Second):
		t.Fatal("publisher did not finish")
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case extra := <-pub.Tracks():
		extra.Video.Close()
		t.Errorf("a second %s track was handed out", extra.Kind)
	default:
	}
	require.Equal(t, 1, runs(), "one ffmpeg decoder for the publication")
	require.NoError(t, pub.Close())
	require.NoError(t, pub.Err(), "closed by its owner, not ended by a limit")
	require.Greater(t, <-decoded, 5, "the taken track was decoded live")

	require.Equal(t, int64(1), pub.IgnoredTracks(), "the second video track was counted")
	st := pub.Stats()
	require.Len(t, st, 1)
	require.InDelta(t, 75, st[0].Frames, 5, "the taken track was recorded whole")
	require.Equal(t, []string{"video.ivf"}, pub.Files())
	info := probeRecording(t, pub, dir)
	require.True(t, info.HasVideo())
	require.InDelta(t, 3, info.Duration.Seconds(), 0.6, "one track's frames, not two interleaved")
	require.NoError(t, client.Close())
}

// A publication past Config.MaxDuration ends itself: Done closes with
// ErrMaxDuration while the publisher still sends, and what arrived until
// then is recorded.
func TestMaxDurationEndsPublication(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf, _ := whiptest.Fixtures(t, clip, 2, 640, 25, false, true)
	const limit = 1500 * time.Millisecond
	began := time.Now()
	client, pub, dir := publish(t, whip.Config{MaxDuration: limit}, whiptest.Options{Video: ivf, Loop: true})
	var tr whip.Track
	select {
	case tr = <-pub.Tracks():
	case <-time.After(10 * time.Second):
		t.Fatal("no track arrived")
	}
	decoded := make(chan struct{})
	go func() { defer close(decoded); drain(tr) }()
	require.NoError(t, pub.Err(), "no cause while running")
	select {
	case <-pub.Done():
	case <-time.After(limit + 10*time.Second):
		t.Fatal("the publication outlived its maximum duration")
	}
	took := time.Since(began)
	require.GreaterOrEqual(t, took, limit)
	require.ErrorIs(t, pub.Err(), whip.ErrMaxDuration)
	require.NoError(t, pub.Close())
	<-decoded
	require.ErrorIs(t, pub.Err(), whip.ErrMaxDuration, "Close keeps the cause")
	info := probeRecording(t, pub, dir)
	require.Less(t, info.Duration.Seconds(), took.Seconds()+0.5, "recording stopped at the limit")
	require.NoError(t, client.Close())

}

// countingFFmpeg returns Tools whose ffmpeg is a wrapper that counts its
// runs, and a function returning the count so far.
func countingFFmpeg(t *testing.T) (media.Tools, func() int) {
	t.Helper()
	ffmpegPath, err := exec.LookPath("ffmpeg")
	require.NoError(t, err)
	dir := t.TempDir()
	log := filepath.Join(dir, "runs")
	script := filepath.Join(dir, "ffmpeg")
	require.NoError(t, os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\necho run >> '%s'\nexec '%s' \"$@\"\n", log, ffmpegPath)), 0o755))
	return media.Tools{FFmpeg: script}, func() int {
		b, err := os.ReadFile(log)
		if errors.Is(err, os.ErrNotExist) {
			return 0
		}
		require.NoError(t, err)
		return strings.Count(string(b), "run\n")
	}
}

// multiPublisher is a pion publisher that sends the same VP8 frames on
// several video tracks of one PeerConnection (whiptest.Publisher sends one
// per kind).
type multiPublisher struct {
	pc       *webrtc.PeerConnection
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	finished chan struct{}
	once     sync.Once
}

func (m *multiPublisher) Close() error {
	var err error
	m.once.Do(func() {
		m.cancel()
		m.wg.Wait()
		err = m.pc.Close()
	})
	return err
}

// publishVideoTracks offers n VP8 video tracks to ep and, once connected,
// sends ivf on all of them in real time. Both ends are closed at the end of
// the test.
func publishVideoTracks(t *testing.T, ep *whip.Endpoint, dir, ivf string, n int) (*multiPublisher, *whip.Publication) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	m := &multiPublisher{pc: pc, cancel: cancel, finished: make(chan struct{})}
	var pub *whip.Publication
	t.Cleanup(func() {
		m.Close()
		if pub != nil {
			pub.Close()
		}
	})
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	var tracks []*webrtc.TrackLocalStaticSample
	for i := range n {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8},
			fmt.Sprintf("video%d", i), "bonafide-multi")
		require.NoError(t, err)
		_, err = pc.AddTrack(tr)
		require.NoError(t, err)
		tracks = append(tracks, tr)
	}
	offer, err := pc.CreateOffer(nil)
	require.NoError(t, err)
	gathered := webrtc.GatheringCompletePromise(pc)
	require.NoError(t, pc.SetLocalDescription(offer))
	<-gathered
	p, answer, err := ep.Publish(context.Background(), pc.LocalDescription().SDP, dir)
	require.NoError(t, err)
	pub = p
	require.NoError(t, pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}))
	select {
	case <-connected:
	case <-time.After(15 * time.Second):
		t.Fatal("ICE did not connect")
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(m.finished)
		if err := sendAll(ctx, ivf, tracks); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("send: %v", err)
		}
	}()
	return m, pub
}

// sendAll sends each frame of ivf on every track, one frame interval apart.
func sendAll(ctx context.Context, ivf string, tracks []*webrtc.TrackLocalStaticSample) error {
	f, err := os.Open(ivf)
	if err != nil {
		return err
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		return err
	}
	dur := time.Duration(float64(time.Second) * float64(hdr.TimebaseNumerator) / float64(hdr.TimebaseDenominator))
	tick := time.NewTicker(dur)
	defer tick.Stop()
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		for _, tr := range tracks {
			if err := tr.WriteSample(pmedia.Sample{Data: frame, Duration: dur}); err != nil {
				return err
			}
		}
	}
}
