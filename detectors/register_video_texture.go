package detectors

// registerVideoTexture adds this group's detectors to s: the blending
// boundary around the face box, the seam along the landmark hull below the
// chin, the face-versus-context noise and sharpness, and the frequency
// spectrum of the face (issue 3). They need no model files; video.seam and
// video.context use the primary face's landmarks when the pipeline fitted
// them.
func registerVideoTexture(cfg Config, s *Set) error {
	s.Video = append(s.Video, NewBoundary(), NewSeam(), NewFaceContext(), NewSpectrum())
	return nil
}
