package detectors

import (
	"image"
	"testing"

	"github.com/stretchr/testify/require"
)

// Boxes come out in reading order whatever order the cascade found them in.
func TestSortRects(t *testing.T) {
	want := []image.Rectangle{
		image.Rect(230, 60, 406, 236), image.Rect(268, 60, 418, 236),
		image.Rect(268, 60, 418, 240), image.Rect(268, 152, 418, 302),
	}
	for _, perm := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}} {
		in := make([]image.Rectangle, len(perm))
		for i, p := range perm {
			in[i] = want[p]
		}
		require.Equal(t, want, sortRects(in), "%v", perm)
	}
}
