package media_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// A recording whose sound has a gap in its timestamps (a second of packets
// lost, a browser recorder that stalled): the sound after the gap keeps its
// time against the picture. The tone changes from 300 to 1200 Hz at 3 s;
// the audio frames of 1.2–2.2 s are missing. Before, ffmpeg decoded the
// remaining frames back to back: the change came at 2 s and the sound
// lasted 4 s. A stream without gaps decodes to the same samples as before
// (every other test of the sound).
func TestAudioGapKeepsTime(t *testing.T) {
	dir := t.TempDir()
	for _, ext := range []string{"mka", "webm", "ogg"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(dir, "gap."+ext)
			testutil.FFmpeg(t, "-f", "lavfi", "-i", testutil.ToneChange, "-af", "aselect='not(between(t,1.2,2.2))'", "-c:a", "libopus", path)
			_, samples, err := decodeAll(t, path, media.VoiceRate)
			require.NoError(t, err)
			testutil.CheckToneChange(t, samples, media.VoiceRate)
		})
	}
}
