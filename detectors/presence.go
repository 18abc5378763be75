package detectors

import (
	"fmt"
	"math"
	"sort"

	"github.com/bonafide-dev/bonafide/media"
)

// WindowSeconds is the length of the report's timeline windows.
const WindowSeconds = 5.0

// windowOf returns the timeline window index of time t (seconds).
func windowOf(t float64) int {
	if t < 0 {
		return 0
	}
	return int(t / WindowSeconds)
}

// Coverage is how much of each timeline window carried a measurable face or
// voice.
type Coverage struct {
	Seconds   float64   // total
	PerWindow []float64 // seconds per timeline window
}

func (c *Coverage) add(t, dt float64) {
	w := windowOf(t)
	for len(c.PerWindow) <= w {
		c.PerWindow = append(c.PerWindow, 0)
	}
	c.PerWindow[w] += dt
	c.Seconds += dt
}

// FacePresence measures when a face is visible and how large it is. It is
// informational: it feeds the report's coverage and never the score.
type FacePresence struct {
	cov      Coverage
	lastT    float64
	lastFace bool
	frames   int
	withFace int
	profile  int
	multi    int
	sizes    []float64 // face height per frame with a face (px), sub-sampled
	fps      float64
	// gaps holds the last frame intervals, for the source's typical one: a
	// source slower than the analysis rate (a 2-fps meeting bot) delivers
	// every frame, each standing for its whole interval.
	gaps  [presenceGaps]float64
	ngaps int
}

// presenceGaps frame intervals make the typical one (their median).
const presenceGaps = 9

// presenceMaxCredit (s) is the most one frame is credited with: a longer
// interval is a gap in the picture, not a face seen.
const presenceMaxCredit = 1.0

// interval is the frames' typical interval: the nominal analysis one, or
// the source's own when that is longer.
func (d *FacePresence) interval() float64 {
	iv := 1 / math.Max(d.fps, 1)
	if n := min(d.ngaps, presenceGaps); n > 0 {
		g := append([]float64(nil), d.gaps[:n]...)
		sort.Float64s(g)
		iv = max(iv, g[n/2])
	}
	return iv
}

// credit is the most time one frame stands for: two typical intervals (a
// frame or two may be missing), at most presenceMaxCredit.
func (d *FacePresence) credit() float64 { return min(2*d.interval(), presenceMaxCredit) }

// NewFacePresence returns the face presence detector.
func NewFacePresence() *FacePresence { return &FacePresence{lastT: -1} }

// Name implements VideoDetector.
func (d *FacePresence) Name() string { return "face.presence" }

// Observe implements VideoDetector.
func (d *FacePresence) Observe(f *VideoFrame) error {
	d.fps = f.FPS
	d.account(f.Time)
	d.frames++
	face, ok := f.Primary()
	d.lastFace = ok
	if ok {
		d.withFace++
		if face.Profile {
			d.profile++
		}
		if len(f.Faces) > 1 {
			d.multi++
		}
		if len(d.sizes) < 100000 {
			d.sizes = append(d.sizes, float64(face.Rect.Dy()))
		}
	}
	d.lastT = f.Time
	return nil
}

// account credits the time since the previous frame to that frame's state.
func (d *FacePresence) account(now float64) {
	if d.lastT < 0 {
		return
	}
	dt := now - d.lastT
	if dt <= 0 {
		return
	}
	d.gaps[d.ngaps%presenceGaps] = dt
	d.ngaps++
	if d.lastFace {
		d.cov.add(d.lastT, min(dt, d.credit()))
	}
}

// Coverage returns the seconds with a face. Call after Finish.
func (d *FacePresence) Coverage() Coverage { return d.cov }

// Finish implements VideoDetector.
func (d *FacePresence) Finish() Result {
	// The last frame stands for one frame interval.
	if d.lastFace && d.fps > 0 {
		d.cov.add(d.lastT, min(d.interval(), presenceMaxCredit))
	}
	r := Result{Signal: d.Name(), Modality: Video, Informational: true}
	if d.frames == 0 {
		r.NotMeasurable = "no video frame could be decoded"
		return r
	}
	if d.withFace == 0 {
		r.NotMeasurable = fmt.Sprintf("no face found in any of %d analysed frames", d.frames)
		return r
	}
	frac := float64(d.withFace) / float64(d.frames)
	sort.Float64s(d.sizes)
	median := d.sizes[len(d.sizes)/2]
	r.Summary = &Finding{
		Signal:     d.Name(),
		Modality:   Video,
		Start:      0,
		End:        d.lastT,
		Confidence: 1,
		Values: []Measurement{
			{Name: "face_visible_fraction", Value: round3(frac)},
			{Name: "face_seconds", Value: round3(d.cov.Seconds), Unit: "s"},
			{Name: "median_face_height", Value: median, Unit: "px"},
			{Name: "profile_fraction", Value: round3(float64(d.profile) / float64(d.withFace))},
			{Name: "several_faces_fraction", Value: round3(float64(d.multi) / float64(d.withFace))},
		},
		Explanation: fmt.Sprintf("A face was visible in %.0f%% of the analysed frames (%.1f s), typically %.0f px tall.",
			100*frac, d.cov.Seconds, median),
	}
	// The reported value, rounded, decides: the report page compares it too.
	if multi := round3(float64(d.multi) / float64(d.withFace)); multi >= SeveralFacesShare {
		// A call recording in gallery view shows the interviewer too: say
		// whose face the signals describe, and how to choose.
		r.Summary.Explanation += fmt.Sprintf(" In %.0f%% of those frames more than one face was found (another person, or a false detection); every face signal measures the one seen most often. To measure one person, analyse their part of the picture only (a region: their tile in gallery view).",
			100*multi)
	}
	return r
}

// SeveralFacesShare is the share of frames with a face showing more than
// one (face.presence's several_faces_fraction) from which the explanation
// says that several were found, and the report page suggests choosing a
// region.
const SeveralFacesShare = 0.1

// Close implements VideoDetector.
func (d *FacePresence) Close() error { return nil }

// SpeechPresence measures when someone speaks (VAD). Informational, like
// FacePresence.
type SpeechPresence struct {
	vad     *VAD
	cov     Coverage
	frames  int
	speech  int
	lastEnd float64
	start   float64
	started bool
}

// NewSpeechPresence returns the speech presence detector.
func NewSpeechPresence() *SpeechPresence { return &SpeechPresence{vad: NewVAD(media.VoiceRate)} }

// Name implements AudioDetector.
func (d *SpeechPresence) Name() string { return "voice.presence" }

// Rate implements AudioDetector.
func (d *SpeechPresence) Rate() int { return media.VoiceRate }

// ObserveAudio implements AudioDetector.
func (d *SpeechPresence) ObserveAudio(c media.Chunk) error {
	if !d.started {
		d.start, d.started = c.Start.Seconds(), true
	}
	fs := d.vad.FrameSeconds()
	d.vad.Push(c.Samples, func(f VADFrame) {
		d.frames++
		t := d.start + float64(f.Index)*fs
		if f.Speech {
			d.speech++
			d.cov.add(t, fs)
		}
		d.lastEnd = t + fs
	})
	return nil
}

// Coverage returns the seconds with speech. Call after Finish.
func (d *SpeechPresence) Coverage() Coverage { return d.cov }

// Finish implements AudioDetector.
func (d *SpeechPresence) Finish() Result {
	r := Result{Signal: d.Name(), Modality: Audio, Informational: true}
	if d.frames == 0 {
		r.NotMeasurable = "no audio could be decoded"
		return r
	}
	if d.speech == 0 {
		r.NotMeasurable = "no speech found (silence or noise only)"
		return r
	}
	frac := float64(d.speech) / float64(d.frames)
	r.Summary = &Finding{
		Signal:     d.Name(),
		Modality:   Audio,
		Start:      d.start,
		End:        d.lastEnd,
		Confidence: 1,
		Values: []Measurement{
			{Name: "speech_fraction", Value: round3(frac)},
			{Name: "speech_seconds", Value: round3(d.cov.Seconds), Unit: "s"},
		},
		Explanation: fmt.Sprintf("Speech was heard for %.1f s (%.0f%% of the soundtrack).", d.cov.Seconds, 100*frac),
	}
	return r
}

// Close implements AudioDetector.
func (d *SpeechPresence) Close() error { return nil }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
