package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
	ivs, sessions, err := la.app.srv.expire(ctx, oldJ.CreatedAt.Add(retention), 1)
	require.NoError(t, err)
	assert.Equal(t, [2]int{0, 0}, [2]int{ivs, sessions})
	// Due: the young interview was uploaded after it, the ended session
	// was created after both; check at the young one's creation +
	// retention.
	// (Queries of one row each, so that every loop runs more than once.)
	ivs, sessions, err = la.app.srv.expire(ctx, youngJ.CreatedAt.Add(retention), 1)
	require.NoError(t, err)
	assert.Equal(t, [2]int{1, 0}, [2]int{ivs, sessions}, "only the old interview")
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

	ivs, sessions, err = la.app.srv.expire(ctx, endedJ.CreatedAt.Add(retention+time.Millisecond), 1)
	require.NoError(t, err)
	assert.Equal(t, [2]int{1, 1}, [2]int{ivs, sessions}, "the young interview and the ended session")
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/sessions/"+ended.ID, la.adminTok, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.False(t, exists(leftover), "the session's working folder goes too")
	assert.Equal(t, store.LiveWaiting, la.session(t, waiting.ID).State, "a session waiting since after the cut-off stays")
	assert.True(t, dirEmpty(t, la.files.MediaDir()))
	assert.True(t, dirEmpty(t, la.files.EvidenceRoot()))

	// A session still waiting for a publisher a retention period after it
	// was created is ended (its link stops working) and deleted.
	ivs, sessions, err = la.app.srv.expire(ctx, waiting.CreatedAt.Add(retention+time.Millisecond), 1)
	require.NoError(t, err)
	assert.Equal(t, [2]int{0, 1}, [2]int{ivs, sessions})
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/sessions/"+waiting.ID, la.adminTok, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = la.req(t, http.MethodPost, waiting.WHIPURL, waiting.Token, "application/sdp", "v=0")
	assert.Equal(t, http.StatusNotFound, code, "nobody can publish to it")

	code, _, metrics := la.req(t, http.MethodGet, "/metrics", la.adminTok, "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, metrics, `bonafide_retention_deleted_total{what="interview"} 2`+"\n")
	assert.Contains(t, metrics, `bonafide_retention_deleted_total{what="live_session"} 2`+"\n")

	// Without a policy nothing expires and nothing says it will.
	var j interviewJSON
	require.NoError(t, json.Unmarshal(mustJSON(toJSON(youngIV, 0)), &j))
	assert.Nil(t, j.ExpiresAt)
}

// A server started with a retention policy applies it at once (then
// hourly): an interview whose analysis failed two hours ago goes, with its
// recording, under a one-hour policy; one created now stays.
func TestRetentionAtStartup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := store.Files{Root: dir}
	require.NoError(t, files.Init())
	st, err := store.OpenSQLite(ctx, files.DBPath(), nil)
	require.NoError(t, err)
	stored := func(created time.Time) (store.Interview, string) {
		t.Helper()
		iv := store.Interview{ID: store.NewID(), Status: store.StatusQueued, CreatedAt: created}
		iv.MediaFile, err = files.MediaName(iv.ID, ".mp4")
		require.NoError(t, err)
		media, err := files.Abs(iv.MediaFile)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(media, []byte("not a recording"), 0o600))
		require.NoError(t, st.CreateInterview(ctx, iv))
		require.NoError(t, st.Fail(ctx, iv.ID, "unusable", created))
		return iv, media
	}
	old, oldMedia := stored(time.Now().Add(-2 * time.Hour))
	young, youngMedia := stored(time.Now())
	require.NoError(t, st.Close())

	la := startLiveApp(t, dir, true, func(c *Config) { c.Retention = time.Hour })
	defer la.stop()
	require.Eventually(t, func() bool {
		_, err := la.st.Interview(ctx, old.ID)
		return errors.Is(err, store.ErrNotFound)
	}, 10*time.Second, 20*time.Millisecond, "the due interview is deleted at start-up")
	_, err = os.Stat(oldMedia)
	assert.True(t, errors.Is(err, os.ErrNotExist), "with its recording")
	_, err = la.st.Interview(ctx, young.ID)
	assert.NoError(t, err)
	assert.FileExists(t, youngMedia)
}
