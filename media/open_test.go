package media_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// openClip makes a 3-s clip with picture and a 44.1-kHz sine and probes it.
func openClip(t *testing.T) *media.Info {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", path)
	info, err := media.Tools{}.Probe(context.Background(), path)
	require.NoError(t, err)
	return info
}

// digest reads a stream to its end and returns a hash of what it
// delivered, with the frame or sample count.
type digest struct {
	h hash.Hash
	n int
}

func videoDigest(t *testing.T, vr *media.VideoReader) digest {
	d := digest{h: sha256.New()}
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			return d
		}
		require.NoError(t, err)
		b, err := f.Image.DataPtrUint8()
		require.NoError(t, err)
		d.h.Write(b)
		d.h.Write([]byte(f.PTS.String()))
		d.n++
	}
}

func audioDigest(t *testing.T, ar *media.AudioReader) digest {
	d := digest{h: sha256.New()}
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return d
		}
		require.NoError(t, err)
		for _, s := range c.Samples {
			d.h.Write([]byte{byte(int32(s * 1e6)), byte(int32(s*1e6) >> 8), byte(int32(s*1e6) >> 16)})
		}
		d.n += len(c.Samples)
	}
}

// One ffmpeg decoding the picture and two sound streams delivers exactly
// what three separate ones do, and the last Close reaps it.
func TestOpenDecodesStreamsTogether(t *testing.T) {
	info := openClip(t)
	ctx := context.Background()
	var tools media.Tools
	vopts := media.DefaultVideoOptions()
	aopts := []media.AudioOptions{{SampleRate: media.VoiceRate}, {}}

	vr, ars, err := tools.Open(ctx, info, &vopts, aopts)
	require.NoError(t, err)
	require.NotNil(t, vr)
	require.Len(t, ars, 2)
	require.Len(t, testutil.ChildProcesses(), 1, "one ffmpeg for the three streams")
	require.Equal(t, media.VoiceRate, ars[0].Rate())
	require.Equal(t, 44100, ars[1].Rate())

	// Each stream on its own goroutine, as Open requires.
	var v digest
	a := make([]digest, 2)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); v = videoDigest(t, vr) }()
	for i := range ars {
		go func() { defer wg.Done(); a[i] = audioDigest(t, ars[i]) }()
	}
	wg.Wait()
	require.NoError(t, vr.Close())
	for _, ar := range ars {
		require.NoError(t, ar.Close())
		require.NoError(t, ar.Close(), "Close is idempotent")
	}
	testutil.NoChildProcesses(t)

	require.InDelta(t, 30, v.n, 1)
	require.InDelta(t, 3*media.VoiceRate, a[0].n, media.VoiceRate/10)
	require.InDelta(t, 3*44100, a[1].n, 4410)

	sep, err := tools.OpenVideo(ctx, info, vopts)
	require.NoError(t, err)
	want := videoDigest(t, sep)
	require.NoError(t, sep.Close())
	require.Equal(t, want.n, v.n)
	require.Equal(t, want.h.Sum(nil), v.h.Sum(nil), "same frames as OpenVideo")
	for i, o := range aopts {
		ar, err := tools.OpenAudio(ctx, info, o)
		require.NoError(t, err)
		want := audioDigest(t, ar)
		require.NoError(t, ar.Close())
		require.Equal(t, want.n, a[i].n)
		require.Equal(t, want.h.Sum(nil), a[i].h.Sum(nil), "same samples as OpenAudio at %d Hz", o.SampleRate)
	}
}

// Open leaves out what the file lacks and refuses segments.
func TestOpenMissingStreamsAndSegments(t *testing.T) {
	info := openClip(t)
	var tools media.Tools
	vopts := media.DefaultVideoOptions()

	picture := *info
	picture.Audio = nil
	vr, ars, err := tools.Open(context.Background(), &picture, &vopts, []media.AudioOptions{{SampleRate: media.VoiceRate}})
	require.NoError(t, err)
	require.NotNil(t, vr)
	require.Empty(t, ars)
	require.InDelta(t, 30, videoDigest(t, vr).n, 1)
	require.NoError(t, vr.Close())

	sound := *info
	sound.Video = nil
	vr, ars, err = tools.Open(context.Background(), &sound, &vopts, []media.AudioOptions{{SampleRate: media.VoiceRate}})
	require.NoError(t, err)
	require.Nil(t, vr)
	require.Len(t, ars, 1)
	require.InDelta(t, 3*media.VoiceRate, audioDigest(t, ars[0]).n, media.VoiceRate/10)
	require.NoError(t, ars[0].Close())

	seg := vopts
	seg.Start = time.Second
	_, _, err = tools.Open(context.Background(), info, &seg, nil)
	require.Error(t, err)
	_, _, err = tools.Open(context.Background(), info, nil, []media.AudioOptions{{Duration: time.Second}})
	require.Error(t, err)
	testutil.NoChildProcesses(t)
}

// OpenRange decodes one stretch of every stream, with times relative to
// its start, and refuses a negative range.
func TestOpenRange(t *testing.T) {
	info := openClip(t)
	var tools media.Tools
	vopts := media.DefaultVideoOptions()
	for _, tc := range []struct {
		name            string
		start, duration time.Duration
		seconds         float64
	}{
		{"middle", time.Second, 1500 * time.Millisecond, 1.5},
		{"to the end", 2 * time.Second, 0, 1},
		{"beyond the end", 2 * time.Second, 5 * time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vr, ars, err := tools.OpenRange(context.Background(), info, tc.start, tc.duration, &vopts, []media.AudioOptions{{SampleRate: media.VoiceRate}})
			require.NoError(t, err)
			require.Len(t, ars, 1)
			var first, last time.Duration = -1, 0
			frames := 0
			var samples int
			var firstAudio time.Duration = -1
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, err := ars[0].Next()
					if err != nil {
						return
					}
					if firstAudio < 0 {
						firstAudio = c.Start
					}
					samples += len(c.Samples)
				}
			}()
			for {
				f, err := vr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				if first < 0 {
					first = f.PTS
				}
				last = f.PTS
				frames++
			}
			wg.Wait()
			require.NoError(t, vr.Close())
			require.NoError(t, ars[0].Close())
			require.InDelta(t, tc.seconds*10, frames, 1)
			require.Less(t, first, 150*time.Millisecond, "times start at the range")
			require.InDelta(t, tc.seconds-0.1, last.Seconds(), 0.15)
			require.Less(t, firstAudio, 50*time.Millisecond)
			require.InDelta(t, tc.seconds*media.VoiceRate, samples, media.VoiceRate/10)
		})
	}
	_, _, err := tools.OpenRange(context.Background(), info, -time.Second, 0, &vopts, nil)
	require.Error(t, err)
	testutil.NoChildProcesses(t)
}

// Closing every reader early, with ffmpeg still writing, reaps it.
func TestOpenCloseEarlyReaps(t *testing.T) {
	info := openClip(t)
	vopts := media.DefaultVideoOptions()
	vr, ars, err := media.Tools{}.Open(context.Background(), info, &vopts, []media.AudioOptions{{SampleRate: media.VoiceRate}, {}})
	require.NoError(t, err)
	_, err = vr.Next()
	require.NoError(t, err)
	require.NoError(t, vr.Close())
	for _, ar := range ars {
		require.NoError(t, ar.Close())
	}
	testutil.NoChildProcesses(t)
}

// NextInto decodes into the caller's Mat (re-allocating one of the wrong
// size or type) exactly what Next delivers.
func TestNextIntoCallerMat(t *testing.T) {
	info := openClip(t)
	ctx := context.Background()
	var tools media.Tools
	vr, err := tools.OpenVideo(ctx, info, media.DefaultVideoOptions())
	require.NoError(t, err)
	want := videoDigest(t, vr)
	require.NoError(t, vr.Close())

	vr, err = tools.OpenVideo(ctx, info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	w, h := vr.Size()
	bufs := []gocv.Mat{gocv.NewMat(), gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8UC1)}
	defer func() {
		for i := range bufs {
			bufs[i].Close()
		}
	}()
	got := digest{h: sha256.New()}
	for {
		m := &bufs[got.n%2]
		f, err := vr.NextInto(m)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Equal(t, []int{h, w}, []int{m.Rows(), m.Cols()})
		require.Equal(t, gocv.MatTypeCV8UC3, m.Type())
		b, err := f.Image.DataPtrUint8()
		require.NoError(t, err)
		mb, err := m.DataPtrUint8()
		require.NoError(t, err)
		require.Equal(t, &mb[0], &b[0], "the frame is the caller's Mat")
		got.h.Write(b)
		got.h.Write([]byte(f.PTS.String()))
		got.n++
	}
	require.Equal(t, want.n, got.n)
	require.Equal(t, want.h.Sum(nil), got.h.Sum(nil))
}
