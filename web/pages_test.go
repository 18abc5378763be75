package web

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestPagesRenderReport(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	resp := ta.upload(t, ta.adminTok, shortClip(t), [2]string{"candidate", "Ada <script>alert(1)</script>"}, [2]string{"title", "Round 2"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := decode[interviewJSON](t, resp).ID
	ta.waitStatus(t, id, store.StatusDone, 30*time.Second)
	c, _ := ta.login(t, "admin@example.com")

	code, body := get(t, c, ta.base+"/interviews/"+id)
	require.Equal(t, http.StatusOK, code)
	contains(t, body,
		`<svg class="gauge"`, `>31</text>`, // the gauge with the score
		`id="verdict">suspicious`, "probability of manipulation 69% at even odds",
		`id="caveat">A screening aid, not proof.`, "let 51 % of the manipulated ones through as &#34;genuine&#34;",
		`id="points-help"`, `by <span id="uploader">admin@example.com</span>`,
		`<svg class="timeline"`, `<polyline class="line-video"`, `<circle class="line-audio"`, // a gap leaves a point
		"video.pulse", "region_coherence", "0.5 – 3", `class="outside"`, "-21.5 points",
		"video.blink", "not measurable: too few frames with open eyes",
		"voice.pitch", "f0_jitter", "0.0123 %",
		"Lips and voice (audio-visual)", "not measured: no signal of this modality could be measured",
		"A face was visible for 6.0 s of 8.0 s", "Face visible 75% of the time (6.0 s);", "speech 50% (4.0 s). Recording: 8.0 s.",
		`src="/interviews/`+id+`/evidence/face-1.jpg"`,
		`media="print"`, `id="print-button"`, `data-confirm=`)
	assert.NotContains(t, body, "<script>alert(1)</script>", "user text is escaped")
	assert.Contains(t, body, "Ada &lt;script&gt;")

	code, _ = get(t, c, ta.base+"/interviews/"+id+"/evidence/face-1.jpg")
	assert.Equal(t, http.StatusOK, code)

	code, body = get(t, c, ta.base+"/interviews?verdict=suspicious&q=ada")
	require.Equal(t, http.StatusOK, code)
	contains(t, body, `href="/interviews/`+id+`"`, `class="badge v-suspicious"`, "1–1 of 1")
	code, body = get(t, c, ta.base+"/interviews?verdict=genuine")
	require.Equal(t, http.StatusOK, code)
	contains(t, body, "No interviews match these filters")

	code, body = get(t, c, ta.base+"/interviews/"+id+"/delete")
	require.Equal(t, http.StatusOK, code)
	contains(t, body, "Delete this interview?", `action="/interviews/`+id+`/delete"`)

	code, body = get(t, c, ta.base+"/interviews/nosuchinterview")
	assert.Equal(t, http.StatusNotFound, code)
	contains(t, body, "404", "no interview")

	code, body = get(t, c, ta.base+"/webhooks")
	assert.Equal(t, http.StatusOK, code)
	contains(t, body, "Add webhook")
}

func TestPagesPagination(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	for i := range 30 {
		id := store.NewID()
		require.NoError(t, ta.st.CreateInterview(t.Context(), store.Interview{ID: id, Candidate: "C" + itoa(i),
			MediaFile: "media/" + id + ".mp4", Status: store.StatusFailed, CreatedAt: time.Now().Add(time.Duration(i) * time.Second)}))
	}
	c, _ := ta.login(t, "recruiter@example.com")
	_, body := get(t, c, ta.base+"/interviews")
	contains(t, body, "1–25 of 30", "Older →", ">C29<")
	assert.NotContains(t, body, "← Newer")
	_, body = get(t, c, ta.base+"/interviews?offset=25")
	contains(t, body, "26–30 of 30", "← Newer", ">C0<")
	contains(t, body, `<div class="table-scroll">`, "Authenticity", "100 = genuine")
	assert.NotContains(t, body, ">Score<", "the column says which way its scale runs")
	// Past the end: there are interviews, just none on this page.
	_, body = get(t, c, ta.base+"/interviews?offset=50&status=failed")
	contains(t, body, "No more interviews on this page; 30 match these filters.",
		`<a href="/interviews?status=failed" id="first-page">Go to the first page</a>`)
	assert.NotContains(t, body, "Upload a recording</a>.")
	_, body = get(t, c, ta.base+"/interviews?offset=50")
	contains(t, body, "No more interviews on this page; there are 30 in all.", `<a href="/interviews" id="first-page">`)
	_, body = get(t, c, ta.base+"/interviews?offset=50&status=done")
	contains(t, body, "No interviews match these filters.")
	_, body = get(t, c, ta.base+"/webhooks")
	contains(t, body, "only admins")
}

func TestTimelineSVG(t *testing.T) {
	cases := []struct {
		name  string
		tl    []report.Window
		has   []string
		lacks []string
	}{
		{"empty", nil, []string{`<svg class="timeline"`, "0:00"}, []string{"polyline", "<rect class=\"bar"}},
		{"one window", []report.Window{{Start: 0, End: 5, Video: f64(0.2), Overall: f64(0.2)}},
			[]string{`<circle class="line-video"`, `class="bar lvl-ok"`}, []string{"polyline"}},
		{"gap splits the line", []report.Window{
			{Start: 0, End: 2, Audio: f64(0.8), Overall: f64(0.8)}, {Start: 2, End: 4, Audio: f64(0.9), Overall: f64(0.9)},
			{Start: 4, End: 6}, {Start: 6, End: 8, Audio: f64(0.1), Overall: f64(0.1)}},
			[]string{`<polyline class="line-audio"`, `<circle class="line-audio"`, "lvl-high"}, []string{"line-video"}},
		{"long recording ticks", []report.Window{{Start: 0, End: 3700, AV: f64(1), Overall: f64(1)}},
			[]string{"1:00:00", "lvl-high"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svg := string(timelineSVG(tc.tl, 0))
			for _, s := range tc.has {
				assert.Contains(t, svg, s)
			}
			for _, s := range tc.lacks {
				assert.NotContains(t, svg, s)
			}
			assert.Equal(t, strings.Count(svg, "<svg"), strings.Count(svg, "</svg>"))
		})
	}
	assert.Contains(t, string(gaugeSVG(nil, "inconclusive")), "n/a")
	a := 100
	assert.Contains(t, string(gaugeSVG(&a, "genuine")), "gauge-value v-genuine")
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/interviews/abc":     "/interviews/abc",
		"/upload?x=1":         "/upload?x=1",
		"//evil.example.com":  "/interviews",
		"https://evil.com/":   "/interviews",
		`/\evil.example.com`:  "/interviews",
		"":                    "/interviews",
		"/ok\r\nSet-Cookie:x": "/interviews",
		"/\t/evil.example":    "/interviews", // browsers drop the tab: //evil.example
		"/x\\y":               "/interviews",
		"/x\x7f":              "/interviews",
	} {
		assert.Equal(t, want, safeNext(in), in)
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"clip.mp4":             "clip.mp4",
		"../../etc/passwd":     "passwd",
		`C:\Users\me\call.mov`: "call.mov",
		"":                     "upload",
		"bad\x00name\n.mp4":    "badname.mp4",
		"clip\u202E4pm.exe":    "clip4pm.exe",
	} {
		assert.Equal(t, want, cleanName(in), in)
	}
}

// A value outside its usual range is a warning only when its signal looks
// manipulated; under a genuine-looking signal it is shown as not decisive.
func TestOutsideValueOnlyWarnsWithItsSignal(t *testing.T) {
	lo, hi := 1.9, 8.0
	vals := []detectors.Measurement{{Name: "f0_spread", Value: 11.9, NormalLow: &lo, NormalHigh: &hi}, {Name: "inside", Value: 3, NormalLow: &lo, NormalHigh: &hi}}
	for _, tc := range []struct {
		name        string
		sig         report.Signal
		warn, quiet bool
	}{
		{"manipulated-looking signal", report.Signal{Measured: true, Score: 0.8, Values: vals}, true, false},
		{"genuine-looking signal", report.Signal{Measured: true, Score: 0.1, Values: vals}, false, true},
		{"informational signal", report.Signal{Measured: true, Informational: true, Values: vals}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := signalOf(tc.sig)
			assert.True(t, v.Values[0].Outside)
			assert.Equal(t, tc.warn, v.Values[0].Outside && !v.Values[0].Quiet)
			assert.Equal(t, tc.quiet, v.Values[0].Quiet)
			assert.False(t, v.Values[1].Outside || v.Values[1].Quiet, "a value inside its range is neither")
		})
	}
}
