package testutil

import (
	"math"
	"testing"
)

// ToneChange is an ffmpeg source (lavfi) of 5 s of sound at 48 kHz whose
// tone changes from 300 to 1200 Hz at 3 s: where the change lands in a
// decoded copy shows whether the sound kept its time.
const ToneChange = "aevalsrc=0.5*sin(2*PI*if(lt(t\\,3)\\,300\\,1200)*t):s=48000:d=5"

// CheckToneChange checks samples (at rate) of ToneChange whose 1.2–2.2 s
// were lost: 5 s long, the tone changing at 3 s, silence where the sound
// was lost.
func CheckToneChange(t testing.TB, x []float32, rate int) {
	t.Helper()
	if d := float64(len(x)) / float64(rate); math.Abs(d-5) > 0.1 {
		t.Fatalf("the sound lasts %.3f s, not 5 s as it did", d)
	}
	if at := toneChange(x, rate); math.Abs(at-3) > 0.06 {
		t.Fatalf("the tone changes at %.3f s, not at its time (3 s)", at)
	}
	lost := x[int(1.4*float64(rate)):int(2.0*float64(rate))]
	var s float64
	for _, v := range lost {
		s += float64(v) * float64(v)
	}
	if r := math.Sqrt(s / float64(len(lost))); r > 0.01 {
		t.Fatalf("sound (RMS %.3f) where it was lost, not silence", r)
	}
}

// toneChange returns the first time (s) at which 50-ms frames of x cross
// zero at the 1200-Hz rate rather than the 300-Hz one.
func toneChange(x []float32, rate int) float64 {
	frame := rate / 20
	for i := 0; i+frame <= len(x); i += frame {
		crossings := 0
		for j := i + 1; j < i+frame; j++ {
			if (x[j-1] < 0) != (x[j] < 0) {
				crossings++
			}
		}
		// 1200 Hz crosses 120 times in 50 ms, 300 Hz 30 times.
		if crossings > 80 {
			return float64(i) / float64(rate)
		}
	}
	return math.Inf(1)
}
