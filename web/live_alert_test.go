package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/jobs"
)

// An alert (a signal held at or over its alert score) reaches the
// session's event stream and, signed, the webhooks as session.alert; the
// end of the call sends session.ended with the interview. The alert
// threshold is set so low that any measured signal raises one.
func TestLiveAlertsReachPageAndWebhooks(t *testing.T) {
	rcv := &receiver{}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	la := startLiveApp(t, "", true, func(c *Config) {
		shortLive(c)
		c.Live.AlertScore, c.Live.AlertConfidence, c.Live.AlertAfter = 0.001, 0.001, 2*time.Second
		c.WebhookAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	defer la.stop()
	code, _, body := la.req(t, http.MethodPost, la.base+"/api/v1/webhooks", la.adminTok, "application/json", `{"url":"`+hook.URL+`/hook"}`)
	require.Equal(t, http.StatusCreated, code, body)
	var wh webhookJSON
	require.NoError(t, json.Unmarshal([]byte(body), &wh))

	ivf, ogg := liveClip(t, 9)
	s := la.createSession(t, la.recTok, "Alerted")
	events := la.subscribe(t, "/api/v1/sessions/"+s.ID+"/events", la.recTok)
	defer events.Close()
	var loc string
	client, err := whiptest.Publish(context.Background(), la.whipAnswerer(s.WHIPURL, s.Token, &loc), ivf, ogg, false)
	require.NoError(t, err)
	defer client.Close()

	ev := events.next(t, 40*time.Second, sseAlert)
	var page struct {
		Alert struct {
			Signal  string  `json:"signal"`
			Message string  `json:"message"`
			Score   float64 `json:"score"`
		} `json:"alert"`
	}
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &page), ev.Data)
	assert.NotEmpty(t, page.Alert.Signal)
	assert.NotEmpty(t, page.Alert.Message)

	select {
	case <-client.Finished():
	case <-time.After(30 * time.Second):
		t.Fatal("the publisher did not finish")
	}
	code, _, body = la.req(t, http.MethodDelete, loc, s.Token, "", "")
	require.Equal(t, http.StatusOK, code, body)
	ended := la.waitEnded(t, s.ID, 30*time.Second)
	require.NotEmpty(t, ended.InterviewID)

	require.Eventually(t, func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return slices.Contains(rcv.events, EventSessionAlert) && slices.Contains(rcv.events, EventSessionEnded)
	}, 30*time.Second, 100*time.Millisecond, "session.alert and session.ended delivered")
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for i, typ := range rcv.events {
		if typ != EventSessionAlert && typ != EventSessionEnded {
			continue
		}
		assert.True(t, verify(wh.Secret, rcv.sigs[i], rcv.bodies[i]), "%s is signed", typ)
		var e jobs.Event
		require.NoError(t, json.Unmarshal(rcv.bodies[i], &e))
		var d sessionEventData
		require.NoError(t, json.Unmarshal(e.Data, &d))
		assert.Equal(t, s.ID, d.ID)
		assert.Equal(t, "Alerted", d.Candidate)
		if typ == EventSessionAlert {
			require.NotNil(t, d.Alert)
			assert.NotEmpty(t, d.Alert.Signal)
		} else {
			assert.Equal(t, ended.InterviewID, d.InterviewID)
		}
	}
}
