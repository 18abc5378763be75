package media_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// readIVF returns an IVF file's header and frames.
func readIVF(t *testing.T, path string) (hdr []byte, frames [][]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	hl := int(binary.LittleEndian.Uint16(b[6:8]))
	for i := hl; i+12 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[i:]))
		frames = append(frames, b[i+12:i+12+n])
		i += 12 + n
	}
	return b[:hl], frames
}

// A stream that steps up from 320×180 to 640×360 at a keyframe, in an IVF
// file whose header says 640×480 (as the live recorder writes it): the
// largest picture is 640×360, whatever the header and the first picture
// say.
func TestLargestPictureSize(t *testing.T) {
	dir := t.TempDir()
	small, large := filepath.Join(dir, "small.ivf"), filepath.Join(dir, "large.ivf")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc=s=320x180:d=1:r=25", "-c:v", "libvpx", "-g", "25", small)
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc=s=640x360:d=1:r=25", "-c:v", "libvpx", "-g", "25", large)
	hdr, a := readIVF(t, small)
	_, b := readIVF(t, large)
	out := append([]byte(nil), hdr...)
	binary.LittleEndian.PutUint16(out[12:], 640)
	binary.LittleEndian.PutUint16(out[14:], 480)
	for i, f := range append(a, b...) {
		fh := make([]byte, 12)
		binary.LittleEndian.PutUint32(fh, uint32(len(f)))
		binary.LittleEndian.PutUint64(fh[4:], uint64(i))
		out = append(append(out, fh...), f...)
	}
	joined := filepath.Join(dir, "joined.ivf")
	require.NoError(t, os.WriteFile(joined, out, 0o600))
	info, err := media.Tools{}.Probe(context.Background(), joined)
	require.NoError(t, err)
	require.Equal(t, 480, info.Video.Height, "the header's nominal size")
	w, h, err := media.Tools{}.LargestPictureSize(context.Background(), joined)
	require.NoError(t, err)
	require.Equal(t, []int{640, 360}, []int{w, h})

	_, _, err = media.Tools{}.LargestPictureSize(context.Background(), filepath.Join(dir, "missing.ivf"))
	require.Error(t, err)
}
