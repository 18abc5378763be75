package media_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// A live stream written into DecodeVideo comes out as BGR frames of the
// first picture's size at the analysis rate, even when the size changes:
// ffmpeg scales later pictures to it, and the reader says so (Resized).
func TestDecodeVideoFromPipe(t *testing.T) {
	stream := joinedStream(t, "800x600", "320x180")
	vr, n := decodeLive(t, stream, media.DefaultVideoOptions(), func(f media.Frame) {
		require.Equal(t, 640, f.Image.Cols())
		require.Equal(t, 480, f.Image.Rows())
	})
	require.InDelta(t, 30, n, 2, "3 s at 10 fps")
	require.True(t, vr.Resized())
	require.NoError(t, vr.Close())
	require.NoError(t, vr.Close())
}

// Resized reports a change of the delivered picture size (after the crop
// and the width cap), not of the stream's.
func TestDecodeVideoResized(t *testing.T) {
	tests := []struct {
		name  string
		sizes []string
		opts  media.VideoOptions
		want  bool
	}{
		{"one size", []string{"640x360"}, media.DefaultVideoOptions(), false},
		{"steps up", []string{"320x180", "640x360"}, media.DefaultVideoOptions(), true},
		{"steps down", []string{"640x360", "320x180"}, media.DefaultVideoOptions(), true},
		{"both above the width cap", []string{"1280x720", "960x540"}, media.DefaultVideoOptions(), false},
		{"steps up under a lower cap", []string{"320x180", "640x360"}, media.VideoOptions{FPS: 10, MaxWidth: 320}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vr, n := decodeLive(t, joinedStream(t, tt.sizes...), tt.opts, func(media.Frame) {})
			require.Greater(t, n, 0)
			require.Equal(t, tt.want, vr.Resized())
		})
	}
}

// joinedStream returns an IVF stream of VP8 test pictures, one second
// (two for the first) at each of sizes in turn, each change at a
// keyframe as a WebRTC sender makes it.
func joinedStream(t *testing.T, sizes ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	list := ""
	for i, size := range sizes {
		d := "1"
		if i == 0 {
			d = "2"
		}
		part := filepath.Join(dir, fmt.Sprintf("%d.ivf", i))
		testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s="+size+":r=25:d="+d, "-c:v", "libvpx", "-deadline", "realtime", part)
		list += "file '" + part + "'\n"
	}
	listPath := filepath.Join(dir, "list.txt")
	require.NoError(t, os.WriteFile(listPath, []byte(list), 0o644))
	joined := filepath.Join(dir, "joined.ivf")
	testutil.FFmpeg(t, "-f", "concat", "-safe", "0", "-i", listPath, "-c", "copy", joined)
	stream, err := os.ReadFile(joined)
	require.NoError(t, err)
	return stream
}

// A live decoder delivers its first picture after a few frames of input,
// not after the 20 or so ffmpeg reads by default to guess the frame rate
// (0.7 s of a call, at the start and at every restart for a new picture
// size). The frames are written one by one, each once the decoder has had
// 300 ms to answer the previous one, in the 90-kHz clock of the live
// path's IVF (with a 1/25 time base ffmpeg settles the rate sooner).
func TestDecodeVideoStartsPromptly(t *testing.T) {
	stream := joinedStream(t, "640x360")
	hl := int(binary.LittleEndian.Uint16(stream[6:8]))
	binary.LittleEndian.PutUint32(stream[16:], 90000) // time base 1/90000
	binary.LittleEndian.PutUint32(stream[20:], 1)
	for i, k := hl, uint64(0); i+12 <= len(stream); k++ {
		binary.LittleEndian.PutUint64(stream[i+4:], k*3600+k%3*90) // 25 fps, with jitter
		i += 12 + int(binary.LittleEndian.Uint32(stream[i:]))
	}
	vr, w, err := media.Tools{}.DecodeVideo(context.Background(), "ivf", media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	first := make(chan struct{})
	go func() {
		defer close(first)
		_, _ = vr.Next()
	}()
	_, err = w.Write(stream[:hl])
	require.NoError(t, err)
	written := 0
	for i := hl; i+12 <= len(stream); written++ {
		n := 12 + int(binary.LittleEndian.Uint32(stream[i:]))
		_, err := w.Write(stream[i : i+n])
		require.NoError(t, err)
		i += n
		select {
		case <-first:
			require.NoError(t, w.Close())
			t.Logf("first picture after %d frames", written+1)
			require.LessOrEqual(t, written+1, 12)
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
	t.Fatal("no picture")
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
