package whip

import (
	"fmt"
	"testing"
	"time"
)

func TestOpusSamples(t *testing.T) {
	tests := []struct {
		name string
		pkt  []byte
		want int
	}{
		{"silence (CELT 20 ms)", []byte{0xf8, 0xff, 0xfe}, 960},
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

func TestOpusFill(t *testing.T) {
	hybrid20 := byte(13 << 3) // Hybrid FB 20 ms
	tests := []struct {
		name    string
		n       int
		prevTOC byte
		want    []int // samples of each packet
	}{
		{"a lost 20-ms hybrid packet", 960, hybrid20, []int{960}},
		{"two, then 10 ms and 2.5 ms of silence", 960*2 + 480 + 120 + 50, hybrid20, []int{960, 960, 480, 120}},
		{"a 60-ms SILK frame does not fit 40 ms", 1920, 3 << 3, []int{960, 960}},
		{"less than 2.5 ms", 100, hybrid20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for i, p := range opusFill(tt.n, tt.prevTOC) {
				got = append(got, opusSamples(p))
				if i == 0 && len(p) == 1 && p[0] != tt.prevTOC&^3 {
					t.Errorf("the concealment frame's TOC %#x, want %#x", p[0], tt.prevTOC&^3)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("fill samples %v, want %v", got, tt.want)
			}
		})
	}
}

// The timeline opusGap writes for a stream of 20-ms packets: gaps filled,
// late and repeated packets left out, a restarted clock followed, and
// never more than 0.5 s ahead of the wall clock since the first packet.
func TestOpusGap(t *testing.T) {
	t0 := time.Unix(1000, 0)
	pkt := []byte{13 << 3, 1, 2, 3} // a 20-ms hybrid packet
	base := uint32(0xffffff00)      // a variable: the clock wraps during the test
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 20 * time.Millisecond) }
	type step struct {
		name       string
		seq        int // ts = base + seq*960
		arrive     int // at(arrive)
		wantFilled int
		wantPkt    bool
	}
	run := func(t *testing.T, g *opusGap, steps []step) {
		for _, s := range steps {
			out, filled := g.add(base+uint32(s.seq*960), pkt, at(s.arrive))
			wrote := len(out) > 0 && &out[len(out)-1][0] == &pkt[0]
			if filled != s.wantFilled || wrote != s.wantPkt {
				t.Errorf("%s: filled %d, packet written %v; want %d, %v", s.name, filled, wrote, s.wantFilled, s.wantPkt)
			}
		}
	}
	t.Run("loss and reordering", func(t *testing.T) {
		run(t, &opusGap{}, []step{
			{"first", 0, 0, 0, true},
			{"next", 1, 1, 0, true},
			{"one lost (across the wrap)", 3, 3, 960, true},
			{"the lost one, late", 2, 4, 0, false},
			{"next", 4, 4, 0, true},
			{"a repeat", 4, 5, 0, false},
			{"next, reordered", 6, 6, 960, true},
			{"its predecessor, late", 5, 6, 0, false},
			{"next", 7, 7, 0, true},
			{"a second lost", 58, 58, 50 * 960, true},
			{"a restarted clock", -1000, 59, 0, true},
			{"next", -999, 60, 0, true},
		})
	})
	t.Run("forged jumps", func(t *testing.T) {
		// Packets arrive every 20 ms, each claiming to be 0.52 s after the
		// last: after the first fill (0.5 s of lead) nothing more is filled.
		g := &opusGap{}
		run(t, g, []step{{"first", 0, 0, 0, true}})
		for i := 1; i <= 100; i++ {
			g.add(base+uint32(i*27*960), pkt, at(i))
		}
		if written := float64(g.written) / 48000; written > 2.0+0.5+0.02 {
			t.Errorf("%.2f s written in 2 s of a call", written)
		}
	})
	t.Run("live limit", func(t *testing.T) {
		run(t, &opusGap{upTo: defaultLiveAudioFill}, []step{
			{"first", 0, 0, 0, true},
			{"a second lost", 51, 51, 50 * 960, true},
			{"five seconds lost: left to the live scorer", 302, 302, 0, true},
			{"a short step after a long pause: left too", 304, 450, 0, true},
		})
	})
}
