// Package live scores a call while it happens. It feeds the decoded tracks
// of a whip.Publication through the same detectors as offline analysis, in
// consecutive segments (10 s by default), publishes a live score per
// segment, and raises an alert when a signal stays over its threshold. The
// full report comes afterwards, from the recording, like any upload.
package live

import (
	"fmt"
	"log/slog"
	"maps"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/media/whip"
	"github.com/bonafide-dev/bonafide/models"
)

// Config configures live scoring.
type Config struct {
	Analysis analysis.Config // detectors, face models, scorer, logger
	// Segment is the length of one scored stretch (default 10 s).
	Segment time.Duration
	// A signal raises an alert when its score is at least AlertScore with
	// at least AlertConfidence for AlertAfter (defaults 0.7, 0.3, 20 s),
	// if the scorer gives it weight (models.SignalWeigher).
	AlertScore      float64
	AlertConfidence float64
	AlertAfter      time.Duration
	// TrackWait is how long to wait for the second track after the first
	// (default 3 s).
	TrackWait time.Duration
}

func (c *Config) defaults() {
	if c.Segment <= 0 {
		c.Segment = 10 * time.Second
	}
	if c.AlertScore <= 0 {
		c.AlertScore = 0.7
	}
	if c.AlertConfidence <= 0 {
		c.AlertConfidence = 0.3
	}
	if c.AlertAfter <= 0 {
		c.AlertAfter = 20 * time.Second
	}
	if c.TrackWait <= 0 {
		c.TrackWait = 3 * time.Second
	}
	if c.Analysis.Logger == nil {
		c.Analysis.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Analysis.Scorer == nil {
		c.Analysis.Scorer = models.DefaultScorer()
	}
}

// Event is what the live bot tells the companion page and the webhooks.
type Event struct {
	Kind string    `json:"kind"` // "score", "alert" or "ended"
	At   time.Time `json:"at"`
	// Start and End bound the scored stretch, in seconds since media began.
	Start         float64                         `json:"start"`
	End           float64                         `json:"end"`
	Authenticity  *int                            `json:"authenticity,omitempty"`
	Verdict       models.Verdict                  `json:"verdict,omitempty"`
	VerdictReason string                          `json:"verdict_reason,omitempty"`
	Modalities    map[string]models.ModalityScore `json:"modalities,omitempty"`
	Signals       []SignalState                   `json:"signals,omitempty"`
	FaceSeconds   float64                         `json:"face_seconds"`
	SpeechSeconds float64                         `json:"speech_seconds"`
	// LagSeconds is how far analysis trails the live media.
	LagSeconds float64 `json:"lag_seconds"`
	Alert      *Alert  `json:"alert,omitempty"`
	Stats      *Stats  `json:"stats,omitempty"`
	// Tally (score events) counts the verdicts of every segment scored so
	// far, this one included: one segment is wrong more often than the
	// whole call, so the page shows the run of verdicts, not only the last.
	Tally map[models.Verdict]int `json:"tally,omitempty"`
}

// TallyText says how many segments got each verdict, worst first, e.g.
// "12 segments: 1 manipulated, 10 genuine, 1 inconclusive"; "" for none.
func TallyText(t map[models.Verdict]int) string {
	total := 0
	var parts []string
	for _, v := range []models.Verdict{models.Manipulated, models.Suspicious, models.Inconclusive, models.Genuine} {
		if n := t[v]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	if total == 0 {
		return ""
	}
	noun := "segments"
	if total == 1 {
		noun = "segment"
	}
	return fmt.Sprintf("%d %s: %s", total, noun, strings.Join(parts, ", "))
}

// SignalState is one signal in one segment.
type SignalState struct {
	Name        string  `json:"name"`
	Modality    string  `json:"modality"`
	Measured    bool    `json:"measured"`
	Score       float64 `json:"score"`
	Confidence  float64 `json:"confidence"`
	Explanation string  `json:"explanation,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	Alerting    bool    `json:"alerting,omitempty"`
}

// Alert says a signal stayed over its threshold.
type Alert struct {
	Signal  string  `json:"signal"`
	Message string  `json:"message"`
	Since   float64 `json:"since"` // media seconds
	Score   float64 `json:"score"`
}

// Stats summarise a live session.
type Stats struct {
	Segments       int               `json:"segments"`
	FramesAnalyzed int               `json:"frames_analyzed"`
	AudioSeconds   float64           `json:"audio_seconds"`
	MaxLagSeconds  float64           `json:"max_lag_seconds"`
	FirstScoreAt   float64           `json:"first_score_after_seconds"` // wall seconds from media start
	Tracks         []whip.TrackStats `json:"tracks"`
	Alerts         int               `json:"alerts"`
}

// Session is live scoring of one Publication. Close is idempotent and waits
// for every goroutine; it does not close the Publication.
type Session struct {
	cfg  Config
	pub  *whip.Publication
	emit func(Event)

	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup
	finished  chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	fullBand bool // an audio track carries the 48-kHz band (set before any segment)
	readers  []interface{ Interrupt() }
	base     time.Time // wall clock of media time 0
	segs     map[int]*segment
	sides    map[string]*side
	stats    Stats
	tally    map[models.Verdict]int
	over     map[string]float64 // signal → seconds over its threshold
	alerting map[string]bool
}

type side struct {
	reached int  // first segment index not yet complete for this side
	ended   bool // stream over: every segment is complete for it
}

type segment struct {
	seg        *analysis.Segment
	start, end float64
}

// Start begins scoring pub's tracks; emit receives every event, from the
// session's goroutines (it must not block for long).
func Start(pub *whip.Publication, cfg Config, emit func(Event)) *Session {
	cfg.defaults()
	s := &Session{
		cfg: cfg, pub: pub, emit: emit,
		stop: make(chan struct{}), finished: make(chan struct{}),
		segs: map[int]*segment{}, sides: map[string]*side{},
		over: map[string]float64{}, alerting: map[string]bool{}, tally: map[models.Verdict]int{},
	}
	s.wg.Add(1)
	go s.run()
	return s
}

// Finished is closed when every track has ended and the last segment was
// scored.
func (s *Session) Finished() <-chan struct{} { return s.finished }

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Tracks = s.pub.Stats()
	return st
}

// Close stops scoring and waits for the session's goroutines.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.stopOnce.Do(func() { close(s.stop) })
		s.mu.Lock()
		for _, r := range s.readers {
			r.Interrupt()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return nil
}

func (s *Session) run() {
	defer s.wg.Done()
	defer close(s.finished)
	var tracks []whip.Track
	// The first track, then briefly the others.
	select {
	case t := <-s.pub.Tracks():
		tracks = append(tracks, t)
	case <-s.pub.Done():
	case <-s.stop:
	}
	if len(tracks) > 0 {
		wait := time.NewTimer(s.cfg.TrackWait)
	more:
		for len(tracks) < 2 {
			select {
			case t := <-s.pub.Tracks():
				tracks = append(tracks, t)
			case <-wait.C:
				break more
			case <-s.stop:
				break more
			}
		}
		wait.Stop()
	}
	if len(tracks) == 0 {
		s.emit(Event{Kind: "ended", At: time.Now(), Stats: ptr(s.Stats())})
		return
	}
	s.base = tracks[0].Start
	for _, t := range tracks {
		if t.Start.Before(s.base) {
			s.base = t.Start
		}
	}
	var wg sync.WaitGroup
	s.mu.Lock()
	// Every side is known before any reader runs, so no segment is
	// complete before each side has passed it.
	for _, t := range tracks {
		if t.Video != nil {
			s.readers = append(s.readers, t.Video)
		}
		if t.Audio != nil {
			s.readers = append(s.readers, t.Audio)
		}
		if t.FullBand != nil {
			s.readers = append(s.readers, t.FullBand)
			s.fullBand = true
			s.sides[fullBandSide] = &side{}
		}
		s.sides[t.Kind] = &side{}
	}
	stopped := s.stopped()
	s.mu.Unlock()
	if stopped { // Close ran before the readers were registered
		for _, r := range s.readers {
			r.Interrupt()
		}
	}
	start := func(kind string, read func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := read(); err != nil {
				s.cfg.Analysis.Logger.Warn("live track analysis stopped", "kind", kind, "err", err)
			}
			s.endSide(kind)
		}()
	}
	for _, t := range tracks {
		offset := t.Start.Sub(s.base).Seconds()
		if t.Kind == "video" {
			start(t.Kind, func() error { return s.runVideo(t.Video, offset) })
			continue
		}
		start(t.Kind, func() error { return s.runAudio(t.Audio, offset, false) })
		if t.FullBand != nil {
			// Its own goroutine: the two audio readers share a decoder.
			start(fullBandSide, func() error { return s.runAudio(t.FullBand, offset, true) })
		}
	}
	wg.Wait()
	s.mu.Lock()
	for k, sg := range s.segs {
		sg.seg.Close()
		delete(s.segs, k)
	}
	s.mu.Unlock()
	s.emit(Event{Kind: "ended", At: time.Now(), Stats: ptr(s.Stats())})
}

func ptr[T any](v T) *T { return &v }

func (s *Session) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func (s *Session) segLen() float64 { return s.cfg.Segment.Seconds() }

// segmentAt returns (creating it) the segment holding media time t.
func (s *Session) segmentAt(t float64) (*segment, int, error) {
	k := int(math.Floor(t / s.segLen()))
	if k < 0 {
		k = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sg, ok := s.segs[k]; ok {
		return sg, k, nil
	}
	seg, err := analysis.NewSegment(s.cfg.Analysis)
	if err != nil {
		return nil, k, err
	}
	if !s.fullBand {
		seg.WithoutFullBand("the live path decodes the 16-kHz voice only; the full report measures it")
	}
	sg := &segment{seg: seg, start: float64(k) * s.segLen(), end: float64(k+1) * s.segLen()}
	s.segs[k] = sg
	return sg, k, nil
}

// advance records that side has reached segment k, scoring every segment
// that all sides have passed.
func (s *Session) advance(kind string, k int) {
	s.mu.Lock()
	if sd := s.sides[kind]; sd != nil && k > sd.reached {
		sd.reached = k
	}
	ready := s.completeLocked()
	s.mu.Unlock()
	for _, sg := range ready {
		s.score(sg)
	}
}

func (s *Session) endSide(kind string) {
	s.mu.Lock()
	if sd := s.sides[kind]; sd != nil {
		sd.ended = true
	}
	ready := s.completeLocked()
	s.mu.Unlock()
	for _, sg := range ready {
		s.score(sg)
	}
}

// completeLocked removes and returns, in order, the segments every side
// has finished.
func (s *Session) completeLocked() []*segment {
	var keys []int
	for k := range s.segs {
		done := true
		for _, sd := range s.sides {
			if !sd.ended && sd.reached <= k {
				done = false
			}
		}
		if done {
			keys = append(keys, k)
		}
	}
	sort.Ints(keys)
	out := make([]*segment, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.segs[k])
		delete(s.segs, k)
	}
	return out
}

func (s *Session) runVideo(vr *media.VideoReader, offset float64) error {
	defer vr.Close()
	prep, err := analysis.NewFramePreparer(s.cfg.Analysis)
	if err != nil {
		return err
	}
	defer prep.Close()
	for !s.stopped() {
		f, err := vr.Next()
		if err != nil {
			if isEOF(err) {
				return nil
			}
			return err
		}
		t := offset + f.PTS.Seconds()
		sg, k, err := s.segmentAt(t)
		if err != nil {
			return err
		}
		s.advance("video", k)
		sg.seg.ObserveFrame(prep.Prepare(f, t))
		lag := time.Since(s.base).Seconds() - t
		s.mu.Lock()
		s.stats.FramesAnalyzed++
		s.stats.MaxLagSeconds = math.Max(s.stats.MaxLagSeconds, lag)
		s.mu.Unlock()
	}
	return nil
}

// fullBandSide is the side of the 48-kHz audio reader.
const fullBandSide = "audio-full-band"

// runAudio feeds the voice (or, with full, the 48-kHz band) to the
// segments.
func (s *Session) runAudio(ar *media.AudioReader, offset float64, full bool) error {
	defer ar.Close()
	kind := "audio"
	if full {
		kind = fullBandSide
	}
	for !s.stopped() {
		c, err := ar.Next()
		if err != nil {
			if isEOF(err) {
				return nil
			}
			return err
		}
		t := offset + c.Start.Seconds()
		c.Start = time.Duration(t * float64(time.Second))
		sg, k, err := s.segmentAt(t)
		if err != nil {
			return err
		}
		s.advance(kind, k)
		if full {
			sg.seg.ObserveFullBand(c)
			continue
		}
		sg.seg.ObserveVoice(c)
		s.mu.Lock()
		s.stats.AudioSeconds += float64(len(c.Samples)) / float64(c.Rate)
		s.mu.Unlock()
	}
	return nil
}

// counts reports whether signal may raise alerts: only the signals the
// scorer gives weight to (a trained model gives none to signals that did
// not separate genuine from manipulated recordings, and their alerts would
// be noise).
func (s *Session) counts(signal string) bool {
	w, ok := s.cfg.Analysis.Scorer.(models.SignalWeigher)
	return !ok || w.Counts(signal)
}

// score finishes a segment, emits its score and any alert, and closes it.
func (s *Session) score(sg *segment) {
	defer sg.seg.Close()
	results := sg.seg.Results()
	face, speech := sg.seg.Coverage()
	out := analysis.ScoreLive(s.cfg.Analysis.Scorer, results, face, speech)
	ev := Event{
		Kind: "score", At: time.Now(), Start: sg.start, End: sg.end,
		Authenticity: out.Authenticity, Verdict: out.Verdict, VerdictReason: out.VerdictReason,
		Modalities: out.Modalities, FaceSeconds: face.Seconds, SpeechSeconds: speech.Seconds,
		LagSeconds: math.Max(0, time.Since(s.base).Seconds()-sg.end),
	}
	var alerts []Alert
	s.mu.Lock()
	s.stats.Segments++
	s.tally[out.Verdict]++
	ev.Tally = maps.Clone(s.tally)
	if s.stats.FirstScoreAt == 0 {
		s.stats.FirstScoreAt = time.Since(s.base).Seconds()
	}
	for _, r := range results {
		if r.Informational {
			continue
		}
		st := SignalState{Name: r.Signal, Modality: string(r.Modality), Measured: r.Summary != nil, Reason: r.NotMeasurable}
		over := false
		if r.Summary != nil {
			st.Score, st.Confidence, st.Explanation = r.Summary.Score, r.Summary.Confidence, r.Summary.Explanation
			over = st.Score >= s.cfg.AlertScore && st.Confidence >= s.cfg.AlertConfidence && s.counts(r.Signal)
		}
		if over {
			s.over[r.Signal] += sg.end - sg.start
		} else {
			s.over[r.Signal] = 0
			s.alerting[r.Signal] = false
		}
		if s.over[r.Signal] >= s.cfg.AlertAfter.Seconds() && !s.alerting[r.Signal] {
			s.alerting[r.Signal] = true
			alerts = append(alerts, Alert{
				Signal:  r.Signal,
				Message: fmt.Sprintf("%s has looked manipulated for %.0f s: %s", r.Signal, s.over[r.Signal], st.Explanation),
				Since:   sg.end - s.over[r.Signal],
				Score:   st.Score,
			})
		}
		st.Alerting = s.alerting[r.Signal]
		ev.Signals = append(ev.Signals, st)
	}
	s.stats.Alerts += len(alerts)
	s.mu.Unlock()
	s.emit(ev)
	for i := range alerts {
		s.emit(Event{Kind: "alert", At: time.Now(), Start: alerts[i].Since, End: sg.end, Alert: &alerts[i]})
	}
}
