package detectors

import (
	"fmt"
	"math"

	"github.com/bonafide-dev/bonafide/media"
)

// NoiseFloorSignal is the name of the noise-floor signal.
const NoiseFloorSignal = "audio.noisefloor"

// NoiseFloor measures the background noise in the pauses between words.
// A real microphone in a real room has a continuous noise floor, typically
// 20–50 dB below the speech; voice changers with a noise gate and TTS
// engines leave the pauses digitally silent (exact zeros or below
// −90 dBFS), i.e. they carry noise only while the voice is on.
//
// Only pauses inside the speech span count: a pause is committed when
// speech resumes after it, so leading and trailing silence never enter,
// and pauses longer than noiseFloorMaxGap are skipped (they are breaks,
// not pauses between words). The measurements are medians of per-frame
// levels and a fraction of pause frames, so the total amount of silence
// never decides the score (silence length is a known dataset artifact).
//
// Memory is constant: two level histograms for the whole input, two for
// the current timeline window, and at most noiseFloorMaxGap of pending
// pause levels.
type NoiseFloor struct {
	vad     *VAD
	started bool
	start   float64
	frameS  float64

	floorDB float64 // background level tracker, dBFS
	recent  [noiseFloorTrackFrames]float64
	nRecent int
	inSpan  bool      // a speech frame has been seen
	pending []float64 // levels of the current pause (not yet committed)
	pendT   float64   // time of the first pending frame
	skipGap bool      // current pause is too long to count

	speech, pause       chHist // whole input, committed frames
	digital             int    // committed pause frames below noiseFloorDigitalDB
	gaps                int    // committed pauses
	winSpeech, winPause chHist
	winDigital, winGaps int
	winIdx              int
	lastT               float64
	windows             []Finding
}

// NewNoiseFloor returns the noise-floor detector.
func NewNoiseFloor() *NoiseFloor {
	v := NewVAD(media.VoiceRate)
	return &NoiseFloor{vad: v, frameS: v.FrameSeconds()}
}

const (
	// noiseFloorDigitalDB is the level below which a pause frame counts as
	// digital silence: 16-bit audio's own quantisation noise sits near
	// −98 dBFS, and no microphone chain is that quiet.
	noiseFloorDigitalDB = -90.0
	// noiseFloorMaxGap is the longest pause (s) that counts as a pause
	// between words.
	noiseFloorMaxGap = 3.0
	// noiseFloorPauseDB: a frame within this of the tracked floor is
	// background.
	noiseFloorPauseDB = 6.0
	// noiseFloorTrackFrames is the floor tracker's memory (2 s of 20-ms
	// frames).
	noiseFloorTrackFrames = 100
	// noiseFloorMinPause is the least committed pause time (s) and
	// noiseFloorMinGaps the fewest pauses for a summary.
	noiseFloorMinPause = 0.2
	noiseFloorMinGaps  = 2
	// Pause depth = median speech level − median pause level. Rooms and
	// headsets give 15–50 dB (dev genuine recordings with a real floor:
	// 10–43 dB); more than ~60 dB means gated or generated pauses. Opus
	// coding of a gated voice leaves 60–70 dB (codec noise around words).
	noiseFloorDepthMid   = 60.0
	noiseFloorDepthScale = 4.0
)

// Name implements AudioDetector.
func (d *NoiseFloor) Name() string { return NoiseFloorSignal }

// Rate implements AudioDetector: the 16-kHz voice stream.
func (d *NoiseFloor) Rate() int { return media.VoiceRate }

// ObserveAudio implements AudioDetector.
func (d *NoiseFloor) ObserveAudio(c media.Chunk) error {
	if !d.started {
		d.started = true
		d.start = c.Start.Seconds()
	}
	d.vad.Push(c.Samples, d.frame)
	return nil
}

func (d *NoiseFloor) frame(f VADFrame) {
	t := d.start + float64(f.Index)*d.frameS
	d.lastT = t + d.frameS
	// Own floor tracker: the minimum level over the last
	// noiseFloorTrackFrames frames (minimum statistics). It follows the
	// background down and up, also after digital silence, so that pause
	// frames inside the VAD's hangover still count as background.
	d.recent[d.nRecent%len(d.recent)] = f.RMSdB
	d.nRecent++
	d.floorDB = 0
	for _, v := range d.recent[:min(d.nRecent, len(d.recent))] {
		d.floorDB = math.Min(d.floorDB, v)
	}
	switch {
	case f.Speech && f.RMSdB > d.floorDB+vadMarginDB:
		d.commitPause()
		d.inSpan = true
		d.commit(t, f.RMSdB, true)
	case !d.inSpan || d.skipGap || f.RMSdB > d.floorDB+noiseFloorPauseDB:
		// Before the first word, inside a skipped break, or a frame that
		// is neither clear speech nor background (onsets, reverb tails).
	default:
		if len(d.pending) == 0 {
			d.pendT = t
		}
		if float64(len(d.pending)+1)*d.frameS > noiseFloorMaxGap {
			d.pending = d.pending[:0]
			d.skipGap = true
			return
		}
		d.pending = append(d.pending, f.RMSdB)
	}
}

// commitPause accounts the pending pause, which speech has just closed.
func (d *NoiseFloor) commitPause() {
	if len(d.pending) > 0 {
		for i, db := range d.pending {
			d.commit(d.pendT+float64(i)*d.frameS, db, false)
		}
		d.gaps++
		d.winGaps++
	}
	d.pending = d.pending[:0]
	d.skipGap = false
}

// commit adds one frame; committed frames arrive in time order.
func (d *NoiseFloor) commit(t, db float64, speech bool) {
	if w := windowOf(t); w != d.winIdx {
		d.flushWindow()
		d.winIdx = w
	}
	if speech {
		d.speech.add(db)
		d.winSpeech.add(db)
		return
	}
	d.pause.add(db)
	d.winPause.add(db)
	if db < noiseFloorDigitalDB {
		d.digital++
		d.winDigital++
	}
}

func (d *NoiseFloor) flushWindow() {
	if float64(d.winPause.n)*d.frameS >= noiseFloorMinPause/2 && d.winSpeech.n > 0 {
		m := d.measure(&d.winSpeech, &d.winPause, d.winDigital, d.winGaps)
		start := float64(d.winIdx) * WindowSeconds
		d.windows = append(d.windows, d.finding(m, start, start+WindowSeconds))
	}
	d.winSpeech.reset()
	d.winPause.reset()
	d.winDigital, d.winGaps = 0, 0
}

type floorMeasure struct {
	SpeechDB, PauseDB, DepthDB, Digital, PauseSec float64
	Gaps                                          int
	Score, Confidence                             float64
}

func (d *NoiseFloor) measure(sp, pa *chHist, digital, gaps int) floorMeasure {
	m := floorMeasure{
		SpeechDB: sp.quantile(0.5),
		PauseDB:  pa.quantile(0.5),
		Digital:  float64(digital) / float64(max(pa.n, 1)),
		PauseSec: float64(pa.n) * d.frameS,
		Gaps:     gaps,
	}
	m.DepthDB = m.SpeechDB - m.PauseDB
	m.Score = 0.02 + 0.96*chLogistic(m.DepthDB, noiseFloorDepthMid, noiseFloorDepthScale)
	// Confidence from how many separate pauses back the median (not how
	// long they are) and how much speech sets the reference.
	m.Confidence = chClamp01(float64(gaps)/6) * chClamp01(float64(sp.n)*d.frameS/3)
	return m
}

// Finish implements AudioDetector.
func (d *NoiseFloor) Finish() Result {
	if !d.started {
		return NotMeasured(d.Name(), Audio, "no audio could be decoded")
	}
	d.flushWindow() // trailing pending pause is never committed
	if d.speech.n == 0 {
		return NotMeasured(d.Name(), Audio, "no speech found (silence or noise only)")
	}
	pauseSec := float64(d.pause.n) * d.frameS
	if d.gaps < noiseFloorMinGaps || pauseSec < noiseFloorMinPause {
		return NotMeasured(d.Name(), Audio, fmt.Sprintf(
			"too few pauses between words to hear the background (%d pauses, %.1f s; at least %d and %.1f s needed)",
			d.gaps, pauseSec, noiseFloorMinGaps, noiseFloorMinPause))
	}
	m := d.measure(&d.speech, &d.pause, d.digital, d.gaps)
	sum := d.finding(m, d.start, d.lastT)
	return Result{Signal: d.Name(), Modality: Audio, Summary: &sum, Windows: d.windows}
}

func (d *NoiseFloor) finding(m floorMeasure, start, end float64) Finding {
	return Finding{
		Signal:     d.Name(),
		Modality:   Audio,
		Start:      start,
		End:        end,
		Score:      round3(m.Score),
		Confidence: round3(m.Confidence),
		Values: []Measurement{
			M("pause_depth", round3(m.DepthDB), "dB", 10, 50),
			M("pause_level", round3(m.PauseDB), "dBFS", -80, -35),
			M("digital_silence_fraction", round3(m.Digital), "", 0, 0.05),
			{Name: "speech_level", Value: round3(m.SpeechDB), Unit: "dBFS"},
			{Name: "pauses", Value: float64(m.Gaps)},
			{Name: "pause_seconds", Value: round3(m.PauseSec), Unit: "s"},
		},
		Explanation: m.explain(),
	}
}

func (m floorMeasure) explain() string {
	switch {
	case m.Digital >= 0.5:
		return fmt.Sprintf("%.0f%% of the pauses between words are digital silence (no background noise at all), which happens when a voice changer gates the microphone or when speech is synthesised.",
			100*m.Digital)
	case m.Score >= 0.5:
		return fmt.Sprintf("The pauses between words are %.0f dB quieter than the speech, far quieter than a real room; the background noise seems to be present only while the voice is on, as with gated or synthetic speech.",
			m.DepthDB)
	default:
		return fmt.Sprintf("The pauses between words keep a background noise %.0f dB below the speech (at %.0f dBFS), as a real microphone in a room does.",
			m.DepthDB, m.PauseDB)
	}
}

// Close implements AudioDetector. It holds nothing and is idempotent.
func (d *NoiseFloor) Close() error { return nil }
