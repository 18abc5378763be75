package detectors

// registerVoice adds this group's detectors to s.
func registerVoice(cfg Config, s *Set) error {
	return nil
}
