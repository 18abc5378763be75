package whiptest

import (
	"fmt"
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
