package web

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/media/whip"
	"github.com/bonafide-dev/bonafide/store"
)

// TestLiveMaxDuration: a call that reaches the live maximum duration
// (--live-max-duration) ends like a hang-up while the publisher still
// sends: the reason says why, and its recording becomes a report.
func TestLiveMaxDuration(t *testing.T) {
	const limit = 6 * time.Second
	la := startLiveApp(t, "", true, func(c *Config) {
		shortLive(c)
		c.Live.MaxDuration = limit
	})
	ivf, ogg := liveClip(t, 4)
	s := la.createSession(t, la.recTok, "Endless")
	began := time.Now()
	p, err := whiptest.Publish(context.Background(), la.whipAnswerer(s.WHIPURL, s.Token, nil), ivf, ogg, true)
	require.NoError(t, err)
	defer p.Close()
	ended := la.waitEnded(t, s.ID, limit+30*time.Second)
	took := time.Since(began)
	t.Logf("ended %.1f s after the offer (%s)", took.Seconds(), ended.EndReason)
	assert.Equal(t, "the call reached its maximum length of 6s", ended.EndReason)
	assert.GreaterOrEqual(t, took, limit)
	require.NotEmpty(t, ended.InterviewID, ended.Error)
	iv := la.waitInterview(t, ended.InterviewID, store.StatusDone, 3*time.Minute)
	assert.Greater(t, iv.Duration, 3.0, "the recording keeps the call up to the limit")
	assert.Less(t, iv.Duration, limit.Seconds()+1, "and stops there")
}

// TestLiveMaxDurationConfig: the default cap is whip's (4 h); a cap under
// a second is refused.
func TestLiveMaxDurationConfig(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = t.TempDir()
	assert.Equal(t, 4*time.Hour, c.Live.MaxDuration)
	assert.Equal(t, whip.DefaultMaxDuration, c.Live.MaxDuration)
	require.NoError(t, c.Validate())
	for _, d := range []time.Duration{0, -time.Second, 500 * time.Millisecond} {
		c.Live.MaxDuration = d
		err := c.Validate()
		require.ErrorIs(t, err, ErrConfig, "%v", d)
		assert.Contains(t, err.Error(), "maximum call length")
	}
}

// TestLiveMaxWaiting: a user may keep --live-max-waiting sessions waiting
// for a publisher; another is refused with 429 and a message saying what
// to do, and ending one frees its place. Other users are not affected.
func TestLiveMaxWaiting(t *testing.T) {
	la := startLiveApp(t, "", true, func(c *Config) { c.Live.MaxWaiting = 2 })
	first := la.createSession(t, la.recTok, "One")
	la.createSession(t, la.recTok, "Two")
	code, _, body := la.req(t, http.MethodPost, "/api/v1/sessions", la.recTok, "application/json", `{"candidate": "Three"}`)
	require.Equal(t, http.StatusTooManyRequests, code, body)
	var e apiError
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	assert.Equal(t, "too_many", e.Error)
	assert.Equal(t, "you already have 2 live sessions waiting for a publisher, the limit; start or end one of them first", e.Message)
	la.createSession(t, la.adminTok, "Another user's")

	code, _, body = la.req(t, http.MethodDelete, "/api/v1/sessions/"+first.ID, la.recTok, "", "")
	require.Equal(t, http.StatusAccepted, code, body)
	la.waitEnded(t, first.ID, 10*time.Second)
	la.createSession(t, la.recTok, "Three")

	c := DefaultConfig()
	c.DataDir = t.TempDir()
	assert.Equal(t, 20, c.Live.MaxWaiting)
	c.Live.MaxWaiting = 0
	require.ErrorIs(t, c.Validate(), ErrConfig)
}
