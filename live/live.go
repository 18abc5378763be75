// Package live scores a call while it happens. It feeds the decoded tracks
// of a whip.Publication through the same detectors as offline analysis, in
// consecutive segments (10 s by default), publishes a live score per
// segment, and raises an alert when a signal stays over its threshold. The
// full report comes afterwards, from the recording, like any upload.
package live

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/detectors"
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
	// before scoring starts (default 3 s). A track arriving later is still
	// analysed, from its arrival on.
	TrackWait time.Duration
	// SilenceGrace: a track whose reader has waited for a sample longer
	// than Segment + SilenceGrace is silent (a muted or replaced track, a
	// stalled microphone); the segments that ended more than SilenceGrace
	// ago are then scored without it (default 2 s).
	SilenceGrace time.Duration
	// MaxOpenSegments bounds the segments being fed at once (each holds a
	// full set of detectors); beyond it the oldest is scored with what it
	// has, and later samples for it are dropped (default 3).
	MaxOpenSegments int
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
	if c.SilenceGrace <= 0 {
		c.SilenceGrace = 2 * time.Second
	}
	if c.MaxOpenSegments <= 0 {
		c.MaxOpenSegments = 3
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
	// Missing (score events) lists the track kinds ("video", "audio") of
	// which nothing reached this segment's analysis: the track was silent
	// (muted, replaced, stalled), had not started yet, had ended, or every
	// sample of it was dropped. Their signals say so as their reason.
	Missing []string `json:"missing,omitempty"`
	// Notes (score events) says what the analysis of this segment had to
	// work around, as a report's analysis notes do (e.g. a voice sent on
	// the two channels in opposite phase).
	Notes []string `json:"notes,omitempty"`
	Alert *Alert   `json:"alert,omitempty"`
	Stats *Stats   `json:"stats,omitempty"`
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
	// Silences counts the times a track delivered nothing for a segment
	// plus Config.SilenceGrace, so that segments were scored without it.
	Silences int `json:"silences"`
	// LateDropped counts decoded frames and audio chunks not analysed
	// because the segment they belong to had already been scored.
	LateDropped int `json:"late_dropped"`
	// ForcedSegments counts segments scored before every track had passed
	// them, because more than Config.MaxOpenSegments were open.
	ForcedSegments int `json:"forced_segments"`
	// LateTracks counts tracks that arrived after Config.TrackWait; they
	// are analysed from their arrival on.
	LateTracks int `json:"late_tracks"`
	// OppositePhaseSeconds is how much of the voice the live analysis took
	// from the difference of the two sound channels, because they carried
	// it in opposite phase and their mix cancels it (see Event.Notes).
	OppositePhaseSeconds float64 `json:"opposite_phase_seconds,omitempty"`
}

// Session is live scoring of one Publication. Close is idempotent and waits
// for every goroutine; it does not close the Publication.
//
// Each track is a side, read by its own goroutine, that feeds the open
// segment its sample's media time falls into. A segment is complete, and
// scored, once every side has passed it: a side passes it with a later
// sample, at its end, or by the watermark when it has been silent (see
// Config.SilenceGrace); the oldest is also completed when more than
// Config.MaxOpenSegments are open. Samples for a complete segment are
// dropped (Stats.LateDropped), never fed to it: its detectors are closed
// once it is scored. A segment a reader is feeding is scored after that
// reader lets it go; segments are scored in order, one at a time.
type Session struct {
	cfg  Config
	pub  *whip.Publication
	emit func(Event)
	now  func() time.Time // the clock (time.Now; tests replace it)
	// newSegment makes a segment's detectors (analysis.NewSegment; tests
	// replace it). It takes tens of milliseconds (cascades, models), so it
	// runs without mu.
	newSegment func(analysis.Config) (*analysis.Segment, error)

	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup
	finished  chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	fullBand bool // an audio track carries the 48-kHz band
	readers  []interface{ Interrupt() }
	base     time.Time        // wall clock of media time 0 (set before any reader runs)
	segs     map[int]*segment // open segments by index
	floor    int              // every segment below it is complete
	ready    []*segment       // complete, in index order, waiting to be scored
	scoring  bool             // a goroutine is scoring ready
	maxOpen  int              // most segments open at once
	sides    map[string]*side
	stats    Stats
	tally    map[models.Verdict]int
	over     map[string]float64 // signal → seconds over its threshold
	alerting map[string]bool
}

type side struct {
	kind    string // the track's kind ("video" or "audio"; the full band is audio)
	reached int    // first segment index not yet complete for this side
	ended   bool   // stream over: every segment is complete for it
	// idleSince is when the reader last went back to waiting for a sample
	// (zero while it holds one). A side idle for longer than a segment
	// plus the grace is silent: the watermark moves reached on.
	idleSince time.Time
	silent    bool // moved on by the watermark since its last sample
	started   bool // has delivered a sample
	// resync: the reader's clock counts samples (media.AudioReader), so a
	// pause in the track leaves no gap in it; after a silence the next
	// sample is placed at the wall clock, and shift keeps the rest there.
	// Video keeps the decoder's timestamps over a pause (the frame-rate
	// filter fills it with copies of the last frame, dropped as late), and
	// is placed at the wall clock only when its very first frame came after
	// a silence (its clock starts at that frame, e.g. a late keyframe).
	resync bool
	shift  float64 // seconds added to the reader's media time
}

type segment struct {
	seg        *analysis.Segment
	start, end float64
	users      int             // readers feeding it now (under Session.mu)
	fed        map[string]bool // track kinds fed into it
	// opposite is the seconds of its voice the audio reader took from the
	// difference of the two channels, which were in opposite phase (under
	// Session.mu).
	opposite float64
}

// Start begins scoring pub's tracks; emit receives every event, from the
// session's goroutines (it must not block for long).
func Start(pub *whip.Publication, cfg Config, emit func(Event)) *Session {
	s := newSession(pub, cfg, emit)
	s.wg.Add(1)
	go s.run()
	return s
}

func newSession(pub *whip.Publication, cfg Config, emit func(Event)) *Session {
	cfg.defaults()
	return &Session{
		cfg: cfg, pub: pub, emit: emit, now: time.Now, newSegment: analysis.NewSegment,
		stop: make(chan struct{}), finished: make(chan struct{}),
		segs: map[int]*segment{}, sides: map[string]*side{},
		over: map[string]float64{}, alerting: map[string]bool{}, tally: map[models.Verdict]int{},
	}
}

// Finished is closed when every track has ended and the last segment was
// scored.
func (s *Session) Finished() <-chan struct{} { return s.finished }

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	if s.pub != nil {
		st.Tracks = s.pub.Stats()
	}
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
		s.emit(Event{Kind: "ended", At: s.now(), Stats: ptr(s.Stats())})
		return
	}
	s.base = tracks[0].Start
	for _, t := range tracks {
		if t.Start.Before(s.base) {
			s.base = t.Start
		}
	}
	// Every side of these tracks is known before any reader runs, so no
	// segment is complete before each of them has passed it.
	var starts []func()
	for _, t := range tracks {
		starts = append(starts, s.addTrack(t, false)...)
	}
	// The readers report here as they end; run waits for every one.
	ended := make(chan struct{})
	active := 0
	for _, start := range starts {
		active++
		go func() { start(); ended <- struct{}{} }()
	}
	// The watermark: silent sides are moved on about every half segment.
	tick := time.NewTicker(min(s.cfg.Segment/2, time.Second))
	defer tick.Stop()
	incoming, stop := s.pub.Tracks(), s.stop
	for active > 0 {
		select {
		case <-ended:
			active--
		case t := <-incoming:
			for _, start := range s.addTrack(t, true) {
				active++
				go func() { start(); ended <- struct{}{} }()
			}
			s.flush()
		case <-tick.C:
			s.watermark()
		case <-stop:
			// Close interrupts the readers; take no more tracks (the
			// Publication closes those nobody took).
			incoming, stop = nil, nil
		}
	}
	s.flush()
	s.mu.Lock()
	for k, sg := range s.segs { // none once every side has ended; kept safe
		sg.seg.Close()
		delete(s.segs, k)
	}
	for _, sg := range s.ready {
		sg.seg.Close()
	}
	s.ready = nil
	s.mu.Unlock()
	s.emit(Event{Kind: "ended", At: s.now(), Stats: ptr(s.Stats())})
}

// addTrack registers t's sides and returns the functions that read them,
// each to run on its own goroutine (none when the track is not taken: its
// readers are closed here). A late track's sides start at its arrival:
// the segments before it are complete without them.
func (s *Session) addTrack(t whip.Track, late bool) []func() {
	log := s.cfg.Analysis.Logger
	offset := t.Start.Sub(s.base).Seconds()
	s.mu.Lock()
	refused := ""
	switch {
	case s.stopped():
		refused = "the session is closing"
	case t.Kind != "video" && t.Kind != "audio":
		refused = "unknown kind"
	case s.sides[t.Kind] != nil:
		refused = "the session already analyses a track of this kind"
	}
	if refused != "" {
		s.mu.Unlock()
		log.Info("live track not analysed", "kind", t.Kind, "codec", t.Codec, "reason", refused)
		t.Close()
		return nil
	}
	from := 0
	if late {
		from = max(s.floor, int(math.Floor(offset/s.segLen())))
		s.stats.LateTracks++
	}
	now := s.now()
	add := func(name string, r interface{ Interrupt() }) {
		s.readers = append(s.readers, r)
		s.sides[name] = &side{kind: t.Kind, reached: from, idleSince: now, resync: t.Kind == "audio"}
	}
	if t.Video != nil {
		add(t.Kind, t.Video)
	}
	if t.Audio != nil {
		add(t.Kind, t.Audio)
	}
	if t.FullBand != nil {
		add(fullBandSide, t.FullBand)
		s.fullBand = true
	}
	s.completeLocked() // segments before a late side's start
	s.mu.Unlock()
	if late {
		log.Info("live track arrived late; analysed from its arrival on",
			"kind", t.Kind, "codec", t.Codec, "after_seconds", offset, "from_segment", from)
	}
	start := func(kind string, read func() error) func() {
		return func() {
			if err := read(); err != nil {
				log.Warn("live track analysis stopped", "kind", kind, "err", err)
			}
			s.endSide(kind)
		}
	}
	if t.Kind == "video" {
		return []func(){start(t.Kind, func() error { return s.runVideo(t.Video, offset) })}
	}
	out := []func(){start(t.Kind, func() error { return s.runAudio(t.Audio, offset, false) })}
	if t.FullBand != nil {
		// Its own goroutine: the two audio readers share a decoder.
		out = append(out, start(fullBandSide, func() error { return s.runAudio(t.FullBand, offset, true) }))
	}
	return out
}

// SilentAfter is how long a track's reader may wait for a sample under c
// before the track is silent: the sound after a longer pause is placed at
// the wall clock (a shorter one must have no gap in its samples; see
// whip.Config.LiveAudioFill).
func SilentAfter(c Config) time.Duration {
	c.defaults()
	return c.Segment + c.SilenceGrace
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

// acquire returns the open segment for side kind's sample at media time t
// (creating the segment), held until release, and the sample's time as
// fed. It returns a nil segment when the sample is late: its segment is
// already complete (scored or being scored); the sample is then dropped
// and counted.
func (s *Session) acquire(kind string, t float64) (*segment, float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sd := s.sides[kind]
	now := s.now()
	if sd.silent {
		sd.silent = false
		wall := now.Sub(s.base).Seconds()
		if (sd.resync || !sd.started) && t+sd.shift < wall {
			sd.shift = wall - t
		}
		if kind == sd.kind {
			s.cfg.Analysis.Logger.Info("live track delivers again", "kind", kind,
				"silent_seconds", now.Sub(sd.idleSince).Seconds(), "shift_seconds", sd.shift)
		}
	}
	sd.started = true
	t += sd.shift
	k := max(0, int(math.Floor(t/s.segLen())))
	if k < sd.reached || k < s.floor {
		sd.idleSince = now
		s.stats.LateDropped++
		return nil, t, nil
	}
	sg := s.segs[k]
	if sg == nil {
		// Made without the lock, so that the other sides' readers, the
		// watermark and Stats do not wait for it; then the checks above
		// that the others may have changed meanwhile are made again. The
		// side is busy meanwhile, not idle: the watermark must not take
		// it for silent.
		sd.idleSince = time.Time{}
		s.mu.Unlock()
		seg, err := s.newSegment(s.cfg.Analysis)
		s.mu.Lock()
		if err != nil {
			sd.idleSince = s.now()
			return nil, t, err
		}
		switch sg = s.segs[k]; {
		case k < sd.reached || k < s.floor:
			seg.Close()
			sd.idleSince = s.now()
			s.stats.LateDropped++
			return nil, t, nil
		case sg != nil: // another side made it first
			seg.Close()
		default:
			sg = &segment{seg: seg, start: float64(k) * s.segLen(), end: float64(k+1) * s.segLen(), fed: map[string]bool{}}
			s.segs[k] = sg
		}
	}
	sg.users++
	sg.fed[sd.kind] = true
	sd.idleSince = time.Time{}
	if k > sd.reached {
		sd.reached = k
		s.completeLocked()
	}
	s.capLocked()
	s.maxOpen = max(s.maxOpen, len(s.segs))
	return sg, t, nil
}

// release lets sg go after kind's reader fed it one sample (frames video
// frames or audio seconds of voice), and scores what became ready. The
// side is idle from its return (the reader goes back to waiting for a
// sample), not while it scores.
func (s *Session) release(kind string, sg *segment, frames int, audio, t float64) {
	s.mu.Lock()
	now := s.now()
	sd := s.sides[kind]
	sg.users--
	s.stats.FramesAnalyzed += frames
	s.stats.AudioSeconds += audio
	if frames > 0 {
		s.stats.MaxLagSeconds = math.Max(s.stats.MaxLagSeconds, now.Sub(s.base).Seconds()-t)
	}
	pending := s.pendingLocked()
	if !pending {
		sd.idleSince = now
	}
	s.mu.Unlock()
	if pending {
		s.flush()
		s.mu.Lock()
		sd.idleSince = s.now()
		s.mu.Unlock()
	}
}

func (s *Session) endSide(kind string) {
	s.mu.Lock()
	if sd := s.sides[kind]; sd != nil {
		sd.ended = true
	}
	s.completeLocked()
	s.mu.Unlock()
	s.flush()
}

// watermark moves every silent side on to the segment the wall clock was
// in SilenceGrace ago, so that the segments before it complete without it.
func (s *Session) watermark() {
	s.mu.Lock()
	now := s.now()
	grace := s.cfg.SilenceGrace
	wk := int(math.Floor((now.Sub(s.base) - grace).Seconds() / s.segLen()))
	for name, sd := range s.sides {
		if sd.ended || sd.idleSince.IsZero() || now.Sub(sd.idleSince) <= s.cfg.Segment+grace || wk <= sd.reached {
			continue
		}
		sd.reached = wk
		if !sd.silent && name == sd.kind { // a track's silence, counted once (not again for its full band)
			s.stats.Silences++
			s.cfg.Analysis.Logger.Warn("live track silent; its segments are scored without it",
				"kind", name, "silent_seconds", now.Sub(sd.idleSince).Seconds(), "silences", s.stats.Silences)
		}
		sd.silent = true
	}
	s.completeLocked()
	pending := s.pendingLocked()
	s.mu.Unlock()
	if pending {
		s.flush()
	}
}

// completeLocked moves, in order, the open segments every side has passed
// to the ready queue.
func (s *Session) completeLocked() {
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
	for _, k := range keys {
		s.finishLocked(k)
	}
}

// capLocked completes the oldest open segments beyond MaxOpenSegments.
func (s *Session) capLocked() {
	for len(s.segs) > s.cfg.MaxOpenSegments {
		oldest := math.MaxInt
		for k := range s.segs {
			oldest = min(oldest, k)
		}
		s.finishLocked(oldest)
		s.stats.ForcedSegments++
		// Once per session at warning level: the count is in the stats.
		lvl := slog.LevelDebug
		if s.stats.ForcedSegments == 1 {
			lvl = slog.LevelWarn
		}
		s.cfg.Analysis.Logger.Log(context.Background(), lvl, "live segment scored before every track passed it: too many open",
			"segment", oldest, "open", len(s.segs)+1, "forced_segments", s.stats.ForcedSegments)
	}
}

// finishLocked closes segment k to readers (later samples for it, or for
// any segment before it, are dropped) and queues it for scoring. Segments
// complete in index order, so the queue stays sorted.
func (s *Session) finishLocked(k int) {
	s.ready = append(s.ready, s.segs[k])
	delete(s.segs, k)
	s.floor = max(s.floor, k+1)
}

// pendingLocked reports whether a ready segment can be scored now.
func (s *Session) pendingLocked() bool {
	return !s.scoring && len(s.ready) > 0 && s.ready[0].users == 0
}

// flush scores the ready segments in order, each once no reader holds it.
// One goroutine scores at a time; one that finds another scoring leaves
// it the work (the other re-checks the queue under the lock before it
// stops).
func (s *Session) flush() {
	s.mu.Lock()
	if s.scoring {
		s.mu.Unlock()
		return
	}
	s.scoring = true
	for len(s.ready) > 0 && s.ready[0].users == 0 {
		sg := s.ready[0]
		s.ready[0] = nil
		s.ready = s.ready[1:]
		s.mu.Unlock()
		s.score(sg)
		s.mu.Lock()
	}
	s.scoring = false
	s.mu.Unlock()
}

func (s *Session) runVideo(vr *whip.Frames, offset float64) error {
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
		sg, t, err := s.acquire("video", offset+f.PTS.Seconds())
		if err != nil {
			return err
		}
		if sg == nil {
			continue // late: its segment was scored
		}
		sg.seg.ObserveFrame(prep.Prepare(f, t))
		s.release("video", sg, 1, 0, t)
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
	var opposite float64 // the reader's OppositePhase so far
	for !s.stopped() {
		c, err := ar.Next()
		if err != nil {
			if isEOF(err) {
				return nil
			}
			return err
		}
		// This chunk's seconds taken from the channels' difference, counted
		// only if the chunk is analysed.
		op := ar.OppositePhase()
		flipped := op - opposite
		opposite = op
		sg, t, err := s.acquire(kind, offset+c.Start.Seconds())
		if err != nil {
			return err
		}
		if sg == nil {
			continue // late: its segment was scored
		}
		c.Start = time.Duration(t * float64(time.Second))
		if full {
			sg.seg.ObserveFullBand(c)
			s.release(kind, sg, 0, 0, t)
			continue
		}
		if flipped > 0 {
			s.mu.Lock()
			sg.opposite += flipped
			s.stats.OppositePhaseSeconds += flipped
			s.mu.Unlock()
		}
		sg.seg.ObserveVoice(c)
		s.release(kind, sg, 0, float64(len(c.Samples))/float64(c.Rate), t)
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

// missingReason is the reason given for a signal of a track kind that fed
// nothing into the segment.
func missingReason(kind string) string {
	return fmt.Sprintf("no %s reached the live analysis during this segment (the track sent nothing, had not started or had ended)", kind)
}

// score finishes a segment, emits its score and any alert, and closes it.
// No reader holds sg any more.
func (s *Session) score(sg *segment) {
	defer sg.seg.Close()
	s.mu.Lock()
	fullBand := s.fullBand
	var missing []string
	for _, kind := range []string{"video", "audio"} {
		if s.sides[kind] != nil && !sg.fed[kind] {
			missing = append(missing, kind)
		}
	}
	var notes []string
	if sg.opposite > 0 {
		notes = append(notes, analysis.OppositePhaseNote(sg.opposite))
	}
	s.mu.Unlock()
	if !fullBand {
		// Read by Results: no 48-kHz band was fed to this segment.
		sg.seg.WithoutFullBand("the live path decodes the 16-kHz voice only; the full report measures it")
	}
	results := sg.seg.Results()
	face, speech := sg.seg.Coverage()
	out := analysis.ScoreLive(s.cfg.Analysis.Scorer, results, face, speech)
	now := s.now()
	ev := Event{
		Kind: "score", At: now, Start: sg.start, End: sg.end,
		Authenticity: out.Authenticity, Verdict: out.Verdict, VerdictReason: out.VerdictReason,
		Modalities: out.Modalities, FaceSeconds: face.Seconds, SpeechSeconds: speech.Seconds,
		LagSeconds: math.Max(0, now.Sub(s.base).Seconds()-sg.end),
		Missing:    missing, Notes: notes,
	}
	var alerts []Alert
	s.mu.Lock()
	s.stats.Segments++
	s.tally[out.Verdict]++
	ev.Tally = maps.Clone(s.tally)
	if s.stats.FirstScoreAt == 0 {
		s.stats.FirstScoreAt = now.Sub(s.base).Seconds()
	}
	for _, r := range results {
		if r.Informational {
			continue
		}
		st := SignalState{Name: r.Signal, Modality: string(r.Modality), Measured: r.Summary != nil, Reason: r.NotMeasurable}
		if !st.Measured {
			for _, kind := range missing {
				if st.Modality == kind || st.Modality == string(detectors.AV) {
					st.Reason = missingReason(kind)
					break
				}
			}
		}
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
				Signal: r.Signal,
				// A prompt to look closer, not a verdict: one signal alone is
				// wrong more often than the fused score.
				Message: fmt.Sprintf("Check: %s has scored high for %.0f s. %s One signal alone is not proof; see the run of verdicts.",
					r.Signal, s.over[r.Signal], st.Explanation),
				Since: sg.end - s.over[r.Signal],
				Score: st.Score,
			})
		}
		st.Alerting = s.alerting[r.Signal]
		ev.Signals = append(ev.Signals, st)
	}
	s.stats.Alerts += len(alerts)
	s.mu.Unlock()
	s.emit(ev)
	for i := range alerts {
		s.emit(Event{Kind: "alert", At: now, Start: alerts[i].Since, End: sg.end, Alert: &alerts[i]})
	}
}
