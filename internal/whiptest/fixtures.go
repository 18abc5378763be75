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

// SteppedVideo converts src, from its start, into a video file Publish
// sends ("vp8" or "vp9" in IVF, "h264" in Annex B with the parameter sets
// before every IDR, as browsers send it), at 25 fps with a keyframe every
// half second, whose picture size steps as a WebRTC sender's does when
// its bandwidth estimate moves: each step's seconds, following on in src,
// at its width.
func SteppedVideo(t testing.TB, src, codec string, steps []Step) string {
	t.Helper()
	dir := t.TempDir()
	ext, enc := ".ivf", []string{"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1000k"}
	switch codec {
	case "vp8":
	case "vp9":
		enc[1] = "libvpx-vp9"
	case "h264":
		ext, enc = ".h264", []string{"-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast", "-tune", "zerolatency",
			"-x264-params", "sliced-threads=0:repeat-headers=1", "-bsf:v", "h264_mp4toannexb", "-f", "h264"}
	default:
		t.Fatalf("whiptest: no stepped fixture for codec %q", codec)
	}
	var parts []string
	at := 0.0
	for i, s := range steps {
		part := filepath.Join(dir, fmt.Sprintf("%d%s", i, ext))
		args := []string{"-ss", fmt.Sprintf("%.2f", at), "-i", src, "-t", fmt.Sprintf("%.2f", s.Seconds), "-an",
			"-vf", fmt.Sprintf("scale=w=%d:h=-2,fps=25", s.Width), "-g", "12"}
		testutil.FFmpeg(t, append(append(args, enc...), part)...)
		parts = append(parts, part)
		at += s.Seconds
	}
	out := filepath.Join(dir, "stepped"+ext)
	if codec == "h264" { // Annex B streams join end to end
		var all []byte
		for _, p := range parts {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if err := os.WriteFile(out, all, 0o600); err != nil {
			t.Fatal(err)
		}
		return out
	}
	list := ""
	for _, p := range parts {
		list += "file '" + p + "'\n"
	}
	listPath := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(listPath, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.FFmpeg(t, "-f", "concat", "-safe", "0", "-i", listPath, "-c", "copy", out)
	return out
}
