package media

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// frames returns ashowinfo lines for n frames of 960 samples at 48 kHz
// (20 ms) from t0, each frame's timestamp moved by shift(i) seconds.
func frames(t0 float64, n int, shift func(i int) float64) []string {
	var out []string
	for i := 0; i < n; i++ {
		ts := t0 + 0.02*float64(i) + shift(i)
		out = append(out, fmt.Sprintf("[Parsed_ashowinfo_0 @ 0x558281722780] [info] n:%d pts:%.0f pts_time:%.6f pos:514 fmt:fltp channels:1 chlayout:mono rate:48000 nb_samples:960 checksum:FB7B7829 plane_checksums: [ FB7B7829 ]", i, ts*48000, ts))
	}
	return out
}

// noPTS is a frame without a timestamp.
const noPTS = "[Parsed_ashowinfo_0 @ 0x1] [info] n:7 pts:NOPTS pts_time:NOPTS pos:-1 fmt:fltp channels:1 chlayout:mono rate:48000 nb_samples:960 checksum:0 plane_checksums: [ 0 ]"

func none(int) float64 { return 0 }

// The timestamps ashowinfo logs become silence only where they run ahead
// of the samples by more than gapThreshold: jitter and a clock that runs
// slow or fast add nothing, a run of small stalls is filled once it
// amounts to a jump, and a jump of hours is left alone. Gaps count from
// the first frame of a whole file, from 0 in a range.
func TestAudioClock(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		rng   bool // the output of a range: timestamps count from its start
		lines []string
		want  []audioGap
	}{
		{"continuous", false, frames(0, 500, none), nil},
		{"one second missing at 2 s", false, frames(0, 300, func(i int) float64 {
			if i >= 100 {
				return 1
			}
			return 0
		}), []audioGap{{At: 2000 * ms, Length: 1000 * ms}}},
		{"counted from a whole file's first frame", false, frames(1.5, 300, func(i int) float64 {
			if i >= 100 {
				return 0.25
			}
			return 0
		}), []audioGap{{At: 2000 * ms, Length: 250 * ms}}},
		{"a range that begins in a stall", true, frames(0.4, 100, none), []audioGap{{At: 0, Length: 400 * ms}}},
		{"a range that begins on time", true, frames(0.01, 100, none), nil},
		{"jitter of ±30 ms", false, frames(0, 500, func(i int) float64 { return []float64{0.03, -0.03, 0}[i%3] }), nil},
		{"timestamps 1 % behind the samples (a fast sound clock)", false, frames(0, 3000, func(i int) float64 { return -0.0002 * float64(i) }), nil},
		{"timestamps 0.1 % ahead (a slow sound clock): filled in 50-ms steps", false, frames(0, 3000, func(i int) float64 { return 0.00002 * float64(i) }),
			[]audioGap{{At: 50020 * ms, Length: 50020 * time.Microsecond}}},
		{"stalls of 30 ms every second add up", false, frames(0, 200, func(i int) float64 { return 0.03 * float64(i/50) }),
			[]audioGap{{At: 2000 * ms, Length: 60 * ms}}},
		{"a jump of two hours is a broken timestamp", false, frames(0, 300, func(i int) float64 {
			if i >= 100 {
				return 7200
			}
			return 0
		}), nil},
		{"frames without a timestamp follow the one before", false, append(append(frames(0, 50, none), noPTS, noPTS), frames(1.04+0.5, 50, none)...),
			[]audioGap{{At: 1040 * ms, Length: 500 * ms}}},
		{"the first timestamp sets the start", false, frames(0.3, 100, none), nil},
		{"a jump on the last frame", false, frames(0, 100, func(i int) float64 {
			if i == 99 {
				return 1
			}
			return 0
		}), []audioGap{{At: 1980 * ms, Length: 1000 * ms}}},
		{"two jumps in a row", false, frames(0, 100, func(i int) float64 {
			switch {
			case i == 50:
				return 0.3
			case i > 50:
				return 1.3
			}
			return 0
		}), []audioGap{{At: 1000 * ms, Length: 300 * ms}, {At: 1320 * ms, Length: 1000 * ms}}},
		{"jumps stop being filled at ten minutes in all", false, frames(0, 40, func(i int) float64 { return 500 * float64(i/10) }),
			[]audioGap{{At: 200 * ms, Length: 500 * time.Second}}},
		{"frames without a timestamp before the first with one", false, append([]string{noPTS, noPTS}, frames(0.04, 100, func(i int) float64 {
			if i >= 50 {
				return 0.5
			}
			return 0
		})...), []audioGap{{At: 1040 * ms, Length: 500 * ms}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newAudioClock(!tc.rng)
			c.onLine("[info] Stream mapping:")
			for _, l := range tc.lines {
				c.onLine(l)
			}
			c.finish()
			gaps := c.gapsUpTo(1e9, 0)
			if len(tc.want) != len(gaps) {
				t.Fatalf("gaps %v, want %v", gaps, tc.want)
			}
			for i := range tc.want {
				assert.InDelta(t, tc.want[i].At.Seconds(), gaps[i].At.Seconds(), 0.0005, "gap %d at", i)
				assert.InDelta(t, tc.want[i].Length.Seconds(), gaps[i].Length.Seconds(), 0.0005, "gap %d length", i)
			}
		})
	}
}

// A frame line in another format (an ffmpeg that changed ashowinfo) makes
// the clock blind: a reader gets no gaps and does not wait for lines that
// will never be read, while the lines of a frame's side data are ignored.
func TestAudioClockBlind(t *testing.T) {
	lines := frames(0, 100, func(i int) float64 {
		if i >= 50 {
			return 1
		}
		return 0
	})
	c := newAudioClock(true)
	for _, l := range lines[:60] {
		c.onLine(l)
	}
	c.onLine("[Parsed_ashowinfo_0 @ 0x1] [info]   side data - replaygain: track gain - 1.000000, ")
	assert.Len(t, c.gapsUpTo(1, 0), 1, "one jump seen; side data ignored")
	c.onLine("[Parsed_ashowinfo_0 @ 0x1] [info] n:61 timestamp:2.22 samples:960")
	assert.Empty(t, c.gapsUpTo(1e9, 0), "blind: no gaps, no wait although the log goes on")
}

// A reader that waits for lines ffmpeg wrote but the clock cannot see (a
// colour-coded log, a line too long for the scanner) gives up after the
// clock's patience, with no new line of any kind in that time, instead of
// hanging: the clock goes blind. Lines that keep coming keep it waiting.
func TestAudioClockPatience(t *testing.T) {
	c := newAudioClock(true)
	c.patience = time.Second
	lines := frames(0, 50, none) // 1 s of sound
	go func() {
		for i, l := range lines {
			time.Sleep(10 * time.Millisecond) // 0.5 s in all, each well within the patience
			if i%2 == 0 {
				c.onLine("[Parsed_showinfo_3 @ 0x2] [info] n: 1 pts: 1 pts_time:0.1") // other lines are progress too
				time.Sleep(10 * time.Millisecond)
			}
			c.onLine(l)
		}
	}()
	began := time.Now()
	assert.Empty(t, c.gapsUpTo(0.98, 0))
	assert.False(t, c.isBlind(), "lines kept coming")
	assert.GreaterOrEqual(t, time.Since(began), 400*time.Millisecond)
	assert.Empty(t, c.gapsUpTo(5, 0), "5 s will never be logged")
	assert.True(t, c.isBlind(), "no line within the patience")
}
