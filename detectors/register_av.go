package detectors

// registerAV adds this group's detectors to s: lip sync (issue 4).
func registerAV(cfg Config, s *Set) error {
	s.AV = append(s.AV, NewLipSync())
	return nil
}
