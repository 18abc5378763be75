package detectors

import (
	"time"

	"github.com/bonafide-dev/bonafide/media"
)

// pitchStream is what the voice detectors need from a pitch tracker:
// *PitchTracker, or a *SharedPitch that several detectors read.
type pitchStream interface {
	Push(c media.Chunk, emit func(PitchFrame)) error
	HopSeconds() float64
}

// SharedPitch runs one PitchTracker for several detectors that are fed the
// same chunks in the same order (as analysis.Segment does): the first
// detector to push a chunk computes its frames, the others replay them. It
// is not safe for concurrent use, like the detectors that share it.
type SharedPitch struct {
	t *PitchTracker

	lastStart time.Duration
	lastLen   int
	lastErr   error
	have      bool
	frames    []PitchFrame
	spans     [][]float64 // copies of each frame's Span, reused
}

// NewSharedPitch returns a shared tracker at rate with the default
// configuration.
func NewSharedPitch(rate int) (*SharedPitch, error) {
	t, err := NewPitchTracker(rate, PitchConfig{})
	if err != nil {
		return nil, err
	}
	return &SharedPitch{t: t}, nil
}

// HopSeconds returns the time between frames.
func (s *SharedPitch) HopSeconds() float64 { return s.t.HopSeconds() }

// Push calls emit for every frame completed by chunk c, computing them only
// the first time c is pushed. Frames' Spans stay valid until the next new
// chunk.
func (s *SharedPitch) Push(c media.Chunk, emit func(PitchFrame)) error {
	if !s.have || c.Start != s.lastStart || len(c.Samples) != s.lastLen {
		s.have, s.lastStart, s.lastLen = true, c.Start, len(c.Samples)
		s.frames = s.frames[:0]
		s.lastErr = s.t.Push(c, func(f PitchFrame) {
			i := len(s.frames)
			if i == len(s.spans) {
				s.spans = append(s.spans, nil)
			}
			s.spans[i] = append(s.spans[i][:0], f.Span...)
			f.Span = s.spans[i]
			s.frames = append(s.frames, f)
		})
	}
	for _, f := range s.frames {
		emit(f)
	}
	return s.lastErr
}
