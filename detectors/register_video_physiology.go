package detectors

// registerVideoPhysiology adds this group's detectors to s: the blood-flow
// pulse, blinks, and temporal flicker of the primary face (issue 3). They
// need nothing from cfg: the frame rate and the faces (with landmarks) come
// with every frame.
func registerVideoPhysiology(_ Config, s *Set) error {
	s.Video = append(s.Video, NewPulse(), NewBlinks(), NewFlicker())
	return nil
}
