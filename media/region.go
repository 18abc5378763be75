package media

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadRegion is returned for a Region that is not a part of the picture,
// or too small a part of a given video to analyse.
var ErrBadRegion = errors.New("bad region")

// MinRegionPixels is the smallest width and height, in display pixels of
// the source, of a region that may be analysed: a face in less is too small
// for any detector.
const MinRegionPixels = 64

// Region is the part of the picture to analyse, in fractions of the upright
// display picture: X and Y are its top-left corner, W and H its size. It is
// how a recording in gallery view, with the interviewer's tile beside the
// candidate's, is narrowed to the candidate. The zero Region is the whole
// picture.
type Region struct{ X, Y, W, H float64 }

// regionNames are the named regions ParseRegion accepts: the halves and
// quarters of a two- or four-tile gallery.
var regionNames = []struct {
	name string
	r    Region
}{
	{"left", Region{0, 0, 0.5, 1}},
	{"right", Region{0.5, 0, 0.5, 1}},
	{"top", Region{0, 0, 1, 0.5}},
	{"bottom", Region{0, 0.5, 1, 0.5}},
	{"top-left", Region{0, 0, 0.5, 0.5}},
	{"top-right", Region{0.5, 0, 0.5, 0.5}},
	{"bottom-left", Region{0, 0.5, 0.5, 0.5}},
	{"bottom-right", Region{0.5, 0.5, 0.5, 0.5}},
}

// RegionNames lists the names ParseRegion accepts besides "whole" and
// fractions.
func RegionNames() []string {
	out := make([]string, len(regionNames))
	for i, n := range regionNames {
		out[i] = n.name
	}
	return out
}

// ParseRegion reads a region: "" or "whole" (the whole picture), one of
// RegionNames ("left", "top-right", …), or four fractions "x,y,w,h" of the
// picture's width and height (e.g. "0.33,0,0.34,1" for the middle third).
func ParseRegion(s string) (Region, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "whole" {
		return Region{}, nil
	}
	for _, n := range regionNames {
		if s == n.name {
			return n.r, nil
		}
	}
	quoted := s
	if len(quoted) > 40 { // an error message repeats it
		quoted = quoted[:40] + "…"
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return Region{}, fmt.Errorf("%w %q: want whole, %s, or four fractions x,y,w,h", ErrBadRegion, quoted, strings.Join(RegionNames(), ", "))
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return Region{}, fmt.Errorf("%w %q: a part is not a number", ErrBadRegion, quoted)
		}
		v[i] = f
	}
	r := Region{v[0], v[1], v[2], v[3]}
	if r == (Region{}) { // the zero Region means the whole picture; written out it is nothing
		return Region{}, fmt.Errorf("%w %q: it must be at least a tenth of the picture's width and height", ErrBadRegion, quoted)
	}
	if err := r.Validate(); err != nil {
		return Region{}, err
	}
	if r.Whole() {
		return Region{}, nil
	}
	return r, nil
}

// Whole reports whether r is the whole picture.
func (r Region) Whole() bool { return r == Region{} || r == Region{0, 0, 1, 1} }

// Validate checks that r lies inside the picture and is at least a tenth of
// its width and height.
func (r Region) Validate() error {
	if r == (Region{}) {
		return nil
	}
	for _, f := range []float64{r.X, r.Y, r.W, r.H} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: not a number", ErrBadRegion)
		}
	}
	const eps = 1e-9
	if r.X < 0 || r.Y < 0 || r.X+r.W > 1+eps || r.Y+r.H > 1+eps {
		return fmt.Errorf("%w %s: it must lie inside the picture (fractions from 0 to 1)", ErrBadRegion, r)
	}
	if r.W < 0.1 || r.H < 0.1 {
		return fmt.Errorf("%w %s: it must be at least a tenth of the picture's width and height", ErrBadRegion, r)
	}
	return nil
}

// String names r as ParseRegion reads it: "whole", a name, or "x,y,w,h".
func (r Region) String() string {
	if r.Whole() {
		return "whole"
	}
	for _, n := range regionNames {
		if r == n.r {
			return n.name
		}
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) } // reads back exactly
	return f(r.X) + "," + f(r.Y) + "," + f(r.W) + "," + f(r.H)
}

// Phrase names r for a sentence ("only the … of the picture"): "left
// half", "top-right quarter", "region 0.33,0,0.34,1", "whole".
func (r Region) Phrase() string {
	switch n := r.String(); n {
	case "left", "right", "top", "bottom":
		return n + " half"
	case "top-left", "top-right", "bottom-left", "bottom-right":
		return n + " quarter"
	case "whole":
		return n
	default:
		return "region " + n
	}
}

// Apply returns the video as the reader delivers it after cropping to r:
// a copy of v whose display size is r's part of v's, or an error wrapping
// ErrBadRegion when that part is smaller than MinRegionPixels.
func (r Region) Apply(v *VideoInfo) (*VideoInfo, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Whole() {
		return v, nil
	}
	c := *v
	c.DisplayWidth = int(math.Round(float64(v.DisplayWidth) * r.W))
	c.DisplayHeight = int(math.Round(float64(v.DisplayHeight) * r.H))
	if c.DisplayWidth < MinRegionPixels || c.DisplayHeight < MinRegionPixels {
		return nil, fmt.Errorf("%w %s: it is %d×%d pixels of this %d×%d video, and at least %d×%d are needed",
			ErrBadRegion, r, c.DisplayWidth, c.DisplayHeight, v.DisplayWidth, v.DisplayHeight, MinRegionPixels, MinRegionPixels)
	}
	return &c, nil
}

// cropFilter is the ffmpeg filter that crops the upright picture to r (""
// for the whole picture). ffmpeg rotates the picture before the filters
// run; fractions of the stored width are fractions of the display width
// whatever the sample aspect ratio.
func (r Region) cropFilter() string {
	if r.Whole() {
		return ""
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return fmt.Sprintf("crop=w='max(2,trunc(iw*%s/2)*2)':h='max(2,trunc(ih*%s/2)*2)':x=trunc(iw*%s):y=trunc(ih*%s):exact=1",
		f(r.W), f(r.H), f(r.X), f(r.Y))
}
