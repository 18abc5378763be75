package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/store"
)

// browser starts Debian's Chromium headless (installed by
// scripts/setup.sh) with a fresh profile, a window of w×h and any extra
// options.
func browser(t *testing.T, w, h int, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	const chromium = "/usr/bin/chromium"
	_, err := os.Stat(chromium)
	require.NoError(t, err, "Chromium is part of the test set-up (scripts/setup.sh installs it)")
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	return ctx
}

// uiState is what the upload page shows at one moment.
type uiState struct {
	Path     string  `json:"path"`
	Upload   float64 `json:"upload"`
	Analysis float64 `json:"analysis"`
	Label    string  `json:"label"`
}

// TestBrowserUploadAndReport logs in, uploads a corpus clip through the
// page, watches the progress bars and sees the report with its chart.
func TestBrowserUploadAndReport(t *testing.T) {
	ta := startApp(t, nil)
	ctx := browser(t, 1200, 900)
	step, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	for i, a := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(ta.base + "/interviews"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "recruiter@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), testPassword),
		chromedp.Submit(chromedp.CSS("#login-form")),
		chromedp.WaitVisible(chromedp.CSS("a.button[href='/upload']")),
		chromedp.Navigate(ta.base + "/upload"),
		chromedp.WaitVisible(chromedp.CSS("#upload-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name="candidate"]`), "Browser Candidate"),
		chromedp.SetValue(chromedp.CSS("#region"), "left"), // the candidate's tile in gallery view
		chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{shortClip(t)}),
		chromedp.Click(chromedp.CSS("#upload-button")),
	} {
		sctx, scancel := context.WithTimeout(step, 20*time.Second)
		err := chromedp.Do(sctx, a)
		scancel()
		if err != nil {
			dbg, _ := chromedp.Run(step, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("browser step %d: %v\npage: %s", i, err, dbg)
		}
	}

	// Watch the page until it moves on to the report.
	var seen []uiState
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(step, chromedp.Evaluate[uiState](`(() => {
			const v = id => { const e = document.getElementById(id); return e ? (e.value || 0) : 0; };
			const l = document.getElementById("analysis-pct");
			return {path: location.pathname, upload: v("upload-progress"), analysis: v("analysis-progress"), label: l ? l.textContent : ""};
		})()`))
		if err != nil { // the page is navigating
			time.Sleep(50 * time.Millisecond)
			continue
		}
		seen = append(seen, s)
		if strings.HasPrefix(s.Path, "/interviews/") {
			break
		}
		if len(seen) == 1 {
			screenshot(t, step, "upload.png")
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NotEmpty(t, seen)
	last := seen[len(seen)-1]
	require.True(t, strings.HasPrefix(last.Path, "/interviews/"), "the page went on to the report: %+v", last)
	sawUpload, sawAnalysis := false, false
	for _, s := range seen {
		if s.Path != "/upload" {
			continue
		}
		sawUpload = sawUpload || s.Upload == 1
		sawAnalysis = sawAnalysis || s.Label == "queued" || s.Label == "processing" || strings.HasSuffix(s.Label, "%")
	}
	assert.True(t, sawUpload, "the upload bar reached 100%%: %+v", seen)
	assert.True(t, sawAnalysis, "the analysis progress was shown: %+v", seen)

	// The report page (it reloads itself if the analysis finished just now).
	require.NoError(t, chromedp.Do(step,
		chromedp.WaitVisible(chromedp.CSS("svg.timeline")),
		chromedp.WaitVisible(chromedp.CSS("svg.gauge")),
	))
	verdict, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("#verdict")))
	require.NoError(t, err)
	assert.Contains(t, []string{"genuine", "inconclusive", "suspicious", "manipulated"}, strings.ToLower(strings.TrimSpace(verdict)))
	body, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, body, "Browser Candidate")
	assert.Contains(t, body, "Timeline")
	assert.Contains(t, body, "face.presence", "signals are listed")
	assert.Contains(t, body, "only the left half of the picture analysed", "the chosen tile was sent and analysed")

	screenshot(t, step, "report.png")

	// The list shows it with its verdict badge.
	require.NoError(t, chromedp.Do(step,
		chromedp.Navigate(ta.base+"/interviews"),
		chromedp.WaitVisible(chromedp.CSS("table.list .badge")),
	))
	row, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("table.list tbody tr")))
	require.NoError(t, err)
	assert.Contains(t, row, "Browser Candidate")
	screenshot(t, step, "list.png")
}

// TestBrowserUploadDropAndErrors: dropping a file on the upload page only
// chooses it; the button sends it; a refused upload shows the server's
// sentence and hides the progress bars; a file over the cap is refused by
// the page with its size and the limit.
func TestBrowserUploadDropAndErrors(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.MaxUploadBytes = 64 << 10; c.Analyzer = &fakeAnalyzer{} })
	ctx := browser(t, 1200, 900)
	step, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	run := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(step, 20*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			dbg, _ := chromedp.Run(step, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("browser step %q: %v\npage: %s", name, err, dbg)
		}
	}
	run("log in",
		chromedp.Navigate(ta.base+"/upload"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "recruiter@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), testPassword),
		chromedp.Submit(chromedp.CSS("#login-form")),
		chromedp.WaitVisible(chromedp.CSS("#upload-form")),
	)
	type pageState struct {
		File     string `json:"file"`
		Progress bool   `json:"progress"` // the progress block is shown
		Error    string `json:"error"`
		Disabled bool   `json:"disabled"`
	}
	state := func() pageState {
		t.Helper()
		s, err := chromedp.Run(step, chromedp.Evaluate[pageState](`(() => {
			const f = document.getElementById("file-input").files, e = document.getElementById("upload-error");
			return {file: f.length ? f[0].name : "", progress: !document.getElementById("upload-status").hidden,
				error: e.hidden ? "" : e.textContent, disabled: document.getElementById("upload-button").disabled};
		})()`))
		require.NoError(t, err)
		return s
	}
	drop := func(name string, size int) {
		t.Helper()
		_, err := chromedp.Run(step, chromedp.Evaluate[bool](`(() => {
			const dt = new DataTransfer();
			dt.items.add(new File(["Dear hiring team, please find my CV attached. ".repeat(`+itoa(size/46+1)+`).slice(0, `+itoa(size)+`)], "`+name+`", {type: "video/mp4"}));
			document.getElementById("drop-zone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
			return true;
		})()`))
		require.NoError(t, err)
	}

	drop("cv.mp4", 100)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, pageState{File: "cv.mp4"}, state(), "a drop only chooses the file")
	page, err := ta.st.ListInterviews(t.Context(), store.ListFilter{})
	require.NoError(t, err)
	assert.Zero(t, page.Total)

	run("upload", chromedp.Click(chromedp.CSS("#upload-button")), chromedp.WaitVisible(chromedp.CSS("#upload-error")))
	assert.Equal(t, pageState{File: "cv.mp4", Error: "cv.mp4 is not a video or audio file bonafide can read."}, state(),
		"the server's sentence, the progress bars hidden, the button usable again")
	screenshot(t, step, "upload-error.png")

	drop("big.mp4", 100<<10)
	assert.Equal(t, pageState{File: "big.mp4"}, state(), "a new drop clears the error")
	run("upload a large file", chromedp.Click(chromedp.CSS("#upload-button")), chromedp.WaitVisible(chromedp.CSS("#upload-error")))
	assert.Equal(t, pageState{File: "big.mp4", Error: "This file is 100.0 KiB; the limit is 64.0 KiB."}, state())
}

// screenshot saves the page into $BONAFIDE_SCREENSHOTS (to look at) or a
// temporary folder.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := os.Getenv("BONAFIDE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), shot, 0o600))
}
