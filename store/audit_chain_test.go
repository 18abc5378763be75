package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chainLog opens a store with n audit entries, one second apart from an
// hour ago, and returns it with the entries' ids (oldest first).
func chainLog(t *testing.T, n int) (*SQLite, []int64) {
	t.Helper()
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Now().Add(-time.Hour)
	for i := range n {
		require.NoError(t, s.RecordAudit(ctx, AuditEvent{At: t0.Add(time.Duration(i) * time.Second), UserID: int64(i % 2),
			Actor: "rec@example.com", Action: "interview.view", Target: fmt.Sprintf("interview:%d", i), Addr: "::1", Detail: "api"}))
	}
	var ids []int64
	rows, err := s.db.Query(`SELECT id FROM audit_events ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, n)
	return s, ids
}

// rechain recomputes the hashes from entry id on, as someone who can write
// the database and knows the scheme would after editing it.
func rechain(t *testing.T, s *SQLite, from int64) {
	t.Helper()
	var prev string
	err := s.db.QueryRow(`SELECT hash FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT 1`, from).Scan(&prev)
	if err != sql.ErrNoRows {
		require.NoError(t, err)
	}
	type row struct {
		id, at                              int64
		uid                                 sql.NullInt64
		actor, action, target, addr, detail string
	}
	var rs []row
	rows, err := s.db.Query(`SELECT id, at, user_id, actor, action, target, addr, detail FROM audit_events WHERE id >= ? ORDER BY id`, from)
	require.NoError(t, err)
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.id, &r.at, &r.uid, &r.actor, &r.action, &r.target, &r.addr, &r.detail))
		rs = append(rs, r)
	}
	require.NoError(t, rows.Close())
	for _, r := range rs {
		h := auditHash(prev, r.id, r.at, r.uid, r.actor, r.action, r.target, r.addr, r.detail)
		_, err := s.db.Exec(`UPDATE audit_events SET prev = ?, hash = ? WHERE id = ?`, prev, h, r.id)
		require.NoError(t, err)
		prev = h
	}
}

// The audit log is a hash chain: an intact log verifies, with the head
// AuditHead reports; every way of altering it after the fact that the
// chain can see is reported with the first entry at fault; a rewrite of
// the chain from some entry on, and a cut of the newest entries, are seen
// only against an anchor (a head the server logged earlier).
func TestAuditChain(t *testing.T) {
	ctx := context.Background()
	const n = 6
	for _, tc := range []struct {
		name    string
		alter   func(t *testing.T, s *SQLite, ids []int64)
		anchor  int // index of the entry anchored with its hash before alter; -1 none
		wantErr string
	}{
		{name: "intact", alter: func(*testing.T, *SQLite, []int64) {}, anchor: n - 1},
		{name: "field edited", anchor: -1, wantErr: "entry %[3]d does not match its hash",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET actor = 'someone@else' WHERE id = ?`, ids[2])
				require.NoError(t, err)
			}},
		{name: "time edited", anchor: -1, wantErr: "entry %[3]d does not match its hash",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET at = at - 1 WHERE id = ?`, ids[2])
				require.NoError(t, err)
			}},
		{name: "entry removed", anchor: -1, wantErr: "entry %[5]d does not follow entry %[3]d",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`DELETE FROM audit_events WHERE id = ?`, ids[3])
				require.NoError(t, err)
			}},
		{name: "entry renumbered", anchor: -1, wantErr: "does not match its hash",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET id = id + 1000 WHERE id = ?`, ids[n-1])
				require.NoError(t, err)
			}},
		{name: "entry inserted without a hash", anchor: -1, wantErr: "has no hash but follows chained entry %[6]d",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`INSERT INTO audit_events (at, actor, action) VALUES (?, 'server', 'retention.interview')`, ms(time.Now()))
				require.NoError(t, err)
			}},
		{name: "rewritten from an entry on, no anchor", anchor: -1,
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`DELETE FROM audit_events WHERE id = ?`, ids[3])
				require.NoError(t, err)
				rechain(t, s, ids[3])
			}},
		{name: "rewritten from an entry on, anchored", anchor: n - 1, wantErr: "entry %[6]d has hash",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET detail = 'page' WHERE id = ?`, ids[3])
				require.NoError(t, err)
				rechain(t, s, ids[3])
			}},
		{name: "newest cut, anchored", anchor: n - 1, wantErr: "the anchor's entry %[6]d is newer than the newest entry kept",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`DELETE FROM audit_events WHERE id = ?`, ids[n-1])
				require.NoError(t, err)
			}},
		{name: "every hash blanked, anchored", anchor: n - 1, wantErr: "entry %[1]d has no hash but is newer than the chain's start",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET prev = '', hash = ''`)
				require.NoError(t, err)
			}},
		{name: "oldest hashes blanked and the chain's start moved, anchored", anchor: 3, wantErr: "the anchor's entry %[4]d has no hash",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET prev = '', hash = '', actor = 'forged' WHERE id <= ?`, ids[3])
				require.NoError(t, err)
				_, err = s.db.Exec(`UPDATE audit_chain SET last_unchained = ?`, ids[3])
				require.NoError(t, err)
			}},
		{name: "oldest hashes blanked", anchor: -1, wantErr: "entry %[1]d has no hash but is newer than the chain's start",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET prev = '', hash = '' WHERE id <= ?`, ids[1])
				require.NoError(t, err)
			}},
		{name: "oldest hashes blanked and the chain's start moved", anchor: -1, wantErr: "entry %[3]d follows entries without a hash but does not start the chain",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET prev = '', hash = '' WHERE id <= ?`, ids[1])
				require.NoError(t, err)
				_, err = s.db.Exec(`UPDATE audit_chain SET last_unchained = ?`, ids[1])
				require.NoError(t, err)
			}},
		{name: "old entry forged under the oldest kept", anchor: -1, wantErr: "entry %[1]d has no hash but is newer than the chain's start",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`DELETE FROM audit_events WHERE id = ?`, ids[0])
				require.NoError(t, err)
				_, err = s.db.Exec(`INSERT INTO audit_events (id, at, actor, action) VALUES (?, 0, 'server', 'retention.interview')`, ids[0])
				require.NoError(t, err)
			}},
		{name: "no account made an account", anchor: -1, wantErr: "entry %[1]d does not match its hash",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`UPDATE audit_events SET user_id = 0 WHERE id = ?`, ids[0]) // chainLog's entry 0 has none
				require.NoError(t, err)
			}},
		{name: "anchored entry removed and the rest rechained", anchor: 2, wantErr: "the anchor's entry %[3]d is gone",
			alter: func(t *testing.T, s *SQLite, ids []int64) {
				_, err := s.db.Exec(`DELETE FROM audit_events WHERE id = ?`, ids[2])
				require.NoError(t, err)
				rechain(t, s, ids[2])
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ids := chainLog(t, n)
			var anchors map[int64]string
			if tc.anchor >= 0 {
				var h string
				require.NoError(t, s.db.QueryRow(`SELECT hash FROM audit_events WHERE id = ?`, ids[tc.anchor]).Scan(&h))
				anchors = map[int64]string{ids[tc.anchor]: h}
			}
			tc.alter(t, s, ids)
			c, err := s.VerifyAudit(ctx, anchors)
			if tc.wantErr == "" {
				require.NoError(t, err)
				id, hash, err := s.AuditHead(ctx)
				require.NoError(t, err)
				assert.Equal(t, id, c.Head)
				assert.Equal(t, hash, c.HeadHash)
				assert.Len(t, hash, 64)
				assert.Equal(t, ids[0], c.First)
				assert.WithinDuration(t, time.Now().Add(-time.Hour), c.FirstAt, time.Minute)
				assert.Equal(t, len(anchors), c.Anchors)
				assert.Zero(t, c.Unchained)
				return
			}
			require.ErrorIs(t, err, ErrAuditAltered)
			want := tc.wantErr
			if strings.Contains(want, "%") {
				want = fmt.Sprintf(want, ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
			}
			assert.Contains(t, err.Error(), want)
		})
	}
}

// The audit period deletes the oldest entries, up to the first young one:
// what is left still verifies, an anchor that went with them is counted
// as expired, and an old entry after a young one (a clock set back) stays
// and is counted as kept. When every entry went, an anchor is expired, not
// altered, unless its id was never given.
func TestAuditChainRetention(t *testing.T) {
	ctx := context.Background()
	s, ids := chainLog(t, 4)
	var h0 string
	require.NoError(t, s.db.QueryRow(`SELECT hash FROM audit_events WHERE id = ?`, ids[0]).Scan(&h0))
	// A young entry, then an old one after it.
	require.NoError(t, s.RecordAudit(ctx, AuditEvent{Actor: "server", Action: "retention.interview"}))
	require.NoError(t, s.RecordAudit(ctx, AuditEvent{At: time.Now().Add(-2 * time.Hour), Actor: "server", Action: "retention.media"}))
	n, kept, err := s.DeleteAuditBefore(ctx, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	assert.EqualValues(t, 4, n, "the four old entries before the young one")
	assert.EqualValues(t, 1, kept, "the old entry after it")
	left, err := s.AuditEvents(ctx, AuditFilter{})
	require.NoError(t, err)
	require.Len(t, left, 2)
	assert.Equal(t, "retention.media", left[0].Action, "the old entry after the young one stays")
	c, err := s.VerifyAudit(ctx, map[int64]string{ids[0]: h0})
	require.NoError(t, err)
	assert.EqualValues(t, 2, c.Entries)
	assert.Equal(t, 1, c.Expired)
	assert.Zero(t, c.Anchors)
	headID, headHash, err := s.AuditHead(ctx)
	require.NoError(t, err)

	n, kept, err = s.DeleteAuditBefore(ctx, time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "all entries older than the cut-off")
	assert.Zero(t, kept)
	c, err = s.VerifyAudit(ctx, map[int64]string{headID: headHash})
	require.NoError(t, err, "an idle server's log, emptied by the period")
	assert.Zero(t, c.Entries)
	assert.Equal(t, 1, c.Expired)
	_, err = s.VerifyAudit(ctx, map[int64]string{headID + 1: headHash})
	require.ErrorIs(t, err, ErrAuditAltered, "an id never given")
	id, hash, err := s.AuditHead(ctx)
	require.NoError(t, err)
	assert.Zero(t, id)
	assert.Empty(t, hash)
}

// Entries recorded before the chain (a database from before migration 011)
// are counted as unchained; the chain starts with the first entry after
// the upgrade.
func TestAuditChainUpgrade(t *testing.T) {
	ctx := context.Background()
	old, path := openOldSchema(t, "010_token_expiry_and_use")
	for range 3 {
		_, err := old.db.Exec(`INSERT INTO audit_events (at, actor, action) VALUES (?, 'server', 'retention.interview')`, ms(time.Now()))
		require.NoError(t, err)
	}
	require.NoError(t, old.Close())

	s, err := OpenSQLite(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	id, _, err := s.AuditHead(ctx)
	require.NoError(t, err)
	assert.Zero(t, id, "no chained entry yet")
	require.NoError(t, s.RecordAudit(ctx, AuditEvent{Actor: "server", Action: "retention.media"}))
	c, err := s.VerifyAudit(ctx, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 3, c.Unchained)
	assert.EqualValues(t, 1, c.Entries)
}

// Writers running at once (requests, the retention policy, a command line
// next to the server) still make one chain: each append reads the head and
// writes after it in one IMMEDIATE transaction. The chain is also checked
// across VerifyAudit's pages.
func TestAuditChainConcurrent(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	other, err := OpenSQLite(ctx, path, nil) // a second connection pool, as another process has
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, other.Close()) })
	var wg sync.WaitGroup
	const writers, each = 4, 300
	for w := range writers {
		st := s
		if w%2 == 1 {
			st = other
		}
		wg.Go(func() {
			for i := range each {
				assert.NoError(t, st.RecordAudit(ctx, AuditEvent{Actor: fmt.Sprint("w", w), Action: "interview.view", Target: fmt.Sprint("interview:", i)}))
			}
		})
	}
	wg.Wait()
	c, err := s.VerifyAudit(ctx, nil)
	require.NoError(t, err)
	assert.EqualValues(t, writers*each, c.Entries)
}
