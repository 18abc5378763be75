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
