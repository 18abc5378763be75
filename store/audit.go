package store

import (
	"context"
	"database/sql"
	"fmt"
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

// Audit keeps the audit log. Entries are only added, and deleted when
// older than the audit period.
type Audit interface {
	// RecordAudit appends e (ID set by the store; At now when zero).
	// ErrInvalid without an actor or an action.
	RecordAudit(ctx context.Context, e AuditEvent) error
	// AuditEvents returns the entries f selects, newest first.
	AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// DeleteAuditBefore deletes the entries recorded before before and
	// returns how many.
	DeleteAuditBefore(ctx context.Context, before time.Time) (int64, error)
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
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_events (at, user_id, actor, action, target, addr, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ms(e.At), uid, auditText(e.Actor), auditText(e.Action), auditText(e.Target), auditText(e.Addr), auditText(e.Detail))
	return err
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
func (s *SQLite) DeleteAuditBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM audit_events WHERE at < ?`, ms(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
