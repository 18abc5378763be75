package detectors

import "image"

// Face regions as fractions of a Haar frontal face box (x0, y0, x1, y1).
// The cascade's box runs from about mid-forehead to the chin and between
// the outer cheeks; these fractions place skin patches and features inside
// it. They are approximations without landmarks: detectors that use them
// must tolerate a few pixels of error and a turned head.
var (
	RegionForehead   = [4]float64{0.30, 0.04, 0.70, 0.20}
	RegionLeftCheek  = [4]float64{0.14, 0.50, 0.36, 0.70} // image left
	RegionRightCheek = [4]float64{0.64, 0.50, 0.86, 0.70} // image right
	RegionLeftEye    = [4]float64{0.15, 0.22, 0.45, 0.46}
	RegionRightEye   = [4]float64{0.55, 0.22, 0.85, 0.46}
	RegionMouth      = [4]float64{0.27, 0.68, 0.73, 0.94}
	RegionInnerFace  = [4]float64{0.18, 0.20, 0.82, 0.92} // skin and features, no background
)

// Sub returns the region of face box r given by fractions f, clipped to
// bounds.
func Sub(r image.Rectangle, f [4]float64, bounds image.Rectangle) image.Rectangle {
	w, h := float64(r.Dx()), float64(r.Dy())
	return image.Rect(
		r.Min.X+int(f[0]*w+0.5), r.Min.Y+int(f[1]*h+0.5),
		r.Min.X+int(f[2]*w+0.5), r.Min.Y+int(f[3]*h+0.5),
	).Intersect(bounds)
}

// Grow returns r enlarged by frac of its size on every side, clipped to
// bounds (e.g. the ring around a face for boundary analysis).
func Grow(r image.Rectangle, frac float64, bounds image.Rectangle) image.Rectangle {
	dx, dy := int(float64(r.Dx())*frac+0.5), int(float64(r.Dy())*frac+0.5)
	return image.Rect(r.Min.X-dx, r.Min.Y-dy, r.Max.X+dx, r.Max.Y+dy).Intersect(bounds)
}
