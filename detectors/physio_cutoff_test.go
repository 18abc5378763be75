package detectors

import (
	"fmt"
	"image"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

// A rectangle reaching above the frame is mapped whole onto the patch: the
// rows outside are black, the frame's rows land where they belong.
func TestPhysioPatchLoadCutOff(t *testing.T) {
	// 40×30 frames whose every pixel is 10 + its row.
	bgr := gocv.NewMatWithSize(30, 40, gocv.MatTypeCV8UC3)
	defer bgr.Close()
	gray := gocv.NewMatWithSize(30, 40, gocv.MatTypeCV8U)
	defer gray.Close()
	for y := range 30 {
		for x := range 40 {
			bgr.SetUCharAt(y, 3*x, uint8(10+y))
			bgr.SetUCharAt(y, 3*x+1, uint8(10+y))
			bgr.SetUCharAt(y, 3*x+2, uint8(10+y))
			gray.SetUCharAt(y, x, uint8(10+y))
		}
	}
	p := newPhysioPatch(20, 20)
	defer func() { require.NoError(t, p.close()) }()

	cases := []struct {
		name     string
		src      gocv.Mat
		ch       int
		r        image.Rectangle
		inside   image.Rectangle
		firstRow float64 // value of the first row of inside
	}{
		{"inside, BGR", bgr, 3, image.Rect(0, 0, 40, 30), image.Rect(0, 0, 20, 20), 10.75},
		{"a quarter above, BGR", bgr, 3, image.Rect(0, -10, 40, 30), image.Rect(0, 5, 20, 20), 11},
		{"a quarter above, grey", gray, 1, image.Rect(0, -10, 40, 30), image.Rect(0, 5, 20, 20), 11},
		{"left and above, BGR", bgr, 3, image.Rect(-20, -10, 20, 30), image.Rect(10, 5, 20, 20), 11},
		{"inside again, grey", gray, 1, image.Rect(0, 0, 40, 30), image.Rect(0, 0, 20, 20), 10.75},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pix, inside, err := p.load(c.src, c.r)
			require.NoError(t, err)
			require.Equal(t, c.inside, inside)
			require.Len(t, pix, 20*20*c.ch)
			for y := range 20 {
				for x := range 20 {
					v := float64(pix[c.ch*(y*20+x)])
					if !image.Pt(x, y).In(inside) {
						require.Zero(t, v, "pixel (%d,%d) outside the frame", x, y)
						continue
					}
					// Row y of the patch covers frame rows r.Min.Y+2y and
					// r.Min.Y+2y+1 (1.5 rows each in the first case).
					sy := float64(c.r.Dy()) / 20
					want := 10 + float64(c.r.Min.Y) + sy*(float64(y)+0.5) - 0.5
					require.InDelta(t, want, v, 1, "pixel (%d,%d)", x, y)
				}
			}
			assert.InDelta(t, c.firstRow, float64(pix[c.ch*(inside.Min.Y*20+inside.Min.X)]), 1)
		})
	}
	t.Run("almost out of the frame", func(t *testing.T) {
		// A box the tracker carried almost out of the picture: 1 row in.
		for _, r := range []image.Rectangle{image.Rect(0, -39, 40, 1), image.Rect(0, -40, 40, -1)} {
			pix, inside, err := p.load(bgr, r)
			require.NoError(t, err, "%v", r)
			require.True(t, inside.Empty(), "%v: %v", r, inside)
			for i, v := range pix {
				require.Zero(t, v, "%v: byte %d", r, i)
			}
		}
	})
	t.Run("a degenerate rectangle", func(t *testing.T) {
		_, _, err := p.load(bgr, image.Rect(0, 5, 40, 6))
		require.ErrorIs(t, err, ErrPhysioFrame)
	})
}

func TestPhysioRegionInside(t *testing.T) {
	inside := image.Rect(0, 10, 100, 100)
	cases := []struct {
		r    image.Rectangle
		want image.Rectangle
		ok   bool
	}{
		{image.Rect(20, 20, 40, 40), image.Rect(20, 20, 40, 40), true},
		{image.Rect(20, 9, 40, 19), image.Rect(20, 10, 40, 19), true}, // 90 % inside
		{image.Rect(20, 8, 40, 18), image.Rect(20, 10, 40, 18), false},
		{image.Rect(20, 0, 40, 5), image.Rectangle{}, false},
	}
	for _, c := range cases {
		got, ok := physioRegionInside(c.r, inside)
		assert.Equal(t, c.ok, ok, "%v", c.r)
		if c.ok {
			assert.Equal(t, c.want, got, "%v", c.r)
		}
	}
}

// cutOff reports the face whole box box, cut to the frame, as the tracker
// does for a face whose forehead the picture cuts off.
func cutOff(box image.Rectangle, w, h int) (rect image.Rectangle, edit func(int, *VideoFrame)) {
	rect = box.Intersect(image.Rect(0, 0, w, h))
	return rect, func(_ int, f *VideoFrame) {
		if len(f.Faces) > 0 {
			f.Faces[0].Box = box
		}
	}
}

// The pulse regions sit on the whole face box. When the picture cuts off
// the forehead, the pulse is not measured instead of being read off the
// eyes; a forehead that loses only a sliver is still measured.
func TestPulseForeheadCutOff(t *testing.T) {
	const w, h = 320, 240
	cases := []struct {
		name   string
		box    image.Rectangle
		reason string // empty: measured
	}{
		{"a third of the face above the picture", image.Rect(100, -40, 220, 80), "cut off the forehead"},
		{"a box carried almost out of the picture", image.Rect(100, -118, 220, 1), "cut off the forehead"},
		{"a sliver above", image.Rect(100, -5, 220, 115), ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rect, edit := cutOff(c.box, w, h)
			paint := pulsePainter(c.box, func(_ int, _ int, tm float64) float64 {
				return 0.012 * math.Sin(2*math.Pi*1.2*tm)
			}, uint64(10+i))
			res := physioSynth{w: w, h: h, fps: 10, frames: 200, face: rect, paint: paint, edit: edit}.run(t, NewPulse())[0]
			if c.reason != "" {
				assert.False(t, res.Measured(), "%+v", res.Summary)
				assert.Contains(t, res.NotMeasurable, c.reason)
				return
			}
			physioCheckResult(t, res, PulseSignal)
			t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
			assert.Greater(t, findingValue(t, res.Summary, "region_coherence"), 0.8)
			assert.InDelta(t, 72, findingValue(t, res.Summary, "pulse_rate"), 6)
		})
	}
}

// The blink detector's eye band (no landmarks) sits on the whole face box:
// a face whose forehead the picture cuts off still has its blinks counted,
// and a face cut off through the eyes is not measured.
func TestBlinksForeheadCutOff(t *testing.T) {
	const w, h = 320, 240
	// 40 s at 10 fps; the eyes close for 2 frames every 3 s from 1.5 s.
	blinking := func(i int) bool { return i%30 == 15 || i%30 == 16 }
	t.Run("a quarter above the picture", func(t *testing.T) {
		box := image.Rect(100, -30, 220, 90)
		rect, edit := cutOff(box, w, h)
		res := physioSynth{w: w, h: h, fps: 10, frames: 400, face: rect, paint: blinkPainter(box, blinking, 21), edit: edit}.run(t, NewBlinks())[0]
		physioCheckResult(t, res, BlinkSignal)
		t.Logf("score %.3f values %+v", res.Summary.Score, res.Summary.Values)
		assert.Equal(t, 13.0, findingValue(t, res.Summary, "blinks"), "%+v", res.Windows)
	})
	for i, box := range []image.Rectangle{
		image.Rect(100, -42, 220, 78), // cut off through the eyes
		image.Rect(100, -118, 220, 1), // a box carried almost out of the picture
	} {
		t.Run(fmt.Sprintf("cut off at %d", box.Min.Y), func(t *testing.T) {
			rect, edit := cutOff(box, w, h)
			res := physioSynth{w: w, h: h, fps: 10, frames: 400, face: rect, paint: blinkPainter(box, blinking, uint64(22+i)), edit: edit}.run(t, NewBlinks())[0]
			assert.False(t, res.Measured(), "%+v", res.Summary)
			assert.Contains(t, res.NotMeasurable, "cut off the eyes")
		})
	}
}
