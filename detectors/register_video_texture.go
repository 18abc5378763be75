package detectors

// registerVideoTexture adds this group's detectors to s: the blending
// boundary, the face-versus-context noise and sharpness, and the frequency
// spectrum of the face (issue 3). They need no model files.
func registerVideoTexture(cfg Config, s *Set) error {
	s.Video = append(s.Video, NewBoundary(), NewFaceContext(), NewSpectrum())
	return nil
}
