package detectors

import (
	"errors"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// ErrPhysioFrame means a frame handed to a physiological detector (pulse,
// blinks, flicker) is not an 8-bit BGR picture with a matching grey copy.
var ErrPhysioFrame = errors.New("detectors: frame is not 8-bit BGR")

// ErrPhysioClosed is returned by Observe after Close.
var ErrPhysioClosed = errors.New("detectors: physiological detector is closed")

// physioCheckFrame returns ErrPhysioFrame when f cannot be read.
func physioCheckFrame(f *VideoFrame) error {
	if f.Image.Empty() || f.Image.Type() != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("%w: frame %d", ErrPhysioFrame, f.Index)
	}
	if f.Gray.Empty() || f.Gray.Type() != gocv.MatTypeCV8U || f.Gray.Cols() != f.Image.Cols() || f.Gray.Rows() != f.Image.Rows() {
		return fmt.Errorf("%w: frame %d has no matching grey picture", ErrPhysioFrame, f.Index)
	}
	return nil
}

// physioClock is the per-frame bookkeeping the physiological detectors
// share: it refuses frames once closed or malformed, counts them and keeps
// the first and the latest frame time. Embed it; the owner sets closed.
type physioClock struct {
	frames        int
	firstT, prevT float64 // NaN before the first frame
	closed        bool
}

func newPhysioClock() physioClock { return physioClock{firstT: math.NaN()} }

// tick checks f and records it.
func (c *physioClock) tick(f *VideoFrame) error {
	if c.closed {
		return ErrPhysioClosed
	}
	if err := physioCheckFrame(f); err != nil {
		return err
	}
	c.frames++
	if math.IsNaN(c.firstT) {
		c.firstT = f.Time
	}
	c.prevT = f.Time
	return nil
}

// physioPatch is a small, fixed-size copy of one rectangle of a frame,
// reused for every frame so that a detector allocates its C memory once.
// The detector that owns it must call close.
type physioPatch struct {
	mat  gocv.Mat
	size image.Point
}

func newPhysioPatch(w, h int) physioPatch {
	return physioPatch{mat: gocv.NewMat(), size: image.Pt(w, h)}
}

// load resizes rectangle r of src (area interpolation, so region means are
// kept) into the patch and returns its pixels, and the rectangle of the
// patch that holds pixels of the frame. The slice aliases the patch's
// memory and is valid until the next load or close.
//
// r may reach beyond the frame (a face box whose forehead the picture cuts
// off): the whole of r is still mapped onto the patch, so that fractions
// of the patch are fractions of r, and the part outside the frame is left
// black. inside is then smaller than the patch; callers measure only
// there. It is empty, and the patch all black, when less than 2 pixels
// of r's height or width lie inside the frame (a box the tracker carried
// almost out of the picture); r itself must be at least 2×2.
func (p *physioPatch) load(src gocv.Mat, r image.Rectangle) (pix []uint8, inside image.Rectangle, err error) {
	if r.Dx() < 2 || r.Dy() < 2 {
		return nil, image.Rectangle{}, fmt.Errorf("%w: empty region %v", ErrPhysioFrame, r)
	}
	in := r.Intersect(image.Rect(0, 0, src.Cols(), src.Rows()))
	full := image.Rectangle{Max: p.size}
	if in == r {
		roi := src.Region(in)
		defer roi.Close()
		gocv.Resize(roi, &p.mat, p.size, 0, 0, gocv.InterpolationArea)
		pix, err = p.mat.DataPtrUint8()
		return pix, full, err
	}
	sx, sy := float64(p.size.X)/float64(r.Dx()), float64(p.size.Y)/float64(r.Dy())
	if in.Dx() >= 2 && in.Dy() >= 2 {
		inside = image.Rect(
			int(math.Round(float64(in.Min.X-r.Min.X)*sx)), int(math.Round(float64(in.Min.Y-r.Min.Y)*sy)),
			int(math.Round(float64(in.Max.X-r.Min.X)*sx)), int(math.Round(float64(in.Max.Y-r.Min.Y)*sy)),
		).Intersect(full)
	}
	if p.mat.Rows() != p.size.Y || p.mat.Cols() != p.size.X || p.mat.Type() != src.Type() {
		if err := p.mat.Close(); err != nil {
			return nil, image.Rectangle{}, err
		}
		p.mat = gocv.NewMatWithSize(p.size.Y, p.size.X, src.Type())
	}
	p.mat.SetTo(gocv.NewScalar(0, 0, 0, 0))
	if !inside.Empty() {
		// A region of the patch of the target size: resize writes into it
		// in place.
		roi := src.Region(in)
		defer roi.Close()
		dst := p.mat.Region(inside)
		gocv.Resize(roi, &dst, inside.Size(), 0, 0, gocv.InterpolationArea)
		if err := dst.Close(); err != nil {
			return nil, image.Rectangle{}, err
		}
	}
	pix, err = p.mat.DataPtrUint8()
	return pix, inside, err
}

// physioMinInside is the share of a measured region of the face box that
// must lie inside the frame (patch rectangle inside of load); a frame
// where less of it does is skipped as cut off.
const physioMinInside = 0.9

// physioRegionInside returns region r of a patch cut down to inside, and
// whether enough of it (physioMinInside) was left.
func physioRegionInside(r, inside image.Rectangle) (image.Rectangle, bool) {
	in := r.Intersect(inside)
	area := func(q image.Rectangle) float64 { return float64(q.Dx()) * float64(q.Dy()) }
	return in, !r.Empty() && area(in) >= physioMinInside*area(r)
}

func (p *physioPatch) close() error { return p.mat.Close() }

// physioSkinMean returns the mean B, G, R of the skin-coloured pixels of
// rectangle r inside a BGR patch of width w (pix from physioPatch.load),
// and the fraction of r's pixels that were skin. Skin is the fixed YCbCr
// box of Chai & Ngan (1999), Cr 133–173 and Cb 77–127, without very dark
// or saturated pixels. When fewer than minFrac of the pixels pass, the mean
// of all pixels is returned so that a pale or strongly lit face still gives
// a signal (the fraction tells the caller).
func physioSkinMean(pix []uint8, w int, r image.Rectangle, minFrac float64) (bgr [3]float64, skinFrac float64) {
	var sum, all [3]float64
	n, total := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := pix[3*y*w:]
		for x := r.Min.X; x < r.Max.X; x++ {
			b, g, rd := float64(row[3*x]), float64(row[3*x+1]), float64(row[3*x+2])
			all[0] += b
			all[1] += g
			all[2] += rd
			total++
			yy := 0.299*rd + 0.587*g + 0.114*b
			cr := 0.713*(rd-yy) + 128
			cb := 0.564*(b-yy) + 128
			if yy < 30 || yy > 245 || cr < 133 || cr > 173 || cb < 77 || cb > 127 {
				continue
			}
			sum[0] += b
			sum[1] += g
			sum[2] += rd
			n++
		}
	}
	if total == 0 {
		return bgr, 0
	}
	skinFrac = float64(n) / float64(total)
	src, cnt := sum, n
	if skinFrac < minFrac {
		src, cnt = all, total
	}
	for i := range bgr {
		bgr[i] = src[i] / float64(cnt)
	}
	return bgr, skinFrac
}

// physioScaleRect maps fractions f of a w×h patch to a pixel rectangle.
func physioScaleRect(f [4]float64, w, h int) image.Rectangle {
	return image.Rect(int(f[0]*float64(w)+0.5), int(f[1]*float64(h)+0.5),
		int(f[2]*float64(w)+0.5), int(f[3]*float64(h)+0.5)).Intersect(image.Rect(0, 0, w, h))
}

// physioBox converts r to float corners for smoothing.
func physioBox(r image.Rectangle) [4]float64 {
	return [4]float64{float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)}
}

// physioRect rounds smoothed corners back to a rectangle.
func physioRect(b [4]float64) image.Rectangle {
	return image.Rect(int(math.Round(b[0])), int(math.Round(b[1])), int(math.Round(b[2])), int(math.Round(b[3])))
}

// physioRingMean returns the mean B, G, R of a w×w BGR patch of rectangle
// grown, leaving out the pixels of hole (both in frame coordinates).
func physioRingMean(pix []uint8, w int, grown, hole image.Rectangle) [3]float64 {
	sx, sy := float64(w)/float64(grown.Dx()), float64(w)/float64(grown.Dy())
	h := image.Rect(int(float64(hole.Min.X-grown.Min.X)*sx), int(float64(hole.Min.Y-grown.Min.Y)*sy),
		int(math.Ceil(float64(hole.Max.X-grown.Min.X)*sx)), int(math.Ceil(float64(hole.Max.Y-grown.Min.Y)*sy)))
	var sum [3]float64
	n := 0
	for y := range w {
		for x := range w {
			if image.Pt(x, y).In(h) {
				continue
			}
			i := 3 * (y*w + x)
			for c := range 3 {
				sum[c] += float64(pix[i+c])
			}
			n++
		}
	}
	if n > 0 {
		for c := range sum {
			sum[c] /= float64(n)
		}
	}
	return sum
}
