package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/live"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/media/whip"
	"github.com/bonafide-dev/bonafide/store"
)

// liveUpdateBuffer bounds the score and alert events waiting to be stored
// and sent to webhooks; beyond it they are dropped and counted (the page
// still gets them through the hub).
const liveUpdateBuffer = 16

// liveStats is what a session's record keeps about its live path: the
// scoring statistics (segments, frames, lag, per-track packets and what
// was dropped because analysis lagged) plus what the web layer dropped.
type liveStats struct {
	live.Stats
	// EventsDropped counts events slow page subscribers missed;
	// UpdatesDropped score/alert events not stored or sent to webhooks.
	EventsDropped  int64   `json:"events_dropped"`
	UpdatesDropped int64   `json:"updates_dropped"`
	CallSeconds    float64 `json:"call_seconds"` // from the publisher's arrival to the end
}

// liveStateEvent is the "state" event of a session's stream.
type liveStateEvent struct {
	State        store.LiveState `json:"state"`
	Reason       string          `json:"reason,omitempty"`
	Error        string          `json:"error,omitempty"`
	InterviewID  string          `json:"interview_id,omitempty"`
	InterviewURL string          `json:"interview_url,omitempty"` // its page
	Stats        *liveStats      `json:"stats,omitempty"`
}

// sessionEventData is Event.Data of the session.* webhooks.
type sessionEventData struct {
	ID          string      `json:"id"`
	State       string      `json:"state"`
	Candidate   string      `json:"candidate,omitempty"`
	Title       string      `json:"title,omitempty"`
	Reason      string      `json:"reason,omitempty"`
	Error       string      `json:"error,omitempty"`
	InterviewID string      `json:"interview_id,omitempty"`
	Interview   string      `json:"interview,omitempty"` // API path of the interview
	Alert       *live.Alert `json:"alert,omitempty"`
	Stats       *liveStats  `json:"stats,omitempty"`
	Page        string      `json:"page"` // the session's page
}

// liveRun is one session receiving media: its publication, its live
// scoring, and two goroutines: loop (waits for the end of the call, then
// finishes the session) and updates (stores scores, sends alerts to the
// webhooks). Both are counted in the manager's WaitGroup.
type liveRun struct {
	m   *liveManager
	ls  store.LiveSession // as it was when the publisher arrived
	hub *liveHub
	log *slog.Logger
	dir string

	// Set by begin, under the manager's lock; ready is closed once they
	// are (the scorer may emit before live.Start returns).
	pub      *whip.Publication
	scorer   *live.Session
	resource string
	began    time.Time
	ready    chan struct{}

	endc           chan string // the first end request wins
	endAsked       atomic.Bool // an end was requested (requestEnd)
	updates        chan live.Event
	updatesDone    chan struct{}
	updatesDropped atomic.Int64

	mu     sync.Mutex
	alerts int
}

func newLiveRun(m *liveManager, ls store.LiveSession, hub *liveHub) *liveRun {
	return &liveRun{
		m: m, ls: ls, hub: hub, log: m.log.With("session", ls.ID), dir: m.sessionDir(ls.ID),
		endc: make(chan string, 1), updates: make(chan live.Event, liveUpdateBuffer), updatesDone: make(chan struct{}),
		ready: make(chan struct{}),
	}
}

// begin starts scoring pub and the run's goroutines. Called by
// liveManager.start with its lock held.
func (r *liveRun) begin(pub *whip.Publication, resource string) {
	r.pub, r.resource, r.began = pub, resource, time.Now()
	r.hub.publish(sseState, mustJSON(liveStateEvent{State: store.LiveLive}))
	acfg := r.m.acfg
	acfg.Video.FPS, acfg.Video.MaxWidth = r.m.cfg.FPS, r.m.cfg.Width
	acfg.Logger, acfg.Progress = r.log, nil
	r.scorer = live.Start(pub, live.Config{
		Analysis: acfg, Segment: r.m.cfg.Segment,
		AlertScore: r.m.cfg.AlertScore, AlertConfidence: r.m.cfg.AlertConfidence, AlertAfter: r.m.cfg.AlertAfter,
	}, r.emit)
	close(r.ready)
	r.m.wg.Add(2)
	go r.loop()
	go r.storeUpdates()
	r.log.Info("live session started", "resource", resource)
}

// requestEnd asks the run to end; the first reason wins, and only the
// first request reports true. Never blocks.
func (r *liveRun) requestEnd(reason string) bool {
	if !r.endAsked.CompareAndSwap(false, true) {
		return false
	}
	select {
	case r.endc <- reason:
	default:
	}
	return true
}

// emit receives the scorer's events (from its goroutines): to the page at
// once, to the store and the webhooks through a bounded queue.
func (r *liveRun) emit(ev live.Event) {
	<-r.ready
	data, err := json.Marshal(ev)
	if err != nil {
		r.log.Error("live event not encoded", "kind", ev.Kind, "err", err)
		return
	}
	switch ev.Kind {
	case "score":
		r.hub.publish(sseScore, data)
		r.hub.publish(sseStats, mustJSON(r.stats()))
	case "alert":
		r.mu.Lock()
		r.alerts++
		r.mu.Unlock()
		r.hub.publish(sseAlert, data)
	default: // "ended": scoring is over
		r.hub.publish(sseStats, mustJSON(r.stats()))
		return
	}
	select {
	case r.updates <- ev:
	default:
		r.updatesDropped.Add(1)
	}
}

// stats returns the live statistics so far.
func (r *liveRun) stats() *liveStats {
	return &liveStats{
		Stats:          r.scorer.Stats(),
		EventsDropped:  r.hub.Dropped(),
		UpdatesDropped: r.updatesDropped.Load(),
		CallSeconds:    time.Since(r.began).Seconds(),
	}
}

func (r *liveRun) alertCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.alerts
}

// storeUpdates saves each score (with the statistics so far) on the
// session's record and sends alerts to the webhooks, until emit stops.
func (r *liveRun) storeUpdates() {
	defer r.m.wg.Done()
	defer close(r.updatesDone)
	for ev := range r.updates {
		var last json.RawMessage
		if ev.Kind == "score" {
			last = mustJSON(ev)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.m.store.SaveLiveProgress(ctx, r.ls.ID, last, mustJSON(r.stats()), r.alertCount()); err != nil {
			r.log.Warn("live progress not stored", "err", err)
		}
		cancel()
		if ev.Kind == "alert" && ev.Alert != nil {
			r.log.Info("live alert", "signal", ev.Alert.Signal, "score", ev.Alert.Score)
			r.m.webhook(r.ls, EventSessionAlert, sessionEventData{State: string(store.LiveLive), Alert: ev.Alert})
		}
	}
}

// packets counts the RTP packets received on every track so far.
func packets(ts []whip.TrackStats) int64 {
	var n int64
	for _, t := range ts {
		n += t.Packets
	}
	return n
}

// loop waits for the call to end — an end request (DELETE, the recruiter,
// shutdown), the peer gone (closed, ICE failed), the call at MaxDuration,
// or no media for IdleTimeout — then finishes the session.
func (r *liveRun) loop() {
	defer r.m.wg.Done()
	tick := time.NewTicker(time.Second)
	last, changed := int64(-1), time.Now()
	reason := ""
	for reason == "" {
		select {
		case reason = <-r.endc:
		case <-r.pub.Done():
			reason = "the connection to the publisher was lost"
			if errors.Is(r.pub.Err(), whip.ErrMaxDuration) {
				reason = "the call reached its maximum length of " + jobs.ShortDuration(r.m.cfg.MaxDuration)
			}
		case now := <-tick.C:
			if n := packets(r.pub.Stats()); n != last {
				last, changed = n, now
			} else if now.Sub(changed) >= r.m.cfg.IdleTimeout {
				reason = fmt.Sprintf("no media arrived for %.0f s", r.m.cfg.IdleTimeout.Seconds())
			}
		}
	}
	tick.Stop()
	r.finish(reason)
}

// finish ends the session: the publication is closed, the last segment is
// scored, the recording is assembled and queued as an interview (like an
// upload), the record is ended and the page and the webhooks are told.
func (r *liveRun) finish(reason string) {
	log := r.log.With("reason", reason)
	log.Info("live session ending")
	ctx := context.Background()
	if err := r.m.store.SetLiveState(ctx, r.ls.ID, store.LiveEnding, time.Now(), store.LiveLive); err != nil {
		log.Warn("live session not marked ending", "err", err)
	}
	r.hub.publish(sseState, mustJSON(liveStateEvent{State: store.LiveEnding, Reason: reason}))

	if err := r.pub.Close(); err != nil {
		log.Debug("peer connection closed with an error", "err", err)
	}
	// The tracks have ended: the scorer finishes what it has decoded.
	wait := time.NewTimer(r.m.cfg.FinishTimeout)
	select {
	case <-r.scorer.Finished():
	case <-wait.C:
		log.Warn("live scoring did not finish in time; stopping it", "timeout", r.m.cfg.FinishTimeout)
	}
	wait.Stop()
	if err := r.scorer.Close(); err != nil {
		log.Warn("live scoring closed with an error", "err", err)
	}
	close(r.updates) // emit is no longer called
	<-r.updatesDone
	stats := r.stats()

	end := store.LiveEnd{Reason: reason, Stats: mustJSON(stats)}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	rec := filepath.Join(r.dir, "recording.mkv")
	err := r.pub.Recording(rctx, rec)
	keep := false
	switch {
	case errors.Is(err, whip.ErrNothingRecorded):
		end.Error = whip.ErrNothingRecorded.Error()
	case err != nil:
		log.Warn("live recording not assembled", "err", err)
		end.Error = "the recording could not be assembled: " + r.m.publicError(err, r.dir)
		keep = true
	default:
		// The recording keeps the whole picture; its report analyses the
		// session's region, as the live scores did.
		region, _ := media.ParseRegion(r.ls.Region) // checked at creation
		sub := Submission{
			Path: rec, OriginalName: "live-" + r.began.UTC().Format("20060102-150405") + ".mkv",
			Candidate: r.ls.Candidate, Title: r.ls.Title, Source: "live", OwnerID: r.ls.OwnerID, Region: region,
		}
		iv, err := r.m.submit(rctx, sub)
		if errors.Is(err, media.ErrBadRegion) {
			// A picture too small for the region: a report of the whole
			// picture is better than none.
			log.Warn("live recording too small for the session's region; its whole picture is analysed", "err", err)
			sub.Region = media.Region{}
			iv, err = r.m.submit(rctx, sub)
		}
		if err != nil {
			log.Warn("live recording not queued", "err", err)
			end.Error = "the recording could not be queued for analysis: " + r.m.publicError(err, r.dir)
			keep = true
		} else {
			end.InterviewID = iv.ID
		}
	}
	cancel()
	k := &r.m.counters
	switch {
	case end.InterviewID != "":
		k.endedInterview.Add(1)
	case errors.Is(err, whip.ErrNothingRecorded):
		k.endedNoMedia.Add(1)
	default:
		k.endedError.Add(1)
	}
	for _, tr := range stats.Tracks {
		if tr.Kind == "video" {
			k.videoDropped.Add(tr.Dropped)
		} else {
			k.audioDropped.Add(tr.Dropped)
		}
		k.restarts.Add(tr.DecoderRestarts)
		k.filledMS.Add(int64(math.Round(tr.FilledSeconds * 1000)))
	}
	k.alerts.Add(int64(stats.Alerts))
	if end.Error != "" {
		log.Warn("live session ended without an interview", "error", end.Error)
	}
	if err := r.m.store.EndLiveSession(ctx, r.ls.ID, end, time.Now()); err != nil {
		log.Error("live session end not stored", "err", err)
	}
	if keep {
		log.Warn("live recording kept for inspection", "folder", r.dir)
	} else if err := os.RemoveAll(r.dir); err != nil {
		log.Warn("live folder not removed", "folder", r.dir, "err", err)
	}
	st := liveStateEvent{State: store.LiveEnded, Reason: reason, Error: end.Error, InterviewID: end.InterviewID, Stats: stats}
	d := sessionEventData{State: string(store.LiveEnded), Reason: reason, Error: end.Error, InterviewID: end.InterviewID, Stats: stats}
	if end.InterviewID != "" {
		st.InterviewURL = "/interviews/" + end.InterviewID
		d.Interview = "/api/v1/interviews/" + end.InterviewID
	}
	r.m.detach(r.ls.ID, r, &st)
	r.m.webhook(r.ls, EventSessionEnded, d)
	log.Info("live session ended", "interview", end.InterviewID, "segments", stats.Segments,
		"frames", stats.FramesAnalyzed, "max_lag_s", stats.MaxLagSeconds)
}

// mustJSON encodes v, which is always encodable (plain structs).
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return b
}

// publicError is err's text for the session's page and webhooks: without
// the server's paths (the session's folder, then the data folder), which
// the server log keeps.
func (m *liveManager) publicError(err error, sessionDir string) string {
	return strings.NewReplacer(sessionDir, "the session's folder", filepath.Dir(m.dir), "the data folder").Replace(err.Error())
}
