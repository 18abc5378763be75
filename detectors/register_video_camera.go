package detectors

// registerVideoCamera adds this group's detectors to s.
func registerVideoCamera(cfg Config, s *Set) error {
	return nil
}
