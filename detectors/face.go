package detectors

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"sort"

	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/models"
)

// FaceTracker finds faces with OpenCV's cascades and links them over time
// into tracks with smoothed boxes. It is used once per frame by the
// pipeline; detectors get its output in VideoFrame.Faces. Not safe for
// concurrent use.
//
// Cost is what matters here, so it works in two modes:
//   - around each known face it runs the accurate Haar cascade (frontal,
//     then profile in both directions) in a small region with a narrow
//     range of sizes, every frame unless the face is followed (below);
//   - it scans the whole frame, down-scaled, with the fast LBP cascades
//     only every scanInterval seconds, or every frame while it has no face,
//     and confirms new candidates with the Haar cascade;
//   - a face whose landmarks the caller hands back with Follow is
//     re-detected only every redetectEvery frames; in between, Follow moves
//     its box with the landmarks.
type FaceTracker struct {
	frontal, profile         gocv.CascadeClassifier // Haar
	fastFrontal, fastProfile gocv.CascadeClassifier // LBP (or Haar copies)
	small, roi, flipped      gocv.Mat
	padded                   gocv.Mat
	tracks                   []*track
	nextID                   int
	lastScan                 float64
	closed                   bool
	// size is the last frame's; a frame of another size (a live decoder
	// restarted for a new picture size) rescales the tracks to it.
	size image.Point
}

type track struct {
	id       int
	box      [4]float64 // x0, y0, x1, y1 smoothed, frame pixels
	lastSeen float64
	hits     int
	profile  bool
	// pts are the landmarks Follow last received (nil: none); skipped
	// counts the frames since the last cascade re-detection; pending is
	// set on a frame whose re-detection was skipped, until Follow moves
	// the box.
	pts     []image.Point
	skipped int
	pending bool
}

const (
	trackHold     = 1.0 // seconds a track survives without a detection
	trackMinHits  = 2   // detections before a track is reported
	scanWidth     = 320 // whole-frame scans run on frames scaled to this width
	scanInterval  = 2.0 // seconds between whole-frame scans while tracking
	minFaceFrac   = 0.06
	roiFace       = 48 // a known face is scaled to about this size for re-detection
	smoothingGain = 0.6
	maxTracks     = 4
	// redetectEvery: a followed face is re-detected with the cascades on
	// one frame in this many (they cost as much as the landmark fit); the
	// landmarks carry its box in between. Three keeps a 10-fps analysis
	// within 0.2 s of a detection.
	redetectEvery = 3
	// scanPadTop: the whole-frame scan also looks this far (a share of
	// the frame's height) above the frame, on its top row repeated
	// upwards. A candidate sitting close to the camera has a face whose
	// forehead the picture cuts off; the cascades need the forehead and
	// miss such a face, and can track a false "face" on an ear or the
	// hair instead. maxOutside is how much of a face box's height (or
	// width) may lie outside the frame for it to count.
	scanPadTop = 0.3
	maxOutside = 0.35
)

// NewFaceTracker loads the cascades named in fm.
func NewFaceTracker(fm models.FaceModels) (*FaceTracker, error) {
	t := &FaceTracker{
		frontal:     gocv.NewCascadeClassifier(),
		profile:     gocv.NewCascadeClassifier(),
		fastFrontal: gocv.NewCascadeClassifier(),
		fastProfile: gocv.NewCascadeClassifier(),
		small:       gocv.NewMat(),
		roi:         gocv.NewMat(),
		flipped:     gocv.NewMat(),
		padded:      gocv.NewMat(),
		lastScan:    -1e9,
	}
	fastF, fastP := fm.FastFrontal, fm.FastProfile
	if fastF == "" {
		fastF = fm.Frontal
	}
	if fastP == "" {
		fastP = fm.Profile
	}
	for _, c := range []struct {
		cc   *gocv.CascadeClassifier
		path string
	}{{&t.frontal, fm.Frontal}, {&t.profile, fm.Profile}, {&t.fastFrontal, fastF}, {&t.fastProfile, fastP}} {
		// OpenCV aborts the process on a missing file: check first.
		if st, err := os.Stat(c.path); err != nil || st.IsDir() || !c.cc.Load(c.path) {
			t.Close()
			return nil, fmt.Errorf("%w: cannot load %s", models.ErrFaceModelsMissing, c.path)
		}
	}
	return t, nil
}

// Track finds the faces in gray (8-bit, full analysis size) at time now
// (seconds) and returns the active tracks, the primary face first.
func (t *FaceTracker) Track(gray gocv.Mat, now float64) []Face {
	bounds := image.Rect(0, 0, gray.Cols(), gray.Rows())
	if sz := bounds.Size(); sz != t.size {
		if t.size.X > 0 && t.size.Y > 0 {
			t.rescale(float64(sz.X)/float64(t.size.X), float64(sz.Y)/float64(t.size.Y))
		}
		t.size = sz
	}
	var rects []image.Rectangle
	var profiles []bool
	followed := 0
	// Re-detect known faces in their neighbourhood, or leave a followed
	// face to Follow.
	for _, tr := range t.tracks {
		if tr.pending {
			tr.pts = nil // skipped last frame but not followed: re-detect
		}
		tr.pending = false
		if tr.pts != nil && tr.skipped+1 < redetectEvery {
			tr.skipped++
			tr.pending = true
			tr.lastSeen = now
			followed++
			continue
		}
		tr.skipped = 0
		if r, prof, ok := t.redetect(gray, tr.rect(), bounds); ok {
			rects, profiles = append(rects, r), append(profiles, prof)
		}
	}
	// Scan for new faces now and then, or every frame while none is known.
	if len(rects)+followed == 0 || now-t.lastScan >= scanInterval {
		t.lastScan = now
		cands, candProfile := t.scan(gray, true)
		known := rects
		for _, tr := range t.tracks {
			if tr.pending {
				known = append(known[:len(known):len(known)], tr.rect())
			}
		}
		for i, c := range cands {
			if overlapsAny(c, known) {
				continue
			}
			// Confirm with the accurate cascade around the candidate.
			if r, p, ok := t.redetect(gray, c, bounds); ok && !overlapsAny(r, known) {
				rects, profiles = append(rects, r), append(profiles, p || candProfile[i])
			}
		}
	}
	t.associate(rects, profiles, now)
	return t.faces(now, bounds)
}

// Follow hands the tracker the landmarks fitted on face id in the frame of
// the last Track call (nil when the fit failed), and returns the face's
// whole box (Face.Box, which may reach beyond the frame) for that frame;
// empty for an unknown id. When the tracker skipped that face's
// re-detection, the box moves and scales with the landmarks since the
// previous frame; otherwise it is unchanged. A face never followed is
// re-detected every frame.
func (t *FaceTracker) Follow(id int, pts []image.Point) image.Rectangle {
	for _, tr := range t.tracks {
		if tr.id != id {
			continue
		}
		if tr.pending && tr.pts != nil && pts != nil {
			cx0, cy0, s0 := spread(tr.pts)
			cx1, cy1, s1 := spread(pts)
			k := 1.0
			if s0 > 0 && s1 > 0 {
				k = s1 / s0
			}
			for i := 0; i < 4; i += 2 {
				tr.box[i] = cx1 + k*(tr.box[i]-cx0)
				tr.box[i+1] = cy1 + k*(tr.box[i+1]-cy0)
			}
		}
		tr.pending = false
		if pts == nil {
			tr.pts = nil
		} else {
			tr.pts = append(tr.pts[:0], pts...)
		}
		return tr.rect()
	}
	return image.Rectangle{}
}

// spread returns the centroid of pts and their RMS distance to it.
func spread(pts []image.Point) (cx, cy, s float64) {
	for _, p := range pts {
		cx += float64(p.X)
		cy += float64(p.Y)
	}
	n := float64(len(pts))
	cx, cy = cx/n, cy/n
	for _, p := range pts {
		dx, dy := float64(p.X)-cx, float64(p.Y)-cy
		s += dx*dx + dy*dy
	}
	return cx, cy, math.Sqrt(s / n)
}

// Detect finds faces in one gray frame without tracking (for single
// frames, e.g. evidence crops), largest first. A box may reach above the
// frame (a face whose forehead the picture cuts off): clip it before
// cropping.
func (t *FaceTracker) Detect(gray gocv.Mat) []image.Rectangle {
	rects, _ := t.scan(gray, false)
	sort.SliceStable(rects, func(i, j int) bool {
		return rects[i].Dx()*rects[i].Dy() > rects[j].Dx()*rects[j].Dy()
	})
	return rects
}

// scan searches the whole frame, down-scaled, with the fast cascades (or the
// accurate ones when fast is false) and returns boxes in gray's coordinates,
// and for each whether only a profile cascade found it.
func (t *FaceTracker) scan(gray gocv.Mat, fast bool) ([]image.Rectangle, []bool) {
	frontal, profile := &t.frontal, &t.profile
	if fast {
		frontal, profile = &t.fastFrontal, &t.fastProfile
	}
	scale := 1.0
	if gray.Cols() > scanWidth {
		scale = float64(gray.Cols()) / scanWidth
		gocv.Resize(gray, &t.small, image.Pt(scanWidth, int(float64(gray.Rows())/scale)), 0, 0, gocv.InterpolationArea)
		gocv.EqualizeHist(t.small, &t.small)
	} else {
		gocv.EqualizeHist(gray, &t.small)
	}
	minSide := min(t.small.Rows(), t.small.Cols())
	ms := max(20, int(float64(minSide)*minFaceFrac))
	rects, isProfile := t.detectIn(t.small, frontal, profile, image.Pt(ms, ms), image.Pt(0, 0), 3)
	// Faces that the top edge cuts off: a second scan on the frame padded
	// upwards, keeping only the boxes that reach above the frame. Faces
	// inside the frame come from the first scan alone, so that the padding
	// does not change them (it changes how the cascades group their
	// candidates). A face that the top edge cuts off sits close to the
	// camera: the second scan looks for frontal faces at least a quarter
	// of the frame's height tall, which keeps its cost to about a fifth of
	// the first scan's (BenchmarkFaceScan: 17 → 20 ms a scan of a faceless
	// 640×360 frame; with every size and the profile cascades, 37 ms).
	pad := int(float64(t.small.Rows())*scanPadTop + 0.5)
	gocv.CopyMakeBorder(t.small, &t.padded, pad, 0, 0, 0, gocv.BorderReplicate, color.RGBA{})
	big := max(ms, t.small.Rows()/4)
	found := len(rects)
	profiles := make([]bool, found, found+2)
	for i := range profiles {
		profiles[i] = isProfile
	}
	for _, r := range frontal.DetectMultiScaleWithParams(t.padded, 1.1, 3, 0, image.Pt(big, big), image.Point{}) {
		r = r.Sub(image.Pt(0, pad))
		if r.Min.Y < 0 && float64(-r.Min.Y) <= maxOutside*float64(r.Dy()) && !overlapsAny(r, rects[:found]) {
			rects, profiles = append(rects, r), append(profiles, false) // the frontal cascade found it
		}
	}
	sortRects(rects[found:])
	return scaleRects(rects, scale, image.Point{}), profiles
}

// redetect looks for one face of about box's size around box, with the
// accurate cascades.
func (t *FaceTracker) redetect(gray gocv.Mat, box image.Rectangle, bounds image.Rectangle) (image.Rectangle, bool, bool) {
	// A face whose forehead the top edge cuts off (a tenth of its box or
	// more above the frame) is looked for in its whole neighbourhood: the
	// part inside the frame is scaled and the rows above it are filled by
	// repeating its top row, as in scan. Any other face is looked for in
	// the part of its neighbourhood that the frame holds: padding changes
	// what the cascades find near the edges, and on a dev video a box that
	// the landmarks had carried a few pixels past the edge grew on padded
	// rows into a false box half again its size.
	area := Grow(box, 0.45, bounds)
	if area.Dx() < 16 || area.Dy() < 16 {
		return image.Rectangle{}, false, false
	}
	above := 0
	if -box.Min.Y*10 >= box.Dy() {
		above = int(float64(box.Dy())*0.45+0.5) - box.Min.Y // rows of the neighbourhood above the frame
	}
	scale := 1.0
	if box.Dx() > roiFace {
		scale = float64(box.Dx()) / roiFace
	}
	region := gray.Region(area)
	size := image.Pt(int(float64(area.Dx())/scale), int(float64(area.Dy())/scale))
	gocv.Resize(region, &t.roi, size, 0, 0, gocv.InterpolationArea)
	region.Close()
	gocv.EqualizeHist(t.roi, &t.roi)
	if above > 0 {
		top := int(float64(above)/scale + 0.5)
		gocv.CopyMakeBorder(t.roi, &t.padded, top, 0, 0, 0, gocv.BorderReplicate, color.RGBA{})
		t.roi, t.padded = t.padded, t.roi
		area.Min.Y -= int(float64(top) * scale)
	}
	face := float64(box.Dx()) / scale
	minS, maxS := int(face*0.7), int(face*1.45)+1
	minS = max(minS, 16)
	rects, prof := t.detectIn(t.roi, &t.frontal, &t.profile, image.Pt(minS, minS), image.Pt(maxS, maxS), 3)
	if len(rects) == 0 {
		return image.Rectangle{}, false, false
	}
	// The candidate closest in size to the known face.
	best := rects[0]
	for _, r := range rects[1:] {
		if abs(r.Dx()-int(face)) < abs(best.Dx()-int(face)) {
			best = r
		}
	}
	r := scaleRects([]image.Rectangle{best}, scale, area.Min)[0]
	if in := r.Intersect(bounds); float64(in.Dy()) < (1-maxOutside)*float64(r.Dy()) || float64(in.Dx()) < (1-maxOutside)*float64(r.Dx()) {
		return image.Rectangle{}, false, false
	}
	return r, prof, true
}

// detectIn runs frontal, then profile in both directions when the frontal
// cascade finds nothing.
//
// The boxes come back in reading order (sortRects): OpenCV's cascade
// gathers its candidates on several threads, so the order it returns them
// in varies from run to run, and the tracker's choices (which track a box
// joins, which new track is made first, the primary face on a tie) must
// not. Before, one recording with two boxes for one face got different
// scores on one run in five.
func (t *FaceTracker) detectIn(img gocv.Mat, frontal, profile *gocv.CascadeClassifier, minSize, maxSize image.Point, neighbours int) ([]image.Rectangle, bool) {
	rects := frontal.DetectMultiScaleWithParams(img, 1.1, neighbours, 0, minSize, maxSize)
	if len(rects) > 0 {
		return sortRects(rects), false
	}
	rects = profile.DetectMultiScaleWithParams(img, 1.1, neighbours, 0, minSize, maxSize)
	gocv.Flip(img, &t.flipped, 1)
	w := img.Cols()
	for _, r := range profile.DetectMultiScaleWithParams(t.flipped, 1.1, neighbours, 0, minSize, maxSize) {
		rects = append(rects, image.Rect(w-r.Max.X, r.Min.Y, w-r.Min.X, r.Max.Y))
	}
	return sortRects(rects), len(rects) > 0
}

// sortRects puts rects in reading order (top, then left, then bottom, then
// right) in place and returns it.
func sortRects(rects []image.Rectangle) []image.Rectangle {
	sort.Slice(rects, func(i, j int) bool {
		a, b := rects[i], rects[j]
		switch {
		case a.Min.Y != b.Min.Y:
			return a.Min.Y < b.Min.Y
		case a.Min.X != b.Min.X:
			return a.Min.X < b.Min.X
		case a.Max.Y != b.Max.Y:
			return a.Max.Y < b.Max.Y
		default:
			return a.Max.X < b.Max.X
		}
	})
	return rects
}

func scaleRects(rects []image.Rectangle, scale float64, off image.Point) []image.Rectangle {
	for i, r := range rects {
		rects[i] = image.Rect(int(float64(r.Min.X)*scale), int(float64(r.Min.Y)*scale),
			int(float64(r.Max.X)*scale), int(float64(r.Max.Y)*scale)).Add(off)
	}
	return rects
}

func overlapsAny(r image.Rectangle, others []image.Rectangle) bool {
	for _, o := range others {
		if iouRect(r, o) > 0.2 {
			return true
		}
	}
	return false
}

// rescale moves every track, and its landmarks, to frames scaled by sx
// and sy: the same face in a picture of another size is followed on,
// under a new ID (see Face.TrackID).
func (t *FaceTracker) rescale(sx, sy float64) {
	for _, tr := range t.tracks {
		t.nextID++
		tr.id = t.nextID
		for i := 0; i < 4; i += 2 {
			tr.box[i] *= sx
			tr.box[i+1] *= sy
		}
		for i, p := range tr.pts {
			tr.pts[i] = image.Pt(int(float64(p.X)*sx+0.5), int(float64(p.Y)*sy+0.5))
		}
	}
}

func (tr *track) rect() image.Rectangle {
	return image.Rect(int(tr.box[0]+0.5), int(tr.box[1]+0.5), int(tr.box[2]+0.5), int(tr.box[3]+0.5))
}

func (t *FaceTracker) associate(rects []image.Rectangle, profiles []bool, now float64) {
	used := make([]bool, len(rects))
	// Greedy matching by overlap, best pairs first.
	type pair struct {
		ti, ri int
		iou    float64
	}
	var pairs []pair
	for ti, tr := range t.tracks {
		for ri, r := range rects {
			if v := iouRect(tr.rect(), r); v > 0.2 {
				pairs = append(pairs, pair{ti, ri, v})
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].iou > pairs[j].iou })
	matched := make([]bool, len(t.tracks))
	for _, p := range pairs {
		if matched[p.ti] || used[p.ri] {
			continue
		}
		matched[p.ti], used[p.ri] = true, true
		tr := t.tracks[p.ti]
		r := rects[p.ri]
		nb := [4]float64{float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)}
		for i := range tr.box {
			tr.box[i] += smoothingGain * (nb[i] - tr.box[i])
		}
		tr.lastSeen = now
		tr.hits++
		tr.profile = profiles[p.ri]
	}
	for ri, r := range rects {
		if used[ri] || len(t.tracks) >= maxTracks {
			continue
		}
		t.nextID++
		t.tracks = append(t.tracks, &track{
			id:       t.nextID,
			box:      [4]float64{float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)},
			lastSeen: now,
			hits:     1,
			profile:  profiles[ri],
		})
	}
	kept := t.tracks[:0]
	for _, tr := range t.tracks {
		if now-tr.lastSeen <= trackHold {
			kept = append(kept, tr)
		}
	}
	t.tracks = kept
}

func (t *FaceTracker) faces(now float64, bounds image.Rectangle) []Face {
	var active []*track
	for _, tr := range t.tracks {
		if tr.hits >= trackMinHits {
			active = append(active, tr)
		}
	}
	// The primary face is the one seen most often; ties go to the larger.
	sort.SliceStable(active, func(i, j int) bool {
		if active[i].hits != active[j].hits {
			return active[i].hits > active[j].hits
		}
		return area(active[i].box) > area(active[j].box)
	})
	out := make([]Face, 0, len(active))
	for _, tr := range active {
		r := tr.rect().Intersect(bounds)
		if r.Empty() {
			continue
		}
		out = append(out, Face{Rect: r, Box: tr.rect(), TrackID: tr.id, Detected: tr.lastSeen == now, Profile: tr.profile})
	}
	return out
}

// Close frees the cascades and buffers. It is idempotent.
func (t *FaceTracker) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	for _, c := range []*gocv.CascadeClassifier{&t.frontal, &t.profile, &t.fastFrontal, &t.fastProfile} {
		c.Close()
	}
	t.small.Close()
	t.roi.Close()
	t.flipped.Close()
	t.padded.Close()
	return nil
}

func iouRect(a, b image.Rectangle) float64 {
	inter := a.Intersect(b)
	if inter.Empty() {
		return 0
	}
	i := float64(inter.Dx() * inter.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}

func area(b [4]float64) float64 { return (b[2] - b[0]) * (b[3] - b[1]) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
