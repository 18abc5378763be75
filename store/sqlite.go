package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// SQLite implements Store on one SQLite file in WAL mode.
type SQLite struct {
	db  *sql.DB
	log *slog.Logger

	closeOnce sync.Once
	closeErr  error
	isClosed  atomic.Bool
}

var _ Store = (*SQLite)(nil)

// OpenSQLiteDB opens a SQLite file with the pragmas bonafide uses
// everywhere: WAL journal, a 10 s busy timeout, foreign keys, deleted
// content overwritten (secure_delete), and
// transactions that take the write lock at BEGIN (so two writers wait for
// each other instead of failing with SQLITE_BUSY). The file and its
// -wal/-shm are made readable by their owner only (0600) first.
func OpenSQLiteDB(path string) (*sql.DB, error) {
	if err := restrictSQLite(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Deleted rows (a deleted interview's candidate, report, a webhook
	// job's event) are overwritten, not left in free pages.
	q.Add("_pragma", "secure_delete(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return db, nil
}

// OpenSQLite opens (creating if needed) the database at path and applies
// every pending schema migration.
func OpenSQLite(ctx context.Context, path string, log *slog.Logger) (*SQLite, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := OpenSQLiteDB(path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &SQLite{db: db, log: log}
	if err := s.migrate(ctx, ""); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s: %w", path, err), db.Close())
	}
	return s, nil
}

// migrate applies migrations/NNN_*.sql in order, each in its own
// transaction, recording them in schema_migrations; applied ones are
// skipped. With upTo set (a version such as "002_live_sessions") it stops
// after that version, which tests use to build an older database.
func (s *SQLite) migrate(ctx context.Context, upTo string) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    PRIMARY KEY,
		applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		if upTo != "" && version > upTo {
			break
		}
		if err := s.applyMigration(ctx, name, version); err != nil {
			return fmt.Errorf("%s: %w", version, err)
		}
	}
	return nil
}

func (s *SQLite) applyMigration(ctx context.Context, name, version string) error {
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, ms(time.Now())); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.log.Info("applied schema migration", "version", version)
	return nil
}

// Ping checks that the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	if s.closed() {
		return ErrClosed
	}
	return s.db.PingContext(ctx)
}

func (s *SQLite) closed() bool { return s.isClosed.Load() }

// Close closes the database. It is idempotent.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() {
		s.isClosed.Store(true)
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

// ---- users ----

// CreateUser implements Users.
func (s *SQLite) CreateUser(ctx context.Context, email string, role Role, passwordHash string) (User, error) {
	email = strings.TrimSpace(email)
	if email == "" || !strings.Contains(email, "@") || len(email) > MaxEmail {
		return User{}, fmt.Errorf("%w: e-mail %q (an address with @, at most %d bytes)", ErrInvalid, email, MaxEmail)
	}
	if !role.Valid() {
		return User{}, fmt.Errorf("%w: role %q (admin or recruiter)", ErrInvalid, role)
	}
	if passwordHash == "" {
		return User{}, fmt.Errorf("%w: empty password hash", ErrInvalid)
	}
	now := time.Now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (email, role, password_hash, created_at) VALUES (?, ?, ?, ?)`,
		email, string(role), passwordHash, ms(now))
	if isUnique(err) {
		return User{}, fmt.Errorf("user %s: %w", email, ErrExists)
	}
	if err != nil {
		return User{}, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return User{}, err
	}
	return User{ID: id, Email: email, Role: role, PasswordHash: passwordHash, CreatedAt: fromMS(ms(now))}, nil
}

const userCols = `u.id, u.email, u.role, u.password_hash, u.created_at, u.disabled_at`

type scanner interface{ Scan(dest ...any) error }

// scanID scans a row of one text column.
func scanID(r scanner) (string, error) {
	var id string
	err := r.Scan(&id)
	return id, err
}

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanUser(r scanner, extra ...any) (User, error) {
	var u User
	var role string
	var created int64
	var disabled sql.NullInt64
	dest := append([]any{&u.ID, &u.Email, &role, &u.PasswordHash, &created, &disabled}, extra...)
	if err := r.Scan(dest...); err != nil {
		return User{}, err
	}
	u.Role, u.CreatedAt, u.DisabledAt = Role(role), fromMS(created), optTime(disabled)
	return u, nil
}

// UserByEmail implements Users.
func (s *SQLite) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.email = ?`, strings.TrimSpace(email)))
	return u, notFound(err, "user "+email)
}

// UserByID implements Users.
func (s *SQLite) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = ?`, id))
	return u, notFound(err, "user")
}

// CountUsers implements Users.
func (s *SQLite) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// ListUsers implements Users.
func (s *SQLite) ListUsers(ctx context.Context) ([]User, error) {
	return queryAll(ctx, s.db, func(r scanner) (User, error) { return scanUser(r) },
		`SELECT `+userCols+` FROM users u ORDER BY u.created_at, u.id`)
}

// DisableUser implements Users.
func (s *SQLite) DisableUser(ctx context.Context, id int64, now time.Time) (int64, error) {
	return s.updateUserEndSessions(ctx, id, `UPDATE users SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?`, ms(now), id)
}

// EnableUser implements Users.
func (s *SQLite) EnableUser(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET disabled_at = NULL WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetPasswordHash implements Users.
func (s *SQLite) SetPasswordHash(ctx context.Context, id int64, passwordHash string) (int64, error) {
	if passwordHash == "" {
		return 0, fmt.Errorf("%w: empty password hash", ErrInvalid)
	}
	return s.updateUserEndSessions(ctx, id, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id)
}

// updateUserEndSessions runs query, an UPDATE of user id, and deletes the
// user's sessions in the same transaction; it returns how many sessions
// went, or ErrNotFound when the UPDATE matched no user.
func (s *SQLite) updateUserEndSessions(ctx context.Context, id int64, query string, args ...any) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n == 0 {
		return 0, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	res, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// ---- sessions ----

// CreateSession implements Sessions.
func (s *SQLite) CreateSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		se.TokenHash, se.UserID, se.CSRF, ms(se.CreatedAt), ms(se.ExpiresAt))
	if isUnique(err) {
		return fmt.Errorf("session: %w", ErrExists)
	}
	return err
}

// SessionByHash implements Sessions.
func (s *SQLite) SessionByHash(ctx context.Context, hash []byte, now time.Time) (Session, User, error) {
	var se Session
	var created, expires int64
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+`, s.token_hash, s.csrf, s.created_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`, hash, ms(now)),
		&se.TokenHash, &se.CSRF, &created, &expires)
	if err != nil {
		return Session{}, User{}, notFound(err, "session")
	}
	se.UserID, se.CreatedAt, se.ExpiresAt = u.ID, fromMS(created), fromMS(expires)
	return se, u, nil
}

// DeleteSession implements Sessions.
func (s *SQLite) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
	return err
}

// DeleteExpiredSessions implements Sessions.
func (s *SQLite) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---- tokens ----

// CreateToken implements Tokens.
func (s *SQLite) CreateToken(ctx context.Context, userID int64, name string, hash []byte, expires time.Time) (Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(hash) == 0 {
		return Token{}, fmt.Errorf("%w: a token needs a name and a hash", ErrInvalid)
	}
	now := time.Now()
	var exp any
	var expAt *time.Time
	if !expires.IsZero() {
		exp = ms(expires)
		expAt = optTime(sql.NullInt64{Int64: ms(expires), Valid: true})
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		userID, name, hash, ms(now), exp)
	if isUnique(err) {
		return Token{}, fmt.Errorf("token %q: %w", name, ErrExists)
	}
	if err != nil {
		return Token{}, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Token{}, err
	}
	return Token{ID: id, UserID: userID, Name: name, Hash: hash, CreatedAt: fromMS(ms(now)), ExpiresAt: expAt}, nil
}

// UserByTokenHash implements Tokens.
func (s *SQLite) UserByTokenHash(ctx context.Context, hash []byte, now time.Time) (User, Token, error) {
	var t Token
	var created int64
	var expires, used sql.NullInt64
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+`, t.id, t.name, t.token_hash, t.created_at, t.expires_at, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND u.disabled_at IS NULL`, hash),
		&t.ID, &t.Name, &t.Hash, &created, &expires, &used)
	if err != nil {
		return User{}, Token{}, notFound(err, "token")
	}
	t.UserID, t.CreatedAt, t.ExpiresAt, t.LastUsedAt = u.ID, fromMS(created), optTime(expires), optTime(used)
	if t.Expired(now) {
		return User{}, Token{}, fmt.Errorf("token %q: %w", t.Name, ErrExpired)
	}
	return u, t, nil
}

// TouchToken implements Tokens.
func (s *SQLite) TouchToken(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		ms(now), id, ms(now.Add(-time.Minute)))
	return err
}

// ListTokens implements Tokens.
func (s *SQLite) ListTokens(ctx context.Context, userID int64) ([]Token, error) {
	return queryAll(ctx, s.db, func(r scanner) (Token, error) {
		var t Token
		var created int64
		var expires, used sql.NullInt64
		if err := r.Scan(&t.ID, &t.UserID, &t.Name, &created, &expires, &used); err != nil {
			return Token{}, err
		}
		t.CreatedAt, t.ExpiresAt, t.LastUsedAt = fromMS(created), optTime(expires), optTime(used)
		return t, nil
	}, `SELECT t.id, t.user_id, t.name, t.created_at, t.expires_at, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE ? = 0 OR t.user_id = ? ORDER BY u.email, t.name`, userID, userID)
}

// DeleteToken implements Tokens.
func (s *SQLite) DeleteToken(ctx context.Context, userID int64, name string) error {
	name = strings.TrimSpace(name)
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = ? AND name = ?`, userID, name)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("token %q: %w", name, ErrNotFound)
	}
	return nil
}

// ---- interviews ----

const ivCols = `id, coalesce(owner_id, 0), candidate, title, source, media_file, original_name, size_bytes,
	duration_seconds, status, progress, error, attempts, verdict, authenticity, probability,
	created_at, started_at, finished_at, region, analysis_run, media_deleted_at`

func scanInterview(r scanner) (Interview, error) {
	var iv Interview
	var status string
	var auth sql.NullInt64
	var prob sql.NullFloat64
	var created int64
	var started, finished, mediaDeleted sql.NullInt64
	if err := r.Scan(&iv.ID, &iv.OwnerID, &iv.Candidate, &iv.Title, &iv.Source, &iv.MediaFile, &iv.OriginalName,
		&iv.SizeBytes, &iv.Duration, &status, &iv.Progress, &iv.Error, &iv.Attempts, &iv.Verdict, &auth, &prob,
		&created, &started, &finished, &iv.Region, &iv.Run, &mediaDeleted); err != nil {
		return Interview{}, err
	}
	iv.Status = Status(status)
	if auth.Valid {
		a := int(auth.Int64)
		iv.Authenticity = &a
	}
	if prob.Valid {
		p := prob.Float64
		iv.Probability = &p
	}
	iv.CreatedAt, iv.StartedAt, iv.FinishedAt = fromMS(created), optTime(started), optTime(finished)
	iv.MediaDeletedAt = optTime(mediaDeleted)
	return iv, nil
}

// CreateInterview implements Interviews.
func (s *SQLite) CreateInterview(ctx context.Context, iv Interview) error {
	if !validID.MatchString(iv.ID) {
		return ErrBadID
	}
	if !iv.Status.Valid() {
		return fmt.Errorf("%w: status %q", ErrInvalid, iv.Status)
	}
	if iv.Source == "" {
		iv.Source = "upload"
	}
	if iv.CreatedAt.IsZero() {
		iv.CreatedAt = time.Now()
	}
	var owner any
	if iv.OwnerID != 0 {
		owner = iv.OwnerID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO interviews (id, owner_id, candidate, title, source, media_file,
		original_name, size_bytes, duration_seconds, status, progress, created_at, region)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		iv.ID, owner, iv.Candidate, iv.Title, iv.Source, iv.MediaFile, iv.OriginalName, iv.SizeBytes,
		iv.Duration, string(iv.Status), iv.Progress, ms(iv.CreatedAt), iv.Region)
	if isUnique(err) {
		return fmt.Errorf("interview %s: %w", iv.ID, ErrExists)
	}
	return err
}

// Interview implements Interviews.
func (s *SQLite) Interview(ctx context.Context, id string) (Interview, error) {
	iv, err := scanInterview(s.db.QueryRowContext(ctx, `SELECT `+ivCols+` FROM interviews WHERE id = ?`, id))
	return iv, notFound(err, "interview "+id)
}

// ListInterviews implements Interviews.
func (s *SQLite) ListInterviews(ctx context.Context, f ListFilter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 200 {
		f.Limit = 200
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Verdict != "" {
		where = append(where, "verdict = ?")
		args = append(args, f.Verdict)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		pat := "%" + likeEscape(strings.ToLower(q)) + "%"
		where = append(where, `(lower(candidate) LIKE ? ESCAPE '\' OR lower(title) LIKE ? ESCAPE '\' OR lower(original_name) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat, pat)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var page Page
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM interviews`+cond, args...).Scan(&page.Total); err != nil {
		return Page{}, err
	}
	items, err := queryAll(ctx, s.db, scanInterview, `SELECT `+ivCols+` FROM interviews`+cond+
		` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return Page{}, err
	}
	page.Items = items
	return page, nil
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func (s *SQLite) update(ctx context.Context, id, query string, args ...any) error {
	return notFoundIn(oneRow(s.db.ExecContext(ctx, query, args...)), "interview "+id)
}

// notFoundIn names what was not found in an ErrNotFound; other errors
// (and nil) are returned as they are.
func notFoundIn(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

// oneRow returns the error of a statement that must change a row:
// ErrNotFound when it changed none.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// StartAttempt implements Interviews.
func (s *SQLite) StartAttempt(ctx context.Context, id string, attempt int, now time.Time) error {
	return s.update(ctx, id, `UPDATE interviews SET status = 'processing', progress = 0, attempts = ?,
		started_at = ?, finished_at = NULL WHERE id = ?`, attempt, ms(now), id)
}

// SetProgress implements Interviews.
func (s *SQLite) SetProgress(ctx context.Context, id string, progress float64) error {
	progress = min(max(progress, 0), 1)
	return s.update(ctx, id, `UPDATE interviews SET progress = ? WHERE id = ? AND status = 'processing'`, progress, id)
}

// Finish implements Interviews.
func (s *SQLite) Finish(ctx context.Context, id string, out Outcome, now time.Time) error {
	if !json.Valid(out.Report) {
		return fmt.Errorf("%w: report is not JSON", ErrInvalid)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var auth, prob any
	if out.Authenticity != nil {
		auth = *out.Authenticity
	}
	if out.Probability != nil {
		prob = *out.Probability
	}
	res, err := tx.ExecContext(ctx, `UPDATE interviews SET status = 'done', progress = 1, error = '', verdict = ?,
		authenticity = ?, probability = ?, finished_at = ? WHERE id = ?`, out.Verdict, auth, prob, ms(now), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("interview %s: %w", id, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reports (interview_id, json, created_at) VALUES (?, ?, ?)
		ON CONFLICT (interview_id) DO UPDATE SET json = excluded.json, created_at = excluded.created_at`,
		id, []byte(out.Report), ms(now)); err != nil {
		return err
	}
	return tx.Commit()
}

// Fail implements Interviews.
func (s *SQLite) Fail(ctx context.Context, id, msg string, now time.Time) error {
	return s.update(ctx, id, `UPDATE interviews SET status = 'failed', error = ?, finished_at = ? WHERE id = ?`, msg, ms(now), id)
}

// Requeue implements Interviews.
func (s *SQLite) Requeue(ctx context.Context, id, msg string) error {
	return s.update(ctx, id, `UPDATE interviews SET status = 'queued', progress = 0, error = ? WHERE id = ?`, msg, id)
}

// Report implements Interviews.
func (s *SQLite) Report(ctx context.Context, id string) (json.RawMessage, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT json FROM reports WHERE interview_id = ?`, id).Scan(&b)
	if err != nil {
		return nil, notFound(err, "report of "+id)
	}
	return json.RawMessage(b), nil
}

// EditInterview implements Interviews.
func (s *SQLite) EditInterview(ctx context.Context, id string, e InterviewEdit) (Interview, error) {
	candidate, err := editedField("candidate", e.Candidate)
	if err != nil {
		return Interview{}, err
	}
	title, err := editedField("title", e.Title)
	if err != nil {
		return Interview{}, err
	}
	iv, err := scanInterview(s.db.QueryRowContext(ctx, `UPDATE interviews
		SET candidate = coalesce(?, candidate), title = coalesce(?, title) WHERE id = ? RETURNING `+ivCols,
		candidate, title, id))
	return iv, notFound(err, "interview "+id)
}

// editedField is the SQL argument for one field of an InterviewEdit: NULL
// (keep the stored value) for nil, else the cleaned value, or ErrInvalid
// when it is too long.
func editedField(name string, v *string) (any, error) {
	if v == nil {
		return nil, nil
	}
	clean, fits := CleanField(*v)
	if !fits {
		return nil, fmt.Errorf("%w: the %s may have at most %d characters", ErrInvalid, name, MaxField)
	}
	return clean, nil
}

// Reanalyse implements Interviews.
func (s *SQLite) Reanalyse(ctx context.Context, id, region string) (Interview, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Interview{}, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	iv, err := scanInterview(tx.QueryRowContext(ctx, `UPDATE interviews
		SET status = 'queued', progress = 0, error = '', attempts = 0, verdict = '', authenticity = NULL,
			probability = NULL, started_at = NULL, finished_at = NULL, region = ?, analysis_run = analysis_run + 1
		WHERE id = ? AND status IN ('done', 'failed') AND media_deleted_at IS NULL RETURNING `+ivCols, region, id))
	if errors.Is(err, sql.ErrNoRows) {
		var status string
		var mediaDeleted sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT status, media_deleted_at FROM interviews WHERE id = ?`, id).Scan(&status, &mediaDeleted)
		switch {
		case err == nil && mediaDeleted.Valid:
			return Interview{}, fmt.Errorf("interview %s: %w", id, ErrMediaDeleted)
		case err == nil:
			return Interview{}, fmt.Errorf("interview %s is %s: %w", id, status, ErrBusy)
		}
		return Interview{}, notFound(err, "interview "+id)
	}
	if err != nil {
		return Interview{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM reports WHERE interview_id = ?`, id); err != nil {
		return Interview{}, err
	}
	return iv, tx.Commit()
}

// DeleteInterview implements Interviews.
func (s *SQLite) DeleteInterview(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// The live session's record names the candidate and keeps the live
	// scores: it goes with the recording.
	if _, err := tx.ExecContext(ctx, `DELETE FROM live_sessions WHERE interview_id = ?`, id); err != nil {
		return err
	}
	if err := oneRow(tx.ExecContext(ctx, `DELETE FROM interviews WHERE id = ?`, id)); err != nil {
		return notFoundIn(err, "interview "+id)
	}
	return tx.Commit()
}

// DeleteExpiredInterview implements Interviews.
func (s *SQLite) DeleteExpiredInterview(ctx context.Context, id string, before time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var status string
	var created int64
	if err := tx.QueryRowContext(ctx, `SELECT status, created_at FROM interviews WHERE id = ?`, id).Scan(&status, &created); err != nil {
		return notFound(err, "interview "+id)
	}
	if (status != string(StatusDone) && status != string(StatusFailed)) || created >= ms(before) {
		return fmt.Errorf("interview %s is %s, created %s: %w", id, status, fromMS(created).UTC().Format(time.RFC3339), ErrBusy)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM live_sessions WHERE interview_id = ?`, id); err != nil {
		return err
	}
	if err := oneRow(tx.ExecContext(ctx, `DELETE FROM interviews WHERE id = ?`, id)); err != nil {
		return notFoundIn(err, "interview "+id)
	}
	return tx.Commit()
}

// ExpiredMedia implements Interviews.
func (s *SQLite) ExpiredMedia(ctx context.Context, before time.Time, limit int) ([]Interview, error) {
	return queryAll(ctx, s.db, scanInterview, `SELECT `+ivCols+` FROM interviews
		WHERE status IN ('done', 'failed') AND media_deleted_at IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?`,
		ms(before), min(max(limit, 1), 200))
}

// DeleteExpiredMedia implements Interviews.
func (s *SQLite) DeleteExpiredMedia(ctx context.Context, id string, before, now time.Time) (Interview, error) {
	iv, err := scanInterview(s.db.QueryRowContext(ctx, `UPDATE interviews SET media_deleted_at = ?
		WHERE id = ? AND status IN ('done', 'failed') AND media_deleted_at IS NULL AND created_at < ? RETURNING `+ivCols,
		ms(now), id, ms(before)))
	if !errors.Is(err, sql.ErrNoRows) {
		return iv, err
	}
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM interviews WHERE id = ?`, id).Scan(&one); err != nil {
		return Interview{}, notFound(err, "interview "+id)
	}
	return Interview{}, fmt.Errorf("interview %s: its media are not due for deletion: %w", id, ErrBusy)
}

// Unfinished implements Interviews.
func (s *SQLite) Unfinished(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s.db, scanID, `SELECT id FROM interviews WHERE status IN ('queued', 'processing') ORDER BY created_at`)
}

// ExpiredInterviews implements Interviews.
func (s *SQLite) ExpiredInterviews(ctx context.Context, before time.Time, limit int) ([]Interview, error) {
	return queryAll(ctx, s.db, scanInterview, `SELECT `+ivCols+` FROM interviews
		WHERE status IN ('done', 'failed') AND created_at < ? ORDER BY created_at, id LIMIT ?`,
		ms(before), min(max(limit, 1), 200))
}

// CountByStatus implements Interviews.
func (s *SQLite) CountByStatus(ctx context.Context) (map[Status]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM interviews GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Status]int{StatusQueued: 0, StatusProcessing: 0, StatusDone: 0, StatusFailed: 0}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[Status(st)] = n
	}
	return out, rows.Err()
}

// ---- webhooks ----

// CreateWebhook implements Webhooks.
func (s *SQLite) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	if w.URL == "" || w.Secret == "" {
		return Webhook{}, fmt.Errorf("%w: a webhook needs a URL and a secret", ErrInvalid)
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = time.Now()
	}
	var by any
	if w.CreatedBy != 0 {
		by = w.CreatedBy
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO webhooks (url, secret, created_by, created_at) VALUES (?, ?, ?, ?)`,
		w.URL, w.Secret, by, ms(w.CreatedAt))
	if err != nil {
		return Webhook{}, err
	}
	if w.ID, err = res.LastInsertId(); err != nil {
		return Webhook{}, err
	}
	w.CreatedAt = fromMS(ms(w.CreatedAt))
	return w, nil
}

func scanWebhook(r scanner) (Webhook, error) {
	var w Webhook
	var created int64
	if err := r.Scan(&w.ID, &w.URL, &w.Secret, &w.CreatedBy, &created); err != nil {
		return Webhook{}, err
	}
	w.CreatedAt = fromMS(created)
	return w, nil
}

// Webhooks implements Webhooks.
func (s *SQLite) Webhooks(ctx context.Context) ([]Webhook, error) {
	return queryAll(ctx, s.db, scanWebhook, `SELECT id, url, secret, coalesce(created_by, 0), created_at FROM webhooks ORDER BY id`)
}

// Webhook implements Webhooks.
func (s *SQLite) Webhook(ctx context.Context, id int64) (Webhook, error) {
	w, err := scanWebhook(s.db.QueryRowContext(ctx, `SELECT id, url, secret, coalesce(created_by, 0), created_at FROM webhooks WHERE id = ?`, id))
	return w, notFound(err, "webhook")
}

// DeleteWebhook implements Webhooks.
func (s *SQLite) DeleteWebhook(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("webhook %d: %w", id, ErrNotFound)
	}
	return nil
}
