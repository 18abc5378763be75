package detectors

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/media"
)

// Detectors sharing a SharedPitch see exactly the frames a tracker of their
// own would give them, computed once.
func TestSharedPitchReplaysFrames(t *testing.T) {
	own, err := NewPitchTracker(media.VoiceRate, PitchConfig{})
	require.NoError(t, err)
	shared, err := NewSharedPitch(media.VoiceRate)
	require.NoError(t, err)
	var want, gotA, gotB []PitchFrame
	chunk := make([]float32, media.VoiceRate/10)
	for k := 0; k < 20; k++ {
		for i := range chunk {
			n := k*len(chunk) + i
			chunk[i] = float32(0.3 * math.Sin(2*math.Pi*140*float64(n)/media.VoiceRate))
		}
		c := media.Chunk{Start: time.Duration(k) * 100 * time.Millisecond, Rate: media.VoiceRate, Samples: chunk}
		require.NoError(t, own.Push(c, func(f PitchFrame) { f.Span = nil; want = append(want, f) }))
		for _, got := range []*[]PitchFrame{&gotA, &gotB} {
			require.NoError(t, shared.Push(c, func(f PitchFrame) {
				require.Equal(t, own.span, len(f.Span))
				f.Span = nil
				*got = append(*got, f)
			}))
		}
	}
	require.NotEmpty(t, want)
	require.Equal(t, want, gotA)
	require.Equal(t, want, gotB)
	require.InDelta(t, 140, want[len(want)/2].F0, 3)
	require.ErrorIs(t, shared.Push(media.Chunk{Start: 5 * time.Second, Rate: 8000, Samples: chunk}, func(PitchFrame) {}), ErrVoiceRate)
}
