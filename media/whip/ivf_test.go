package whip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// ivfPTS returns the timestamps of the frames in an IVF file's bytes.
func ivfPTS(t testing.TB, b []byte) []uint64 {
	t.Helper()
	require.GreaterOrEqual(t, len(b), 32, "IVF header")
	require.Equal(t, "DKIF", string(b[:4]))
	var out []uint64
	for d := b[32:]; len(d) > 0; {
		require.GreaterOrEqual(t, len(d), 12, "frame header")
		size := binary.LittleEndian.Uint32(d)
		out = append(out, binary.LittleEndian.Uint64(d[4:]))
		require.GreaterOrEqual(t, uint64(len(d)), 12+uint64(size), "frame data")
		d = d[12+size:]
	}
	return out
}

// writeIVF writes one byte-long frame per RTP timestamp, frame i arriving
// at base+at[i], and returns the timestamps written.
func writeIVF(t testing.TB, ts []uint32, at []time.Duration) []uint64 {
	t.Helper()
	var b bytes.Buffer
	w := newIVFWriter(&b, "VP80")
	base := time.Unix(1_700_000_000, 0)
	for i, ts := range ts {
		require.NoError(t, w.writeFrame([]byte{byte(i)}, ts, base.Add(at[i])))
	}
	return ivfPTS(t, b.Bytes())
}

// checkPTS fails unless pts are strictly increasing and never ahead of the
// frames' arrival by more than maxLead (except by the one tick that keeps
// them increasing).
func checkPTS(t testing.TB, pts []uint64, at []time.Duration) {
	t.Helper()
	for i, p := range pts {
		if i == 0 {
			require.Zero(t, p, "the first frame is at 0")
			continue
		}
		require.Greater(t, p, pts[i-1], "frame %d: timestamps increase", i)
		if ceiling := ticks(at[i]-at[0]) + maxLead; p > ceiling {
			require.Equal(t, pts[i-1]+1, p, "frame %d: %d ticks is ahead of its arrival (%v)", i, p, at[i]-at[0])
		}
		if since := ticks(at[i] - at[0]); since > maxLag {
			require.GreaterOrEqual(t, p, since-maxLag, "frame %d: %d ticks is too far behind its arrival (%v)", i, p, at[i]-at[0])
		}
	}
}

// every returns n arrival offsets, step apart.
func every(n int, step time.Duration) []time.Duration {
	at := make([]time.Duration, n)
	for i := range at {
		at[i] = time.Duration(i) * step
	}
	return at
}

// The publisher's RTP timestamps are not trusted: a step backwards, a
// repeated timestamp, a jump or a run of implausible steps never moves the
// recording's clock further than the frames' arrival allows, while steady
// timestamps, a wrap of the 32-bit RTP clock and a real pause in sending
// are kept.
func TestIVFTimestamps(t *testing.T) {
	const frame = 3600 // 25 fps at 90 kHz; frames arrive 40 ms apart
	tests := []struct {
		name string
		ts   []uint32
		at   []time.Duration // nil: 40 ms apart
		want []uint64
	}{
		{name: "steady", ts: []uint32{1000, 4600, 8200, 11800}, want: []uint64{0, 3600, 7200, 10800}},
		{
			// Was 0, 4294964296 (13.25 h), 4294964297, 4294964298.
			name: "one frame earlier than the first",
			ts:   []uint32{90000, 87000, 93000, 96000},
			want: []uint64{0, defaultStep, defaultStep + 6000, defaultStep + 9000},
		},
		{
			name: "backwards after plausible steps",
			ts:   []uint32{0, frame, 2 * frame, frame, 3 * frame},
			want: []uint64{0, frame, 2 * frame, 3 * frame, 5 * frame},
		},
		{name: "repeated timestamp", ts: []uint32{0, frame, frame, 2 * frame}, want: []uint64{0, frame, 2 * frame, 3 * frame}},
		{
			name: "large forward jump",
			ts:   []uint32{0, frame, frame + 1_000_000_000, frame + 1_000_000_000 + frame},
			want: []uint64{0, frame, 2 * frame, 3 * frame},
		},
		{
			name: "jump to half the RTP clock",
			ts:   []uint32{0, frame, frame + 1<<31, frame + 1<<31 + frame},
			want: []uint64{0, frame, 2 * frame, 3 * frame},
		},
		{
			name: "wrap of the 32-bit RTP clock",
			ts:   []uint32{1<<32 - 2*frame, 1<<32 - frame, 0, frame},
			want: []uint64{0, frame, 2 * frame, 3 * frame},
		},
		{
			name: "a real pause keeps its length",
			ts:   []uint32{0, frame, frame + 30*ivfClock, 2*frame + 30*ivfClock},
			at:   []time.Duration{0, 40 * time.Millisecond, 30040 * time.Millisecond, 30080 * time.Millisecond},
			want: []uint64{0, frame, frame + 30*ivfClock, 2*frame + 30*ivfClock},
		},
		{
			name: "5-s steps are held to the arrival",
			ts:   []uint32{0, maxStep, 2 * maxStep, 3 * maxStep},
			want: []uint64{0, frame + maxLead, 2*frame + maxLead, 3*frame + maxLead},
		},
		{
			// Tiny steps would squeeze a minute into a blink and hide the
			// face from the offline analysis.
			name: "1-tick steps are lifted to the arrival",
			ts:   []uint32{0, 1, 2, 3, 4},
			at:   []time.Duration{0, 40 * time.Millisecond, 6 * time.Second, 10 * time.Second, 10040 * time.Millisecond},
			want: []uint64{0, 1, ticks(time.Second), ticks(5 * time.Second), ticks(5040 * time.Millisecond)},
		},
		{
			name: "a burst is held to the arrival, one tick apart",
			ts:   []uint32{0, maxStep, 2 * maxStep, 3 * maxStep},
			at:   []time.Duration{0, 0, 0, 0},
			want: []uint64{0, maxLead, maxLead + 1, maxLead + 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at == nil {
				at = every(len(tt.ts), 40*time.Millisecond)
			}
			pts := writeIVF(t, tt.ts, at)
			require.Equal(t, tt.want, pts)
			checkPTS(t, pts, at)
		})
	}
}

// Whatever RTP timestamps and arrivals, the written timestamps increase and
// stay within maxLead ahead of the arrivals and maxLag behind them.
func FuzzIVFTimestamps(f *testing.F) {
	// Each frame: a 4-byte RTP timestamp, then 2 bytes of milliseconds
	// since the previous frame's arrival.
	enc := func(ts []uint32, gapMS uint16) []byte {
		var b []byte
		for _, v := range ts {
			b = binary.LittleEndian.AppendUint32(b, v)
			b = binary.LittleEndian.AppendUint16(b, gapMS)
		}
		return b
	}
	f.Add(enc([]uint32{90000, 87000, 93000, 96000}, 40))
	f.Add(enc([]uint32{1<<32 - 7200, 1<<32 - 3600, 0, 3600}, 40))
	f.Add(enc([]uint32{0, maxStep, 2 * maxStep, 3 * maxStep}, 0))
	f.Add(enc([]uint32{0, 3600, 3600 + 1<<31, 7200 + 1<<31}, 1000))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ts []uint32
		var at []time.Duration
		var now time.Duration
		for ; len(data) >= 6; data = data[6:] {
			now += time.Duration(binary.LittleEndian.Uint16(data[4:])) * time.Millisecond
			ts = append(ts, binary.LittleEndian.Uint32(data))
			at = append(at, now)
		}
		if len(ts) == 0 {
			return // no frame, no file
		}
		checkPTS(t, writeIVF(t, ts, at), at)
	})
}

// The live decoder's fps filter fills timestamp gaps with duplicated
// frames: with a frame one RTP timestamp earlier than the first, it used to
// produce 13 hours of them. Now a 2-s stream stays 2 s long.
func TestIVFBackwardsTimestampDecodesLive(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.ivf")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-c:v", "libvpx", "-deadline", "realtime", src)
	f, err := os.Open(src)
	require.NoError(t, err)
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vr, in, err := media.Tools{}.DecodeVideo(ctx, "ivf", media.VideoOptions{FPS: 5, MaxWidth: 320})
	require.NoError(t, err)
	defer vr.Close()
	// Written whole before decoding: 50 small frames fit in the pipe.
	w := newIVFWriter(in, "VP80")
	base := time.Now()
	for i := 0; ; i++ {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		ts := uint32(90000 + 3600*i)
		if i == 1 {
			ts = 87000 // earlier than the first frame
		}
		require.NoError(t, w.writeFrame(frame, ts, base.Add(time.Duration(i)*40*time.Millisecond)))
	}
	require.NoError(t, in.Close())

	n := 0
	var last time.Duration
	for ; n < 100; n++ { // bounded: the bug made hundreds of thousands
		fr, err := vr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		last = fr.PTS
	}
	require.InDelta(t, 10, n, 2, "2 s at 5 fps")
	require.InDelta(t, 1.8, last.Seconds(), 0.4)
}
