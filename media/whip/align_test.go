package whip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestNTPTime(t *testing.T) {
	// 2026-11-29 12:00:00.5 UTC in NTP: seconds since 1900 and half a
	// second of fraction.
	want := time.Date(2026, 11, 29, 12, 0, 0, 500_000_000, time.UTC)
	ntp := uint64(want.Unix()+2208988800)<<32 | 1<<31
	assert.True(t, ntpTime(ntp).Equal(want), "%v", ntpTime(ntp))
}

// The sender's clock decides, not the arrival: a video track whose first
// keyframe arrived 0.9 s after the first audio packet but was captured
// 0.2 s after it starts 0.2 s later. RTP timestamps may wrap.
func TestAlignment(t *testing.T) {
	base := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	ntp := func(tm time.Time) uint64 {
		return uint64(tm.Unix()+2208988800)<<32 | uint64(tm.Nanosecond())<<32/1e9
	}
	audio := &trackState{recAt: base, recRTP: 1000, clock: 48000}
	// The audio SR 1 s after the first packet: RTP 1000 + 48000.
	audio.noteSR(ntp(base.Add(time.Second)), 49000)
	// Video captured at base+0.2 s, its RTP timestamp near the wrap; its SR
	// at base+2 s is 1.8 s (162000 ticks) later and wraps past zero.
	vFirst := uint32(0xFFFF_0000)
	video := &trackState{recAt: base.Add(900 * time.Millisecond), recRTP: vFirst, clock: 90000}
	video.noteSR(ntp(base.Add(2*time.Second)), vFirst+162000)
	video.noteSR(ntp(base.Add(9*time.Second)), 1) // later reports are ignored

	d, bySR := alignment(video, audio)
	assert.True(t, bySR)
	assert.InDelta(t, 0.2, d.Seconds(), 0.001)

	// Without a sender report on one side: arrival.
	d, bySR = alignment(video, &trackState{recAt: base, recRTP: 1000, clock: 48000})
	assert.False(t, bySR)
	assert.InDelta(t, 0.9, d.Seconds(), 0.001)
}
