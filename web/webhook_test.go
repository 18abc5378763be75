package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/store"
)

// receiver is a webhook endpoint on loopback that fails its first
// `fail` requests with 503.
type receiver struct {
	mu     sync.Mutex
	fail   int
	calls  int
	bodies [][]byte
	sigs   []string
	events []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.bodies = append(r.bodies, body)
	r.sigs = append(r.sigs, req.Header.Get(HeaderSignature))
	r.events = append(r.events, req.Header.Get(HeaderEvent))
	w.WriteHeader(http.StatusNoContent)
}

// verify checks a Bonafide-Signature header the way a receiver would.
func verify(secret, header string, body []byte) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	sec, err := strconv.ParseInt(ts, 10, 64)
	return err == nil && hmac.Equal([]byte(sig), []byte(want)) && time.Since(time.Unix(sec, 0)) < time.Minute
}

func TestWebhookSignedAndRetried(t *testing.T) {
	rcv := &receiver{fail: 2}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	ta := startApp(t, func(c *Config) {
		c.Analyzer = &fakeAnalyzer{}
		c.WebhookAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	resp := ta.do(t, http.MethodPost, "/api/v1/webhooks", ta.adminTok, strings.NewReader(`{"url":"`+hook.URL+`/bonafide"}`),
		http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	wh := decode[webhookJSON](t, resp)
	require.True(t, strings.HasPrefix(wh.Secret, "whsec_"))

	resp = ta.upload(t, ta.recTok, shortClip(t), [2]string{"candidate", "Ada"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := decode[interviewJSON](t, resp).ID
	ta.waitStatus(t, id, store.StatusDone, 30*time.Second)

	require.Eventually(t, func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return len(rcv.bodies) == 1
	}, 30*time.Second, 50*time.Millisecond, "delivered after two failures")
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	assert.Equal(t, 3, rcv.calls, "two 503s, then success")
	assert.Equal(t, []string{jobs.EventInterviewCompleted}, rcv.events)
	assert.True(t, verify(wh.Secret, rcv.sigs[0], rcv.bodies[0]), "signature verifies")
	assert.False(t, verify("whsec_other", rcv.sigs[0], rcv.bodies[0]))
	var ev jobs.Event
	require.NoError(t, json.Unmarshal(rcv.bodies[0], &ev))
	var data jobs.InterviewEventData
	require.NoError(t, json.Unmarshal(ev.Data, &data))
	assert.Equal(t, id, data.ID)
	assert.Equal(t, "suspicious", data.Verdict)
	assert.Equal(t, "Ada", data.Candidate)

	// Listing hides secrets; deleting works once.
	resp = ta.do(t, http.MethodGet, "/api/v1/webhooks", ta.adminTok, nil, nil)
	assert.NotContains(t, readAll(t, resp), wh.Secret)
	path := "/api/v1/webhooks/" + strconv.FormatInt(wh.ID, 10)
	assert.Equal(t, http.StatusNoContent, ta.do(t, http.MethodDelete, path, ta.adminTok, nil, nil).StatusCode)
	assert.Equal(t, http.StatusNotFound, ta.do(t, http.MethodDelete, path, ta.adminTok, nil, nil).StatusCode)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestWebhookURLRefusedWithoutAllowList(t *testing.T) {
	rcv := &receiver{}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	for _, u := range []string{hook.URL, "http://localhost:1/x", "http://[::1]/x", "ftp://example.com/x", "http://user:pw@example.com/", "not a url"} {
		resp := ta.do(t, http.MethodPost, "/api/v1/webhooks", ta.adminTok, strings.NewReader(`{"url":"`+u+`"}`),
			http.Header{"Content-Type": {"application/json"}})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, u)
		assert.Contains(t, decode[apiError](t, resp).Message, "refused", u)
	}
	// A webhook stored earlier (or whose name now resolves inside) is
	// refused at delivery time too, before any connection is made.
	s := NewWebhookSender(&URLGuard{}, time.Second, "test")
	err := s.Deliver(context.Background(), store.Webhook{URL: hook.URL, Secret: "s"}, "evt_1", "x", []byte("{}"))
	require.ErrorIs(t, err, ErrURLRefused)
	require.ErrorIs(t, err, jobs.ErrPermanent)
	rcv.mu.Lock()
	assert.Zero(t, rcv.calls, "no request reached the loopback receiver")
	rcv.mu.Unlock()
}

func TestURLGuardAddresses(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}
	cases := []struct {
		addr string
		ok   bool
	}{
		{"93.184.215.14", true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"10.20.3.4", true}, // allowed range
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"fc00::1", false},
		{"fe80::1", false},
		{"::ffff:127.0.0.1", false},    // IPv4-mapped loopback
		{"::ffff:10.20.0.9", true},     // mapped, allowed
		{"64:ff9b::a00:1", false},      // NAT64 of 10.0.0.1
		{"64:ff9b::5db8:d70e", false},  // NAT64 even of a public IPv4
		{"::a00:1", false},             // IPv4-compatible ::10.0.0.1
		{"::7f00:1", false},            // IPv4-compatible ::127.0.0.1
		{"::5db8:d70e", false},         // IPv4-compatible, public IPv4: still refused
		{"::ffff:0:a00:1", false},      // IPv4-translated 10.0.0.1
		{"2002:a00:1::1", false},       // 6to4 of 10.0.0.1
		{"2002:7f00:1::", false},       // 6to4 of 127.0.0.1
		{"2002:5db8:d70e::1", false},   // 6to4 of a public IPv4
		{"2001:0:4136:e378::1", false}, // Teredo
		{"2001::f5ff:fffe", false},     // Teredo, client 10.0.0.1 (inverted)
		{"fec0::1", false},             // site-local
		{"feff:ffff::1", false},        // site-local, top of fec0::/10
		{"2001:4860:4860::8888", true}, // public, outside Teredo's 2001::/32
		{"2003::1", true},              // public, just outside 6to4's /16
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"198.18.0.1", false},
	}
	g := &URLGuard{Allow: allow}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			err := g.CheckAddr(netip.MustParseAddr(tc.addr))
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrURLRefused)
			}
			// The dial-time hook agrees.
			cerr := g.Control("tcp", netip.AddrPortFrom(netip.MustParseAddr(tc.addr), 443).String(), nil)
			assert.Equal(t, err == nil, cerr == nil)
		})
	}
}

func TestSignMatchesReceiverCheck(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	h := Sign("whsec_x", time.Now(), body)
	assert.True(t, verify("whsec_x", h, body))
	assert.False(t, verify("whsec_x", h, []byte(`{"id":"evt_2"}`)), "a changed body fails")
	old := Sign("whsec_x", time.Now().Add(-time.Hour), body)
	assert.False(t, verify("whsec_x", old, body), "a replayed old delivery fails the receiver's time check")
}

var _ = errors.Is
