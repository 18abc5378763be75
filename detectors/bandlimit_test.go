package detectors

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
)

// A wide-band voice at 48 kHz, then the same voice resampled through a
// lower rate with ffmpeg (as a 16/22.05-kHz generator resampled to the
// channel rate would be) or through a gentle low-pass (a dull microphone).
func TestBandLimitSynthetic(t *testing.T) {
	src := chVoiceFile(t, chVoice{Rate: 48000, Seconds: 8, NoiseDB: -60, Jitter: 0.01, BreathDB: -20, Seed: 1})
	dir := t.TempDir()
	through := func(name, filter string) string {
		out := filepath.Join(dir, name+".wav")
		testutil.FFmpeg(t, "-i", src, "-af", filter, "-ar", "48000", "-c:a", "pcm_s16le", out)
		return out
	}
	// A call: the 16-kHz voice through Opus at 32 kbit/s and back.
	opus := filepath.Join(dir, "opus16.ogg")
	testutil.FFmpeg(t, "-i", src, "-af", "aresample=16000,aresample=48000", "-c:a", "libopus", "-b:a", "32k", opus)
	// A VoIP call at a low bit rate, and a 24-kHz AAC recording at 24
	// kbit/s (ffmpeg's encoder cuts it at about 8.7 kHz).
	opusVoIP := filepath.Join(dir, "opus12.ogg")
	testutil.FFmpeg(t, "-i", src, "-af", "aresample=16000", "-c:a", "libopus", "-b:a", "12k", "-application", "voip", opusVoIP)
	aac := filepath.Join(dir, "aac24.m4a")
	testutil.FFmpeg(t, "-i", src, "-ar", "24000", "-c:a", "aac", "-b:a", "24k", aac)
	for _, tc := range []struct {
		name         string
		path         string
		found        bool
		edgeLo       float64 // kHz
		edgeHi       float64
		minS, maxS   float64
		plausibleLow bool
	}{
		{"wideband original", src, false, 15, 24, 0, 0.1, false},
		{"resampled via 22.05 kHz", through("r22", "aresample=22050,aresample=48000"), true, 10.3, 11.1, 0.7, 1, false},
		// A 24-kHz generator: ffmpeg's resampler leaves images above 12
		// kHz, so the edge reads above the Opus super-wideband range.
		{"resampled via 24 kHz", through("r24", "aresample=24000:resampler=soxr:cutoff=0.997,aresample=48000"), true, 11.6, 12.8, 0.5, 1, false},
		{"resampled via 16 kHz", through("r16", "aresample=16000,aresample=48000"), true, 7.4, 8.1, 0, 0.1, true},
		{"16-kHz voice through Opus 32 kbit/s", opus, true, 7.4, 9.9, 0, 0.15, true},
		{"16-kHz voice through Opus 12 kbit/s VoIP", opusVoIP, true, 7.4, 9.95, 0, 0.15, true},
		{"AAC 24 kbit/s at 24 kHz", aac, true, 7.4, 9.9, 0, 0.15, true},
		{"gentle low-pass at 5 kHz", through("lp", "lowpass=f=5000:p=1"), false, 5, 24, 0, 0.1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chRun(t, NewBandLimit(), tc.path)
			chRequireWellFormed(t, r, BandLimitSignal)
			edge := summaryValue(t, r, "band_edge")
			require.GreaterOrEqual(t, edge, tc.edgeLo, "band edge")
			require.LessOrEqual(t, edge, tc.edgeHi, "band edge")
			require.GreaterOrEqual(t, r.Summary.Score, tc.minS, r.Summary.Explanation)
			require.LessOrEqual(t, r.Summary.Score, tc.maxS, r.Summary.Explanation)
			if tc.found {
				require.Greater(t, summaryValue(t, r, "edge_drop"), cliffDepthMid, "a resampler's cut is sharp")
			} else {
				require.Less(t, summaryValue(t, r, "edge_drop"), cliffDepthMid)
			}
			if tc.plausibleLow {
				require.Greater(t, summaryValue(t, r, "channel_plausibility"), 0.9)
				require.Less(t, r.Summary.Confidence, 0.6, "a channel edge hides what lies below it")
			}
			require.NotEmpty(t, r.Windows)
		})
	}
}

func TestBandLimitNotMeasurable(t *testing.T) {
	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4", "-c:a", "pcm_s16le", silence)
	narrow := chVoiceFile(t, chVoice{Rate: 16000, Seconds: 4, NoiseDB: -60, Jitter: 0.01, BreathDB: -20, Seed: 2})
	short := filepath.Join(dir, "short.wav")
	chWriteWAV(t, short, 48000, chVoice{Rate: 48000, Seconds: 0.6, NoiseDB: -60, Seed: 3}.samples())
	for _, tc := range []struct{ name, path, reason string }{
		{"silence", silence, "no speech"},
		{"16 kHz channel", narrow, "too narrow"},
		{"too little speech", short, "speech"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chRun(t, NewBandLimit(), tc.path)
			require.False(t, r.Measured())
			require.Contains(t, r.NotMeasurable, tc.reason)
		})
	}
	r := NewBandLimit().Finish()
	require.Contains(t, r.NotMeasurable, "no audio")
}

func TestChannelPlausibility(t *testing.T) {
	for _, tc := range []struct {
		f      float64
		lo, hi float64
	}{
		{3400, 0.95, 1}, {8000, 0.95, 1}, {7000, 0.95, 1}, {12000, 0.75, 0.85}, {20000, 0.95, 1},
		{9500, 0.95, 1}, {8700, 0.95, 1}, {9900, 0.95, 1},
		{10900, 0, 0.05}, {10300, 0, 0.05}, {5000, 0, 0.05},
		// A 24-kHz generator resampled by ffmpeg reads 12.3–12.7 kHz.
		{12550, 0, 0.1},
		// Narrowband calls as read off genuine voices (2.6–4.5 kHz).
		{2600, 0.95, 1}, {4520, 0.95, 1},
	} {
		p := channelPlausibility(tc.f)
		require.GreaterOrEqual(t, p, tc.lo, "%.0f Hz", tc.f)
		require.LessOrEqual(t, p, tc.hi, "%.0f Hz", tc.f)
	}
}

// Dev pairs: the same wide-band soundtracks, genuine and band-limited.
func TestBandLimitCorpusDirection(t *testing.T) {
	m22, g22 := chCorpusPair(t, "bandlimit-22k", "driving/d6.mp4", "d6.mp4 (audio 18.5")
	rm, rg := chRun(t, NewBandLimit(), m22), chRun(t, NewBandLimit(), g22)
	require.Greater(t, rm.Summary.Score, rg.Summary.Score+0.5, "22.05-kHz cliff: %s / %s", rm.Summary.Explanation, rg.Summary.Explanation)
	require.InDelta(t, 10.8, summaryValue(t, rm, "band_edge"), 0.5)

	// Through 16 kHz the cliff sits at the wideband channel edge: it is
	// found, but by design it is not called manipulation.
	m16, g16 := chCorpusPair(t, "bandlimit-16k", "driving/d20.mp4", "d20.mp4 (audio 0")
	rm, rg = chRun(t, NewBandLimit(), m16), chRun(t, NewBandLimit(), g16)
	require.InDelta(t, 7.8, summaryValue(t, rm, "band_edge"), 0.4)
	require.Greater(t, summaryValue(t, rg, "band_edge"), 12.0)
	require.Less(t, rm.Summary.Score, 0.2)
	require.Less(t, rm.Summary.Confidence, rg.Summary.Confidence+0.3)
}

func BenchmarkBandLimit(b *testing.B) {
	const rate = 48000
	x := chVoice{Rate: rate, Seconds: 10, NoiseDB: -60, Jitter: 0.01, BreathDB: -20, Seed: 4}.samples()
	chBench(b, func() AudioDetector { return NewBandLimit() }, rate, x)
}

// TestBandLimitTelephoneChannels: genuine dev voices through narrowband
// telephone codecs (a dial-in to a meeting, a phone interview) and
// upsampled back to 48 kHz end at the channel's edge, 2.4–4.8 kHz as read
// off the spectrum, and must not look like a generator's cliff. Before the
// narrowband range was widened, the LibriSpeech voice through Opus NB
// scored 0.40 (edge 4.5 kHz) and through μ-law 0.60 (4.2 kHz), which the
// fusion model read as a manipulated voice.
func TestBandLimitTelephoneChannels(t *testing.T) {
	dir := t.TempDir()
	voices := map[string]string{
		"librispeech": testutil.CorpusItem(t, "audio", "genuine", "39-121914-0000"),
		"alsa sides":  testutil.CorpusItem(t, "audio", "genuine", "Side_Left+Side_Right"),
		"alsa front":  testutil.CorpusItem(t, "audio", "genuine", "Front_Left+Front_Center"),
	}
	channels := []struct {
		name, ext string
		args      []string
	}{
		{"G.711 μ-law", "wav", []string{"-ar", "8000", "-c:a", "pcm_mulaw"}},
		{"GSM 06.10", "gsm", []string{"-ar", "8000", "-c:a", "libgsm"}},
		{"Opus NB 12 kbit/s", "ogg", []string{"-ar", "8000", "-c:a", "libopus", "-b:a", "12k"}},
		// A browser call pushed down to 8 kbit/s by congestion: Opus codes
		// narrowband at that rate, at 48 kHz.
		{"Opus 8 kbit/s at 48 kHz", "ogg", []string{"-ar", "48000", "-c:a", "libopus", "-b:a", "8k"}},
	}
	for vname, src := range voices {
		for i, ch := range channels {
			t.Run(vname+"/"+ch.name, func(t *testing.T) {
				enc := filepath.Join(dir, fmt.Sprintf("%s-%d.%s", strings.ReplaceAll(vname, " ", "_"), i, ch.ext))
				testutil.FFmpeg(t, append(append([]string{"-i", src, "-ac", "1"}, ch.args...), enc)...)
				back := enc + ".48k.wav"
				testutil.FFmpeg(t, "-i", enc, "-ar", "48000", "-c:a", "pcm_s16le", back)
				requireChannelEdge(t, back, 2.4, 4.8)
			})
		}
	}
}

// requireChannelEdge checks that the voice in path ends at a band edge
// between lo and hi kHz that the detector takes for a channel's (score
// near its floor).
func requireChannelEdge(t *testing.T, path string, lo, hi float64) {
	t.Helper()
	r := chRun(t, NewBandLimit(), path)
	chRequireWellFormed(t, r, BandLimitSignal)
	edge := summaryValue(t, r, "band_edge")
	require.GreaterOrEqual(t, edge, lo, "band edge")
	require.LessOrEqual(t, edge, hi, "band edge")
	require.Less(t, r.Summary.Score, 0.1, r.Summary.Explanation)
}
