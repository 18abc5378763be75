package detectors

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"gocv.io/x/gocv"
)

// Landmark geometry and skin maps shared by the landmark-based compositing
// detectors (video.seam, video.context). Swap tools (DeepFaceLive,
// DeepFaceLab, FaceSwap, the FaceForensics++ methods) paste the generated
// face through a mask made from the face landmarks: the hull of the jaw
// line and the eyebrows, often raised a little into the forehead, eroded
// and feathered. So the place to look for the paste is that hull, in the
// face's own coordinates, not an ellipse around the Haar box.
//
// For every analysed frame a seamMapper resamples the region around the
// landmarks onto a grid of seamGrid cells per face width W (the jaw width,
// landmark 0 to 16), so that every size below is a fixed number of cells
// whatever the face's size in pixels, and computes per cell:
//
//   - noise: Immerkær's noise/fine-detail level at native resolution (see
//     texNoiser), as ln(σ + 0.25);
//   - detail: Laplacian energy of the face resampled to seamDetailW px per
//     face width, i.e. texture at a fixed fraction of the face's size, as
//     ln(rms + 1);
//   - colour: log-chromaticity ln(R/G), ln(B/G), which a shadow or an
//     exposure change leaves nearly unchanged, and the grey level.
//
// Cells are then labelled from landmark polygons rasterised on the grid:
// the cheeks (the face's own skin, the colour reference); the band just
// inside the hull (minus eyes, brows and mouth); and the band just outside
// it. Outside cells count only when their colour and grey level are close
// to the cheeks' (skin: hair, background and clothes are left out) and
// they are neither clipped dark nor bright. Both bands are split into
// three zones: the forehead above the brow line, the sides of the face and
// the chin/neck.
//
// The hull is rasterised once per frame and the bands are made with
// morphological erosion and dilation by elliptical kernels, whose sizes
// are fixed because the grid is normalised to the face width.
//
// Mats are allocated once and reused; the caller owns the mapper and must
// Close it.
type seamMapper struct {
	noise                  *texNoiser
	energy, colour, detail gocv.Mat
	faceGray, lap          gocv.Mat
	lapSq                  gocv.Mat
	hull, feat, cheeks     gocv.Mat
	erodeIn, erodeOut      gocv.Mat
	dilateIn, dilateOut    gocv.Mat
	kIn, kOut, kNear, kFar gocv.Mat
	kFeat                  gocv.Mat
	featDil                gocv.Mat
	closed                 bool
	cells                  []seamCell
	lrs, lbs, greys        []float64 // scratch
}

// Grid and geometry, in cells (seamGrid cells = one face width W).
const (
	seamGrid    = 64   // cells per face width
	seamDetailW = 64   // px per face width for the detail map
	seamBandIn  = 0.03 // the inner band runs from 0.03 W …
	seamBandIn2 = 0.12 // … to 0.12 W inside the hull
	seamBandOut = 0.03 // the outer band from 0.03 W …
	seamBandOt2 = 0.15 // … to 0.15 W outside it
	seamFeatPad = 0.04 // eyes, brows and mouth grown by this
	// The brow line of the hull is lifted by this fraction of the
	// eye-to-brow distance, as the masks of swap tools are.
	seamBrowLift = 0.35
	// A cell outside the hull is skin when its log-chromaticity is within
	// seamSkinChroma of the cheeks' median in both ln(R/G) and ln(B/G).
	seamSkinChroma = 0.25
	// … and its grey level within a factor e^±seamSkinGrey of theirs
	// (shadowed neck skin is kept, dark hair and clothes are not).
	seamSkinGrey = 0.6
	seamDark     = 25
	seamLight    = 235
	seamMinCheek = 20 // cells of cheek skin for a usable frame
)

// Zones outside the hull.
const (
	seamTop  = iota // forehead above the lifted brow line
	seamSide        // beside the cheeks
	seamNeck        // below the chin
	seamZones
)

// Cell labels.
const (
	seamNone = iota
	seamCheek
	seamIn  // band just inside the hull
	seamOut // band just outside it (skin only)
)

// seamCell is one grid cell's measurements and label.
type seamCell struct {
	noise, detail, lr, lb, grey float32
	label, zone                 uint8
}

// errSeamGeometry means the landmarks do not describe a usable frontal
// face (degenerate or collapsed points).
var errSeamGeometry = errors.New("landmarks: degenerate face geometry")

// seamFace is a face's landmark geometry in frame pixels.
type seamFace struct {
	w        float64  // jaw width, px
	ux, uy   float64  // unit vector from chin to nose bridge ("up")
	lift     float64  // px the brow line of the hull is raised
	hull     []seamPt // jaw 0–16 then lifted brows 26–17
	browMid  seamPt   // mid-brow point (zone split)
	chin     seamPt   // landmark 8
	bbox     image.Rectangle
	cheeks   [2][]seamPt
	features [][]seamPt // eyes, brows, outer lips
}

type seamPt struct{ x, y float64 }

func newSeamFace(pts []image.Point) (seamFace, error) {
	if len(pts) != Landmarks68 {
		return seamFace{}, fmt.Errorf("%w: %d points", errSeamGeometry, len(pts))
	}
	p := func(i int) seamPt { return seamPt{float64(pts[i].X), float64(pts[i].Y)} }
	var f seamFace
	f.w = math.Hypot(p(16).x-p(0).x, p(16).y-p(0).y)
	ux, uy := p(27).x-p(8).x, p(27).y-p(8).y
	un := math.Hypot(ux, uy)
	if f.w < 4 || un < 4 {
		return seamFace{}, errSeamGeometry
	}
	f.ux, f.uy = ux/un, uy/un
	// Eye-to-brow distance along "up".
	var brow, eye seamPt
	for i := LandmarkRightBrow[0]; i < LandmarkLeftBrow[1]; i++ {
		brow.x += p(i).x / 10
		brow.y += p(i).y / 10
	}
	for i := LandmarkRightEye[0]; i < LandmarkLeftEye[1]; i++ {
		eye.x += p(i).x / 12
		eye.y += p(i).y / 12
	}
	eb := (brow.x-eye.x)*f.ux + (brow.y-eye.y)*f.uy
	if eb <= 0 {
		return seamFace{}, fmt.Errorf("%w: brows below the eyes", errSeamGeometry)
	}
	f.lift = seamBrowLift * eb
	f.browMid, f.chin = brow, p(8)
	for i := LandmarkJaw[0]; i < LandmarkJaw[1]; i++ {
		f.hull = append(f.hull, p(i))
	}
	for i := LandmarkLeftBrow[1] - 1; i >= LandmarkRightBrow[0]; i-- {
		q := p(i)
		f.hull = append(f.hull, seamPt{q.x + f.lift*f.ux, q.y + f.lift*f.uy})
	}
	// Cheeks: between the lower eyelid, the side of the nose, the mouth
	// corner and the jaw, shrunk by 15 % towards their centre so that a
	// few pixels of landmark error stay on skin.
	f.cheeks[0] = seamShrink([]seamPt{p(36), p(41), p(40), p(39), p(31), p(48), p(4), p(3), p(2), p(1)}, 0.15)
	f.cheeks[1] = seamShrink([]seamPt{p(45), p(46), p(47), p(42), p(35), p(54), p(12), p(13), p(14), p(15)}, 0.15)
	for _, r := range [][2]int{LandmarkRightEye, LandmarkLeftEye, LandmarkRightBrow, LandmarkLeftBrow, LandmarkOuterLips} {
		var poly []seamPt
		for i := r[0]; i < r[1]; i++ {
			poly = append(poly, p(i))
		}
		f.features = append(f.features, poly)
	}
	for i, q := range f.hull {
		r := image.Rect(int(q.x), int(q.y), int(q.x)+1, int(q.y)+1)
		if i == 0 {
			f.bbox = r
		} else {
			f.bbox = f.bbox.Union(r)
		}
	}
	return f, nil
}

func seamShrink(poly []seamPt, frac float64) []seamPt {
	var c seamPt
	for _, q := range poly {
		c.x += q.x / float64(len(poly))
		c.y += q.y / float64(len(poly))
	}
	out := make([]seamPt, len(poly))
	for i, q := range poly {
		out[i] = seamPt{c.x + (q.x-c.x)*(1-frac), c.y + (q.y-c.y)*(1-frac)}
	}
	return out
}

// region is the frame area the mapper samples for f: the hull's bounding
// box grown by the outer band and a margin, clipped to bounds.
func (f *seamFace) region(bounds image.Rectangle) image.Rectangle {
	g := int(math.Ceil((seamBandOt2 + 0.05) * f.w))
	return image.Rect(f.bbox.Min.X-g, f.bbox.Min.Y-g, f.bbox.Max.X+g, f.bbox.Max.Y+g).Intersect(bounds)
}

func newSeamMapper() *seamMapper {
	ell := func(r float64) gocv.Mat {
		d := 2*int(math.Round(r*seamGrid)) + 1
		return gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(d, d))
	}
	return &seamMapper{
		noise:  newTexNoiser(),
		energy: gocv.NewMat(), colour: gocv.NewMat(), detail: gocv.NewMat(),
		faceGray: gocv.NewMat(), lap: gocv.NewMat(), lapSq: gocv.NewMat(),
		hull: gocv.NewMat(), feat: gocv.NewMat(), cheeks: gocv.NewMat(),
		erodeIn: gocv.NewMat(), erodeOut: gocv.NewMat(), dilateIn: gocv.NewMat(), dilateOut: gocv.NewMat(),
		featDil: gocv.NewMat(),
		kIn:     ell(seamBandIn), kOut: ell(seamBandIn2), kNear: ell(seamBandOut), kFar: ell(seamBandOt2),
		kFeat: ell(seamFeatPad),
	}
}

// seamMap is one frame's labelled grid cells (unlabelled cells are left
// out). cells is the mapper's buffer: valid until the next measure.
type seamMap struct {
	cols, rows int
	cells      []seamCell
	cheekLR    float64 // median log-chromaticity of the cheeks
	cheekLB    float64
	cheekGrey  float64 // median grey level of the cheeks
	cheekN     int
}

// resizeTo resizes src to size with area averaging when shrinking and
// bilinear interpolation when enlarging.
func seamResize(src gocv.Mat, dst *gocv.Mat, size image.Point) {
	interp := gocv.InterpolationArea
	if size.X > src.Cols() {
		interp = gocv.InterpolationLinear
	}
	gocv.Resize(src, dst, size, 0, 0, interp)
}

// measure maps the face f of frame img/gray. ok is false when the region
// is too small or too little cheek skin is visible.
func (m *seamMapper) measure(img, gray gocv.Mat, f *seamFace) (sm seamMap, ok bool, err error) {
	bounds := image.Rect(0, 0, gray.Cols(), gray.Rows())
	roi := f.region(bounds)
	scale := seamGrid / f.w // cells per px
	cols, rows := int(float64(roi.Dx())*scale+0.5), int(float64(roi.Dy())*scale+0.5)
	if cols < seamGrid/2 || rows < seamGrid/2 || roi.Dx() < 8 || roi.Dy() < 8 {
		return seamMap{}, false, nil
	}
	size := image.Pt(cols, rows)
	// Noise energy at native resolution, averaged onto the grid.
	greg := gray.Region(roi)
	gocv.Filter2D(greg, &m.noise.hp, gocv.MatTypeCV32F, m.noise.kernel, image.Pt(-1, -1), 0, gocv.BorderReflect101)
	gocv.Multiply(m.noise.hp, m.noise.hp, &m.noise.sq)
	seamResize(m.noise.sq, &m.energy, size)
	// Detail: Laplacian energy at seamDetailW px per face width.
	dw, dh := int(float64(roi.Dx())*seamDetailW/f.w+0.5), int(float64(roi.Dy())*seamDetailW/f.w+0.5)
	seamResize(greg, &m.faceGray, image.Pt(max(dw, 3), max(dh, 3)))
	greg.Close()
	gocv.Laplacian(m.faceGray, &m.lap, gocv.MatTypeCV32F, 1, 1, 0, gocv.BorderReflect101)
	gocv.Multiply(m.lap, m.lap, &m.lapSq)
	seamResize(m.lapSq, &m.detail, size)
	// Colour.
	creg := img.Region(roi)
	seamResize(creg, &m.colour, size)
	creg.Close()

	// Label masks.
	off := seamPt{float64(roi.Min.X), float64(roi.Min.Y)}
	toGrid := func(poly []seamPt) []image.Point {
		out := make([]image.Point, len(poly))
		for i, q := range poly {
			out[i] = image.Pt(int(math.Round((q.x-off.x)*scale)), int(math.Round((q.y-off.y)*scale)))
		}
		return out
	}
	fill := func(dst *gocv.Mat, polys ...[]seamPt) {
		if dst.Rows() != rows || dst.Cols() != cols {
			dst.Close()
			*dst = gocv.NewMatWithSize(rows, cols, gocv.MatTypeCV8U)
		}
		dst.SetTo(gocv.NewScalar(0, 0, 0, 0))
		var pp [][]image.Point
		for _, p := range polys {
			pp = append(pp, toGrid(p))
		}
		pv := gocv.NewPointsVectorFromPoints(pp)
		gocv.FillPoly(dst, pv, color.RGBA{255, 255, 255, 255})
		pv.Close()
	}
	fill(&m.hull, f.hull)
	fill(&m.cheeks, f.cheeks[0], f.cheeks[1])
	fill(&m.feat, f.features...)
	gocv.Erode(m.hull, &m.erodeIn, m.kIn)
	gocv.Erode(m.hull, &m.erodeOut, m.kOut)
	gocv.Dilate(m.hull, &m.dilateIn, m.kNear)
	gocv.Dilate(m.hull, &m.dilateOut, m.kFar)
	gocv.Dilate(m.feat, &m.featDil, m.kFeat)

	en, err1 := m.energy.DataPtrFloat32()
	de, err2 := m.detail.DataPtrFloat32()
	co, err3 := m.colour.DataPtrUint8()
	hu, err4 := m.hull.DataPtrUint8()
	ch, err5 := m.cheeks.DataPtrUint8()
	ei, err6 := m.erodeIn.DataPtrUint8()
	eo, err7 := m.erodeOut.DataPtrUint8()
	di, err8 := m.dilateIn.DataPtrUint8()
	do, err9 := m.dilateOut.DataPtrUint8()
	fe, err10 := m.featDil.DataPtrUint8()
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10); err != nil {
		return seamMap{}, false, fmt.Errorf("%w: seam maps: %v", ErrTextureFrame, err)
	}
	n := cols * rows
	if len(en) != n || len(de) != n || len(co) != 3*n || len(hu) != n || len(fe) != n {
		return seamMap{}, false, fmt.Errorf("%w: seam map sizes", ErrTextureFrame)
	}
	// Label first and measure only labelled cells (about a third).
	m.cells = m.cells[:0]
	lrs, lbs, greys := m.lrs[:0], m.lbs[:0], m.greys[:0]
	for y := 0; y < rows; y++ {
		for x := 0; x < cols; x++ {
			i := y*cols + x
			var label uint8
			switch {
			case ch[i] != 0 && fe[i] == 0:
				label = seamCheek
			case hu[i] != 0 && ei[i] != 0 && eo[i] == 0 && fe[i] == 0:
				label = seamIn
			case hu[i] == 0 && di[i] == 0 && do[i] != 0:
				label = seamOut
			default:
				continue
			}
			b, g, r := float64(co[3*i])+1, float64(co[3*i+1])+1, float64(co[3*i+2])+1
			c := seamCell{
				noise:  float32(math.Log(math.Sqrt(math.Max(float64(en[i]), 0))/6 + 0.25)),
				detail: float32(math.Log(math.Sqrt(math.Max(float64(de[i]), 0)) + 1)),
				lr:     float32(math.Log(r / g)), lb: float32(math.Log(b / g)),
				grey:  float32(0.114*b + 0.587*g + 0.299*r - 1),
				label: label,
			}
			if label == seamCheek {
				lrs, lbs = append(lrs, float64(c.lr)), append(lbs, float64(c.lb))
				greys = append(greys, float64(c.grey))
			} else {
				c.zone = f.zoneOf(off.x+(float64(x)+0.5)/scale, off.y+(float64(y)+0.5)/scale)
			}
			m.cells = append(m.cells, c)
		}
	}
	m.lrs, m.lbs, m.greys = lrs, lbs, greys
	if len(lrs) < seamMinCheek {
		return seamMap{}, false, nil
	}
	sort.Float64s(lrs)
	sort.Float64s(lbs)
	sort.Float64s(greys)
	sm = seamMap{cols: cols, rows: rows, cells: m.cells, cheekN: len(lrs),
		cheekLR: texQuantileSorted(lrs, 0.5), cheekLB: texQuantileSorted(lbs, 0.5), cheekGrey: texQuantileSorted(greys, 0.5)}
	lg := math.Log(math.Max(sm.cheekGrey, 1))
	// Outside cells count only on skin.
	for i := range sm.cells {
		c := &sm.cells[i]
		if c.label != seamOut {
			continue
		}
		if c.grey < seamDark || c.grey > seamLight || math.Abs(math.Log(math.Max(float64(c.grey), 1))-lg) > seamSkinGrey ||
			math.Abs(float64(c.lr)-sm.cheekLR) > seamSkinChroma || math.Abs(float64(c.lb)-sm.cheekLB) > seamSkinChroma {
			c.label = seamNone
		}
	}
	return sm, true, nil
}

// zoneOf returns the zone of a point outside (or near) the hull: above the
// mid-brow level is the forehead, below a line 0.1 W above the chin the
// neck, and the rest the sides.
func (f *seamFace) zoneOf(x, y float64) uint8 {
	hb := (x-f.browMid.x)*f.ux + (y-f.browMid.y)*f.uy
	hc := (x-f.chin.x)*f.ux + (y-f.chin.y)*f.uy
	switch {
	case hb > 0:
		return seamTop
	case hc < 0.1*f.w:
		return seamNeck
	}
	return seamSide
}

// Close frees the Mats. It is idempotent.
func (m *seamMapper) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	for _, x := range []*gocv.Mat{&m.energy, &m.colour, &m.detail, &m.faceGray, &m.lap, &m.lapSq,
		&m.hull, &m.feat, &m.cheeks, &m.erodeIn, &m.erodeOut, &m.dilateIn, &m.dilateOut, &m.featDil,
		&m.kIn, &m.kOut, &m.kNear, &m.kFar, &m.kFeat} {
		x.Close()
	}
	return m.noise.Close()
}

// seamInPoly reports whether p lies inside the polygon (even-odd rule).
func seamInPoly(p seamPt, poly []seamPt) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}

// seamPolyDist returns the signed distance from p to the polygon's
// outline: negative inside, positive outside.
func seamPolyDist(p seamPt, poly []seamPt) float64 {
	d := math.Inf(1)
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[j], poly[i]
		dx, dy := b.x-a.x, b.y-a.y
		t := 0.0
		if l := dx*dx + dy*dy; l > 0 {
			t = math.Max(0, math.Min(1, ((p.x-a.x)*dx+(p.y-a.y)*dy)/l))
		}
		d = math.Min(d, math.Hypot(p.x-a.x-t*dx, p.y-a.y-t*dy))
	}
	if seamInPoly(p, poly) {
		return -d
	}
	return d
}

// seamPolySide places p against the polygon with a margin r: −1 when p is
// inside and farther than r from the outline, +1 when outside and farther
// than r, 0 within r of it. It is seamPolyDist without square roots, for
// per-tile loops.
func seamPolySide(p seamPt, poly []seamPt, r float64) int {
	r2 := r * r
	near := false
	for i, j := 0, len(poly)-1; i < len(poly) && !near; j, i = i, i+1 {
		a, b := poly[j], poly[i]
		dx, dy := b.x-a.x, b.y-a.y
		t := 0.0
		if l := dx*dx + dy*dy; l > 0 {
			t = math.Max(0, math.Min(1, ((p.x-a.x)*dx+(p.y-a.y)*dy)/l))
		}
		ex, ey := p.x-a.x-t*dx, p.y-a.y-t*dy
		near = ex*ex+ey*ey <= r2
	}
	switch {
	case near:
		return 0
	case seamInPoly(p, poly):
		return -1
	}
	return 1
}
