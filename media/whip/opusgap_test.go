package whip

import (
	"testing"
	"time"
)

func TestOpusSamples(t *testing.T) {
	tests := []struct {
		name string
		pkt  []byte
		want int
	}{
		{"silence (CELT 20 ms)", opusSilence, 960},
		{"SILK 60 ms", []byte{3 << 3}, 2880},
		{"Hybrid 10 ms", []byte{12 << 3}, 480},
		{"CELT 2.5 ms, two frames", []byte{16<<3 | 1, 0}, 240},
		{"SILK 20 ms, code 3 with three frames", []byte{1<<3 | 3, 3}, 2880},
		{"code 3 without its count", []byte{1<<3 | 3}, 0},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := opusSamples(tt.pkt); got != tt.want {
				t.Errorf("opusSamples = %d, want %d", got, tt.want)
			}
		})
	}
}

// A gap in the RTP timestamps is filled with 20-ms silence packets, for
// at most the time between the packets' arrivals (plus maxGapLead).
func TestOpusGapFill(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	base := uint32(0xffffff00) // a variable: the clock wraps during the test
	tests := []struct {
		name string
		ts   uint32
		at   time.Time
		want int
	}{
		{"first packet", base, ms(0), 0},
		{"next packet", base + 960, ms(20), 0},
		{"early arrival, no gap", base + 1920, ms(25), 0},
		{"one lost (across the wrap)", base + 3840, ms(80), 1},
		{"a second lost", base + 3840 + 960 + 48000, ms(1100), 50},
		{"a repeat", base + 3840 + 960 + 48000, ms(1120), 0},
		{"a step back", base + 3840, ms(1140), 0},
		// Forged: ten minutes ahead of the clock, one second after the
		// previous packet: filled for 1.5 s at most.
		{"a forged jump", base + 3840 + 960 + 48000*600, ms(2140), 75},
	}
	var g opusGap
	for _, tt := range tests {
		if got := g.fill(tt.ts, opusSilence, tt.at); got != tt.want {
			t.Errorf("%s: fill = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// The live decoder's gap finder fills up to maxLiveAudioFill and leaves a
// longer gap to the live scorer.
func TestOpusGapLiveLimit(t *testing.T) {
	t0 := time.Unix(1000, 0)
	g := opusGap{upTo: maxLiveAudioFill}
	g.fill(0, opusSilence, t0)
	if n := g.fill(960+48000, opusSilence, t0.Add(1020*time.Millisecond)); n != 50 {
		t.Errorf("a lost second: fill = %d, want 50", n)
	}
	next := uint32(960 + 48000 + 960)
	if n := g.fill(next+5*48000, opusSilence, t0.Add(6100*time.Millisecond)); n != 0 {
		t.Errorf("five lost seconds: fill = %d, want 0 (left to the live scorer)", n)
	}
}
