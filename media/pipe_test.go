package media_test

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
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

	vr, n := decodeLive(t, stream, media.DefaultVideoOptions(), func(f media.Frame) {
		require.Equal(t, 640, f.Image.Cols())
		require.Equal(t, 480, f.Image.Rows())
	})
	require.InDelta(t, 30, n, 2, "3 s at 10 fps")
	require.NoError(t, vr.Close())
	require.NoError(t, vr.Close())
}

// decodeLive writes stream (IVF) into a live decoder with opts, calls each
// for every frame to the end, and returns the reader (closed when the test
// ends) and the number of frames.
func decodeLive(t *testing.T, stream []byte, opts media.VideoOptions, each func(media.Frame)) (*media.VideoReader, int) {
	t.Helper()
	vr, w, err := media.Tools{}.DecodeVideo(context.Background(), "ivf", opts)
	require.NoError(t, err)
	t.Cleanup(func() { vr.Close() })
	go func() {
		_, _ = w.Write(stream)
		_ = w.Close()
	}()
	n := 0
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			return vr, n
		}
		require.NoError(t, err)
		each(f)
		n++
	}
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

// One decoder delivers a live stream twice, as the 16-kHz voice and at
// 48 kHz: a 12-kHz tone is in the second only.
func TestDecodeAudioStreamsFromPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ogg")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "sine=frequency=12000:sample_rate=48000:duration=2", "-c:a", "libopus", "-b:a", "96k", path)
	stream, err := os.ReadFile(path)
	require.NoError(t, err)
	ars, w, err := media.Tools{}.DecodeAudioStreams(context.Background(), "ogg",
		[]media.AudioOptions{{SampleRate: media.VoiceRate}, {SampleRate: 48000}})
	require.NoError(t, err)
	require.Len(t, ars, 2)
	require.Len(t, testutil.ChildProcesses(), 1, "one ffmpeg for both")
	go func() {
		_, _ = w.Write(stream)
		_ = w.Close()
	}()
	type got struct {
		n      int
		energy float64
	}
	res := make([]got, 2)
	var wg sync.WaitGroup
	for i, ar := range ars {
		wg.Add(1)
		go func() { // each reader on its own goroutine
			defer wg.Done()
			for {
				c, err := ar.Next()
				if err != nil {
					assert.ErrorIs(t, err, io.EOF)
					return
				}
				for _, v := range c.Samples {
					res[i].energy += float64(v) * float64(v)
				}
				res[i].n += len(c.Samples)
			}
		}()
	}
	wg.Wait()
	for _, ar := range ars {
		require.NoError(t, ar.Close())
		require.NoError(t, ar.Close())
	}
	testutil.NoChildProcesses(t)
	require.InDelta(t, 2.0, float64(res[0].n)/media.VoiceRate, 0.05)
	require.InDelta(t, 2.0, float64(res[1].n)/48000, 0.05)
	voiceRMS := math.Sqrt(res[0].energy / float64(res[0].n))
	fullRMS := math.Sqrt(res[1].energy / float64(res[1].n))
	require.Greater(t, fullRMS, 0.05, "the tone (amplitude 1/8) is in the full band")
	require.Less(t, voiceRMS, fullRMS/30, "and not below 8 kHz")

	_, _, err = media.Tools{}.DecodeAudioStreams(context.Background(), "ogg", nil)
	require.Error(t, err)
	_, _, err = media.Tools{}.DecodeAudioStreams(context.Background(), "ogg", []media.AudioOptions{{}})
	require.Error(t, err)
}

// Closing a live decoder while its writer is still open does not hang.
func TestDecodeVideoCloseWhileStreaming(t *testing.T) {
	vr, w, err := media.Tools{}.DecodeVideo(context.Background(), "ivf", media.DefaultVideoOptions())
	require.NoError(t, err)
	_, _ = w.Write([]byte("DKIF"))
	require.NoError(t, vr.Close())
	testutil.NoChildProcesses(t)
}

// A live stream of odd width (a cropped screen share, a browser width
// constraint) comes out at an even width: 4:2:0 frames of odd width do not
// convert to BGR, and OpenCV aborted the whole process on them.
func TestDecodeVideoOddWidth(t *testing.T) {
	tests := []struct {
		name         string
		size         string
		opts         media.VideoOptions
		wantW, wantH int
	}{
		{"odd width below the cap", "479x270", media.DefaultVideoOptions(), 478, 270},
		{"odd width and height", "321x181", media.DefaultVideoOptions(), 320, 180},
		{"odd cap", "800x600", media.VideoOptions{FPS: 10, MaxWidth: 333}, 332, 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "odd.ivf")
			testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s="+tt.size+":r=25:d=1", "-c:v", "libvpx", "-deadline", "realtime", path)
			stream, err := os.ReadFile(path)
			require.NoError(t, err)
			_, n := decodeLive(t, stream, tt.opts, func(f media.Frame) {
				require.Equal(t, tt.wantW, f.Image.Cols())
				require.Equal(t, tt.wantH, f.Image.Rows())
			})
			require.InDelta(t, 10, n, 2, "1 s at 10 fps")
		})
	}
}
