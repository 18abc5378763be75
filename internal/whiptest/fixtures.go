package whiptest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bonafide-dev/bonafide/internal/testutil"
)

// Fixtures converts the first seconds of src into the files Publish sends:
// VP8 in IVF (at most width pixels wide, fps frames per second) and Opus in
// Ogg with one 20-ms packet per page. Either is "" when src lacks the
// stream (noAudio/noVideo force that).
func Fixtures(t testing.TB, src string, seconds float64, width, fps int, noVideo, noAudio bool) (ivf, ogg string) {
	t.Helper()
	dir := t.TempDir()
	dur := fmt.Sprintf("%.2f", seconds)
	if !noVideo {
		ivf = filepath.Join(dir, "video.ivf")
		testutil.FFmpeg(t, "-i", src, "-t", dur, "-an",
			"-vf", fmt.Sprintf("scale=w='min(%d,iw)':h=-2,fps=%d", width, fps),
			"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1500k", "-g", fmt.Sprint(fps*2), ivf)
	}
	if !noAudio {
		ogg = filepath.Join(dir, "audio.ogg")
		testutil.FFmpeg(t, "-i", src, "-t", dur, "-vn", "-ac", "2", "-ar", "48000",
			"-c:a", "libopus", "-b:a", "48k", "-page_duration", "20000", ogg)
	}
	return ivf, ogg
}

// VideoFixture converts the first seconds of src (at most 640 px wide, 25
// fps, a keyframe every second) into a video file Publish sends with the
// given codec: "vp8" or "vp9" in IVF, "h264" in Annex B (Constrained
// Baseline, as browsers send it).
func VideoFixture(t testing.TB, src string, seconds float64, codec string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-i", src, "-t", fmt.Sprintf("%.2f", seconds), "-an",
		"-vf", "scale=w='min(640,iw)':h=-2,fps=25", "-g", "25"}
	var out string
	switch codec {
	case "vp8":
		out = filepath.Join(dir, "video.ivf")
		args = append(args, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1500k")
	case "vp9":
		out = filepath.Join(dir, "video.ivf")
		args = append(args, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1500k")
	case "h264":
		out = filepath.Join(dir, "video.h264")
		args = append(args, "-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-tune", "zerolatency",
			"-x264-params", "sliced-threads=0", "-bsf:v", "h264_mp4toannexb", "-f", "h264")
	default:
		t.Fatalf("whiptest: no fixture for codec %q", codec)
	}
	testutil.FFmpeg(t, append(args, out)...)
	return out
}

// Step is one part of SteppedVideo: Seconds of the source at Width pixels
// wide.
type Step struct {
	Width   int
	Seconds float64
}

// SteppedVideo converts src, from its start, into VP8 in IVF (25 fps, a
// keyframe every half second) whose picture size steps as a WebRTC
// sender's does when its bandwidth estimate moves: each step's seconds,
// following on in src, at its width.
func SteppedVideo(t testing.TB, src string, steps []Step) string {
	t.Helper()
	dir := t.TempDir()
	list, at := "", 0.0
	for i, s := range steps {
		part := filepath.Join(dir, fmt.Sprintf("%d.ivf", i))
		testutil.FFmpeg(t, "-ss", fmt.Sprintf("%.2f", at), "-i", src, "-t", fmt.Sprintf("%.2f", s.Seconds), "-an",
			"-vf", fmt.Sprintf("scale=w=%d:h=-2,fps=25", s.Width),
			"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1000k", "-g", "12", part)
		list += "file '" + part + "'\n"
		at += s.Seconds
	}
	listPath := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(listPath, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "stepped.ivf")
	testutil.FFmpeg(t, "-f", "concat", "-safe", "0", "-i", listPath, "-c", "copy", out)
	return out
}
