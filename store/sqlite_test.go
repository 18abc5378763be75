package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openTest(t *testing.T) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bonafide.db")
	s, err := OpenSQLite(context.Background(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, path
}

// openOldSchema opens a new database migrated only up to version, as an
// older bonafide left it; the caller closes it before opening the path
// with OpenSQLite.
func openOldSchema(t *testing.T, version string) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bonafide.db")
	db, err := OpenSQLiteDB(path)
	require.NoError(t, err)
	old := &SQLite{db: db, log: slog.New(slog.DiscardHandler)}
	require.NoError(t, old.migrate(context.Background(), version))
	return old, path
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	_, err := s.CreateUser(ctx, "a@example.com", RoleAdmin, "h")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	require.ErrorIs(t, s.Ping(ctx), ErrClosed)

	s2, err := OpenSQLite(ctx, path, nil)
	require.NoError(t, err)
	defer s2.Close()
	u, err := s2.UserByEmail(ctx, "A@example.com")
	require.NoError(t, err, "data survives reopening; e-mail is case-insensitive")
	assert.Equal(t, RoleAdmin, u.Role)
	var n int
	require.NoError(t, s2.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n))
	entries, err := migrationFS.ReadDir("migrations")
	require.NoError(t, err)
	assert.Equal(t, len(entries), n)
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	n, err := s.CountUsers(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a new store has no accounts")
	cases := []struct {
		name  string
		email string
		role  Role
		hash  string
		err   error
	}{
		{"admin", "admin@example.com", RoleAdmin, "h1", nil},
		{"recruiter", "rec@example.com", RoleRecruiter, "h2", nil},
		{"duplicate", "ADMIN@example.com", RoleRecruiter, "h3", ErrExists},
		{"bad role", "x@example.com", Role("boss"), "h", ErrInvalid},
		{"bad email", "nobody", RoleAdmin, "h", ErrInvalid},
		{"longest email", strings.Repeat("a", MaxEmail-len("@example.com")) + "@example.com", RoleRecruiter, "h", nil},
		{"email too long", strings.Repeat("a", MaxEmail-len("@example.com")+1) + "@example.com", RoleRecruiter, "h", ErrInvalid},
		{"no hash", "y@example.com", RoleAdmin, "", ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.CreateUser(ctx, tc.email, tc.role, tc.hash)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			got, err := s.UserByID(ctx, u.ID)
			require.NoError(t, err)
			assert.Equal(t, u, got)
		})
	}
	_, err = s.UserByEmail(ctx, "ghost@example.com")
	require.ErrorIs(t, err, ErrNotFound)
	n, err = s.CountUsers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the three accounts created")
}

func TestSessionsExpire(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "a@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	now := time.Now()
	se := Session{TokenHash: []byte("hash-1"), UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, s.CreateSession(ctx, se))
	got, gu, err := s.SessionByHash(ctx, se.TokenHash, now)
	require.NoError(t, err)
	assert.Equal(t, "c", got.CSRF)
	assert.Equal(t, u.ID, gu.ID)

	_, _, err = s.SessionByHash(ctx, se.TokenHash, now.Add(2*time.Hour))
	require.ErrorIs(t, err, ErrNotFound, "expired")
	n, err := s.DeleteExpiredSessions(ctx, now.Add(2*time.Hour))
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	require.NoError(t, s.CreateSession(ctx, se))
	require.NoError(t, s.DeleteSession(ctx, se.TokenHash))
	_, _, err = s.SessionByHash(ctx, se.TokenHash, now)
	require.ErrorIs(t, err, ErrNotFound, "logged out")
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "a@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	tok, err := s.CreateToken(ctx, u.ID, "ci", []byte("secret-hash"), time.Time{})
	require.NoError(t, err)
	_, err = s.CreateToken(ctx, u.ID, "ci", []byte("other-hash"), time.Time{})
	require.ErrorIs(t, err, ErrExists)
	gu, gt, err := s.UserByTokenHash(ctx, []byte("secret-hash"), time.Now())
	require.NoError(t, err)
	assert.Equal(t, u.Email, gu.Email)
	assert.Equal(t, tok.ID, gt.ID)
	_, _, err = s.UserByTokenHash(ctx, []byte("nope"), time.Now())
	require.ErrorIs(t, err, ErrNotFound)
}

func TestTokenListAndRevoke(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	b, err := s.CreateUser(ctx, "b@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	a, err := s.CreateUser(ctx, "a@example.com", RoleAdmin, "h")
	require.NoError(t, err)
	for _, tk := range []struct {
		user int64
		name string
	}{{b.ID, "ci"}, {a.ID, "prometheus"}, {a.ID, "ci"}} {
		_, err := s.CreateToken(ctx, tk.user, tk.name, []byte(fmt.Sprint("hash-", tk.user, tk.name)), time.Time{})
		require.NoError(t, err)
	}
	names := func(ts []Token) []string {
		var out []string
		for _, tk := range ts {
			assert.Empty(t, tk.Hash, "a listing carries no hash")
			assert.False(t, tk.CreatedAt.IsZero())
			out = append(out, fmt.Sprint(tk.UserID, "/", tk.Name))
		}
		return out
	}
	cases := []struct {
		name string
		user int64
		want []string
	}{
		{"every account, by e-mail then name", 0, []string{fmt.Sprint(a.ID, "/ci"), fmt.Sprint(a.ID, "/prometheus"), fmt.Sprint(b.ID, "/ci")}},
		{"one account", b.ID, []string{fmt.Sprint(b.ID, "/ci")}},
		{"an account without tokens", 999, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := s.ListTokens(ctx, tc.user)
			require.NoError(t, err)
			assert.Equal(t, tc.want, names(ts))
		})
	}

	require.NoError(t, s.DeleteToken(ctx, a.ID, "ci"))
	_, _, err = s.UserByTokenHash(ctx, []byte(fmt.Sprint("hash-", a.ID, "ci")), time.Now())
	require.ErrorIs(t, err, ErrNotFound, "a revoked token is refused")
	_, _, err = s.UserByTokenHash(ctx, []byte(fmt.Sprint("hash-", b.ID, "ci")), time.Now())
	require.NoError(t, err, "another account's token of the same name stays")
	require.ErrorIs(t, s.DeleteToken(ctx, a.ID, "ci"), ErrNotFound, "revoked twice")
	require.ErrorIs(t, s.DeleteToken(ctx, a.ID, "nope"), ErrNotFound)
	ts, err := s.ListTokens(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{fmt.Sprint(a.ID, "/prometheus")}, names(ts))
}

func TestUserDisableEnable(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "a@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	other, err := s.CreateUser(ctx, "b@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	assert.False(t, u.Disabled())
	now := time.Now()
	session := func(user int64, hash string) []byte {
		require.NoError(t, s.CreateSession(ctx, Session{TokenHash: []byte(hash), UserID: user, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		return []byte(hash)
	}
	s1, s2, s3 := session(u.ID, "s1"), session(u.ID, "s2"), session(other.ID, "s3")
	_, err = s.CreateToken(ctx, u.ID, "ci", []byte("tok"), time.Time{})
	require.NoError(t, err)

	n, err := s.DisableUser(ctx, u.ID, now)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "both sessions of the account ended")
	got, err := s.UserByEmail(ctx, u.Email)
	require.NoError(t, err, "a disabled account is still found by e-mail (for login to refuse it)")
	require.True(t, got.Disabled())
	assert.Equal(t, now.UnixMilli(), got.DisabledAt.UnixMilli())
	for _, h := range [][]byte{s1, s2} {
		_, _, err = s.SessionByHash(ctx, h, now)
		require.ErrorIs(t, err, ErrNotFound)
	}
	_, _, err = s.SessionByHash(ctx, s3, now)
	require.NoError(t, err, "other accounts keep their sessions")
	_, _, err = s.UserByTokenHash(ctx, []byte("tok"), time.Now())
	require.ErrorIs(t, err, ErrNotFound, "a disabled account's token is refused")
	ts, err := s.ListTokens(ctx, u.ID)
	require.NoError(t, err)
	assert.Len(t, ts, 1, "but kept")

	// A session made by a login that raced with DisableUser is refused too.
	late := session(u.ID, "late")
	_, _, err = s.SessionByHash(ctx, late, now)
	require.ErrorIs(t, err, ErrNotFound)
	n, err = s.DisableUser(ctx, u.ID, now.Add(time.Minute))
	require.NoError(t, err, "disabling twice is fine")
	assert.EqualValues(t, 1, n, "and ends what was left")
	got, err = s.UserByID(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, now.UnixMilli(), got.DisabledAt.UnixMilli(), "the first time is kept")

	all, err := s.ListUsers(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []string{u.Email, other.Email}, []string{all[0].Email, all[1].Email}, "oldest first")
	assert.True(t, all[0].Disabled())
	assert.False(t, all[1].Disabled())

	require.NoError(t, s.EnableUser(ctx, u.ID))
	require.NoError(t, s.EnableUser(ctx, u.ID), "enabling an active account is a no-op")
	got, err = s.UserByID(ctx, u.ID)
	require.NoError(t, err)
	assert.False(t, got.Disabled())
	_, _, err = s.UserByTokenHash(ctx, []byte("tok"), time.Now())
	require.NoError(t, err, "the kept token works again")
	_, _, err = s.SessionByHash(ctx, s1, now)
	require.ErrorIs(t, err, ErrNotFound, "ended sessions stay ended")

	_, err = s.DisableUser(ctx, 999, now)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.EnableUser(ctx, 999), ErrNotFound)
}

func TestUserSetPasswordHash(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "a@example.com", RoleRecruiter, "old")
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, s.CreateSession(ctx, Session{TokenHash: []byte("s1"), UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	_, err = s.CreateToken(ctx, u.ID, "ci", []byte("tok"), time.Time{})
	require.NoError(t, err)

	cases := []struct {
		name     string
		id       int64
		hash     string
		err      error
		sessions int64
	}{
		{"empty hash", u.ID, "", ErrInvalid, 0},
		{"unknown account", 999, "new", ErrNotFound, 0},
		{"new password", u.ID, "new", nil, 1},
		{"again, no session left", u.ID, "newer", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := s.SetPasswordHash(ctx, tc.id, tc.hash)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.sessions, n)
			got, err := s.UserByID(ctx, tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.hash, got.PasswordHash)
		})
	}
	_, _, err = s.SessionByHash(ctx, []byte("s1"), now)
	require.ErrorIs(t, err, ErrNotFound, "the old session ended")
	_, _, err = s.UserByTokenHash(ctx, []byte("tok"), time.Now())
	require.NoError(t, err, "API tokens are not touched")
}

// TestUserAndTokenSchemaUpgrade opens a database made by the schema before
// account disabling (002) with an account, a session and a token in it: the
// upgrade keeps them working and the account active.
func TestUserAndTokenSchemaUpgrade(t *testing.T) {
	ctx := context.Background()
	old, path := openOldSchema(t, "002_live_sessions")
	db := old.db
	var cols int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM pragma_table_info('users') WHERE name = 'disabled_at'`).Scan(&cols))
	require.Zero(t, cols, "the old schema has no disabled_at")
	now := time.Now()
	_, err := db.Exec(`INSERT INTO users (id, email, role, password_hash, created_at) VALUES (7, 'old@example.com', 'admin', 'h', ?)`, now.UnixMilli())
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (x'01', 7, 'c', ?, ?)`, now.UnixMilli(), now.Add(time.Hour).UnixMilli())
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (7, 'ci', x'02', ?)`, now.UnixMilli())
	require.NoError(t, err)
	require.NoError(t, old.Close())

	s, err := OpenSQLite(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	u, err := s.UserByEmail(ctx, "old@example.com")
	require.NoError(t, err)
	assert.False(t, u.Disabled(), "existing accounts stay active")
	_, _, err = s.SessionByHash(ctx, []byte{1}, now)
	require.NoError(t, err, "existing sessions still work")
	_, _, err = s.UserByTokenHash(ctx, []byte{2}, time.Now())
	require.NoError(t, err, "existing tokens still work")

	// Migrating again (as every start does) changes nothing.
	for range 2 {
		require.NoError(t, s.migrate(ctx, ""))
	}
	var n int
	require.NoError(t, s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n))
	entries, err := migrationFS.ReadDir("migrations")
	require.NoError(t, err)
	assert.Equal(t, len(entries), n)
	_, err = s.DisableUser(ctx, u.ID, now)
	require.NoError(t, err, "the new column is usable")
}

func TestInterviewLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id := NewID()
	require.Len(t, id, 24)
	iv := Interview{ID: id, Candidate: "Ada", Title: "Backend", MediaFile: "media/" + id + ".mp4",
		OriginalName: "ada.mp4", SizeBytes: 10, Status: StatusQueued, Region: "top-right"}
	require.NoError(t, s.CreateInterview(ctx, iv))
	require.ErrorIs(t, s.CreateInterview(ctx, iv), ErrExists)
	require.ErrorIs(t, s.CreateInterview(ctx, Interview{ID: "../x", Status: StatusQueued}), ErrInvalid)

	ids, err := s.Unfinished(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{id}, ids)

	now := time.Now()
	require.NoError(t, s.StartAttempt(ctx, id, 1, now))
	require.NoError(t, s.SetProgress(ctx, id, 0.5))
	got, err := s.Interview(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, StatusProcessing, got.Status)
	assert.InDelta(t, 0.5, got.Progress, 1e-9)
	assert.Equal(t, 1, got.Attempts)
	assert.Equal(t, "top-right", got.Region, "the part of the picture to analyse is kept")

	require.NoError(t, s.Requeue(ctx, id, "attempt 1 failed"))
	require.NoError(t, s.StartAttempt(ctx, id, 2, now))
	a, p := 80, 0.2
	rep := json.RawMessage(`{"verdict":"genuine"}`)
	require.ErrorIs(t, s.Finish(ctx, id, Outcome{Report: json.RawMessage(`{`)}, now), ErrInvalid)
	require.NoError(t, s.Finish(ctx, id, Outcome{Report: rep, Verdict: "genuine", Authenticity: &a, Probability: &p}, now))
	got, err = s.Interview(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, StatusDone, got.Status)
	assert.Equal(t, 80, *got.Authenticity)
	assert.Empty(t, got.Error)
	assert.NotNil(t, got.FinishedAt)
	r, err := s.Report(ctx, id)
	require.NoError(t, err)
	assert.JSONEq(t, string(rep), string(r))

	// Analysed anew in another region: the outcome is cleared with the
	// report, the rest kept; not while it is queued again.
	again, err := s.Reanalyse(ctx, id, "left")
	require.NoError(t, err)
	assert.Equal(t, StatusQueued, again.Status)
	assert.Equal(t, "left", again.Region)
	assert.Equal(t, 1, again.Run, "a new run of the analysis")
	assert.Equal(t, "Ada", again.Candidate)
	assert.Zero(t, again.Progress)
	assert.Zero(t, again.Attempts)
	assert.Empty(t, again.Verdict)
	assert.Nil(t, again.Authenticity)
	assert.Nil(t, again.Probability)
	assert.Nil(t, again.StartedAt)
	assert.Nil(t, again.FinishedAt)
	_, err = s.Report(ctx, id)
	require.ErrorIs(t, err, ErrNotFound, "the old report goes")
	_, err = s.Reanalyse(ctx, id, "")
	require.ErrorIs(t, err, ErrBusy, "queued")
	require.NoError(t, s.StartAttempt(ctx, id, 1, now))
	_, err = s.Reanalyse(ctx, id, "")
	require.ErrorIs(t, err, ErrBusy, "processing")
	require.NoError(t, s.Fail(ctx, id, "unusable", now))
	again, err = s.Reanalyse(ctx, id, "")
	require.NoError(t, err, "a failed interview may be tried again")
	assert.Empty(t, again.Error)
	assert.Empty(t, again.Region)
	assert.Equal(t, 2, again.Run)
	_, err = s.Reanalyse(ctx, "nosuchinterview", "")
	require.ErrorIs(t, err, ErrNotFound)

	require.NoError(t, s.DeleteInterview(ctx, id))
	_, err = s.Report(ctx, id)
	require.ErrorIs(t, err, ErrNotFound, "the report goes with the interview")
	require.ErrorIs(t, s.DeleteInterview(ctx, id), ErrNotFound)
	require.ErrorIs(t, s.Fail(ctx, id, "x", now), ErrNotFound)
}

func TestEditInterview(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	str := func(v string) *string { return &v }
	long := strings.Repeat("é", MaxField) // 200 characters, 400 bytes: fits
	cases := []struct {
		name             string
		id               string // "" = the interview created for the case
		edit             InterviewEdit
		candidate, title string // what is stored afterwards
		err              error
	}{
		{name: "both", edit: InterviewEdit{Candidate: str("Grace Hopper"), Title: str("Frontend, round 1")},
			candidate: "Grace Hopper", title: "Frontend, round 1"},
		{name: "candidate only", edit: InterviewEdit{Candidate: str("Grace")}, candidate: "Grace", title: "Backend"},
		{name: "title only", edit: InterviewEdit{Title: str("Frontend")}, candidate: "Ada", title: "Frontend"},
		{name: "nothing", candidate: "Ada", title: "Backend"},
		{name: "cleared", edit: InterviewEdit{Candidate: str(""), Title: str("  ")}, candidate: "", title: ""},
		{name: "cleaned as on upload", edit: InterviewEdit{Candidate: str(" \tGrace\xff Hopper\n")}, candidate: "Grace Hopper", title: "Backend"},
		{name: "longest kept", edit: InterviewEdit{Candidate: str(long), Title: str(" " + long + " ")}, candidate: long, title: long},
		{name: "candidate too long", edit: InterviewEdit{Candidate: str(long + "x"), Title: str("Frontend")},
			candidate: "Ada", title: "Backend", err: ErrInvalid},
		{name: "title too long", edit: InterviewEdit{Candidate: str("Grace"), Title: str(long + "x")},
			candidate: "Ada", title: "Backend", err: ErrInvalid},
		{name: "unknown id", id: "nosuchinterview", edit: InterviewEdit{Candidate: str("Grace")}, err: ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := NewID()
			require.NoError(t, s.CreateInterview(ctx, Interview{ID: id, Candidate: "Ada", Title: "Backend",
				MediaFile: "media/" + id + ".mp4", OriginalName: "ada.mp4", Status: StatusQueued}))
			now := time.Now()
			require.NoError(t, s.StartAttempt(ctx, id, 1, now))
			require.NoError(t, s.Finish(ctx, id, Outcome{Report: json.RawMessage(`{}`), Verdict: "genuine"}, now))
			before, err := s.Interview(ctx, id)
			require.NoError(t, err)
			target := id
			if tc.id != "" {
				target = tc.id
			}

			got, err := s.EditInterview(ctx, target, tc.edit)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.candidate, got.Candidate, "returned")
				assert.Equal(t, tc.title, got.Title, "returned")
			}
			stored, err := s.Interview(ctx, id)
			require.NoError(t, err)
			if tc.id != "" {
				assert.Equal(t, before, stored, "another interview is untouched")
				return
			}
			assert.Equal(t, tc.candidate, stored.Candidate)
			assert.Equal(t, tc.title, stored.Title)
			if tc.err == nil {
				assert.Equal(t, stored, got, "the interview returned is the one stored")
			}
			stored.Candidate, stored.Title = before.Candidate, before.Title
			assert.Equal(t, before, stored, "nothing but the names changes")
		})
	}

	// The list's search finds the new name.
	id := NewID()
	require.NoError(t, s.CreateInterview(ctx, Interview{ID: id, Candidate: "Ada", MediaFile: "media/" + id + ".mp4", Status: StatusQueued}))
	_, err := s.EditInterview(ctx, id, InterviewEdit{Candidate: str("Katherine Johnson")})
	require.NoError(t, err)
	page, err := s.ListInterviews(ctx, ListFilter{Query: "katherine"})
	require.NoError(t, err)
	require.Equal(t, 1, page.Total)
	assert.Equal(t, id, page.Items[0].ID)
}

func TestCleanField(t *testing.T) {
	long := strings.Repeat("a", MaxField)
	for _, tc := range []struct {
		in, want string
		fits     bool
	}{
		{"Ada", "Ada", true},
		{"  Ada Lovelace\n", "Ada Lovelace", true},
		{"A\xffda", "Ada", true},
		{"", "", true},
		{long, long, true},
		{" " + long + " ", long, true},
		{long + "b", long, false},
		{"Ada\tLovelace", "Ada Lovelace", true},
		{"Ada\x00\x1b[31m\u0085", "Ada[31m", true},
		{"Evil \u202Egnp.exe", "Evil gnp.exe", true},
		{"\u2067Ada\u2069", "Ada", true},
		{"\u05d3\u05e0\u05d4\u200f (Dana)", "\u05d3\u05e0\u05d4\u200f (Dana)", true},
	} {
		got, fits := CleanField(tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		assert.Equal(t, tc.fits, fits, "%q", tc.in)
	}
}

func TestListInterviewsFilters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := time.Now().Add(-time.Hour)
	verdicts := []string{"genuine", "suspicious", "manipulated"}
	for i := range 30 {
		id := NewID()
		iv := Interview{ID: id, Candidate: []string{"Ada Lovelace", "Alan Turing", "Grace_Hopper"}[i%3], MediaFile: "media/" + id + ".mp4",
			Status: StatusQueued, CreatedAt: base.Add(time.Duration(i) * time.Second)}
		require.NoError(t, s.CreateInterview(ctx, iv))
		if i%2 == 0 {
			require.NoError(t, s.StartAttempt(ctx, id, 1, base))
			require.NoError(t, s.Finish(ctx, id, Outcome{Report: json.RawMessage(`{}`), Verdict: verdicts[i%3]}, base))
		}
	}
	cases := []struct {
		name  string
		f     ListFilter
		total int
		items int
	}{
		{"all first page", ListFilter{Limit: 10}, 30, 10},
		{"last page", ListFilter{Limit: 10, Offset: 25}, 30, 5},
		{"done", ListFilter{Status: StatusDone}, 15, 15},
		{"queued", ListFilter{Status: StatusQueued}, 15, 15},
		{"verdict", ListFilter{Verdict: "genuine"}, 5, 5},
		{"search", ListFilter{Query: "turing"}, 10, 10},
		{"search is not a pattern", ListFilter{Query: "_"}, 10, 10},
		{"search and verdict", ListFilter{Query: "ada", Verdict: "genuine"}, 5, 5},
		{"no match", ListFilter{Query: "zzz"}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.ListInterviews(ctx, tc.f)
			require.NoError(t, err)
			assert.Equal(t, tc.total, p.Total)
			assert.Len(t, p.Items, tc.items)
			for i := 1; i < len(p.Items); i++ {
				assert.False(t, p.Items[i].CreatedAt.After(p.Items[i-1].CreatedAt), "newest first")
			}
		})
	}
	counts, err := s.CountByStatus(ctx)
	require.NoError(t, err)
	assert.Equal(t, 15, counts[StatusDone])
	assert.Equal(t, 0, counts[StatusFailed])
}

func TestWebhooks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	w, err := s.CreateWebhook(ctx, Webhook{URL: "https://hooks.example.com/x", Secret: "s"})
	require.NoError(t, err)
	_, err = s.CreateWebhook(ctx, Webhook{URL: "https://hooks.example.com/x"})
	require.ErrorIs(t, err, ErrInvalid)
	all, err := s.Webhooks(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	got, err := s.Webhook(ctx, w.ID)
	require.NoError(t, err)
	assert.Equal(t, "s", got.Secret)
	require.NoError(t, s.DeleteWebhook(ctx, w.ID))
	require.ErrorIs(t, s.DeleteWebhook(ctx, w.ID), ErrNotFound)

	// A deleted webhook's id is never given to a new one: deliveries still
	// queued for it look it up by id.
	next, err := s.CreateWebhook(ctx, Webhook{URL: "https://hooks.example.com/y", Secret: "t"})
	require.NoError(t, err)
	assert.Greater(t, next.ID, w.ID)
	_, err = s.Webhook(ctx, w.ID)
	require.ErrorIs(t, err, ErrNotFound)
}

// The migration that makes webhook ids never reused keeps the webhooks
// stored before it, with their ids.
func TestWebhookIDMigrationKeepsHooks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := OpenSQLite(ctx, path, nil)
	require.NoError(t, err)
	defer s.Close()
	// Back to the schema before migration 004, with two webhooks in it.
	for _, q := range []string{
		`DROP TABLE webhooks`,
		`CREATE TABLE webhooks (id INTEGER PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL,
			created_by INTEGER REFERENCES users (id) ON DELETE SET NULL, created_at INTEGER NOT NULL)`,
		`INSERT INTO webhooks (id, url, secret, created_at) VALUES (3, 'https://a.example.com/', 'sa', 1), (7, 'https://b.example.com/', 'sb', 2)`,
		`DELETE FROM schema_migrations WHERE version = '004_webhook_ids_never_reused'`,
	} {
		_, err := s.db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	require.NoError(t, s.migrate(ctx, ""))
	all, err := s.Webhooks(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	got, err := s.Webhook(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, "sb", got.Secret)
	require.NoError(t, s.DeleteWebhook(ctx, 7))
	next, err := s.CreateWebhook(ctx, Webhook{URL: "https://c.example.com/", Secret: "sc"})
	require.NoError(t, err)
	assert.Greater(t, next.ID, int64(7), "not 7 again")
}

func TestFilesLayout(t *testing.T) {
	f := Files{Root: t.TempDir()}
	require.NoError(t, f.Init())
	id := NewID()
	name, err := f.MediaName(id, ".MP4")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("media", id+".MP4"), name)
	odd, err := f.MediaName(id, ".m p4/../x")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("media", id+".bin"), odd)
	_, err = f.MediaName("../../etc", ".mp4")
	require.ErrorIs(t, err, ErrBadID)
	_, err = f.Abs("../outside")
	require.ErrorIs(t, err, ErrInvalid)

	abs, err := f.Abs(name)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(abs, []byte("x"), 0o600))
	ev, err := f.EvidenceDir(id)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(ev, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(ev, "face.jpg"), []byte("x"), 0o600))
	require.NoError(t, f.RemoveInterview(Interview{ID: id, MediaFile: name}))
	assert.NoFileExists(t, abs)
	assert.NoDirExists(t, ev)
	require.NoError(t, f.RemoveInterview(Interview{ID: id, MediaFile: name}), "removing twice is fine")

	require.NoError(t, os.WriteFile(filepath.Join(f.TmpDir(), "upload-1"), []byte("x"), 0o600))
	require.NoError(t, f.CleanTmp())
	ents, err := os.ReadDir(f.TmpDir())
	require.NoError(t, err)
	assert.Empty(t, ents)
}

// A token with an expiry works until then and is refused from then on
// (ErrExpired); its last use is kept to the minute.
func TestTokenExpiryAndUse(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	u, err := s.CreateUser(ctx, "a@example.com", RoleRecruiter, "h")
	require.NoError(t, err)
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	tok, err := s.CreateToken(ctx, u.ID, "ci", []byte("h1"), exp)
	require.NoError(t, err)
	require.NotNil(t, tok.ExpiresAt)
	assert.Equal(t, exp, *tok.ExpiresAt)
	never, err := s.CreateToken(ctx, u.ID, "forever", []byte("h2"), time.Time{})
	require.NoError(t, err)
	assert.Nil(t, never.ExpiresAt)

	_, got, err := s.UserByTokenHash(ctx, []byte("h1"), exp.Add(-time.Millisecond))
	require.NoError(t, err, "just before its expiry")
	assert.Nil(t, got.LastUsedAt)
	_, _, err = s.UserByTokenHash(ctx, []byte("h1"), exp)
	assert.ErrorIs(t, err, ErrExpired, "from its expiry on")
	_, _, err = s.UserByTokenHash(ctx, []byte("h2"), exp.Add(100*365*24*time.Hour))
	assert.NoError(t, err, "without an expiry")

	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		at, want time.Time
	}{
		{t0, t0},
		{t0.Add(59 * time.Second), t0}, // within the minute: no write
		{t0.Add(time.Minute), t0.Add(time.Minute)},      // a minute on
		{t0.Add(30 * time.Second), t0.Add(time.Minute)}, // a clock going back never moves it back
	} {
		require.NoError(t, s.TouchToken(ctx, tok.ID, step.at))
		list, err := s.ListTokens(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.NotNil(t, list[0].LastUsedAt)
		assert.Equal(t, step.want, *list[0].LastUsedAt)
		assert.Equal(t, exp, *list[0].ExpiresAt)
		assert.Nil(t, list[1].LastUsedAt)
		assert.Nil(t, list[1].ExpiresAt)
	}
}
