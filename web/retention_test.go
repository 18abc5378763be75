package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/store"
)

// The retention policy deletes an analysed interview (row, report,
// recording, evidence) once it is older than the retention period and
// keeps a younger one; it deletes the record and working folder of an
// ended live session that made no interview, and ends and deletes a
// session that waited for a publisher for the whole period; the API, the
// report page and the metrics say so. Real uploads and analyses;
// the check runs at a chosen time instead of the hourly clock.
func TestRetention(t *testing.T) {
	const retention = 48 * time.Hour
	la := startLiveApp(t, "", true, func(c *Config) { c.Retention = retention })
	defer la.stop()
	ctx := context.Background()
	clip := shortClip(t)
	uploaded := func() (interviewJSON, store.Interview) {
		t.Helper()
		resp := la.upload(t, la.recTok, clip)
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		j := la.waitStatus(t, decode[interviewJSON](t, resp).ID, store.StatusDone, 2*time.Minute)
		iv, err := la.st.Interview(ctx, j.ID)
		require.NoError(t, err)
		return j, iv
	}
	oldJ, oldIV := uploaded()
	require.NotNil(t, oldJ.ExpiresAt, "the API says when it goes")
	assert.Equal(t, oldJ.CreatedAt.Add(retention), *oldJ.ExpiresAt)
	owner, _ := la.login(t, "recruiter@example.com")
	_, page := get(t, owner, la.base+"/interviews/"+oldJ.ID)
	contains(t, page, `<span id="retention-note">deleted by the server's retention policy after `)
	time.Sleep(5 * time.Millisecond) // the store keeps milliseconds
	youngJ, youngIV := uploaded()
	require.True(t, youngJ.CreatedAt.After(oldJ.CreatedAt))

	ended := la.createSession(t, la.recTok, "Ada")
	code, _, body := la.req(t, http.MethodDelete, "/api/v1/sessions/"+ended.ID, la.recTok, "", "")
	require.Equal(t, http.StatusAccepted, code, body)
	endedJ := la.waitEnded(t, ended.ID, 10*time.Second)
	code, _, body = la.req(t, http.MethodDelete, "/api/v1/sessions/"+ended.ID, la.recTok, "", "")
	require.Equal(t, http.StatusAccepted, code, body) // ended already: no second session.end
	require.NotNil(t, endedJ.ExpiresAt)
	assert.Equal(t, endedJ.CreatedAt.Add(retention), *endedJ.ExpiresAt, "no publisher ever started it: from its creation")
	leftover := filepath.Join(la.dir, "live", ended.ID)
	require.NoError(t, os.MkdirAll(leftover, 0o750))
	waiting := la.createSession(t, la.recTok, "Grace")
	require.NotNil(t, waiting.ExpiresAt, "a session left waiting expires too")
	assert.Equal(t, waiting.CreatedAt.Add(retention), *waiting.ExpiresAt)

	paths := func(iv store.Interview) (media, evidence string) {
		t.Helper()
		media, err := la.files.Abs(iv.MediaFile)
		require.NoError(t, err)
		evidence, err = la.files.EvidenceDir(iv.ID)
		require.NoError(t, err)
		return media, evidence
	}
	oldMedia, oldEvidence := paths(oldIV)
	youngMedia, youngEvidence := paths(youngIV)
	exists := func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}
	for _, p := range []string{oldMedia, oldEvidence, youngMedia, youngEvidence} {
		require.True(t, exists(p), p)
	}

	// Checked just before the old interview is due: nothing goes.
	n, err := la.app.srv.expire(ctx, oldJ.CreatedAt.Add(retention), 1)
	require.NoError(t, err)
	assert.Equal(t, expired{}, n)
	// Due: the young interview was uploaded after it, the ended session
	// was created after both; check at the young one's creation +
	// retention.
	// (Queries of one row each, so that every loop runs more than once.)
	n, err = la.app.srv.expire(ctx, youngJ.CreatedAt.Add(retention), 1)
	require.NoError(t, err)
	assert.Equal(t, expired{Interviews: 1}, n, "only the old interview")
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/interviews/"+oldJ.ID, la.adminTok, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	_, err = la.st.Report(ctx, oldJ.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
	for _, p := range []string{oldMedia, oldEvidence} {
		assert.False(t, exists(p), "%s removed", p)
	}
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/interviews/"+youngJ.ID, la.adminTok, "", "")
	assert.Equal(t, http.StatusOK, code)
	for _, p := range []string{youngMedia, youngEvidence} {
		assert.True(t, exists(p), p)
	}

	n, err = la.app.srv.expire(ctx, endedJ.CreatedAt.Add(retention+time.Millisecond), 1)
	require.NoError(t, err)
	assert.Equal(t, expired{Interviews: 1, Sessions: 1}, n, "the young interview and the ended session")
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/sessions/"+ended.ID, la.adminTok, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.False(t, exists(leftover), "the session's working folder goes too")
	assert.Equal(t, store.LiveWaiting, la.session(t, waiting.ID).State, "a session waiting since after the cut-off stays")
	assert.True(t, dirEmpty(t, la.files.MediaDir()))
	assert.True(t, dirEmpty(t, la.files.EvidenceRoot()))

	// A session still waiting for a publisher a retention period after it
	// was created is ended (its link stops working) and deleted.
	n, err = la.app.srv.expire(ctx, waiting.CreatedAt.Add(retention+time.Millisecond), 1)
	require.NoError(t, err)
	assert.Equal(t, expired{Sessions: 1}, n)
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/sessions/"+waiting.ID, la.adminTok, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = la.req(t, http.MethodPost, waiting.WHIPURL, waiting.Token, "application/sdp", "v=0")
	assert.Equal(t, http.StatusNotFound, code, "nobody can publish to it")

	// The audit log keeps what the policy deleted, with the sessions'
	// history.
	actions := func(f store.AuditFilter) (out []string) {
		t.Helper()
		es, err := la.st.AuditEvents(ctx, f)
		require.NoError(t, err)
		for _, e := range es {
			out = append(out, e.Action+" "+e.Target)
		}
		return out
	}
	assert.Equal(t, []string{"retention.session session:" + waiting.ID, "retention.session session:" + ended.ID,
		"retention.interview interview:" + youngJ.ID, "retention.interview interview:" + oldJ.ID}, actions(store.AuditFilter{Actor: "server"}))
	assert.Equal(t, []string{"retention.session session:" + ended.ID, "session.view session:" + ended.ID, // waitEnded polls it: once
		"session.end session:" + ended.ID, "session.create session:" + ended.ID},
		actions(store.AuditFilter{Target: "session:" + ended.ID}))

	code, _, metrics := la.req(t, http.MethodGet, "/metrics", la.adminTok, "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, metrics, `bonafide_retention_deleted_total{what="interview"} 2`+"\n")
	assert.Contains(t, metrics, `bonafide_retention_deleted_total{what="live_session"} 2`+"\n")

	// Without a policy nothing expires and nothing says it will.
	var j interviewJSON
	require.NoError(t, json.Unmarshal(mustJSON(toJSON(youngIV, Config{})), &j))
	assert.Nil(t, j.ExpiresAt)
}

// A server started with a retention policy applies it at once (then
// hourly): an interview analysed two hours ago goes, with its recording,
// under a one-hour policy; one created now stays.
func TestRetentionAtStartup(t *testing.T) {
	ctx := context.Background()
	dir, st, stored := seedData(t)
	old, oldMedia := stored(time.Now().Add(-2 * time.Hour))
	young, youngMedia := stored(time.Now())
	require.NoError(t, st.Close())

	la := startLiveApp(t, dir, true, func(c *Config) { c.Retention = time.Hour })
	defer la.stop()
	require.Eventually(t, func() bool {
		_, err := la.st.Interview(ctx, old.ID)
		return errors.Is(err, store.ErrNotFound)
	}, 10*time.Second, 20*time.Millisecond, "the due interview is deleted at start-up")
	_, err := os.Stat(oldMedia)
	assert.True(t, errors.Is(err, os.ErrNotExist), "with its recording")
	_, err = la.st.Interview(ctx, young.ID)
	assert.NoError(t, err)
	assert.FileExists(t, youngMedia)
}

// The media retention policy deletes an analysed interview's recording and
// evidence images once they are older than its period and keeps the row
// and the report: the API and the page say so, the evidence is gone (404),
// it cannot be analysed again (409), and it is done once.
func TestMediaRetention(t *testing.T) {
	const period = 24 * time.Hour
	la := startLiveApp(t, "", true, func(c *Config) { c.MediaRetention = period })
	defer la.stop()
	ctx := context.Background()
	resp := la.upload(t, la.recTok, shortClip(t))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	j := la.waitStatus(t, decode[interviewJSON](t, resp).ID, store.StatusDone, 2*time.Minute)
	require.NotNil(t, j.MediaExpiresAt)
	assert.Equal(t, j.CreatedAt.Add(period), *j.MediaExpiresAt)
	assert.Nil(t, j.ExpiresAt, "the interview itself is kept")
	require.NotEmpty(t, j.Report)
	var rep struct {
		Evidence []struct{ File string } `json:"evidence"`
	}
	require.NoError(t, json.Unmarshal(j.Report, &rep))
	require.NotEmpty(t, rep.Evidence, "the clip has evidence images")
	evidenceURL := "/api/v1/interviews/" + j.ID + "/evidence/" + rep.Evidence[0].File
	code, _, _ := la.req(t, http.MethodGet, evidenceURL, la.recTok, "", "")
	require.Equal(t, http.StatusOK, code)
	owner, csrf := la.login(t, "recruiter@example.com")
	page := la.base + "/interviews/" + j.ID
	_, body := get(t, owner, page)
	contains(t, body, `<span id="media-retention-note">recording and evidence deleted by the server's retention policy after `,
		`id="reanalyse-form"`, `/evidence/`+rep.Evidence[0].File)
	_, list := get(t, owner, la.base+"/interviews")
	assert.NotContains(t, list, "recording deleted")
	iv, err := la.st.Interview(ctx, j.ID)
	require.NoError(t, err)
	media, err := la.files.Abs(iv.MediaFile)
	require.NoError(t, err)
	evidence, err := la.files.EvidenceDir(iv.ID)
	require.NoError(t, err)

	n, err := la.app.srv.expire(ctx, j.CreatedAt.Add(period), 1)
	require.NoError(t, err)
	assert.Equal(t, expired{}, n, "not due yet")
	n, err = la.app.srv.expire(ctx, j.CreatedAt.Add(period+time.Millisecond), 1)
	require.NoError(t, err)
	assert.Equal(t, expired{Media: 1}, n)
	es, err := la.st.AuditEvents(ctx, store.AuditFilter{Actor: "server"})
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, []string{"retention.media", "interview:" + j.ID, "media retention 24h0m0s"}, []string{es[0].Action, es[0].Target, es[0].Detail})
	for _, p := range []string{media, evidence} {
		_, err := os.Stat(p)
		assert.True(t, errors.Is(err, os.ErrNotExist), "%s removed", p)
	}
	code, _, body = la.req(t, http.MethodGet, "/api/v1/interviews/"+j.ID, la.recTok, "", "")
	require.Equal(t, http.StatusOK, code, "the interview stays")
	var after interviewJSON
	require.NoError(t, json.Unmarshal([]byte(body), &after))
	require.NotNil(t, after.MediaDeletedAt)
	assert.Nil(t, after.MediaExpiresAt)
	assert.Equal(t, j.Verdict, after.Verdict)
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/interviews/"+j.ID+"/report", la.recTok, "", "")
	assert.Equal(t, http.StatusOK, code, "with its report")
	code, _, body = la.req(t, http.MethodGet, evidenceURL, la.recTok, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, body, "deleted with its recording by the server's retention policy")
	code, _, body = la.req(t, http.MethodPost, "/api/v1/interviews/"+j.ID+"/reanalysis", la.recTok, "application/json", `{"region": "left"}`)
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, body, "cannot be analysed again")
	_, body = get(t, owner, page)
	contains(t, body, `<span id="media-deleted-note">recording and evidence deleted by the server's retention policy on `,
		`id="evidence-deleted"`)
	assert.NotContains(t, body, `id="reanalyse-form"`)
	assert.NotContains(t, body, `/evidence/`+rep.Evidence[0].File)
	_, body = get(t, owner, la.base+"/interviews")
	contains(t, body, `<span class="hint media-deleted" title="The recording and evidence images were deleted by the server's retention policy on `, `>recording deleted</span>`)
	r, err := owner.PostForm(page+"/reanalyse", url.Values{"csrf": {csrf}})
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusConflict, r.StatusCode, "nor through the form")

	n, err = la.app.srv.expire(ctx, time.Now().Add(2*period), 1)
	require.NoError(t, err)
	assert.Equal(t, expired{}, n, "once")
	code, _, metrics := la.req(t, http.MethodGet, "/metrics", la.adminTok, "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, metrics, `bonafide_retention_deleted_total{what="media"} 1`+"\n")
	code, _, _ = la.req(t, http.MethodDelete, "/api/v1/interviews/"+j.ID, la.recTok, "", "")
	assert.Equal(t, http.StatusNoContent, code, "and it can still be deleted")
}

func TestRetentionConfig(t *testing.T) {
	base := DefaultConfig()
	base.DataDir = t.TempDir()
	for _, tc := range []struct {
		retention, media time.Duration
		ok               bool
	}{
		{0, 0, true},
		{time.Hour, 0, true},
		{0, time.Hour, true},
		{90 * 24 * time.Hour, 30 * 24 * time.Hour, true},
		{59 * time.Minute, 0, false},
		{0, 59 * time.Minute, false},
		{30 * 24 * time.Hour, 30 * 24 * time.Hour, false},
		{30 * 24 * time.Hour, 90 * 24 * time.Hour, false},
	} {
		c := base
		c.Retention, c.MediaRetention = tc.retention, tc.media
		if err := c.Validate(); tc.ok {
			assert.NoError(t, err, "%v, %v", tc.retention, tc.media)
		} else {
			assert.ErrorIs(t, err, ErrConfig, "%v, %v", tc.retention, tc.media)
		}
	}
}

// A server started with only a media retention policy applies it at once:
// a finished interview uploaded two hours ago loses its recording under a
// one-hour policy and keeps its row; the recording left behind by a
// deletion that a crash interrupted (recorded in the store, file still
// there) is removed at start-up; a recent one stays.
func TestMediaRetentionAtStartup(t *testing.T) {
	ctx := context.Background()
	dir, st, stored := seedData(t)
	old, oldMedia := stored(time.Now().Add(-2 * time.Hour))
	crashed, crashedMedia := stored(time.Now())
	_, err := st.DeleteExpiredMedia(ctx, crashed.ID, time.Now().Add(time.Minute), time.Now())
	require.NoError(t, err)
	young, youngMedia := stored(time.Now())
	require.NoError(t, st.Close())

	la := startLiveApp(t, dir, true, func(c *Config) { c.MediaRetention = time.Hour })
	defer la.stop()
	_, err = os.Stat(crashedMedia)
	assert.True(t, errors.Is(err, os.ErrNotExist), "a recording marked deleted is removed before the server serves")
	require.Eventually(t, func() bool {
		iv, err := la.st.Interview(ctx, old.ID)
		return err == nil && iv.MediaDeletedAt != nil
	}, 10*time.Second, 20*time.Millisecond, "the due recording is deleted at start-up")
	_, err = os.Stat(oldMedia)
	assert.True(t, errors.Is(err, os.ErrNotExist))
	iv, err := la.st.Interview(ctx, young.ID)
	require.NoError(t, err)
	assert.Nil(t, iv.MediaDeletedAt)
	assert.FileExists(t, youngMedia)
}

// seedData makes a data folder and opens its store, for a test to fill
// before a server starts on it (close st first); finished stores a
// finished interview created at created, with a recording on disk, and
// returns it and the recording's path.
func seedData(t *testing.T) (dir string, st *store.SQLite, finished func(created time.Time) (store.Interview, string)) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	files := store.Files{Root: dir}
	require.NoError(t, files.Init())
	st, err := store.OpenSQLite(ctx, files.DBPath(), nil)
	require.NoError(t, err)
	return dir, st, func(created time.Time) (store.Interview, string) {
		t.Helper()
		iv := store.Interview{ID: store.NewID(), Status: store.StatusQueued, CreatedAt: created}
		var err error
		iv.MediaFile, err = files.MediaName(iv.ID, ".mp4")
		require.NoError(t, err)
		media, err := files.Abs(iv.MediaFile)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(media, []byte("a recording"), 0o600))
		require.NoError(t, st.CreateInterview(ctx, iv))
		require.NoError(t, st.StartAttempt(ctx, iv.ID, 1, created))
		require.NoError(t, st.Finish(ctx, iv.ID, store.Outcome{Report: json.RawMessage(`{}`), Verdict: "genuine"}, created))
		return iv, media
	}
}

// The retention policy deletes an interview recorded in a live session
// together with the session's record (no candidate name or live score
// outlives it), and the audit log names both: the interview's entry and
// the session's, which says with which interview it went.
func TestRetentionLiveInterview(t *testing.T) {
	const retention = 48 * time.Hour
	ta := startApp(t, func(c *Config) { c.Retention = retention })
	ctx := context.Background()
	created := time.Now().Add(-3 * retention).Truncate(time.Millisecond)
	ls := store.LiveSession{ID: store.NewID(), OwnerID: ta.rec.ID, Candidate: "Ada", TokenHash: []byte("t"), CreatedAt: created}
	require.NoError(t, ta.st.CreateLiveSession(ctx, ls, 0))
	require.NoError(t, ta.st.SetLiveState(ctx, ls.ID, store.LiveLive, created.Add(time.Minute), store.LiveWaiting))
	require.NoError(t, ta.st.SetLiveState(ctx, ls.ID, store.LiveEnding, created.Add(time.Hour), store.LiveLive))
	iv := store.Interview{ID: store.NewID(), OwnerID: ta.rec.ID, Candidate: "Ada", MediaFile: "media/" + ls.ID + ".mkv",
		Status: store.StatusFailed, Source: "live", CreatedAt: created.Add(time.Hour)}
	require.NoError(t, ta.st.CreateInterview(ctx, iv))
	require.NoError(t, ta.st.EndLiveSession(ctx, ls.ID, store.LiveEnd{Reason: "the publisher ended the call", InterviewID: iv.ID}, created.Add(time.Hour)))

	n, err := ta.app.srv.expire(ctx, iv.CreatedAt.Add(retention+time.Millisecond), 10)
	require.NoError(t, err)
	assert.Equal(t, expired{Interviews: 1}, n, "the session went with its interview, not on its own")
	_, err = ta.st.LiveSession(ctx, ls.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = ta.st.Interview(ctx, iv.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
	es, err := ta.st.AuditEvents(ctx, store.AuditFilter{Actor: "server"})
	require.NoError(t, err)
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Target+" "+e.Detail)
	}
	assert.Equal(t, []string{"retention.session session:" + ls.ID + " with interview:" + iv.ID,
		"retention.interview interview:" + iv.ID + " retention " + retention.String()}, got)
}
