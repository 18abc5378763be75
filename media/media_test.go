package media_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if kids := testutil.ChildProcesses(); len(kids) > 0 {
		println("leaked child processes:", len(kids))
		code = 1
	}
	os.Exit(code)
}

func TestProbeAndDecodeCorpusClip(t *testing.T) {
	clip := testutil.CorpusFile(t, "genuine", "519.mp4")
	var tools media.Tools
	info, err := tools.Probe(context.Background(), clip)
	require.NoError(t, err)
	require.True(t, info.HasVideo())
	require.Equal(t, 640, info.Video.Width)
	require.Equal(t, 480, info.Video.Height)

	vr, err := tools.OpenVideo(context.Background(), info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	w, h := vr.Size()
	require.Equal(t, 640, w)
	require.Equal(t, 480, h)
	n := 0
	var last float64
	for {
		f, err := vr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.Equal(t, 480, f.Image.Rows())
		if n > 0 {
			require.InDelta(t, 0.1, f.PTS.Seconds()-last, 0.001)
		}
		last = f.PTS.Seconds()
		n++
	}
	require.InDelta(t, info.Duration.Seconds()*10, n, 2)
	require.NoError(t, vr.Close())
	require.NoError(t, vr.Close(), "Close is idempotent")
}

func TestBadPaths(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.mp4")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	text := filepath.Join(dir, "notes.mp4")
	require.NoError(t, os.WriteFile(text, []byte("this is not a video\n"), 0o644))
	photo := filepath.Join(dir, "photo.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=160x120", "-frames:v", "1", "-c:v", "png", "-f", "image2", photo)
	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"missing", filepath.Join(dir, "nope.mp4"), media.ErrNotFound},
		{"directory", dir, media.ErrIsDirectory},
		{"empty", empty, media.ErrEmpty},
		{"text", text, media.ErrNotMedia},
		{"a photo", photo, media.ErrStillImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := media.Tools{}.Probe(context.Background(), tc.path)
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, media.ErrUnusableInput)
			if tc.want != media.ErrStillImage {
				require.NotErrorIs(t, err, media.ErrStillImage)
			}
		})
	}
}

// A playlist or concat list makes ffmpeg read the files it names, which
// may be anywhere on the disk: an upload must not be able to have the
// server analyse them. Both are refused, whatever the file is called; the
// segment itself is readable.
func TestFilesThatNameOtherFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	seg := filepath.Join(dir, "elsewhere.ts")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts", seg)
	info, err := media.Tools{}.Probe(context.Background(), seg)
	require.NoError(t, err, "the segment itself is a recording")
	require.Equal(t, "mpegts", info.Demuxer)

	for _, tc := range []struct{ name, body string }{
		{"hls", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\n" + seg + "\n#EXTINF:2.0,\n" + seg + "\n#EXT-X-ENDLIST\n"},
		{"concat", "ffconcat version 1.0\nfile '" + seg + "'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".mp4")
			require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
			_, err := media.Tools{}.Probe(context.Background(), path)
			require.ErrorIs(t, err, media.ErrNotMedia)
			require.ErrorIs(t, err, media.ErrUnusableInput)
		})
	}
}

// Each stream's own length is read, from ffprobe or from Matroska's
// per-track DURATION tag: a stream may end before its container.
func TestStreamDurations(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"short-sound.mkv", "short-sound.mp4"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=4",
				"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
				"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", path)
			info, err := media.Tools{}.Probe(context.Background(), path)
			require.NoError(t, err)
			require.InDelta(t, 4, info.Duration.Seconds(), 0.1)
			require.InDelta(t, 4, info.Video.Duration.Seconds(), 0.1)
			require.InDelta(t, 2, info.Audio.Duration.Seconds(), 0.1)
		})
	}
}

// A video of one picture gives that picture: the frame-rate filter would
// otherwise round its end (1/25 s) down to no output frame at all, and the
// recording would be "nothing decoded". Longer videos are sampled as
// before, without an extra frame at the end.
func TestSingleFrameVideo(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"one.mp4", []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "1", "-c:v", "libx264"}, 1},
		{"one.webm", []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "1", "-c:v", "libvpx"}, 1},
		{"one-with-sound.mkv", []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=duration=3",
			"-map", "0:v", "-map", "1:a", "-frames:v", "1", "-c:v", "libx264", "-c:a", "libopus"}, 1},
		{"two-seconds.mp4", []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2", "-c:v", "libx264"}, 20},
		{"three-frames.mp4", []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "3", "-c:v", "libx264"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			testutil.FFmpeg(t, append(c.args, path)...)
			var tools media.Tools
			info, err := tools.Probe(context.Background(), path)
			require.NoError(t, err)
			require.Equal(t, c.want, countFrames(t, tools, info))
		})
	}
}
