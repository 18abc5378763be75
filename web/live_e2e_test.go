package web

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
)

// liveBrowser starts Debian's Chromium headless with fake capture devices
// fed from y4m (camera) and wav (microphone), permission prompts accepted.
func liveBrowser(t *testing.T, y4m, wav string) context.Context {
	t.Helper()
	return browser(t, 1280, 1000,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", y4m),
		chromedp.Flag("use-file-for-fake-audio-capture", wav),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
}

// companionState is what the companion page shows at one moment.
type companionState struct {
	Conn   string `json:"conn"`
	State  string `json:"state"`
	Scores int    `json:"scores"`
	Score  string `json:"score"`
	Rows   int    `json:"rows"`
	Tally  string `json:"tally"`
	Error  string `json:"error"`
}

// TestBrowserLiveSession: in headless Chromium with a fake camera and
// microphone fed from a corpus clip, a recruiter logs in, creates a live
// session, opens its companion page, publishes the camera and microphone
// over WHIP, sees live scores arrive by SSE, ends the interview and finds
// the report of the recording.
func TestBrowserLiveSession(t *testing.T) {
	browserLiveSession(t, "#source-camera", true)
}

// TestBrowserLiveSessionSharedTab: the same with the other source, the
// meeting's tab or window with its audio (getDisplayMedia). Headless
// Chromium's fake capture gives a generated screen without a face (and the
// clip's sound), so the face signals say they could not be measured and
// the live score carries no authenticity number while the voice is judged.
func TestBrowserLiveSessionSharedTab(t *testing.T) {
	browserLiveSession(t, "#source-display", false)
}

// browserLiveSession runs the companion-page test with the source button
// sel; withFace says whether the source shows a face (a live authenticity
// number is then expected; without one, the face is reported unmeasured).
func browserLiveSession(t *testing.T, sel string, withFace bool) {
	la := startLiveApp(t, "", true, shortLive)
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	dir := t.TempDir()
	y4m, wav := filepath.Join(dir, "clip.y4m"), filepath.Join(dir, "clip.wav")
	// A 720p camera: Chromium sends it at 320×180 first and steps up as
	// its bandwidth estimate grows (about 8 s on loopback). Chromium loops
	// the file: 6 s keep it near 120 MB.
	size, secs := "640:360", "10"
	if withFace {
		size, secs = "1280:720", "6"
	}
	testutil.FFmpeg(t, "-i", clip, "-t", secs, "-an", "-vf", "scale="+size+",fps=15", "-pix_fmt", "yuv420p", y4m)
	testutil.FFmpeg(t, "-i", clip, "-t", "10", "-vn", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le", wav)

	ctx := liveBrowser(t, y4m, wav)
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: recordPeerConnections})
	require.NoError(t, err)
	step, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	run := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(step, 30*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			dbg, _ := chromedp.Run(step, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("browser step %q: %v\npage: %s", name, err, dbg)
		}
	}
	run("log in",
		chromedp.Navigate(la.base+"/live"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "recruiter@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), testPassword),
		chromedp.Submit(chromedp.CSS("#login-form")),
		chromedp.WaitVisible(chromedp.CSS("#live-create-form")),
	)
	run("create a session",
		chromedp.SendKeys(chromedp.CSS(`#live-create-form input[name="candidate"]`), "Browser Live"),
		chromedp.Click(chromedp.CSS("#live-create-button")),
		chromedp.WaitVisible(chromedp.CSS("#start-button")),
	)
	run("publish "+sel,
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.Click(chromedp.CSS("#start-button")),
	)

	// Watch the page until live scores have arrived.
	var last companionState
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(step, chromedp.Evaluate[companionState](`(() => {
			const root = document.getElementById("companion");
			const err = document.getElementById("publish-error");
			return {conn: root.getAttribute("data-conn") || "", state: root.getAttribute("data-state"),
				scores: Number(root.getAttribute("data-scores") || 0),
				score: document.getElementById("live-score").textContent,
				rows: document.querySelectorAll("#signal-rows tr[data-signal]").length,
				tally: document.getElementById("live-tally").textContent,
				error: err && !err.hidden ? err.textContent : ""};
		})()`))
		require.NoError(t, err)
		last = s
		require.Empty(t, s.Error, "the page shows no publishing error")
		if s.Scores >= 2 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("companion page: %+v", last)
	require.GreaterOrEqual(t, last.Scores, 2, "live scores arrived on the page: %+v", last)
	assert.Equal(t, "connected", last.Conn)
	assert.Equal(t, "live", last.State)
	assert.Greater(t, last.Rows, 0, "each signal's state is shown")
	assert.Regexp(t, `^[0-9]+ segments: `, last.Tally, "the run of verdicts so far is shown")
	if withFace {
		assert.NotEqual(t, "–", last.Score)
	}
	screenshot(t, step, "live-companion"+strings.TrimPrefix(sel, "#source")+".png")
	if withFace {
		path, err := chromedp.Run(step, chromedp.Evaluate[string](`location.pathname`))
		require.NoError(t, err)
		changeCameraSize(t, step, la, strings.TrimPrefix(path, "/live/"), 1280)
	}

	_, err = chromedp.Run(step, chromedp.Evaluate[bool](`(window.confirm = () => true, true)`))
	require.NoError(t, err)
	run("end the interview", chromedp.Click(chromedp.CSS("#end-button")))
	sctx, scancel := context.WithTimeout(step, 60*time.Second)
	err = chromedp.Do(sctx, chromedp.WaitVisible(chromedp.CSS("#report-link")))
	scancel()
	require.NoError(t, err, "the page links the report once the recording is queued")
	text, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("#session-end")))
	require.NoError(t, err)
	assert.Contains(t, text, "the publisher ended the call")
	sctx, scancel = context.WithTimeout(step, 10*time.Second)
	err = chromedp.Do(sctx, chromedp.WaitVisible(chromedp.CSS("#delete-button")))
	scancel()
	require.NoError(t, err, "the page offers to delete the ended session")

	run("open the report", chromedp.Click(chromedp.CSS("#report-link")))
	// The report page reloads itself when the analysis is done.
	sctx, scancel = context.WithTimeout(step, 3*time.Minute)
	err = chromedp.Do(sctx, chromedp.WaitVisible(chromedp.CSS("#verdict")))
	scancel()
	require.NoError(t, err, "the report of the recording is shown")
	body, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, body, "Browser Live")
	if !withFace {
		assert.Contains(t, body, "no face found", "the report says the face could not be measured")
	}
	assert.True(t, strings.Contains(body, "live-"), "the recording is the live session's")
	note, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("#live-note")))
	require.NoError(t, err)
	assert.Contains(t, note, "skipped", "the report says what the live path dropped")
	screenshot(t, step, "live-report"+strings.TrimPrefix(sel, "#source")+".png")
}

// recordPeerConnections runs before the page's own scripts and keeps every
// RTCPeerConnection the page makes in window.__testPCs, so a test can reach
// the camera's sender.
const recordPeerConnections = `(() => {
	const Orig = window.RTCPeerConnection;
	if (!Orig) { return; }
	window.__testPCs = [];
	window.RTCPeerConnection = class extends Orig {
		constructor(...args) { super(...args); window.__testPCs.push(this); }
	};
})();`

// cameraSize is the picture size the page's camera sender encodes now,
// and after a change, what was asked of it.
type cameraSize struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Pref   string `json:"pref"`
}

// changeCameraSize makes the browser send the camera (sourceWidth wide)
// at another picture size in the middle of the call and checks that the
// live video decoder restarts for it (it would otherwise scale the rest of
// the call to the first size). Chromium steps a 720p camera up from
// 320×180 on its own as its bandwidth estimate grows, but on a loaded
// machine its CPU adaptation may hold the small size for minutes, so the
// test asks for the change. It first has the sender keep its resolution
// against adaptation and waits until the size and the decoder's restarts
// hold still, so that a step-up of Chromium's own cannot pass for the
// change; then it scales the picture so that the analysed size changes.
func changeCameraSize(t *testing.T, ctx context.Context, la *liveApp, id string, sourceWidth int) {
	t.Helper()
	restarts := func() int64 {
		var st liveStats
		if s := la.session(t, id); len(s.Stats) > 0 {
			require.NoError(t, json.Unmarshal(s.Stats, &st))
		}
		for _, tr := range st.Tracks {
			if tr.Kind == "video" {
				return tr.DecoderRestarts
			}
		}
		return 0
	}
	const sender = `const pc = window.__testPCs[window.__testPCs.length - 1];
		const s = pc.getSenders().find(x => x.track && x.track.kind === "video");
		const size = async () => {
			let w = 0, h = 0;
			(await s.getStats()).forEach(r => { if (r.type === "outbound-rtp" && r.frameWidth) { w = r.frameWidth; h = r.frameHeight; } });
			return {width: w, height: h, pref: s.getParameters().degradationPreference || ""};
		};`
	size := func() cameraSize {
		t.Helper()
		c, err := chromedp.Run(ctx, chromedp.Evaluate[cameraSize](`(async () => {
			`+sender+`
			return await size();
		})()`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		return c
	}
	setParams := func(js string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(async () => {
			`+sender+`
			const p = s.getParameters();
			`+js+`
			await s.setParameters(p);
			return true;
		})()`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
	}

	setParams(`p.degradationPreference = "maintain-resolution";`)
	asked, before, still := size(), restarts(), 0
	for deadline := time.Now().Add(30 * time.Second); still < 4 && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		c, r := size(), restarts()
		if c.Width == asked.Width && r == before {
			still++
		} else {
			asked, before, still = c, r, 0
		}
	}
	require.Equal(t, 4, still, "the camera's size and the decoder's restarts hold still once resolution is kept: %+v", asked)
	require.Equal(t, "maintain-resolution", asked.Pref, "the browser keeps the resolution as asked")
	require.Positive(t, asked.Width, "the browser reports the camera's sent size")
	// The live decoder delivers pictures at most 640 wide (the live
	// default), so the new size must differ below that: a quarter of the
	// camera, or all of it when less than 640 is sent now.
	scale := 4
	if asked.Width < 640 {
		scale = 1
	}
	setParams(fmt.Sprintf(`p.encodings[0].scaleResolutionDownBy = %d;`, scale))

	var now cameraSize
	after := before
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if now, after = size(), restarts(); now.Width == sourceWidth/scale && after > before {
			break
		}
	}
	t.Logf("camera sent at %dx%d, then %dx%d (scaled down %d×, %s); decoder restarts %d → %d",
		asked.Width, asked.Height, now.Width, now.Height, scale, now.Pref, before, after)
	require.Equal(t, sourceWidth/scale, now.Width, "the browser sends the camera at the new picture size")
	require.Greater(t, after, before, "the live decoder restarted for the camera's new picture size")
}
