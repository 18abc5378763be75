package analysis

import (
	"image"
	"log/slog"
	"sync"

	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// Segment is one fresh set of detectors fed by hand: the file pipeline
// feeds one Segment with a whole recording; the live bot feeds one per
// stretch of a call. Video (ObserveFrame) and audio (ObserveVoice,
// ObserveFullBand) may be fed from different goroutines; each of the three
// from one goroutine at a time. A detector whose Observe fails is dropped
// from the segment and reported as not measurable.
type Segment struct {
	set    *detectors.Set
	logger *slog.Logger

	mu     sync.Mutex
	failed map[string]error // detector name → its Observe error
	// noFullBand, when set, is why the source-rate audio is not fed: the
	// detectors that want it are reported not measurable with it.
	noFullBand string
}

// NewSegment builds every detector for cfg.
func NewSegment(cfg Config) (*Segment, error) {
	cfg.defaults()
	set, err := detectors.NewSet(detectors.Config{FaceModels: cfg.FaceModels, FPS: cfg.Video.FPS})
	if err != nil {
		return nil, err
	}
	return &Segment{set: set, logger: cfg.Logger, failed: map[string]error{}}, nil
}

// WantsFullBand reports whether a detector wants the source-rate audio
// (and WithoutFullBand was not called).
func (s *Segment) WantsFullBand() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noFullBand != "" {
		return false
	}
	for _, d := range s.set.Audio {
		if d.Rate() == 0 {
			return true
		}
	}
	return false
}

// WithoutFullBand says that no source-rate audio will be fed, and why: the
// detectors that need it are reported not measurable with reason, rather
// than as if the recording had no sound. Call it before feeding.
func (s *Segment) WithoutFullBand(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noFullBand = reason
}

func (s *Segment) fail(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.failed[name]; !ok {
		s.failed[name] = err
		s.logger.Error("detector failed", "detector", name, "err", err)
	}
}

func (s *Segment) isFailed(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.failed[name]
	return ok
}

// ObserveFrame feeds one prepared frame to every video and audio-visual
// detector.
func (s *Segment) ObserveFrame(vf *detectors.VideoFrame) {
	for _, d := range s.set.Video {
		if !s.isFailed(d.Name()) {
			if err := d.Observe(vf); err != nil {
				s.fail(d.Name(), err)
			}
		}
	}
	for _, d := range s.set.AV {
		if !s.isFailed(d.Name()) {
			if err := d.Observe(vf); err != nil {
				s.fail(d.Name(), err)
			}
		}
	}
}

// ObserveVoice feeds a chunk of the 16-kHz voice stream to the voice and
// audio-visual detectors.
func (s *Segment) ObserveVoice(c media.Chunk) {
	for _, d := range s.set.Audio {
		if d.Rate() == media.VoiceRate && !s.isFailed(d.Name()) {
			if err := d.ObserveAudio(c); err != nil {
				s.fail(d.Name(), err)
			}
		}
	}
	for _, d := range s.set.AV {
		if !s.isFailed(d.Name()) {
			if err := d.ObserveAudio(c); err != nil {
				s.fail(d.Name(), err)
			}
		}
	}
}

// ObserveFullBand feeds a chunk at the source's own rate to the detectors
// that want it.
func (s *Segment) ObserveFullBand(c media.Chunk) {
	for _, d := range s.set.Audio {
		if d.Rate() == 0 && !s.isFailed(d.Name()) {
			if err := d.ObserveAudio(c); err != nil {
				s.fail(d.Name(), err)
			}
		}
	}
}

// Results finishes every detector (call once, after feeding ends) and
// returns their results, failed detectors as not measurable.
func (s *Segment) Results() []detectors.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []detectors.Result
	add := func(name string, mod detectors.Modality, finish func() detectors.Result) {
		if err, ok := s.failed[name]; ok {
			out = append(out, detectors.NotMeasured(name, mod, "internal error: "+err.Error()))
			return
		}
		res := finish()
		if res.Signal == "" {
			res.Signal = name
		}
		out = append(out, res)
	}
	for _, d := range s.set.Video {
		add(d.Name(), detectors.Video, d.Finish)
	}
	for _, d := range s.set.Audio {
		if d.Rate() == 0 && s.noFullBand != "" {
			out = append(out, detectors.NotMeasured(d.Name(), detectors.Audio, s.noFullBand))
			continue
		}
		add(d.Name(), detectors.Audio, d.Finish)
	}
	for _, d := range s.set.AV {
		add(d.Name(), detectors.AV, d.Finish)
	}
	// The voice and audio-visual signals measure speech. Sound in which
	// (almost) no speech was heard (a steady tone, hum, music without a
	// voice, perhaps with a knock) can still look periodic or band-limited
	// to them, and a recording must not be judged on it.
	if s.set.Speech.Coverage().Seconds < minSpeechSeconds {
		for i, res := range out {
			if (res.Modality == detectors.Audio || res.Modality == detectors.AV) && !res.Informational && res.Summary != nil {
				out[i] = detectors.NotMeasured(res.Signal, res.Modality, noSpeech)
			}
		}
	}
	return out
}

// noSpeech is the reason a speech signal gives when less than
// minSpeechSeconds of speech was heard. Every dev item and codec copy on
// which a voice signal is measured has at least 1.8 s.
const (
	noSpeech         = "less than a second of speech was heard (silence, noise, music or a steady tone): this signal measures a voice"
	minSpeechSeconds = 1.0
)

// Coverage returns the seconds with a face and with speech; call after
// Results.
func (s *Segment) Coverage() (face, speech detectors.Coverage) {
	return s.set.Face.Coverage(), s.set.Speech.Coverage()
}

// Score fuses a whole recording's results with scorer.
func Score(scorer models.Scorer, results []detectors.Result, face, speech detectors.Coverage) models.Output {
	return scorer.Score(models.Input{Signals: Signals(results), FaceSeconds: face.Seconds, SpeechSeconds: speech.Seconds})
}

// ScoreLive fuses one live segment's results with scorer (as
// models.Input.Live: a model's live thresholds apply).
func ScoreLive(scorer models.Scorer, results []detectors.Result, face, speech detectors.Coverage) models.Output {
	return scorer.Score(models.Input{Signals: Signals(results), FaceSeconds: face.Seconds, SpeechSeconds: speech.Seconds, Live: true})
}

// Close closes every detector. It is idempotent.
func (s *Segment) Close() error { return s.set.Close() }

// FramePreparer turns decoded frames into detector frames: grey conversion,
// face tracking and the primary face's landmarks, once per frame. Not safe
// for concurrent use; Close it.
type FramePreparer struct {
	tracker    *detectors.FaceTracker
	landmarks  *detectors.Landmarker
	ownsModel  bool // landmarks was loaded here, not shared by the caller
	gray       gocv.Mat
	fps        float64
	fitsFailed int
}

// NewFramePreparer loads the face models of cfg. It uses cfg.Landmarker
// when set, else loads the landmark model itself (about a second).
func NewFramePreparer(cfg Config) (*FramePreparer, error) {
	cfg.defaults()
	tr, err := detectors.NewFaceTracker(cfg.FaceModels)
	if err != nil {
		return nil, err
	}
	p := &FramePreparer{tracker: tr, landmarks: cfg.Landmarker, gray: gocv.NewMat(), fps: cfg.Video.FPS}
	if p.landmarks == nil {
		if p.landmarks, err = detectors.NewLandmarker(cfg.FaceModels.Landmarks); err != nil {
			p.Close()
			return nil, err
		}
		p.ownsModel = true
	}
	return p, nil
}

// Prepare returns the detector frame for f at time t (seconds). The result
// borrows f.Image and the preparer's grey buffer: it is valid until the
// next Prepare.
func (p *FramePreparer) Prepare(f media.Frame, t float64) *detectors.VideoFrame {
	return p.PrepareInto(f, t, &p.gray)
}

// PrepareInto is Prepare with the grey picture written into gray, which
// the result borrows (with f.Image) instead of the preparer's buffer.
func (p *FramePreparer) PrepareInto(f media.Frame, t float64, gray *gocv.Mat) *detectors.VideoFrame {
	gocv.CvtColor(f.Image, gray, gocv.ColorBGRToGray)
	faces := p.tracker.Track(*gray, t)
	if len(faces) > 0 {
		pts, err := p.landmarks.Fit(*gray, faces[0].Box)
		if err != nil {
			p.fitsFailed++
		} else {
			faces[0].Landmarks = pts
		}
		// The tracker moves the box of a face it did not re-detect in
		// this frame with the landmarks.
		bounds := image.Rect(0, 0, gray.Cols(), gray.Rows())
		if b := p.tracker.Follow(faces[0].TrackID, faces[0].Landmarks); !b.Intersect(bounds).Empty() {
			faces[0].Box, faces[0].Rect = b, b.Intersect(bounds)
		}
	}
	return &detectors.VideoFrame{
		Index: f.Index,
		Time:  t,
		Image: f.Image,
		Gray:  *gray,
		Faces: faces,
		FPS:   p.fps,
	}
}

// Close frees the tracker and buffer. It is idempotent.
func (p *FramePreparer) Close() error {
	if p.tracker == nil {
		return nil
	}
	p.tracker.Close()
	p.tracker = nil
	if p.ownsModel && p.landmarks != nil {
		p.landmarks.Close()
	}
	return p.gray.Close()
}
