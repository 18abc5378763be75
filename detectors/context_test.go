package detectors

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

func TestContextSyntheticPaste(t *testing.T) {
	genuine, pasted := texTPair(t, 96)
	run := func(mk func(int) gocv.Mat) Result {
		d := NewFaceContext()
		defer d.Close()
		return texTRun(t, d, 15, texTFace, mk)
	}
	g, p := run(genuine), run(pasted)
	texTCheckResult(t, g, ContextSignal)
	texTCheckResult(t, p, ContextSignal)
	gn, pn := summaryValue(t, g, "noise_floor_ratio"), summaryValue(t, p, "noise_floor_ratio")
	gr, pr := summaryValue(t, g, "face_to_context"), summaryValue(t, p, "face_to_context")
	t.Logf("noise floor ratio: untouched %.3f, pasted %.3f; face/context %.3f → %.3f; scores %.3f → %.3f",
		gn, pn, gr, pr, g.Summary.Score, p.Summary.Score)
	// The same sensor noise everywhere: the untouched face's noise floor
	// matches its context's.
	require.InDelta(t, 1, gn, 0.25)
	// The re-rendered face lost most of it.
	require.Less(t, pn, 0.6*gn)
	require.Less(t, pr, gr)
	require.Greater(t, p.Summary.Score, 0.5)
	require.Less(t, g.Summary.Score, 0.5)
	require.Greater(t, summaryValue(t, g, "context_noise"), 1.0, "context noise level is reported in grey levels")
}

func TestContextLessNoiseMeansLessConfidence(t *testing.T) {
	// Without sensor noise (heavy compression or denoising) only the
	// fine-detail half of the measurement is left: the detector still
	// reports, with less confidence.
	scene := texTScene(texTFace, 5)
	conf := map[float64]float64{}
	for _, sigma := range []float64{0, 3} {
		d := NewFaceContext()
		r := texTRun(t, d, 15, texTFace, func(i int) gocv.Mat { return texTNoisy(t, scene, sigma, int64(i)) })
		require.NoError(t, d.Close())
		require.NotNil(t, r.Summary)
		conf[sigma] = r.Summary.Confidence
	}
	t.Logf("confidence without noise %.3f, with σ=3 %.3f", conf[0], conf[3])
	require.Less(t, conf[0], conf[3])
	require.LessOrEqual(t, conf[3], contextMaxConf)
}

// Without landmarks (profile views, failed fits) the detector falls back on
// the Haar box's inner face and still finds the pasted one.
func TestContextHaarFallback(t *testing.T) {
	genuine, pasted := texTPair(t, 96)
	run := func(mk func(int) gocv.Mat, profile bool) Result {
		d := NewFaceContext()
		defer d.Close()
		face := Face{Rect: texTFace, Detected: true, Profile: profile}
		if profile {
			face.Landmarks = texTLandmarks(texTFace) // approximate on a profile: not used
		}
		return texTRunFaces(t, d, 15, []Face{face}, mk)
	}
	for _, profile := range []bool{false, true} {
		g, p := run(genuine, profile), run(pasted, profile)
		texTCheckResult(t, g, ContextSignal)
		texTCheckResult(t, p, ContextSignal)
		require.Zero(t, summaryValue(t, g, "landmark_frames"))
		require.Less(t, summaryValue(t, p, "face_to_context"), summaryValue(t, g, "face_to_context"))
		require.Greater(t, p.Summary.Score, g.Summary.Score)
	}
}

// With landmarks the face is the landmark hull: a face pasted through the
// hull has less noise than its context, and every frame was placed by the
// landmarks.
func TestContextLandmarkHull(t *testing.T) {
	genuine, pasted := texTSeamPair(t, 64)
	run := func(mk func(int) gocv.Mat) Result {
		d := NewFaceContext()
		defer d.Close()
		return texTRun(t, d, 15, texTFace, mk)
	}
	g, p := run(genuine), run(pasted)
	texTCheckResult(t, g, ContextSignal)
	texTCheckResult(t, p, ContextSignal)
	require.Equal(t, 1.0, summaryValue(t, g, "landmark_frames"))
	gn, pn := summaryValue(t, g, "noise_floor_ratio"), summaryValue(t, p, "noise_floor_ratio")
	t.Logf("noise floor ratio: untouched %.3f, pasted %.3f; scores %.3f → %.3f", gn, pn, g.Summary.Score, p.Summary.Score)
	require.InDelta(t, 1, gn, 0.25)
	require.Less(t, pn, 0.6*gn)
	require.Greater(t, p.Summary.Score, 0.5)
	require.Less(t, g.Summary.Score, 0.5)
}
