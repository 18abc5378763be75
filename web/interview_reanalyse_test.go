package web

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

// TestReanalyse analyses a stored interview again, over the API and from
// the report page: in the candidate's tile, then in the whole picture
// again, with the real pipeline. Only the uploader or an admin may; not
// while it is being analysed; a region that is unknown or too small for
// the recording is refused and nothing changes.
func TestReanalyse(t *testing.T) {
	ta := startApp(t, nil)
	_, otherTok := ta.addUser(t, "other@example.com", store.RoleRecruiter)
	id := uploadDone(t, ta, ta.recTok, "Ada", "Backend")
	path := "/api/v1/interviews/" + id + "/reanalysis"
	post := func(token, body string) *http.Response {
		t.Helper()
		var h http.Header
		if body != "" {
			h = http.Header{"Content-Type": {"application/json"}}
		}
		return ta.do(t, http.MethodPost, path, token, strings.NewReader(body), h)
	}
	regionOf := func() string {
		t.Helper()
		rep := decode[report.Report](t, ta.do(t, http.MethodGet, "/api/v1/interviews/"+id+"/report", ta.recTok, nil, nil))
		return rep.Analysis.Region
	}
	require.Empty(t, regionOf())

	for _, tc := range []struct {
		name, token, body string
		want              int
		message           string
	}{
		{"another recruiter", otherTok, `{"region": "right"}`, http.StatusForbidden, "only the uploader or an admin may analyse this interview again"},
		{"unknown region", ta.recTok, `{"region": "middle"}`, http.StatusBadRequest, `region: bad region "middle"`},
		{"too small for this recording", ta.recTok, `{"region": "0,0,0.2,0.2"}`, http.StatusBadRequest, "45×45 pixels of this 224×224 video"},
		{"not JSON", ta.recTok, `region=right`, http.StatusBadRequest, "send nothing, or a JSON object"},
		{"unknown field", ta.recTok, `{"tile": "right"}`, http.StatusBadRequest, "send nothing, or a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(tc.token, tc.body)
			require.Equal(t, tc.want, resp.StatusCode)
			assert.Contains(t, decode[apiError](t, resp).Message, tc.message)
			iv := ta.waitStatus(t, id, store.StatusDone, time.Second)
			assert.Empty(t, iv.Region, "nothing changed")
		})
	}
	r := ta.do(t, http.MethodPost, "/api/v1/interviews/nosuchinterview/reanalysis", ta.recTok, nil, nil)
	assert.Equal(t, http.StatusNotFound, r.StatusCode)

	// The right tile: queued at once, the old report gone, a second
	// request refused while it runs.
	resp := post(ta.recTok, `{"region": "right"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, "/api/v1/interviews/"+id, resp.Header.Get("Location"))
	iv := decode[interviewJSON](t, resp)
	assert.Equal(t, store.StatusQueued, iv.Status)
	assert.Equal(t, "right", iv.Region)
	assert.Empty(t, iv.Verdict)
	early := ta.do(t, http.MethodGet, "/api/v1/interviews/"+id+"/report", ta.recTok, nil, nil)
	if early.StatusCode != http.StatusOK { // unless already done again
		assert.Equal(t, http.StatusConflict, early.StatusCode)
		busy := post(ta.recTok, "")
		if busy.StatusCode != http.StatusAccepted {
			assert.Equal(t, http.StatusConflict, busy.StatusCode)
			assert.Contains(t, decode[apiError](t, busy).Message, "still being analysed")
		}
	}
	done := ta.waitStatus(t, id, store.StatusDone, 3*time.Minute)
	assert.Equal(t, "right", done.Region)
	assert.NotEmpty(t, done.Verdict)
	assert.Equal(t, "right", regionOf())

	// No body keeps the region.
	resp = post(ta.recTok, "")
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, "right", decode[interviewJSON](t, resp).Region)
	ta.waitStatus(t, id, store.StatusDone, 3*time.Minute)

	// The report page's form, with the current region chosen; back to the
	// whole picture.
	owner, csrf := ta.login(t, "recruiter@example.com")
	other, otherCSRF := ta.login(t, "other@example.com")
	page := ta.base + "/interviews/" + id
	code, body := get(t, owner, page)
	require.Equal(t, http.StatusOK, code)
	contains(t, body, `id="reanalyse-form"`, `action="/interviews/`+id+`/reanalyse"`, `<option value="right" selected>Right half</option>`,
		`<span id="region-note">only the right half of the picture analysed</span>`)
	_, body = get(t, other, page)
	assert.NotContains(t, body, `id="reanalyse-form"`, "only the uploader and admins see the form")
	r2, err := other.PostForm(page+"/reanalyse", url.Values{"csrf": {otherCSRF}, "region": {"whole"}})
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, http.StatusForbidden, r2.StatusCode)
	r2, err = owner.PostForm(page+"/reanalyse", url.Values{"region": {"whole"}})
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, http.StatusForbidden, r2.StatusCode, "the form needs its CSRF token")
	r2, err = owner.PostForm(page+"/reanalyse", url.Values{"csrf": {csrf}, "region": {"whole"}})
	require.NoError(t, err)
	r2.Body.Close()
	require.Equal(t, http.StatusSeeOther, r2.StatusCode)
	assert.Equal(t, "/interviews/"+id, r2.Header.Get("Location"))
	done = ta.waitStatus(t, id, store.StatusDone, 3*time.Minute)
	assert.Empty(t, done.Region)
	assert.Empty(t, regionOf())
	_, body = get(t, owner, page)
	assert.NotContains(t, body, `id="region-note"`)
	contains(t, body, `<option value="whole" selected>`)
}

// A call recorded in gallery view (two genuine dev talking heads side by
// side): the report page says that more than one face was seen and opens
// "Analyse again"; analysed again in the left tile, one face is seen and
// the page no longer asks.
func TestSeveralFacesSuggestsReanalysis(t *testing.T) {
	ta := startApp(t, nil)
	gallery := filepath.Join(t.TempDir(), "gallery.mp4")
	testutil.FFmpeg(t, "-i", testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez"),
		"-i", testutil.CorpusItem(t, "video", "genuine", "driving/d6.mp4"), "-t", "5", "-filter_complex",
		"[0:v]scale=320:320,setsar=1[l];[1:v]fps=25,scale=320:320,setsar=1[r];[l][r]hstack=inputs=2[v]",
		"-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", gallery)
	resp := ta.upload(t, ta.recTok, gallery, [2]string{"candidate", "Gallery"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := decode[interviewJSON](t, resp).ID
	ta.waitStatus(t, id, store.StatusDone, 3*time.Minute)

	owner, csrf := ta.login(t, "recruiter@example.com")
	page := ta.base + "/interviews/" + id
	for i := 0; i < 2; i++ { // rendered, then from the cache
		code, body := get(t, owner, page)
		require.Equal(t, http.StatusOK, code)
		contains(t, body, `id="several-faces"`, "More than one face was seen in", `<details class="no-print" id="reanalyse" open>`)
	}
	r, err := owner.PostForm(page+"/reanalyse", url.Values{"csrf": {csrf}, "region": {"left"}})
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	ta.waitStatus(t, id, store.StatusDone, 3*time.Minute)
	_, body := get(t, owner, page)
	assert.NotContains(t, body, `id="several-faces"`)
	contains(t, body, `<details class="no-print" id="reanalyse">`, "only the left half of the picture analysed")
}
