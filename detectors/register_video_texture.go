package detectors

// registerVideoTexture adds this group's detectors to s.
func registerVideoTexture(cfg Config, s *Set) error {
	return nil
}
