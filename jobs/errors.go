package jobs

import "errors"

// Sentinel errors. Callers check them with errors.Is.
var (
	// ErrPermanent, wrapped by a Deliverer's error, means retrying cannot
	// help (the URL is refused by the outbound guard, or the receiver
	// answered 4xx): the delivery is abandoned at once.
	ErrPermanent = errors.New("permanent failure")
	// ErrLocked means another bonafide process already runs the queue of
	// this data folder.
	ErrLocked = errors.New("data folder is in use by another bonafide serve")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("queue closed")
	// ErrNotStarted is returned by calls that need a started queue.
	ErrNotStarted = errors.New("queue not started")
	// ErrJobsRunning is returned by Close when jobs ignored their
	// cancellation: the queue keeps its database and the data folder lock.
	ErrJobsRunning = errors.New("jobs still running after being cancelled")
)
