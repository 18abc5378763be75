package detectors

import "github.com/bonafide-dev/bonafide/media"

// registerVoice adds this group's detectors to s: pitch against formants,
// micro-prosody and synthetic prosody (issue 4). They share one pitch
// tracker on the 16 kHz voice stream.
func registerVoice(cfg Config, s *Set) error {
	pitch, err := NewSharedPitch(media.VoiceRate)
	if err != nil {
		return err
	}
	pf, err := newPitchFormant(pitch)
	if err != nil {
		return err
	}
	mp, err := newMicroProsody(pitch)
	if err != nil {
		return err
	}
	sp, err := newSynthProsody(pitch)
	if err != nil {
		return err
	}
	s.Audio = append(s.Audio, pf, mp, sp)
	return nil
}
