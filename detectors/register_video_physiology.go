package detectors

// registerVideoPhysiology adds this group's detectors to s.
func registerVideoPhysiology(cfg Config, s *Set) error {
	return nil
}
