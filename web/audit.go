package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bonafide-dev/bonafide/store"
)

// The audit log (docs/web.md, "Audit log") records who uploaded, viewed,
// changed and deleted which interview and live session, who managed
// webhooks, every login, and what the retention policy deleted. Admins
// read it on /audit and through GET /api/v1/audit. An entry holds
// identifiers only, never candidate data.

// Actors that are not accounts.
const (
	auditServer    = "server"    // the retention policy
	auditPublisher = "publisher" // a live session's WHIP publisher (its token)
	auditAnonymous = "anonymous" // a failed login (the target is the account)
)

// DefaultAuditViewWindow is how long a view of one thing by one account is
// recorded once (Config.AuditViewWindow): a report page loads its evidence
// images and a client polls, each of which would otherwise be an entry.
const DefaultAuditViewWindow = 10 * time.Minute

// auditSeenMax bounds the views remembered for the window; beyond it the
// oldest are forgotten, so more views are recorded, never fewer.
const auditSeenMax = 10000

// ctxAuditTarget is set by a handler whose target is made by the request
// (an upload's interview, a new session or webhook) or is not its :id as
// typed (a webhook's number).
const ctxAuditTarget = "bonafide.audit_target"

// ctxAuditSkip is set by a handler that answers with success but did
// nothing (ending a session that was ending anyway).
const ctxAuditSkip = "bonafide.audit_skip"

// auditLog writes audit entries. A failure to write one is logged at
// error level and counted (bonafide_audit_failures_total); it does not
// undo or refuse what was done, which has happened by then.
type auditLog struct {
	st     store.Audit
	log    *slog.Logger
	failed prometheus.Counter
	window time.Duration

	mu      sync.Mutex
	seen    map[auditKey]time.Time // last recorded view
	maxSeen int                    // auditSeenMax; tests lower it
}

type auditKey struct {
	user                  int64
	actor, action, target string
	addr, detail          string
}

func newAuditLog(st store.Audit, log *slog.Logger, failed prometheus.Counter, window time.Duration) *auditLog {
	return &auditLog{st: st, log: log, failed: failed, window: window, seen: map[auditKey]time.Time{}, maxSeen: auditSeenMax}
}

// record appends e; ctx's cancellation does not stop it (a client that
// hangs up after its answer has still seen it).
func (a *auditLog) record(ctx context.Context, e store.AuditEvent) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.st.RecordAudit(ctx, e); err != nil {
		a.failed.Inc()
		a.log.Error("audit entry not recorded", "action", e.Action, "target", e.Target, "actor", e.Actor, "addr", e.Addr, "err", err)
		if isView(e.Action) {
			a.mu.Lock()
			delete(a.seen, keyOf(e))
			a.mu.Unlock()
		}
	}
}

func keyOf(e store.AuditEvent) auditKey {
	return auditKey{user: e.UserID, actor: e.Actor, action: e.Action, target: e.Target, addr: e.Addr, detail: e.Detail}
}

// isView reports whether action only reads, and is recorded once per
// window.
func isView(action string) bool {
	return strings.HasSuffix(action, ".view") || action == "interview.evidence"
}

// recordView records e unless the same actor's same view of the same
// target, from the same address and in the same way (detail), was
// recorded less than the window before.
func (a *auditLog) recordView(ctx context.Context, e store.AuditEvent) {
	k := keyOf(e)
	a.mu.Lock()
	if t, ok := a.seen[k]; ok && e.At.Sub(t) < a.window && !e.At.Before(t) {
		a.mu.Unlock()
		return
	}
	a.seen[k] = e.At
	if len(a.seen) > a.maxSeen {
		for k, t := range a.seen {
			if e.At.Sub(t) >= a.window {
				delete(a.seen, k)
			}
		}
		if len(a.seen) > a.maxSeen {
			clear(a.seen)
			a.seen[k] = e.At
		}
	}
	a.mu.Unlock()
	a.record(ctx, e)
}

// event is an entry for the request's account (or actor, when no account
// makes the request) and client address.
func event(c echo.Context, actor, action, target string) store.AuditEvent {
	e := store.AuditEvent{At: time.Now(), Actor: actor, Action: action, Target: target, Addr: peerHost(c.Request())}
	if p := currentPrincipal(c); p != nil {
		e.UserID, e.Actor = p.User.ID, p.User.Email
	}
	if isAPI(c) {
		e.Detail = "api"
	} else {
		e.Detail = "page"
	}
	return e
}

// audit records action on target for the request.
func (s *server) audit(c echo.Context, action, target string) {
	s.auditWith(c, action, target, "")
}

// auditWith is audit with a note added to the detail.
func (s *server) auditWith(c echo.Context, action, target, note string) {
	e := event(c, auditPublisher, action, target)
	if note != "" {
		e.Detail += "; " + note
	}
	if isView(action) {
		s.auditLog.recordView(c.Request().Context(), e)
		return
	}
	s.auditLog.record(c.Request().Context(), e)
}

// audited records action when the route answers with success (status
// below 400), just before the answer's header goes out, so that a client
// never sees a success that is not in the log yet: on the interview,
// session or webhook its :id names (the action's first word says which),
// or on what the handler set as ctxAuditTarget before answering.
func (s *server) audited(action string) echo.MiddlewareFunc {
	kind, _, _ := strings.Cut(action, ".")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Before(func() {
				if skip, _ := c.Get(ctxAuditSkip).(bool); skip || c.Response().Status >= http.StatusBadRequest {
					return
				}
				target, _ := c.Get(ctxAuditTarget).(string)
				if id := c.Param("id"); target == "" && id != "" && kind != "audit" {
					target = kind + ":" + id
				}
				note := ""
				if kind == "audit" {
					note = c.QueryString() // which entries were read
				}
				s.auditWith(c, action, target, note)
			})
			return next(c)
		}
	}
}

// auditServerEvent records what the server did by itself (the retention
// policy).
func (s *server) auditServerEvent(ctx context.Context, action, target, detail string) {
	s.auditLog.record(ctx, store.AuditEvent{At: time.Now(), Actor: auditServer, Action: action, Target: target, Detail: detail})
}

// auditFilter reads the audit log's filters from the query string.
func auditFilter(c echo.Context, defLimit int) (store.AuditFilter, error) {
	f := store.AuditFilter{
		Target: strings.TrimSpace(c.QueryParam("target")),
		Actor:  strings.TrimSpace(c.QueryParam("actor")),
		Action: strings.TrimSpace(c.QueryParam("action")),
		Limit:  defLimit,
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, userErr(ErrBadRequest, "before must be an entry id (a positive integer)")
		}
		f.Before = n
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, userErr(ErrBadRequest, "limit must be in [1, 500]")
		}
		f.Limit = n
	}
	return f, nil
}

// auditJSON is an entry of the audit log in the API.
type auditJSON struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	UserID int64     `json:"user_id,omitempty"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Addr   string    `json:"addr,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// auditPage is what one read of the audit log returns.
type auditPage struct {
	Items []auditJSON `json:"items"`
	// NextBefore is the before= of the next (older) page; 0 (omitted)
	// when there is none.
	NextBefore int64 `json:"next_before,omitempty"`
}

func (s *server) readAudit(c echo.Context, defLimit int) (store.AuditFilter, auditPage, error) {
	f, err := auditFilter(c, defLimit)
	if err != nil {
		return f, auditPage{}, err
	}
	// One more than a page says whether there is a next one.
	more := f
	more.Limit++
	events, err := s.store.AuditEvents(c.Request().Context(), more)
	if err != nil {
		return f, auditPage{}, err
	}
	p := auditPage{Items: []auditJSON{}}
	for i, e := range events {
		if i == f.Limit {
			p.NextBefore = events[i-1].ID
			break
		}
		p.Items = append(p.Items, auditJSON(e))
	}
	return f, p, nil
}

// apiAudit returns entries of the audit log, newest first (admins).
func (s *server) apiAudit(c echo.Context) error {
	_, p, err := s.readAudit(c, 100)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// auditCheckJSON is the result of checking the audit log's hash chain
// (store.VerifyAudit) in the API.
type auditCheckJSON struct {
	// Intact is false when the log was altered; Problem then names the
	// entry where the chain breaks.
	Intact  bool   `json:"intact"`
	Problem string `json:"problem,omitempty"`
	// Entries chained entries were checked, First to Head (the chain held
	// up to Head when Intact is false).
	Entries int64      `json:"entries"`
	First   int64      `json:"first,omitempty"`
	FirstAt *time.Time `json:"first_at,omitempty"`
	Head    int64      `json:"head,omitempty"`
	// Anchor is Head as the server logs it, "N:HASH".
	Anchor    string `json:"anchor,omitempty"`
	Unchained int64  `json:"unchained"`
	// AnchorsMatched and AnchorsExpired count the anchor= values that
	// matched and those older than the oldest entry kept (not checked).
	AnchorsMatched int `json:"anchors_matched"`
	AnchorsExpired int `json:"anchors_expired"`
}

// apiAuditVerify checks the audit log's hash chain and the entries of the
// anchor= values (admins). An altered log is a 200 with intact false: the
// check itself succeeded.
func (s *server) apiAuditVerify(c echo.Context) error {
	if len(c.QueryParams()["anchor"]) > 100 {
		return userErr(ErrBadRequest, "at most 100 anchors")
	}
	anchors := map[int64]string{}
	for _, v := range c.QueryParams()["anchor"] {
		id, h, err := store.ParseAuditAnchor(v)
		if err != nil {
			return userErr(ErrBadRequest, "anchor must be ID:HASH, as the server logs it (\"audit log head\")")
		}
		if old, ok := anchors[id]; ok && old != h {
			return userErr(ErrBadRequest, "two different hashes for entry %d", id)
		}
		anchors[id] = h
	}
	ch, err := s.store.VerifyAudit(c.Request().Context(), anchors)
	if err != nil && !errors.Is(err, store.ErrAuditAltered) {
		return err
	}
	out := auditCheckJSON{Intact: err == nil, Entries: ch.Entries, Unchained: ch.Unchained,
		AnchorsMatched: ch.Anchors, AnchorsExpired: ch.Expired}
	if err != nil {
		out.Problem = err.Error()
	}
	if ch.Entries > 0 {
		at := ch.FirstAt.UTC()
		out.First, out.FirstAt, out.Head = ch.First, &at, ch.Head
		out.Anchor = fmt.Sprintf("%d:%s", ch.Head, ch.HeadHash)
	}
	return c.JSON(http.StatusOK, out)
}

// auditView is the audit page.
type auditView struct {
	Filter store.AuditFilter
	Items  []auditJSON
	// Older is the link to the next page ("" on the last).
	Older string
}

// auditPageHandler shows the audit log with filters (admins).
func (s *server) auditPageHandler(c echo.Context) error {
	f, p, err := s.readAudit(c, 100)
	if err != nil {
		return err
	}
	v := auditView{Filter: f, Items: p.Items}
	if p.NextBefore > 0 {
		q := c.QueryParams()
		q.Set("before", fmt.Sprint(p.NextBefore))
		v.Older = "/audit?" + q.Encode()
	}
	return s.render(c, http.StatusOK, "audit", pageData{Title: "Audit log", Nav: "audit", Data: v})
}
