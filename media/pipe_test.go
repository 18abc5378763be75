package media_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// A live stream written into DecodeVideo comes out as BGR frames of the
// first picture's size at the analysis rate, even when the size changes.
func TestDecodeVideoFromPipe(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.ivf"), filepath.Join(dir, "b.ivf")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=800x600:r=25:d=2", "-c:v", "libvpx", "-deadline", "realtime", a)
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=1", "-c:v", "libvpx", "-deadline", "realtime", b)
	list := filepath.Join(dir, "list.txt")
	require.NoError(t, os.WriteFile(list, []byte("file '"+a+"'\nfile '"+b+"'\n"), 0o644))
	ab := filepath.Join(dir, "ab.ivf")
	testutil.FFmpeg(t, "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", ab)
	stream, err := os.ReadFile(ab)
	require.NoError(t, err)

	vr, w, err := media.Tools{}.DecodeVideo(context.Background(), "ivf", media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	go func() {
		_, _ = w.Write(stream)
		_ = w.Close()
	}()
	n := 0
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Equal(t, 640, f.Image.Cols())
		require.Equal(t, 480, f.Image.Rows())
		n++
	}
	require.InDelta(t, 30, n, 2, "3 s at 10 fps")
	require.NoError(t, vr.Close())
	require.NoError(t, vr.Close())
}

func TestDecodeAudioFromPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ogg")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=2", "-c:a", "libopus", path)
	stream, err := os.ReadFile(path)
	require.NoError(t, err)
	ar, w, err := media.Tools{}.DecodeAudio(context.Background(), "ogg", media.AudioOptions{SampleRate: media.VoiceRate})
	require.NoError(t, err)
	defer ar.Close()
	go func() {
		_, _ = w.Write(stream)
		_ = w.Close()
	}()
	total := 0
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		total += len(c.Samples)
	}
	require.InDelta(t, 2.0, float64(total)/media.VoiceRate, 0.05)
}

// Closing a live decoder while its writer is still open does not hang.
func TestDecodeVideoCloseWhileStreaming(t *testing.T) {
	vr, w, err := media.Tools{}.DecodeVideo(context.Background(), "ivf", media.DefaultVideoOptions())
	require.NoError(t, err)
	_, _ = w.Write([]byte("DKIF"))
	require.NoError(t, vr.Close())
	testutil.NoChildProcesses(t)
}
