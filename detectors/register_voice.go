package detectors

// registerVoice adds this group's detectors to s: pitch against formants,
// micro-prosody and synthetic prosody (issue 4). Each runs its own pitch
// tracker on the 16 kHz voice stream.
func registerVoice(cfg Config, s *Set) error {
	pf, err := NewPitchFormant()
	if err != nil {
		return err
	}
	mp, err := NewMicroProsody()
	if err != nil {
		return err
	}
	sp, err := NewSynthProsody()
	if err != nil {
		return err
	}
	s.Audio = append(s.Audio, pf, mp, sp)
	return nil
}
