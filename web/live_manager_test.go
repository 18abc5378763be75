package web

import (
	"context"
	"encoding/json"
	"log/slog"
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
			ls, _, err := m.createSession(ctx, 0, "c", "t")
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
