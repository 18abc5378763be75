package detectors

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"
)

func TestBoundarySyntheticPaste(t *testing.T) {
	genuine, pasted := texTPair(t, 96)
	run := func(mk func(int) gocv.Mat) Result {
		d := NewBoundary()
		defer d.Close()
		return texTRun(t, d, 15, texTFace, mk)
	}
	g, p := run(genuine), run(pasted)
	texTCheckResult(t, g, BoundarySignal)
	texTCheckResult(t, p, BoundarySignal)
	gc, pc := summaryValue(t, g, "ring_contrast"), summaryValue(t, p, "ring_contrast")
	t.Logf("ring contrast: untouched %.3f (score %.3f), pasted %.3f (score %.3f)", gc, g.Summary.Score, pc, p.Summary.Score)
	require.Greater(t, pc, gc*1.1, "the feathered seam stands out as a ring")
	require.Greater(t, p.Summary.Score, g.Summary.Score)
	require.Greater(t, p.Summary.Score, 0.5)
	require.Less(t, g.Summary.Score, 0.5)
	// The seam of the pasted face sits near the feathered band (ρ 0.75–1).
	require.InDelta(t, 0.9, summaryValue(t, p, "seam_radius"), 0.2)
}
