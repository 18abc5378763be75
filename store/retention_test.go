package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A retention policy finds finished interviews created before the cut-off
// (not queued or processing ones), oldest first and at most limit; and
// waiting or ended live sessions that made no interview whose retention
// clock (end, or creation when no publisher ever started them) started
// before the cut-off (not live or ending ones, nor those whose record
// goes with their interview).
func TestExpired(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "rec@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	cut := time.Now().Add(-24 * time.Hour)
	old, young := cut.Add(-time.Hour), cut.Add(time.Hour)

	ivs := map[string]string{} // name → id
	for _, tc := range []struct {
		name    string
		created time.Time
		status  Status
	}{
		{"old done", old, StatusDone},
		{"older failed", old.Add(-time.Minute), StatusFailed},
		{"old queued", old, StatusQueued},
		{"old processing", old, StatusProcessing},
		{"young done", young, StatusDone},
		{"at the cut-off", cut, StatusDone},
	} {
		iv := Interview{ID: NewID(), OwnerID: u.ID, MediaFile: "media/" + tc.name, Status: StatusQueued, CreatedAt: tc.created}
		require.NoError(t, s.CreateInterview(ctx, iv), tc.name)
		switch tc.status {
		case StatusProcessing:
			require.NoError(t, s.StartAttempt(ctx, iv.ID, 1, tc.created))
		case StatusDone:
			require.NoError(t, s.StartAttempt(ctx, iv.ID, 1, tc.created))
			require.NoError(t, s.Finish(ctx, iv.ID, Outcome{Report: json.RawMessage(`{}`), Verdict: "genuine"}, tc.created))
		case StatusFailed:
			require.NoError(t, s.Fail(ctx, iv.ID, "unusable", tc.created))
		}
		ivs[tc.name] = iv.ID
	}
	got, err := s.ExpiredInterviews(ctx, cut, 10)
	require.NoError(t, err)
	var names []string
	for _, iv := range got {
		for name, id := range ivs {
			if id == iv.ID {
				names = append(names, name)
			}
		}
	}
	assert.Equal(t, []string{"older failed", "old done"}, names, "finished, created before the cut-off, oldest first")
	got, err = s.ExpiredInterviews(ctx, cut, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, ivs["older failed"], got[0].ID)
	assert.Equal(t, "media/older failed", got[0].MediaFile, "whole rows: the caller removes the files")

	// The delete checks again, in its transaction: an interview analysed
	// again since the listing, or not yet due, stays.
	for _, name := range []string{"old queued", "old processing", "young done", "at the cut-off"} {
		require.ErrorIs(t, s.DeleteExpiredInterview(ctx, ivs[name], cut), ErrBusy, name)
		_, err := s.Interview(ctx, ivs[name])
		require.NoError(t, err, name)
	}
	_, err = s.Reanalyse(ctx, ivs["older failed"], "")
	require.NoError(t, err)
	require.ErrorIs(t, s.DeleteExpiredInterview(ctx, ivs["older failed"], cut), ErrBusy, "analysed again after the listing")
	require.ErrorIs(t, s.DeleteExpiredInterview(ctx, "nosuchinterview", cut), ErrNotFound)

	n := 0
	session := func(ended time.Time, state LiveState, interviewID string) string {
		n++
		ls := LiveSession{ID: NewID(), OwnerID: u.ID, TokenHash: []byte(fmt.Sprint("t", n)), CreatedAt: ended.Add(-time.Hour)}
		require.NoError(t, s.CreateLiveSession(ctx, ls, 0))
		if state == LiveWaiting {
			return ls.ID
		}
		require.NoError(t, s.SetLiveState(ctx, ls.ID, LiveLive, ended.Add(-time.Hour), LiveWaiting))
		if state == LiveLive {
			return ls.ID
		}
		require.NoError(t, s.SetLiveState(ctx, ls.ID, LiveEnding, ended, LiveLive))
		if state == LiveEnding {
			return ls.ID
		}
		require.NoError(t, s.EndLiveSession(ctx, ls.ID, LiveEnd{Reason: "ended", InterviewID: interviewID}, ended))
		return ls.ID
	}
	oldEnded := session(old, LiveEnded, "")
	olderEnded := session(old.Add(-time.Minute), LiveEnded, "")
	withInterview := session(old.Add(-2*time.Minute), LiveEnded, ivs["old done"]) // goes with its interview
	session(young, LiveEnded, "")
	oldWaiting := session(old, LiveWaiting, "")    // created an hour before old
	session(young.Add(time.Hour), LiveWaiting, "") // created at young
	session(old, LiveLive, "")
	session(old, LiveEnding, "")
	// Ended after the cut-off, but no publisher ever started it: its clock
	// started at its creation, before the cut-off.
	neverStarted := LiveSession{ID: NewID(), OwnerID: u.ID, TokenHash: []byte("never"), CreatedAt: old.Add(-30 * time.Minute)}
	require.NoError(t, s.CreateLiveSession(ctx, neverStarted, 0))
	require.NoError(t, s.SetLiveState(ctx, neverStarted.ID, LiveEnding, young, LiveWaiting))
	require.NoError(t, s.EndLiveSession(ctx, neverStarted.ID, LiveEnd{Reason: "ended"}, young))
	expired := func(limit int) []string {
		t.Helper()
		got, err := s.ExpiredLiveSessions(ctx, cut, limit)
		require.NoError(t, err)
		var ids []string
		for _, ls := range got {
			ids = append(ids, ls.ID)
		}
		return ids
	}
	assert.Equal(t, []string{oldWaiting, neverStarted.ID, olderEnded, oldEnded}, expired(10),
		"waiting or ended without an interview, whose clock started before the cut-off; oldest first")
	ls, err := s.LiveSession(ctx, neverStarted.ID)
	require.NoError(t, err)
	assert.Equal(t, neverStarted.CreatedAt.UnixMilli(), ls.RetainedFrom().UnixMilli())
	ls, err = s.LiveSession(ctx, oldEnded)
	require.NoError(t, err)
	assert.Equal(t, old.UnixMilli(), ls.RetainedFrom().UnixMilli(), "a session that received media: from its end")
	assert.Equal(t, []string{oldWaiting}, expired(1))

	require.NoError(t, s.DeleteExpiredInterview(ctx, ivs["old done"], cut))
	_, err = s.Interview(ctx, ivs["old done"])
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Report(ctx, ivs["old done"])
	require.ErrorIs(t, err, ErrNotFound, "with its report")
	_, err = s.LiveSession(ctx, withInterview)
	require.ErrorIs(t, err, ErrNotFound, "and the record of the session it was recorded in")
	require.ErrorIs(t, s.DeleteExpiredInterview(ctx, ivs["old done"], cut), ErrNotFound)
}

// Both databases overwrite what is deleted (a deleted interview's
// candidate and report, a webhook job's event) instead of leaving it in
// free pages.
func TestSecureDelete(t *testing.T) {
	db, err := OpenSQLiteDB(filepath.Join(t.TempDir(), "queue.db"))
	require.NoError(t, err)
	defer db.Close()
	var on int
	require.NoError(t, db.QueryRow(`PRAGMA secure_delete`).Scan(&on))
	assert.Equal(t, 1, on)
}

// A media retention policy finds finished interviews created before the
// cut-off that keep their media; deleting them records when, keeps the
// row and its report, is not done twice, and from then on the interview
// cannot be analysed again.
func TestExpiredMedia(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	cut := time.Now().Add(-time.Hour)
	done := func(created time.Time) string {
		t.Helper()
		iv := Interview{ID: NewID(), MediaFile: "media/x.mp4", Status: StatusQueued, CreatedAt: created}
		require.NoError(t, s.CreateInterview(ctx, iv))
		require.NoError(t, s.StartAttempt(ctx, iv.ID, 1, created))
		require.NoError(t, s.Finish(ctx, iv.ID, Outcome{Report: json.RawMessage(`{"verdict":"genuine"}`), Verdict: "genuine"}, created))
		return iv.ID
	}
	old, older, young := done(cut.Add(-time.Minute)), done(cut.Add(-2*time.Minute)), done(cut.Add(time.Minute))
	queued := Interview{ID: NewID(), MediaFile: "media/q.mp4", Status: StatusQueued, CreatedAt: cut.Add(-time.Hour)}
	require.NoError(t, s.CreateInterview(ctx, queued))
	ids := func() []string {
		t.Helper()
		got, err := s.ExpiredMedia(ctx, cut, 10)
		require.NoError(t, err)
		var out []string
		for _, iv := range got {
			out = append(out, iv.ID)
		}
		return out
	}
	assert.Equal(t, []string{older, old}, ids())

	_, err := s.DeleteExpiredMedia(ctx, young, cut, time.Now())
	require.ErrorIs(t, err, ErrBusy, "not due")
	_, err = s.DeleteExpiredMedia(ctx, queued.ID, cut, time.Now())
	require.ErrorIs(t, err, ErrBusy, "not finished")
	_, err = s.DeleteExpiredMedia(ctx, "nosuchinterview", cut, time.Now())
	require.ErrorIs(t, err, ErrNotFound)

	now := time.Now()
	iv, err := s.DeleteExpiredMedia(ctx, old, cut, now)
	require.NoError(t, err)
	require.NotNil(t, iv.MediaDeletedAt)
	assert.Equal(t, now.UnixMilli(), iv.MediaDeletedAt.UnixMilli())
	assert.Equal(t, "media/x.mp4", iv.MediaFile, "the row as it is: the caller removes the files")
	assert.Equal(t, StatusDone, iv.Status)
	_, err = s.DeleteExpiredMedia(ctx, old, cut, now)
	require.ErrorIs(t, err, ErrBusy, "once")
	assert.Equal(t, []string{older}, ids())
	rep, err := s.Report(ctx, old)
	require.NoError(t, err, "the report stays")
	assert.JSONEq(t, `{"verdict":"genuine"}`, string(rep))
	_, err = s.Reanalyse(ctx, old, "")
	require.ErrorIs(t, err, ErrMediaDeleted, "nothing left to analyse")
	got, err := s.Interview(ctx, old)
	require.NoError(t, err)
	assert.Equal(t, StatusDone, got.Status, "unchanged by the refused reanalysis")
	require.NotNil(t, got.MediaDeletedAt)
	require.NoError(t, s.DeleteInterview(ctx, old), "and it can still be deleted")
}
