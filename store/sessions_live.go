package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrLiveState means a live session is not in the state an operation
// needs (e.g. a second publisher on a session already live).
var ErrLiveState = errors.New("live session is in another state")

// LiveState is where a live screening session is in its life.
type LiveState string

// Live session states, in order.
const (
	LiveWaiting LiveState = "waiting" // created; no publisher yet
	LiveLive    LiveState = "live"    // a publisher is sending media
	LiveEnding  LiveState = "ending"  // the call is over; its recording is being queued
	LiveEnded   LiveState = "ended"   // finished: InterviewID or Error says what came of it
)

// Valid reports whether s is a known state.
func (s LiveState) Valid() bool {
	switch s {
	case LiveWaiting, LiveLive, LiveEnding, LiveEnded:
		return true
	}
	return false
}

// LiveSession is one live screening session: a WHIP publisher sends a
// call's media, it is scored as it arrives, and its recording becomes an
// interview when the session ends. Only the SHA-256 hash of the publishing
// token is stored.
type LiveSession struct {
	ID        string
	OwnerID   int64 // 0 when the owner's account was deleted
	Candidate string
	Title     string
	TokenHash []byte
	State     LiveState
	// EndReason says how the call ended ("the publisher ended the call",
	// "the peer went away", …); Error why no interview came of it.
	EndReason   string
	Error       string
	InterviewID string // the recording's interview, once queued
	// Stats are the live path's statistics (JSON: segments, frames, lag,
	// per-track packets and drops); LastScore the last score event (JSON).
	Stats     json.RawMessage
	LastScore json.RawMessage
	Alerts    int
	CreatedAt time.Time
	StartedAt *time.Time
	EndedAt   *time.Time
	// Region is the part of the shared picture to analyse, in
	// media.Region's text form; "" is the whole picture.
	Region string
}

// RetainedFrom is when the session's retention clock started
// (ExpiredLiveSessions): when it ended, or when it was created if no
// publisher ever started it.
func (s LiveSession) RetainedFrom() time.Time {
	if s.StartedAt != nil && s.EndedAt != nil {
		return *s.EndedAt
	}
	return s.CreatedAt
}

// LiveEnd is what an ended session stores.
type LiveEnd struct {
	Reason      string
	Error       string
	InterviewID string // "" when nothing was queued
	Stats       json.RawMessage
}

const liveCols = `id, coalesce(owner_id, 0), candidate, title, token_hash, state, end_reason, error,
	coalesce(interview_id, ''), stats, last_score, alerts, created_at, started_at, ended_at, region`

func scanLive(r scanner) (LiveSession, error) {
	var s LiveSession
	var state string
	var stats, last []byte
	var created int64
	var started, ended sql.NullInt64
	if err := r.Scan(&s.ID, &s.OwnerID, &s.Candidate, &s.Title, &s.TokenHash, &state, &s.EndReason, &s.Error,
		&s.InterviewID, &stats, &last, &s.Alerts, &created, &started, &ended, &s.Region); err != nil {
		return LiveSession{}, err
	}
	s.State = LiveState(state)
	if len(stats) > 0 {
		s.Stats = json.RawMessage(stats)
	}
	if len(last) > 0 {
		s.LastScore = json.RawMessage(last)
	}
	s.CreatedAt, s.StartedAt, s.EndedAt = fromMS(created), optTime(started), optTime(ended)
	return s, nil
}

// optJSON stores an empty or invalid document as NULL.
func optJSON(b json.RawMessage) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%w: not JSON", ErrInvalid)
	}
	return []byte(b), nil
}

// CreateLiveSession implements LiveSessions.
func (s *SQLite) CreateLiveSession(ctx context.Context, ls LiveSession, maxWaiting int) error {
	if !validID.MatchString(ls.ID) {
		return ErrBadID
	}
	if len(ls.TokenHash) == 0 {
		return fmt.Errorf("%w: a live session needs a token hash", ErrInvalid)
	}
	if ls.CreatedAt.IsZero() {
		ls.CreatedAt = time.Now()
	}
	var owner any
	if ls.OwnerID != 0 {
		owner = ls.OwnerID
	}
	// One statement, so that two concurrent creations cannot both pass
	// the count.
	res, err := s.db.ExecContext(ctx, `INSERT INTO live_sessions (id, owner_id, candidate, title, token_hash, state, created_at, region)
		SELECT ?1, ?2, ?3, ?4, ?5, 'waiting', ?6, ?8
		WHERE ?7 <= 0 OR ?2 IS NULL
			OR (SELECT COUNT(*) FROM live_sessions WHERE owner_id = ?2 AND state = 'waiting') < ?7`,
		ls.ID, owner, ls.Candidate, ls.Title, ls.TokenHash, ms(ls.CreatedAt), maxWaiting, ls.Region)
	if isUnique(err) {
		return fmt.Errorf("live session %s: %w", ls.ID, ErrExists)
	}
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %d live sessions waiting for a publisher", ErrLimit, maxWaiting)
	}
	return nil
}

// LiveSession implements LiveSessions.
func (s *SQLite) LiveSession(ctx context.Context, id string) (LiveSession, error) {
	ls, err := scanLive(s.db.QueryRowContext(ctx, `SELECT `+liveCols+` FROM live_sessions WHERE id = ?`, id))
	return ls, notFound(err, "live session "+id)
}

// LiveSessionByInterview implements LiveSessions.
func (s *SQLite) LiveSessionByInterview(ctx context.Context, interviewID string) (LiveSession, error) {
	ls, err := scanLive(s.db.QueryRowContext(ctx, `SELECT `+liveCols+` FROM live_sessions WHERE interview_id = ?`, interviewID))
	return ls, notFound(err, "live session of interview "+interviewID)
}

// ListLiveSessions implements LiveSessions.
func (s *SQLite) ListLiveSessions(ctx context.Context, limit int) ([]LiveSession, error) {
	return queryAll(ctx, s.db, scanLive, `SELECT `+liveCols+` FROM live_sessions ORDER BY created_at DESC, id DESC LIMIT ?`,
		min(max(limit, 1), 200))
}

// SetLiveState implements LiveSessions.
func (s *SQLite) SetLiveState(ctx context.Context, id string, to LiveState, now time.Time, from ...LiveState) error {
	if !to.Valid() || len(from) == 0 {
		return fmt.Errorf("%w: state change to %q from %v", ErrInvalid, to, from)
	}
	marks := make([]string, len(from))
	args := []any{string(to)}
	set := "state = ?"
	if to == LiveLive {
		set += ", started_at = ?"
		args = append(args, ms(now))
	}
	args = append(args, id)
	for i, f := range from {
		marks[i] = "?"
		args = append(args, string(f))
	}
	res, err := s.db.ExecContext(ctx, `UPDATE live_sessions SET `+set+` WHERE id = ? AND state IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	cur, err := s.LiveSession(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("live session %s is %s: %w", id, cur.State, ErrLiveState)
}

// SaveLiveProgress implements LiveSessions.
func (s *SQLite) SaveLiveProgress(ctx context.Context, id string, lastScore, stats json.RawMessage, alerts int) error {
	last, err := optJSON(lastScore)
	if err != nil {
		return err
	}
	st, err := optJSON(stats)
	if err != nil {
		return err
	}
	return s.updateLive(ctx, id, `UPDATE live_sessions SET last_score = coalesce(?, last_score), stats = coalesce(?, stats),
		alerts = ? WHERE id = ?`, last, st, alerts, id)
}

// EndLiveSession implements LiveSessions.
func (s *SQLite) EndLiveSession(ctx context.Context, id string, end LiveEnd, now time.Time) error {
	st, err := optJSON(end.Stats)
	if err != nil {
		return err
	}
	var iv any
	if end.InterviewID != "" {
		iv = end.InterviewID
	}
	// An interview deleted while the session was ending (between its
	// creation and this write) leaves no interview to point at: NULL, not
	// a foreign-key failure that would leave the session ending.
	return s.updateLive(ctx, id, `UPDATE live_sessions SET state = 'ended', end_reason = ?, error = ?,
		interview_id = (SELECT id FROM interviews WHERE id = ?),
		stats = coalesce(?, stats), ended_at = ? WHERE id = ?`, end.Reason, end.Error, iv, st, ms(now), id)
}

// AbandonLiveSessions implements LiveSessions.
func (s *SQLite) AbandonLiveSessions(ctx context.Context, msg string, now time.Time) ([]string, error) {
	return queryAll(ctx, s.db, scanID, `UPDATE live_sessions SET state = 'ended', error = ?, ended_at = ?
		WHERE state IN ('live', 'ending') RETURNING id`, msg, ms(now))
}

// DeleteLiveSession implements LiveSessions.
func (s *SQLite) DeleteLiveSession(ctx context.Context, id string) (LiveSession, *Interview, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return LiveSession{}, nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	ls, err := scanLive(tx.QueryRowContext(ctx, `SELECT `+liveCols+` FROM live_sessions WHERE id = ?`, id))
	if err != nil {
		return LiveSession{}, nil, notFound(err, "live session "+id)
	}
	if ls.State != LiveEnded {
		return LiveSession{}, nil, fmt.Errorf("live session %s is %s: %w", id, ls.State, ErrLiveState)
	}
	var iv *Interview
	if ls.InterviewID != "" {
		got, err := scanInterview(tx.QueryRowContext(ctx, `SELECT `+ivCols+` FROM interviews WHERE id = ?`, ls.InterviewID))
		switch {
		case err == nil:
			iv = &got
		case !errors.Is(err, sql.ErrNoRows):
			return LiveSession{}, nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM live_sessions WHERE id = ?`, id); err != nil {
		return LiveSession{}, nil, err
	}
	if iv != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM interviews WHERE id = ?`, iv.ID); err != nil {
			return LiveSession{}, nil, err
		}
	}
	return ls, iv, tx.Commit()
}

// ExpiredLiveSessions implements LiveSessions.
func (s *SQLite) ExpiredLiveSessions(ctx context.Context, before time.Time, limit int) ([]LiveSession, error) {
	// A session's retention clock starts when it ended, or when it was
	// created if no publisher ever started it (nothing was received: a
	// crash between ending a waiting session and deleting it does not
	// restart the clock).
	return queryAll(ctx, s.db, scanLive, `SELECT `+liveCols+` FROM live_sessions
		WHERE state IN ('waiting', 'ended') AND interview_id IS NULL
			AND (CASE WHEN started_at IS NULL THEN created_at ELSE coalesce(ended_at, created_at) END) < ?1
		ORDER BY (CASE WHEN started_at IS NULL THEN created_at ELSE coalesce(ended_at, created_at) END), id LIMIT ?2`,
		ms(before), min(max(limit, 1), 200))
}

func (s *SQLite) updateLive(ctx context.Context, id, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("live session %s: %w", id, ErrNotFound)
	}
	return nil
}
