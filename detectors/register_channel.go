package detectors

// registerChannel adds this group's detectors to s: the channel-level voice
// signals of issue 4 (band-limit cliff, noise floor, spectral envelope).
// They need no configuration and hold no resources.
func registerChannel(cfg Config, s *Set) error {
	s.Audio = append(s.Audio, NewBandLimit(), NewNoiseFloor(), NewEnvelope())
	return nil
}
