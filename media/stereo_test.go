package media_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// readVoice decodes path's sound as the analysis does (16 kHz, high-pass)
// and returns the samples and the seconds delivered as the channels'
// difference.
func readVoice(t *testing.T, path string) ([]float32, float64) {
	t.Helper()
	ctx := context.Background()
	info, err := media.Tools{}.Probe(ctx, path)
	require.NoError(t, err)
	ar, err := media.Tools{}.OpenAudio(ctx, info, media.AudioOptions{SampleRate: media.VoiceRate, HighPass: media.DCHighPass})
	require.NoError(t, err)
	defer ar.Close()
	return drain(t, ar), ar.OppositePhase()
}

// drain reads ar to its end.
func drain(t *testing.T, ar *media.AudioReader) []float32 {
	t.Helper()
	var out []float32
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, c.Samples...)
	}
}

func rms(s []float32) float64 {
	var sq float64
	for _, v := range s {
		sq += float64(v) * float64(v)
	}
	return math.Sqrt(sq / float64(len(s)))
}

// Stereo is mixed by the reader: as ffmpeg mixes it, (L+R)/√2, unless the
// channels carry the sound in opposite phase, where that mix cancels it
// (a miswired microphone: clear on headphones, silence to the analysis,
// which then heard no speech) and their difference is delivered instead.
func TestStereoMix(t *testing.T) {
	const a = 0.2
	tone := func(f string) string { return "sin(2*PI*" + f + "*t)" }
	for _, tc := range []struct {
		name, left, right string
		wantRMS           float64
		wantSide          [2]float64 // seconds delivered as the difference
	}{
		{"in phase", tone("300"), tone("300"), a, [2]float64{0, 0}},
		{"opposite phase", tone("300"), "-" + tone("300"), a, [2]float64{4, 4}},
		{"opposite phase, one channel quieter", tone("300"), "-0.5*" + tone("300"), a * 1.5 / 2, [2]float64{4, 4}},
		// Two speakers on their own channels: as much in the mix as in
		// the difference, so the mix is kept.
		{"one speaker per channel", tone("300"), tone("470"), a / math.Sqrt2, [2]float64{0, 0}},
		{"one channel silent", tone("300"), "0", a / 2, [2]float64{0, 0}},
		// Inverted after 2 s: the difference from then on (the smoothing
		// takes a few 100-ms chunks to notice).
		{"inverted half way", tone("300"), "(1-2*gte(t\\,2))*" + tone("300"), a, [2]float64{1.5, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stereo.wav")
			expr := "aevalsrc=" + ftoa(a) + "*" + tc.left + "|" + ftoa(a) + "*" + tc.right + ":s=48000:d=4:c=stereo"
			testutil.FFmpeg(t, "-f", "lavfi", "-i", expr, "-c:a", "pcm_f32le", path)
			got, side := readVoice(t, path)
			require.InDelta(t, 4*media.VoiceRate, len(got), 100)
			// The level of each half once the high-pass (and, on a
			// change, the mix) settled.
			v := media.VoiceRate
			assert.InDelta(t, tc.wantRMS, rms(got[v/2:2*v]), 0.01*a, "first half")
			assert.InDelta(t, tc.wantRMS, rms(got[5*v/2:]), 0.01*a, "second half")
			// (the decoded length may differ from 4 s by a few samples)
			assert.GreaterOrEqual(t, side, tc.wantSide[0]-0.01)
			assert.LessOrEqual(t, side, tc.wantSide[1]+0.01)
		})
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// The reader's mix of a real stereo recording (a genuine dev talking head)
// is ffmpeg's own: the same samples as ffmpeg's -ac 1 downmix after the
// same high-pass and resampling, to float rounding.
func TestStereoMixMatchesFFmpeg(t *testing.T) {
	clip := testutil.CorpusItem(t, "video", "genuine-reencode-aac", "")
	got, side := readVoice(t, clip)
	require.Zero(t, side)
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", clip, "-vn", "-af", "highpass=f=20:poles=2:precision=f32",
		"-ac", "1", "-ar", strconv.Itoa(media.VoiceRate), "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1")
	raw, err := cmd.Output()
	require.NoError(t, err)
	require.Len(t, got, len(raw)/4)
	var worst float64
	for i := range got {
		want := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		worst = math.Max(worst, math.Abs(float64(got[i]-want)))
	}
	assert.Less(t, worst, 1e-6)
	assert.Greater(t, rms(got), 0.01, "a voice, not silence")
}

// A live Opus stream (the live bot's decoder: WebRTC's Opus is always two
// channels) with the voice in opposite phase: mixed by the reader when
// the caller says the stream is stereo, cancelled by ffmpeg's mix when it
// does not know.
func TestStereoMixLiveStream(t *testing.T) {
	const a = 0.2
	path := filepath.Join(t.TempDir(), "antiphase.ogg")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "aevalsrc=0.2*sin(2*PI*300*t)|-0.2*sin(2*PI*300*t):s=48000:d=3:c=stereo",
		"-c:a", "libopus", "-b:a", "96k", path)
	stream, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, tc := range []struct {
		channels int
		want     float64
	}{{2, a}, {0, 0}} {
		ar, w, err := media.Tools{}.DecodeAudio(context.Background(), "ogg",
			media.AudioOptions{SampleRate: media.VoiceRate, HighPass: media.DCHighPass, Channels: tc.channels})
		require.NoError(t, err)
		go func() {
			_, _ = w.Write(stream)
			_ = w.Close()
		}()
		got := drain(t, ar)
		require.NoError(t, ar.Close())
		assert.InDelta(t, tc.want, rms(got[media.VoiceRate/2:]), 0.02*a, "channels %d", tc.channels)
	}
}
