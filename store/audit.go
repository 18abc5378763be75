package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditEvent is one entry of the audit log: an account (or the server, or
// the command line) did Action to Target. It never holds candidate data
// (a name, a report, a file name), only identifiers, so that it can
// outlive what it is about.
type AuditEvent struct {
	ID int64
	At time.Time
	// UserID is the acting account; 0 for the server itself (the retention
	// policy), the command line, a live session's publisher and a failed
	// login.
	UserID int64
	// Actor is the account's e-mail address as it was, or "server",
	// "cli:NAME" (the operating-system user), "publisher", "anonymous"
	// (a failed login).
	Actor string
	// Action is a dotted name such as "interview.view" (see docs/web.md).
	Action string
	// Target is "interview:ID", "session:ID", "webhook:N", "user:N" or "".
	Target string
	// Addr is the client's address ("" off the network).
	Addr string
	// Detail is a short note ("api", "page", a reason); never candidate
	// data.
	Detail string
}

// AuditFilter selects entries of the audit log, newest first. Empty fields
// match anything.
type AuditFilter struct {
	Target string // exact
	Actor  string // exact, case-insensitive
	Action string // exact, or a prefix ending in "." ("interview.")
	// Before, when > 0, returns only entries with a smaller ID (the next
	// page after an entry).
	Before int64
	Limit  int // 1–1000; 0 means 100
}

// Audit keeps the audit log. Entries are only added, and deleted from the
// oldest when older than the audit period.
//
// The log is a hash chain: each entry holds the SHA-256 of the entry
// before it and its own hash over that and its fields, so that an entry
// edited, removed or inserted after it was recorded breaks the chain
// (VerifyAudit). Whoever can write the database can still rewrite the
// whole chain from some entry on, or cut its newest entries; the server
// logs the chain's head hourly (AuditHead) so that a copy of its log kept
// elsewhere anchors what was recorded by then (docs/web.md, "Audit log").
type Audit interface {
	// RecordAudit appends e (ID set by the store; At now when zero).
	// ErrInvalid without an actor or an action.
	RecordAudit(ctx context.Context, e AuditEvent) error
	// AuditEvents returns the entries f selects, newest first.
	AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// DeleteAuditBefore deletes the oldest entries, up to the first one
	// recorded at or after before, and returns how many, and how many
	// entries older than before it kept: those that follow a younger one
	// (a clock set back, or an entry dated in the future) stay until it
	// goes, so that what is kept is one unbroken chain.
	DeleteAuditBefore(ctx context.Context, before time.Time) (deleted, kept int64, err error)
	// AuditHead returns the newest entry's id and hash; 0 and "" when the
	// log is empty or its newest entry predates the chain.
	AuditHead(ctx context.Context) (id int64, hash string, err error)
	// VerifyAudit checks the chain from the oldest entry kept to the
	// newest, and that the entry of every anchor (an id and the hash the
	// server logged for it) still has that hash. A broken chain or anchor
	// is an error wrapping ErrAuditAltered that names the first entry at
	// fault; the returned AuditChain says how far the check got.
	VerifyAudit(ctx context.Context, anchors map[int64]string) (AuditChain, error)
}

// ErrAuditAltered means the audit log no longer holds what was recorded:
// an entry was edited, removed or inserted, or the newest ones were cut.
var ErrAuditAltered = errors.New("audit log altered")

var auditAnchorRE = regexp.MustCompile(`^([1-9][0-9]{0,17}):(?:sha256:)?([0-9a-fA-F]{64})$`)

// ParseAuditAnchor reads an anchor as the server logs it, "N:HASH" (an
// entry id and its 64 hex digits; "N:sha256:HASH" too). ErrInvalid if it
// is not one.
func ParseAuditAnchor(v string) (id int64, hash string, err error) {
	m := auditAnchorRE.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, "", fmt.Errorf("%w: %q is not ID:HASH (an entry id and the 64 hex digits logged with it)", ErrInvalid, v)
	}
	id, err = strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return id, strings.ToLower(m[2]), nil
}

// AuditChain is what VerifyAudit checked.
type AuditChain struct {
	// Unchained counts the entries recorded before the log became a chain
	// (schema migration 011_audit_chain), which cannot be checked.
	Unchained int64
	// Entries counts the chained entries checked, from First to Head.
	Entries     int64
	First, Head int64
	FirstAt     time.Time // when First was recorded
	HeadHash    string
	// Anchors counts the anchors checked; Expired those older than the
	// oldest entry kept (deleted by the audit period or by hand: the
	// chain cannot tell), which were not checked.
	Anchors, Expired int
}

// auditHash is the hash of an entry that follows the entry with hash prev:
// SHA-256 over a version tag, prev and the stored fields, each
// length-prefixed so that no two entries encode alike.
func auditHash(prev string, id, at int64, uid sql.NullInt64, actor, action, target, addr, detail string) string {
	h := sha256.New()
	var n [8]byte
	put := func(v string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	put("bonafide-audit-v1")
	put(prev)
	for _, v := range []int64{id, at, uid.Int64} {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	if uid.Valid {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	for _, v := range []string{actor, action, target, addr, detail} {
		put(v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// maxAuditText is the longest text field kept, in bytes; longer values
// (a typed e-mail address, a reason) are cut at a character boundary.
const maxAuditText = 320

func auditText(v string) string {
	v = strings.Map(DisplaySafe, strings.ToValidUTF8(v, ""))
	if len(v) <= maxAuditText {
		return v
	}
	cut := maxAuditText
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

// RecordAudit implements Audit.
func (s *SQLite) RecordAudit(ctx context.Context, e AuditEvent) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("%w: an audit entry needs an actor and an action", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	var uid any
	if e.UserID != 0 {
		uid = e.UserID
	}
	at, actor, action, target, addr, detail := ms(e.At), auditText(e.Actor), auditText(e.Action), auditText(e.Target), auditText(e.Addr), auditText(e.Detail)
	// The transaction is IMMEDIATE (OpenSQLiteDB), so the newest entry
	// cannot change between reading its hash and appending: also not from
	// a command line run next to the server.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var prev string
	switch err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&prev); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_events (at, user_id, actor, action, target, addr, detail, prev) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		at, uid, actor, action, target, addr, detail, prev)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	hash := auditHash(prev, id, at, sql.NullInt64{Int64: e.UserID, Valid: e.UserID != 0}, actor, action, target, addr, detail)
	if _, err := tx.ExecContext(ctx, `UPDATE audit_events SET hash = ? WHERE id = ?`, hash, id); err != nil {
		return err
	}
	return tx.Commit()
}

func scanAudit(r scanner) (AuditEvent, error) {
	var e AuditEvent
	var at int64
	var uid sql.NullInt64
	if err := r.Scan(&e.ID, &at, &uid, &e.Actor, &e.Action, &e.Target, &e.Addr, &e.Detail); err != nil {
		return AuditEvent{}, err
	}
	e.At, e.UserID = fromMS(at), uid.Int64
	return e, nil
}

// AuditEvents implements Audit.
func (s *SQLite) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		return nil, fmt.Errorf("%w: at most 1000 audit entries at a time", ErrInvalid)
	}
	var where []string
	var args []any
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if f.Actor != "" {
		where, args = append(where, "lower(actor) = lower(?)"), append(args, f.Actor)
	}
	if prefix, ok := strings.CutSuffix(f.Action, "."); ok {
		where, args = append(where, "substr(action, 1, ?) = ?"), append(args, len(prefix)+1, prefix+".")
	} else if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	q := `SELECT id, at, user_id, actor, action, target, addr, detail FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	return queryAll(ctx, s.db, scanAudit, q, append(args, f.Limit)...)
}

// DeleteAuditBefore implements Audit.
func (s *SQLite) DeleteAuditBefore(ctx context.Context, before time.Time) (deleted, kept int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE at < ?
		AND id < coalesce((SELECT min(id) FROM audit_events WHERE at >= ?), (SELECT max(id) + 1 FROM audit_events))`, ms(before), ms(before))
	if err != nil {
		return 0, 0, err
	}
	if deleted, err = res.RowsAffected(); err != nil {
		return 0, 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE at < ?`, ms(before)).Scan(&kept); err != nil {
		return 0, 0, err
	}
	return deleted, kept, tx.Commit()
}

// AuditHead implements Audit.
func (s *SQLite) AuditHead(ctx context.Context) (int64, string, error) {
	var id int64
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&id, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, "", nil
	case err != nil:
		return 0, "", err
	case hash == "":
		return 0, "", nil
	}
	return id, hash, nil
}

// VerifyAudit implements Audit. It reads the log in one query, oldest
// first, one entry at a time: one statement reads one snapshot, so the
// audit period deleting entries meanwhile does not break what it reads.
func (s *SQLite) VerifyAudit(ctx context.Context, anchors map[int64]string) (AuditChain, error) {
	var c AuditChain
	var lastUnchained, seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT last_unchained FROM audit_chain`).Scan(&lastUnchained); err != nil {
		return c, fmt.Errorf("%w: the chain's start is not recorded (audit_chain: %v)", ErrAuditAltered, err)
	}
	checked := map[int64]bool{}
	minID := int64(-1)
	if err := s.verifyAuditRows(ctx, &c, &minID, lastUnchained, anchors, checked); err != nil {
		return c, err
	}
	// The largest id ever given (AUTOINCREMENT never reuses one), read
	// after the entries: every id seen is at most seq.
	switch err := s.db.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'`).Scan(&seq); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return c, err
	}
	ids := make([]int64, 0, len(anchors))
	for id := range anchors {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		switch {
		case checked[id]:
		case id > seq || (c.Entries > 0 && id > c.Head):
			return c, auditAltered("the anchor's entry %d is newer than the newest entry kept (the newest entries were cut)", id)
		case minID < 0 || id < minID:
			c.Expired++ // older than every entry kept
		default:
			return c, auditAltered("the anchor's entry %d is gone", id)
		}
	}
	return c, nil
}

func auditAltered(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAuditAltered, fmt.Sprintf(format, args...))
}

// verifyAuditRows checks every entry, oldest first, into c; *minID is set
// to the oldest entry's id.
func (s *SQLite) verifyAuditRows(ctx context.Context, c *AuditChain, minID *int64, lastUnchained int64, anchors map[int64]string, checked map[int64]bool) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, user_id, actor, action, target, addr, detail, prev, hash
		FROM audit_events ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		var uid sql.NullInt64
		var actor, action, target, addr, detail, prev, hash string
		if err := rows.Scan(&id, &at, &uid, &actor, &action, &target, &addr, &detail, &prev, &hash); err != nil {
			return err
		}
		if *minID < 0 {
			*minID = id
		}
		switch {
		case hash == "" && c.Entries == 0 && id <= lastUnchained:
			if _, ok := anchors[id]; ok {
				return auditAltered("the anchor's entry %d has no hash (its hash was removed)", id)
			}
			c.Unchained++ // recorded before the chain began
			continue
		case hash == "" && c.Entries == 0:
			return auditAltered("entry %d has no hash but is newer than the chain's start (inserted, or its hash removed)", id)
		case hash == "":
			return auditAltered("entry %d has no hash but follows chained entry %d (inserted, or its hash removed)", id, c.Head)
		case c.Entries == 0 && c.Unchained > 0 && prev != "":
			return auditAltered("entry %d follows entries without a hash but does not start the chain (the hashes before it were removed)", id)
		case c.Entries > 0 && prev != c.HeadHash:
			return auditAltered("entry %d does not follow entry %d (the entries between them were removed, or the chain was rewritten from there)", id, c.Head)
		case auditHash(prev, id, at, uid, actor, action, target, addr, detail) != hash:
			return auditAltered("entry %d does not match its hash (edited after it was recorded)", id)
		}
		if c.Entries == 0 {
			c.First, c.FirstAt = id, fromMS(at)
		}
		c.Entries++
		c.Head, c.HeadHash = id, hash
		if want, ok := anchors[id]; ok {
			if want != hash {
				return auditAltered("entry %d has hash %s, not the anchor's %s (the chain was rewritten from there or before)", id, hash, want)
			}
			checked[id] = true
			c.Anchors++
		}
	}
	return rows.Err()
}
