package whip

import "time"

// opusSilence is a 20-ms Opus packet of silence (CELT, full band, mono:
// TOC 0xf8 and an empty frame), the one WebRTC and voice chat services
// send; a stereo stream may carry mono packets.
var opusSilence = []byte{0xf8, 0xff, 0xfe}

// opusSilenceSamples is opusSilence's length at 48 kHz.
const opusSilenceSamples = 960

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

// maxGapLead is how much longer than the time between two packets'
// arrivals a gap in their RTP timestamps may be filled: room for jitter.
const maxGapLead = 500 * time.Millisecond

// opusGap finds the sound lost between two Opus packets. pion's Ogg writer
// counts the samples of the packets it is given, not the RTP clock, so a
// lost packet would vanish from the recording's (and the live decoder's)
// timeline and move the sound after it earlier against the picture: one
// lost packet in a hundred put the sound of a minute-long call 0.6 s
// ahead by its end. The writer is given opusSilence packets for the gap
// instead. The publisher's timestamps are not trusted: a gap is filled for
// at most the time between the packets' arrivals (plus maxGapLead), so a
// forged jump cannot make the recording longer than the call. A step back
// or a repeat fills nothing. Not safe for concurrent use.
type opusGap struct {
	// upTo, when not zero, is the longest gap filled; a longer one is
	// left as it is (see maxLiveAudioFill).
	upTo   time.Duration
	have   bool
	next   uint32    // RTP timestamp (48 kHz) where the previous packet ended
	prevAt time.Time // its arrival
}

// maxLiveAudioFill is the longest gap the live decoder's input is filled
// for: the lost packets of a bad network. The live scorer places the sound
// after a longer silence (a segment and more) at the wall clock itself;
// filled, that silence would arrive at once after it and be placed there
// too, and the sound after it that much too late. Gaps between the two
// stay unfilled live (docs/live.md, "Known gaps"); the recording fills
// every gap.
const maxLiveAudioFill = 2 * time.Second

// fill returns the number of opusSilence packets to write before the
// packet with RTP timestamp ts and payload pkt, arrived at at.
func (g *opusGap) fill(ts uint32, pkt []byte, at time.Time) int {
	n := 0
	if g.have {
		// RTP timestamps wrap at 32 bits: the step is signed.
		d := int64(int32(ts - g.next))
		if d >= opusSilenceSamples && (g.upTo <= 0 || d <= int64(g.upTo.Seconds()*48000)) {
			limit := int64((at.Sub(g.prevAt) + maxGapLead).Seconds() * 48000)
			n = int(min(d, max(limit, 0)) / opusSilenceSamples)
		}
	}
	g.have, g.next, g.prevAt = true, ts+uint32(opusSamples(pkt)), at
	return n
}
