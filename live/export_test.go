package live

import (
	"time"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/media"
)

// NewBareSession returns a Session without a publication or readers, for
// tests of the segment bookkeeping: its sides ("video", "audio") are
// registered at base, samples are fed by hand (Feed) and now is its clock.
// End every side (EndSide) to score and close what is open.
func NewBareSession(cfg Config, emit func(Event), base time.Time, now func() time.Time, sides ...string) *Session {
	s := newSession(nil, cfg, emit)
	s.base, s.now = base, now
	for _, name := range sides {
		s.sides[name] = &side{kind: name, idleSince: base, resync: name == "audio"}
	}
	return s
}

// Feed delivers one sample of side at media time t (seconds, as the
// reader's clock says) as the readers do: the audio side feeds 0.1 s of
// silence, the video side nothing. It reports whether the sample was taken
// (false: dropped as late).
func (s *Session) Feed(side string, t float64) (bool, error) {
	sg, at, err := s.acquire(side, t)
	if err != nil || sg == nil {
		return false, err
	}
	if side == "audio" {
		c := media.Chunk{Start: time.Duration(at * float64(time.Second)), Rate: media.VoiceRate, Samples: make([]float32, media.VoiceRate/10)}
		sg.seg.ObserveVoice(c)
		s.release(side, sg, 0, 0.1, at)
		return true, nil
	}
	s.release(side, sg, 1, 0, at)
	return true, nil
}

// Watermark runs one tick of the watermark.
func (s *Session) Watermark() { s.watermark() }

// EndSide ends a side as its reader does at the end of its track.
func (s *Session) EndSide(side string) { s.endSide(side) }

// OpenSegments returns how many segments are open now and the most that
// were open at once.
func (s *Session) OpenSegments() (open, most int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.segs), s.maxOpen
}

// SetNewSegment replaces how the session makes a segment's detectors.
func (s *Session) SetNewSegment(f func(analysis.Config) (*analysis.Segment, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newSegment = f
}
