package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/live"
	"github.com/bonafide-dev/bonafide/store"
)

// liveApp is a real server on a loopback port whose life the test
// controls: stop (idempotent, also a cleanup) shuts it down the way
// `bonafide serve` does on SIGTERM, so that a test can check for leaked
// goroutines afterwards.
type liveApp struct {
	*testApp
	dir    string
	client *http.Client // its own transport: idle connections closed by stop
	stop   func()
}

// startLiveApp starts a server on dataDir (a new temporary folder when
// empty), with test users when addUsers is set.
func startLiveApp(t testing.TB, dataDir string, addUsers bool, mod func(*Config)) *liveApp {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := testConfig(t, dataDir)
	cfg.ShutdownTimeout = 5 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	app, base, stop := serveApp(t, cfg)
	tr := &http.Transport{}
	la := &liveApp{
		testApp: &testApp{app: app, base: base, files: app.srv.files, st: app.Store()},
		dir:     dataDir,
		client:  &http.Client{Transport: tr, Timeout: 2 * time.Minute, CheckRedirect: noRedirect.CheckRedirect},
	}
	var once sync.Once
	la.stop = func() {
		once.Do(func() {
			stop()
			tr.CloseIdleConnections()
		})
	}
	t.Cleanup(la.stop)
	if addUsers {
		la.admin, la.adminTok = la.addUser(t, "admin@example.com", store.RoleAdmin)
		la.rec, la.recTok = la.addUser(t, "recruiter@example.com", store.RoleRecruiter)
	}
	return la
}

// req sends a request with a bearer token (any kind) and returns the
// status, headers and body.
func (la *liveApp) req(t testing.TB, method, url, token, contentType, body string) (int, http.Header, string) {
	t.Helper()
	if strings.HasPrefix(url, "/") {
		url = la.base + url
	}
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	resp, err := la.client.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// createSession creates a live session through the API with token.
func (la *liveApp) createSession(t testing.TB, token, candidate string) liveSessionJSON {
	t.Helper()
	code, hdr, body := la.req(t, http.MethodPost, "/api/v1/sessions", token, "application/json",
		fmt.Sprintf(`{"candidate": %q, "title": "Live round"}`, candidate))
	require.Equal(t, http.StatusCreated, code, body)
	var s liveSessionJSON
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	require.Equal(t, "/api/v1/sessions/"+s.ID, hdr.Get("Location"))
	return s
}

// session reads a live session through the API.
func (la *liveApp) session(t testing.TB, id string) liveSessionJSON {
	t.Helper()
	code, _, body := la.req(t, http.MethodGet, "/api/v1/sessions/"+id, la.adminTok, "", "")
	require.Equal(t, http.StatusOK, code, body)
	var s liveSessionJSON
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	return s
}

// publishToEnd publishes o's files to session s with a pion client until
// they end (the publisher then hangs up), waits for the session to end and
// returns it; its recording must have become an interview.
func (la *liveApp) publishToEnd(t testing.TB, s liveSessionJSON, o whiptest.Options) liveSessionJSON {
	t.Helper()
	client, err := whiptest.PublishWith(context.Background(), la.whipAnswerer(s.WHIPURL, s.Token, nil), o)
	require.NoError(t, err)
	defer client.Close()
	select {
	case <-client.Finished():
	case <-time.After(60 * time.Second):
		t.Fatal("the publisher did not finish")
	}
	require.NoError(t, client.Close())
	end := la.waitEnded(t, s.ID, time.Minute)
	require.NotEmpty(t, end.InterviewID, end.Error)
	return end
}

// waitEnded polls until the session has ended and returns it.
func (la *liveApp) waitEnded(t testing.TB, id string, within time.Duration) liveSessionJSON {
	t.Helper()
	var s liveSessionJSON
	require.Eventually(t, func() bool {
		s = la.session(t, id)
		return s.State == store.LiveEnded
	}, within, 100*time.Millisecond, "live session %s did not end", id)
	return s
}

// whipAnswerer POSTs offers to a WHIP URL with a bearer token; the
// publication's Location is stored in *loc.
func (la *liveApp) whipAnswerer(whipURL, token string, loc *string) whiptest.Answerer {
	return func(offer string) (string, error) {
		r, err := http.NewRequest(http.MethodPost, whipURL, strings.NewReader(offer))
		if err != nil {
			return "", err
		}
		r.Header.Set("Content-Type", "application/sdp")
		r.Header.Set("Authorization", "Bearer "+token)
		resp, err := la.client.Do(r)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusCreated {
			return "", &whipStatusError{code: resp.StatusCode, body: string(b)}
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/sdp" {
			return "", fmt.Errorf("answer Content-Type %q", ct)
		}
		if loc != nil {
			*loc = resp.Header.Get("Location")
		}
		return string(b), nil
	}
}

type whipStatusError struct {
	code int
	body string
}

func (e *whipStatusError) Error() string { return fmt.Sprintf("WHIP status %d: %s", e.code, e.body) }

// sseEvent is one Server-Sent Event as received.
type sseEvent struct {
	Event string
	Data  string
}

// sseClient reads an event stream into Events until the stream ends or
// Close is called; Close waits for its goroutine.
type sseClient struct {
	Events chan sseEvent // closed when the stream ends
	cancel context.CancelFunc
	done   chan struct{}
}

func (la *liveApp) subscribe(t testing.TB, url, token string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, la.base+url, nil)
	require.NoError(t, err)
	r.Header.Set("Authorization", "Bearer "+token)
	stream := &http.Client{Transport: la.client.Transport} // no timeout: the stream lasts
	resp, err := stream.Do(r)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	c := &sseClient{Events: make(chan sseEvent, 256), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.Events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					select {
					case c.Events <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(c.Close)
	return c
}

func (c *sseClient) Close() {
	c.cancel()
	<-c.done
}

// next returns the next event of one of the kinds, skipping others.
func (c *sseClient) next(t testing.TB, within time.Duration, kinds ...string) sseEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-c.Events:
			require.True(t, ok, "the event stream ended before a %v event", kinds)
			for _, k := range kinds {
				if ev.Event == k {
					return ev
				}
			}
		case <-deadline:
			t.Fatalf("no %v event within %v", kinds, within)
		}
	}
}

func decodeScore(t testing.TB, ev sseEvent) live.Event {
	t.Helper()
	var e live.Event
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &e))
	return e
}

func decodeState(t testing.TB, ev sseEvent) liveStateEvent {
	t.Helper()
	var s liveStateEvent
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &s))
	return s
}

// waitInterview polls an interview until it has status want (closing
// every response body, unlike testApp.waitStatus, so that a goroutine
// check at the end of the test passes).
func (la *liveApp) waitInterview(t testing.TB, id string, want store.Status, within time.Duration) interviewJSON {
	t.Helper()
	var iv interviewJSON
	require.Eventually(t, func() bool {
		code, _, body := la.req(t, http.MethodGet, "/api/v1/interviews/"+id, la.adminTok, "", "")
		if code != http.StatusOK {
			return false
		}
		require.NoError(t, json.Unmarshal([]byte(body), &iv))
		return iv.Status == want
	}, within, 200*time.Millisecond, "interview %s never became %s", id, want)
	return iv
}

// silentPublisher connects a WebRTC publisher that offers a video track
// and never sends a frame. The caller closes it.
func silentPublisher(answer whiptest.Answerer) (*webrtc.PeerConnection, error) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "silent")
	if err == nil {
		_, err = pc.AddTrack(track)
	}
	if err == nil {
		err = publishOffer(pc, answer, "silent publisher")
	}
	if err != nil {
		return nil, errors.Join(err, pc.Close())
	}
	return pc, nil
}

// publishOffer offers pc's tracks (every ICE candidate in the offer, as
// WHIP wants), applies the answer and waits up to 15 s for the
// connection.
func publishOffer(pc *webrtc.PeerConnection, answer whiptest.Answerer, who string) error {
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	<-gathered
	ans, err := answer(pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		return err
	}
	select {
	case <-connected:
		return nil
	case <-time.After(15 * time.Second):
		return fmt.Errorf("%s: ICE did not connect", who)
	}
}

// waitRecorded waits until a running session has recorded video frames
// and audio packets.
func (la *liveApp) waitRecorded(t testing.TB, id string, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		s := la.session(t, id)
		var st liveStats
		if len(s.Stats) == 0 || json.Unmarshal(s.Stats, &st) != nil {
			return false
		}
		kinds := 0
		for _, tr := range st.Tracks {
			if tr.Frames > 0 {
				kinds++
			}
		}
		return kinds == 2
	}, within, 100*time.Millisecond, "session %s recorded no media", id)
}
