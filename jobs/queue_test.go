package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

// env is a data folder with a store, ready for queues.
type env struct {
	files store.Files
	st    *store.SQLite
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f := store.Files{Root: t.TempDir()}
	require.NoError(t, f.Init())
	st, err := store.OpenSQLite(context.Background(), f.DBPath(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return &env{files: f, st: st}
}

// addInterview stores src as a queued interview's recording.
func (e *env) addInterview(t *testing.T, src string) string {
	t.Helper()
	return e.addInterviewRegion(t, src, "")
}

// addInterviewRegion stores src as a queued interview whose picture is to
// be analysed in region (as the row keeps it; "" is the whole picture).
func (e *env) addInterviewRegion(t *testing.T, src, region string) string {
	t.Helper()
	id := store.NewID()
	name, err := e.files.MediaName(id, filepath.Ext(src))
	require.NoError(t, err)
	abs, err := e.files.Abs(name)
	require.NoError(t, err)
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(abs, b, 0o600))
	require.NoError(t, e.st.CreateInterview(context.Background(), store.Interview{
		ID: id, MediaFile: name, OriginalName: filepath.Base(src), SizeBytes: int64(len(b)), Status: store.StatusQueued,
		Region: region,
	}))
	return id
}

func (e *env) queue(t *testing.T, cfg Config) *Queue {
	t.Helper()
	cfg.Files = e.files
	if cfg.Store == nil {
		cfg.Store = e.st
	}
	if cfg.RetryBackoff == nil {
		cfg.RetryBackoff = func(int) time.Duration { return 50 * time.Millisecond }
	}
	if cfg.WebhookBackoff == nil {
		cfg.WebhookBackoff = func(int) time.Duration { return 50 * time.Millisecond }
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = 20 * time.Millisecond
	}
	if cfg.StopGrace == 0 {
		cfg.StopGrace = 200 * time.Millisecond
	}
	q, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, q.Close()) })
	return q
}

func (e *env) waitStatus(t *testing.T, id string, want store.Status, within time.Duration) store.Interview {
	t.Helper()
	var iv store.Interview
	require.Eventually(t, func() bool {
		var err error
		iv, err = e.st.Interview(context.Background(), id)
		require.NoError(t, err)
		return iv.Status == want
	}, within, 20*time.Millisecond, "interview %s never became %s", id, want)
	return iv
}

// fakeAnalyzer fails its first `fail` calls with a transient error, then
// reports progress and returns a small report; block makes it wait for its
// context instead.
type fakeAnalyzer struct {
	fail  int32
	block bool
	// stuck, when set, makes every call wait for it to close, whatever
	// its context says: an analysis that ignores cancellation.
	stuck chan struct{}
	err   error // returned instead of a transient error when set
	calls atomic.Int32
	began chan struct{}
	once  sync.Once
}

func (f *fakeAnalyzer) Analyze(ctx context.Context, mediaPath, evidenceDir string, _ media.Region, progress func(float64)) (*report.Report, error) {
	n := f.calls.Add(1)
	if f.began != nil {
		f.once.Do(func() { close(f.began) })
	}
	if _, err := os.Stat(mediaPath); err != nil {
		return nil, err
	}
	if f.stuck != nil {
		<-f.stuck
		return nil, errors.New("stuck analysis released")
	}
	if f.block {
		progress(0.3)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if n <= f.fail {
		if f.err != nil {
			return nil, f.err
		}
		return nil, fmt.Errorf("%s: transient failure %d", mediaPath, n) // errors name the file, as ffmpeg's do
	}
	for _, p := range []float64{0.25, 0.5, 0.75} {
		progress(p)
		time.Sleep(30 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(evidenceDir, "face-1.jpg"), []byte("jpeg"), 0o600); err != nil {
		return nil, err
	}
	a, p := 90, 0.1
	return &report.Report{Schema: report.Schema, Authenticity: &a, Probability: &p, Verdict: models.Genuine,
		Evidence: []report.Evidence{{Kind: "face", File: "face-1.jpg"}},
		Analysis: report.Analysis{File: mediaPath, Notes: []string{"video decoding stopped early at 3.0 s: " + mediaPath + ": corrupt frame"}}}, nil
}

// recorder is a Deliverer that records deliveries and fails as told.
type recorder struct {
	mu     sync.Mutex
	got    []string // event types, one per successful delivery
	bodies [][]byte
	fail   int // transient failures before success
	perm   bool
	tries  atomic.Int32
}

func (r *recorder) Deliver(ctx context.Context, hook store.Webhook, eventID, eventType string, body []byte) error {
	n := r.tries.Add(1)
	if r.perm {
		return fmt.Errorf("receiver said 410: %w", ErrPermanent)
	}
	if int(n) <= r.fail {
		return errors.New("receiver said 503")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, eventType)
	r.bodies = append(r.bodies, body)
	return nil
}

// subscribe registers a webhook and returns the recorder its deliveries
// reach (pass it as Config.Deliverer).
func (e *env) subscribe(t *testing.T) *recorder {
	t.Helper()
	_, err := e.st.CreateWebhook(context.Background(), store.Webhook{URL: "https://hooks.example.com/x", Secret: "s"})
	require.NoError(t, err)
	return &recorder{}
}

// waitEvents waits until n events were delivered and returns their types.
func (r *recorder) waitEvents(t *testing.T, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.events()) == n }, 10*time.Second, 20*time.Millisecond)
	return r.events()
}

func (r *recorder) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func TestPipelineAnalysisCompletesAndNotifies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	clip := testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105")
	id := e.addInterview(t, clip)
	_, err := e.st.CreateWebhook(ctx, store.Webhook{URL: "https://hooks.example.com/bonafide", Secret: "s"})
	require.NoError(t, err)
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	rec := &recorder{}
	q := e.queue(t, Config{
		Analyzer:  PipelineAnalyzer{Config: analysis.Config{FaceModels: fm, Scorer: models.DefaultScorer(), Version: "test"}},
		Deliverer: rec,
	})
	require.NoError(t, q.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusDone, 2*time.Minute)
	assert.Equal(t, 1.0, iv.Progress)
	assert.Equal(t, 1, iv.Attempts)
	assert.NotEmpty(t, iv.Verdict)

	raw, err := e.st.Report(ctx, id)
	require.NoError(t, err)
	var rep report.Report
	require.NoError(t, json.Unmarshal(raw, &rep))
	assert.Equal(t, report.Schema, rep.Schema)
	assert.Equal(t, filepath.Base(clip), rep.Analysis.File, "the report names the upload, not the server's path")
	assert.Equal(t, iv.Verdict, string(rep.Verdict))
	evDir, err := e.files.EvidenceDir(id)
	require.NoError(t, err)
	for _, ev := range rep.Evidence {
		assert.FileExists(t, filepath.Join(evDir, ev.File))
	}

	require.Eventually(t, func() bool { return len(rec.events()) == 1 }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, []string{EventInterviewCompleted}, rec.events())
	var evt Event
	require.NoError(t, json.Unmarshal(rec.bodies[0], &evt))
	var data InterviewEventData
	require.NoError(t, json.Unmarshal(evt.Data, &data))
	assert.Equal(t, id, data.ID)
	assert.Equal(t, "/api/v1/interviews/"+id+"/report", data.Report)
}

func TestUnusableInputFailsWithoutRetry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	junk := filepath.Join(t.TempDir(), "notes.mp4")
	require.NoError(t, os.WriteFile(junk, []byte("this is a text file, not a recording\n"), 0o600))
	id := e.addInterview(t, junk)
	q := e.queue(t, Config{Analyzer: PipelineAnalyzer{}, MaxAttempts: 3})
	require.NoError(t, q.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusFailed, 30*time.Second)
	assert.Equal(t, 1, iv.Attempts, "unusable input is not retried")
	assert.Contains(t, iv.Error, "unusable recording")
	assert.Contains(t, iv.Error, "notes.mp4", "the message names the upload")
	assert.NotContains(t, iv.Error, e.files.Root, "and no server path")
	_, err := e.st.Report(ctx, id)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// A region that does not fit the video (the upload checks it; a row from
// elsewhere need not be checked) fails the analysis at once, saying why,
// and so does one that does not parse.
func TestRegionThatDoesNotFitFailsWithoutRetry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	small := filepath.Join(t.TempDir(), "small.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "color=gray:s=120x120:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", small)
	tooSmall := e.addInterviewRegion(t, small, "top-left")
	unknown := e.addInterviewRegion(t, small, "middle")
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	q := e.queue(t, Config{Analyzer: PipelineAnalyzer{Config: analysis.Config{FaceModels: fm}}, MaxAttempts: 3})
	require.NoError(t, q.Start(ctx))
	for id, want := range map[string]string{
		tooSmall: "the chosen part of the picture cannot be analysed: bad region top-left: it is 60×60 pixels of this 120×120 video",
		unknown:  `the chosen part of the picture cannot be analysed: bad region "middle"`,
	} {
		iv := e.waitStatus(t, id, store.StatusFailed, 30*time.Second)
		assert.LessOrEqual(t, iv.Attempts, 1, "not retried")
		assert.Contains(t, iv.Error, want)
	}
}

// An interview analysed again gets a job of its own: the job of its
// previous analysis may still count as running in the queue for a moment
// after it finished (River records completions in batches), and a job
// queued for the same interview would have been dropped as a duplicate,
// leaving the interview queued for ever. The older run's job does nothing.
func TestReanalysedInterviewGetsANewJob(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	fa := &fakeAnalyzer{}
	q := e.queue(t, Config{Analyzer: fa})
	// Run 0's job is queued and not yet done when the interview is
	// finished and put back for run 1.
	require.NoError(t, q.EnqueueAnalysis(ctx, id))
	require.NoError(t, e.st.StartAttempt(ctx, id, 1, time.Now()))
	require.NoError(t, e.st.Finish(ctx, id, store.Outcome{Report: json.RawMessage(`{}`), Verdict: "genuine"}, time.Now()))
	iv, err := e.st.Reanalyse(ctx, id, "")
	require.NoError(t, err)
	require.Equal(t, 1, iv.Run)
	require.NoError(t, q.EnqueueAnalysis(ctx, id))
	require.NoError(t, q.Start(ctx))

	done := e.waitStatus(t, id, store.StatusDone, time.Minute)
	assert.Equal(t, 1, done.Attempts)
	var states []rivertype.JobState
	require.Eventually(t, func() bool {
		res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(AnalyzeArgs{}.Kind()).States(
			rivertype.JobStateCancelled, rivertype.JobStateCompleted))
		require.NoError(t, err)
		states = states[:0]
		for _, j := range res.Jobs {
			states = append(states, j.State)
		}
		return len(states) == 2
	}, 10*time.Second, 20*time.Millisecond, "two jobs end: %v", states)
	assert.ElementsMatch(t, []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateCompleted}, states,
		"run 0's job was cancelled as superseded, run 1's did the work")
	assert.EqualValues(t, 1, fa.calls.Load(), "one analysis")
}

func TestRetriesThenSucceeds(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	clip := testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105")
	id := e.addInterview(t, clip)
	fa := &fakeAnalyzer{fail: 2}
	q := e.queue(t, Config{Analyzer: fa, MaxAttempts: 3})
	require.NoError(t, q.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusDone, 30*time.Second)
	assert.Equal(t, 3, iv.Attempts)
	assert.EqualValues(t, 3, fa.calls.Load())
	assert.Empty(t, iv.Error, "a success clears the last attempt's error")
	body, err := e.st.Report(ctx, id)
	require.NoError(t, err)
	var rep report.Report
	require.NoError(t, json.Unmarshal(body, &rep))
	assert.Equal(t, []string{"video decoding stopped early at 3.0 s: " + filepath.Base(clip) + ": corrupt frame"}, rep.Analysis.Notes,
		"notes name the upload, not the server's file")
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	rec := e.subscribe(t)
	fa := &fakeAnalyzer{fail: 100}
	q := e.queue(t, Config{Analyzer: fa, MaxAttempts: 2, Deliverer: rec})
	require.NoError(t, q.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusFailed, 30*time.Second)
	assert.Equal(t, 2, iv.Attempts)
	assert.Contains(t, iv.Error, "after 2 attempts")
	assert.NotContains(t, iv.Error, e.files.Root, "no server path in the stored error")
	assert.Equal(t, []string{EventInterviewFailed}, rec.waitEvents(t, 1))
	time.Sleep(200 * time.Millisecond)
	assert.EqualValues(t, 2, fa.calls.Load(), "no third attempt")
}

func TestShutdownRequeuesAndRestartResumes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	blocker := &fakeAnalyzer{block: true, began: make(chan struct{})}
	q1 := e.queue(t, Config{Analyzer: blocker})
	require.NoError(t, q1.Start(ctx))
	<-blocker.began
	iv := e.waitStatus(t, id, store.StatusProcessing, 5*time.Second)
	require.Eventually(t, func() bool {
		iv, _ = e.st.Interview(ctx, id)
		return iv.Progress > 0.2
	}, 5*time.Second, 10*time.Millisecond, "progress is recorded while running")
	require.NoError(t, q1.Close())
	require.NoError(t, q1.Close(), "Close is idempotent")
	iv, err := e.st.Interview(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusQueued, iv.Status, "an interrupted analysis goes back to the queue")

	// River hands a job cancelled by its own shutdown back unspent: the
	// attempt does not count against MaxAttempts.
	fa := &fakeAnalyzer{}
	q2 := e.queue(t, Config{Analyzer: fa})
	require.NoError(t, q2.Start(ctx))
	e.waitStatus(t, id, store.StatusDone, 30*time.Second)
	assert.EqualValues(t, 1, fa.calls.Load())
}

// TestOrphanedRunningJobResumes simulates a process killed mid-job: the
// River row is left "running", which only the start-up recovery fixes.
func TestOrphanedRunningJobResumes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	q1 := e.queue(t, Config{Analyzer: &fakeAnalyzer{}})
	require.NoError(t, q1.EnqueueAnalysis(ctx, id))
	require.NoError(t, q1.Close())
	db, err := store.OpenSQLiteDB(e.files.QueuePath())
	require.NoError(t, err)
	res, err := db.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', 'subsec')`)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.NoError(t, db.Close())
	require.NoError(t, e.st.StartAttempt(ctx, id, 1, time.Now()))

	q2 := e.queue(t, Config{Analyzer: &fakeAnalyzer{}})
	require.NoError(t, q2.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusDone, 30*time.Second)
	assert.Equal(t, 2, iv.Attempts)
}

// A recording that stops the server on every attempt (out of memory, a
// crash in a native library): start-up recovery puts its job back each
// time, but once the attempts are spent the interview fails instead of
// crashing the server for ever.
func TestOrphanedJobPastItsAttemptsFails(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	rec := e.subscribe(t)
	q1 := e.queue(t, Config{Analyzer: &fakeAnalyzer{}, MaxAttempts: 2})
	require.NoError(t, q1.EnqueueAnalysis(ctx, id))
	require.NoError(t, q1.Close())
	db, err := store.OpenSQLiteDB(e.files.QueuePath())
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE river_job SET state = 'running', attempt = 2, attempted_at = datetime('now', 'subsec')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, e.st.StartAttempt(ctx, id, 2, time.Now()))

	fa := &fakeAnalyzer{}
	q2 := e.queue(t, Config{Analyzer: fa, MaxAttempts: 2, Deliverer: rec})
	require.NoError(t, q2.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusFailed, 30*time.Second)
	assert.Contains(t, iv.Error, "the server stopped during each of them")
	assert.Equal(t, []string{EventInterviewFailed}, rec.waitEvents(t, 1))
	assert.Zero(t, fa.calls.Load(), "not analysed a third time")
}

// The server stopped after an analysis stored its outcome but before its
// job completed (so perhaps before the event was queued): the job runs
// again, finds the interview done and queues the event again, with the
// same ID, so that a receiver de-duplicating on Bonafide-Delivery sees one
// event. Before, the retry queued nothing and the event could be lost.
func TestFinishedBeforeACrashPublishesAgain(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	rec := e.subscribe(t)
	q1 := e.queue(t, Config{Analyzer: &fakeAnalyzer{}, Deliverer: rec})
	require.NoError(t, q1.Start(ctx))
	e.waitStatus(t, id, store.StatusDone, 30*time.Second)
	rec.waitEvents(t, 1)
	require.NoError(t, q1.Close())
	// As if the server had stopped while the analysis job still ran.
	db, err := store.OpenSQLiteDB(e.files.QueuePath())
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE river_job SET state = 'running', finalized_at = NULL WHERE kind = ?`, (AnalyzeArgs{}).Kind())
	require.NoError(t, err)
	require.NoError(t, db.Close())

	fa := &fakeAnalyzer{}
	q2 := e.queue(t, Config{Analyzer: fa, Deliverer: rec})
	require.NoError(t, q2.Start(ctx))
	assert.Equal(t, []string{EventInterviewCompleted, EventInterviewCompleted}, rec.waitEvents(t, 2))
	var first, again Event
	rec.mu.Lock()
	require.NoError(t, json.Unmarshal(rec.bodies[0], &first))
	require.NoError(t, json.Unmarshal(rec.bodies[1], &again))
	rec.mu.Unlock()
	assert.Equal(t, first.ID, again.ID, "the same event, for de-duplication")
	assert.Zero(t, fa.calls.Load(), "not analysed again")
}

// finishFails is the real store whose Finish fails (a full disk, a
// database locked for longer than its timeout).
type finishFails struct{ *store.SQLite }

func (f finishFails) Finish(context.Context, string, store.Outcome, time.Time) error {
	return errors.New("database or disk is full")
}

// When the last attempt cannot store its report, the interview fails (and
// the webhooks hear of it) instead of showing "processing" until a restart
// analyses it again.
func TestLastAttemptThatCannotStoreFails(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	rec := e.subscribe(t)
	fa := &fakeAnalyzer{}
	q := e.queue(t, Config{Analyzer: fa, MaxAttempts: 2, Deliverer: rec, Store: finishFails{e.st}})
	require.NoError(t, q.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusFailed, 30*time.Second)
	assert.Equal(t, 2, iv.Attempts)
	assert.Contains(t, iv.Error, "could not store")
	assert.NotContains(t, iv.Error, e.files.Root, "no server path in the stored error")
	assert.Equal(t, []string{EventInterviewFailed}, rec.waitEvents(t, 1))
	assert.EqualValues(t, 2, fa.calls.Load())
}

func TestStartQueuesInterviewsWithoutJob(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	// Stored, but the process died before its job was inserted.
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	fa := &fakeAnalyzer{}
	q := e.queue(t, Config{Analyzer: fa})
	require.NoError(t, q.EnqueueAnalysis(ctx, id))
	require.NoError(t, q.Start(ctx), "Start re-queues it; the unique job makes that a no-op here")
	e.waitStatus(t, id, store.StatusDone, 30*time.Second)
	assert.EqualValues(t, 1, fa.calls.Load(), "one job per interview")
}

// An analysis that runs past JobTimeout is a failed attempt: retried, and
// failed for good on the last one (not sent back to the queue as after a
// shutdown, where it would wait for the next restart and time out again).
func TestJobTimeoutIsAFailedAttempt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	fa := &fakeAnalyzer{block: true}
	q := e.queue(t, Config{Analyzer: fa, MaxAttempts: 2, JobTimeout: 300 * time.Millisecond})
	require.NoError(t, q.Start(ctx))
	iv := e.waitStatus(t, id, store.StatusFailed, 30*time.Second)
	assert.Equal(t, 2, iv.Attempts)
	assert.EqualValues(t, 2, fa.calls.Load())
	assert.Contains(t, iv.Error, "took longer than the limit of 300ms")
	assert.NotContains(t, iv.Error, "shutdown")
}

// Close keeps the data folder locked while a job ignores its
// cancellation: a second server must not run the same job meanwhile.
func TestCloseKeepsLockWhileJobsRun(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
	stuck := &fakeAnalyzer{stuck: make(chan struct{}), began: make(chan struct{})}
	q, err := New(ctx, Config{Files: e.files, Store: e.st, Analyzer: stuck, StopGrace: 100 * time.Millisecond,
		ProgressEvery: 20 * time.Millisecond, RetryBackoff: func(int) time.Duration { return time.Hour }})
	require.NoError(t, err)
	require.NoError(t, q.Start(ctx))
	<-stuck.began
	require.ErrorIs(t, q.Close(), ErrJobsRunning)
	require.ErrorIs(t, q.Close(), ErrJobsRunning, "Close is idempotent")
	_, err = New(ctx, Config{Files: e.files, Store: e.st, Analyzer: &fakeAnalyzer{}})
	require.ErrorIs(t, err, ErrLocked, "the folder stays locked while the job runs")
	close(stuck.stuck) // the job ends; the process would exit here
	require.Eventually(t, func() bool { return stuck.calls.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, errors.Join(q.db.Close(), q.unlock()))
}

func TestDataFolderLocked(t *testing.T) {
	e := newEnv(t)
	e.queue(t, Config{Analyzer: &fakeAnalyzer{}})
	_, err := New(context.Background(), Config{Files: e.files, Store: e.st, Analyzer: &fakeAnalyzer{}})
	require.ErrorIs(t, err, ErrLocked)
}

// An interview deleted while it is analysed cancels its analysis and
// leaves no evidence folder, also when its progress has stopped moving
// (writing the evidence, or a raw stream whose length is unknown): the
// deletion used to go unnoticed until the analysis ended, and the evidence
// it wrote then stayed.
func TestDeleteDuringAnalysisCancelsIt(t *testing.T) {
	for _, tt := range []struct {
		name string
		// stalled: delete only once the progress was stored and stopped
		// moving.
		stalled bool
	}{
		{"while progress moves", false},
		{"after progress stopped moving", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			id := e.addInterview(t, testutil.CorpusItem(t, "video", "genuine-voxceleb2", "620900105"))
			blocker := &fakeAnalyzer{block: true, began: make(chan struct{})}
			q := e.queue(t, Config{Analyzer: blocker, ProgressEvery: 20 * time.Millisecond})
			require.NoError(t, q.Start(ctx))
			<-blocker.began
			if tt.stalled {
				require.Eventually(t, func() bool {
					iv, err := e.st.Interview(ctx, id)
					return err == nil && iv.Progress > 0.2
				}, 5*time.Second, 10*time.Millisecond)
				time.Sleep(100 * time.Millisecond) // several ticks with nothing new
			}
			iv, err := e.st.Interview(ctx, id)
			require.NoError(t, err)
			require.NoError(t, e.st.DeleteInterview(ctx, id))
			require.NoError(t, e.files.RemoveInterview(iv))
			evDir, err := e.files.EvidenceDir(id)
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				var state string
				err := q.db.QueryRowContext(ctx, `SELECT state FROM river_job`).Scan(&state)
				return err == nil && state == "cancelled"
			}, 10*time.Second, 20*time.Millisecond, "the job is cancelled, not retried")
			assert.NoDirExists(t, evDir)
		})
	}
}

func TestWebhookDeliveryRetries(t *testing.T) {
	cases := []struct {
		name      string
		rec       *recorder
		delivered int
		tries     int32
	}{
		{"transient failures are retried", &recorder{fail: 2}, 1, 3},
		{"permanent failure is not retried", &recorder{perm: true}, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			_, err := e.st.CreateWebhook(ctx, store.Webhook{URL: "https://hooks.example.com/x", Secret: "s"})
			require.NoError(t, err)
			q := e.queue(t, Config{Analyzer: &fakeAnalyzer{}, Deliverer: tc.rec, WebhookAttempts: 5})
			require.NoError(t, q.Start(ctx))
			ev, err := NewEvent("live.alert", map[string]string{"session": "s1"})
			require.NoError(t, err)
			require.NoError(t, q.Publish(ctx, ev))
			require.Eventually(t, func() bool {
				var state string
				err := q.db.QueryRowContext(ctx, `SELECT state FROM river_job WHERE kind = ?`, WebhookArgs{}.Kind()).Scan(&state)
				return err == nil && (state == "completed" || state == "cancelled")
			}, 20*time.Second, 20*time.Millisecond)
			assert.Len(t, tc.rec.events(), tc.delivered)
			assert.Equal(t, tc.tries, tc.rec.tries.Load())
		})
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		4 * time.Hour: "4h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		6 * time.Second: "6s", 10 * time.Second: "10s", time.Hour + time.Second: "1h0m1s",
	} {
		assert.Equal(t, want, ShortDuration(d), "%v", d)
	}
}

// A data retention policy shorter than River's own periods caps them; a
// longer one, or none, leaves them.
func TestRiverRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct{ def, limit, want time.Duration }{
		{day, 0, day},
		{day, time.Hour, time.Hour},
		{day, 90 * day, day},
		{7 * day, 2 * day, 2 * day},
	} {
		assert.Equal(t, tc.want, riverRetention(tc.def, tc.limit), "%v capped at %v", tc.def, tc.limit)
	}
}

// A job that panics puts its interview back in the queue, or fails it on
// its last attempt; but not an interview that has finished meanwhile, nor
// one whose job a newer analysis run superseded.
func TestPanicRequeuesOnlyAnUnfinishedInterview(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	q := e.queue(t, Config{Analyzer: &fakeAnalyzer{block: true}, Workers: 1})
	h := &errorHandler{q: q}
	panicked := func(id string, run, attempt int) {
		t.Helper()
		args, err := json.Marshal(AnalyzeArgs{InterviewID: id, Run: run})
		require.NoError(t, err)
		h.HandlePanic(ctx, &rivertype.JobRow{ID: 1, Kind: AnalyzeArgs{}.Kind(), EncodedArgs: args, Attempt: attempt, MaxAttempts: 3}, "boom", "")
	}
	status := func(id string) store.Status {
		t.Helper()
		iv, err := e.st.Interview(ctx, id)
		require.NoError(t, err)
		return iv.Status
	}
	processing := func() string {
		t.Helper()
		id := store.NewID()
		require.NoError(t, e.st.CreateInterview(ctx, store.Interview{ID: id, MediaFile: "media/" + id + ".mp4", Status: store.StatusQueued}))
		require.NoError(t, e.st.StartAttempt(ctx, id, 1, time.Now()))
		return id
	}

	running := processing()
	panicked(running, 0, 1)
	assert.Equal(t, store.StatusQueued, status(running), "retried")
	require.NoError(t, e.st.StartAttempt(ctx, running, 3, time.Now()))
	panicked(running, 0, 3)
	assert.Equal(t, store.StatusFailed, status(running), "failed on the last attempt")

	finished := processing()
	require.NoError(t, e.st.Finish(ctx, finished, store.Outcome{Report: json.RawMessage(`{}`), Verdict: "genuine"}, time.Now()))
	panicked(finished, 0, 1)
	assert.Equal(t, store.StatusDone, status(finished), "a finished interview stays finished")
	panicked(finished, 0, 3)
	assert.Equal(t, store.StatusDone, status(finished))

	superseded := processing()
	panicked(superseded, 1, 3) // a job of another run than the interview's
	assert.Equal(t, store.StatusProcessing, status(superseded))
}
