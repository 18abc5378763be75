package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/store"
)

// App is the whole service: the store, the job queue, the webhook sender
// and the HTTP server, built here from Config and closed in reverse order.
//
// Life cycle: New → Serve (or Start + Handler for an own server) → Close.
type App struct {
	cfg   Config
	log   *slog.Logger
	files store.Files
	store *store.SQLite
	queue *jobs.Queue
	srv   *server
	http  *http.Server

	mu      sync.Mutex
	started bool
	stop    chan struct{} // closed by Close: stops the janitor
	// stopped is cancelled by Close too: it cancels a retention check.
	stopped    context.Context
	cancelStop context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
}

// New builds every component: it creates the data folder, opens the
// database (running its migrations), opens the job queue (locking the data
// folder against a second server) and prepares the HTTP server. Nothing
// runs until Start or Serve.
func New(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Absolute, so that the server's paths in error messages are found
	// and replaced before users see them (a relative "data" would also
	// replace the word in ffmpeg's "Invalid data found").
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	cfg.DataDir = dir
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Analysis.Logger == nil {
		cfg.Analysis.Logger = cfg.Logger
	}
	a := &App{cfg: cfg, log: cfg.Logger, files: store.Files{Root: cfg.DataDir}, stop: make(chan struct{})}
	a.stopped, a.cancelStop = context.WithCancel(context.Background())
	if err := a.files.Init(); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	st, err := store.OpenSQLite(ctx, a.files.DBPath(), a.log.With("component", "store"))
	if err != nil {
		return nil, err
	}
	a.store = st
	metrics, err := newHTTPMetrics(st)
	if err != nil {
		return nil, errors.Join(err, st.Close())
	}
	guard := &URLGuard{Allow: cfg.WebhookAllow}
	analyzer := cfg.Analyzer
	if analyzer == nil {
		analyzer = jobs.PipelineAnalyzer{Config: cfg.Analysis}
	}
	version := cfg.Analysis.Version
	if version == "" {
		version = "dev"
	}
	q, err := jobs.New(ctx, jobs.Config{
		Files:          a.files,
		Store:          st,
		Analyzer:       analyzer,
		Deliverer:      NewWebhookSender(guard, cfg.WebhookTimeout, version),
		Logger:         a.log,
		Registerer:     metrics.reg,
		Workers:        cfg.Workers,
		MaxAttempts:    cfg.MaxAttempts,
		JobTimeout:     cfg.JobTimeout,
		RetryBackoff:   cfg.RetryBackoff,
		WebhookBackoff: cfg.WebhookBackoff,
		StopGrace:      cfg.ShutdownTimeout,
		// Webhook jobs carry candidates' names: no longer than the rest.
		FinishedJobRetention: cfg.Retention,
	})
	if err != nil {
		return nil, errors.Join(err, st.Close())
	}
	a.queue = q
	// Only the lock holder may empty tmp/: no other server is uploading.
	if err := a.files.CleanTmp(); err != nil {
		a.log.Warn("could not empty the upload folder", "err", err)
	}
	// Nor analysing yet: recordings and evidence whose interview is gone
	// (a delete that could not remove them, a crash between moving an
	// upload in and storing its row) are removed now.
	// So are those of an interview whose media the retention policy
	// deleted (a crash, or a failed removal, after it was recorded).
	removed, err := a.files.CleanOrphans(func(id string) (bool, error) {
		iv, err := st.Interview(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil && iv.MediaDeletedAt == nil, err
	})
	if len(removed) > 0 {
		a.log.Info("removed the files of deleted interviews", "interviews", removed)
	}
	if err != nil {
		a.log.Warn("could not remove the files of deleted interviews", "err", err)
	}
	srv, err := newServer(cfg, a.log.With("component", "http"), st, q, a.files, metrics, guard)
	if err != nil {
		return nil, errors.Join(err, q.Close(), st.Close())
	}
	a.srv = srv
	lm, err := newLiveManager(ctx, cfg, a.log.With("component", "live"), st, srv.submit, q.Publish)
	if err != nil {
		return nil, errors.Join(err, q.Close(), st.Close())
	}
	srv.live = lm
	if err := metrics.reg.Register(newLiveCollector(lm)); err != nil {
		return nil, errors.Join(err, lm.Close(), q.Close(), st.Close())
	}
	a.http = &http.Server{
		Addr:              cfg.Addr,
		Handler:           srv.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// Handler is the HTTP handler of every route.
func (a *App) Handler() http.Handler { return a.srv.echo }

// Start starts the job workers (resuming interrupted jobs) and the
// janitor that removes expired sessions. Serve calls it.
func (a *App) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return nil
	}
	select {
	case <-a.stop:
		return jobs.ErrClosed
	default:
	}
	if err := a.queue.Start(ctx); err != nil {
		return err
	}
	a.started = true
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.janitor()
	}()
	return nil
}

// janitor deletes expired login sessions and audit entries older than
// Config.AuditRetention, applies the retention policy (Config.Retention
// and MediaRetention) and then logs the audit log's head, at start and
// hourly until Close (and the head once more at Close).
func (a *App) janitor() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if n, err := a.store.DeleteExpiredSessions(ctx, time.Now()); err != nil {
			a.log.Warn("expired sessions not removed", "err", err)
		} else if n > 0 {
			a.log.Info("expired sessions removed", "sessions", n)
		}
		if a.cfg.AuditRetention > 0 {
			n, kept, err := a.store.DeleteAuditBefore(ctx, time.Now().Add(-a.cfg.AuditRetention))
			switch {
			case err != nil:
				a.log.Warn("old audit entries not removed", "err", err)
			case n > 0:
				a.log.Info("old audit entries removed", "entries", n, "audit_retention", a.cfg.AuditRetention)
			}
			if kept > 0 {
				// They follow an entry dated later (a clock set back, or
				// forward and then corrected): the chain is deleted from
				// its oldest entry only.
				a.log.Warn("audit entries older than the audit period kept behind a younger one", "entries", kept, "audit_retention", a.cfg.AuditRetention)
			}
		}
		cancel()
		select {
		case <-a.stop:
			a.logAuditHead()
			return
		default:
			a.expire()
		}
		a.logAuditHead()
		select {
		case <-a.stop:
			a.logAuditHead()
			return
		case <-t.C:
		}
	}
}

// logAuditHead logs the audit log's newest entry and its hash: a copy of
// this log kept elsewhere lets `bonafide audit --verify --anchor ID:HASH`
// show that the entries recorded by then were not rewritten or cut since.
func (a *App) logAuditHead() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if id, hash, err := a.store.AuditHead(ctx); err != nil {
		a.log.Warn("audit log head not read", "err", err)
	} else if id > 0 {
		a.log.Info("audit log head", "id", id, "anchor", fmt.Sprintf("%d:%s", id, hash))
	}
}

// expire runs one check of the retention policy; Close cancels it.
func (a *App) expire() {
	if a.cfg.Retention <= 0 && a.cfg.MediaRetention <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(a.stopped, 10*time.Minute)
	defer cancel()
	n, err := a.srv.expire(ctx, time.Now(), retentionBatch)
	if n != (expired{}) {
		a.log.Info("retention policy applied", "interviews", n.Interviews, "live_sessions", n.Sessions, "media", n.Media,
			"retention", a.cfg.Retention, "media_retention", a.cfg.MediaRetention)
	}
	if err != nil && a.stopped.Err() == nil { // cancelled by Close: the next start carries on
		a.log.Warn("retention policy check stopped", "err", err)
	}
}

// Serve starts the app and serves HTTP on ln until ctx is cancelled, then
// shuts the HTTP server down gracefully (in-flight requests finish, within
// ShutdownTimeout). Call Close afterwards.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if err := a.Start(ctx); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// Stopped while starting (recovering interrupted jobs): a
			// shutdown like any other, not a failure.
			return ln.Close()
		}
		return errors.Join(err, ln.Close())
	}
	errc := make(chan error, 1)
	go func() {
		var err error
		if a.cfg.TLSCert != "" {
			err = a.http.ServeTLS(ln, a.cfg.TLSCert, a.cfg.TLSKey)
		} else {
			err = a.http.Serve(ln)
		}
		errc <- err
	}()
	a.log.Info("serving", "addr", ln.Addr().String(), "data", a.cfg.DataDir, "workers", a.cfg.Workers)
	if a.noAccounts(context.WithoutCancel(ctx)) {
		a.log.Warn("no accounts yet, so nobody can log in: create one with `bonafide user add --data " + a.cfg.DataDir +
			" --email EMAIL --role admin --password-stdin`")
	}
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	// Live calls end first, like a hang-up: their recordings are queued
	// and their event streams close, so that Shutdown need not wait for
	// them.
	if err := a.srv.live.Close(); err != nil {
		a.log.Warn("live sessions did not end cleanly", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := a.http.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// noAccounts reports whether nobody can log in yet (false when it cannot
// tell).
func (a *App) noAccounts(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := a.store.CountUsers(ctx)
	return err == nil && n == 0
}

// SubmitFile stores a recording already on disk as a new interview and
// queues its analysis, exactly like an upload (the live-session recorder
// uses it). It takes ownership of sub.Path: on success the file is moved
// into the data folder. Unusable recordings return errors wrapping
// media.ErrUnusableInput and store nothing.
func (a *App) SubmitFile(ctx context.Context, sub Submission) (store.Interview, error) {
	return a.srv.submit(ctx, sub)
}

// Publish sends an event to every webhook (signed, retried, durable).
func (a *App) Publish(ctx context.Context, ev jobs.Event) error {
	return a.queue.Publish(ctx, ev)
}

// Store is the service's store, for components added to the app.
func (a *App) Store() store.Store { return a.store }

// Close stops everything in reverse order of New: the HTTP server
// (immediately; Serve already shut it down gracefully), the live sessions
// (each ends like a hang-up: its recording is queued), the janitor, the
// job queue (running analyses get ShutdownTimeout to finish, then are
// cancelled and resume after a restart) and the database. It is
// idempotent.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		close(a.stop)
		a.cancelStop()
		a.mu.Unlock()
		var errs []error
		if err := a.http.Close(); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, a.srv.live.Close())
		a.wg.Wait()
		errs = append(errs, a.queue.Close(), a.store.Close())
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}
