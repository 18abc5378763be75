package whip

import (
	"encoding/binary"
	"io"
	"time"
)

// IVF timestamps are in the RTP video clock.
const ivfClock = 90000

const (
	// maxStep is the largest step between consecutive frames' RTP
	// timestamps taken as it is; anything larger, or a step that is not
	// positive, is a discontinuity (an encoder restart, a reordered or
	// forged timestamp).
	maxStep = 5 * ivfClock
	// defaultStep is the nominal frame duration until a plausible step has
	// been seen (30 fps).
	defaultStep = ivfClock / 30
	// maxLead is how far the written timestamps may run ahead of the wall
	// clock (from the first frame's arrival): room for jitter and a late
	// first frame.
	maxLead = 2 * ivfClock
	// maxLag is how far they may fall behind it: room for network jitter
	// and bursts, but a run of tiny steps cannot squeeze the call (and hide
	// the face from the offline analysis).
	maxLag = 5 * ivfClock
)

// ivfWriter writes whole frames into an IVF container (the framing ffmpeg's
// ivf demuxer reads, for VP8, VP9, AV1 and — by fourcc — H.264 in Annex-B).
// Not safe for concurrent use.
//
// Timestamps are in the RTP clock (90 kHz) and start at 0. The publisher is
// the candidate being screened, so its timestamps are not trusted: each
// frame's timestamp is the previous one plus the (signed, wrap-safe) step
// between their RTP timestamps. A step that is not positive is a
// discontinuity and advances by one nominal frame (the last plausible
// step); a step larger than maxStep is one too and advances by the time
// between the two frames' arrivals. Whatever the steps, the timestamps
// never run ahead of the frames' arrival (from the first frame's) by more
// than maxLead nor behind it by more than maxLag, and they are strictly
// increasing. Without this, one
// timestamp slightly earlier than the first made the file claim 13 hours,
// which ffmpeg's fps filter filled with duplicated frames, and a stream of
// 5-s steps would stretch a minute into hours.
type ivfWriter struct {
	w       io.Writer
	fourcc  string
	started bool
	header  bool      // the header is written to w
	firstAt time.Time // arrival of the first frame
	prev    uint32    // RTP timestamp of the previous frame
	prevAt  time.Time // and its arrival
	last    uint64    // timestamp written for the previous frame
	nominal uint64    // the last plausible step
	frames  uint32
	// discontinuities counts steps not taken as they were (not positive,
	// or beyond maxStep); capped counts timestamps held back to the
	// arrival, lifted those moved up to it.
	discontinuities, capped, lifted int64
}

func newIVFWriter(w io.Writer, fourcc string) *ivfWriter {
	return &ivfWriter{w: w, fourcc: fourcc, nominal: defaultStep}
}

// writeFrame writes one frame with its RTP timestamp and arrival time.
func (v *ivfWriter) writeFrame(frame []byte, rtpTS uint32, arrived time.Time) error {
	if !v.header {
		hdr := make([]byte, 32)
		copy(hdr[0:], "DKIF")
		binary.LittleEndian.PutUint16(hdr[4:], 0)  // version
		binary.LittleEndian.PutUint16(hdr[6:], 32) // header size
		copy(hdr[8:], v.fourcc)
		binary.LittleEndian.PutUint16(hdr[12:], 640) // nominal size; decoders read the bitstream's
		binary.LittleEndian.PutUint16(hdr[14:], 480)
		binary.LittleEndian.PutUint32(hdr[16:], ivfClock) // timebase denominator
		binary.LittleEndian.PutUint32(hdr[20:], 1)        // timebase numerator
		binary.LittleEndian.PutUint32(hdr[24:], 0)        // frame count (unknown while live)
		if _, err := v.w.Write(hdr); err != nil {
			return err
		}
		v.header = true
	}
	if !v.started {
		v.started, v.firstAt = true, arrived
	}
	pts := v.nextPTS(rtpTS, arrived)
	fh := make([]byte, 12)
	binary.LittleEndian.PutUint32(fh[0:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(fh[4:], pts)
	if _, err := v.w.Write(fh); err != nil {
		return err
	}
	_, err := v.w.Write(frame)
	v.frames++
	return err
}

// restart makes w the writer of the following frames, after a new header.
// Timestamps run on: the next frame's is where the stream is (lastTime
// after it is written), not 0.
func (v *ivfWriter) restart(w io.Writer) {
	v.w, v.header = w, false
}

// lastTime is the timestamp of the last frame written.
func (v *ivfWriter) lastTime() time.Duration {
	return time.Duration(float64(v.last) / ivfClock * float64(time.Second))
}

// nextPTS returns the timestamp of the frame with RTP timestamp rtpTS that
// arrived at arrived, and makes it the previous frame.
func (v *ivfWriter) nextPTS(rtpTS uint32, arrived time.Time) uint64 {
	if v.frames == 0 {
		v.prev, v.prevAt, v.last = rtpTS, arrived, 0
		return 0
	}
	d := int32(rtpTS - v.prev) // RTP timestamps wrap at 32 bits: the step is signed
	gap := arrived.Sub(v.prevAt)
	v.prev, v.prevAt = rtpTS, arrived
	var step uint64
	switch {
	case d > 0 && d <= maxStep:
		step = uint64(d)
		v.nominal = step
	case d > maxStep:
		// A pause in sending (the RTP clock kept running), an encoder
		// restart or a forged jump: the frames are as far apart as they
		// arrived, so that a real pause keeps video in step with audio.
		step = max(ticks(gap), 1)
		v.discontinuities++
	default:
		// Backwards or repeated: one nominal frame on.
		step = v.nominal
		v.discontinuities++
	}
	pts := v.last + step
	since := ticks(arrived.Sub(v.firstAt))
	if ceiling := since + maxLead; pts > ceiling {
		pts = max(ceiling, v.last+1)
		v.capped++
	}
	if since > maxLag && pts < since-maxLag {
		pts = since - maxLag // later than v.last: the floor only rises
		v.lifted++
	}
	v.last = pts
	return pts
}

// ticks converts d to the IVF clock; negative durations are 0.
func ticks(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d/time.Microsecond) * ivfClock / 1e6 // no overflow for any Duration
}
