package store

import "errors"

// Sentinel errors. Callers check them with errors.Is.
var (
	// ErrNotFound means the row asked for does not exist (or has expired).
	ErrNotFound = errors.New("not found")
	// ErrExists means a row with the same unique key already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid means a value cannot be stored (bad role, empty e-mail…).
	ErrInvalid = errors.New("invalid value")
	// ErrLimit means a per-owner limit on stored rows is reached.
	ErrLimit = errors.New("limit reached")
	// ErrBusy means the interview is queued or being analysed, and cannot
	// be put back in the queue.
	ErrBusy = errors.New("analysis in progress")
	// ErrMediaDeleted means the interview's recording was deleted by the
	// retention policy (its report is kept): it cannot be analysed again.
	ErrMediaDeleted = errors.New("recording deleted")
	// ErrExpired means the credential has expired (an API token past its
	// expiry).
	ErrExpired = errors.New("expired")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store closed")
)
