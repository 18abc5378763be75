package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/store"
)

// Webhook request headers.
const (
	HeaderSignature = "Bonafide-Signature" // "t=UNIX,v1=HEX(HMAC-SHA256(secret, t + "." + body))"
	HeaderEvent     = "Bonafide-Event"
	HeaderDelivery  = "Bonafide-Delivery"
)

// WebhookSender POSTs signed events (jobs.Deliverer). Its HTTP client
// dials only addresses the guard allows, uses no proxy and follows no
// redirects.
type WebhookSender struct {
	guard   *URLGuard
	client  *http.Client
	version string
}

// NewWebhookSender builds a sender with a per-request timeout.
func NewWebhookSender(guard *URLGuard, timeout time.Duration, version string) *WebhookSender {
	dialer := &net.Dialer{Timeout: timeout, Control: guard.Control}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would hide the real destination from the guard
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	return &WebhookSender{
		guard:   guard,
		version: version,
		client: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Sign returns the Bonafide-Signature header value for body at time t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver implements jobs.Deliverer. 2xx is success; 4xx other than 408,
// 425 and 429, a refused URL and redirects are permanent failures; the
// rest is retried by the queue.
func (w *WebhookSender) Deliver(ctx context.Context, hook store.Webhook, eventID, eventType string, body []byte) error {
	if _, err := w.guard.CheckURL(ctx, hook.URL); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", jobs.ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bonafide-webhook/"+w.version)
	req.Header.Set(HeaderEvent, eventType)
	req.Header.Set(HeaderDelivery, eventID)
	req.Header.Set(HeaderSignature, Sign(hook.Secret, time.Now(), body))
	resp, err := w.client.Do(req)
	if err != nil {
		if isRefused(err) {
			return fmt.Errorf("%w: %v", ErrURLRefused, err)
		}
		return fmt.Errorf("POST %s: %w", hook.URL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // drain for connection reuse; the content is unused
	if err := resp.Body.Close(); err != nil {
		return err
	}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout || c == http.StatusTooEarly || c == http.StatusTooManyRequests || c >= 500:
		return fmt.Errorf("POST %s: status %d", hook.URL, c)
	default:
		return fmt.Errorf("%w: POST %s: status %d", jobs.ErrPermanent, hook.URL, c)
	}
}
