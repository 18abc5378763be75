package web

import (
	"context"
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
