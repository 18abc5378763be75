package detectors

import "math"

// VAD is a small energy-based voice activity detector for the 16 kHz voice
// stream. It tracks the noise floor (a slow minimum follower) and calls a
// 20-ms frame speech when it is clearly above that floor and above an
// absolute level, with a short hangover so that gaps between syllables stay
// speech. It is deliberately simple: detectors use it to decide where to
// measure the voice, and the report uses it for speech coverage.
type VAD struct {
	rate      int
	frame     int // samples per frame
	buf       []float32
	floorDB   float64
	hang      int
	started   bool
	speechRun int
	n         int
}

// VADFrame is one 20-ms decision.
type VADFrame struct {
	Index  int     // frame number from the start of the stream
	RMSdB  float64 // frame level, dBFS
	Speech bool
}

const (
	vadFrameSec   = 0.02
	vadMarginDB   = 12   // above the floor
	vadAbsoluteDB = -55  // never speech below this
	vadHangFrames = 10   // 200 ms
	vadMinRun     = 3    // 60 ms of energy before the first frame counts
	vadFloorRise  = 0.05 // dB per frame the floor creeps up
)

// NewVAD returns a VAD for mono audio at rate.
func NewVAD(rate int) *VAD {
	return &VAD{rate: rate, frame: int(float64(rate) * vadFrameSec), floorDB: -90}
}

// FrameSeconds is the duration of one VADFrame.
func (v *VAD) FrameSeconds() float64 { return float64(v.frame) / float64(v.rate) }

// Push feeds samples and calls emit for every completed frame.
func (v *VAD) Push(samples []float32, emit func(VADFrame)) {
	for len(samples) > 0 {
		need := v.frame - len(v.buf)
		n := min(need, len(samples))
		v.buf = append(v.buf, samples[:n]...)
		samples = samples[n:]
		if len(v.buf) < v.frame {
			return
		}
		emit(v.decide())
		v.buf = v.buf[:0]
	}
}

func (v *VAD) decide() VADFrame {
	var sum float64
	for _, s := range v.buf {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(len(v.buf)))
	db := 20 * math.Log10(rms+1e-9)
	if !v.started {
		v.floorDB = db
		v.started = true
	}
	// Floor: falls at once to a quieter frame, rises slowly.
	if db < v.floorDB {
		v.floorDB = db
	} else {
		v.floorDB += vadFloorRise
	}
	loud := db > v.floorDB+vadMarginDB && db > vadAbsoluteDB
	if loud {
		v.speechRun++
	} else {
		v.speechRun = 0
	}
	speech := false
	if v.speechRun >= vadMinRun {
		v.hang = vadHangFrames
		speech = true
	} else if v.hang > 0 {
		v.hang--
		speech = true
	}
	f := VADFrame{Index: v.n, RMSdB: db, Speech: speech}
	v.n++
	return f
}
