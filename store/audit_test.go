package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The audit log keeps entries as recorded, returns them newest first with
// each filter and page, cleans text that people read in lists, refuses an
// entry without an actor or an action, and deletes entries older than a
// cut-off.
func TestAudit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	entries := []AuditEvent{
		{At: t0, UserID: 1, Actor: "rec@example.com", Action: "interview.upload", Target: "interview:a", Addr: "127.0.0.1", Detail: "api"},
		{At: t0.Add(time.Second), UserID: 2, Actor: "Admin@example.com", Action: "interview.view", Target: "interview:a", Addr: "::1", Detail: "page"},
		{At: t0.Add(2 * time.Second), Actor: "server", Action: "retention.interview", Target: "interview:a", Detail: "retention 24h0m0s"},
		{At: t0.Add(3 * time.Second), UserID: 1, Actor: "rec@example.com", Action: "interviewer.odd", Target: "interview:b"},
		{At: t0.Add(4 * time.Second), UserID: 2, Actor: "admin@example.com", Action: "login", Target: "user:2"},
	}
	for _, e := range entries {
		require.NoError(t, s.RecordAudit(ctx, e))
	}
	all, err := s.AuditEvents(ctx, AuditFilter{})
	require.NoError(t, err)
	require.Len(t, all, len(entries))
	for i, got := range all {
		want := entries[len(entries)-1-i]
		want.ID = got.ID
		assert.Equal(t, want, got, "newest first, kept as recorded")
		if i > 0 {
			assert.Less(t, got.ID, all[i-1].ID)
		}
	}
	actions := func(f AuditFilter) []string {
		t.Helper()
		es, err := s.AuditEvents(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, e := range es {
			out = append(out, e.Action)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    AuditFilter
		want []string
	}{
		{"target", AuditFilter{Target: "interview:a"}, []string{"retention.interview", "interview.view", "interview.upload"}},
		{"actor, any case", AuditFilter{Actor: "ADMIN@example.com"}, []string{"login", "interview.view"}},
		{"action", AuditFilter{Action: "interview.view"}, []string{"interview.view"}},
		{"action prefix stops at the dot", AuditFilter{Action: "interview."}, []string{"interview.view", "interview.upload"}},
		{"no such target", AuditFilter{Target: "interview:"}, nil},
		{"limit", AuditFilter{Limit: 2}, []string{"login", "interviewer.odd"}},
		{"next page", AuditFilter{Limit: 2, Before: all[1].ID}, []string{"retention.interview", "interview.view"}},
		{"filters together", AuditFilter{Target: "interview:a", Actor: "rec@example.com"}, []string{"interview.upload"}},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, actions(tc.f)) })
	}
	_, err = s.AuditEvents(ctx, AuditFilter{Limit: 1001})
	assert.ErrorIs(t, err, ErrInvalid)

	for _, e := range []AuditEvent{{Action: "login"}, {Actor: "server"}} {
		assert.ErrorIs(t, s.RecordAudit(ctx, e), ErrInvalid)
	}
	// A typed e-mail address is client text: control and bidi characters
	// go, and it is cut (at a character boundary) to maxAuditText bytes.
	long := "x\u202e\n" + strings.Repeat("é", maxAuditText)
	require.NoError(t, s.RecordAudit(ctx, AuditEvent{Actor: long, Action: "login.failed"}))
	got, err := s.AuditEvents(ctx, AuditFilter{Action: "login.failed"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "x "+strings.Repeat("é", (maxAuditText-2)/2), got[0].Actor)
	assert.WithinDuration(t, time.Now(), got[0].At, time.Minute, "a zero time is now")

	n, kept, err := s.DeleteAuditBefore(ctx, t0.Add(2*time.Second))
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	assert.Zero(t, kept)
	assert.Equal(t, []string{"login.failed", "login", "interviewer.odd", "retention.interview"}, actions(AuditFilter{}))
}
