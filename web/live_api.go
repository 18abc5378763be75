package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/store"
)

// liveSessionJSON is a live session in the API.
type liveSessionJSON struct {
	ID           string          `json:"id"`
	State        store.LiveState `json:"state"`
	Candidate    string          `json:"candidate"`
	Title        string          `json:"title"`
	Region       string          `json:"region,omitempty"` // the part of the shared picture analysed; omitted: whole
	WHIPURL      string          `json:"whip_url"`
	CompanionURL string          `json:"companion_url"`
	EventsURL    string          `json:"events_url"`
	// Token publishes to this session only; it is in the create response
	// alone (the owner sees it again on the companion page).
	Token        string          `json:"token,omitempty"`
	EndReason    string          `json:"end_reason,omitempty"`
	Error        string          `json:"error,omitempty"`
	InterviewID  string          `json:"interview_id,omitempty"`
	InterviewURL string          `json:"interview_url,omitempty"` // API path of the interview
	Alerts       int             `json:"alerts"`
	LastScore    json.RawMessage `json:"last_score,omitempty"`
	Stats        json.RawMessage `json:"stats,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	StartedAt    *time.Time      `json:"started_at,omitempty"`
	EndedAt      *time.Time      `json:"ended_at,omitempty"`
	// ExpiresAt is when the retention policy deletes a waiting session,
	// or an ended one that made no interview (store.LiveSession.
	// RetainedFrom + the period); a session that made one goes with it
	// (the interview's expires_at).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// liveBase is the scheme and host that handed-out URLs start with.
func liveBase(c echo.Context, lc LiveConfig) string {
	if lc.PublicURL != "" {
		return strings.TrimSuffix(lc.PublicURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

// sessionJSON describes ls; a running session's statistics come from
// memory (fresher than the record).
func (s *server) sessionJSON(c echo.Context, ls store.LiveSession) liveSessionJSON {
	base := liveBase(c, s.cfg.Live)
	j := liveSessionJSON{
		ID: ls.ID, State: ls.State, Candidate: ls.Candidate, Title: ls.Title, Region: ls.Region,
		WHIPURL: base + "/api/v1/sessions/" + ls.ID + "/whip", CompanionURL: base + "/live/" + ls.ID,
		EventsURL: base + "/api/v1/sessions/" + ls.ID + "/events",
		EndReason: ls.EndReason, Error: ls.Error, InterviewID: ls.InterviewID, Alerts: ls.Alerts,
		LastScore: ls.LastScore, Stats: ls.Stats, CreatedAt: ls.CreatedAt, StartedAt: ls.StartedAt, EndedAt: ls.EndedAt,
	}
	if ls.InterviewID != "" {
		j.InterviewURL = "/api/v1/interviews/" + ls.InterviewID
	} else if ls.State == store.LiveEnded || ls.State == store.LiveWaiting {
		j.ExpiresAt = expiresAt(ls.RetainedFrom(), s.cfg.Retention)
	}
	if r := s.live.run(ls.ID); r != nil && ls.State == store.LiveLive {
		j.Stats = mustJSON(r.stats())
		j.Alerts = r.alertCount()
	}
	return j
}

// liveField cleans a candidate or title as an upload's (cut to
// store.MaxField characters).
func liveField(v string) string {
	v, _ = store.CleanField(v)
	return v
}

// apiCreateSession creates a live session: 201 with its WHIP URL, token
// and companion page.
func (s *server) apiCreateSession(c echo.Context) error {
	var in struct {
		Candidate string `json:"candidate" form:"candidate"`
		Title     string `json:"title" form:"title"`
		Region    string `json:"region" form:"region"`
	}
	if err := c.Bind(&in); err != nil {
		return userErr(ErrBadRequest, "send {\"candidate\": \"…\", \"title\": \"…\", \"region\": \"…\"} (all optional)")
	}
	p := currentPrincipal(c)
	ls, tok, err := s.live.createSession(c.Request().Context(), p.User.ID, liveField(in.Candidate), liveField(in.Title), in.Region)
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, "session:"+ls.ID)
	j := s.sessionJSON(c, ls)
	j.Token = tok
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/sessions/"+ls.ID)
	return c.JSON(http.StatusCreated, j)
}

// apiListSessions lists live sessions, newest first (limit 1–200, default 50).
func (s *server) apiListSessions(c echo.Context) error {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return userErr(ErrBadRequest, "limit must be a whole number in [1, 200]")
		}
		limit = n
	}
	list, err := s.store.ListLiveSessions(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	out := make([]liveSessionJSON, 0, len(list))
	for _, ls := range list {
		out = append(out, s.sessionJSON(c, ls))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (s *server) liveSession(c echo.Context) (store.LiveSession, error) {
	ls, err := s.store.LiveSession(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return ls, userErr(ErrNotFound, "no live session %q", c.Param("id"))
	}
	return ls, err
}

// apiGetSession returns a live session with its last score and statistics.
func (s *server) apiGetSession(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.sessionJSON(c, ls))
}

// endSession ends ls for the recruiter (its owner or an admin): a running
// call is hung up (its recording is queued); a waiting session ends with
// nothing received.
func (s *server) endSession(c echo.Context, ls store.LiveSession) error {
	p := currentPrincipal(c)
	if p == nil || (!p.isAdmin() && p.User.ID != ls.OwnerID) {
		return userErr(ErrForbidden, "only the session's owner or an admin may end it")
	}
	if ls.State == store.LiveEnding || ls.State == store.LiveEnded {
		c.Set(ctxAuditSkip, true) // ending already (a hang-up, an earlier end): nothing for this request to end
	}
	reason := "ended by " + p.User.Email
	for range 3 { // a publisher may arrive meanwhile: then hang it up
		if running, first := s.live.end(ls.ID, "", reason); running {
			if !first {
				c.Set(ctxAuditSkip, true) // an earlier request ended it
			}
			return nil
		}
		switch err := s.live.endWaiting(c.Request().Context(), ls, reason); {
		case err == nil:
			return nil
		case !errors.Is(err, store.ErrLiveState):
			return err
		}
		cur, err := s.store.LiveSession(c.Request().Context(), ls.ID)
		if err != nil {
			return err
		}
		if cur.State == store.LiveEnding || cur.State == store.LiveEnded {
			c.Set(ctxAuditSkip, true) // nothing ended by this request
			return nil                // ending anyway
		}
		time.Sleep(50 * time.Millisecond)
	}
	return userErr(ErrConflict, "live session %s is changing state; try again", ls.ID)
}

// apiEndSession ends a session: 202 with its state (ending or ended; the
// interview id follows once the recording is queued).
func (s *server) apiEndSession(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	if err := s.endSession(c, ls); err != nil {
		return err
	}
	if ls, err = s.store.LiveSession(c.Request().Context(), ls.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, s.sessionJSON(c, ls))
}

// deleteSession deletes an ended session for its owner or an admin: its
// record, the interview made from its recording with the recording, the
// report and the evidence, and what a crash left in its working folder (a
// partial recording). A session that has not ended is a conflict.
func (s *server) deleteSession(c echo.Context, ls store.LiveSession) error {
	p := currentPrincipal(c)
	if p == nil || (!p.isAdmin() && p.User.ID != ls.OwnerID) {
		return userErr(ErrForbidden, "only the session's owner or an admin may delete it")
	}
	gone, iv, err := s.removeSession(c.Request().Context(), ls.ID)
	switch {
	case errors.Is(err, store.ErrLiveState):
		return userErr(ErrConflict, "live session %s has not ended yet: end it (or wait for it to end) before deleting it", ls.ID)
	case errors.Is(err, store.ErrNotFound):
		return userErr(ErrNotFound, "no live session %q", ls.ID)
	case err != nil:
		return err
	}
	s.log.Info("live session deleted", "session", ls.ID, "interview", gone.InterviewID, "by", p.User.Email)
	if iv != nil {
		// The interview's history says so too (the route records the
		// session's delete).
		s.auditWith(c, "interview.delete", "interview:"+iv.ID, "with session:"+ls.ID)
	}
	return nil
}

// removeSession deletes the ended session id: its record and the
// interview made from its recording, if any, in one transaction (the
// store's DeleteLiveSession and its errors), then that interview's files
// and what a crash left in the session's working folder.
func (s *server) removeSession(ctx context.Context, id string) (store.LiveSession, *store.Interview, error) {
	gone, iv, err := s.store.DeleteLiveSession(ctx, id)
	if err != nil {
		return gone, iv, err
	}
	// The rows are gone: a file that could not be removed is the
	// server's to clean up, not a failed delete.
	if iv != nil {
		if err := s.files.RemoveInterview(*iv); err != nil {
			s.log.Error("live session deleted, but not all its interview's files were removed", "session", id, "interview", iv.ID, "err", err)
		}
	}
	if err := os.RemoveAll(s.live.sessionDir(id)); err != nil {
		s.log.Error("live session deleted, but its working folder was not removed", "session", id, "err", err)
	}
	return gone, iv, nil
}

// apiDeleteSession deletes an ended session and the interview made from
// its recording: 204.
func (s *server) apiDeleteSession(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	if err := s.deleteSession(c, ls); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
