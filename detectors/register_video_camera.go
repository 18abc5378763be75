package detectors

// registerVideoCamera adds this group's detectors to s: image enhancement
// (beauty filter) and virtual-camera signs.
func registerVideoCamera(cfg Config, s *Set) error {
	s.Video = append(s.Video,
		NewEnhancement(cfg.FaceModels.Brisque, cfg.FaceModels.Range),
		NewVirtualCam(),
	)
	return nil
}
