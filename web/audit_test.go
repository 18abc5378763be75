package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/store"
)

// auditActions returns the actions of the audit entries f selects, newest
// first, read through the API as an admin.
func (ta *testApp) auditActions(t *testing.T, query string) []string {
	t.Helper()
	resp := ta.do(t, http.MethodGet, "/api/v1/audit?"+query, ta.adminTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out []string
	for _, e := range decode[auditPage](t, resp).Items {
		out = append(out, e.Action)
	}
	return out
}

// Everything done to an interview, over the API and the pages, lands in
// the audit log with who, from where and how; views once per window;
// failed requests not at all; logins, failed logins, logout and webhooks
// too. Admins read it (API, page, the report's access-log link),
// recruiters cannot.
func TestAuditLog(t *testing.T) {
	ta := startApp(t, func(c *Config) {
		c.Analyzer = &fakeAnalyzer{}
		c.WebhookAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	ctx := context.Background()

	// Logins: a wrong password of a real account, an unknown address, the
	// right password of a disabled account, a success.
	gone, _ := ta.addUser(t, "gone@example.com", store.RoleRecruiter)
	_, err := ta.st.DisableUser(ctx, gone.ID, time.Now())
	require.NoError(t, err)
	for _, try := range [][2]string{{"admin@example.com", "not the password"}, {"nobody@example.com", "not the password"}, {"gone@example.com", testPassword}} {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		resp := ta.postLogin(t, &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}, try[0], try[1])
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	rec, csrf := ta.login(t, "recruiter@example.com")

	resp := ta.upload(t, ta.recTok, shortClip(t))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := decode[interviewJSON](t, resp).ID
	ta.waitStatus(t, id, store.StatusDone, 30*time.Second)
	for range 2 { // one entry per window
		code, _ := get(t, rec, ta.base+"/interviews/"+id)
		require.Equal(t, http.StatusOK, code)
		code, _ = get(t, rec, ta.base+"/interviews/"+id+"/evidence/face-1.jpg")
		require.Equal(t, http.StatusOK, code)
	}
	code, _ := get(t, rec, ta.base+"/interviews/nope")
	require.Equal(t, http.StatusNotFound, code, "a failed view is not an access")
	_, thirdTok := ta.addUser(t, "third@example.com", store.RoleRecruiter)
	resp = ta.do(t, http.MethodGet, "/api/v1/interviews/"+id+"/report", thirdTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp = ta.do(t, http.MethodPatch, "/api/v1/interviews/"+id, ta.recTok, strings.NewReader(`{"candidate":"Ada"}`), http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp = ta.do(t, http.MethodPost, "/api/v1/interviews/"+id+"/reanalysis", ta.recTok, nil, nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	ta.waitStatus(t, id, store.StatusDone, 30*time.Second)
	resp = ta.do(t, http.MethodDelete, "/api/v1/interviews/"+id, ta.adminTok, nil, nil) // admins delete any
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	resp = ta.do(t, http.MethodPost, "/api/v1/webhooks", ta.adminTok, strings.NewReader(`{"url":"http://127.0.0.1:9/hook"}`), http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	hook := decode[webhookJSON](t, resp)
	resp = ta.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/webhooks/00%d", hook.ID), ta.adminTok, nil, nil) // recorded as stored
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = ta.do(t, http.MethodGet, "/api/v1/audit", ta.recTok, nil, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "recruiters do not read the audit log")

	req, err := http.NewRequest(http.MethodPost, ta.base+"/logout", strings.NewReader("csrf="+csrf))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = rec.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	// The interview's history, newest first, with who and how.
	resp = ta.do(t, http.MethodGet, "/api/v1/audit?target=interview:"+id, ta.adminTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page := decode[auditPage](t, resp)
	type row struct{ Actor, Action, Detail string }
	var got []row
	for _, e := range page.Items {
		got = append(got, row{e.Actor, e.Action, e.Detail})
		assert.Equal(t, "127.0.0.1", e.Addr)
		assert.NotZero(t, e.UserID)
		assert.WithinDuration(t, time.Now(), e.At, time.Minute)
	}
	assert.Equal(t, []row{
		{"admin@example.com", "interview.delete", "api"},
		{"recruiter@example.com", "interview.reanalyse", "api"},
		{"recruiter@example.com", "interview.edit", "api"},
		{"third@example.com", "interview.view", "api"},
		{"recruiter@example.com", "interview.evidence", "page"},
		{"recruiter@example.com", "interview.view", "page"},
		{"admin@example.com", "interview.view", "api"}, // waitStatus polls it, once per window
		{"recruiter@example.com", "interview.upload", "api"},
	}, got)
	assert.Zero(t, page.NextBefore, "one page")

	logins, err := ta.st.AuditEvents(ctx, store.AuditFilter{Action: "login."})
	require.NoError(t, err)
	require.Len(t, logins, 2, "failed logins of real accounts, not of an unknown address")
	assert.Equal(t, store.AuditEvent{ID: logins[0].ID, At: logins[0].At, Actor: "anonymous", Action: "login.failed",
		Target: fmt.Sprintf("user:%d", gone.ID), Addr: "127.0.0.1", Detail: "account disabled"}, logins[0])
	assert.Equal(t, store.AuditEvent{ID: logins[1].ID, At: logins[1].At, Actor: "anonymous", Action: "login.failed",
		Target: fmt.Sprintf("user:%d", ta.admin.ID), Addr: "127.0.0.1", Detail: "wrong password"}, logins[1])
	assert.Equal(t, []string{"login"}, ta.auditActions(t, "action=login"))
	for range 2 {
		assert.Equal(t, []string{"logout"}, ta.auditActions(t, "action=logout&actor=RECRUITER@example.com"))
	}
	assert.Equal(t, []string{"webhook.delete", "webhook.create"}, ta.auditActions(t, fmt.Sprintf("target=webhook:%d", hook.ID)))

	// Pages of two: the second starts below the first's last entry; the
	// last page has no next one, also when it is full.
	resp = ta.do(t, http.MethodGet, "/api/v1/audit?limit=2&target=interview:"+id, ta.adminTok, nil, nil)
	first := decode[auditPage](t, resp)
	require.Len(t, first.Items, 2)
	require.Equal(t, first.Items[1].ID, first.NextBefore)
	resp = ta.do(t, http.MethodGet, fmt.Sprintf("/api/v1/audit?limit=2&target=interview:%s&before=%d", id, first.NextBefore), ta.adminTok, nil, nil)
	second := decode[auditPage](t, resp)
	require.Len(t, second.Items, 2)
	assert.Less(t, second.Items[0].ID, first.Items[1].ID)
	resp = ta.do(t, http.MethodGet, "/api/v1/audit?limit=8&target=interview:"+id, ta.adminTok, nil, nil)
	whole := decode[auditPage](t, resp)
	assert.Len(t, whole.Items, 8)
	assert.Zero(t, whole.NextBefore, "all eight entries: no next page")
	for _, q := range []string{"limit=0", "limit=501", "before=x", "before=-1"} {
		resp = ta.do(t, http.MethodGet, "/api/v1/audit?"+q, ta.adminTok, nil, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
	}
	reads, err := ta.st.AuditEvents(ctx, store.AuditFilter{Action: "audit.view", Actor: "admin@example.com"})
	require.NoError(t, err)
	var logoutReads int
	for _, r := range reads {
		if r.Detail == "api; action=logout&actor=RECRUITER@example.com" {
			logoutReads++
		}
	}
	assert.Equal(t, 1, logoutReads, "reading the log is in it, with what was read, once per window")

	// The page, for admins only; the report's access-log link.
	admin, _ := ta.login(t, "admin@example.com")
	code, body := get(t, admin, ta.base+"/audit?target=interview:"+id)
	require.Equal(t, http.StatusOK, code)
	contains(t, body, `id="audit-entries"`, "interview.reanalyse", "recruiter@example.com", `href="/audit?target=interview%3a`+id+`"`)
	code, _ = get(t, rec, ta.base+"/audit")
	assert.Equal(t, http.StatusSeeOther, code, "logged out")
	rec, _ = ta.login(t, "recruiter@example.com")
	code, _ = get(t, rec, ta.base+"/audit")
	assert.Equal(t, http.StatusForbidden, code)
	resp = ta.upload(t, ta.recTok, shortClip(t))
	id = decode[interviewJSON](t, resp).ID
	ta.waitStatus(t, id, store.StatusDone, 30*time.Second)
	_, body = get(t, admin, ta.base+"/interviews/"+id)
	contains(t, body, `id="access-log" href="/audit?target=interview:`+id+`"`)
	_, body = get(t, rec, ta.base+"/interviews/"+id)
	assert.NotContains(t, body, `id="access-log"`)
}

// An entry that cannot be written is logged and counted; the request it
// records still succeeds (it happened).
func TestAuditFailureCounted(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	db, err := store.OpenSQLiteDB(ta.files.DBPath())
	require.NoError(t, err)
	_, err = db.Exec(`DROP TABLE audit_events`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	resp := ta.upload(t, ta.recTok, shortClip(t))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	resp = ta.do(t, http.MethodGet, "/metrics", ta.adminTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(b), "bonafide_audit_failures_total 1\n")
}

// A view is recorded once per window for one actor, target and action;
// another target, account or action, a clock that went back, or the end
// of the window records it again. The memory of views is bounded.
func TestAuditViewWindow(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir()+"/db.sqlite", nil)
	require.NoError(t, err)
	defer st.Close()
	failed := prometheus.NewCounter(prometheus.CounterOpts{Name: "f"})
	a := newAuditLog(st, slog.New(slog.DiscardHandler), failed, 10*time.Minute)
	t0 := time.Now()
	view := func(at time.Duration, user int64, action, target string) {
		a.recordView(ctx, store.AuditEvent{At: t0.Add(at), UserID: user, Actor: fmt.Sprint("u", user), Action: action, Target: target})
	}
	count := func() int {
		es, err := st.AuditEvents(ctx, store.AuditFilter{Limit: 500})
		require.NoError(t, err)
		return len(es)
	}
	steps := []struct {
		name   string
		at     time.Duration
		user   int64
		action string
		target string
		want   int
	}{
		{"first", 0, 1, "interview.view", "interview:a", 1},
		{"again", 5 * time.Minute, 1, "interview.view", "interview:a", 1},
		{"another target", 5 * time.Minute, 1, "interview.view", "interview:b", 2},
		{"another account", 5 * time.Minute, 2, "interview.view", "interview:a", 3},
		{"another action", 5 * time.Minute, 1, "interview.evidence", "interview:a", 4},
		{"clock went back", -time.Minute, 1, "interview.view", "interview:a", 5},
		{"within the window of the last", 8 * time.Minute, 1, "interview.view", "interview:a", 5},
		{"window over", 9 * time.Minute, 1, "interview.view", "interview:a", 6},
	}
	for _, s := range steps {
		view(s.at, s.user, s.action, s.target)
		require.Equal(t, s.want, count(), s.name)
	}
	a.maxSeen = 3
	for i := range 5 {
		view(20*time.Minute, 9, "session.view", fmt.Sprint("session:", i))
		assert.LessOrEqual(t, len(a.seen), 4)
	}
	require.Equal(t, 11, count())
	view(21*time.Minute, 9, "session.view", "session:4")
	assert.Equal(t, 11, count(), "the newest view is remembered")
	view(21*time.Minute, 9, "session.view", "session:0")
	assert.Equal(t, 12, count(), "a forgotten one is recorded again: more, never fewer")
	var m dto.Metric
	require.NoError(t, failed.Write(&m))
	assert.Zero(t, m.GetCounter().GetValue())
}

// At start-up (then hourly) entries older than the audit period go; the
// others stay; and the server logs the chain's head, which then anchors a
// verification of the log (store.VerifyAudit).
func TestAuditRetentionAtStartup(t *testing.T) {
	ctx := context.Background()
	dir, st, _ := seedData(t)
	for _, at := range []time.Time{time.Now().Add(-2 * time.Hour), time.Now()} {
		require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{At: at, Actor: "server", Action: "retention.interview", Detail: at.String()}))
	}
	require.NoError(t, st.Close())
	var log testutil.SyncBuffer
	cfg := testConfig(t, dir)
	cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	cfg.Analyzer = &fakeAnalyzer{}
	cfg.AuditRetention = time.Hour
	app, _, stop := serveApp(t, cfg)
	defer stop()
	require.Eventually(t, func() bool {
		es, err := app.Store().AuditEvents(ctx, store.AuditFilter{})
		return err == nil && len(es) == 1 && time.Since(es[0].At) < time.Hour
	}, 10*time.Second, 20*time.Millisecond, "the old entry goes, the young one stays")
	anchorRE := regexp.MustCompile(`msg="audit log head" id=(\d+) anchor=(\d+):([0-9a-f]{64})`)
	var m []string
	require.Eventually(t, func() bool { m = anchorRE.FindStringSubmatch(log.String()); return m != nil }, 10*time.Second, 20*time.Millisecond, "the head is logged")
	id, hash, err := app.Store().AuditHead(ctx)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(id), m[1])
	assert.Equal(t, m[1], m[2])
	assert.Equal(t, hash, m[3])
	c, err := app.Store().VerifyAudit(ctx, map[int64]string{id: hash})
	require.NoError(t, err)
	assert.Equal(t, 1, c.Anchors)
}

// GET /api/v1/audit/verify (admins) checks the chain and anchors: intact
// with the head as an anchor, which then matches; after an entry is edited
// behind the server's back, a 200 with intact false naming it; each check
// is itself recorded; bad anchors are a 400, recruiters get 403.
func TestAuditVerifyAPI(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	resp := ta.upload(t, ta.recTok, shortClip(t))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	verify := func(query string) auditCheckJSON {
		t.Helper()
		resp := ta.do(t, http.MethodGet, "/api/v1/audit/verify"+query, ta.adminTok, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return decode[auditCheckJSON](t, resp)
	}
	c := verify("")
	require.True(t, c.Intact, c.Problem)
	assert.Positive(t, c.Entries)
	require.NotNil(t, c.FirstAt)
	assert.WithinDuration(t, time.Now(), *c.FirstAt, time.Minute)
	assert.Regexp(t, fmt.Sprintf(`^%d:[0-9a-f]{64}$`, c.Head), c.Anchor)

	c2 := verify("?anchor=" + c.Anchor)
	require.True(t, c2.Intact, c2.Problem)
	assert.Equal(t, 1, c2.AnchorsMatched)
	assert.Greater(t, c2.Head, c.Head, "the first check was recorded")
	es, err := ta.st.AuditEvents(context.Background(), store.AuditFilter{Action: "audit.verify"})
	require.NoError(t, err)
	require.Len(t, es, 2)
	assert.Equal(t, "api; anchor="+c.Anchor, es[0].Detail)

	db, err := store.OpenSQLiteDB(ta.files.DBPath())
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE audit_events SET actor = 'someone@example.com' WHERE id = ?`, c.First)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	c3 := verify("")
	assert.False(t, c3.Intact)
	assert.Contains(t, c3.Problem, fmt.Sprintf("audit log altered: entry %d does not match its hash", c.First))

	for _, q := range []string{"?anchor=1:abc", "?anchor=x", "?anchor=" + c.Anchor + "&anchor=" + strings.SplitN(c.Anchor, ":", 2)[0] + ":" + strings.Repeat("0", 64)} {
		resp := ta.do(t, http.MethodGet, "/api/v1/audit/verify"+q, ta.adminTok, nil, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		resp.Body.Close()
	}
	resp = ta.do(t, http.MethodGet, "/api/v1/audit/verify", ta.recTok, nil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp.Body.Close()
}
