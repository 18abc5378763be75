package detectors

import (
	"errors"

	"github.com/bonafide-dev/bonafide/models"
)

// Config is what detectors need from the outside. It is passed down
// explicitly; detectors read no globals.
type Config struct {
	FaceModels models.FaceModels
	// FPS is the nominal analysis frame rate.
	FPS float64
}

// Set is one fresh instance of every detector, for one analysis. Face and
// Speech are also in Video and Audio; the pipeline reads coverage from them.
type Set struct {
	Video  []VideoDetector
	Audio  []AudioDetector
	AV     []AVDetector
	Face   *FacePresence
	Speech *SpeechPresence
}

// NewSet builds every detector. Add a new detector here.
func NewSet(cfg Config) (*Set, error) {
	s := &Set{Face: NewFacePresence(), Speech: NewSpeechPresence()}
	s.Video = append(s.Video, s.Face)
	s.Audio = append(s.Audio, s.Speech)
	// Each group registers its detectors in its own file (register_*.go).
	errs := []error{
		registerVideoPhysiology(cfg, s), // pulse, blinks, flicker (issue 3)
		registerVideoTexture(cfg, s),    // boundary, context, spectrum (issue 3)
		registerVideoCamera(cfg, s),     // enhancement, virtual camera (issue 3)
		registerVoice(cfg, s),           // pitch, prosody (issue 4)
		registerChannel(cfg, s),         // band limit, noise floor, envelope (issue 4)
		registerAV(cfg, s),              // lip sync (issue 4)
	}
	if err := errors.Join(errs...); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every detector. It is idempotent because each detector's
// Close is.
func (s *Set) Close() error {
	var errs []error
	for _, d := range s.Video {
		errs = append(errs, d.Close())
	}
	for _, d := range s.Audio {
		errs = append(errs, d.Close())
	}
	for _, d := range s.AV {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}
