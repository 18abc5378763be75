package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

// TestAPIUploadAnalyseDelete uploads a corpus clip over real HTTP, polls
// until the real analysis is done, reads the report and deletes it all.
func TestAPIUploadAnalyseDelete(t *testing.T) {
	ta := startApp(t, nil)
	clip := shortClip(t)
	resp := ta.upload(t, ta.recTok, clip, [2]string{"candidate", "Ada Lovelace"}, [2]string{"title", "Backend, round 2"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	created := decode[interviewJSON](t, resp)
	assert.Equal(t, "/api/v1/interviews/"+created.ID, resp.Header.Get("Location"))
	assert.Equal(t, store.StatusQueued, created.Status)
	assert.Equal(t, "Ada Lovelace", created.Candidate)
	assert.Equal(t, filepath.Base(clip), created.FileName)

	// The report is not there yet.
	early := ta.do(t, http.MethodGet, "/api/v1/interviews/"+created.ID+"/report", ta.recTok, nil, nil)
	if early.StatusCode != http.StatusOK {
		assert.Equal(t, http.StatusConflict, early.StatusCode)
	}

	iv := ta.waitStatus(t, created.ID, store.StatusDone, 3*time.Minute)
	assert.Equal(t, 1.0, iv.Progress)
	assert.NotEmpty(t, iv.Verdict)
	require.NotEmpty(t, iv.Report, "GET /interviews/{id} embeds the report when done")

	resp = ta.do(t, http.MethodGet, "/api/v1/interviews/"+created.ID+"/report", ta.recTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rep := decode[report.Report](t, resp)
	assert.Equal(t, report.Schema, rep.Schema)
	assert.Equal(t, iv.Verdict, string(rep.Verdict))
	assert.Equal(t, filepath.Base(clip), rep.Analysis.File)
	assert.Greater(t, rep.Analysis.FramesAnalyzed, 0)

	for _, ev := range rep.Evidence {
		r := ta.do(t, http.MethodGet, "/api/v1/interviews/"+created.ID+"/evidence/"+ev.File, ta.recTok, nil, nil)
		assert.Equal(t, http.StatusOK, r.StatusCode, ev.File)
	}
	r := ta.do(t, http.MethodGet, "/api/v1/interviews/"+created.ID+"/evidence/..%2Fbonafide.db", ta.recTok, nil, nil)
	assert.Equal(t, http.StatusNotFound, r.StatusCode, "only listed evidence files are served")

	// The list, filtered.
	resp = ta.do(t, http.MethodGet, "/api/v1/interviews?status=done&q=lovelace", ta.recTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	list := decode[listJSON](t, resp)
	require.Equal(t, 1, list.Total)
	assert.Equal(t, created.ID, list.Items[0].ID)
	resp = ta.do(t, http.MethodGet, "/api/v1/interviews?status=failed", ta.recTok, nil, nil)
	assert.Equal(t, 0, decode[listJSON](t, resp).Total)

	// Delete: the uploader may; files, report and row go.
	mediaDir := ta.files.MediaDir()
	evDir, err := ta.files.EvidenceDir(created.ID)
	require.NoError(t, err)
	require.False(t, dirEmpty(t, mediaDir))
	resp = ta.do(t, http.MethodDelete, "/api/v1/interviews/"+created.ID, ta.recTok, nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.True(t, dirEmpty(t, mediaDir))
	assert.NoDirExists(t, evDir)
	for _, p := range []string{"/api/v1/interviews/" + created.ID, "/api/v1/interviews/" + created.ID + "/report"} {
		resp = ta.do(t, http.MethodGet, p, ta.recTok, nil, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		e := decode[apiError](t, resp)
		assert.Equal(t, "not_found", e.Error)
		assert.NotEmpty(t, e.Message)
	}
}

func TestAPIAuthFailures(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	cases := []struct {
		name   string
		method string
		path   string
		header http.Header
		token  string
		want   int
	}{
		{"list without credentials", "GET", "/api/v1/interviews", nil, "", 401},
		{"get without credentials", "GET", "/api/v1/interviews/abcdefghij", nil, "", 401},
		{"upload without credentials", "POST", "/api/v1/interviews", nil, "", 401},
		{"delete without credentials", "DELETE", "/api/v1/interviews/abcdefghij", nil, "", 401},
		{"openapi without credentials", "GET", "/api/v1/openapi.json", nil, "", 401},
		{"metrics without credentials", "GET", "/metrics", nil, "", 401},
		{"unknown token", "GET", "/api/v1/interviews", nil, "bf_not-a-real-token", 401},
		{"basic auth", "GET", "/api/v1/interviews", http.Header{"Authorization": {"Basic YTpi"}}, "", 401},
		{"bad session cookie", "GET", "/api/v1/interviews", http.Header{"Cookie": {sessionCookie + "=forged"}}, "", 401},
		{"recruiter lists webhooks", "GET", "/api/v1/webhooks", nil, "recruiter", 403},
		{"recruiter adds a webhook", "POST", "/api/v1/webhooks", http.Header{"Content-Type": {"application/json"}}, "recruiter", 403},
		{"page redirects to login", "GET", "/interviews", nil, "", 303},
		{"unknown page redirects to login", "GET", "/no/such/page", nil, "", 303},
		{"healthz is public", "GET", "/healthz", nil, "", 200},
		{"readyz is public", "GET", "/readyz", nil, "", 200},
		{"login page is public", "GET", "/login", nil, "", 200},
		{"static is public", "GET", "/static/style.css", nil, "", 200},
		{"admin reads metrics", "GET", "/metrics", nil, "admin", 200},
		{"recruiter reads openapi", "GET", "/api/v1/openapi.json", nil, "recruiter", 200},
		{"unknown API route", "GET", "/api/v1/nothing", nil, "admin", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := map[string]string{"admin": ta.adminTok, "recruiter": ta.recTok}[tc.token]
			if tok == "" {
				tok = tc.token
			}
			resp := ta.do(t, tc.method, tc.path, tok, strings.NewReader("{}"), tc.header)
			require.Equal(t, tc.want, resp.StatusCode)
			switch tc.want {
			case 401:
				e := decode[apiError](t, resp)
				assert.Equal(t, "unauthorized", e.Error)
				assert.NotEmpty(t, e.Message)
			case 303:
				assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login?next="))
			}
		})
	}
	// A recruiter may not delete an admin's interview.
	resp := ta.upload(t, ta.adminTok, shortClip(t))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := decode[interviewJSON](t, resp).ID
	resp = ta.do(t, http.MethodDelete, "/api/v1/interviews/"+id, ta.recTok, nil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	resp = ta.do(t, http.MethodGet, "/metrics", ta.adminTok, nil, nil)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	contains(t, string(body), "bonafide_http_requests_total", `bonafide_uploads_total{result="queued"} 1`,
		"bonafide_interviews{status=", "bonafide_analyses_total", "go_goroutines")
}

func TestCSRF(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	// Login itself needs the double-submit token.
	resp, err := noRedirect.PostForm(ta.base+"/login", map[string][]string{"email": {"admin@example.com"}, "password": {testPassword}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "login without the form's token")

	c, csrf := ta.login(t, "admin@example.com")
	clip, err := os.ReadFile(shortClip(t))
	require.NoError(t, err)
	send := func(method, path string, body io.Reader, h http.Header) *http.Response {
		req, err := http.NewRequest(method, ta.base+path, body)
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	cases := []struct {
		name string
		run  func() *http.Response
		want int
	}{
		{"upload without token", func() *http.Response {
			b, ct := multipartBody(t, nil, "clip.mp4", clip, false)
			return send("POST", "/api/v1/interviews", b, http.Header{"Content-Type": {ct}})
		}, 403},
		{"upload whose type is in other letter case, without token", func() *http.Response {
			b, ct := multipartBody(t, nil, "clip.mp4", clip, false)
			return send("POST", "/api/v1/interviews", b, http.Header{"Content-Type": {strings.Replace(ct, "multipart/form-data", "Multipart/Form-Data", 1)}})
		}, 403},
		{"form body on the upload route", func() *http.Response {
			return send("POST", "/upload", strings.NewReader("csrf="+csrf), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		}, 400},
		{"upload with a wrong header", func() *http.Response {
			b, ct := multipartBody(t, nil, "clip.mp4", clip, false)
			return send("POST", "/api/v1/interviews", b, http.Header{"Content-Type": {ct}, csrfHeader: {"wrong"}})
		}, 403},
		{"upload with the csrf field after the file", func() *http.Response {
			b, ct := multipartBody(t, [][2]string{{"csrf", csrf}}, "clip.mp4", clip, true)
			return send("POST", "/api/v1/interviews", b, http.Header{"Content-Type": {ct}})
		}, 403},
		{"upload with the header", func() *http.Response {
			b, ct := multipartBody(t, nil, "clip.mp4", clip, false)
			return send("POST", "/api/v1/interviews", b, http.Header{"Content-Type": {ct}, csrfHeader: {csrf}})
		}, 202},
		{"no-script upload form with the csrf field first", func() *http.Response {
			b, ct := multipartBody(t, [][2]string{{"csrf", csrf}, {"candidate", "Grace"}}, "clip.mp4", clip, false)
			return send("POST", "/upload", b, http.Header{"Content-Type": {ct}})
		}, 303},
		{"multipart delete form without token", func() *http.Response {
			b, ct := multipartBody(t, [][2]string{{"x", "y"}}, "", nil, false)
			return send("POST", "/interviews/abcdefghijkl/delete", b, http.Header{"Content-Type": {ct}})
		}, 403},
		{"multipart delete form with token", func() *http.Response {
			b, ct := multipartBody(t, [][2]string{{"csrf", csrf}}, "", nil, false)
			return send("POST", "/interviews/abcdefghijkl/delete", b, http.Header{"Content-Type": {ct}})
		}, 404},
		{"delete without token", func() *http.Response {
			return send("DELETE", "/api/v1/interviews/abcdefghijkl", nil, nil)
		}, 403},
		{"webhook form without token", func() *http.Response {
			return send("POST", "/webhooks", strings.NewReader("url=https://example.com/"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		}, 403},
		{"logout without token", func() *http.Response {
			return send("POST", "/logout", strings.NewReader(""), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		}, 403},
		{"bearer tokens need no CSRF token", func() *http.Response {
			b, ct := multipartBody(t, nil, "clip.mp4", clip, false)
			return ta.do(t, "POST", "/api/v1/interviews", ta.adminTok, b, http.Header{"Content-Type": {ct}})
		}, 202},
		{"logout with token", func() *http.Response {
			return send("POST", "/logout", strings.NewReader("csrf="+csrf), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		}, 303},
		{"the session is gone after logout", func() *http.Response {
			return send("GET", "/api/v1/interviews", nil, nil)
		}, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.run()
			require.Equal(t, tc.want, resp.StatusCode)
			if tc.want == 403 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				assert.Equal(t, "csrf", decode[apiError](t, resp).Error)
			}
		})
	}
	page, err := ta.st.ListInterviews(t.Context(), store.ListFilter{})
	require.NoError(t, err)
	assert.Equal(t, 3, page.Total, "only the three accepted uploads were stored")
}

// chunked hides the body's length so that the cap must be enforced while
// streaming, not from Content-Length.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestUploadRejected(t *testing.T) {
	const limit = 64 << 10
	ta := startApp(t, func(c *Config) { c.MaxUploadBytes = limit; c.Analyzer = &fakeAnalyzer{} })
	clip, err := os.ReadFile(shortClip(t))
	require.NoError(t, err)
	require.Greater(t, len(clip), limit, "the clip must exceed the test cap")
	// A playlist naming a recording elsewhere on the server's disk: ffmpeg
	// would read the named file, so it must be refused like any non-recording.
	abs, err := filepath.Abs(shortClip(t))
	require.NoError(t, err)
	playlist := []byte("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\n" + abs + "\n#EXT-X-ENDLIST\n")
	var png bytes.Buffer
	png.Write([]byte("\x89PNG\r\n\x1a\n"))
	png.Write(bytes.Repeat([]byte{0}, 64))
	dir := t.TempDir()
	jpg, srt, subs := filepath.Join(dir, "photo.jpg"), filepath.Join(dir, "subs.srt"), filepath.Join(dir, "subs.mkv")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "color=c=gray:s=64x48", "-frames:v", "1", jpg)
	require.NoError(t, os.WriteFile(srt, []byte("1\n00:00:00,000 --> 00:00:02,000\nHello\n"), 0o600))
	testutil.FFmpeg(t, "-i", srt, "-c:s", "srt", subs)
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return b
	}
	// The size the server states is the request's length: the clip plus
	// the form around it.
	bigLen, _ := multipartBody(t, [][2]string{{"candidate", "X"}}, "big.mp4", clip, false)
	bigSize := humanBytes(int64(bigLen.(*bytes.Buffer).Len()))
	cases := []struct {
		name    string
		file    []byte
		fname   string
		stream  bool
		ct      string
		want    int
		code    string
		message string // the whole message
	}{
		{"oversized with a length", clip, "big.mp4", false, "", 413, "too_large", "This file is " + bigSize + "; the limit is 64.0 KiB."},
		{"oversized streamed", clip, "big.mp4", true, "", 413, "too_large", "This file is larger than the limit of 64.0 KiB."},
		{"a text file", []byte("Dear hiring team,\nplease find my CV attached.\n"), "cv.mp4", false, "", 415, "unsupported_media",
			"cv.mp4 is not a video or audio file bonafide can read."},
		{"a playlist of server files", playlist, "interview.mp4", false, "", 415, "unsupported_media",
			"interview.mp4 is not a video or audio file bonafide can read."},
		{"a truncated image", png.Bytes(), "photo.png", false, "", 415, "unsupported_media", "photo.png is a still image; upload the interview recording."},
		{"a photo", read(jpg), "photo.jpg", false, "", 415, "unsupported_media", "photo.jpg is a still image; upload the interview recording."},
		{"subtitles only", read(subs), "subs.mkv", false, "", 422, "unusable_media", "subs.mkv has no video or audio stream."},
		{"an empty file", nil, "empty.mp4", false, "", 422, "unusable_media", "empty.mp4 is empty."},
		{"no file field", nil, "", false, "", 400, "bad_request", `no file: send the recording in the multipart field "file"`},
		{"not multipart", nil, "", false, "application/json", 400, "bad_request", `send the recording as multipart/form-data in the field "file"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, [][2]string{{"candidate", "X"}}, tc.fname, tc.file, false)
			if tc.ct != "" {
				ct, body = tc.ct, strings.NewReader(`{"file":"x"}`)
			}
			if tc.stream {
				body = chunked{body}
			}
			resp := ta.do(t, http.MethodPost, "/api/v1/interviews", ta.adminTok, body, http.Header{"Content-Type": {ct}})
			require.Equal(t, tc.want, resp.StatusCode)
			e := decode[apiError](t, resp)
			assert.Equal(t, tc.code, e.Error)
			assert.Equal(t, tc.message, e.Message)
			assert.NotContains(t, e.Message, ta.files.Root, "no server paths in messages")
			assert.NotContains(t, e.Message, "ffmpeg", "no ffmpeg wording")
			assert.True(t, dirEmpty(t, ta.files.MediaDir()), "nothing stored")
			assert.True(t, dirEmpty(t, ta.files.TmpDir()), "no temporary file left")
		})
	}
	page, err := ta.st.ListInterviews(t.Context(), store.ListFilter{})
	require.NoError(t, err)
	assert.Zero(t, page.Total)
}

func TestAPIListValidation(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	for _, q := range []string{"status=weird", "verdict=fake", "limit=0", "limit=1000", "offset=-1", "limit=x"} {
		resp := ta.do(t, http.MethodGet, "/api/v1/interviews?"+q, ta.adminTok, nil, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
	}
	// Paging.
	for range 3 {
		resp := ta.upload(t, ta.adminTok, shortClip(t))
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
	}
	resp := ta.do(t, http.MethodGet, "/api/v1/interviews?limit=2", ta.adminTok, nil, nil)
	l := decode[listJSON](t, resp)
	assert.Len(t, l.Items, 2)
	require.NotNil(t, l.NextOffset)
	assert.Equal(t, 2, *l.NextOffset)
	resp = ta.do(t, http.MethodGet, "/api/v1/interviews?limit=2&offset=2", ta.adminTok, nil, nil)
	l = decode[listJSON](t, resp)
	assert.Len(t, l.Items, 1)
	assert.Nil(t, l.NextOffset)
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	resp := ta.do(t, http.MethodGet, "/api/v1/openapi.json", ta.recTok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	served := map[string]bool{}
	for _, r := range ta.app.srv.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "*") {
			continue
		}
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ":") {
				p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
			}
		}
		served[r.Method+" "+p] = true
	}
	assert.Equal(t, served, documented)
}

// readSpy records whether anything read the request body.
type readSpy struct{ read bool }

func (r *readSpy) Read(p []byte) (int, error) {
	r.read = true
	return copy(p, "csrf=tok"), io.EOF
}

// On the upload routes, whose bodies are not capped, the CSRF check never
// reads the body: a multipart form (in any letter case) is streamed by the
// upload handler, which checks the csrf part before the file; anything else
// is refused unread. Parsing it as a form would have spooled an upload of
// any size to disk before the token was compared.
func TestCheckCSRFUploadRoutesReadNothing(t *testing.T) {
	tests := []struct {
		name, path, contentType string
		wantErr                 error // nil: accepted, the token pending
		wantRead                bool
	}{
		{"multipart upload", "/api/v1/interviews", "multipart/form-data; boundary=x", nil, false},
		{"multipart in other letter case", "/upload", "Multipart/Form-Data; boundary=x", nil, false},
		{"form body on an upload route", "/api/v1/interviews", "application/x-www-form-urlencoded", ErrBadRequest, false},
		{"no content type on an upload route", "/upload", "", ErrBadRequest, false},
		{"malformed content type", "/upload", "multipart/form-data; boundary=\"", ErrBadRequest, false},
		{"form elsewhere is read for its csrf field", "/webhooks", "application/x-www-form-urlencoded", ErrCSRF, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &readSpy{}
			req := httptest.NewRequest(http.MethodPost, tt.path, spy)
			if tt.contentType != "" {
				req.Header.Set(echo.HeaderContentType, tt.contentType)
			}
			c := echo.New().NewContext(req, httptest.NewRecorder())
			c.SetPath(tt.path)
			err := checkCSRF(c, "other")
			if tt.wantErr == nil {
				require.NoError(t, err)
				want, pending := csrfPending(c)
				assert.True(t, pending)
				assert.Equal(t, "other", want)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
			assert.Equal(t, tt.wantRead, spy.read, "body read")
		})
	}
}

// An upload whose body stops arriving is cut off after the idle timeout
// (nothing stored, no temporary file left), while one that arrives slowly
// but steadily, for longer than that timeout in all, is accepted.
func TestUploadIdleTimeout(t *testing.T) {
	const idle = 1500 * time.Millisecond // pauses of a quarter of it: margin for a loaded machine
	ta := startApp(t, func(c *Config) { c.UploadIdleTimeout = idle; c.Analyzer = &fakeAnalyzer{} })
	clip, err := os.ReadFile(shortClip(t))
	require.NoError(t, err)
	body, ct := multipartBody(t, nil, "clip.mp4", clip, false)
	form, err := io.ReadAll(body)
	require.NoError(t, err)
	tests := []struct {
		name   string
		chunks int           // the form is sent in this many pieces …
		pause  time.Duration // … with this pause after each
		stall  bool          // and then stops, half-way
		want   int
	}{
		{"stalls half-way", 4, 50 * time.Millisecond, true, http.StatusBadRequest},
		{"slow but steady", 12, idle / 4, false, http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() {
				step := (len(form) + tt.chunks - 1) / tt.chunks
				for i := 0; i < len(form); i += step {
					if tt.stall && i >= len(form)/2 {
						return // the client keeps the connection open, silent
					}
					if _, err := pw.Write(form[i:min(i+step, len(form))]); err != nil {
						return
					}
					time.Sleep(tt.pause)
				}
				pw.Close()
			}()
			start := time.Now()
			resp := ta.do(t, http.MethodPost, "/api/v1/interviews", ta.adminTok, pr, http.Header{"Content-Type": {ct}})
			require.Equal(t, tt.want, resp.StatusCode)
			if tt.stall {
				assert.Less(t, time.Since(start), 20*idle, "cut off soon after the body stopped")
				assert.True(t, dirEmpty(t, ta.files.TmpDir()), "no temporary file left")
			} else {
				assert.Greater(t, time.Since(start), 2*idle, "the upload took longer than the idle timeout in all")
			}
		})
	}
	page, err := ta.st.ListInterviews(t.Context(), store.ListFilter{})
	require.NoError(t, err)
	assert.Equal(t, 1, page.Total, "only the steady upload was stored")
}

// A delete whose files cannot all be removed still deletes the interview
// (204, then 404): the row is gone first, and a 500 would only have made
// the user retry into a 404.
func TestDeleteWithStuckFiles(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	resp := ta.upload(t, ta.recTok, shortClip(t))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	created := decode[interviewJSON](t, resp)
	ta.waitStatus(t, created.ID, store.StatusDone, time.Minute)
	iv, err := ta.st.Interview(t.Context(), created.ID)
	require.NoError(t, err)
	media, err := ta.files.Abs(iv.MediaFile)
	require.NoError(t, err)
	// A media "file" that os.Remove refuses, even as root.
	require.NoError(t, os.Remove(media))
	require.NoError(t, os.MkdirAll(filepath.Join(media, "busy"), 0o750))
	resp = ta.do(t, http.MethodDelete, "/api/v1/interviews/"+created.ID, ta.recTok, nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = ta.do(t, http.MethodDelete, "/api/v1/interviews/"+created.ID, ta.recTok, nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// An upload may name the part of the picture to analyse (a candidate's
// tile in gallery view): it is kept with the interview, shown in its JSON,
// and the report is of that part only. A region that is unknown or does
// not fit the video is refused before anything is stored; a recording
// without video has no picture to crop, and the region is dropped.
func TestUploadRegion(t *testing.T) {
	ta := startApp(t, nil)
	clip := shortClip(t) // 224×224
	resp := ta.upload(t, ta.recTok, clip, [2]string{"candidate", "Ada"}, [2]string{"region", "right"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	created := decode[interviewJSON](t, resp)
	assert.Equal(t, "right", created.Region)
	iv := ta.waitStatus(t, created.ID, store.StatusDone, 3*time.Minute)
	assert.Equal(t, "right", iv.Region)
	rep := decode[report.Report](t, ta.do(t, http.MethodGet, "/api/v1/interviews/"+created.ID+"/report", ta.recTok, nil, nil))
	assert.Equal(t, "right", rep.Analysis.Region)
	assert.Equal(t, []int{112, 224}, []int{rep.Analysis.AnalysisWidth, rep.Analysis.AnalysisHeight}, "the right half only")
	rec, _ := ta.login(t, "recruiter@example.com")
	code, html := get(t, rec, ta.base+"/interviews/"+created.ID)
	require.Equal(t, http.StatusOK, code)
	contains(t, html, `<span id="region-note">only the right half of the picture analysed</span>`,
		"Note: only the right half of the picture was analysed")

	dir := t.TempDir()
	small, voice := filepath.Join(dir, "small.mp4"), filepath.Join(dir, "voice.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "color=gray:s=120x120:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", small)
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "sine=f=220:d=1", voice)
	for _, tc := range []struct {
		name, path, region, message string
	}{
		{"unknown", clip, "middle", `region: bad region "middle": want whole, left, right, top, bottom, top-left, top-right, bottom-left, bottom-right, or four fractions x,y,w,h`},
		{"outside", clip, "0.8,0,0.5,1", "region: bad region 0.8,0,0.5,1: it must lie inside the picture (fractions from 0 to 1)"},
		{"too small for this video", small, "top-left", "region: bad region top-left: it is 60×60 pixels of this 120×120 video, and at least 64×64 are needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := ta.upload(t, ta.recTok, tc.path, [2]string{"region", tc.region})
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			e := decode[apiError](t, resp)
			assert.Equal(t, "bad_request", e.Error)
			assert.Equal(t, tc.message, e.Message)
			assert.True(t, dirEmpty(t, ta.files.TmpDir()), "no temporary file left")
		})
	}
	page, err := ta.st.ListInterviews(t.Context(), store.ListFilter{})
	require.NoError(t, err)
	assert.Equal(t, 1, page.Total, "nothing stored for a refused region")

	resp = ta.upload(t, ta.recTok, voice, [2]string{"region", "left"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Empty(t, decode[interviewJSON](t, resp).Region, "no picture, no region")
}
