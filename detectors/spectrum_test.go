package detectors

import (
	"image"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

func TestSpectrumUpscaledPatchHasWeakerTail(t *testing.T) {
	// A textured patch at full resolution against the same patch rendered
	// at 128 px and resized back up: the up-sampled one lacks the top of
	// the spectrum.
	scene := texTScene(texTFace, 11)
	img := texTNoisy(t, scene, 3, 2)
	defer img.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(img, &gray, gocv.ColorBGRToGray)
	src := image.Rect(0, 0, 256, 256) // background texture plus noise
	region := gray.Region(src)
	small, up := gocv.NewMat(), gocv.NewMat()
	gocv.Resize(region, &small, image.Pt(128, 128), 0, 0, gocv.InterpolationArea)
	gocv.Resize(small, &up, image.Pt(256, 256), 0, 0, gocv.InterpolationLinear)
	full := region.Clone()
	region.Close()
	small.Close()
	defer full.Close()
	defer up.Close()

	sp := newTexSpectrum()
	defer sp.Close()
	var a, b [texSpectrumBins]float64
	patch := image.Rect(96, 96, 160, 160)
	_, stdA, ok := sp.patch(full, patch, a[:])
	require.True(t, ok)
	_, stdB, ok := sp.patch(up, patch, b[:])
	require.True(t, ok)
	require.InDelta(t, stdA, stdB, 0.3*stdA, "same content")
	t.Logf("slope full %.2f, upscaled %.2f decades", spectrumSlope(a[:]), spectrumSlope(b[:]))
	require.Less(t, spectrumSlope(b[:]), spectrumSlope(a[:])-0.5)
	// Above the 128-px Nyquist limit (half the band) the upscaled patch has
	// at least 10× less power.
	for bin := texSpectrumBins * 5 / 8; bin < texSpectrumBins; bin++ {
		require.Less(t, b[bin], a[bin]-1, "bin %d", bin)
	}
	_, _, ok = sp.patch(full, image.Rect(0, 0, 40, 30), a[:])
	require.False(t, ok, "not square")
	_, _, ok = sp.patch(full, image.Rect(240, 240, 272, 272), a[:])
	require.False(t, ok, "outside the picture")
}

func TestSpectrumSyntheticPaste(t *testing.T) {
	genuine, pasted := texTPair(t, 96)
	run := func(mk func(int) gocv.Mat) Result {
		d := NewSpectrum()
		defer d.Close()
		return texTRun(t, d, 15, texTFace, mk)
	}
	g, p := run(genuine), run(pasted)
	texTCheckResult(t, g, SpectrumSignal)
	texTCheckResult(t, p, SpectrumSignal)
	gd, pd := summaryValue(t, g, "face_minus_background_slope"), summaryValue(t, p, "face_minus_background_slope")
	t.Logf("face − background slope: untouched %.2f dB (score %.3f), pasted %.2f dB (score %.3f)", gd, g.Summary.Score, pd, p.Summary.Score)
	require.Less(t, pd, gd-5)
	require.Greater(t, p.Summary.Score, g.Summary.Score)
}

func TestSpectrumNeedsBackground(t *testing.T) {
	// A face that fills the picture leaves no background to compare with.
	scene := texTScene(texTFace, 3)
	d := NewSpectrum()
	defer d.Close()
	face := image.Rect(20, 10, 620, 470)
	r := texTRun(t, d, 12, face, func(i int) gocv.Mat { return texTNoisy(t, scene, 3, int64(i)) })
	require.False(t, r.Measured())
	require.Contains(t, r.NotMeasurable, "no background")
}
