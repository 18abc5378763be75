package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/store"
)

// errDeleted cancels an analysis whose interview was deleted meanwhile.
var errDeleted = errors.New("interview deleted during analysis")

// errSuperseded cancels an analysis job of an interview analysed again
// since it was queued.
var errSuperseded = errors.New("the interview was analysed again since this job was queued")

type analyzeWorker struct {
	river.WorkerDefaults[AnalyzeArgs]
	q *Queue
}

// NextRetry implements river.Worker: the configured backoff.
func (w *analyzeWorker) NextRetry(job *river.Job[AnalyzeArgs]) time.Time {
	return time.Now().Add(w.q.cfg.RetryBackoff(job.Attempt))
}

// Work analyses one interview: it marks it processing, runs the analyzer
// while a ticker goroutine (owned here, waited for before returning) writes
// the progress, stores the report, and publishes an event to the webhooks.
func (w *analyzeWorker) Work(ctx context.Context, job *river.Job[AnalyzeArgs]) (err error) {
	q := w.q
	id := job.Args.InterviewID
	log := q.log.With("interview", id, "job", job.ID, "attempt", job.Attempt)
	defer func() { w.failLastAttempt(ctx, job, err, log) }()
	iv, err := q.cfg.Store.Interview(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err) // deleted before its turn
	}
	if err != nil {
		return err
	}
	if job.Args.Run != iv.Run {
		// The interview was analysed again since this job was queued: the
		// job of its current run does the work.
		log.Info("analysis job superseded by a newer run", "run", job.Args.Run, "current_run", iv.Run)
		return river.JobCancel(errSuperseded)
	}
	if iv.Status == store.StatusDone || iv.Status == store.StatusFailed {
		// Finished by an earlier attempt of this job that did not complete
		// (the server stopped after the outcome was stored): its event may
		// not have been queued, so it is queued again, with the same ID.
		if job.Attempt > 1 {
			typ := EventInterviewCompleted
			if iv.Status == store.StatusFailed {
				typ = EventInterviewFailed
			}
			return q.publishInterview(ctx, typ, id)
		}
		return nil
	}
	mediaPath, err := q.cfg.Files.Abs(iv.MediaFile)
	if err != nil {
		return river.JobCancel(err)
	}
	evDir, err := q.cfg.Files.EvidenceDir(id)
	if err != nil {
		return river.JobCancel(err)
	}
	// The upload checked the region: one that does not parse fails the
	// analysis for good, as a region that does not fit the video does.
	region, err := media.ParseRegion(iv.Region)
	if err != nil {
		log.Warn("analysis failed for good", "err", err)
		q.metrics.analyses.WithLabelValues("unusable").Inc()
		return errors.Join(river.JobCancel(err), q.failFinal(ctx, id, "the chosen part of the picture cannot be analysed: "+err.Error()))
	}
	if job.Attempt > job.MaxAttempts {
		// Every attempt ended with the server itself (out of memory, a
		// crash in a native library) and start-up recovery put the job
		// back each time: a recording that kills the server must not do so
		// for ever.
		log.Error("analysis stopped the server on every attempt; giving up", "max_attempts", job.MaxAttempts)
		q.metrics.analyses.WithLabelValues("failed").Inc()
		msg := fmt.Sprintf("analysis failed after %d attempts: the server stopped during each of them", job.MaxAttempts)
		return errors.Join(river.JobCancel(errors.New(msg)), q.failFinal(ctx, id, msg), os.RemoveAll(evDir))
	}
	if err := os.RemoveAll(evDir); err != nil { // a failed attempt's leftovers
		return err
	}
	if err := os.MkdirAll(evDir, 0o750); err != nil {
		return err
	}
	if err := q.cfg.Store.StartAttempt(ctx, id, job.Attempt, time.Now()); err != nil {
		return err
	}
	log.Info("analysis started", "file", iv.OriginalName)
	began := time.Now()
	q.metrics.running.Inc()
	defer q.metrics.running.Dec()

	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var progress atomic.Uint64 // math.Float64bits of the latest fraction
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.trackProgress(actx, id, &progress, done, cancel)
	}()
	rep, err := q.cfg.Analyzer.Analyze(actx, mediaPath, evDir, region, func(f float64) {
		if !math.IsNaN(f) {
			progress.Store(math.Float64bits(min(max(f, 0), 1)))
		}
	})
	close(done)
	wg.Wait()

	// Bookkeeping must happen even when ctx was cancelled (shutdown).
	bg, bgCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer bgCancel()
	// What is stored is shown to users and sent to webhooks: no server
	// paths (the longest first, so the media file keeps its own name).
	// River ends a job past JobTimeout with a deadline, a shutdown with a
	// cancellation: the first is a failed attempt (retried, and final on
	// the last attempt), the second goes back to the queue.
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	if timedOut && err != nil {
		err = fmt.Errorf("the analysis took longer than the limit of %s: %w", ShortDuration(q.cfg.JobTimeout), err)
	}
	paths := strings.NewReplacer(mediaPath, iv.OriginalName, evDir, "the evidence folder", q.cfg.Files.Root, "the data folder")
	public := func(err error) string { return paths.Replace(err.Error()) }
	switch {
	case errors.Is(context.Cause(actx), errDeleted):
		log.Info("interview deleted during analysis")
		return errors.Join(river.JobCancel(errDeleted), os.RemoveAll(evDir))
	case err == nil:
		rep.Analysis.File = iv.OriginalName // not the server's path
		for i, n := range rep.Analysis.Notes {
			rep.Analysis.Notes[i] = paths.Replace(n) // decoding errors name the file
		}
		body, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		out := store.Outcome{Report: body, Verdict: string(rep.Verdict), Authenticity: rep.Authenticity, Probability: rep.Probability}
		if err := q.cfg.Store.Finish(bg, id, out, time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errors.Join(river.JobCancel(err), os.RemoveAll(evDir))
			}
			return err
		}
		q.metrics.analyses.WithLabelValues("done").Inc()
		q.metrics.duration.Observe(time.Since(began).Seconds())
		log.Info("analysis done", "verdict", rep.Verdict, "seconds", time.Since(began).Seconds())
		return q.publishInterview(bg, EventInterviewCompleted, id)
	case errors.Is(err, media.ErrUnusableInput), errors.Is(err, media.ErrBadRegion):
		msg := "unusable recording: " + public(err)
		if !errors.Is(err, media.ErrUnusableInput) {
			msg = "the chosen part of the picture cannot be analysed: " + public(err)
		}
		log.Warn("analysis failed for good", "err", err)
		q.metrics.analyses.WithLabelValues("unusable").Inc()
		return errors.Join(river.JobCancel(err), q.failFinal(bg, id, msg))
	case ctx.Err() != nil && !timedOut:
		log.Warn("analysis interrupted; it will run again", "err", err)
		q.metrics.analyses.WithLabelValues("interrupted").Inc()
		return errors.Join(err, q.cfg.Store.Requeue(bg, id, "interrupted by a shutdown; it will run again"))
	case job.Attempt >= job.MaxAttempts:
		log.Error("analysis failed on its last attempt", "err", err)
		q.metrics.analyses.WithLabelValues("failed").Inc()
		return errors.Join(err, q.failFinal(bg, id, fmt.Sprintf("analysis failed after %d attempts: %s", job.Attempt, public(err))))
	default:
		log.Warn("analysis attempt failed; retrying", "err", err)
		q.metrics.analyses.WithLabelValues("retry").Inc()
		return errors.Join(err, q.cfg.Store.Requeue(bg, id, fmt.Sprintf("attempt %d failed: %s", job.Attempt, public(err))))
	}
}

// failLastAttempt marks the interview failed when the last attempt ended
// in an error that Work's own paths did not turn into a verdict (the store
// could not save the report, the evidence folder could not be made): River
// discards the job then, and the interview would show "processing" until a
// restart analysed it again. A cancelled job, or one interrupted by a
// shutdown (it goes back to the queue unspent), is left alone, and so is
// an interview that is no longer queued or processing.
func (w *analyzeWorker) failLastAttempt(ctx context.Context, job *river.Job[AnalyzeArgs], err error, log *slog.Logger) {
	var cancelled *rivertype.JobCancelError
	if err == nil || job.Attempt < job.MaxAttempts || errors.As(err, &cancelled) ||
		(ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	iv, ierr := w.q.cfg.Store.Interview(bg, job.Args.InterviewID)
	if ierr != nil || (iv.Status != store.StatusQueued && iv.Status != store.StatusProcessing) {
		return
	}
	log.Error("analysis failed on its last attempt", "err", err)
	msg := fmt.Sprintf("analysis failed after %d attempts: the server could not store its work (its log says why)", job.Attempt)
	if ferr := w.q.failFinal(bg, job.Args.InterviewID, msg); ferr != nil {
		log.Error("could not mark interview failed", "err", ferr)
	}
}

// trackProgress writes the latest progress every ProgressEvery until done
// is closed, also when it has not moved (writing the evidence, or a stream
// of unknown length): the write is how a deletion is noticed. A write that
// finds the interview gone (deleted, or no longer processing) cancels the
// analysis.
func (w *analyzeWorker) trackProgress(ctx context.Context, id string, p *atomic.Uint64, done <-chan struct{}, cancel context.CancelCauseFunc) {
	t := time.NewTicker(w.q.cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := w.q.cfg.Store.SetProgress(ctx, id, math.Float64frombits(p.Load()))
		switch {
		case errors.Is(err, store.ErrNotFound):
			cancel(errDeleted)
			return
		case err != nil:
			w.q.log.Warn("progress not saved", "interview", id, "err", err)
		}
	}
}

func (q *Queue) failFinal(ctx context.Context, id, msg string) error {
	if err := q.cfg.Store.Fail(ctx, id, msg, time.Now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return q.publishInterview(ctx, EventInterviewFailed, id)
}

// errorHandler puts an interview whose analysis job panicked back in the
// queue, or marks it failed on the job's last attempt (Work's own error
// paths handle every other case).
type errorHandler struct{ q *Queue }

func (h *errorHandler) HandleError(context.Context, *rivertype.JobRow, error) *river.ErrorHandlerResult {
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	h.q.log.Error("job panicked", "job", job.ID, "kind", job.Kind, "panic", fmt.Sprint(v), "trace", trace)
	if job.Kind != (AnalyzeArgs{}).Kind() {
		return nil
	}
	var args AnalyzeArgs
	if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
		return nil
	}
	// Only the current run of an interview still being analysed is
	// retried or failed: a job that panicked after its interview finished
	// (re-publishing the event of an earlier attempt), or one a newer
	// run superseded, must not undo that outcome.
	iv, err := h.q.cfg.Store.Interview(ctx, args.InterviewID)
	if err != nil || iv.Run != args.Run || (iv.Status != store.StatusQueued && iv.Status != store.StatusProcessing) {
		return nil
	}
	if job.Attempt >= job.MaxAttempts {
		if err := h.q.failFinal(ctx, args.InterviewID, "analysis crashed: "+fmt.Sprint(v)); err != nil {
			h.q.log.Error("could not mark interview failed", "interview", args.InterviewID, "err", err)
		}
		return nil
	}
	if err := h.q.cfg.Store.Requeue(ctx, args.InterviewID, "analysis crashed; retrying"); err != nil {
		h.q.log.Error("could not requeue interview", "interview", args.InterviewID, "err", err)
	}
	return nil
}

// ShortDuration writes d without trailing zero units ("4h", "1h30m",
// "1m30s"), for limits quoted in messages people read.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
