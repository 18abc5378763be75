package jobs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/bonafide-dev/bonafide/store"
)

// Event types sent to webhooks.
const (
	EventInterviewCompleted = "interview.completed"
	EventInterviewFailed    = "interview.failed"
)

// Event is the JSON body POSTed to every webhook.
type Event struct {
	ID        string          `json:"id"`   // unique per event; receivers de-duplicate on it
	Type      string          `json:"type"` // e.g. "interview.completed"
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// InterviewEventData is Event.Data of the interview events.
type InterviewEventData struct {
	ID           string   `json:"id"`
	Status       string   `json:"status"`
	Candidate    string   `json:"candidate,omitempty"`
	Title        string   `json:"title,omitempty"`
	Verdict      string   `json:"verdict,omitempty"`
	Authenticity *int     `json:"authenticity,omitempty"`
	Probability  *float64 `json:"probability_manipulated,omitempty"`
	Error        string   `json:"error,omitempty"`
	// Report is the API path of the full report.
	Report string `json:"report,omitempty"`
}

// NewEvent builds an event with a fresh ID.
func NewEvent(typ string, data any) (Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return Event{}, err
	}
	var id [12]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return Event{ID: "evt_" + hex.EncodeToString(id[:]), Type: typ, CreatedAt: time.Now().UTC(), Data: b}, nil
}

func (q *Queue) publishInterview(ctx context.Context, typ, id string) error {
	iv, err := q.cfg.Store.Interview(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	d := InterviewEventData{ID: iv.ID, Status: string(iv.Status), Candidate: iv.Candidate, Title: iv.Title,
		Verdict: iv.Verdict, Authenticity: iv.Authenticity, Probability: iv.Probability, Error: iv.Error}
	if iv.Status == store.StatusDone {
		d.Report = "/api/v1/interviews/" + iv.ID + "/report"
	}
	ev, err := NewEvent(typ, d)
	if err != nil {
		return err
	}
	// The ID is the outcome's own, not a fresh one: an event published
	// again (after a crash between storing the outcome and queuing the
	// deliveries) carries the same Bonafide-Delivery, so receivers that
	// de-duplicate on it see it once.
	var finished int64
	if iv.FinishedAt != nil {
		finished = iv.FinishedAt.UnixNano()
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", iv.ID, typ, finished)))
	ev.ID = "evt_" + hex.EncodeToString(sum[:12])
	return q.Publish(ctx, ev)
}

// WebhookArgs is the job that delivers one event to one webhook.
type WebhookArgs struct {
	WebhookID int64  `json:"webhook_id"`
	Event     Event  `json:"event"`
	Body      []byte `json:"body"` // the exact bytes signed and sent
}

// Kind implements river.JobArgs.
func (WebhookArgs) Kind() string { return "bonafide.webhook" }

// Publish queues a delivery of ev to every registered webhook. Deliveries
// are jobs: they survive restarts and are retried with backoff.
func (q *Queue) Publish(ctx context.Context, ev Event) error {
	if q.cfg.Deliverer == nil {
		return nil
	}
	hooks, err := q.cfg.Store.Webhooks(ctx)
	if err != nil {
		return err
	}
	if len(hooks) == 0 {
		return nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hooks {
		_, err := q.client.Insert(ctx, WebhookArgs{WebhookID: h.ID, Event: ev, Body: body}, &river.InsertOpts{
			Queue: QueueWebhook, MaxAttempts: q.cfg.WebhookAttempts,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("queue webhook %d: %w", h.ID, err))
		}
	}
	return errors.Join(errs...)
}

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	q *Queue
}

// NextRetry implements river.Worker: the configured backoff.
func (w *webhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	return time.Now().Add(w.q.cfg.WebhookBackoff(job.Attempt))
}

// Timeout implements river.Worker: a delivery is one short POST.
func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return time.Minute }

// Work delivers one event to one webhook.
func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	q := w.q
	hook, err := q.cfg.Store.Webhook(ctx, job.Args.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err) // unsubscribed meanwhile
	}
	if err != nil {
		return err
	}
	log := q.log.With("webhook", hook.ID, "event", job.Args.Event.ID, "type", job.Args.Event.Type, "attempt", job.Attempt)
	err = q.cfg.Deliverer.Deliver(ctx, hook, job.Args.Event.ID, job.Args.Event.Type, job.Args.Body)
	switch {
	case err == nil:
		q.metrics.webhooks.WithLabelValues("delivered").Inc()
		log.Info("webhook delivered")
		return nil
	case errors.Is(err, ErrPermanent):
		q.metrics.webhooks.WithLabelValues("refused").Inc()
		log.Warn("webhook delivery abandoned", "err", err)
		return river.JobCancel(err)
	default:
		q.metrics.webhooks.WithLabelValues("failed").Inc()
		log.Warn("webhook delivery failed; will retry", "err", err)
		return err
	}
}
