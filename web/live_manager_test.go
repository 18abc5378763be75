package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/store"
)

// newBareLiveManager returns a liveManager over a fresh SQLite store, with
// no WHIP endpoint: enough to drive sessions through their states.
func newBareLiveManager(t *testing.T) (*liveManager, store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	m := &liveManager{
		cfg: LiveConfig{MaxSessions: 8}, log: slog.New(slog.DiscardHandler), store: st, dir: dir,
		tokens: &liveTokens{key: make([]byte, liveKeySize)}, entries: map[string]*liveEntry{},
		publish: func(context.Context, jobs.Event) error { return nil },
	}
	t.Cleanup(func() { m.Close() })
	return m, st
}

// A recruiter ends a waiting session whose page is open, while a publisher
// may hold a reservation (its offer being answered): whatever the order,
// the page gets the ended state and its stream closes, the publisher is
// refused, and nothing of the session stays in memory. The stream used to
// stay open for ever when a reservation was held.
func TestLiveEndWaitingClosesPage(t *testing.T) {
	tests := []struct {
		name string
		// publisher runs whipPublish's part around endWaiting, which it
		// calls as end.
		publisher func(t *testing.T, m *liveManager, ls store.LiveSession, end func())
	}{
		{"no publisher", func(t *testing.T, m *liveManager, ls store.LiveSession, end func()) { end() }},
		{"reserved, then start fails", func(t *testing.T, m *liveManager, ls store.LiveSession, end func()) {
			r, err := m.reserve(ls)
			require.NoError(t, err)
			end()
			require.ErrorIs(t, m.start(context.Background(), r, nil, "res"), ErrConflict)
			m.release(r)
		}},
		{"reserved, then the offer fails", func(t *testing.T, m *liveManager, ls store.LiveSession, end func()) {
			r, err := m.reserve(ls)
			require.NoError(t, err)
			end()
			m.release(r)
		}},
		{"reserved after the end", func(t *testing.T, m *liveManager, ls store.LiveSession, end func()) {
			end()
			// A publisher that read the session as waiting before.
			r, err := m.reserve(ls)
			require.NoError(t, err)
			require.ErrorIs(t, m.start(context.Background(), r, nil, "res"), ErrConflict)
			m.release(r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m, st := newBareLiveManager(t)
			ls, _, err := m.createSession(ctx, 0, "c", "t", "")
			require.NoError(t, err)
			_, sub, _, ok, err := m.subscribe(ctx, ls.ID) // the companion page
			require.NoError(t, err)
			require.True(t, ok)

			tt.publisher(t, m, ls, func() { require.NoError(t, m.endWaiting(ctx, ls, "ended by the recruiter")) })

			cur, err := st.LiveSession(ctx, ls.ID)
			require.NoError(t, err)
			require.Equal(t, store.LiveEnded, cur.State)
			var got []liveMessage
			timeout := time.After(5 * time.Second)
			for open := true; open; {
				select {
				case msg, ok := <-sub.C:
					if open = ok; ok {
						got = append(got, msg)
					}
				case <-timeout:
					t.Fatalf("the page's stream is still open after %v (got %d events): its request would hang", 5*time.Second, len(got))
				}
			}
			require.Len(t, got, 1, "the ended state, then the end of the stream")
			require.Equal(t, sseState, got[0].Event)
			var state liveStateEvent
			require.NoError(t, json.Unmarshal(got[0].Data, &state))
			assert.Equal(t, store.LiveEnded, state.State)
			assert.Equal(t, "ended by the recruiter", state.Reason)

			m.mu.Lock()
			assert.Empty(t, m.entries, "nothing of the session stays in memory")
			m.mu.Unlock()
			assert.Zero(t, m.running())
			_, _, _, ok, err = m.subscribe(ctx, ls.ID)
			require.NoError(t, err)
			assert.False(t, ok, "a page opened later reads the ended session from the store")
		})
	}
}

// endFaults wraps the real store: it cancels the request's context once the
// session is marked ending, and can fail the write that ends it.
type endFaults struct {
	store.Store
	cancel  context.CancelFunc
	failEnd bool
}

func (f *endFaults) SetLiveState(ctx context.Context, id string, to store.LiveState, now time.Time, from ...store.LiveState) error {
	err := f.Store.SetLiveState(ctx, id, to, now, from...)
	if to == store.LiveEnding && f.cancel != nil {
		f.cancel() // the recruiter's request goes away here
	}
	return err
}

func (f *endFaults) EndLiveSession(ctx context.Context, id string, end store.LiveEnd, now time.Time) error {
	if f.failEnd {
		return errors.New("disk I/O error")
	}
	return f.Store.EndLiveSession(ctx, id, end, now)
}

// Ending a waiting session is two writes. A request that goes away between
// them used to leave the session "ending" with nothing behind it until a
// restart (publishers refused, a second end a no-op); a failed second write
// did the same. Now the end is written regardless of the request, and a
// failure puts the session back to waiting.
func TestLiveEndWaitingNeverStrandsEnding(t *testing.T) {
	tests := []struct {
		name      string
		failEnd   bool
		wantErr   bool
		wantState store.LiveState
	}{
		{"request gone after the first write", false, false, store.LiveEnded},
		{"second write fails", true, true, store.LiveWaiting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, st := newBareLiveManager(t)
			ls, _, err := m.createSession(context.Background(), 0, "c", "t", "")
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m.store = &endFaults{Store: st, cancel: cancel, failEnd: tt.failEnd}
			err = m.endWaiting(ctx, ls, "ended by the recruiter")
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			cur, err := st.LiveSession(context.Background(), ls.ID)
			require.NoError(t, err)
			require.Equal(t, tt.wantState, cur.State)
			if tt.wantState == store.LiveWaiting {
				m.store = st
				require.NoError(t, m.endWaiting(context.Background(), ls, "ended by the recruiter"), "ending it again works")
				cur, err = st.LiveSession(context.Background(), ls.ID)
				require.NoError(t, err)
				require.Equal(t, store.LiveEnded, cur.State)
			}
		})
	}
}

// A live session's error, shown on its page and sent to webhooks, names no
// server path.
func TestLivePublicErrorHidesPaths(t *testing.T) {
	m := &liveManager{dir: "/srv/bonafide/live"}
	sess := "/srv/bonafide/live/abc"
	for _, tc := range []struct{ in, want string }{
		{"rename /srv/bonafide/live/abc/recording.mkv /srv/bonafide/media/x.mkv: no space left on device",
			"rename the session's folder/recording.mkv the data folder/media/x.mkv: no space left on device"},
		{"ffmpeg failed", "ffmpeg failed"},
	} {
		assert.Equal(t, tc.want, m.publicError(errors.New(tc.in), sess))
	}
}

// A relative data folder is made absolute, so that the server's paths in
// error messages are recognised and replaced (publicError, the jobs' error
// text) rather than every "data" in them.
func TestRelativeDataDirIsMadeAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, t.TempDir())
	require.NoError(t, err)
	require.False(t, filepath.IsAbs(rel))
	app, err := New(context.Background(), testConfig(t, rel))
	require.NoError(t, err)
	defer app.Close()
	assert.True(t, filepath.IsAbs(app.files.Root), app.files.Root)
	assert.True(t, filepath.IsAbs(app.srv.live.dir), app.srv.live.dir)
}

// At start-up, the recordings and evidence of interviews that no longer
// exist (a crash between moving an upload in and storing its row, a delete
// that could not remove them) are removed; those of stored interviews stay.
func TestStartupRemovesOrphanedFiles(t *testing.T) {
	dir := t.TempDir()
	app, err := New(context.Background(), testConfig(t, dir))
	require.NoError(t, err)
	files := app.files
	kept := store.NewID()
	keptMedia, err := files.MediaName(kept, ".mp4")
	require.NoError(t, err)
	require.NoError(t, app.Store().CreateInterview(context.Background(), store.Interview{ID: kept, MediaFile: keptMedia, Status: store.StatusDone}))
	require.NoError(t, app.Close())

	orphan := store.NewID()
	write := func(rel string) string {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o750))
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
		return p
	}
	keptFile := write(keptMedia)
	orphanFile := write(filepath.Join("media", orphan+".webm"))
	orphanEvidence := write(filepath.Join("evidence", orphan, "face-1.jpg"))

	app2, err := New(context.Background(), testConfig(t, dir))
	require.NoError(t, err)
	defer app2.Close()
	assert.FileExists(t, keptFile)
	assert.NoFileExists(t, orphanFile)
	assert.NoFileExists(t, orphanEvidence)
}
