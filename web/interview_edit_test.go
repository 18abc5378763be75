package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/store"
)

// uploadDone uploads the short clip as token's account with a candidate
// and a title and waits until its (fake) analysis is done.
func uploadDone(t *testing.T, ta *testApp, token, candidate, title string) string {
	t.Helper()
	resp := ta.upload(t, token, shortClip(t), [2]string{"candidate", candidate}, [2]string{"title", title})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := decode[interviewJSON](t, resp).ID
	ta.waitStatus(t, id, store.StatusDone, 30*time.Second)
	return id
}

// TestEditInterviewAPI corrects an interview's names over real HTTP with
// PATCH /api/v1/interviews/{id}: the uploader and an admin may, another
// recruiter may not, and malformed or too long values change nothing.
func TestEditInterviewAPI(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	_, otherTok := ta.addUser(t, "other@example.com", store.RoleRecruiter)
	id := uploadDone(t, ta, ta.recTok, "Ada Lovelace", "Backend, round 2")
	long := strings.Repeat("é", store.MaxField+1)
	fits := strings.Repeat("é", store.MaxField)

	cases := []struct {
		name  string
		token string
		id    string // "" = the uploaded interview
		body  string
		want  int
		code  string // the error's code when want is not 200
		// The names stored afterwards.
		candidate, title string
	}{
		{name: "owner renames", token: ta.recTok, body: `{"candidate": "  Grace Hopper ", "title": "Frontend, round 1"}`,
			want: 200, candidate: "Grace Hopper", title: "Frontend, round 1"},
		{name: "owner changes the title only", token: ta.recTok, body: `{"title": "Frontend, round 2"}`,
			want: 200, candidate: "Grace Hopper", title: "Frontend, round 2"},
		{name: "null changes nothing", token: ta.recTok, body: `{"candidate": null}`,
			want: 200, candidate: "Grace Hopper", title: "Frontend, round 2"},
		{name: "another recruiter", token: otherTok, body: `{"candidate": "Mallory"}`,
			want: 403, code: "forbidden", candidate: "Grace Hopper", title: "Frontend, round 2"},
		{name: "admin", token: ta.adminTok, body: `{"candidate": "Katherine Johnson"}`,
			want: 200, candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "bad JSON", token: ta.recTok, body: `{"candidate": "Mallory"`,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "not an object", token: ta.recTok, body: `["Mallory"]`,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "a number for a name", token: ta.recTok, body: `{"candidate": 7}`,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "unknown field", token: ta.recTok, body: `{"name": "Mallory"}`,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "two objects", token: ta.recTok, body: `{"candidate": "Mallory"} {}`,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "empty body", token: ta.recTok, body: ``,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "candidate too long", token: ta.recTok, body: `{"candidate": "` + long + `", "title": "x"}`,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "title too long", token: ta.adminTok, body: `{"title": "` + long + `"}`,
			want: 400, code: "bad_request", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "unknown interview", token: ta.adminTok, id: "nosuchinterview", body: `{"candidate": "Mallory"}`,
			want: 404, code: "not_found", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "without credentials", body: `{"candidate": "Mallory"}`,
			want: 401, code: "unauthorized", candidate: "Katherine Johnson", title: "Frontend, round 2"},
		{name: "longest name and cleared title", token: ta.recTok, body: `{"candidate": "` + fits + `", "title": ""}`,
			want: 200, candidate: fits, title: ""},
		{name: "back to a short name", token: ta.recTok, body: `{"candidate": "Katherine Johnson", "title": "Frontend, round 2"}`,
			want: 200, candidate: "Katherine Johnson", title: "Frontend, round 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := id
			if tc.id != "" {
				target = tc.id
			}
			resp := ta.do(t, http.MethodPatch, "/api/v1/interviews/"+target, tc.token, strings.NewReader(tc.body),
				http.Header{"Content-Type": {"application/json"}})
			require.Equal(t, tc.want, resp.StatusCode)
			if tc.want == http.StatusOK {
				got := decode[interviewJSON](t, resp)
				assert.Equal(t, id, got.ID)
				assert.Equal(t, tc.candidate, got.Candidate)
				assert.Equal(t, tc.title, got.Title)
				assert.Equal(t, store.StatusDone, got.Status)
				assert.NotEmpty(t, got.Report, "the answer is the interview as GET returns it, report included")
			} else {
				e := decode[apiError](t, resp)
				assert.Equal(t, tc.code, e.Error)
				assert.NotEmpty(t, e.Message)
			}
			resp = ta.do(t, http.MethodGet, "/api/v1/interviews/"+id, ta.recTok, nil, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			got := decode[interviewJSON](t, resp)
			assert.Equal(t, tc.candidate, got.Candidate, "stored")
			assert.Equal(t, tc.title, got.Title, "stored")
		})
	}

	// The list shows, and searches, the new names only.
	resp := ta.do(t, http.MethodGet, "/api/v1/interviews?q=katherine", ta.recTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	list := decode[listJSON](t, resp)
	require.Equal(t, 1, list.Total)
	assert.Equal(t, id, list.Items[0].ID)
	assert.Equal(t, "Katherine Johnson", list.Items[0].Candidate)
	assert.Equal(t, "Frontend, round 2", list.Items[0].Title)
	resp = ta.do(t, http.MethodGet, "/api/v1/interviews?q=lovelace", ta.recTok, nil, nil)
	assert.Equal(t, 0, decode[listJSON](t, resp).Total)

	// A cookie session needs the CSRF header, as for every unsafe request.
	c, csrf := ta.login(t, "recruiter@example.com")
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"session without the CSRF header", http.Header{"Content-Type": {"application/json"}}, 403},
		{"session with the CSRF header", http.Header{"Content-Type": {"application/json"}, csrfHeader: {csrf}}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPatch, ta.base+"/api/v1/interviews/"+id, strings.NewReader(`{"title": "Session edit"}`))
			require.NoError(t, err)
			req.Header = tc.header
			resp, err := c.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

// TestEditInterviewPage corrects the names through the report page's Edit
// form: CSRF required, owner or admin only, the report (whose body is
// cached) and the list show the new names at once.
func TestEditInterviewPage(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	ta.addUser(t, "other@example.com", store.RoleRecruiter)
	id := uploadDone(t, ta, ta.recTok, "Ada Lovelace", "Backend, round 2")
	owner, ownerCSRF := ta.login(t, "recruiter@example.com")
	other, otherCSRF := ta.login(t, "other@example.com")
	admin, adminCSRF := ta.login(t, "admin@example.com")
	page := ta.base + "/interviews/" + id

	// The report's body is rendered and cached before the edit.
	code, body := get(t, owner, page)
	require.Equal(t, http.StatusOK, code)
	contains(t, body, `id="verdict">suspicious`, `<h1>Ada Lovelace</h1>`, `id="edit-names"`,
		`action="/interviews/`+id+`/edit"`, `name="candidate" value="Ada Lovelace"`, `name="title" value="Backend, round 2"`)
	_, body = get(t, other, page)
	assert.NotContains(t, body, `id="edit-names"`, "only the uploader and admins see the form")
	assert.NotContains(t, body, `id="delete-button"`)
	_, body = get(t, admin, page)
	contains(t, body, `id="edit-names"`)

	post := func(c *http.Client, form url.Values) *http.Response {
		t.Helper()
		resp, err := c.PostForm(page+"/edit", form)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	cases := []struct {
		name             string
		client           *http.Client
		form             url.Values
		want             int
		candidate, title string // stored afterwards
	}{
		{"owner without CSRF", owner, url.Values{"candidate": {"Mallory"}, "title": {"x"}}, 403, "Ada Lovelace", "Backend, round 2"},
		{"owner with a wrong CSRF token", owner, url.Values{"csrf": {otherCSRF}, "candidate": {"Mallory"}}, 403, "Ada Lovelace", "Backend, round 2"},
		{"another recruiter", other, url.Values{"csrf": {otherCSRF}, "candidate": {"Mallory"}}, 403, "Ada Lovelace", "Backend, round 2"},
		{"too long", owner, url.Values{"csrf": {ownerCSRF}, "candidate": {strings.Repeat("x", store.MaxField+1)}}, 400, "Ada Lovelace", "Backend, round 2"},
		{"owner", owner, url.Values{"csrf": {ownerCSRF}, "candidate": {" Grace Hopper "}, "title": {"Frontend, round 1"}}, 303, "Grace Hopper", "Frontend, round 1"},
		{"admin, title left out", admin, url.Values{"csrf": {adminCSRF}, "candidate": {"Katherine <b>Johnson</b>"}}, 303, "Katherine <b>Johnson</b>", "Frontend, round 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(tc.client, tc.form)
			require.Equal(t, tc.want, resp.StatusCode)
			if tc.want == http.StatusSeeOther {
				assert.Equal(t, "/interviews/"+id, resp.Header.Get("Location"))
			} else {
				assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"), "the error page")
			}
			iv, err := ta.st.Interview(t.Context(), id)
			require.NoError(t, err)
			assert.Equal(t, tc.candidate, iv.Candidate)
			assert.Equal(t, tc.title, iv.Title)
		})
	}

	code, body = get(t, owner, page)
	require.Equal(t, http.StatusOK, code)
	contains(t, body, `<title>Katherine &lt;b&gt;Johnson&lt;/b&gt; · bonafide</title>`,
		`<h1>Katherine &lt;b&gt;Johnson&lt;/b&gt;</h1>`, "Frontend, round 1 · ",
		`name="candidate" value="Katherine &lt;b&gt;Johnson&lt;/b&gt;"`,
		`id="verdict">suspicious`) // the body, from the cache
	assert.NotContains(t, body, "Ada Lovelace", "no old name left, in the heading or the cached body")
	assert.NotContains(t, body, "Grace Hopper")
	assert.NotContains(t, body, "<b>Johnson</b>", "user text is escaped")

	_, body = get(t, owner, ta.base+"/interviews")
	contains(t, body, `Katherine &lt;b&gt;Johnson&lt;/b&gt;</a>`, "Frontend, round 1")
	assert.NotContains(t, body, "Ada Lovelace")
}
