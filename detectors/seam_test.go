package detectors

import (
	"image"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

// texTSeamPair is a synthetic scene with a neck, filmed with fresh sensor
// noise per frame, and its counterpart with the face re-rendered at
// renderW px and pasted back through the feathered landmark hull.
func texTSeamPair(t testing.TB, renderW int) (genuine, pasted func(i int) gocv.Mat) {
	scene := texTSceneNeck(texTFace, 7)
	lm := texTLandmarks(texTFace)
	genuine = func(i int) gocv.Mat { return texTNoisy(t, scene, 3, int64(100+i)) }
	pasted = func(i int) gocv.Mat {
		g := texTNoisy(t, scene, 3, int64(100+i))
		defer g.Close()
		return texTPasteHull(t, g, lm, renderW)
	}
	return genuine, pasted
}

func TestSeamSyntheticPaste(t *testing.T) {
	genuine, pasted := texTSeamPair(t, 64)
	run := func(mk func(int) gocv.Mat) Result {
		d := NewSeam()
		defer d.Close()
		return texTRun(t, d, 15, texTFace, mk)
	}
	g, p := run(genuine), run(pasted)
	texTCheckResult(t, g, SeamSignal)
	texTCheckResult(t, p, SeamSignal)
	gs, ps := summaryValue(t, g, "chin_seam_noise_step"), summaryValue(t, p, "chin_seam_noise_step")
	t.Logf("chin seam noise step: untouched %.3f× (score %.3f), pasted %.3f× (score %.3f); persistence %.2f → %.2f",
		gs, g.Summary.Score, ps, p.Summary.Score, summaryValue(t, g, "seam_persistence"), summaryValue(t, p, "seam_persistence"))
	// One sensor's noise on both sides of the jaw line: no step.
	require.InDelta(t, 1, gs, 0.15)
	// The re-rendered face lost its noise; the neck below kept it.
	require.Greater(t, ps, 1.4)
	require.Greater(t, p.Summary.Score, 0.7)
	require.Less(t, g.Summary.Score, 0.2)
	require.Greater(t, summaryValue(t, p, "seam_persistence"), 0.8)
	require.Less(t, summaryValue(t, g, "seam_persistence"), 0.2)
	require.Greater(t, summaryValue(t, g, "neck_noise"), 1.0, "the neck's noise is reported in grey levels")
}

func TestSeamNotMeasurable(t *testing.T) {
	neck := texTSceneNeck(texTFace, 3)
	noNeck := texTScene(texTFace, 3)
	frames := func(scene [3][]float64) func(int) gocv.Mat {
		return func(i int) gocv.Mat { return texTNoisy(t, scene, 3, int64(i)) }
	}
	cases := []struct {
		name   string
		scene  [3][]float64
		face   func(i int) Face
		frames int
		want   string
	}{
		{"no landmarks", neck, func(int) Face { return Face{Rect: texTFace} }, 12, "no frontal face with landmarks"},
		{"profile views", neck, func(int) Face {
			return Face{Rect: texTFace, Profile: true, Landmarks: texTLandmarks(texTFace)}
		}, 12, "(12 profile views"},
		{"degenerate landmarks", neck, func(int) Face {
			return Face{Rect: texTFace, Landmarks: make([]image.Point, Landmarks68)}
		}, 12, "failed landmark fits"},
		{"no skin below the chin", noNeck, func(int) Face {
			return Face{Rect: texTFace, Landmarks: texTLandmarks(texTFace)}
		}, 12, "skin below the chin"},
		{"too short", neck, func(int) Face {
			return Face{Rect: texTFace, Landmarks: texTLandmarks(texTFace)}
		}, 4, "too little usable face"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewSeam()
			defer d.Close()
			gray := gocv.NewMat()
			defer gray.Close()
			mk := frames(tc.scene)
			for i := 0; i < tc.frames; i++ {
				img := mk(i)
				gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
				err := d.Observe(&VideoFrame{Index: i, Time: 0.2 * float64(i), Image: img, Gray: gray, FPS: 5, Faces: []Face{tc.face(i)}})
				img.Close()
				require.NoError(t, err)
			}
			r := d.Finish()
			require.False(t, r.Measured())
			require.Equal(t, SeamSignal, r.Signal)
			require.Contains(t, r.NotMeasurable, tc.want)
		})
	}
}

func TestSeamFaceGeometry(t *testing.T) {
	lm := texTLandmarks(texTFace)
	f, err := newSeamFace(lm)
	require.NoError(t, err)
	hx, hy, ax, ay, _ := texTHead(texTFace)
	require.InDelta(t, 2*0.97*ax, f.w, 2, "jaw width")
	require.InDelta(t, 0, f.ux, 0.02, "up points up the picture")
	require.InDelta(t, -1, f.uy, 0.02)
	require.Len(t, f.hull, 17+10)
	// The brow line is lifted by a third of the eye-to-brow distance.
	require.InDelta(t, seamBrowLift*0.15*ay, f.lift, 2)
	require.Less(t, f.hull[17].y, float64(lm[26].Y), "lifted above the brow")
	// Zones: above the brows, beside the cheeks, below the chin.
	require.Equal(t, uint8(seamTop), f.zoneOf(hx, hy-0.6*ay))
	require.Equal(t, uint8(seamSide), f.zoneOf(hx-1.1*ax, hy))
	require.Equal(t, uint8(seamNeck), f.zoneOf(hx, hy+1.1*ay))

	bad := []struct {
		name string
		pts  []image.Point
	}{
		{"missing", nil},
		{"too few", lm[:30]},
		{"collapsed", make([]image.Point, Landmarks68)},
		{"brows below the eyes", func() []image.Point {
			p := append([]image.Point(nil), lm...)
			for i := LandmarkRightBrow[0]; i < LandmarkLeftBrow[1]; i++ {
				p[i].Y += int(0.5 * ay)
			}
			return p
		}()},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSeamFace(tc.pts)
			require.ErrorIs(t, err, errSeamGeometry)
		})
	}
}

func TestSeamPolyDist(t *testing.T) {
	square := []seamPt{{0, 0}, {10, 0}, {10, 10}, {0, 10}}
	cases := []struct {
		p    seamPt
		want float64
	}{
		{seamPt{5, 5}, -5},
		{seamPt{1, 5}, -1},
		{seamPt{12, 5}, 2},
		{seamPt{13, 14}, 5}, // beyond the corner (10, 10)
		{seamPt{5, 0}, 0},
	}
	for _, tc := range cases {
		require.InDelta(t, tc.want, seamPolyDist(tc.p, square), 1e-9, "%v", tc.p)
	}
	require.True(t, math.Signbit(seamPolyDist(seamPt{5, 5}, square)))
	// seamPolySide agrees with the signed distance, margin 1.5.
	for _, tc := range cases {
		want := 0
		switch d := seamPolyDist(tc.p, square); {
		case d < -1.5:
			want = -1
		case d > 1.5:
			want = 1
		}
		require.Equal(t, want, seamPolySide(tc.p, square, 1.5), "%v", tc.p)
	}
}

// The mapper labels the synthetic face as the landmarks place it: cheek
// cells in the cheeks, inner-band cells inside the jaw line, skin cells of
// the neck and forehead just outside the hull, and no outer cell on the
// background (which is not skin-coloured).
func TestSeamMapperLabels(t *testing.T) {
	scene := texTSceneNeck(texTFace, 5)
	img := texTNoisy(t, scene, 3, 1)
	defer img.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
	f, err := newSeamFace(texTLandmarks(texTFace))
	require.NoError(t, err)
	m := newSeamMapper()
	defer m.Close()
	sm, ok, err := m.measure(img, gray, &f)
	require.NoError(t, err)
	require.True(t, ok)
	require.Less(t, len(sm.cells), sm.cols*sm.rows)
	var count [4][seamZones]int
	for _, c := range sm.cells {
		count[c.label][c.zone]++
	}
	t.Logf("cells by label and zone: %v; cheeks ln(R/G) %.2f", count, sm.cheekLR)
	require.Greater(t, sm.cheekN, 100)
	require.InDelta(t, math.Log(195.0/140), sm.cheekLR, 0.1, "the cheeks are skin")
	require.Greater(t, count[seamIn][seamNeck], 50)
	require.Greater(t, count[seamOut][seamNeck], 50, "the neck is skin just outside the jaw line")
	require.Greater(t, count[seamOut][seamTop], 20, "the forehead above the lifted brows is skin")
	// Beside the cheeks lies background, which is not skin: the only
	// outer side cells are the neck's, beside the jaw's lower half.
	require.Less(t, count[seamOut][seamSide], count[seamOut][seamNeck])
	require.Zero(t, count[seamIn][seamTop], "inside the brow line lie the brows, which are left out")
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "Close is idempotent")
}
