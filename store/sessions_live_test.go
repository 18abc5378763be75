package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A live session goes waiting → live → ending → ended; state changes from
// the wrong state fail with ErrLiveState; progress and the outcome are
// kept; deleting its interview deletes the session's record.
func TestLiveSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "rec@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	now := time.Now()
	ls := LiveSession{ID: NewID(), OwnerID: u.ID, Candidate: "Ada", Title: "Round 1", TokenHash: []byte("hash-1"), CreatedAt: now, Region: "right"}
	require.NoError(t, s.CreateLiveSession(ctx, ls, 0))

	for _, tc := range []struct {
		name string
		ls   LiveSession
		err  error
	}{
		{"same id", LiveSession{ID: ls.ID, TokenHash: []byte("other")}, ErrExists},
		{"same token", LiveSession{ID: NewID(), TokenHash: []byte("hash-1")}, ErrExists},
		{"no token", LiveSession{ID: NewID()}, ErrInvalid},
		{"bad id", LiveSession{ID: "../x", TokenHash: []byte("h")}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, s.CreateLiveSession(ctx, tc.ls, 0), tc.err)
		})
	}

	got, err := s.LiveSession(ctx, ls.ID)
	require.NoError(t, err)
	assert.Equal(t, LiveWaiting, got.State)
	assert.Equal(t, "Ada", got.Candidate)
	assert.Equal(t, "right", got.Region)
	assert.Equal(t, u.ID, got.OwnerID)
	assert.Nil(t, got.StartedAt)

	// Only a waiting session can go live: a second publisher is refused.
	require.NoError(t, s.SetLiveState(ctx, ls.ID, LiveLive, now, LiveWaiting))
	require.ErrorIs(t, s.SetLiveState(ctx, ls.ID, LiveLive, now, LiveWaiting), ErrLiveState)
	require.ErrorIs(t, s.SetLiveState(ctx, "nosuchsession", LiveLive, now, LiveWaiting), ErrNotFound)
	require.ErrorIs(t, s.SetLiveState(ctx, ls.ID, LiveState("gone"), now, LiveLive), ErrInvalid)

	score := json.RawMessage(`{"kind":"score","authenticity":80}`)
	require.NoError(t, s.SaveLiveProgress(ctx, ls.ID, score, json.RawMessage(`{"segments":1}`), 0))
	require.NoError(t, s.SaveLiveProgress(ctx, ls.ID, nil, json.RawMessage(`{"segments":2}`), 1), "nil keeps the last score")
	require.ErrorIs(t, s.SaveLiveProgress(ctx, ls.ID, json.RawMessage(`{`), nil, 1), ErrInvalid)
	got, err = s.LiveSession(ctx, ls.ID)
	require.NoError(t, err)
	assert.Equal(t, LiveLive, got.State)
	require.NotNil(t, got.StartedAt)
	assert.JSONEq(t, string(score), string(got.LastScore))
	assert.JSONEq(t, `{"segments":2}`, string(got.Stats))
	assert.Equal(t, 1, got.Alerts)

	require.NoError(t, s.SetLiveState(ctx, ls.ID, LiveEnding, now, LiveWaiting, LiveLive))
	iv := Interview{ID: NewID(), OwnerID: u.ID, MediaFile: "media/x.mkv", Status: StatusQueued, Source: "live"}
	require.NoError(t, s.CreateInterview(ctx, iv))
	require.NoError(t, s.EndLiveSession(ctx, ls.ID, LiveEnd{Reason: "the publisher ended the call", InterviewID: iv.ID,
		Stats: json.RawMessage(`{"segments":3}`)}, now))
	got, err = s.LiveSession(ctx, ls.ID)
	require.NoError(t, err)
	assert.Equal(t, LiveEnded, got.State)
	assert.Equal(t, iv.ID, got.InterviewID)
	assert.Equal(t, "the publisher ended the call", got.EndReason)
	assert.JSONEq(t, `{"segments":3}`, string(got.Stats))
	require.NotNil(t, got.EndedAt)
	require.ErrorIs(t, s.EndLiveSession(ctx, "nosuchsession", LiveEnd{}, now), ErrNotFound)
	byIV, err := s.LiveSessionByInterview(ctx, iv.ID)
	require.NoError(t, err)
	assert.Equal(t, ls.ID, byIV.ID)
	_, err = s.LiveSessionByInterview(ctx, "nosuchinterview")
	require.ErrorIs(t, err, ErrNotFound)

	// The record names the candidate: it goes with the recording.
	require.NoError(t, s.DeleteInterview(ctx, iv.ID))
	_, err = s.LiveSession(ctx, ls.ID)
	require.ErrorIs(t, err, ErrNotFound, "the session's record goes with its interview")
	require.ErrorIs(t, s.DeleteInterview(ctx, iv.ID), ErrNotFound)
}

// Deleting a live session removes its record and the interview made from
// its recording, with the report; only an ended session can be deleted.
func TestDeleteLiveSession(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "rec@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	now := time.Now()
	create := func(tok string) LiveSession {
		ls := LiveSession{ID: NewID(), OwnerID: u.ID, Candidate: "Ada", TokenHash: []byte(tok), CreatedAt: now}
		require.NoError(t, s.CreateLiveSession(ctx, ls, 0))
		return ls
	}
	end := func(ls LiveSession, interviewID string) {
		require.NoError(t, s.SetLiveState(ctx, ls.ID, LiveEnding, now, LiveWaiting, LiveLive))
		require.NoError(t, s.EndLiveSession(ctx, ls.ID, LiveEnd{Reason: "ended", InterviewID: interviewID}, now))
	}

	recorded := create("t1")
	iv := Interview{ID: NewID(), OwnerID: u.ID, MediaFile: "media/x.mkv", Status: StatusQueued, Source: "live"}
	require.NoError(t, s.CreateInterview(ctx, iv))
	require.NoError(t, s.StartAttempt(ctx, iv.ID, 1, now))
	require.NoError(t, s.Finish(ctx, iv.ID, Outcome{Report: json.RawMessage(`{"verdict":"genuine"}`), Verdict: "genuine"}, now))
	end(recorded, iv.ID)
	other := Interview{ID: NewID(), OwnerID: u.ID, MediaFile: "media/y.mkv", Status: StatusQueued}
	require.NoError(t, s.CreateInterview(ctx, other))

	waiting := create("t2")
	live := create("t3")
	require.NoError(t, s.SetLiveState(ctx, live.ID, LiveLive, now, LiveWaiting))
	ending := create("t4")
	require.NoError(t, s.SetLiveState(ctx, ending.ID, LiveEnding, now, LiveWaiting))
	for _, ls := range []LiveSession{waiting, live, ending} {
		_, _, err := s.DeleteLiveSession(ctx, ls.ID)
		require.ErrorIs(t, err, ErrLiveState, "a session that has not ended stays")
		_, err = s.LiveSession(ctx, ls.ID)
		require.NoError(t, err)
	}
	_, _, err = s.DeleteLiveSession(ctx, "nosuchsession")
	require.ErrorIs(t, err, ErrNotFound)

	got, gotIV, err := s.DeleteLiveSession(ctx, recorded.ID)
	require.NoError(t, err)
	assert.Equal(t, iv.ID, got.InterviewID, "the record as it was")
	require.NotNil(t, gotIV, "and its interview, whose files the caller removes")
	assert.Equal(t, "media/x.mkv", gotIV.MediaFile)
	_, err = s.LiveSession(ctx, recorded.ID)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Interview(ctx, iv.ID)
	require.ErrorIs(t, err, ErrNotFound, "its interview goes too")
	_, err = s.Report(ctx, iv.ID)
	require.ErrorIs(t, err, ErrNotFound, "and the report")
	_, err = s.Interview(ctx, other.ID)
	require.NoError(t, err, "another interview stays")
	_, _, err = s.DeleteLiveSession(ctx, recorded.ID)
	require.ErrorIs(t, err, ErrNotFound)

	// A session that ended with nothing received has no interview.
	end(waiting, "")
	_, gotIV, err = s.DeleteLiveSession(ctx, waiting.ID)
	require.NoError(t, err)
	assert.Nil(t, gotIV)

	// The interview made from a recording is deleted while its session is
	// still ending: the session ends without it rather than staying
	// ending for ever (a foreign-key failure before).
	gone := Interview{ID: NewID(), OwnerID: u.ID, MediaFile: "media/z.mkv", Status: StatusQueued, Source: "live"}
	require.NoError(t, s.CreateInterview(ctx, gone))
	require.NoError(t, s.DeleteInterview(ctx, gone.ID))
	require.NoError(t, s.EndLiveSession(ctx, ending.ID, LiveEnd{Reason: "ended", InterviewID: gone.ID}, now))
	got, err = s.LiveSession(ctx, ending.ID)
	require.NoError(t, err)
	assert.Equal(t, LiveEnded, got.State)
	assert.Empty(t, got.InterviewID)
	_, _, err = s.DeleteLiveSession(ctx, ending.ID)
	require.NoError(t, err)
}

// Sessions a crashed server left live or ending are ended with a message;
// waiting and ended ones are untouched. Listing is newest first.
func TestAbandonLiveSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := time.Now().Add(-time.Hour)
	ids := map[LiveState]string{}
	for i, st := range []LiveState{LiveWaiting, LiveLive, LiveEnding, LiveEnded} {
		id := NewID()
		ids[st] = id
		require.NoError(t, s.CreateLiveSession(ctx, LiveSession{ID: id, TokenHash: []byte(id), CreatedAt: base.Add(time.Duration(i) * time.Minute)}, 0))
		switch st {
		case LiveLive:
			require.NoError(t, s.SetLiveState(ctx, id, LiveLive, base, LiveWaiting))
		case LiveEnding:
			require.NoError(t, s.SetLiveState(ctx, id, LiveEnding, base, LiveWaiting))
		case LiveEnded:
			require.NoError(t, s.EndLiveSession(ctx, id, LiveEnd{Reason: "done"}, base))
		}
	}
	got, err := s.AbandonLiveSessions(ctx, "the server stopped during the call", time.Now())
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{ids[LiveLive], ids[LiveEnding]}, got)
	for st, id := range ids {
		ls, err := s.LiveSession(ctx, id)
		require.NoError(t, err)
		switch st {
		case LiveWaiting:
			assert.Equal(t, LiveWaiting, ls.State)
		case LiveEnded:
			assert.Equal(t, "done", ls.EndReason)
			assert.Empty(t, ls.Error)
		default:
			assert.Equal(t, LiveEnded, ls.State, st)
			assert.Equal(t, "the server stopped during the call", ls.Error)
		}
	}
	list, err := s.ListLiveSessions(ctx, 3)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, ids[LiveEnded], list[0].ID, "newest first")
	assert.Equal(t, ids[LiveLive], list[2].ID)
}

// An owner may keep at most maxWaiting sessions waiting for a publisher;
// sessions that went live, other owners and sessions without an owner do
// not count, and concurrent creations cannot overshoot the limit.
func TestLiveSessionWaitingLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a, err := s.CreateUser(ctx, "a@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	b, err := s.CreateUser(ctx, "b@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	mk := func(owner int64) LiveSession {
		id := NewID()
		return LiveSession{ID: id, OwnerID: owner, TokenHash: []byte(id)}
	}
	first := mk(a.ID)
	require.NoError(t, s.CreateLiveSession(ctx, first, 2))
	require.NoError(t, s.CreateLiveSession(ctx, mk(a.ID), 2))
	err = s.CreateLiveSession(ctx, mk(a.ID), 2)
	require.ErrorIs(t, err, ErrLimit)
	assert.Contains(t, err.Error(), "2 live sessions waiting")
	require.NoError(t, s.CreateLiveSession(ctx, mk(b.ID), 2), "another owner")
	require.NoError(t, s.CreateLiveSession(ctx, mk(0), 2), "no owner")
	require.NoError(t, s.CreateLiveSession(ctx, mk(a.ID), 0), "no limit")
	require.ErrorIs(t, s.CreateLiveSession(ctx, mk(a.ID), 3), ErrLimit)

	// A session that went live no longer waits.
	require.NoError(t, s.SetLiveState(ctx, first.ID, LiveLive, time.Now(), LiveWaiting))
	require.NoError(t, s.CreateLiveSession(ctx, mk(a.ID), 3))
	require.ErrorIs(t, s.CreateLiveSession(ctx, mk(a.ID), 3), ErrLimit)

	// Concurrent creations: exactly the limit succeeds.
	c, err := s.CreateUser(ctx, "c@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	errs := make(chan error, 12)
	for range cap(errs) {
		go func() { errs <- s.CreateLiveSession(ctx, mk(c.ID), 5) }()
	}
	ok := 0
	for range cap(errs) {
		if err := <-errs; err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, ErrLimit)
		}
	}
	assert.Equal(t, 5, ok)
}
