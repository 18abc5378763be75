package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/live"
	"github.com/bonafide-dev/bonafide/store"
)

type liveListView struct {
	Sessions []store.LiveSession
}

// livePage lists live sessions and offers to start one.
func (s *server) livePage(c echo.Context) error {
	list, err := s.store.ListLiveSessions(c.Request().Context(), 50)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "live", pageData{Title: "Live sessions", Nav: "live", Data: liveListView{Sessions: list}})
}

// liveCreateForm creates a session and opens its companion page.
func (s *server) liveCreateForm(c echo.Context) error {
	p := currentPrincipal(c)
	ls, _, err := s.live.createSession(c.Request().Context(), p.User.ID, liveField(c.FormValue("candidate")), liveField(c.FormValue("title")), c.FormValue("region"))
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, "session:"+ls.ID)
	return c.Redirect(http.StatusSeeOther, "/live/"+ls.ID)
}

// liveSessionView is the companion page of one session.
type liveSessionView struct {
	Session store.LiveSession
	// Owner may publish from this page: only the owner gets the token.
	Owner     bool
	CanEnd    bool
	Token     string
	WHIPURL   string // absolute, for OBS and other WHIP clients
	EventsURL string
	Stats     *liveStats
	LastScore *live.Event
	Finished  bool // ended: nothing more will happen here
}

// liveSessionPage is the companion page: publish the meeting (or a
// camera), watch the live score, signals and alerts, end the interview.
// Other users see the same page without the publishing controls.
func (s *server) liveSessionPage(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	p := currentPrincipal(c)
	j := s.sessionJSON(c, ls)
	v := liveSessionView{
		Session: ls, Owner: p.User.ID == ls.OwnerID, CanEnd: p.isAdmin() || p.User.ID == ls.OwnerID,
		WHIPURL: j.WHIPURL, EventsURL: "/api/v1/sessions/" + ls.ID + "/events", Finished: ls.State == store.LiveEnded,
	}
	if v.Owner && ls.State == store.LiveWaiting {
		v.Token = s.live.tokens.token(ls.ID)
	}
	if len(j.Stats) > 0 {
		var st liveStats
		if err := json.Unmarshal(j.Stats, &st); err == nil {
			v.Stats = &st
		}
	}
	if len(ls.LastScore) > 0 {
		var ev live.Event
		if err := json.Unmarshal(ls.LastScore, &ev); err == nil {
			v.LastScore = &ev
		}
	}
	title := "Live session"
	if ls.Candidate != "" {
		title = "Live: " + ls.Candidate
	}
	return s.render(c, http.StatusOK, "live_session", pageData{Title: title, Nav: "live", Data: v})
}

// liveEndForm ends a session from its page without JavaScript.
func (s *server) liveEndForm(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	if err := s.endSession(c, ls); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/live/"+ls.ID)
}

// liveDeleteConfirmPage asks before deleting a session (the no-JavaScript
// path; with JavaScript the page's button asks in a dialog).
func (s *server) liveDeleteConfirmPage(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	if p := currentPrincipal(c); !p.isAdmin() && p.User.ID != ls.OwnerID {
		return userErr(ErrForbidden, "only the session's owner or an admin may delete it")
	}
	if ls.State != store.LiveEnded {
		return userErr(ErrConflict, "live session %s has not ended yet: end it (or wait for it to end) before deleting it", ls.ID)
	}
	return s.render(c, http.StatusOK, "live_delete", pageData{Title: "Delete live session", Nav: "live", Data: ls})
}

// liveDeleteForm deletes a session and returns to the list.
func (s *server) liveDeleteForm(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	if err := s.deleteSession(c, ls); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/live")
}

// liveNote tells a report's reader that the recording came from a live
// session and what that session's live path dropped.
type liveNote struct {
	ID      string
	Summary string
}

// liveNoteOf returns the note for iv, or nil when it was not recorded live.
func (s *server) liveNoteOf(c echo.Context, iv store.Interview) (*liveNote, error) {
	if iv.Source != "live" {
		return nil, nil
	}
	ls, err := s.store.LiveSessionByInterview(c.Request().Context(), iv.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	n := &liveNote{ID: ls.ID}
	var st liveStats
	if len(ls.Stats) == 0 || json.Unmarshal(ls.Stats, &st) != nil {
		return n, nil
	}
	var frames, vdrop, apk, adrop int64
	for _, tr := range st.Tracks {
		if tr.Kind == "video" {
			frames, vdrop = frames+tr.Frames, vdrop+tr.Dropped
		} else {
			apk, adrop = apk+tr.Frames, adrop+tr.Dropped
		}
	}
	n.Summary = fmt.Sprintf("During the call, live scoring analysed %d frames in %d segments and skipped %d of %d received video frames "+
		"and %d of %d audio packets because it lagged (largest lag %.1f s); the recording kept everything, and this report analyses all of it.",
		st.FramesAnalyzed, st.Segments, vdrop, frames, adrop, apk, st.MaxLagSeconds)
	return n, nil
}
