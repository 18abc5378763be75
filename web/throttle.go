package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// loginThrottle counts failed logins per key (an account, a client address)
// over a sliding window. A key that reached max failures is refused until
// its oldest counted failure leaves the window, whatever the password: a
// guesser gets max tries per window, not bcrypt's few per second. It is
// safe for concurrent use; memory is bounded by maxKeys (beyond it expired
// keys are dropped first; a new key that still does not fit is not tracked,
// and fail says so, so that the login is refused rather than let through
// uncounted).
type loginThrottle struct {
	max     int
	window  time.Duration
	maxKeys int
	now     func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time // oldest first, at most max
}

func newLoginThrottle(max int, window time.Duration) *loginThrottle {
	return &loginThrottle{max: max, window: window, maxKeys: 100_000, now: time.Now, fails: map[string][]time.Time{}}
}

// blocked reports whether key is refused now, and for how long. A
// throttle with max 0 never refuses.
func (t *loginThrottle) blocked(key string) (time.Duration, bool) {
	if t.max <= 0 {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.recentLocked(key, t.now())
	if len(f) < t.max {
		return 0, false
	}
	return f[0].Add(t.window).Sub(t.now()), true
}

// fail counts a failed login of key. It returns false when it could not:
// every tracked key is still within the window and there is no room for a
// new one.
func (t *loginThrottle) fail(key string) bool {
	if t.max <= 0 {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.recentLocked(key, now)
	if f == nil && len(t.fails) >= t.maxKeys {
		t.pruneLocked(now)
		if len(t.fails) >= t.maxKeys {
			return false
		}
	}
	if len(f) == t.max {
		f = f[1:]
	}
	t.fails[key] = append(f, now)
	return true
}

// undo uncounts key's newest failure (an attempt counted before its
// password was checked, which then succeeded).
func (t *loginThrottle) undo(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.fails[key]; len(f) > 1 {
		t.fails[key] = f[:len(f)-1]
	} else {
		delete(t.fails, key)
	}
}

// reset forgets key's failures (after a successful login).
func (t *loginThrottle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

// recentLocked drops key's failures older than the window and returns the
// rest.
func (t *loginThrottle) recentLocked(key string, now time.Time) []time.Time {
	f := t.fails[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= t.window {
		i++
	}
	switch {
	case i == len(f):
		delete(t.fails, key)
		return nil
	case i > 0:
		f = append(f[:0], f[i:]...)
		t.fails[key] = f
	}
	return f
}

func (t *loginThrottle) pruneLocked(now time.Time) {
	for k := range t.fails {
		t.recentLocked(k, now)
	}
}

// passwordChecker runs bcrypt comparisons, at most one per core at a time:
// each costs a quarter of a second of CPU, so a flood of logins (over many
// accounts and addresses, which the throttles do not stop) must queue
// rather than take every core from the analyses and the pages. A check
// that waited longer than wait is answered 503.
type passwordChecker struct {
	slots chan struct{}
	wait  time.Duration
}

func newPasswordChecker(n int, wait time.Duration) *passwordChecker {
	return &passwordChecker{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// errPasswordsBusy answers a login that waited too long for a bcrypt slot.
var errPasswordsBusy = echo.NewHTTPError(http.StatusServiceUnavailable, "too many logins at once; try again in a moment")

// check reports whether pw matches the bcrypt hash.
func (p *passwordChecker) check(ctx context.Context, hash, pw string) (bool, error) {
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return false, errPasswordsBusy
	}
	defer func() { <-p.slots }()
	return checkPassword(hash, pw), nil
}
