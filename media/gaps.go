package media

import (
	"math"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Audio timestamp gaps. A recorder that stalls (a browser's MediaRecorder
// under load, a screen recorder that loses the sound device for a moment)
// writes the sound after the stall with timestamps that jump ahead: the
// file says "nothing here for a second", but ffmpeg decodes the sound
// back to back, so every sample after the jump arrived that much earlier
// than it was captured, against the picture, whose frames keep their own
// timestamps. One stall of a third of a second put the voice that much
// ahead of the mouth for the rest of the recording, and lip sync compared
// the mouth with the wrong words.
//
// ffmpeg's aresample=async can pad such jumps, but it also drops sound
// whenever the timestamps run slower than the samples (a clock that
// drifts), so it is not used. Instead ffmpeg's ashowinfo filter logs each
// decoded frame's timestamp and sample count (in the same process: a
// separate ffprobe pass cost 80 ms of start-up, a tenth of a short clip's
// analysis), an audioClock follows them, and the readers insert silence
// where the timestamps run ahead of the samples by more than gapThreshold.
// No sample is ever dropped. A jump is filled in full once the timestamps
// are that far ahead, so small jitters never add up to silence, while a
// run of small stalls is filled once it amounts to a jump.

// gapThreshold is how far a frame's timestamp must run ahead of the
// samples before it for the difference to be filled with silence: more
// than two codec frames of rounding (AAC 21 ms, Opus 20 ms, a WebM
// millisecond) and about what a call keeps its sound in step with its
// picture (±45 ms).
const gapThreshold = 50 * time.Millisecond

// maxGapFill is the most silence one reader is given, in one jump or in
// all. A larger jump is a broken timestamp rather than a stall (a recorder
// does not stall for an hour and go on); it is left as it is, and so are
// the jumps beyond that total, so that forged timestamps cannot make the
// analysis decode hours of silence.
const maxGapFill = 10 * time.Minute

// audioGap is a stretch of the sound's timeline that the file holds no
// samples for: it begins At seconds after the first delivered sample and
// lasts Length.
type audioGap struct {
	At, Length time.Duration
}

// GapSummary describes the silence a reader inserted where the sound's
// timestamps jumped ahead (see gapThreshold).
type GapSummary struct {
	Count   int
	Total   time.Duration
	Longest time.Duration
	// LongestAt is where the longest began, in the reader's chunk times.
	LongestAt time.Duration
	// Unread is set when ffmpeg's lines about the frames could not be
	// read (another ffmpeg version, or none for clockPatience): nothing
	// was filled from then on, and a later stall, if there was one, was
	// decoded back to back.
	Unread bool
}

// gapFinder turns frames (timestamp, samples) into gaps.
//
// A jump is filled as soon as its frame is logged. One bad timestamp
// followed by good ones (ffmpeg gives one to the frame at a change of
// sample rate in joined MPEG-TS files) is taken for a stall, and the sound
// after it comes that much late. Waiting for the next frame to confirm a
// jump was tried and not kept: a reader would hold samples until ffmpeg
// logged a frame it could only decode once that reader drained its pipe
// (large frames, or a pipe the system would not enlarge), and with little
// sound among much picture the wait could outlast clockPatience.
type gapFinder struct {
	origin   float64 // timestamp of the first delivered sample, s
	expected float64 // where the next frame begins if no sound is missing, s
	started  bool
	preStart float64 // seconds of frames without a timestamp before the first with one
	gaps     []audioGap
	total    float64 // seconds filled so far
}

// add takes the next frame: its timestamp ts (s; NaN when it has none),
// n samples at rate.
func (g *gapFinder) add(ts float64, n, rate int) {
	if n <= 0 || rate <= 0 {
		return
	}
	d := float64(n) / float64(rate)
	if math.IsNaN(ts) || math.IsInf(ts, 0) {
		// No timestamp: the frame follows the one before.
		if !g.started {
			g.preStart += d
		} else {
			g.expected += d
		}
		return
	}
	if !g.started {
		g.started, g.origin, g.expected = true, ts-g.preStart, ts
	}
	if ahead := ts - g.expected; ahead > gapThreshold.Seconds() && g.total+ahead <= maxGapFill.Seconds() {
		g.gaps = append(g.gaps, audioGap{At: secondsDur(g.expected - g.origin), Length: secondsDur(ahead)})
		g.total += ahead
		g.expected = ts
	}
	// A frame whose timestamp is behind the samples (a clock running
	// slow, jitter) changes nothing: no sample is ever dropped.
	g.expected += d
}

func secondsDur(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// audioClock follows the frames ffmpeg's ashowinfo logs (from the stderr
// reader's goroutine) for the audio readers of the same process (each on
// its own goroutine). ffmpeg logs a frame as it enters the filters, before
// any of its samples are written to an output, so a reader that has read
// samples only ever waits for lines already written.
type audioClock struct {
	mu    sync.Mutex
	cond  *sync.Cond
	f     gapFinder
	known float64 // seconds of samples logged
	lines int     // stderr lines read (any: the watchdog's sign of progress)
	done  bool    // stderr is exhausted: nothing more will be logged
	// patience is clockPatience (shorter in tests).
	patience time.Duration
	// blind is set when a frame's line could not be read (an ffmpeg
	// whose ashowinfo writes another format): the readers stop waiting
	// and fill nothing, rather than wait for lines that never come.
	blind bool
}

// newAudioClock returns a clock for an output that begins at timestamp
// start (a range: the frames' timestamps count from its start, and a gap
// at its very beginning is a jump from there), or at its first frame
// (fromFirst: a whole file, whose sound may begin after its picture).
func newAudioClock(fromFirst bool) *audioClock {
	c := &audioClock{patience: clockPatience}
	c.cond = sync.NewCond(&c.mu)
	if !fromFirst {
		c.f.started = true
	}
	return c
}

var (
	// ashowinfoFrameRE finds a frame's line (its side data have lines of
	// their own, which are ignored); ashowinfoRE reads it.
	ashowinfoFrameRE = regexp.MustCompile(`^\[Parsed_ashowinfo_\d+ @ [^]]*\] (?:\[info\] )?n:`)
	ashowinfoRE      = regexp.MustCompile(`^\[Parsed_ashowinfo_\d+ @ [^]]*\] (?:\[info\] )?n:\s*\d+\s+pts:\s*\S+\s+pts_time:(\S+) .* rate:(\d+) nb_samples:(\d+)`)
)

// onLine takes a frame from an ashowinfo line; other lines only count as
// progress.
func (c *audioClock) onLine(line string) {
	if !ashowinfoFrameRE.MatchString(line) {
		c.mu.Lock()
		c.lines++
		c.mu.Unlock()
		c.cond.Broadcast()
		return
	}
	m := ashowinfoRE.FindStringSubmatch(line)
	if m == nil {
		c.mu.Lock()
		c.blind = true
		c.mu.Unlock()
		c.cond.Broadcast()
		return
	}
	ts, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		ts = math.NaN() // "NOPTS"
	}
	rate, _ := strconv.Atoi(m[2])
	n, _ := strconv.Atoi(m[3])
	if n <= 0 || rate <= 0 {
		return
	}
	c.mu.Lock()
	if c.blind {
		c.mu.Unlock()
		return
	}
	c.f.add(ts, n, rate)
	c.known += float64(n) / float64(rate)
	c.lines++
	c.mu.Unlock()
	c.cond.Broadcast()
}

// lineAfter returns an onLine for the process that passes each line to
// next (when not nil) and then to the clock.
func (c *audioClock) lineAfter(next func(string)) func(string) {
	return func(line string) {
		if next != nil {
			next(line)
		}
		c.onLine(line)
	}
}

// finishAfter returns an onDone that runs next (when not nil) and then
// finishes the clock.
func (c *audioClock) finishAfter(next func()) func() {
	return func() {
		if next != nil {
			next()
		}
		c.finish()
	}
}

// finish marks the end of the log.
func (c *audioClock) finish() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	c.cond.Broadcast()
}

// isBlind reports whether the clock could not read a frame's line.
func (c *audioClock) isBlind() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blind
}

// clockPatience is how long a reader waits while ffmpeg logs nothing at
// all before it gives up following the timestamps (the clock goes blind).
// It should never run out: a reader waits only for lines written before
// the samples it holds, and the stderr reader only ever waits for the
// video reader to take a frame's timestamp. It is there so that lines
// that cannot be read (a colour-coded log, a line too long for the
// scanner) cost a pause, not a hang.
const clockPatience = 30 * time.Second

// clockSlack is how much sound a reader may hold beyond the frames logged:
// resampling rounds sample counts, and a reader never waits for a frame
// whose samples it does not hold (it could wait for ever: ffmpeg logs the
// next frame only once the output has room).
const clockSlack = 0.002 // s

// gapsUpTo waits until the frames of the first sec seconds of samples are
// logged (or the log has ended) and returns the gaps from index from on.
func (c *audioClock) gapsUpTo(sec float64, from int) []audioGap {
	c.mu.Lock()
	defer c.mu.Unlock()
	var timer *time.Timer
	armed := -1 // c.lines when the timer was set
	for !c.done && !c.blind && c.known < sec-clockSlack {
		if armed != c.lines {
			if timer != nil {
				timer.Stop()
			}
			seen := c.lines
			armed, timer = seen, time.AfterFunc(c.patience, func() {
				c.mu.Lock()
				if c.lines == seen && !c.done {
					c.blind = true
				}
				c.mu.Unlock()
				c.cond.Broadcast()
			})
		}
		c.cond.Wait()
	}
	if timer != nil {
		timer.Stop()
	}
	if c.blind || from >= len(c.f.gaps) {
		return nil
	}
	return append([]audioGap(nil), c.f.gaps[from:]...)
}
