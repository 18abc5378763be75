package detectors

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/media"
)

// BenchmarkVoiceDetectors measures each voice detector's cost per second
// of speech (an intonated synthetic voice, voiced about 75 % of the time:
// more than real conversation, so a worst case). The budget is 1 % of real
// time, i.e. 10 ms per audio second.
func BenchmarkVoiceDetectors(b *testing.B) {
	const seconds = 10
	x, _ := voiceSpec{seconds: seconds, f0: voiceIntonation(130, 5), jitter: 0.03, shimmer: 0.08, noise: 0.002, seed: 5}.render(media.VoiceRate)
	step := media.VoiceRate / 10
	cases := []struct {
		name string
		make func() AudioDetector
	}{
		{"pitchformant", func() AudioDetector { d, err := NewPitchFormant(); require.NoError(b, err); return d }},
		{"microprosody", func() AudioDetector { d, err := NewMicroProsody(); require.NoError(b, err); return d }},
		{"synthprosody", func() AudioDetector { d, err := NewSynthProsody(); require.NoError(b, err); return d }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			cpu0 := voiceCPUTime(b)
			for b.Loop() {
				d := tc.make()
				for i := 0; i < len(x); i += step {
					c := media.Chunk{Start: time.Duration(i) * time.Second / media.VoiceRate, Rate: media.VoiceRate, Samples: x[i:min(len(x), i+step)]}
					if err := d.ObserveAudio(c); err != nil {
						b.Fatal(err)
					}
				}
				d.Finish()
				if err := d.Close(); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time rather than wall time: the machine is shared, and
			// the budget is about CPU.
			perSecond := float64((voiceCPUTime(b) - cpu0).Nanoseconds()) / float64(b.N) / seconds
			b.ReportMetric(perSecond/1e6, "cpu-ms/audio-s")
			b.ReportMetric(perSecond/1e7, "%realtime")
		})
	}
}

// voiceCPUTime returns the process's user+system CPU time.
func voiceCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
