package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/store"
)

// liveEvents streams a session's events as Server-Sent Events (cookie or
// bearer auth): "state" (waiting, live, ending, ended with the interview),
// "score" and "alert" (live.Event JSON) and "stats" (the live path's
// statistics, after each score). A new subscriber gets the current state,
// statistics and last score first. A subscriber that reads too
// slowly loses its oldest events (counted in the session's
// events_dropped), never slowing the call down. The stream ends after the
// "ended" state.
func (s *server) liveEvents(c echo.Context) error {
	ls, err := s.liveSession(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var hub *liveHub
	var sub *liveSub
	ok := false
	if ls.State != store.LiveEnded {
		var cur store.LiveSession
		if hub, sub, cur, ok, err = s.live.subscribe(ctx, ls.ID); err != nil {
			return err
		}
		if ok {
			ls = cur
		}
	}
	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if !ok {
		// Over (or the server is shutting down): the record tells the rest.
		if ls, err = s.store.LiveSession(ctx, ls.ID); err != nil {
			return err
		}
		return writeRecordStream(w, ls)
	}
	defer s.live.unsubscribe(ls.ID, hub, sub)
	// The state as stored first; the hub's replay (newer, if any) follows.
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", sseState, mustJSON(recordState(ls))); err != nil {
		return nil
	}
	w.Flush()
	// Every KeepAlive: a comment line, so that proxies keep the stream open
	// and a vanished client is noticed, and the viewer's login checked again.
	ping := time.NewTicker(s.cfg.Live.KeepAlive)
	defer ping.Stop()
	for {
		select {
		case m, open := <-sub.C:
			if !open {
				return nil
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.Event, m.Data); err != nil {
				return nil // the client went away
			}
			w.Flush()
		case <-ping.C:
			if _, err := s.authenticate(c); errors.Is(err, ErrUnauthorized) {
				// Logged out, expired, revoked or disabled since it opened.
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", sseLoggedOut, `{"reason":"your login ended"}`)
				w.Flush()
				return nil
			}
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			w.Flush()
		case <-ctx.Done():
			return nil
		}
	}
}

// recordState is the state event of a stored session.
func recordState(ls store.LiveSession) liveStateEvent {
	st := liveStateEvent{State: ls.State, Reason: ls.EndReason, Error: ls.Error, InterviewID: ls.InterviewID}
	if ls.InterviewID != "" {
		st.InterviewURL = "/interviews/" + ls.InterviewID
	}
	if len(ls.Stats) > 0 {
		var stats liveStats
		if err := json.Unmarshal(ls.Stats, &stats); err == nil {
			st.Stats = &stats
		}
	}
	return st
}

// writeRecordStream sends what the record of a session not running here
// says (its last score, then its state) and ends the stream.
func writeRecordStream(w *echo.Response, ls store.LiveSession) error {
	if len(ls.LastScore) > 0 {
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", sseScore, ls.LastScore); err != nil {
			return nil
		}
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", sseState, mustJSON(recordState(ls))); err != nil {
		return nil
	}
	w.Flush()
	return nil
}
