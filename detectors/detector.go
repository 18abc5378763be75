// Package detectors holds one small detector per signal and the types they
// share. The analysis pipeline decodes the input once (package media), runs
// face tracking once per frame (FaceTracker) and hands every detector the
// same read-only frames and audio chunks. Each detector measures one thing
// about the face or the voice and, when the stream ends, returns a Result:
// findings with the raw measured values, their normal range and a sentence a
// recruiter understands, or the reason it could not measure anything.
//
// A detector never sees file names, containers or other metadata: it must
// measure the face or the voice.
package detectors

import (
	"image"

	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/media"
)

// Modality is the stream a signal is about.
type Modality string

// Modalities.
const (
	Video Modality = "video"
	Audio Modality = "audio"
	AV    Modality = "av" // audio-visual consistency
)

// Measurement is one raw measured value and, when one is known, the range
// seen on genuine recordings.
type Measurement struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	// NormalLow and NormalHigh bound the range seen on genuine recordings;
	// both are nil when no such range is known.
	NormalLow  *float64 `json:"normal_low,omitempty"`
	NormalHigh *float64 `json:"normal_high,omitempty"`
}

// M is shorthand for a Measurement with a normal range [lo, hi].
func M(name string, value float64, unit string, lo, hi float64) Measurement {
	return Measurement{Name: name, Value: value, Unit: unit, NormalLow: &lo, NormalHigh: &hi}
}

// Finding is evidence about one signal over one time window.
type Finding struct {
	Signal   string   `json:"signal"`
	Modality Modality `json:"modality"`
	Start    float64  `json:"start"` // seconds from the start of the input
	End      float64  `json:"end"`   // seconds
	// Score is how manipulated the signal looks: 0 = typical of genuine
	// recordings, 1 = typical of manipulated ones.
	Score float64 `json:"score"`
	// Confidence in [0,1] says how much data of what quality backs Score.
	Confidence  float64       `json:"confidence"`
	Values      []Measurement `json:"values,omitempty"`
	Explanation string        `json:"explanation"`
}

// Result is what a detector reports when the stream has ended.
type Result struct {
	Signal   string   `json:"signal"`
	Modality Modality `json:"modality"`
	// Summary is the finding over the whole input; nil when the signal could
	// not be measured, and then NotMeasurable says why.
	Summary       *Finding `json:"summary,omitempty"`
	NotMeasurable string   `json:"not_measurable,omitempty"`
	// Windows are per-window findings for the timeline (may be empty).
	Windows []Finding `json:"windows,omitempty"`
	// Informational results are shown but never enter the score (e.g.
	// coverage statistics).
	Informational bool `json:"informational,omitempty"`
}

// Measured reports whether the detector produced a summary.
func (r Result) Measured() bool { return r.Summary != nil }

// NotMeasured builds the Result of a detector that could not measure.
func NotMeasured(signal string, m Modality, reason string) Result {
	return Result{Signal: signal, Modality: m, NotMeasurable: reason}
}

// Face is one tracked face in a frame, in frame pixel coordinates.
type Face struct {
	// Rect is the face's box clipped to the frame: always inside it, so
	// that detectors can crop it.
	Rect image.Rectangle
	// Box is the tracker's whole box, which may reach beyond the frame
	// when the picture cuts the face off (most often a forehead above the
	// top edge, which the tracker looks for).
	// The landmark fit and lip sync's mouth region (a fraction of the box,
	// Sub) use it, so that they sit on the face rather than on the part
	// the frame shows; the other detectors measure Rect. Use Whole, which
	// also serves Faces made without a Box.
	Box image.Rectangle
	// TrackID names the face across frames of one picture size. After the
	// picture size changes (a live decoder restarted for a new size) the
	// same face goes on under a new ID, its box scaled: detectors that
	// follow a face over consecutive frames (pulse, blinks, flicker) start
	// a new stretch rather than compare measurements across the sizes.
	TrackID int
	// Detected is false when the box was carried over from earlier frames
	// because the cascade missed the face in this one.
	Detected bool
	// Profile is set when only the profile cascade found the face.
	Profile bool
	// Landmarks are the 68 points of the iBUG 300-W scheme (see
	// Landmarks68 and the Landmark* index ranges), fitted on the primary
	// face of every frame; nil for other faces. They are approximate on
	// profile views: check Profile before trusting the far side.
	Landmarks []image.Point
}

// Whole returns the face's whole box (Box), or Rect when Box is empty.
func (f Face) Whole() image.Rectangle {
	if f.Box.Empty() {
		return f.Rect
	}
	return f.Box
}

// VideoFrame is one analysed frame with what the pipeline computed once for
// every detector. Everything in it is read-only and valid only during the
// Observe call: a detector must copy what it keeps (Mat.Clone, or its own
// numbers) and must not close the Mats.
type VideoFrame struct {
	Index int
	Time  float64  // seconds
	Image gocv.Mat // BGR, 8 bit
	Gray  gocv.Mat // 8-bit grey version of Image
	// Faces are the tracked faces, the primary (interviewee) face first.
	// Empty when no face is visible.
	Faces []Face
	// FPS is the nominal analysis frame rate (frames may be slower).
	FPS float64
}

// Primary returns the primary face, or false when there is none.
func (f *VideoFrame) Primary() (Face, bool) {
	if len(f.Faces) == 0 {
		return Face{}, false
	}
	return f.Faces[0], true
}

// VideoDetector measures one signal of the picture. The pipeline calls
// Observe for every analysed frame in time order from one goroutine, then
// Finish once, then Close.
type VideoDetector interface {
	Name() string
	// Observe must not keep f or its Mats after it returns.
	Observe(f *VideoFrame) error
	Finish() Result
	// Close releases what the detector holds (Mats). It is idempotent.
	Close() error
}

// AudioDetector measures one signal of the soundtrack. The pipeline calls
// ObserveAudio for every chunk of the stream at Rate() in time order from
// one goroutine, then Finish once, then Close.
type AudioDetector interface {
	Name() string
	// Rate is the sample rate the detector wants: media.VoiceRate for voice
	// analysis, or 0 for the source's own full-band rate.
	Rate() int
	// ObserveAudio must not keep c.Samples after it returns.
	ObserveAudio(c media.Chunk) error
	Finish() Result
	Close() error
}

// AVDetector measures the consistency of picture and sound. Observe is
// called from the video goroutine and ObserveAudio (16 kHz voice stream)
// from the audio goroutine, possibly at the same time: an implementation
// keeps the two sides apart until Finish, which runs after both have ended.
type AVDetector interface {
	Name() string
	Observe(f *VideoFrame) error
	ObserveAudio(c media.Chunk) error
	Finish() Result
	Close() error
}

// EnhancementSignal is the name of the image-enhancement (beauty filter)
// signal, which the report shows on its own line.
const EnhancementSignal = "video.enhancement"
