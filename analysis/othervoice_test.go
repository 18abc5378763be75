package analysis_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// A call recording as the candidate's tile shows it: 20 s of a genuine dev
// talking head with her own voice (F0 about 340 Hz), then 20 s in which her
// face listens, still, while another person speaks (a genuine dev voice,
// F0 about 210 Hz). Lip sync leaves out the windows in which her mouth is
// still, and the voice signals are measured again without them: they
// describe her voice, not the mix. Before, they pooled both voices, which
// dilutes a manipulated candidate's voice with the interviewer's genuine
// one. A still photo with a voice (lip sync not measured) leaves nothing
// out: a frozen face cannot hide its voice from the voice signals.
func TestOtherVoiceLeftOut(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	dir := t.TempDir()
	face := testutil.CorpusItem(t, "video", "genuine", "driving/d6.mp4")
	other := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	enc := []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "48000", "-ac", "1"}
	speaking, still, listening, call := filepath.Join(dir, "speaking.mp4"), filepath.Join(dir, "still.png"),
		filepath.Join(dir, "listening.mp4"), filepath.Join(dir, "call.mp4")
	testutil.FFmpeg(t, append([]string{"-i", face, "-t", "20", "-vf", "scale=480:480,setsar=1,fps=25"}, append(enc, speaking)...)...)
	testutil.FFmpeg(t, "-ss", "19.9", "-i", face, "-frames:v", "1", "-vf", "scale=480:480,setsar=1", still)
	testutil.FFmpeg(t, append([]string{"-loop", "1", "-framerate", "25", "-i", still, "-stream_loop", "2", "-i", other,
		"-t", "20", "-map", "0:v", "-map", "1:a"}, append(enc, listening)...)...)
	testutil.FFmpeg(t, append([]string{"-i", speaking, "-i", listening, "-filter_complex",
		"[0:v][0:a][1:v][1:a]concat=n=2:v=1:a=1[v][a]", "-map", "[v]", "-map", "[a]"}, append(enc, call)...)...)

	analyse := func(path string) *report.Report {
		t.Helper()
		rep, err := analysis.Analyze(context.Background(), path, analysis.Config{FaceModels: fm})
		require.NoError(t, err)
		return rep
	}
	f0 := func(rep *report.Report) float64 {
		v, ok := value(signal(t, rep, "audio.pitchformant"), "median_f0")
		require.True(t, ok)
		return v
	}
	speech := func(rep *report.Report) float64 {
		v, ok := value(signal(t, rep, "voice.presence"), "speech_seconds")
		require.True(t, ok)
		return v
	}
	leftOut := func(rep *report.Report) string {
		for _, n := range rep.Analysis.Notes {
			if strings.HasPrefix(n, "the voice signals leave out") {
				return n
			}
		}
		return ""
	}

	alone := analyse(speaking)
	conv := analyse(call)
	ls := signal(t, conv, "av.lipsync")
	require.True(t, ls.Measured, ls.Reason)
	stillWindows, _ := value(ls, "windows_mouth_still")
	require.GreaterOrEqual(t, stillWindows, 2.0, "the listening windows")
	note := leftOut(conv)
	require.NotEmpty(t, note, "notes: %v", conv.Analysis.Notes)
	assert.Less(t, speech(conv), 20.0, "the other person's 18 s of speech are not in the voice signals (her own: %.1f s)", speech(alone))
	assert.InDelta(t, f0(alone), f0(conv), 20, "her pitch, not the mix's (the other voice: about 210 Hz)")
	assert.Greater(t, f0(conv), 300.0)

	photo := analyse(listening)
	assert.False(t, signal(t, photo, "av.lipsync").Measured, "a still face: lip sync not measured")
	assert.Empty(t, leftOut(photo), "nothing is left out")
	assert.Greater(t, speech(photo), 15.0, "the voice signals hear the whole voice")
}
