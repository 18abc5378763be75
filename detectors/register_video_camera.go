package detectors

// registerVideoCamera adds this group's detectors to s: image enhancement
// (beauty filter) and virtual-camera signs. Both measure the temporal
// noise between consecutive frames: they share one measurement.
func registerVideoCamera(cfg Config, s *Set) error {
	tm := newCamTemporal()
	s.Video = append(s.Video,
		newEnhancement(cfg.FaceModels.Brisque, cfg.FaceModels.Range, tm),
		newVirtualCam(tm),
	)
	return nil
}
