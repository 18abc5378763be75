package whip

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/bonafide-dev/bonafide/media"
)

// Frames is the decoded pictures of a live video track. One goroutine
// reads it (Next, then Close, which it must call); Interrupt is safe from
// any goroutine.
//
// ffmpeg delivers every picture of a stream at the size of the first one
// it decoded, scaling later ones to it. A WebRTC sender changes the size
// as its bandwidth estimate moves: Chromium sends a 1280×720 camera at
// 320×180 for its first seconds, so a single decoder analysed the whole
// call at 320×180. The publication starts a new decoder at the first
// keyframe after the delivered size changed (media.VideoReader.Resized),
// and Frames joins the decoders' outputs in order: a frame has its
// picture's own size (at most Config.LiveWidth wide), and Index and PTS
// run on across the decoders.
type Frames struct {
	mu          sync.Mutex
	cur         framesPart   // being read; changed only by Next
	queue       []framesPart // started by the feed, not yet read
	interrupted bool
	closed      bool
	n           int // frames delivered
}

// framesPart is one decoder's output and the time of its first frame in
// the track (ffmpeg counts each decoder's timestamps from its first
// frame).
type framesPart struct {
	r   *media.VideoReader
	off time.Duration
}

func newFrames(r *media.VideoReader) *Frames {
	return &Frames{cur: framesPart{r: r}}
}

// Next returns the next frame, io.EOF after the last. The frame's Image is
// valid until the next call to Next or Close.
func (f *Frames) Next() (media.Frame, error) {
	for {
		fr, err := f.cur.r.Next()
		if err == nil {
			fr.Index, fr.PTS = f.n, fr.PTS+f.cur.off
			f.n++
			return fr, nil
		}
		if !errors.Is(err, io.EOF) {
			return fr, err
		}
		// A decoder ends when the feed closes its input: after starting
		// its successor, so an empty queue means the track ended.
		f.mu.Lock()
		if len(f.queue) == 0 || f.interrupted {
			f.mu.Unlock()
			return fr, err
		}
		old := f.cur
		f.cur, f.queue = f.queue[0], f.queue[1:]
		f.mu.Unlock()
		old.r.Close()
	}
}

// add queues the output of a decoder started at off (the feed's). It is
// false, with r closed, once the reader has closed Frames.
func (f *Frames) add(r *media.VideoReader, off time.Duration) bool {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		r.Close() // reaps ffmpeg: not under the lock
		return false
	}
	if f.interrupted {
		r.Interrupt()
	}
	f.queue = append(f.queue, framesPart{r: r, off: off})
	f.mu.Unlock()
	return true
}

// Interrupt stops the decoders so that a pending or later Next returns.
// Close must still be called.
func (f *Frames) Interrupt() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.interrupted = true
	f.cur.r.Interrupt()
	for _, p := range f.queue {
		p.r.Interrupt()
	}
}

// Close stops the decoders, reaps them and frees their buffers. It is
// idempotent.
func (f *Frames) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	parts := append([]framesPart{f.cur}, f.queue...)
	f.queue = nil
	f.mu.Unlock()
	var errs []error
	for _, p := range parts {
		errs = append(errs, p.r.Close())
	}
	return errors.Join(errs...)
}
