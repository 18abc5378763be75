package media_test

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// Every container and codec the issue names: a 2-s clip made with ffmpeg
// decodes to about 20 frames at 10 fps and 2 s of 16-kHz audio.
func TestContainersAndCodecs(t *testing.T) {
	dir := t.TempDir()
	video := []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2"}
	audio := []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2"}
	for _, tc := range []struct {
		file      string
		vcodec    []string // nil: audio only
		acodec    []string // nil: video only
		wantCodec string
	}{
		{"h264-aac.mp4", []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}, []string{"-c:a", "aac"}, "h264"},
		{"hevc-aac.mp4", []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"}, []string{"-c:a", "aac"}, "hevc"},
		{"h264-pcm.mov", []string{"-c:v", "libx264", "-preset", "ultrafast"}, []string{"-c:a", "pcm_s16le"}, "h264"},
		{"vp9-opus.mkv", []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"}, []string{"-c:a", "libopus"}, "vp9"},
		{"av1-opus.mkv", []string{"-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1"}, []string{"-c:a", "libopus"}, "av1"},
		{"vp8-vorbis.webm", []string{"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"}, []string{"-c:a", "libvorbis"}, "vp8"},
		{"vp8-opus.webm", []string{"-c:v", "libvpx", "-deadline", "realtime"}, []string{"-c:a", "libopus"}, "vp8"},
		{"mpeg4-mp3.avi", []string{"-c:v", "mpeg4"}, []string{"-c:a", "libmp3lame"}, "mpeg4"},
		{"aac.m4a", nil, []string{"-c:a", "aac"}, ""},
		{"audio.mp3", nil, []string{"-c:a", "libmp3lame"}, ""},
		{"audio.wav", nil, []string{"-c:a", "pcm_s16le"}, ""},
		{"audio.flac", nil, []string{"-c:a", "flac"}, ""},
		{"audio.ogg", nil, []string{"-c:a", "libopus"}, ""},
		{"video-only.mp4", []string{"-c:v", "libx264", "-preset", "ultrafast"}, nil, "h264"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			var args []string
			if tc.vcodec != nil {
				args = append(args, video...)
			}
			if tc.acodec != nil {
				args = append(args, audio...)
			}
			if tc.vcodec != nil {
				args = append(args, tc.vcodec...)
			}
			if tc.acodec != nil {
				args = append(args, tc.acodec...)
			}
			testutil.FFmpeg(t, append(args, path)...)

			ctx := context.Background()
			var tools media.Tools
			info, err := tools.Probe(ctx, path)
			require.NoError(t, err)
			require.Equal(t, tc.vcodec != nil, info.HasVideo())
			require.Equal(t, tc.acodec != nil, info.HasAudio())
			require.InDelta(t, 2.0, info.Duration.Seconds(), 0.15)
			if tc.vcodec != nil {
				require.Equal(t, tc.wantCodec, info.Video.Codec)
				require.InDelta(t, 20, countFrames(t, tools, info), 2)
			} else {
				_, err := tools.OpenVideo(ctx, info, media.DefaultVideoOptions())
				require.ErrorIs(t, err, media.ErrNoVideo)
			}
			if tc.acodec != nil {
				secs := decodeAudioSeconds(t, tools, info, media.VoiceRate)
				require.InDelta(t, 2.0, secs, 0.1)
			} else {
				_, err := tools.OpenAudio(ctx, info, media.AudioOptions{SampleRate: media.VoiceRate})
				require.ErrorIs(t, err, media.ErrNoAudio)
			}
		})
	}
}

func countFrames(t *testing.T, tools media.Tools, info *media.Info) int {
	t.Helper()
	vr, err := tools.OpenVideo(context.Background(), info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	n := 0
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		require.NoError(t, err)
		require.False(t, f.Image.Empty())
		n++
	}
}

func decodeAudioSeconds(t *testing.T, tools media.Tools, info *media.Info, rate int) float64 {
	t.Helper()
	ar, err := tools.OpenAudio(context.Background(), info, media.AudioOptions{SampleRate: rate})
	require.NoError(t, err)
	defer ar.Close()
	var n, got int
	var peak float32
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if rate > 0 {
			require.Equal(t, rate, c.Rate)
		}
		n += len(c.Samples)
		got = c.Rate
		for _, s := range c.Samples {
			peak = max(peak, s)
		}
	}
	require.Greater(t, peak, float32(0.05), "the sine must come through")
	return float64(n) / float64(got)
}

// A full-band reader keeps the source's own rate.
func TestFullBandKeepsSourceRate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.flac")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=1", "-c:a", "flac", path)
	info, err := media.Tools{}.Probe(context.Background(), path)
	require.NoError(t, err)
	require.InDelta(t, 1.0, decodeAudioSeconds(t, media.Tools{}, info, 0), 0.05)
	ar, err := media.Tools{}.OpenAudio(context.Background(), info, media.AudioOptions{})
	require.NoError(t, err)
	defer ar.Close()
	require.Equal(t, 44100, ar.Rate())
}

// Variable frame rate input: timestamps follow the source clock, not the
// frame count.
func TestVariableFrameRate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vfr.mkv")
	// 2 s at 30 fps, then 2 s at 5 fps, as one stream with real timestamps.
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=4",
		"-vf", "select='lt(t,2)+not(mod(n,6))'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", path)
	var tools media.Tools
	info, err := tools.Probe(context.Background(), path)
	require.NoError(t, err)
	vr, err := tools.OpenVideo(context.Background(), info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	var last time.Duration
	n := 0
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.GreaterOrEqual(t, f.PTS, last)
		last = f.PTS
		n++
	}
	require.InDelta(t, 3.9, last.Seconds(), 0.25, "the last frame sits near 4 s")
	require.InDelta(t, 40, n, 4, "10 fps sampling over 4 s")
}

// A phone video with a rotation flag is delivered upright.
func TestRotatedVideoIsUpright(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "landscape.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1", "-c:v", "libx264", "-preset", "ultrafast", src)
	rotated := filepath.Join(dir, "rotated.mp4")
	testutil.FFmpeg(t, "-i", src, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
	var tools media.Tools
	info, err := tools.Probe(context.Background(), rotated)
	require.NoError(t, err)
	require.Contains(t, []int{90, 270}, info.Video.Rotation)
	require.Equal(t, 240, info.Video.DisplayWidth)
	require.Equal(t, 320, info.Video.DisplayHeight)
	vr, err := tools.OpenVideo(context.Background(), info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	f, err := vr.Next()
	require.NoError(t, err)
	require.Equal(t, 240, f.Image.Cols())
	require.Equal(t, 320, f.Image.Rows())
}

// Cancelling the context stops and reaps ffmpeg.
func TestCancelReapsFFmpeg(t *testing.T) {
	clip := testutil.CorpusFile(t, "genuine", "519.mp4")
	ctx, cancel := context.WithCancel(context.Background())
	var tools media.Tools
	info, err := tools.Probe(ctx, clip)
	require.NoError(t, err)
	vr, err := tools.OpenVideo(ctx, info, media.DefaultVideoOptions())
	require.NoError(t, err)
	ar, err := tools.OpenAudio(ctx, &media.Info{Path: clip, Audio: &media.AudioInfo{Index: 0, SampleRate: 16000, Channels: 1}}, media.AudioOptions{})
	require.NoError(t, err)
	_, err = vr.Next()
	require.NoError(t, err)
	cancel()
	for {
		if _, err := vr.Next(); err != nil {
			break
		}
	}
	require.NoError(t, vr.Close())
	require.NoError(t, ar.Close())
	testutil.NoChildProcesses(t)
}

// With the analysis's high-pass a DC offset (a cheap sound card's, or a
// badly normalised file's) does not reach the detectors, from a file or from
// a live stream: it would add to every frame's level and hide the voice from
// level-based measurements. The tone itself comes through.
func TestAudioDCOffsetRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dc.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "aevalsrc=0.3+0.2*sin(2*PI*300*t):s=48000:d=2", "-c:a", "pcm_s16le", path)
	stats := func(t *testing.T, ar *media.AudioReader) (mean, rms float64) {
		t.Helper()
		var sum, sq float64
		var n int
		for {
			c, err := ar.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			for _, s := range c.Samples {
				if n >= media.VoiceRate/2 { // after the filter settles
					sum += float64(s)
					sq += float64(s) * float64(s)
				}
				n++
			}
		}
		m := float64(n - media.VoiceRate/2)
		return sum / m, math.Sqrt(sq / m)
	}
	t.Run("file", func(t *testing.T) {
		info, err := media.Tools{}.Probe(context.Background(), path)
		require.NoError(t, err)
		ar, err := media.Tools{}.OpenAudio(context.Background(), info, media.AudioOptions{SampleRate: media.VoiceRate, HighPass: media.DCHighPass})
		require.NoError(t, err)
		defer ar.Close()
		mean, rms := stats(t, ar)
		assert.InDelta(t, 0, mean, 0.003, "the 0.3 offset is gone")
		assert.InDelta(t, 0.2/math.Sqrt2, rms, 0.01, "the tone keeps its level")
	})
	t.Run("without the high-pass the samples are as decoded", func(t *testing.T) {
		info, err := media.Tools{}.Probe(context.Background(), path)
		require.NoError(t, err)
		ar, err := media.Tools{}.OpenAudio(context.Background(), info, media.AudioOptions{SampleRate: media.VoiceRate})
		require.NoError(t, err)
		defer ar.Close()
		mean, _ := stats(t, ar)
		assert.InDelta(t, 0.3, mean, 0.003)
	})
	t.Run("stream", func(t *testing.T) {
		stream, err := os.ReadFile(path)
		require.NoError(t, err)
		ar, w, err := media.Tools{}.DecodeAudio(context.Background(), "wav", media.AudioOptions{SampleRate: media.VoiceRate, HighPass: media.DCHighPass})
		require.NoError(t, err)
		defer ar.Close()
		go func() {
			_, _ = w.Write(stream)
			_ = w.Close()
		}()
		mean, rms := stats(t, ar)
		assert.InDelta(t, 0, mean, 0.003)
		assert.InDelta(t, 0.2/math.Sqrt2, rms, 0.01)
	})
}

// A floating-point WAV with NaN and infinite samples (a broken export): the
// bad samples become silence and the sound after them comes through. Before,
// the first NaN entered the high-pass and the resampler and every later
// sample was NaN, read as silence: the voice was lost from 1 s on.
func TestAudioNonFiniteSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nan.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i",
		"aevalsrc='if(between(t,1,1.0001),0/0,if(between(t,2,2.0001),1/0,0.3*sin(2*PI*300*t)))':s=48000:d=4",
		"-c:a", "pcm_f32le", path)
	info, err := media.Tools{}.Probe(context.Background(), path)
	require.NoError(t, err)
	for _, rate := range []int{media.VoiceRate, 0} { // resampled, and at the source's rate
		ar, err := media.Tools{}.OpenAudio(context.Background(), info, media.AudioOptions{SampleRate: rate, HighPass: media.DCHighPass})
		require.NoError(t, err)
		var sq float64
		var n, late int
		for {
			c, err := ar.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			for i, s := range c.Samples {
				require.False(t, math.IsNaN(float64(s)) || math.IsInf(float64(s), 0), "sample %d", n)
				if c.Start.Seconds()+float64(i)/float64(c.Rate) > 2.5 {
					sq += float64(s) * float64(s)
					late++
				}
				n++
			}
		}
		require.NoError(t, ar.Close())
		require.Positive(t, late)
		assert.InDelta(t, 0.3/math.Sqrt2, math.Sqrt(sq/float64(late)), 0.01, "rate %d: the tone after the bad samples keeps its level", rate)
	}
}
