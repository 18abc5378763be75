// Package store persists bonafide's web-service state: accounts, sessions,
// API tokens, interviews with their reports, and webhooks. The interfaces
// below are all the rest of the program sees; SQLite (modernc.org/sqlite, no
// cgo) implements them today, and a Postgres implementation can replace it
// without touching the web or job code. Uploaded media and evidence files
// live on disk beside the database (see Files).
//
// Times are stored as Unix milliseconds (UTC) so that the schema ports to any
// SQL database unchanged.
package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what an account may do.
type Role string

// Roles. Admins also manage webhooks and may delete any interview;
// recruiters upload, read every report and delete their own interviews.
const (
	RoleAdmin     Role = "admin"
	RoleRecruiter Role = "recruiter"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleRecruiter }

// User is an account.
type User struct {
	ID           int64
	Email        string
	Role         Role
	PasswordHash string // bcrypt
	CreatedAt    time.Time
	// DisabledAt is when the account was disabled; nil while it is active.
	// A disabled account cannot log in and its sessions and API tokens are
	// refused (see Users.DisableUser).
	DisabledAt *time.Time
}

// Disabled reports whether the account is disabled.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// Session is a browser login. Only the SHA-256 hash of the cookie value is
// stored.
type Session struct {
	TokenHash []byte
	UserID    int64
	// CSRF is the session's anti-forgery token, embedded in every form.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Token is an API bearer token. Only the SHA-256 hash of the secret is
// stored; the secret is shown once when the token is created.
type Token struct {
	ID        int64
	UserID    int64
	Name      string
	Hash      []byte
	CreatedAt time.Time
	// ExpiresAt is when the token stops working; nil: never.
	ExpiresAt *time.Time
	// LastUsedAt is when a request last authenticated with it, to the
	// minute (TouchToken); nil: never used.
	LastUsedAt *time.Time
}

// Expired reports whether the token has expired at now.
func (t Token) Expired(now time.Time) bool { return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) }

// Status is an interview's analysis state.
type Status string

// Statuses, in the order an interview passes through them.
const (
	StatusQueued     Status = "queued"
	StatusProcessing Status = "processing"
	StatusDone       Status = "done"
	StatusFailed     Status = "failed"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusQueued, StatusProcessing, StatusDone, StatusFailed:
		return true
	}
	return false
}

// Interview is one recording submitted for analysis.
type Interview struct {
	ID        string
	OwnerID   int64 // 0 when the owner's account was deleted
	Candidate string
	Title     string
	// Source says how the recording arrived: "upload" or, later, "live".
	Source string
	// MediaFile is the stored recording, relative to the data folder.
	MediaFile    string
	OriginalName string
	SizeBytes    int64
	Duration     float64 // seconds, from the probe
	Status       Status
	Progress     float64 // 0–1
	Error        string  // why it failed (or why the last attempt failed)
	Attempts     int
	// Verdict, Authenticity and Probability copy the report's headline for
	// listing and filtering; empty/nil until done.
	Verdict      string
	Authenticity *int
	Probability  *float64
	CreatedAt    time.Time
	StartedAt    *time.Time
	FinishedAt   *time.Time
	// Region is the part of the picture to analyse, in media.Region's
	// text form ("left", "top-right", "x,y,w,h"); "" is the whole picture.
	// The store keeps it as given; the upload checks it.
	Region string
	// Run counts the analyses asked for beyond the first (Reanalyse): the
	// analysis job of an older run does nothing.
	Run int
	// MediaDeletedAt is when the retention policy deleted the recording
	// and the evidence images, keeping the report (DeleteExpiredMedia);
	// nil while they are kept.
	MediaDeletedAt *time.Time
}

// MaxField is the longest candidate name or title kept, in characters
// (runes).
const MaxField = 200

// MaxEmail is the longest e-mail address, in bytes, that an account may
// have (RFC 5321's limit on a forward path); a login with a longer one is
// refused before it is counted or logged.
const MaxEmail = 254

// CleanField is the one rule for an interview's candidate name and title,
// however they arrive: invalid UTF-8 is dropped, surrounding white space
// trimmed and the result cut to MaxField characters. fits reports whether
// the value was short enough not to be cut: an upload keeps the cut value,
// an edit refuses it (see Interviews.EditInterview).
func CleanField(v string) (clean string, fits bool) {
	v = strings.TrimSpace(strings.Map(DisplaySafe, strings.ToValidUTF8(v, "")))
	if utf8.RuneCountInString(v) > MaxField {
		return string([]rune(v)[:MaxField]), false
	}
	return v, true
}

// DisplaySafe is a strings.Map function for text that people read in
// lists: it drops control characters (a line break becomes a space) and the
// bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), with which a name can show other characters than it
// holds ("clip\u202Eexe.mp4" reads "clip4pm.exe"). The plain direction
// marks that right-to-left names use are kept.
func DisplaySafe(r rune) rune {
	switch {
	case r == '\n' || r == '\t' || r == '\r':
		return ' '
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return -1
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return -1
	}
	return r
}

// InterviewEdit is what Interviews.EditInterview changes; a nil field is
// left as it is.
type InterviewEdit struct {
	Candidate *string
	Title     *string
}

// Outcome is what a finished analysis stores.
type Outcome struct {
	Report       json.RawMessage
	Verdict      string
	Authenticity *int
	Probability  *float64
}

// ListFilter selects a page of interviews, newest first.
type ListFilter struct {
	Status  Status // "" = any
	Verdict string // "" = any
	// Query matches candidate, title and original file name (substring,
	// case-insensitive).
	Query  string
	Limit  int // 1–200; 0 means 50
	Offset int
}

// Page is one page of interviews.
type Page struct {
	Items []Interview
	Total int // rows matching the filter
}

// Webhook is a URL that receives signed event notifications.
type Webhook struct {
	ID        int64
	URL       string
	Secret    string // HMAC-SHA256 key, shown once at creation
	CreatedBy int64
	CreatedAt time.Time
}

// Users manages accounts.
type Users interface {
	// CreateUser returns ErrExists when the e-mail is taken and ErrInvalid
	// for an unknown role or an empty e-mail.
	CreateUser(ctx context.Context, email string, role Role, passwordHash string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	// CountUsers returns the number of accounts.
	CountUsers(ctx context.Context) (int, error)
	// ListUsers returns every account, disabled ones included, oldest
	// first.
	ListUsers(ctx context.Context) ([]User, error)
	// DisableUser disables the account and deletes its sessions in one
	// transaction, and returns how many sessions it deleted. From then on
	// the account's sessions and API tokens are refused (SessionByHash and
	// UserByTokenHash answer ErrNotFound) but its tokens stay stored, so
	// that EnableUser brings them back. Disabling a disabled account keeps
	// its DisabledAt and deletes any session left. ErrNotFound for an
	// unknown id.
	DisableUser(ctx context.Context, id int64, now time.Time) (sessions int64, err error)
	// EnableUser makes a disabled account active again (a no-op for an
	// active one); ErrNotFound for an unknown id.
	EnableUser(ctx context.Context, id int64) error
	// SetPasswordHash replaces the account's password hash and deletes its
	// sessions in one transaction, and returns how many sessions it
	// deleted. API tokens are not touched. ErrInvalid for an empty hash,
	// ErrNotFound for an unknown id.
	SetPasswordHash(ctx context.Context, id int64, passwordHash string) (sessions int64, err error)
}

// Sessions manages browser logins.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns a session that has not expired at now, with its
	// user, or ErrNotFound (also when the user is disabled).
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (Session, User, error)
	DeleteSession(ctx context.Context, hash []byte) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// Tokens manages API bearer tokens.
type Tokens interface {
	// CreateToken stores a token that expires at expires (zero: never);
	// ErrExists when the user already has a token of that name.
	CreateToken(ctx context.Context, userID int64, name string, hash []byte, expires time.Time) (Token, error)
	// UserByTokenHash returns the token's owner, or ErrNotFound (also when
	// the owner is disabled); ErrExpired when the token has expired at
	// now.
	UserByTokenHash(ctx context.Context, hash []byte, now time.Time) (User, Token, error)
	// TouchToken records that token id was used at now, unless its last
	// use was recorded less than a minute before (so a busy client costs
	// one write a minute).
	TouchToken(ctx context.Context, id int64, now time.Time) error
	// ListTokens returns the tokens of account userID, or of every account
	// when userID is 0, ordered by account and name. Their Hash is left
	// empty: a listing never needs it.
	ListTokens(ctx context.Context, userID int64) ([]Token, error)
	// DeleteToken revokes the account's token of that name: later requests
	// with it are refused. ErrNotFound when there is no such token.
	DeleteToken(ctx context.Context, userID int64, name string) error
}

// Interviews manages interviews and their reports.
type Interviews interface {
	// CreateInterview stores iv (ID, MediaFile and Status set by the
	// caller); ErrExists when the ID is taken.
	CreateInterview(ctx context.Context, iv Interview) error
	Interview(ctx context.Context, id string) (Interview, error)
	ListInterviews(ctx context.Context, f ListFilter) (Page, error)
	// StartAttempt marks the interview processing with progress 0 and
	// records the attempt number.
	StartAttempt(ctx context.Context, id string, attempt int, now time.Time) error
	// SetProgress records progress (0–1) while processing.
	SetProgress(ctx context.Context, id string, progress float64) error
	// Finish stores the report and marks the interview done.
	Finish(ctx context.Context, id string, out Outcome, now time.Time) error
	// Fail marks the interview failed for good with a message.
	Fail(ctx context.Context, id, msg string, now time.Time) error
	// Requeue marks the interview queued again after a failed attempt that
	// will be retried; msg says why the attempt failed.
	Requeue(ctx context.Context, id, msg string) error
	// Report returns the stored report JSON, or ErrNotFound.
	Report(ctx context.Context, id string) (json.RawMessage, error)
	// EditInterview changes the interview's candidate and title, each
	// cleaned with CleanField, in one statement (two edits of different
	// fields do not undo each other) and returns the interview as it now
	// is. ErrInvalid when a value is longer than MaxField (nothing is
	// changed), ErrNotFound for an unknown id.
	EditInterview(ctx context.Context, id string, e InterviewEdit) (Interview, error)
	// Reanalyse puts a finished (done or failed) interview back in the
	// queue, to be analysed anew in region (the Interview.Region form):
	// in one transaction its report is deleted and its status, progress,
	// verdict, scores, error, attempts and times are reset and Run is
	// incremented. It returns the
	// interview as it now is; ErrBusy while it is queued or processing,
	// ErrMediaDeleted once its recording was deleted (MediaDeletedAt),
	// ErrNotFound for an unknown id. The caller queues the job.
	Reanalyse(ctx context.Context, id, region string) (Interview, error)
	// DeleteInterview removes the interview, its report and the record of
	// the live session it was recorded in, if any (not its files: see
	// Files.RemoveInterview).
	DeleteInterview(ctx context.Context, id string) error
	// Unfinished lists the IDs of queued and processing interviews, oldest
	// first, so that the queue can make sure each has a job.
	Unfinished(ctx context.Context) ([]string, error)
	// ExpiredInterviews returns up to limit (1–200) finished (done or
	// failed) interviews created before before, oldest first: what a
	// retention policy deletes. Queued and processing ones wait until
	// their analysis ends.
	ExpiredInterviews(ctx context.Context, before time.Time, limit int) ([]Interview, error)
	// DeleteExpiredInterview deletes the interview as DeleteInterview
	// does if, in the same transaction, it is still finished and was
	// created before before: ErrBusy when it is not (analysed again
	// meanwhile), ErrNotFound when it is gone.
	DeleteExpiredInterview(ctx context.Context, id string, before time.Time) error
	// ExpiredMedia returns up to limit (1–200) finished interviews created
	// before before whose recording and evidence are still kept, oldest
	// first: what a media retention policy deletes.
	ExpiredMedia(ctx context.Context, before time.Time, limit int) ([]Interview, error)
	// DeleteExpiredMedia records, if the interview is still finished, was
	// created before before and keeps its media, that its recording and
	// evidence are deleted as of now (MediaDeletedAt; from then on it
	// cannot be analysed again), and returns it as it now is; the caller
	// removes the files. ErrBusy when it is not due (analysed again
	// meanwhile, or already done), ErrNotFound when it is gone.
	DeleteExpiredMedia(ctx context.Context, id string, before, now time.Time) (Interview, error)
	// CountByStatus counts interviews per status.
	CountByStatus(ctx context.Context) (map[Status]int, error)
}

// LiveSessions manages live screening sessions (types in
// sessions_live.go). "Sessions" above are browser logins.
type LiveSessions interface {
	// CreateLiveSession stores s in state waiting; ErrExists when its ID or
	// token hash is taken, ErrInvalid for a malformed ID or an empty hash,
	// ErrLimit when its owner already has maxWaiting sessions waiting
	// (maxWaiting ≤ 0 or no owner: no limit).
	CreateLiveSession(ctx context.Context, s LiveSession, maxWaiting int) error
	LiveSession(ctx context.Context, id string) (LiveSession, error)
	// LiveSessionByInterview returns the session whose recording became
	// interview id, or ErrNotFound.
	LiveSessionByInterview(ctx context.Context, interviewID string) (LiveSession, error)
	// ListLiveSessions returns up to limit (1–200) sessions, newest first.
	ListLiveSessions(ctx context.Context, limit int) ([]LiveSession, error)
	// SetLiveState moves the session to state to if it is in one of from,
	// else returns ErrLiveState. Entering LiveLive records StartedAt.
	SetLiveState(ctx context.Context, id string, to LiveState, now time.Time, from ...LiveState) error
	// SaveLiveProgress records a running session's latest score event, its
	// statistics so far and its alert count.
	SaveLiveProgress(ctx context.Context, id string, lastScore, stats json.RawMessage, alerts int) error
	// EndLiveSession marks the session ended with its outcome.
	EndLiveSession(ctx context.Context, id string, end LiveEnd, now time.Time) error
	// AbandonLiveSessions ends every session left live or ending (by a
	// server that stopped without ending them) with error msg and returns
	// their IDs.
	AbandonLiveSessions(ctx context.Context, msg string, now time.Time) ([]string, error)
	// DeleteLiveSession removes an ended session's record and the
	// interview made from its recording (with its report), in one
	// transaction, and returns both as they were (the interview nil when
	// there was none). ErrLiveState unless the session has ended;
	// ErrNotFound for an unknown id. The files are the caller's to remove
	// (Files.RemoveInterview).
	DeleteLiveSession(ctx context.Context, id string) (LiveSession, *Interview, error)
	// ExpiredLiveSessions returns up to limit (1–200) sessions a retention
	// policy deletes, oldest first: sessions waiting for a publisher or
	// ended, that made no interview, whose retention clock started before
	// before. The clock starts when the session ended, or when it was
	// created if no publisher ever started it (LiveSession.RetainedFrom).
	// Waiting sessions are the caller's to end first. The record of a
	// session that made an interview goes with that interview
	// (DeleteInterview), when the interview expires.
	ExpiredLiveSessions(ctx context.Context, before time.Time, limit int) ([]LiveSession, error)
}

// Webhooks manages webhook subscriptions.
type Webhooks interface {
	CreateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	Webhooks(ctx context.Context) ([]Webhook, error)
	Webhook(ctx context.Context, id int64) (Webhook, error)
	DeleteWebhook(ctx context.Context, id int64) error
}

// Store is every persistence interface plus life-cycle. Close is
// idempotent.
type Store interface {
	Users
	Sessions
	Tokens
	Interviews
	Webhooks
	LiveSessions
	Audit
	Ping(ctx context.Context) error
	Close() error
}
