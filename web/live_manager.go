package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/live"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/media/whip"
	"github.com/bonafide-dev/bonafide/store"
)

// Webhook event types of live sessions.
const (
	EventSessionAlert = "session.alert" // a signal stayed over its alert threshold
	EventSessionEnded = "session.ended" // the call is over (with the interview, if one was queued)
)

// Server-Sent Event names of a session's event stream.
const (
	sseState = "state" // the session's state (waiting, live, ending, ended)
	sseScore = "score" // a live score (live.Event)
	sseAlert = "alert" // an alert (live.Event)
	sseStats = "stats" // the live path's statistics (liveStats), after each score and at the end
	// sseLoggedOut ends a stream whose viewer's login ended (logout,
	// expiry, revoked token, disabled account): {"reason": …}.
	sseLoggedOut = "logged-out"
)

// errLiveClosed is returned once the service is shutting down.
var errLiveClosed = echo.NewHTTPError(http.StatusServiceUnavailable, "the server is shutting down")

// liveManager owns the live sessions of this process: the WHIP endpoint,
// one liveRun per session receiving media, and the event hubs the pages
// subscribe to. Close ends every running session the way a hang-up does
// (the recording is queued) and waits for all their goroutines.
type liveManager struct {
	cfg     LiveConfig
	acfg    analysis.Config
	log     *slog.Logger
	store   store.Store
	dir     string // DATA/live: one folder per running session
	tokens  *liveTokens
	ep      *whip.Endpoint
	submit  func(context.Context, Submission) (store.Interview, error)
	publish func(context.Context, jobs.Event) error

	counters liveCounters

	mu        sync.Mutex
	closed    bool
	entries   map[string]*liveEntry
	wg        sync.WaitGroup // every run's goroutines
	closeOnce sync.Once
}

// liveEntry is the in-memory side of one session: its event hub (pages may
// subscribe before a publisher arrives) and its run once one has.
type liveEntry struct {
	hub *liveHub
	run *liveRun // nil while waiting for a publisher
}

// newLiveManager prepares live sessions: the token key, the WHIP endpoint
// and the live folder. Sessions a previous process left live are ended
// (their partial recordings stay in DATA/live/ID for manual recovery).
func newLiveManager(ctx context.Context, cfg Config, log *slog.Logger, st store.Store,
	submit func(context.Context, Submission) (store.Interview, error), publish func(context.Context, jobs.Event) error) (*liveManager, error) {
	tokens, err := loadLiveTokens(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	lc := cfg.Live
	ep, err := whip.NewEndpoint(whip.Config{
		Tools: cfg.Analysis.Tools, Logger: log.With("component", "whip"),
		LiveFPS: lc.FPS, LiveWidth: lc.Width, FullBand: lc.FullBand,
		UDPPortMin: lc.UDPPortMin, UDPPortMax: lc.UDPPortMax, PublicIPs: lc.PublicIPs,
		DisconnectTimeout: lc.DisconnectTimeout, MaxDuration: lc.MaxDuration,
		// Every gap the live scorer would not re-place itself, with a
		// second's margin (its idle time counts decoding too).
		LiveAudioFill: live.SilentAfter(live.Config{Segment: lc.Segment}) - time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("WHIP endpoint: %w", err)
	}
	dir := filepath.Join(cfg.DataDir, "live")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	ids, err := st.AbandonLiveSessions(ctx, "the server stopped during the call; its recording was not analysed", time.Now())
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		log.Warn("live session left behind by a stopped server ended", "session", id, "folder", filepath.Join(dir, id))
	}
	return &liveManager{
		cfg: lc, acfg: cfg.Analysis, log: log, store: st, dir: dir, tokens: tokens, ep: ep,
		submit: submit, publish: publish, entries: map[string]*liveEntry{},
	}, nil
}

// createSession stores a new waiting session owned by owner and returns
// it with its publishing token. region is the part of the shared picture
// to analyse (media.ParseRegion's forms; "" the whole): an unknown one is
// a bad request.
func (m *liveManager) createSession(ctx context.Context, owner int64, candidate, title, region string) (store.LiveSession, string, error) {
	reg, err := media.ParseRegion(region)
	if err != nil {
		return store.LiveSession{}, "", userErr(ErrBadRequest, "region: %v", err)
	}
	ls := store.LiveSession{ID: store.NewID(), OwnerID: owner, Candidate: candidate, Title: title, State: store.LiveWaiting, CreatedAt: time.Now()}
	if !reg.Whole() {
		ls.Region = reg.String()
	}
	tok := m.tokens.token(ls.ID)
	ls.TokenHash = HashToken(tok)
	if err := m.store.CreateLiveSession(ctx, ls, m.cfg.MaxWaiting); err != nil {
		if errors.Is(err, store.ErrLimit) {
			return store.LiveSession{}, "", userErr(err, "you already have %d live sessions waiting for a publisher, the limit; start or end one of them first", m.cfg.MaxWaiting)
		}
		return store.LiveSession{}, "", err
	}
	m.log.Info("live session created", "session", ls.ID, "owner", owner)
	return ls, tok, nil
}

// sessionDir is session id's working folder (its recording while the
// call runs; kept after a failed end or a crash).
func (m *liveManager) sessionDir(id string) string { return filepath.Join(m.dir, id) }

// entry returns (creating it) the entry of session id. Call with mu held.
func (m *liveManager) entryLocked(id string) *liveEntry {
	e := m.entries[id]
	if e == nil {
		e = &liveEntry{hub: newLiveHub(sseState, sseStats, sseScore)}
		m.entries[id] = e
	}
	return e
}

// reserve claims session ls for one publisher before its offer is
// answered: a second publisher gets ErrConflict, and beyond MaxSessions
// running sessions a 503.
func (m *liveManager) reserve(ls store.LiveSession) (*liveRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errLiveClosed
	}
	if e := m.entries[ls.ID]; e != nil && e.run != nil {
		return nil, userErr(ErrConflict, "live session %s already has a publisher", ls.ID)
	}
	n := 0
	for _, e := range m.entries {
		if e.run != nil {
			n++
		}
	}
	if n >= m.cfg.MaxSessions {
		return nil, echo.NewHTTPError(http.StatusServiceUnavailable,
			fmt.Sprintf("this server already receives %d live sessions, its limit; try again later", n))
	}
	e := m.entryLocked(ls.ID)
	r := newLiveRun(m, ls, e.hub)
	e.run = r
	return r, nil
}

// release gives back a reservation whose publication never started. The
// entry may be gone already (the session ended meanwhile, see detach) or
// belong to someone else: then there is nothing to give back.
func (m *liveManager) release(r *liveRun) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[r.ls.ID]; e != nil && e.run == r {
		e.run = nil
		if e.hub.subscribers() == 0 {
			delete(m.entries, r.ls.ID)
		}
	}
}

// start moves the reserved session to live and starts scoring pub. On
// error the caller closes pub and releases r.
func (m *liveManager) start(ctx context.Context, r *liveRun, pub *whip.Publication, resource string) error {
	// The store decides between racing publishers (and a recruiter ending
	// the session meanwhile): only a waiting session goes live.
	if err := m.store.SetLiveState(ctx, r.ls.ID, store.LiveLive, time.Now(), store.LiveWaiting); err != nil {
		if errors.Is(err, store.ErrLiveState) {
			return userErr(ErrConflict, "live session %s is not waiting for a publisher any more", r.ls.ID)
		}
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		if err := m.store.SetLiveState(context.WithoutCancel(ctx), r.ls.ID, store.LiveWaiting, time.Now(), store.LiveLive); err != nil {
			m.log.Warn("live session not put back to waiting", "session", r.ls.ID, "err", err)
		}
		return errLiveClosed
	}
	r.begin(pub, resource)
	return nil
}

// running counts the sessions with a publisher (including those ending).
func (m *liveManager) running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.entries {
		if e.run != nil && e.run.pub != nil {
			n++
		}
	}
	return n
}

// run returns session id's running session, or nil.
func (m *liveManager) run(id string) *liveRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[id]; e != nil && e.run != nil && e.run.pub != nil {
		return e.run
	}
	return nil
}

// end asks session id's run to end (for reason) and reports whether one
// was running, and whether this was the first request to end it.
// resource, when not empty, must be the run's WHIP resource.
func (m *liveManager) end(id, resource, reason string) (running, first bool) {
	r := m.run(id)
	if r == nil || (resource != "" && resource != r.resource) {
		return false, false
	}
	return true, r.requestEnd(reason)
}

// endWaiting ends a session no publisher has reached: nothing was
// received and nothing is queued. ErrLiveState when it is not waiting.
func (m *liveManager) endWaiting(ctx context.Context, ls store.LiveSession, reason string) error {
	if err := m.store.SetLiveState(ctx, ls.ID, store.LiveEnding, time.Now(), store.LiveWaiting); err != nil {
		return err
	}
	// The session must not stay "ending" with no run behind it (only a
	// restart would end it): the end is written even when the request has
	// gone, and should that fail, the session goes back to waiting, so that
	// ending it can be tried again.
	wctx := context.WithoutCancel(ctx)
	end := store.LiveEnd{Reason: reason, Error: whip.ErrNothingRecorded.Error()}
	if err := m.store.EndLiveSession(wctx, ls.ID, end, time.Now()); err != nil {
		if rerr := m.store.SetLiveState(wctx, ls.ID, store.LiveWaiting, time.Now(), store.LiveEnding); rerr != nil {
			m.log.Error("live session left ending", "session", ls.ID, "err", rerr)
		}
		return err
	}
	m.counters.endedNoMedia.Add(1)
	m.log.Info("live session ended before any publisher", "session", ls.ID, "reason", reason)
	st := liveStateEvent{State: store.LiveEnded, Reason: reason, Error: end.Error}
	m.detach(ls.ID, nil, &st)
	m.webhook(ls, EventSessionEnded, sessionEventData{State: string(store.LiveEnded), Reason: reason, Error: end.Error})
	return nil
}

// detach removes session id's entry after the session ended in the store,
// sending last (if any) to its subscribers before their streams close.
//
// A run that ended (r not nil) detaches its own entry only. With r nil the
// session ended before any publisher started (endWaiting): the entry goes
// even while a publisher holds a reservation, or the pages' streams would
// stay open for ever. That publisher's start is bound to fail (the store
// no longer says waiting), and its release finds no entry.
func (m *liveManager) detach(id string, r *liveRun, last *liveStateEvent) {
	m.mu.Lock()
	e := m.entries[id]
	if e == nil || (r != nil && e.run != r) {
		m.mu.Unlock()
		return
	}
	if r == nil && e.run != nil && e.run.pub != nil {
		// Cannot happen: a run begins only on a waiting session, and
		// endWaiting ended it. Should it, the run's own end closes the
		// hub after telling the pages.
		m.mu.Unlock()
		m.log.Error("live session ended in the store while it runs", "session", id)
		return
	}
	delete(m.entries, id)
	m.mu.Unlock()
	if last != nil {
		e.hub.publish(sseState, mustJSON(last))
	}
	e.hub.close()
}

// subscribe returns a subscription to session id's events with the
// session as stored once subscribed, or false when the session has ended
// (or the service is closing): read it from the store instead.
func (m *liveManager) subscribe(ctx context.Context, id string) (*liveHub, *liveSub, store.LiveSession, bool, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, nil, store.LiveSession{}, false, nil
	}
	hub := m.entryLocked(id).hub
	sub, ok := hub.subscribe()
	m.mu.Unlock()
	if !ok {
		return nil, nil, store.LiveSession{}, false, nil
	}
	// Read the record now that we are in: a session that ended just
	// before has no run left to close this hub.
	ls, err := m.store.LiveSession(ctx, id)
	if err != nil || ls.State == store.LiveEnded {
		m.unsubscribe(id, hub, sub)
		return nil, nil, ls, false, err
	}
	return hub, sub, ls, true, nil
}

// unsubscribe ends sub and drops an idle entry.
func (m *liveManager) unsubscribe(id string, hub *liveHub, sub *liveSub) {
	hub.unsubscribe(sub)
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[id]; e != nil && e.hub == hub && e.run == nil && hub.subscribers() == 0 {
		delete(m.entries, id)
	}
}

// webhook queues a session event for the webhooks (best effort: logged).
func (m *liveManager) webhook(ls store.LiveSession, typ string, d sessionEventData) {
	d.ID, d.Candidate, d.Title, d.Page = ls.ID, ls.Candidate, ls.Title, "/live/"+ls.ID
	ev, err := jobs.NewEvent(typ, d)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = m.publish(ctx, ev)
		cancel()
	}
	if err != nil {
		m.log.Warn("live session webhook not queued", "session", ls.ID, "type", typ, "err", err)
	}
}

// Close ends every running session (recordings are queued as after a
// hang-up), waits for their goroutines and closes every event stream. New
// publishers are refused from the start of Close. It is idempotent; call it
// while the store and the queue are still open.
func (m *liveManager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		var runs []*liveRun
		for _, e := range m.entries {
			if e.run != nil {
				runs = append(runs, e.run)
			}
		}
		m.mu.Unlock()
		for _, r := range runs {
			r.requestEnd("the server shut down")
		}
		m.wg.Wait()
		m.mu.Lock()
		for id, e := range m.entries {
			e.hub.close()
			delete(m.entries, id)
		}
		m.mu.Unlock()
	})
	return nil
}
