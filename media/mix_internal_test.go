package media

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// An infinite or NaN sample in a stereo chunk (a broken decoder) counts as
// silence: it neither reaches the detectors nor leaves the mix's smoothed
// energies NaN, which would freeze the choice between mix and difference
// for the rest of the stream.
func TestStereoMixNonFinite(t *testing.T) {
	const n = 1600
	r := newAudioReader(nil, VoiceRate, n, 2, 0)
	fill := func(bad float32) {
		for i := range n {
			v := float32(0.2 * math.Sin(2*math.Pi*300*float64(i)/VoiceRate))
			l, rr := v, -v // opposite phase
			if i == 100 {
				l = bad
			}
			binary.LittleEndian.PutUint32(r.raw[8*i:], math.Float32bits(l))
			binary.LittleEndian.PutUint32(r.raw[8*i+4:], math.Float32bits(rr))
		}
	}
	for _, bad := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
		fill(bad)
		r.mix(n)
		r.n += n
		assert.True(t, r.side, "%v: the difference is delivered", bad)
		for i, v := range r.samples[:n] {
			if !assert.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "%v: sample %d", bad, i) {
				break
			}
		}
		assert.False(t, math.IsNaN(r.midEnergy) || math.IsNaN(r.sideEnergy), "%v", bad)
	}
}
