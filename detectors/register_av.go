package detectors

// registerAV adds this group's detectors to s.
func registerAV(cfg Config, s *Set) error {
	return nil
}
