package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/live"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

// liveClip is a genuine talking head with speech (8 s as VP8 + Opus).
func liveClip(t *testing.T, seconds float64) (ivf, ogg string) {
	t.Helper()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	return whiptest.Fixtures(t, clip, seconds, 640, 25, false, false)
}

// shortLive makes live scores come every 4 s so that tests see several.
func shortLive(c *Config) {
	c.Live.Segment = 4 * time.Second
}

// TestLiveSessionEndToEnd: a Go WHIP client publishes a corpus clip with a
// face and speech to a real server over loopback; an SSE client receives
// the live scores; the publisher hangs up with DELETE; the session becomes
// an interview whose offline report is done; no goroutine is left behind.
func TestLiveSessionEndToEnd(t *testing.T) {
	defer test.CheckRoutines(t)()
	la := startLiveApp(t, "", true, shortLive)
	defer la.stop()
	ivf, ogg := liveClip(t, 9)

	s := la.createSession(t, la.recTok, "Ada Live")
	assert.Equal(t, store.LiveWaiting, s.State)
	assert.True(t, strings.HasPrefix(s.Token, liveTokenPrefix), s.Token)
	assert.Equal(t, la.base+"/api/v1/sessions/"+s.ID+"/whip", s.WHIPURL)
	assert.Equal(t, la.base+"/live/"+s.ID, s.CompanionURL)
	got := la.session(t, s.ID)
	assert.Empty(t, got.Token, "the token is shown in the create response only")

	events := la.subscribe(t, "/api/v1/sessions/"+s.ID+"/events", la.recTok)
	first := decodeState(t, events.next(t, 5*time.Second, sseState))
	assert.Equal(t, store.LiveWaiting, first.State)

	var loc string
	client, err := whiptest.Publish(context.Background(), la.whipAnswerer(s.WHIPURL, s.Token, &loc), ivf, ogg, false)
	require.NoError(t, err)
	defer client.Close()
	require.True(t, strings.HasPrefix(loc, la.base+"/api/v1/sessions/"+s.ID+"/whip/"), loc)
	assert.Equal(t, store.LiveLive, decodeState(t, events.next(t, 5*time.Second, sseState)).State)

	// Live scores arrive while the clip plays.
	score := decodeScore(t, events.next(t, 30*time.Second, sseScore))
	assert.Equal(t, "score", score.Kind)
	assert.NotEmpty(t, score.Signals, "each signal's state is in the event")
	assert.Greater(t, score.FaceSeconds, 1.0)
	assert.Equal(t, 1, score.Tally[score.Verdict], "the first segment's verdict starts the tally")
	mid := la.session(t, s.ID)
	assert.Equal(t, store.LiveLive, mid.State)
	require.NotEmpty(t, mid.Stats, "a running session reports its live statistics")

	// A late subscriber gets the state and the last score first.
	late := la.subscribe(t, "/api/v1/sessions/"+s.ID+"/events", la.adminTok)
	assert.Equal(t, sseState, late.next(t, 5*time.Second, sseState, sseScore).Event)
	assert.Equal(t, sseState, late.next(t, 5*time.Second, sseState, sseScore).Event, "the hub's replay")
	assert.Equal(t, sseScore, late.next(t, 5*time.Second, sseState, sseScore).Event)
	late.Close()

	select {
	case <-client.Finished():
	case <-time.After(30 * time.Second):
		t.Fatal("the publisher did not finish")
	}
	require.NoError(t, client.Err())
	code, _, body := la.req(t, http.MethodDelete, loc, s.Token, "", "")
	require.Equal(t, http.StatusOK, code, body)

	// The stream follows the session to its end, then closes.
	var st liveStateEvent
	for st.State != store.LiveEnded {
		st = decodeState(t, events.next(t, 30*time.Second, sseState))
	}
	require.Empty(t, st.Error)
	require.NotEmpty(t, st.InterviewID, "the recording was queued as an interview")
	assert.Equal(t, "/interviews/"+st.InterviewID, st.InterviewURL)
	assert.Equal(t, "the publisher ended the call", st.Reason)
	// Ending it now ends nothing: answered as before, not in the audit log.
	code, _, body = la.req(t, http.MethodDelete, "/api/v1/sessions/"+s.ID, la.recTok, "", "")
	require.Equal(t, http.StatusAccepted, code, body)
	ends, err := la.st.AuditEvents(context.Background(), store.AuditFilter{Target: "session:" + s.ID, Action: "session.end"})
	require.NoError(t, err)
	assert.Empty(t, ends, "the publisher ended it")
	require.NotNil(t, st.Stats)
	assert.GreaterOrEqual(t, st.Stats.Segments, 2, "9 s in 4-s segments")
	assert.Greater(t, st.Stats.FramesAnalyzed, 20)
	require.Len(t, st.Stats.Tracks, 2)
	for _, tr := range st.Stats.Tracks {
		assert.Greater(t, tr.Packets, int64(100), tr.Kind)
	}
	_, open := <-events.Events
	for open {
		_, open = <-events.Events
	}

	iv := la.waitInterview(t, st.InterviewID, store.StatusDone, 3*time.Minute)
	assert.Equal(t, "live", iv.Source)
	assert.Equal(t, "Ada Live", iv.Candidate)
	assert.InDelta(t, 9, iv.Duration, 2, "the recording holds the call")
	require.NotEmpty(t, iv.Report)
	var rep struct {
		Analysis struct {
			FramesAnalyzed int `json:"frames_analyzed"`
		} `json:"analysis"`
	}
	require.NoError(t, json.Unmarshal(iv.Report, &rep))
	t.Logf("offline report of the recording: %s, authenticity %s", iv.Verdict, authString(iv.Authenticity))
	assert.Greater(t, rep.Analysis.FramesAnalyzed, 40, "the offline analysis ran on the whole recording")

	end := la.session(t, s.ID)
	assert.Equal(t, st.InterviewID, end.InterviewID)
	assert.Equal(t, "/api/v1/interviews/"+st.InterviewID, end.InterviewURL)
	assert.NotEmpty(t, end.LastScore)
	var stats liveStats
	require.NoError(t, json.Unmarshal(end.Stats, &stats))
	assert.Equal(t, st.Stats.Segments, stats.Segments, "the record keeps the live statistics")
	_, err = os.Stat(filepath.Join(la.dir, "live", s.ID))
	assert.True(t, errors.Is(err, os.ErrNotExist), "the session's working folder is removed")

	// The ended session refuses another publisher.
	code, _, _ = la.req(t, http.MethodPost, s.WHIPURL, s.Token, "application/sdp", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")
	assert.Equal(t, http.StatusConflict, code)

	// Deleting the session removes its record and the interview made from
	// its recording, with the files.
	ivRow, err := la.st.Interview(context.Background(), st.InterviewID)
	require.NoError(t, err)
	mediaPath := filepath.Join(la.dir, ivRow.MediaFile)
	_, err = os.Stat(mediaPath)
	require.NoError(t, err, "the recording is stored")
	code, _, body = la.req(t, http.MethodDelete, "/api/v1/sessions/"+s.ID+"/record", la.recTok, "", "")
	require.Equal(t, http.StatusNoContent, code, body)
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/sessions/"+s.ID, la.recTok, "", "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/interviews/"+st.InterviewID, la.recTok, "", "")
	assert.Equal(t, http.StatusNotFound, code, "the interview went with it")
	_, err = os.Stat(mediaPath)
	assert.True(t, errors.Is(err, os.ErrNotExist), "the recording is removed")
	// The interview's history says it went with its session.
	deletes, err := la.st.AuditEvents(context.Background(), store.AuditFilter{Target: "interview:" + st.InterviewID, Action: "interview.delete"})
	require.NoError(t, err)
	require.Len(t, deletes, 1)
	assert.Equal(t, "api; with session:"+s.ID, deletes[0].Detail)

	require.NoError(t, client.Close())
	events.Close()
	la.stop()
	testutil.NoChildProcesses(t)
}

// A session for a meeting window shared in gallery view analyses the tile
// it was created for, live and in the report of its recording: here the
// face is in the left tile and the session watches the right one, which is
// empty, so no face is seen, where the whole picture shows one in every
// frame. A region the server does not know is refused at creation.
func TestLiveSessionRegion(t *testing.T) {
	defer test.CheckRoutines(t)()
	la := startLiveApp(t, "", true, shortLive)
	defer la.stop()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	gallery := filepath.Join(t.TempDir(), "gallery.mp4")
	testutil.FFmpeg(t, "-i", clip, "-t", "9", "-filter_complex",
		"[0:v]scale=512:512,setsar=1,pad=1024:512:0:0:gray[v]", "-map", "[v]", "-map", "0:a",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", gallery)
	ivf, ogg := whiptest.Fixtures(t, gallery, 9, 640, 25, false, false)

	code, _, body := la.req(t, http.MethodPost, "/api/v1/sessions", la.recTok, "application/json", `{"candidate": "Tile", "region": "middle"}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	assert.Contains(t, body, `bad region \"middle\"`)

	code, _, body = la.req(t, http.MethodPost, "/api/v1/sessions", la.recTok, "application/json", `{"candidate": "Tile", "region": "right"}`)
	require.Equal(t, http.StatusCreated, code, body)
	var s liveSessionJSON
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	assert.Equal(t, "right", s.Region)

	end := la.publishToEnd(t, s, whiptest.Options{Video: ivf, Audio: ogg})
	var last live.Event
	require.NoError(t, json.Unmarshal(end.LastScore, &last))
	assert.Zero(t, last.FaceSeconds, "the live analysis saw the empty right tile only")
	var stats liveStats
	require.NoError(t, json.Unmarshal(end.Stats, &stats))
	assert.Greater(t, stats.FramesAnalyzed, 20, "frames were analysed")

	iv := la.waitInterview(t, end.InterviewID, store.StatusDone, 3*time.Minute)
	assert.Equal(t, "right", iv.Region)
	var rep report.Report
	require.NoError(t, json.Unmarshal(iv.Report, &rep))
	assert.Equal(t, "right", rep.Analysis.Region)
	assert.Equal(t, []int{320, 320}, []int{rep.Analysis.AnalysisWidth, rep.Analysis.AnalysisHeight},
		"the right half of the 640×320 recording, which keeps the whole picture")
	assert.Zero(t, rep.Coverage.FaceFraction, "no face in the right tile")

	// Deleting the interview takes its session's record with it: the
	// session's history says so.
	code, _, body = la.req(t, http.MethodDelete, "/api/v1/interviews/"+end.InterviewID, la.recTok, "", "")
	require.Equal(t, http.StatusNoContent, code, body)
	gone, err := la.st.AuditEvents(context.Background(), store.AuditFilter{Target: "session:" + s.ID, Action: "session.delete"})
	require.NoError(t, err)
	require.Len(t, gone, 1)
	assert.Equal(t, "api; with interview:"+end.InterviewID, gone[0].Detail)
	la.stop()
	testutil.NoChildProcesses(t)
}

// A sender that starts small and steps up, as Chromium does with a 720p
// camera, and loses half a second of its sound on the way: the live
// decoder restarts for the larger pictures, the session goes on through
// the restart, and its statistics and the metrics count the restart and
// the filled sound.
func TestLivePictureSizeChange(t *testing.T) {
	defer test.CheckRoutines(t)()
	la := startLiveApp(t, "", true, shortLive)
	defer la.stop()
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	ivf := whiptest.SteppedVideo(t, clip, "vp8", []whiptest.Step{{Width: 256, Seconds: 2}, {Width: 512, Seconds: 7}})
	_, ogg := whiptest.Fixtures(t, clip, 9, 640, 25, true, false)

	s := la.createSession(t, la.recTok, "Steps Up")
	// Half a second of the sound is lost on the way, too.
	lost := func(at time.Duration) bool { return at >= 3*time.Second && at < 3500*time.Millisecond }
	end := la.publishToEnd(t, s, whiptest.Options{Video: ivf, Audio: ogg, AudioLost: lost})
	var stats liveStats
	require.NoError(t, json.Unmarshal(end.Stats, &stats))
	assert.Greater(t, stats.FramesAnalyzed, 30, "frames of both sizes were analysed")
	var restarts int64 = -1
	var filled float64
	for _, tr := range stats.Tracks {
		switch tr.Kind {
		case "video":
			restarts = tr.DecoderRestarts
		case "audio":
			filled = tr.FilledSeconds
		}
	}
	assert.Equal(t, int64(1), restarts, "one restart, for the larger pictures")
	assert.InDelta(t, 0.5, filled, 0.05, "the lost sound was filled in the recording")
	code, _, metrics := la.req(t, http.MethodGet, "/metrics", la.adminTok, "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, metrics, "bonafide_live_video_decoder_restarts_total 1\n")
	assert.Regexp(t, `bonafide_live_audio_filled_seconds_total 0\.[45]\d*\n`, metrics)
	var last live.Event
	require.NoError(t, json.Unmarshal(end.LastScore, &last))
	assert.Greater(t, last.FaceSeconds, 1.0, "the face is followed after the restart")
	la.stop()
	testutil.NoChildProcesses(t)
}

// Deleting a live session: only once it has ended, only by its owner or
// an admin, by the API and by the page's form (with its CSRF token); the
// record and what a crash left in its working folder are gone afterwards.
// Deleting an interview recorded live removes the session's record too.
// (TestLiveSessionEndToEnd deletes a session with its interview and
// recording.)
func TestDeleteLiveSession(t *testing.T) {
	la := startLiveApp(t, "", true, shortLive)
	defer la.stop()
	_, otherTok := la.addUser(t, "other@example.com", store.RoleRecruiter)
	del := func(id, tok string) int {
		code, _, _ := la.req(t, http.MethodDelete, "/api/v1/sessions/"+id+"/record", tok, "", "")
		return code
	}
	s := la.createSession(t, la.recTok, "Ada")
	assert.Equal(t, http.StatusConflict, del(s.ID, la.recTok), "a waiting session is ended first")
	code, _, body := la.req(t, http.MethodDelete, "/api/v1/sessions/"+s.ID, la.recTok, "", "")
	require.Equal(t, http.StatusAccepted, code, body)
	la.waitEnded(t, s.ID, 10*time.Second)
	assert.Equal(t, http.StatusForbidden, del(s.ID, otherTok), "another recruiter may not")
	leftover := filepath.Join(la.dir, "live", s.ID)
	require.NoError(t, os.MkdirAll(leftover, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(leftover, "video.ivf"), []byte("partial"), 0o600))
	assert.Equal(t, http.StatusNoContent, del(s.ID, la.adminTok), "an admin may")
	_, err := os.Stat(leftover)
	assert.True(t, errors.Is(err, os.ErrNotExist), "what a crash left of the recording goes too")
	assert.Equal(t, http.StatusNotFound, del(s.ID, la.recTok))
	assert.Equal(t, http.StatusNotFound, del("nosuchsession", la.recTok))

	// The page: the button shows once the session has ended; the form needs
	// its CSRF token and returns to the list.
	s = la.createSession(t, la.recTok, "Grace")
	owner, csrf := la.login(t, "recruiter@example.com")
	page := la.base + "/live/" + s.ID
	_, body = get(t, owner, page)
	contains(t, body, `id="delete-form" data-confirm="Delete this session's record and the interview made from its recording, if any (recording, report and evidence)?" hidden>`)
	code, _ = get(t, owner, page+"/delete")
	assert.Equal(t, http.StatusConflict, code, "no confirmation before the session has ended")
	r, err := owner.PostForm(page+"/end", url.Values{"csrf": {csrf}})
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	la.waitEnded(t, s.ID, 10*time.Second)
	_, body = get(t, owner, page)
	contains(t, body, `action="/live/`+s.ID+`/delete" id="delete-form" data-confirm="Delete this session's record and the interview made from its recording, if any (recording, report and evidence)?">`)
	code, body = get(t, owner, page+"/delete")
	require.Equal(t, http.StatusOK, code)
	contains(t, body, "Delete this live session?", "Grace")
	other, _ := la.login(t, "other@example.com")
	_, body = get(t, other, page)
	assert.NotContains(t, body, `id="delete-form"`, "only the owner and admins see the button")
	code, _ = get(t, other, page+"/delete")
	assert.Equal(t, http.StatusForbidden, code)
	r, err = owner.PostForm(page+"/delete", url.Values{})
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusForbidden, r.StatusCode, "the form needs its CSRF token")
	r, err = owner.PostForm(page+"/delete", url.Values{"csrf": {csrf}})
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/live", r.Header.Get("Location"))
	code, _ = get(t, owner, page)
	assert.Equal(t, http.StatusNotFound, code)

	// Deleting the interview made from a session's recording deletes the
	// session's record, and what a crash left in its working folder.
	ctx := context.Background()
	s = la.createSession(t, la.recTok, "Hedy")
	require.NoError(t, la.st.SetLiveState(ctx, s.ID, store.LiveEnding, time.Now(), store.LiveWaiting))
	iv := store.Interview{ID: store.NewID(), OwnerID: la.rec.ID, MediaFile: "media/hedy.mkv", Status: store.StatusQueued, Source: "live"}
	require.NoError(t, la.st.CreateInterview(ctx, iv))
	require.NoError(t, la.st.EndLiveSession(ctx, s.ID, store.LiveEnd{Reason: "ended", InterviewID: iv.ID}, time.Now()))
	leftover = filepath.Join(la.dir, "live", s.ID)
	require.NoError(t, os.MkdirAll(leftover, 0o750))
	code, _, body = la.req(t, http.MethodDelete, "/api/v1/interviews/"+iv.ID, la.recTok, "", "")
	require.Equal(t, http.StatusNoContent, code, body)
	code, _, _ = la.req(t, http.MethodGet, "/api/v1/sessions/"+s.ID, la.recTok, "", "")
	assert.Equal(t, http.StatusNotFound, code, "the session's record went with its interview")
	_, err = os.Stat(leftover)
	assert.True(t, errors.Is(err, os.ErrNotExist), "and its working folder")
}

// TestWHIPFaults: the WHIP endpoint's answers to bad input and misuse
// (RFC 9725): CORS preflight, wrong or missing token, wrong content type,
// malformed SDP, a second publisher on a busy session, PATCH, DELETE of a
// resource that is not running, and publishing to an ended session.
func TestWHIPFaults(t *testing.T) {
	la := startLiveApp(t, "", true, nil)
	ivf, ogg := liveClip(t, 4)
	a := la.createSession(t, la.recTok, "A")
	b := la.createSession(t, la.adminTok, "B")
	sdp := "application/sdp"

	// Before any publisher.
	for _, tc := range []struct {
		name, method, url, token, ctype, body string
		want                                  int
		wantBody                              string
	}{
		{"options", http.MethodOptions, a.WHIPURL, "", "", "", http.StatusNoContent, ""},
		{"no token", http.MethodPost, a.WHIPURL, "", sdp, "v=0", http.StatusUnauthorized, "Bearer"},
		{"another session's token", http.MethodPost, a.WHIPURL, b.Token, sdp, "v=0", http.StatusUnauthorized, "does not publish"},
		{"an API token", http.MethodPost, a.WHIPURL, la.recTok, sdp, "v=0", http.StatusUnauthorized, ""},
		{"unknown session", http.MethodPost, la.base + "/api/v1/sessions/nosuchsession00/whip", a.Token, sdp, "v=0", http.StatusNotFound, ""},
		{"not SDP", http.MethodPost, a.WHIPURL, a.Token, "application/json", "{}", http.StatusUnsupportedMediaType, "application/sdp"},
		{"malformed SDP", http.MethodPost, a.WHIPURL, a.Token, sdp, "hello", http.StatusBadRequest, "SDP"},
		{"no usable media", http.MethodPost, a.WHIPURL, a.Token, sdp, "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n", http.StatusBadRequest, "SDP"},
		{"oversized offer", http.MethodPost, a.WHIPURL, a.Token, sdp, "v=0\r\n" + strings.Repeat("a=x\r\n", 20000), http.StatusRequestEntityTooLarge, ""},
		{"patch", http.MethodPatch, a.WHIPURL + "/anything", a.Token, "application/trickle-ice-sdpfrag", "a=end-of-candidates", http.StatusMethodNotAllowed, "trickle"},
		{"delete nothing running", http.MethodDelete, a.WHIPURL + "/anything", a.Token, "", "", http.StatusNotFound, ""},
		{"delete with a wrong token", http.MethodDelete, a.WHIPURL + "/anything", b.Token, "", "", http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, body := la.req(t, tc.method, tc.url, tc.token, tc.ctype, tc.body)
			require.Equal(t, tc.want, code, body)
			assert.Contains(t, body, tc.wantBody)
			assert.Equal(t, "*", hdr.Get("Access-Control-Allow-Origin"), "CORS on every WHIP answer")
			switch tc.want {
			case http.StatusUnauthorized:
				assert.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
			case http.StatusMethodNotAllowed:
				assert.Equal(t, "OPTIONS, DELETE", hdr.Get("Allow"))
			case http.StatusNoContent:
				assert.Equal(t, "application/sdp", hdr.Get("Accept-Post"))
				assert.Contains(t, hdr.Get("Access-Control-Allow-Methods"), "POST")
				assert.Equal(t, "Authorization, Content-Type, If-Match", hdr.Get("Access-Control-Allow-Headers"))
				assert.Contains(t, hdr.Get("Access-Control-Expose-Headers"), "Location")
			}
		})
	}
	assert.Equal(t, store.LiveWaiting, la.session(t, a.ID).State, "refused offers change nothing")

	// A publisher; then a second one on the same session.
	var loc string
	first, err := whiptest.Publish(context.Background(), la.whipAnswerer(a.WHIPURL, a.Token, &loc), ivf, ogg, true)
	require.NoError(t, err)
	publishes, err := la.st.AuditEvents(context.Background(), store.AuditFilter{Action: "session.publish"})
	require.NoError(t, err)
	require.Len(t, publishes, 1, "the refused offers are not in the audit log, the accepted one is")
	assert.Equal(t, []string{"publisher", "session:" + a.ID, "127.0.0.1"}, []string{publishes[0].Actor, publishes[0].Target, publishes[0].Addr})
	defer first.Close()
	_, err = whiptest.Publish(context.Background(), la.whipAnswerer(a.WHIPURL, a.Token, nil), ivf, ogg, false)
	var se *whipStatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusConflict, se.code, se.body)
	assert.Contains(t, se.body, "already has a publisher")

	code, hdr, _ := la.req(t, http.MethodOptions, loc, "", "", "")
	assert.Equal(t, http.StatusNoContent, code)
	assert.Contains(t, hdr.Get("Access-Control-Allow-Methods"), "DELETE")
	code, _, _ = la.req(t, http.MethodDelete, loc, b.Token, "", "")
	assert.Equal(t, http.StatusUnauthorized, code, "another session's token cannot hang up")
	code, _, _ = la.req(t, http.MethodDelete, a.WHIPURL+"/not-the-resource", a.Token, "", "")
	assert.Equal(t, http.StatusNotFound, code)

	// The recruiter who does not own it cannot end it; the owner can.
	code, _, _ = la.req(t, http.MethodDelete, "/api/v1/sessions/"+b.ID, la.recTok, "", "")
	assert.Equal(t, http.StatusForbidden, code)

	la.waitRecorded(t, a.ID, 15*time.Second)
	code, _, body := la.req(t, http.MethodDelete, loc, a.Token, "", "")
	require.Equal(t, http.StatusOK, code, body)
	ended := la.waitEnded(t, a.ID, 30*time.Second)
	assert.NotEmpty(t, ended.InterviewID, ended.Error)
	code, _, body = la.req(t, http.MethodPost, a.WHIPURL, a.Token, sdp, "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, body, "has ended")
	require.NoError(t, first.Close())

	// A session nobody published to ends with nothing received and no
	// interview.
	code, _, body = la.req(t, http.MethodDelete, "/api/v1/sessions/"+b.ID, la.adminTok, "", "")
	require.Equal(t, http.StatusAccepted, code, body)
	eb := la.waitEnded(t, b.ID, 5*time.Second)
	assert.Equal(t, "no media was received", eb.Error)
	assert.Empty(t, eb.InterviewID)
	page, err := la.st.ListInterviews(context.Background(), store.ListFilter{})
	require.NoError(t, err)
	assert.Equal(t, 1, page.Total, "only the published session became an interview")
}

// TestLiveNothingReceived: a publisher that connects but sends no media
// ends the session (after the idle timeout) with "no media was received"
// and nothing queued.
func TestLiveNothingReceived(t *testing.T) {
	la := startLiveApp(t, "", true, func(c *Config) { c.Live.IdleTimeout = 3 * time.Second })
	s := la.createSession(t, la.recTok, "Silent")
	pc, err := silentPublisher(la.whipAnswerer(s.WHIPURL, s.Token, nil))
	require.NoError(t, err)
	defer pc.Close()
	ended := la.waitEnded(t, s.ID, 20*time.Second)
	assert.Equal(t, "no media was received", ended.Error)
	assert.Contains(t, ended.EndReason, "no media arrived")
	assert.Empty(t, ended.InterviewID)
}

// TestLivePublisherVanishes: a publisher that disappears without DELETE —
// its connection closed abruptly, or connected but silent — ends its
// session within 30 s, and what arrived still becomes a report.
func TestLivePublisherVanishes(t *testing.T) {
	la := startLiveApp(t, "", true, shortLive)
	ivf, ogg := liveClip(t, 7)
	for _, tc := range []struct {
		name string
		// publish starts a publisher and returns a function that makes it
		// vanish and returns when it did, and one that closes it.
		publish func(t *testing.T, answer whiptest.Answerer) (vanish func() time.Time, closer func() error)
	}{
		{"connection closed without DELETE", func(t *testing.T, answer whiptest.Answerer) (func() time.Time, func() error) {
			p, err := whiptest.Publish(context.Background(), answer, ivf, ogg, true)
			require.NoError(t, err)
			return func() time.Time {
				time.Sleep(5 * time.Second)
				require.NoError(t, p.Close())
				return time.Now()
			}, p.Close
		}},
		{"network cut, no goodbye", func(t *testing.T, answer whiptest.Answerer) (func() time.Time, func() error) {
			p, err := newCutPublisher(answer, ivf, ogg)
			require.NoError(t, err)
			return func() time.Time {
				time.Sleep(5 * time.Second)
				require.NoError(t, p.Cut())
				return time.Now()
			}, p.Close
		}},
		{"media stops, connection stays", func(t *testing.T, answer whiptest.Answerer) (func() time.Time, func() error) {
			p, err := whiptest.Publish(context.Background(), answer, ivf, ogg, false)
			require.NoError(t, err)
			return func() time.Time {
				select {
				case <-p.Finished():
				case <-time.After(30 * time.Second):
					t.Fatal("the publisher did not finish")
				}
				return time.Now()
			}, p.Close
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := la.createSession(t, la.recTok, tc.name)
			vanish, closer := tc.publish(t, la.whipAnswerer(s.WHIPURL, s.Token, nil))
			defer closer()
			la.waitRecorded(t, s.ID, 15*time.Second)
			gone := vanish()
			ended := la.waitEnded(t, s.ID, 40*time.Second)
			took := time.Since(gone)
			t.Logf("%s: ended %.1f s after the publisher vanished (%s)", tc.name, took.Seconds(), ended.EndReason)
			assert.LessOrEqual(t, took, 30*time.Second, "a vanished publisher ends its session within 30 s")
			require.NotEmpty(t, ended.InterviewID, ended.Error)
			iv := la.waitInterview(t, ended.InterviewID, store.StatusDone, 3*time.Minute)
			assert.Greater(t, iv.Duration, 3.0, "the recording keeps what arrived")
			assert.NotEmpty(t, iv.Verdict)
		})
	}
}

// TestLiveShutdownQueuesRecording: a graceful server shutdown ends a live
// call like a hang-up: its recording is queued, and the restarted server
// analyses it.
func TestLiveShutdownQueuesRecording(t *testing.T) {
	dir := t.TempDir()
	la := startLiveApp(t, dir, true, shortLive)
	ivf, ogg := liveClip(t, 5)
	s := la.createSession(t, la.recTok, "Interrupted")
	p, err := whiptest.Publish(context.Background(), la.whipAnswerer(s.WHIPURL, s.Token, nil), ivf, ogg, true)
	require.NoError(t, err)
	defer p.Close()
	la.waitRecorded(t, s.ID, 15*time.Second)
	time.Sleep(3 * time.Second)
	la.stop()
	require.NoError(t, p.Close())

	again := startLiveApp(t, dir, false, nil)
	ctx := context.Background()
	ls, err := again.st.LiveSession(ctx, s.ID)
	require.NoError(t, err)
	assert.Equal(t, store.LiveEnded, ls.State)
	assert.Equal(t, "the server shut down", ls.EndReason)
	require.NotEmpty(t, ls.InterviewID, ls.Error)
	require.Eventually(t, func() bool {
		iv, err := again.st.Interview(ctx, ls.InterviewID)
		require.NoError(t, err)
		return iv.Status == store.StatusDone
	}, 3*time.Minute, 200*time.Millisecond, "the restarted server analyses the queued recording")
}

// TestLivePages: the list and the companion page. Creating a session from
// the form opens its page; only the owner's page carries the publishing
// token; another user sees the page without it; ending it from the page
// (no JavaScript) shows "no media was received".
func TestLivePages(t *testing.T) {
	la := startLiveApp(t, "", true, nil)
	rec, recCSRF := la.login(t, "recruiter@example.com")
	admin, _ := la.login(t, "admin@example.com")

	resp, err := rec.PostForm(la.base+"/live", url.Values{"csrf": {recCSRF}, "candidate": {"Grace <b>Hopper</b>"}, "title": {"Compilers"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	page := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(page, "/live/"), page)
	id := strings.TrimPrefix(page, "/live/")
	ls, err := la.st.LiveSession(context.Background(), id)
	require.NoError(t, err)

	code, body := get(t, rec, la.base+page)
	require.Equal(t, http.StatusOK, code)
	contains(t, body, `id="companion"`, `data-token="bfw_`, `id="start-button"`, `id="source-display"`, `id="source-camera"`,
		"/api/v1/sessions/"+id+"/whip", "Suggested live challenges", "video.flicker", "av.lipsync", `src="/static/live.js"`,
		"Grace &lt;b&gt;Hopper&lt;/b&gt;")
	assert.NotContains(t, body, "<script>", "no inline script (CSP)")
	contains(t, body, `id="start-warning"`, "ends the screening for good", `<summary>Technical details</summary>`)
	inOrder(t, body, `id="score-card"`, `id="alerts-card"`, `id="publish-card"`, `id="preview"`, `id="signal-rows"`, `id="tech-details"`, `id="live-stats"`)
	tok := regexp.MustCompile(`data-token="(bfw_[^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, tok)
	assert.True(t, liveTokenMatches(tok[1], ls.TokenHash), "the page's token publishes to this session")

	// A reload shows the last score as stored, with the track it lacked and
	// the analysis notes.
	require.NoError(t, la.st.SetLiveState(t.Context(), id, store.LiveLive, time.Now(), store.LiveWaiting))
	require.NoError(t, la.st.SaveLiveProgress(t.Context(), id,
		json.RawMessage(`{"kind":"score","start":8,"end":16,"authenticity":61,"verdict":"genuine","missing":["audio"],"notes":["the two sound channels carried the sound in opposite phase for 3.5 s"]}`), nil, 0))
	code, body = get(t, rec, la.base+page)
	require.Equal(t, http.StatusOK, code)
	contains(t, body, "No audio reached the analysis in this segment", "Seconds 8–16", "Note: the two sound channels carried the sound in opposite phase for 3.5 s.")
	require.NoError(t, la.st.SetLiveState(t.Context(), id, store.LiveWaiting, time.Now(), store.LiveLive))

	code, body = get(t, admin, la.base+page)
	require.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body, "bfw_", "only the owner sees the token")
	contains(t, body, "Waiting for the publisher", `id="end-button"`)

	code, body = get(t, admin, la.base+"/live")
	require.Equal(t, http.StatusOK, code)
	contains(t, body, `href="/live/`+id+`"`, "waiting", `id="live-create-form"`)

	resp, err = rec.PostForm(la.base+page+"/end", url.Values{"csrf": {recCSRF}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	code, body = get(t, rec, la.base+page)
	require.Equal(t, http.StatusOK, code)
	contains(t, body, "ended", "no media was received", "ended by recruiter@example.com")
	inOrder(t, body, `id="session-end"`, "no media was received", `id="score-card"`)
	assert.NotContains(t, body, "bfw_", "an ended session's page has no token")
	assert.NotContains(t, body, `id="end-button"`)

	resp, err = rec.PostForm(la.base+page+"/end", url.Values{})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "forms need the CSRF token")
}

// inOrder checks that the parts appear in body in this order (the layout
// of a page, top to bottom).
func inOrder(t *testing.T, body string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(body[at:], p)
		if !assert.GreaterOrEqual(t, i, 0, "%q after the previous parts", p) {
			return
		}
		at += i + len(p)
	}
}

// An event stream ends when its viewer's login does: here the account is
// disabled while the stream is open (logout, expiry and revocation take
// the same path, a failed re-authentication at the next keep-alive).
func TestLiveEventsEndWithTheLogin(t *testing.T) {
	la := startLiveApp(t, "", true, func(c *Config) { c.Live.KeepAlive = 200 * time.Millisecond })
	defer la.stop()
	s := la.createSession(t, la.recTok, "Ada Live")
	events := la.subscribe(t, "/api/v1/sessions/"+s.ID+"/events", la.recTok)
	assert.Equal(t, store.LiveWaiting, decodeState(t, events.next(t, 5*time.Second, sseState)).State)
	time.Sleep(500 * time.Millisecond) // keep-alives pass while the login holds
	for drained := false; !drained; {
		select {
		case ev, open := <-events.Events:
			require.True(t, open, "the stream stays open while the login holds")
			require.NotEqual(t, sseLoggedOut, ev.Event)
		default:
			drained = true
		}
	}
	_, err := la.st.DisableUser(t.Context(), la.rec.ID, time.Now())
	require.NoError(t, err)
	ev := events.next(t, 5*time.Second, sseLoggedOut)
	assert.Contains(t, ev.Data, "your login ended")
	select {
	case _, open := <-events.Events:
		assert.False(t, open, "the stream ends after it")
	case <-time.After(5 * time.Second):
		t.Fatal("the stream stayed open")
	}
}
