package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLiveHub: publishing never blocks; a slow subscriber loses its oldest
// events (counted), keeps the newest; a late subscriber starts with the
// last state and score; close ends every subscription after what is queued.
func TestLiveHub(t *testing.T) {
	h := newLiveHub(sseState, sseScore)
	fast, ok := h.subscribe()
	require.True(t, ok)
	slow, ok := h.subscribe()
	require.True(t, ok)

	h.publish(sseState, []byte(`"live"`))
	got := <-fast.C
	assert.Equal(t, liveMessage{Event: sseState, Data: []byte(`"live"`)}, got)
	// Nobody reads slow: it fills up, then loses the oldest events.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range liveSubBuffer + 10 {
			h.publish(sseScore, []byte{byte('a' + i%26)})
			<-fast.C // fast keeps up
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publish blocked on a slow subscriber")
	}
	assert.Equal(t, int64(0), fast.Dropped())
	assert.Equal(t, int64(11), slow.Dropped(), "1 state + 41 scores into 32 places")
	assert.Equal(t, int64(11), h.Dropped())
	var last liveMessage
	for range liveSubBuffer {
		last = <-slow.C
	}
	assert.Equal(t, []byte{byte('a' + (liveSubBuffer+9)%26)}, last.Data, "the newest event is kept")

	h.publish(sseAlert, []byte(`{"old":true}`)) // not replayed
	late, ok := h.subscribe()
	require.True(t, ok)
	h.publish(sseAlert, []byte(`{}`))
	assert.Equal(t, sseState, (<-late.C).Event, "state first")
	assert.Equal(t, sseScore, (<-late.C).Event, "then the last score")
	assert.Equal(t, liveMessage{Event: sseAlert, Data: []byte(`{}`)}, <-late.C, "then new events only")
	for range 2 {
		<-slow.C // the two alerts
	}
	<-fast.C
	<-fast.C
	assert.Equal(t, 3, h.subscribers())

	h.unsubscribe(fast)
	h.unsubscribe(fast) // idempotent
	h.publish(sseScore, []byte("x"))
	h.close()
	h.close()
	_, open := <-fast.C
	assert.False(t, open)
	assert.Equal(t, "x", string((<-late.C).Data), "queued events survive close")
	_, open = <-late.C
	assert.False(t, open)
	_, ok = h.subscribe()
	assert.False(t, ok, "a closed hub takes no subscriber")
	h.publish(sseScore, []byte("ignored"))
}

// TestLiveTokens: a session's token is stable for one key (the owner sees
// it again), differs between sessions and keys, and the key file is made
// once with owner-only permissions.
func TestLiveTokens(t *testing.T) {
	dir := t.TempDir()
	a, err := loadLiveTokens(dir)
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, liveKeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	again, err := loadLiveTokens(dir)
	require.NoError(t, err)

	tok := a.token("session1")
	assert.True(t, strings.HasPrefix(tok, liveTokenPrefix))
	assert.Equal(t, tok, again.token("session1"), "stable across restarts")
	assert.NotEqual(t, tok, a.token("session2"))
	other, err := loadLiveTokens(t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, tok, other.token("session1"), "another key, another token")

	hash := HashToken(tok)
	assert.True(t, liveTokenMatches(tok, hash))
	for _, bad := range []string{"", a.token("session2"), tok + "x", strings.TrimPrefix(tok, liveTokenPrefix)} {
		assert.False(t, liveTokenMatches(bad, hash), bad)
	}
	assert.False(t, liveTokenMatches(tok, nil))

	require.NoError(t, os.WriteFile(filepath.Join(dir, liveKeyFile), []byte("short"), 0o600))
	_, err = loadLiveTokens(dir)
	assert.Error(t, err, "a truncated key is refused, not used")
}

// TestLiveConfigValidate: the defaults are valid; each bad value is named.
func TestLiveConfigValidate(t *testing.T) {
	base := DefaultConfig()
	base.DataDir = t.TempDir()
	require.NoError(t, base.Validate())
	for _, tc := range []struct {
		name string
		mod  func(*LiveConfig)
		want string
	}{
		{"public URL with a path", func(c *LiveConfig) { c.PublicURL = "https://x.example/bonafide" }, "public URL"},
		{"public URL not http", func(c *LiveConfig) { c.PublicURL = "ftp://x.example" }, "public URL"},
		{"half a port range", func(c *LiveConfig) { c.UDPPortMin = 50000 }, "port range"},
		{"reversed ports", func(c *LiveConfig) { c.UDPPortMin, c.UDPPortMax = 50010, 50000 }, "port range"},
		{"bad public IP", func(c *LiveConfig) { c.PublicIPs = []string{"example.com"} }, "not an IP"},
		{"zoned public IP", func(c *LiveConfig) { c.PublicIPs = []string{"fe80::1%eth0"} }, "not an IP"},
		{"no sessions", func(c *LiveConfig) { c.MaxSessions = 0 }, "sessions at once"},
		{"fps", func(c *LiveConfig) { c.FPS = 0.5 }, "fps"},
		{"segment", func(c *LiveConfig) { c.Segment = time.Second }, "segment"},
		{"alert score", func(c *LiveConfig) { c.AlertScore = 1.5 }, "alert"},
		{"timeouts", func(c *LiveConfig) { c.IdleTimeout = 0 }, "timeouts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mod(&c.Live)
			err := c.Validate()
			require.ErrorIs(t, err, ErrConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	ok := base
	ok.Live.PublicURL, ok.Live.UDPPortMin, ok.Live.UDPPortMax, ok.Live.PublicIPs = "https://x.example:8443/", 50000, 50100, []string{"203.0.113.7"}
	assert.NoError(t, ok.Validate())
}

// Only the first request to end a run reports it (the audit log records
// that one); its reason is the one the run reads.
func TestLiveRunEndOnce(t *testing.T) {
	r := &liveRun{endc: make(chan string, 1)}
	assert.True(t, r.requestEnd("ended by a@example.com"))
	assert.False(t, r.requestEnd("ended by b@example.com"))
	assert.False(t, r.requestEnd("the server shut down"))
	assert.Equal(t, "ended by a@example.com", <-r.endc)
	select {
	case reason := <-r.endc:
		t.Fatalf("a second reason was queued: %q", reason)
	default:
	}
}
