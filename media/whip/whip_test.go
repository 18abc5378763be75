package whip_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/media/whip"
)

// A pion publisher sends 5 s of a real interview clip (VP8 + Opus) over
// loopback: the endpoint decodes both tracks live, records them, and merges
// a recording that ffprobe reads with both streams.
func TestPublishCorpusClip(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf, ogg := whiptest.Fixtures(t, clip, 5, 640, 25, false, false)
	client, pub, dir := publish(t, whip.Config{}, whiptest.Options{Video: ivf, Audio: ogg})

	var frames, audioSamples int
	var lastPTS time.Duration
	var width int
	got := map[string]bool{}
	done := make(chan struct{})
	for i := 0; i < 2; i++ {
		select {
		case tr := <-pub.Tracks():
			got[tr.Kind] = true
			go func(tr whip.Track) {
				defer func() { done <- struct{}{} }()
				switch tr.Kind {
				case "video":
					defer tr.Video.Close()
					for {
						f, err := tr.Video.Next()
						if err != nil {
							return
						}
						frames++
						lastPTS = f.PTS
						width = f.Image.Cols()
					}
				case "audio":
					defer tr.Audio.Close()
					for {
						c, err := tr.Audio.Next()
						if err != nil {
							return
						}
						audioSamples += len(c.Samples)
					}
				}
			}(tr)
		case <-time.After(10 * time.Second):
			t.Fatal("tracks did not arrive")
		}
	}
	require.True(t, got["video"] && got["audio"])
	finish(t, client, pub)
	require.NoError(t, pub.Close(), "Close is idempotent")
	<-done
	<-done
	require.Equal(t, 512, width, "the clip's own width (under 640)")
	require.InDelta(t, 25, frames, 6, "5 s at 5 fps live")
	require.InDelta(t, 4.8, lastPTS.Seconds(), 0.6)
	require.InDelta(t, 5*media.VoiceRate, audioSamples, 0.6*media.VoiceRate)
	for _, s := range pub.Stats() {
		require.Greater(t, s.Packets, int64(100), s.Kind)
		require.Zero(t, s.Dropped, "%s: a consumer that keeps up loses nothing", s.Kind)
	}

	info := probeRecording(t, pub, dir)
	require.True(t, info.HasVideo() && info.HasAudio())
	require.Equal(t, "vp8", info.Video.Codec)
	require.Equal(t, []int{512, 512}, []int{info.Video.DisplayWidth, info.Video.DisplayHeight},
		"the clip's own size, not the nominal 640×480 the IVF header was written with (the report would stretch it)")
	require.Equal(t, "opus", info.Audio.Codec)
	require.InDelta(t, 5, info.Duration.Seconds(), 0.8)
	require.NoError(t, client.Close())
}

// A consumer that never reads makes the live path drop and count frames;
// the recording still gets every frame and Close does not hang.
func TestSlowConsumerDropsNotStalls(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "519.mp4")
	ivf, _ := whiptest.Fixtures(t, clip, 6, 640, 25, false, true)
	client, pub, _ := publish(t, whip.Config{QueueFrames: 5}, whiptest.Options{Video: ivf})
	tr := <-pub.Tracks()
	// Read one frame, then stall.
	_, err := tr.Video.Next()
	require.NoError(t, err)
	<-client.Finished()
	time.Sleep(300 * time.Millisecond)
	st := pub.Stats()
	require.Len(t, st, 1)
	require.Greater(t, st[0].Dropped, int64(0), "frames were dropped, not queued without bound")
	require.InDelta(t, 150, st[0].Frames, 10, "every frame was recorded")
	closed := make(chan error)
	go func() { closed <- pub.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung on a stalled consumer")
	}
	for {
		if _, err := tr.Video.Next(); err != nil {
			require.True(t, errors.Is(err, io.EOF) || err != nil)
			break
		}
	}
	require.NoError(t, tr.Video.Close())
	require.NoError(t, client.Close())
}

func TestBadOffer(t *testing.T) {
	ep, err := whip.NewEndpoint(whip.Config{})
	require.NoError(t, err)
	for _, offer := range []string{"", "hello", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"} {
		_, _, err := ep.Publish(context.Background(), offer, t.TempDir())
		require.ErrorIs(t, err, whip.ErrBadOffer, "%q", offer)
	}
}

// vp8Offer returns a complete offer (every candidate gathered) of a peer
// that sends one VP8 track, and the peer's Close (deferred by the caller,
// so that it runs before the test's goroutine check).
func vp8Offer(t *testing.T) (string, func() error) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "offer")
	require.NoError(t, err)
	_, err = pc.AddTrack(tr)
	require.NoError(t, err)
	offer, err := pc.CreateOffer(nil)
	require.NoError(t, err)
	gathered := webrtc.GatheringCompletePromise(pc)
	require.NoError(t, pc.SetLocalDescription(offer))
	<-gathered
	return pc.LocalDescription().SDP, pc.Close
}

// An offer whose request has gone is not answered: Publish returns the
// context's error and leaves nothing running.
func TestPublishCancelled(t *testing.T) {
	defer test.CheckRoutines(t)()
	ep, err := whip.NewEndpoint(whip.Config{})
	require.NoError(t, err)
	offer, closePeer := vp8Offer(t)
	defer closePeer()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pub, _, err := ep.Publish(ctx, offer, t.TempDir())
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, pub)
}

// Each video codec a WHIP client may send (browsers offer VP8, VP9 and
// H.264; OBS sends H.264) is decoded live and recorded.
func TestVideoCodecs(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	for _, tc := range []struct{ codec, mime, probed string }{
		{"vp8", "video/VP8", "vp8"},
		{"vp9", "video/VP9", "vp9"},
		{"h264", "video/H264", "h264"},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			client, pub, dir := publish(t, whip.Config{}, whiptest.Options{Video: whiptest.VideoFixture(t, clip, 3, tc.codec)})
			var tr whip.Track
			select {
			case tr = <-pub.Tracks():
			case <-time.After(10 * time.Second):
				t.Fatal("no track arrived")
			}
			require.Equal(t, "video", tr.Kind)
			require.True(t, strings.EqualFold(tc.mime, tr.Codec), tr.Codec)
			var frames, width int
			decoded := make(chan struct{})
			go func() { defer close(decoded); frames, width = drain(tr) }()
			finish(t, client, pub)
			<-decoded
			require.Equal(t, 512, width)
			require.InDelta(t, 15, frames, 5, "3 s at the 5-fps live rate")
			st := pub.Stats()
			require.Len(t, st, 1)
			require.InDelta(t, 75, st[0].Frames, 5, "every frame recorded")
			info := probeRecording(t, pub, dir)
			require.Equal(t, tc.probed, info.Video.Codec)
			require.InDelta(t, 3, info.Duration.Seconds(), 0.6)
			require.NoError(t, client.Close())
		})
	}
}

// A camera that starts a second after the microphone: the recording keeps
// that offset, measured by the sender's clock (RTCP sender reports), so
// that lip sync in the offline report sees the call as it was captured.
func TestRecordingAlignedBySenderReports(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf, ogg := whiptest.Fixtures(t, clip, 4, 640, 25, false, false)
	client, pub, dir := publish(t, whip.Config{}, whiptest.Options{Video: ivf, Audio: ogg, VideoDelay: time.Second})
	for range 2 {
		select {
		case tr := <-pub.Tracks():
			go drain(tr)
		case <-time.After(10 * time.Second):
			t.Fatal("tracks did not arrive")
		}
	}
	finish(t, client, pub)
	d, bySR, ok := pub.Alignment()
	require.True(t, ok)
	require.True(t, bySR, "the pion publisher sends sender reports")
	require.InDelta(t, 1.0, d.Seconds(), 0.15, "video starts a second after the audio")
	info := probeRecording(t, pub, dir)
	require.InDelta(t, 1.0, (info.Video.Offset - info.Audio.Offset).Seconds(), 0.15)
	require.NoError(t, client.Close())
}

// publish connects a pion test publisher to a new endpoint with cfg and
// returns it with its publication and the recording folder. Both are
// closed at the end of the test (Close is idempotent).
func publish(t *testing.T, cfg whip.Config, o whiptest.Options) (*whiptest.Publisher, *whip.Publication, string) {
	t.Helper()
	ep, err := whip.NewEndpoint(cfg)
	require.NoError(t, err)
	dir := t.TempDir()
	var pub *whip.Publication
	client, err := whiptest.PublishWith(context.Background(), func(offer string) (string, error) {
		p, answer, err := ep.Publish(context.Background(), offer, dir)
		pub = p
		return answer, err
	}, o)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close(); pub.Close() })
	return client, pub, dir
}

// finish waits for a non-looping publisher to send everything, lets the
// last packets land and closes the publication.
func finish(t *testing.T, client *whiptest.Publisher, pub *whip.Publication) {
	t.Helper()
	select {
	case <-client.Finished():
	case <-time.After(20 * time.Second):
		t.Fatal("publisher did not finish")
	}
	require.NoError(t, client.Err())
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, pub.Close())
}

// probeRecording merges pub's recording and probes it.
func probeRecording(t *testing.T, pub *whip.Publication, dir string) *media.Info {
	t.Helper()
	out := filepath.Join(dir, "recording.mkv")
	require.NoError(t, pub.Recording(context.Background(), out))
	info, err := media.Tools{}.Probe(context.Background(), out)
	require.NoError(t, err)
	return info
}

// drain reads a track to its end and closes it, as a consumer that keeps
// up; it returns the number of frames or audio samples read and the last
// video frame's width.
func drain(tr whip.Track) (n, width int) {
	if tr.Video != nil {
		defer tr.Video.Close()
		for f, err := tr.Video.Next(); err == nil; f, err = tr.Video.Next() {
			n++
			width = f.Image.Cols()
		}
		return n, width
	}
	defer tr.Audio.Close()
	for c, err := tr.Audio.Next(); err == nil; c, err = tr.Audio.Next() {
		n += len(c.Samples)
	}
	return n, 0
}

// With FullBand the audio track also carries the sound at 48 kHz, decoded
// once with the voice; a consumer reading both keeps up and loses nothing.
func TestFullBandAudio(t *testing.T) {
	defer test.CheckRoutines(t)()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	_, ogg := whiptest.Fixtures(t, clip, 5, 640, 25, false, false)
	client, pub, _ := publish(t, whip.Config{FullBand: true}, whiptest.Options{Audio: ogg})
	var tr whip.Track
	select {
	case tr = <-pub.Tracks():
	case <-time.After(10 * time.Second):
		t.Fatal("no track")
	}
	require.Equal(t, "audio", tr.Kind)
	require.NotNil(t, tr.FullBand)
	require.Equal(t, media.VoiceRate, tr.Audio.Rate())
	require.Equal(t, 48000, tr.FullBand.Rate())
	counts := make([]int, 2)
	var wg sync.WaitGroup
	for i, ar := range []*media.AudioReader{tr.Audio, tr.FullBand} {
		wg.Add(1)
		go func() { // each on its own goroutine: they share one decoder
			defer wg.Done()
			defer ar.Close()
			for c, err := ar.Next(); err == nil; c, err = ar.Next() {
				counts[i] += len(c.Samples)
			}
		}()
	}
	finish(t, client, pub)
	wg.Wait()
	require.InDelta(t, 5*media.VoiceRate, counts[0], 0.6*media.VoiceRate)
	require.InDelta(t, 5*48000, counts[1], 0.6*48000)
	st := pub.Stats()
	require.Len(t, st, 1)
	require.Zero(t, st[0].Dropped)
}

// Behind 1:1 NAT (--public-ip) the answer's IPv4 host candidates carry the
// public address, never the machine's own, and no private or link-local
// IPv6 address is offered either.
func TestPublicIPsReplaceHostCandidates(t *testing.T) {
	defer test.CheckRoutines(t)()
	ep, err := whip.NewEndpoint(whip.Config{PublicIPs: []string{"203.0.113.7"}})
	require.NoError(t, err)
	offer, closePeer := vp8Offer(t)
	defer closePeer()
	pub, answer, err := ep.Publish(context.Background(), offer, t.TempDir())
	require.NoError(t, err)
	defer pub.Close()
	var v4 int
	for _, line := range strings.Split(answer, "\r\n") {
		if !strings.HasPrefix(line, "a=candidate:") || !strings.Contains(line, " typ host") {
			continue
		}
		// a=candidate:foundation component transport priority address port typ host
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 8, line)
		a, err := netip.ParseAddr(f[4])
		require.NoError(t, err, line)
		if a.Unmap().Is4() {
			require.Equal(t, "203.0.113.7", f[4], line)
			v4++
		} else {
			require.True(t, a.IsGlobalUnicast() && !a.IsPrivate(), "a local IPv6 address is offered: %s", line)
		}
	}
	require.Positive(t, v4, "the answer carries the public IPv4 host candidate:\n%s", answer)
}

// A publication with a region delivers only that part of the picture live
// (a candidate's tile in a shared meeting window), while the recording
// keeps the whole picture.
func TestPublishRegion(t *testing.T) {
	defer test.CheckRoutines(t)()
	src := filepath.Join(t.TempDir(), "gallery.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "color=red:s=320x180:d=3", "-f", "lavfi", "-i", "color=lime:s=320x180:d=3",
		"-f", "lavfi", "-i", "color=blue:s=320x180:d=3", "-f", "lavfi", "-i", "color=white:s=320x180:d=3",
		"-filter_complex", "[0][1][2][3]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", src)
	ivf := whiptest.VideoFixture(t, src, 3, "vp8")
	ep, err := whip.NewEndpoint(whip.Config{})
	require.NoError(t, err)
	region, err := media.ParseRegion("bottom-left")
	require.NoError(t, err)
	dir := t.TempDir()
	var pub *whip.Publication
	client, err := whiptest.PublishWith(context.Background(), func(offer string) (string, error) {
		p, answer, err := ep.PublishWith(context.Background(), offer, dir, whip.PublishOptions{Region: region})
		pub = p
		return answer, err
	}, whiptest.Options{Video: ivf})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close(); pub.Close() })

	var tr whip.Track
	select {
	case tr = <-pub.Tracks():
	case <-time.After(10 * time.Second):
		t.Fatal("no track arrived")
	}
	var w, h, frames int
	var blue, other float64
	decoded := make(chan struct{})
	go func() {
		defer close(decoded)
		defer tr.Video.Close()
		for f, err := tr.Video.Next(); err == nil; f, err = tr.Video.Next() {
			frames++
			w, h = f.Image.Cols(), f.Image.Rows()
			m := f.Image.Mean()
			blue, other = m.Val1, math.Max(m.Val2, m.Val3)
		}
	}()
	finish(t, client, pub)
	<-decoded
	require.Positive(t, frames)
	require.Equal(t, []int{320, 180}, []int{w, h}, "the bottom-left quarter")
	require.Greater(t, blue, 200.0, "blue: the bottom-left tile")
	require.Less(t, other, 60.0)
	info := probeRecording(t, pub, dir)
	require.Equal(t, []int{640, 360}, []int{info.Video.Width, info.Video.Height}, "the recording keeps the whole picture")
	require.NoError(t, client.Close())

	_, _, err = ep.PublishWith(context.Background(), "v=0\r\nm=video", dir, whip.PublishOptions{Region: media.Region{X: 0.9, W: 0.5, H: 1}})
	require.ErrorIs(t, err, media.ErrBadRegion)
}
