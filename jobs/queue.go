// Package jobs runs bonafide's background work on River (riverqueue/river)
// with its SQLite driver: analyses of stored recordings and webhook
// deliveries. Jobs live in the data folder's queue database, so they survive
// restarts; failed attempts are retried with backoff; analyses run at most
// Config.Workers at a time and record their progress (0–1) on the interview.
//
// The Queue is the only thing the web service uses; swapping SQLite for
// Postgres means opening another River driver in New (riverdatabasesql or
// riverpgxv5) and dropping the single-node recovery step (recoverOrphans),
// which River's own job rescuer replaces on a shared database.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

// River queue names.
const (
	QueueAnalysis = "analysis"
	QueueWebhook  = "webhook"
)

// Analyzer analyses one stored recording, or the region of its picture
// (the whole picture when region is the zero Region). It writes its
// evidence files into evidenceDir (which exists and is empty) and calls
// progress with the fraction done (0–1) from any goroutine. Errors
// wrapping media.ErrUnusableInput or media.ErrBadRegion mean the recording
// can never be analysed so.
type Analyzer interface {
	Analyze(ctx context.Context, mediaPath, evidenceDir string, region media.Region, progress func(float64)) (*report.Report, error)
}

// Deliverer sends one webhook event. Errors wrapping ErrPermanent are not
// retried; any other error is.
type Deliverer interface {
	Deliver(ctx context.Context, hook store.Webhook, eventID, eventType string, body []byte) error
}

// Store is what the jobs need from persistence.
type Store interface {
	store.Interviews
	store.Webhooks
}

// Config configures a Queue. Zero values take the defaults below.
type Config struct {
	Files    store.Files // the data folder (queue.db, media, evidence)
	Store    Store
	Analyzer Analyzer
	// Deliverer sends webhooks; nil disables webhook deliveries.
	Deliverer Deliverer
	Logger    *slog.Logger
	// Registerer receives the queue's Prometheus metrics; nil: none.
	Registerer prometheus.Registerer

	Workers         int           // analyses at once (default 1)
	MaxAttempts     int           // analysis attempts before giving up (default 3)
	JobTimeout      time.Duration // longest single analysis (default 4 h)
	WebhookAttempts int           // delivery attempts (default 6)
	// RetryBackoff is the wait before analysis attempt n+1 after attempt n
	// failed (default 30 s × 4^(n-1)); WebhookBackoff likewise for
	// deliveries (default 10 s × 3^(n-1), at most 1 h).
	RetryBackoff   func(attempt int) time.Duration
	WebhookBackoff func(attempt int) time.Duration
	// ProgressEvery is how often a running analysis writes its progress
	// (default 500 ms).
	ProgressEvery time.Duration
	// StopGrace is how long Close lets running jobs finish before it
	// cancels them; cancelled analyses are retried after a restart
	// (default 10 s).
	StopGrace time.Duration
	// FinishedJobRetention caps how long finished jobs are kept (River
	// keeps completed and cancelled ones 24 h, discarded ones 7 days): a
	// webhook job carries its event, with the candidate's name and the
	// verdict, so a data retention policy shorter than that caps it too.
	// 0 keeps River's periods.
	FinishedJobRetention time.Duration
}

// riverRetention is River's retention period def capped at limit (0: no
// cap).
func riverRetention(def, limit time.Duration) time.Duration {
	if limit > 0 && limit < def {
		return limit
	}
	return def
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 4 * time.Hour
	}
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = 6
	}
	if c.RetryBackoff == nil {
		c.RetryBackoff = func(n int) time.Duration { return 30 * time.Second << (2 * min(max(n-1, 0), 8)) }
	}
	if c.WebhookBackoff == nil {
		c.WebhookBackoff = func(n int) time.Duration {
			d := 10 * time.Second
			for range min(max(n-1, 0), 10) {
				d *= 3
			}
			return min(d, time.Hour)
		}
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 500 * time.Millisecond
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 10 * time.Second
	}
}

// Queue owns the River client, its database and the data folder's lock.
// New opens it; Start begins working; Close stops the workers and closes
// the database (idempotent, waits for every job goroutine).
type Queue struct {
	cfg     Config
	log     *slog.Logger
	db      *sql.DB
	lock    *os.File
	client  *river.Client[*sql.Tx]
	metrics *metrics

	mu        sync.Mutex
	started   bool
	closed    bool
	closeOnce sync.Once
	closeErr  error
}

// New opens the queue database in cfg.Files, locks the data folder against
// a second `bonafide serve` (ErrLocked), migrates River's tables and builds
// the client. Nothing runs until Start.
func New(ctx context.Context, cfg Config) (*Queue, error) {
	cfg.defaults()
	if cfg.Store == nil || cfg.Analyzer == nil {
		return nil, errors.New("jobs: Config.Store and Config.Analyzer are required")
	}
	q := &Queue{cfg: cfg, log: cfg.Logger.With("component", "jobs")}
	lock, err := lockFile(filepath.Join(cfg.Files.Root, "queue.lock"))
	if err != nil {
		return nil, err
	}
	q.lock = lock
	db, err := store.OpenSQLiteDB(cfg.Files.QueuePath())
	if err != nil {
		return nil, errors.Join(err, q.unlock())
	}
	// River's SQLite driver wants a single connection: SQLite allows one
	// writer at a time, and River writes from several goroutines.
	db.SetMaxOpenConns(1)
	q.db = db
	if err := q.init(ctx); err != nil {
		return nil, errors.Join(err, db.Close(), q.unlock())
	}
	return q, nil
}

func (q *Queue) init(ctx context.Context) error {
	driver := riversqlite.New(q.db)
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: q.log})
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate queue database: %w", err)
	}
	if q.metrics, err = newMetrics(q.cfg.Registerer); err != nil {
		return err
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &analyzeWorker{q: q}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(workers, &webhookWorker{q: q}); err != nil {
		return err
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger: q.log,
		Queues: map[string]river.QueueConfig{
			QueueAnalysis: {MaxWorkers: q.cfg.Workers},
			QueueWebhook:  {MaxWorkers: 2},
		},
		Workers:      workers,
		JobTimeout:   q.cfg.JobTimeout,
		ErrorHandler: &errorHandler{q: q},
		// Jobs left running by a crash are recovered at start-up
		// (recoverOrphans); River's periodic rescuer is the backstop.
		RescueStuckJobsAfter:        q.cfg.JobTimeout + time.Hour,
		FetchPollInterval:           500 * time.Millisecond,
		CompletedJobRetentionPeriod: riverRetention(24*time.Hour, q.cfg.FinishedJobRetention),
		CancelledJobRetentionPeriod: riverRetention(24*time.Hour, q.cfg.FinishedJobRetention),
		DiscardedJobRetentionPeriod: riverRetention(7*24*time.Hour, q.cfg.FinishedJobRetention),
	})
	if err != nil {
		return err
	}
	q.client = client
	return nil
}

// lockFile takes an exclusive, non-blocking flock; the kernel releases it
// when the process dies, however it dies.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		cerr := f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.Join(fmt.Errorf("%s: %w", path, ErrLocked), cerr)
		}
		return nil, errors.Join(err, cerr)
	}
	return f, nil
}

func (q *Queue) unlock() error {
	if q.lock == nil {
		return nil
	}
	err := q.lock.Close() // closing the descriptor releases the flock
	q.lock = nil
	return err
}

// Start recovers jobs interrupted by a crash, starts the workers, and makes
// sure every unfinished interview has a job (an interview stored just before
// a crash, before its job was inserted, gets one now).
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if q.started {
		return nil
	}
	n, err := q.recoverOrphans(ctx)
	if err != nil {
		return fmt.Errorf("recover interrupted jobs: %w", err)
	}
	if n > 0 {
		q.log.Info("resuming jobs interrupted by a restart", "jobs", n)
	}
	// The client's own goroutines outlive ctx (a request context, say);
	// Close stops them.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	q.started = true
	ids, err := q.cfg.Store.Unfinished(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := q.enqueueAnalysis(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// recoverOrphans makes jobs that a killed process left "running" available
// again. It is safe only because New holds the data folder's exclusive
// lock: no other process can be working them. The statement mirrors
// River's own rescuer (riversqlite JobRescue) without its time horizon.
func (q *Queue) recoverOrphans(ctx context.Context) (int64, error) {
	msg, err := json.Marshal(map[string]any{
		"at":      time.Now().UTC().Format(time.RFC3339Nano),
		"attempt": 0,
		"error":   "interrupted: the server stopped while the job was running",
	})
	if err != nil {
		return 0, err
	}
	res, err := q.db.ExecContext(ctx, `UPDATE river_job SET
		state = 'available',
		scheduled_at = datetime('now', 'subsec'),
		errors = jsonb(json_insert(json(coalesce(errors, jsonb('[]'))), '$[#]', json(?)))
		WHERE state = 'running'`, string(msg))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// AnalyzeArgs is the job that analyses one interview.
type AnalyzeArgs struct {
	InterviewID string `json:"interview_id" river:"unique"`
	// Run is the interview's analysis run (store.Interview.Run) the job is
	// for: analysing it again is a new job, even while the job that
	// finished the previous run is not yet marked completed, and a job of
	// an older run does nothing.
	Run int `json:"run,omitempty" river:"unique"`
}

// Kind implements river.JobArgs.
func (AnalyzeArgs) Kind() string { return "bonafide.analyze" }

// EnqueueAnalysis queues the analysis of a stored interview (its row and
// media file must exist). Queuing an interview that already has a pending
// or running job does nothing.
func (q *Queue) EnqueueAnalysis(ctx context.Context, interviewID string) error {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return q.enqueueAnalysis(ctx, interviewID)
}

func (q *Queue) enqueueAnalysis(ctx context.Context, id string) error {
	iv, err := q.cfg.Store.Interview(ctx, id)
	if err != nil {
		return err
	}
	_, err = q.client.Insert(ctx, AnalyzeArgs{InterviewID: id, Run: iv.Run}, &river.InsertOpts{
		Queue:       QueueAnalysis,
		MaxAttempts: q.cfg.MaxAttempts,
		// One live job per interview and run: re-queuing at start-up is a
		// no-op while a job is pending, running or waiting for a retry.
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	})
	return err
}

// Ping checks the queue database.
func (q *Queue) Ping(ctx context.Context) error {
	q.mu.Lock()
	started, closed := q.started, q.closed
	q.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case !started:
		return ErrNotStarted
	}
	return q.db.PingContext(ctx)
}

// Close stops the workers, letting running jobs finish for StopGrace and
// then cancelling them (an interrupted analysis goes back to the queue and
// resumes after a restart), closes the database and releases the lock. It
// is idempotent. When a job ignores its cancellation for another
// StopGrace, Close returns an error and keeps the database open and the
// data folder locked (until the process exits): another server must not
// start the same job while it still runs here.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.mu.Lock()
		q.closed = true
		started := q.started
		q.mu.Unlock()
		var errs []error
		if started {
			soft, cancel := context.WithTimeout(context.Background(), q.cfg.StopGrace)
			err := q.client.Stop(soft)
			cancel()
			if err != nil {
				q.log.Warn("jobs still running at shutdown: cancelling them", "err", err)
				hard, cancel := context.WithTimeout(context.Background(), q.cfg.StopGrace)
				err := q.client.StopAndCancel(hard)
				cancel()
				if err != nil {
					q.log.Error("jobs ignore their cancellation: the data folder stays locked until the process exits", "err", err)
					q.closeErr = errors.Join(ErrJobsRunning, err)
					return
				}
			}
		}
		errs = append(errs, q.db.Close(), q.unlock())
		q.closeErr = errors.Join(errs...)
	})
	return q.closeErr
}
