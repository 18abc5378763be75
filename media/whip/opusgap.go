package whip

import "time"

// opusSilenceTOC are the TOC bytes of CELT full-band mono frames of 20,
// 10, 5 and 2.5 ms (configurations 31 to 28, one frame); followed by
// opusSilenceFrame they are the packets of silence WebRTC and voice chat
// services send. A stereo stream may carry mono packets.
var opusSilenceTOC = [...]struct {
	toc     byte
	samples int // at 48 kHz
}{{0xf8, 960}, {0xf0, 480}, {0xe8, 240}, {0xe0, 120}}

var opusSilenceFrame = []byte{0xff, 0xfe}

// opusSamples returns the number of 48-kHz samples an Opus packet holds
// (RFC 6716 3.1: the TOC byte's configuration gives the frame size, its
// code the number of frames), 0 for a malformed one.
func opusSamples(pkt []byte) int {
	if len(pkt) == 0 {
		return 0
	}
	toc := pkt[0]
	cfg := int(toc >> 3)
	var frame int // samples at 48 kHz
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[cfg%4]
	case cfg < 16: // Hybrid: 10, 20 ms
		frame = []int{480, 960}[cfg%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[cfg%4]
	}
	switch toc & 3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	default:
		if len(pkt) < 2 {
			return 0
		}
		return int(pkt[1]&0x3f) * frame
	}
}

// opusFill returns the packets that stand in for n lost samples after a
// packet whose TOC byte was prevTOC: first, when it fits, one empty frame
// of the previous packet's configuration (a decoder conceals it, fading
// the voice out rather than cutting it, which a jump to silence after a
// hybrid or SILK frame would), then CELT frames of silence, 20 ms down to
// 2.5 ms. Less than 2.5 ms is left out.
func opusFill(n int, prevTOC byte) [][]byte {
	var out [][]byte
	plc := []byte{prevTOC &^ 3} // code 0: one frame, of length 0
	if s := opusSamples(plc); s > 0 && s <= n {
		out = append(out, plc)
		n -= s
	}
	for _, f := range opusSilenceTOC {
		for ; n >= f.samples; n -= f.samples {
			out = append(out, append([]byte{f.toc}, opusSilenceFrame...))
		}
	}
	return out
}

// maxGapLead is how far the sound written, fillers included, may run
// ahead of the wall clock since the first packet's arrival: room for
// jitter and a late first packet.
const maxGapLead = 500 * time.Millisecond

// defaultLiveAudioFill is Config.LiveAudioFill's default: the longest gap
// the live decoder's input is filled for. The live scorer places the
// sound after a long silence (a segment and more) at the wall clock
// itself; filled, that silence would arrive at once after it and be
// placed there too, and the sound after it that much too late.
const defaultLiveAudioFill = 2 * time.Second

// opusGap keeps an Opus stream's timeline for pion's Ogg writer, which
// counts the samples of the packets it is given, not the RTP clock: a lost
// packet would vanish from the recording's (and the live decoder's)
// timeline and move the sound after it earlier against the picture (one
// lost packet in a hundred put the sound of a minute-long call 0.6 s ahead
// by its end). For a gap in the RTP timestamps the writer is given
// opusFill's packets instead; a packet that arrives late (reordered after
// its gap was filled) or again is left out, as its time is already
// written. The publisher's timestamps are not trusted: what is written,
// fillers included, never runs ahead of the wall clock since the first
// packet by more than maxGapLead, so forged jumps cannot lengthen the
// recording beyond the call (a sender whose sound clock runs fast uses
// the lead up, 0.5 s in about 80 minutes at 100 ppm, and its later gaps
// are then filled only as far as the wall clock allows); a step back of
// more than a second restarts the timeline at the packet. Not safe for
// concurrent use.
type opusGap struct {
	// upTo, when not zero, is the longest gap filled, in the timestamps
	// and in the arrivals; a longer one is left as it is (see
	// Config.LiveAudioFill).
	upTo    time.Duration
	have    bool
	next    uint32    // RTP timestamp (48 kHz) where the written timeline ends
	firstAt time.Time // the first packet's arrival
	prevAt  time.Time // the previous packet's
	prevTOC byte
	written int64 // samples written, fillers included
}

// add returns the packets to write for the packet with RTP timestamp ts
// and payload pkt, arrived at at: fillers for a gap before it, then pkt
// itself, or nothing when its time is already written (or it is empty);
// and how many samples the fillers hold.
func (g *opusGap) add(ts uint32, pkt []byte, at time.Time) (out [][]byte, filled int) {
	if len(pkt) == 0 {
		return nil, 0
	}
	n := opusSamples(pkt)
	if !g.have {
		g.have, g.firstAt = true, at
		g.next, g.prevAt = ts, at
	}
	// RTP timestamps wrap at 32 bits: the step is signed.
	d := int64(int32(ts - g.next))
	switch {
	case d < -48000: // a restarted or forged clock: start again here
	case d < 0: // late or repeated: its time is written already
		if int64(int32(ts+uint32(n)-g.next)) <= 0 {
			return nil, 0
		}
	case d > 0:
		room := int64((at.Sub(g.firstAt)+maxGapLead).Seconds()*48000) - g.written
		live := g.upTo <= 0 || (d <= int64(g.upTo.Seconds()*48000) && at.Sub(g.prevAt) <= g.upTo)
		if fill := min(d, room); fill > 0 && live {
			out = opusFill(int(fill), g.prevTOC)
			for _, f := range out {
				filled += opusSamples(f)
			}
		}
	}
	g.next, g.prevAt, g.prevTOC = ts+uint32(n), at, pkt[0]
	g.written += int64(filled + n)
	return append(out, pkt), filled
}
