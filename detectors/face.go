package detectors

import (
	"fmt"
	"image"
	"sort"

	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/models"
)

// FaceTracker finds faces with OpenCV's Haar cascades (frontal first,
// profile in both directions when the frontal one misses) on a
// down-scaled copy of each frame, and links them over time into tracks with
// smoothed boxes. It is used once per frame by the pipeline; detectors get
// its output in VideoFrame.Faces. Not safe for concurrent use.
type FaceTracker struct {
	frontal, profile gocv.CascadeClassifier
	small, flipped   gocv.Mat
	detectWidth      int
	tracks           []*track
	nextID           int
	closed           bool
}

type track struct {
	id       int
	box      [4]float64 // x0, y0, x1, y1 smoothed, frame pixels
	lastSeen float64
	hits     int
	profile  bool
}

const (
	trackHold     = 1.0 // seconds a track survives without a detection
	trackMinHits  = 2   // detections before a track is reported
	detectWidth   = 320 // cascades run on frames scaled to this width
	minFaceFrac   = 0.06
	smoothingGain = 0.6
)

// NewFaceTracker loads the cascades named in fm.
func NewFaceTracker(fm models.FaceModels) (*FaceTracker, error) {
	t := &FaceTracker{
		frontal:     gocv.NewCascadeClassifier(),
		profile:     gocv.NewCascadeClassifier(),
		small:       gocv.NewMat(),
		flipped:     gocv.NewMat(),
		detectWidth: detectWidth,
	}
	if !t.frontal.Load(fm.Frontal) {
		t.Close()
		return nil, fmt.Errorf("%w: cannot load %s", models.ErrFaceModelsMissing, fm.Frontal)
	}
	if !t.profile.Load(fm.Profile) {
		t.Close()
		return nil, fmt.Errorf("%w: cannot load %s", models.ErrFaceModelsMissing, fm.Profile)
	}
	return t, nil
}

// Track finds the faces in gray (8-bit, full analysis size) at time t
// (seconds) and returns the active tracks, the primary face first.
func (t *FaceTracker) Track(gray gocv.Mat, now float64) []Face {
	rects, profile := t.detect(gray)
	t.associate(rects, profile, now)
	return t.faces(now, gray.Cols(), gray.Rows())
}

// Detect finds faces in one gray frame without tracking (for single
// frames, e.g. evidence crops), largest first.
func (t *FaceTracker) Detect(gray gocv.Mat) []image.Rectangle {
	rects, _ := t.detect(gray)
	sort.Slice(rects, func(i, j int) bool {
		return rects[i].Dx()*rects[i].Dy() > rects[j].Dx()*rects[j].Dy()
	})
	return rects
}

// detect returns face boxes in gray's coordinates.
func (t *FaceTracker) detect(gray gocv.Mat) ([]image.Rectangle, bool) {
	scale := 1.0
	src := gray
	if gray.Cols() > t.detectWidth {
		scale = float64(gray.Cols()) / float64(t.detectWidth)
		h := int(float64(gray.Rows()) / scale)
		gocv.Resize(gray, &t.small, image.Pt(t.detectWidth, h), 0, 0, gocv.InterpolationArea)
		src = t.small
	}
	gocv.EqualizeHist(src, &t.small)
	src = t.small
	minSide := src.Rows()
	if src.Cols() < minSide {
		minSide = src.Cols()
	}
	minSize := int(float64(minSide) * minFaceFrac)
	if minSize < 20 {
		minSize = 20
	}
	ms := image.Pt(minSize, minSize)
	rects := t.frontal.DetectMultiScaleWithParams(src, 1.1, 4, 0, ms, image.Pt(0, 0))
	profile := false
	if len(rects) == 0 {
		rects = t.profile.DetectMultiScaleWithParams(src, 1.1, 4, 0, ms, image.Pt(0, 0))
		gocv.Flip(src, &t.flipped, 1)
		for _, r := range t.profile.DetectMultiScaleWithParams(t.flipped, 1.1, 4, 0, ms, image.Pt(0, 0)) {
			w := src.Cols()
			rects = append(rects, image.Rect(w-r.Max.X, r.Min.Y, w-r.Min.X, r.Max.Y))
		}
		profile = len(rects) > 0
	}
	if scale != 1 {
		for i, r := range rects {
			rects[i] = image.Rect(int(float64(r.Min.X)*scale), int(float64(r.Min.Y)*scale),
				int(float64(r.Max.X)*scale), int(float64(r.Max.Y)*scale))
		}
	}
	return rects, profile
}

func (t *FaceTracker) associate(rects []image.Rectangle, profile bool, now float64) {
	used := make([]bool, len(rects))
	// Greedy matching by overlap, best pairs first.
	type pair struct {
		ti, ri int
		iou    float64
	}
	var pairs []pair
	for ti, tr := range t.tracks {
		for ri, r := range rects {
			if v := iou(tr.box, r); v > 0.2 {
				pairs = append(pairs, pair{ti, ri, v})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].iou > pairs[j].iou })
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
		tr.profile = profile
	}
	for ri, r := range rects {
		if used[ri] {
			continue
		}
		t.nextID++
		t.tracks = append(t.tracks, &track{
			id:       t.nextID,
			box:      [4]float64{float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)},
			lastSeen: now,
			hits:     1,
			profile:  profile,
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

func (t *FaceTracker) faces(now float64, w, h int) []Face {
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
	bounds := image.Rect(0, 0, w, h)
	out := make([]Face, 0, len(active))
	for _, tr := range active {
		r := image.Rect(int(tr.box[0]+0.5), int(tr.box[1]+0.5), int(tr.box[2]+0.5), int(tr.box[3]+0.5)).Intersect(bounds)
		if r.Empty() {
			continue
		}
		out = append(out, Face{Rect: r, TrackID: tr.id, Detected: tr.lastSeen == now, Profile: tr.profile})
	}
	return out
}

// Close frees the cascades and buffers. It is idempotent.
func (t *FaceTracker) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	t.frontal.Close()
	t.profile.Close()
	t.small.Close()
	t.flipped.Close()
	return nil
}

func iou(b [4]float64, r image.Rectangle) float64 {
	x0, y0 := max(b[0], float64(r.Min.X)), max(b[1], float64(r.Min.Y))
	x1, y1 := min(b[2], float64(r.Max.X)), min(b[3], float64(r.Max.Y))
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	inter := (x1 - x0) * (y1 - y0)
	ra := float64(r.Dx() * r.Dy())
	return inter / (area(b) + ra - inter)
}

func area(b [4]float64) float64 { return (b[2] - b[0]) * (b[3] - b[1]) }
