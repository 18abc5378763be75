package web

import (
	"sync"
	"time"
)

// loginThrottle counts failed logins per key (an account, a client address)
// over a sliding window. A key that reached max failures is refused until
// its oldest counted failure leaves the window, whatever the password: a
// guesser gets max tries per window, not bcrypt's few per second. It is
// safe for concurrent use; memory is bounded by maxKeys (beyond it expired
// keys are dropped first, then the newest key is not tracked).
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

// fail counts a failed login of key.
func (t *loginThrottle) fail(key string) {
	if t.max <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.recentLocked(key, now)
	if f == nil && len(t.fails) >= t.maxKeys {
		t.pruneLocked(now)
		if len(t.fails) >= t.maxKeys {
			return
		}
	}
	if len(f) == t.max {
		f = f[1:]
	}
	t.fails[key] = append(f, now)
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
