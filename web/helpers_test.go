package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

const testPassword = "correct horse battery"

// testApp is a real server on a loopback port with a temporary data
// folder, an admin and a recruiter, and a token for each.
type testApp struct {
	app      *App
	base     string
	files    store.Files
	st       store.Store
	admin    store.User
	rec      store.User
	adminTok string
	recTok   string
}

func realAnalysis(t testing.TB) analysis.Config {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	// One landmark model shared by every analysis and live session of the
	// app, as `bonafide serve` does.
	lm, err := detectors.NewLandmarker(fm.Landmarks)
	require.NoError(t, err)
	t.Cleanup(func() { lm.Close() })
	return analysis.Config{FaceModels: fm, Landmarker: lm, Scorer: models.DefaultScorer(), Version: "test"}
}

// testConfig is the configuration the tests start from: data in dataDir,
// the real analysis, fast retries. BONAFIDE_TEST_LOG=1 shows the server's
// log, to debug a test.
func testConfig(t testing.TB, dataDir string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	cfg.Analysis = realAnalysis(t)
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.RetryBackoff = func(int) time.Duration { return 100 * time.Millisecond }
	cfg.WebhookBackoff = func(int) time.Duration { return 100 * time.Millisecond }
	if os.Getenv("BONAFIDE_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

// serveApp starts an app from cfg on a loopback port and returns it, its
// base URL and stop, which shuts it down and checks that Serve and Close
// succeed (call it once).
func serveApp(t testing.TB, cfg Config) (*App, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	app, err := New(ctx, cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	stop := func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, app.Close())
	}
	return app, "http://" + ln.Addr().String(), stop
}

func startApp(t testing.TB, cfgMod func(*Config)) *testApp {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	if cfgMod != nil {
		cfgMod(&cfg)
	}
	app, base, stop := serveApp(t, cfg)
	t.Cleanup(stop)
	ta := &testApp{app: app, base: base, files: store.Files{Root: cfg.DataDir}, st: app.Store()}
	ta.admin, ta.adminTok = ta.addUser(t, "admin@example.com", store.RoleAdmin)
	ta.rec, ta.recTok = ta.addUser(t, "recruiter@example.com", store.RoleRecruiter)
	return ta
}

func (ta *testApp) addUser(t testing.TB, email string, role store.Role) (store.User, string) {
	t.Helper()
	ctx := context.Background()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	require.NoError(t, err)
	u, err := ta.st.CreateUser(ctx, email, role, string(h))
	require.NoError(t, err)
	tok, hash := NewAPIToken()
	_, err = ta.st.CreateToken(ctx, u.ID, "test", hash, time.Time{})
	require.NoError(t, err)
	return u, tok
}

// do sends a request with an optional bearer token.
func (ta *testApp) do(t *testing.T, method, path, token string, body io.Reader, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ta.base+path, body)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var noRedirect = &http.Client{
	Timeout:       2 * time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func decode[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	var v T
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

// multipartBody builds an upload form; fields are written in order.
func multipartBody(t *testing.T, fields [][2]string, fileName string, file []byte, fileFirst bool) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	writeFile := func() {
		if fileName == "" {
			return
		}
		fw, err := w.CreateFormFile("file", fileName)
		require.NoError(t, err)
		_, err = fw.Write(file)
		require.NoError(t, err)
	}
	if fileFirst {
		writeFile()
	}
	for _, f := range fields {
		require.NoError(t, w.WriteField(f[0], f[1]))
	}
	if !fileFirst {
		writeFile()
	}
	require.NoError(t, w.Close())
	return &buf, w.FormDataContentType()
}

func (ta *testApp) upload(t *testing.T, token, path string, fields ...[2]string) *http.Response {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	body, ct := multipartBody(t, fields, filepath.Base(path), b, false)
	return ta.do(t, http.MethodPost, "/api/v1/interviews", token, body, http.Header{"Content-Type": {ct}})
}

func (ta *testApp) waitStatus(t *testing.T, id string, want store.Status, within time.Duration) interviewJSON {
	t.Helper()
	var iv interviewJSON
	require.Eventually(t, func() bool {
		resp := ta.do(t, http.MethodGet, "/api/v1/interviews/"+id, ta.adminTok, nil, nil)
		if resp.StatusCode != http.StatusOK {
			return false
		}
		iv = decode[interviewJSON](t, resp)
		return iv.Status == want
	}, within, 100*time.Millisecond, "interview %s never became %s", id, want)
	return iv
}

// dirEmpty reports whether dir has no entries.
func dirEmpty(t *testing.T, dir string) bool {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	return len(ents) == 0
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs in through the form and returns a client with the session
// cookie and the session's CSRF token.
func (ta *testApp) login(t testing.TB, email string) (*http.Client, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: noRedirect.CheckRedirect}
	resp := ta.postLogin(t, c, email, testPassword)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = c.Get(ta.base + "/upload")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := csrfInput.FindSubmatch(page)
	require.NotNil(t, m)
	return c, string(m[1])
}

// postLogin opens the login form with c (its cookie jar keeps the form's
// double-submit cookie) and posts email and password; the caller closes
// the response.
func (ta *testApp) postLogin(t testing.TB, c *http.Client, email, password string) *http.Response {
	t.Helper()
	resp, err := c.Get(ta.base + "/login")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	m := csrfInput.FindSubmatch(page)
	require.NotNil(t, m, "login form has a csrf field")
	resp, err = c.PostForm(ta.base+"/login", url.Values{"email": {email}, "password": {password}, "csrf": {string(m[1])}})
	require.NoError(t, err)
	return resp
}

// shortClip is a 4.4 s genuine talking head with sound.
func shortClip(t testing.TB) string {
	return testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105")
}

// fakeAnalyzer returns richReport after reporting progress; it fails
// the first `fail` calls with a transient error. It keeps the region of
// its last call.
type fakeAnalyzer struct {
	fail   int32
	calls  atomic.Int32
	mu     sync.Mutex
	region media.Region
}

func (f *fakeAnalyzer) Analyze(ctx context.Context, mediaPath, evidenceDir string, region media.Region, progress func(float64)) (*report.Report, error) {
	f.mu.Lock()
	f.region = region
	f.mu.Unlock()
	if f.calls.Add(1) <= f.fail {
		return nil, context.DeadlineExceeded
	}
	for _, p := range []float64{0.3, 0.6, 0.9} {
		progress(p)
		time.Sleep(20 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(evidenceDir, "face-1.jpg"), tinyJPEG, 0o600); err != nil {
		return nil, err
	}
	return richReport(), nil
}

// tinyJPEG is a 1×1 JPEG.
var tinyJPEG = []byte{0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08, 0x07, 0x07,
	0x07, 0x09, 0x09, 0x08, 0x0a, 0x0c, 0x14, 0x0d, 0x0c, 0x0b, 0x0b, 0x0c, 0x19, 0x12, 0x13, 0x0f, 0x14, 0x1d, 0x1a,
	0x1f, 0x1e, 0x1d, 0x1a, 0x1c, 0x1c, 0x20, 0x24, 0x2e, 0x27, 0x20, 0x22, 0x2c, 0x23, 0x1c, 0x1c, 0x28, 0x37, 0x29,
	0x2c, 0x30, 0x31, 0x34, 0x34, 0x34, 0x1f, 0x27, 0x39, 0x3d, 0x38, 0x32, 0x3c, 0x2e, 0x33, 0x34, 0x32, 0xff, 0xc0,
	0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xff, 0xc4, 0x00, 0x14, 0x10,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda,
	0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x2a, 0x9f, 0xff, 0xd9}

func f64(v float64) *float64 { return &v }

// richReport is a report with every part the pages render: signals with
// values and ranges, unmeasured signals, a timeline with gaps, evidence.
func richReport() *report.Report {
	a := 31
	lo, hi := 0.5, 3.0
	return &report.Report{
		Schema: report.Schema, Authenticity: &a, Probability: f64(0.69), Verdict: models.Suspicious,
		Summary:         "The face shows signs of manipulation.",
		ModelValidation: report.NewModelValidation(&models.CVMetrics{Groups: map[string]models.CVGroup{"overall": {N: 184, FPRAtManipulated: f64(0.011), RecallAtManipulated: f64(0.19), RecallAtInconclusive: f64(0.49)}}}),
		Video: report.Modality{Score: f64(0.69), Measured: true, Signals: []report.Signal{
			{Name: "video.pulse", Modality: "video", Measured: true, Score: 0.8, Confidence: 0.7, Contribution: -21.5,
				Values:      []detectors.Measurement{{Name: "region_coherence", Value: 0.12, NormalLow: &lo, NormalHigh: &hi}, {Name: "snr", Value: 4.2, Unit: "dB"}},
				Explanation: "The pulse in the forehead and the cheeks does not agree."},
			{Name: "face.presence", Modality: "video", Measured: true, Informational: true, Confidence: 1,
				Explanation: "A face was visible in 98% of the analysed frames."},
			{Name: "video.blink", Modality: "video", Reason: "too few frames with open eyes"},
		}},
		Audio: report.Modality{Score: f64(0.2), Measured: true, Signals: []report.Signal{
			{Name: "voice.pitch", Modality: "audio", Measured: true, Score: 0.2, Confidence: 0.5, Contribution: 0,
				Values: []detectors.Measurement{{Name: "f0_jitter", Value: 0.0123, Unit: "%"}}, Explanation: "Natural pitch variation."},
		}},
		AV: report.Modality{Reason: "no signal of this modality could be measured"},
		Timeline: []report.Window{
			{Start: 0, End: 2, Video: f64(0.4), Audio: f64(0.1), Overall: f64(0.4)},
			{Start: 2, End: 4, Video: f64(0.9), Overall: f64(0.9)},
			{Start: 4, End: 6, Audio: f64(0.2), Overall: f64(0.2)},
			{Start: 6, End: 8},
		},
		Coverage: report.Coverage{DurationSeconds: 8, FaceSeconds: 6, SpeechSeconds: 4, FaceFraction: 0.75, SpeechFraction: 0.5,
			Statement: "A face was visible for 6.0 s of 8.0 s; speech was heard for 4.0 s."},
		NotMeasured: []report.NotMeasured{{Signal: "video.blink", Reason: "too few frames with open eyes"}},
		Evidence:    []report.Evidence{{Kind: "face", File: "face-1.jpg", Start: 2, End: 4, Score: 0.9, Note: "most suspicious window"}},
		Analysis: report.Analysis{Version: "test", ModelVersion: "rule-1", FramesAnalyzed: 80, AnalysisFPS: 10, AnalysisWidth: 640, AnalysisHeight: 360,
			Video: &report.VideoInput{Codec: "h264", Width: 1280, Height: 720, FPS: 25}, Audio: &report.AudioInput{Codec: "aac", SampleRate: 48000, Channels: 1}},
	}
}

func contains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		require.True(t, strings.Contains(body, s), "page lacks %q", s)
	}
}
