package whip

import (
	"encoding/binary"
	"io"
)

// ivfWriter writes whole frames into an IVF container (the framing ffmpeg's
// ivf demuxer reads, for VP8, VP9, AV1 and — by fourcc — H.264 in Annex-B).
// Timestamps are in the RTP clock (90 kHz). Not safe for concurrent use.
type ivfWriter struct {
	w       io.Writer
	fourcc  string
	started bool
	first   uint32
	last    uint64
	frames  uint32
}

func newIVFWriter(w io.Writer, fourcc string) *ivfWriter {
	return &ivfWriter{w: w, fourcc: fourcc}
}

// writeFrame writes one frame with its RTP timestamp.
func (v *ivfWriter) writeFrame(frame []byte, rtpTS uint32) error {
	if !v.started {
		hdr := make([]byte, 32)
		copy(hdr[0:], "DKIF")
		binary.LittleEndian.PutUint16(hdr[4:], 0)  // version
		binary.LittleEndian.PutUint16(hdr[6:], 32) // header size
		copy(hdr[8:], v.fourcc)
		binary.LittleEndian.PutUint16(hdr[12:], 640) // nominal size; decoders read the bitstream's
		binary.LittleEndian.PutUint16(hdr[14:], 480)
		binary.LittleEndian.PutUint32(hdr[16:], 90000) // timebase denominator
		binary.LittleEndian.PutUint32(hdr[20:], 1)     // timebase numerator
		binary.LittleEndian.PutUint32(hdr[24:], 0)     // frame count (unknown while live)
		if _, err := v.w.Write(hdr); err != nil {
			return err
		}
		v.started, v.first = true, rtpTS
	}
	pts := uint64(rtpTS - v.first) // wraps correctly over 32 bits
	if v.frames > 0 && pts <= v.last {
		pts = v.last + 1 // IVF wants increasing timestamps
	}
	v.last = pts
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
