package web

import (
	"sync"
	"sync/atomic"
)

// liveSubBuffer is how many events a slow subscriber may have waiting;
// beyond it the oldest waiting event is dropped (and counted).
const liveSubBuffer = 32

// liveMessage is one Server-Sent Event: its event name and JSON data.
type liveMessage struct {
	Event string
	Data  []byte
}

// liveSub is one subscriber (an SSE connection). Its owner reads C until
// it is closed and calls liveHub.unsubscribe when it stops early.
type liveSub struct {
	C       chan liveMessage
	dropped atomic.Int64
}

// Dropped returns how many events this subscriber lost by being slow.
func (s *liveSub) Dropped() int64 { return s.dropped.Load() }

// liveHub fans a session's events out to its subscribers. Publishing never
// blocks: each subscriber has a bounded buffer, and when it is full the
// oldest waiting event is dropped and counted. The last event of each
// replayed kind (state, score) is kept, so that a late subscriber starts
// with the current state and the last score. Safe for concurrent use.
type liveHub struct {
	replay []string // event names kept for late subscribers, in replay order

	mu      sync.Mutex
	subs    map[*liveSub]struct{}
	last    map[string]liveMessage
	closed  bool
	dropped atomic.Int64 // over all subscribers
}

func newLiveHub(replay ...string) *liveHub {
	return &liveHub{replay: replay, subs: map[*liveSub]struct{}{}, last: map[string]liveMessage{}}
}

// subscribe adds a subscriber, with the replayed events already queued.
// It returns false when the hub is closed (the session is over).
func (h *liveHub) subscribe() (*liveSub, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	s := &liveSub{C: make(chan liveMessage, liveSubBuffer)}
	for _, ev := range h.replay {
		if m, ok := h.last[ev]; ok {
			s.C <- m
		}
	}
	h.subs[s] = struct{}{}
	return s, true
}

// unsubscribe removes s; its channel is closed. Safe to call after close.
func (h *liveHub) unsubscribe(s *liveSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
}

// publish sends an event to every subscriber without blocking.
func (h *liveHub) publish(event string, data []byte) {
	m := liveMessage{Event: event, Data: data}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for _, ev := range h.replay {
		if ev == event {
			h.last[event] = m
		}
	}
	for s := range h.subs {
		select {
		case s.C <- m:
			continue
		default:
		}
		// Full: drop the oldest waiting event to make room for this one.
		select {
		case <-s.C:
			s.dropped.Add(1)
			h.dropped.Add(1)
		default:
		}
		select {
		case s.C <- m:
		default:
			s.dropped.Add(1)
			h.dropped.Add(1)
		}
	}
}

// subscribers returns how many subscribers are connected.
func (h *liveHub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Dropped returns how many events slow subscribers lost.
func (h *liveHub) Dropped() int64 { return h.dropped.Load() }

// close ends every subscription: each subscriber still reads what is
// queued, then sees its channel closed. Later publishes are ignored. It is
// idempotent.
func (h *liveHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.C)
	}
}
