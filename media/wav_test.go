package media_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// wavCase is one WAV layout written with go-audio/wav.
type wavCase struct {
	name     string
	rate     int
	bits     int
	channels int
	float    bool // IEEE float (format 3) instead of integer PCM
}

// wavSignal is the test signal: a 440-Hz tone at half scale for one second,
// with the same tone on every channel (so that any downmix keeps it).
func wavSignal(rate int) []float64 {
	x := make([]float64, rate)
	for i := range x {
		x[i] = 0.5 * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
	}
	return x
}

// writeWAV writes c's layout of x to path and returns the quantisation step.
func writeWAV(t *testing.T, path string, c wavCase, x []float64) float64 {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	format := 1
	if c.float {
		format = 3
	}
	enc := wav.NewEncoder(f, c.rate, c.bits, c.channels, format)
	step := 0.0
	switch {
	case c.float:
		// The encoder writes whatever value it is given; one frame per
		// sample (mono only).
		require.Equal(t, 1, c.channels)
		for _, v := range x {
			require.NoError(t, enc.WriteFrame(float32(v)))
		}
		step = 1e-6
	default:
		full := float64(int(1) << (c.bits - 1))
		step = 1 / full
		buf := &audio.IntBuffer{Format: &audio.Format{NumChannels: c.channels, SampleRate: c.rate}, SourceBitDepth: c.bits}
		for _, v := range x {
			q := int(math.Round(v * (full - 1)))
			if c.bits == 8 {
				q += 128 // 8-bit WAV is unsigned
			}
			for ch := 0; ch < c.channels; ch++ {
				buf.Data = append(buf.Data, q)
			}
		}
		require.NoError(t, enc.Write(buf))
	}
	require.NoError(t, enc.Close())
	require.NoError(t, f.Close())
	return step
}

// decodeAll reads the whole audio stream of path at rate (0 = native).
func decodeAll(t *testing.T, path string, rate int) (*media.Info, []float32, error) {
	t.Helper()
	ctx := context.Background()
	info, err := media.Tools{}.Probe(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	ar, err := media.Tools{}.OpenAudio(ctx, info, media.AudioOptions{SampleRate: rate})
	if err != nil {
		return info, nil, err
	}
	defer ar.Close()
	var out []float32
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return info, out, nil
		}
		if err != nil {
			return info, out, err
		}
		out = append(out, c.Samples...)
	}
}

// analyse runs the whole pipeline and requires a report or a clear input
// error.
func analyse(t *testing.T, path string) {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	rep, err := analysis.Analyze(context.Background(), path, analysis.Config{FaceModels: fm})
	if err != nil {
		require.ErrorIs(t, err, media.ErrUnusableInput, "analysis error must be an input error: %v", err)
		return
	}
	require.NotNil(t, rep)
	require.Greater(t, rep.Analysis.AudioSeconds, 0.0)
}

func TestWAVLayouts(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []wavCase{
		{"8-bit", 22050, 8, 1, false},
		{"16-bit 11025 Hz", 11025, 16, 1, false},
		{"16-bit 22050 Hz", 22050, 16, 1, false},
		{"16-bit 44100 Hz", 44100, 16, 1, false},
		{"16-bit 96000 Hz", 96000, 16, 1, false},
		{"24-bit", 48000, 24, 1, false},
		{"32-bit integer", 48000, 32, 1, false},
		{"32-bit float", 48000, 32, 1, true},
		{"6 channels", 48000, 16, 6, false},
		// More channels than ffmpeg has a layout for (a multitrack
		// recorder): no default mixdown matrix exists.
		{"10 channels", 48000, 16, 10, false},
		{"64 channels", 16000, 16, 64, false},
		{"stereo 24-bit", 44100, 24, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".wav")
			x := wavSignal(c.rate)
			step := writeWAV(t, path, c, x)

			info, got, err := decodeAll(t, path, 0)
			require.NoError(t, err)
			require.Equal(t, c.rate, info.Audio.SampleRate)
			require.Equal(t, c.channels, info.Audio.Channels)
			require.Len(t, got, len(x))
			if c.channels == 1 {
				// Samples match what was written, within quantisation.
				for i := range x {
					require.InDelta(t, x[i], float64(got[i]), 1.5*step+1e-6, "sample %d", i)
				}
			} else {
				// A downmix of identical channels keeps the waveform; its
				// gain depends on ffmpeg's channel layout matrix.
				var xy, xx, yy float64
				for i := range x {
					xy += x[i] * float64(got[i])
					xx += x[i] * x[i]
					yy += float64(got[i]) * float64(got[i])
				}
				require.Greater(t, xy/math.Sqrt(xx*yy), 0.999, "downmix is the same tone")
				gain := math.Sqrt(yy / xx)
				require.Greater(t, gain, 0.3)
				if c.channels > 2 {
					require.LessOrEqual(t, gain, 1.01, "the surround downmix is normalised")
				} else {
					// ffmpeg's stereo downmix is (L+R)/√2; left as is.
					require.InDelta(t, math.Sqrt2, gain, 0.01)
				}
			}

			// The 16-kHz voice stream has the right length.
			_, voice, err := decodeAll(t, path, media.VoiceRate)
			require.NoError(t, err)
			require.InDelta(t, media.VoiceRate, len(voice), 32)

			analyse(t, path)
		})
	}
}

func TestWAVBroken(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.wav")
	x := wavSignal(22050)
	writeWAV(t, good, wavCase{rate: 22050, bits: 16, channels: 1}, x)
	raw, err := os.ReadFile(good)
	require.NoError(t, err)
	const dataSizeAt = 40 // go-audio/wav: RIFF, fmt (16 bytes), then "data" + size
	require.Equal(t, "data", string(raw[36:40]))

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	patch := func(size uint32) []byte {
		b := append([]byte(nil), raw...)
		binary.LittleEndian.PutUint32(b[dataSizeAt:], size)
		return b
	}

	t.Run("truncated header", func(t *testing.T) {
		p := write("trunc-header.wav", raw[:20])
		_, err := media.Tools{}.Probe(context.Background(), p)
		require.ErrorIs(t, err, media.ErrUnusableInput)
		require.ErrorIs(t, err, media.ErrNotMedia)
		analyse(t, p)
	})
	t.Run("header only", func(t *testing.T) {
		p := write("header-only.wav", raw[:44])
		_, got, err := decodeAll(t, p, 0)
		if err == nil {
			require.Empty(t, got)
		} else {
			require.ErrorIs(t, err, media.ErrUnusableInput)
		}
		fm, err := models.LocateFaceModels("")
		require.NoError(t, err)
		_, err = analysis.Analyze(context.Background(), p, analysis.Config{FaceModels: fm})
		require.ErrorIs(t, err, media.ErrUnusableInput, "nothing to analyse")
	})
	t.Run("data size larger than the file", func(t *testing.T) {
		p := write("too-long.wav", patch(10*uint32(len(raw))))
		_, got, err := decodeAll(t, p, 0)
		require.NoError(t, err)
		require.Len(t, got, len(x), "what the file holds is decoded")
		for i := range x {
			require.InDelta(t, x[i], float64(got[i]), 1.5/32768, "sample %d", i)
		}
		analyse(t, p)
	})
	t.Run("data size zero", func(t *testing.T) {
		p := write("zero-size.wav", patch(0))
		_, got, err := decodeAll(t, p, 0)
		if err != nil {
			require.ErrorIs(t, err, media.ErrUnusableInput)
		} else if len(got) > 0 {
			require.Len(t, got, len(x))
			for i := range x {
				require.InDelta(t, x[i], float64(got[i]), 1.5/32768, "sample %d", i)
			}
		}
		analyse(t, p)
	})
	t.Run("data cut mid-file", func(t *testing.T) {
		p := write("cut.wav", raw[:44+2*len(x)/2+1]) // half the samples and one odd byte
		_, got, err := decodeAll(t, p, 0)
		require.NoError(t, err)
		require.Len(t, got, len(x)/2)
		for i := range got {
			require.InDelta(t, x[i], float64(got[i]), 1.5/32768, "sample %d", i)
		}
		analyse(t, p)
	})
}
