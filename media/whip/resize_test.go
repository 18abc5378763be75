package whip_test

import (
	"fmt"
	"image"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/media/whip"
)

// A sender that steps its picture size up and down, as WebRTC senders do
// as their bandwidth estimate moves (Chromium sends a 720p camera at
// 320×180 for its first seconds): the live frames follow, each at its
// picture's own size, with frame numbers and timestamps running on across
// the decoder restarts. Before, every frame came at the first picture's
// 320×180. H.264 restarts at an IDR that carries the parameter sets.
func TestPublishPictureSizeChange(t *testing.T) {
	src := filepath.Join(t.TempDir(), "pattern.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=7", "-c:v", "libx264", "-preset", "ultrafast", src)
	for _, codec := range []string{"vp8", "vp9", "h264"} {
		t.Run(codec, func(t *testing.T) {
			publishSteps(t, whiptest.SteppedVideo(t, src, codec,
				[]whiptest.Step{{Width: 320, Seconds: 2}, {Width: 640, Seconds: 3}, {Width: 320, Seconds: 2}}))
		})
	}
}

// publishSteps publishes the stepped video and checks what the live track
// delivers (see TestPublishPictureSizeChange).
func publishSteps(t *testing.T, video string) {
	defer test.CheckRoutines(t)()
	client, pub, _ := publish(t, whip.Config{}, whiptest.Options{Video: video})
	var tr whip.Track
	select {
	case tr = <-pub.Tracks():
	case <-time.After(10 * time.Second):
		t.Fatal("no track arrived")
	}
	type seen struct {
		size image.Point
		pts  time.Duration
	}
	var frames []seen
	decoded := make(chan error, 1)
	go func() {
		defer tr.Video.Close()
		for {
			f, err := tr.Video.Next()
			if err != nil {
				decoded <- err
				return
			}
			if f.Index != len(frames) {
				decoded <- fmt.Errorf("frame %d numbered %d", len(frames), f.Index)
				return
			}
			frames = append(frames, seen{image.Pt(f.Image.Cols(), f.Image.Rows()), f.PTS})
		}
	}()
	finish(t, client, pub)
	require.ErrorContains(t, <-decoded, "EOF")
	require.NoError(t, tr.Video.Close(), "Close is idempotent")

	// The sizes, in order, run by run.
	var runs []image.Point
	for i, f := range frames {
		if i == 0 || f.size != frames[i-1].size {
			runs = append(runs, f.size)
		}
		if i > 0 {
			require.Greater(t, f.pts, frames[i-1].pts, "frame %d's timestamp runs on", i)
		}
	}
	require.Equal(t, []image.Point{{320, 180}, {640, 360}, {320, 180}}, runs)
	require.InDelta(t, 7*5, len(frames), 5, "7 s at 5 fps")
	require.InDelta(t, 6.8, frames[len(frames)-1].pts.Seconds(), 0.6)
	// The larger pictures start within a keyframe interval (0.5 s) and the
	// fps filter's lag of the change.
	for _, f := range frames {
		if f.size.X == 640 {
			require.InDelta(t, 2.0, f.pts.Seconds(), 1.0, "the first 640×360 frame")
			break
		}
	}
	st := pub.Stats()
	require.Len(t, st, 1)
	require.Equal(t, int64(2), st[0].DecoderRestarts)
	require.Zero(t, st[0].Dropped)
	require.NoError(t, client.Close())
}
