package media_test

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

func TestParseRegion(t *testing.T) {
	tests := []struct {
		in      string
		want    media.Region
		name    string // its String
		wantErr bool
	}{
		{in: "", want: media.Region{}, name: "whole"},
		{in: "whole", want: media.Region{}, name: "whole"},
		{in: "0,0,1,1", want: media.Region{}, name: "whole"},
		{in: "left", want: media.Region{X: 0, Y: 0, W: 0.5, H: 1}, name: "left"},
		{in: " Top-Right ", want: media.Region{X: 0.5, Y: 0, W: 0.5, H: 0.5}, name: "top-right"},
		{in: "0.5,0.5,0.5,0.5", want: media.Region{X: 0.5, Y: 0.5, W: 0.5, H: 0.5}, name: "bottom-right"},
		{in: "0.33, 0, 0.34, 1", want: media.Region{X: 0.33, Y: 0, W: 0.34, H: 1}, name: "0.33,0,0.34,1"},
		{in: "middle", wantErr: true},
		{in: "0,0,0.5", wantErr: true},
		{in: "a,0,1,1", wantErr: true},
		{in: "0.6,0,0.5,1", wantErr: true},  // past the right edge
		{in: "-0.1,0,0.5,1", wantErr: true}, // before the left edge
		{in: "0,0,0.05,1", wantErr: true},   // too narrow
		{in: "NaN,0,0.5,1", wantErr: true},
		{in: "0,0,Inf,1", wantErr: true},
		{in: "0,0,0,0", wantErr: true}, // nothing, not the whole picture
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := media.ParseRegion(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, media.ErrBadRegion)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, r)
			require.Equal(t, tt.name, r.String())
			back, err := media.ParseRegion(r.String())
			require.NoError(t, err)
			require.Equal(t, r, back, "String reads back")
		})
	}
}

// quadrants writes a 2-s 640×360 video whose quarters are red, green, blue
// and white (top-left, top-right, bottom-left, bottom-right), with extra
// ffmpeg output arguments.
func quadrants(t *testing.T, name string, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	args := []string{"-f", "lavfi", "-i", "color=red:s=320x180:d=2", "-f", "lavfi", "-i", "color=lime:s=320x180:d=2",
		"-f", "lavfi", "-i", "color=blue:s=320x180:d=2", "-f", "lavfi", "-i", "color=white:s=320x180:d=2",
		"-filter_complex", "[0][1][2][3]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "10"}
	testutil.FFmpeg(t, append(append(args, extra...), path)...)
	return path
}

// firstFrame decodes the first frame of path with region and returns its
// size and mean colour (B, G, R) over its central half.
func firstFrame(t *testing.T, path string, region media.Region, maxWidth int) (w, h int, bgr [3]float64) {
	t.Helper()
	tools := media.Tools{}
	info, err := tools.Probe(context.Background(), path)
	require.NoError(t, err)
	vr, err := tools.OpenVideo(context.Background(), info, media.VideoOptions{FPS: 10, MaxWidth: maxWidth, Region: region})
	require.NoError(t, err)
	defer vr.Close()
	f, err := vr.Next()
	require.NoError(t, err)
	w, h = f.Image.Cols(), f.Image.Rows()
	inner := f.Image.Region(image.Rect(w/4, h/4, w/4+w/2, h/4+h/2))
	defer inner.Close()
	m := inner.Mean()
	return w, h, [3]float64{m.Val1, m.Val2, m.Val3}
}

// A region crops the upright picture before it is scaled: each quarter of a
// four-tile gallery comes out alone, in its own colour, at its own size
// (scaled down only by the width cap).
func TestRegionCrop(t *testing.T) {
	path := quadrants(t, "gallery.mp4")
	red, green, blue, white := [3]float64{0, 0, 255}, [3]float64{0, 255, 0}, [3]float64{255, 0, 0}, [3]float64{255, 255, 255}
	tests := []struct {
		region   string
		maxWidth int
		w, h     int
		colour   [3]float64
	}{
		{"top-left", 640, 320, 180, red},
		{"top-right", 640, 320, 180, green},
		{"bottom-left", 640, 320, 180, blue},
		{"bottom-right", 640, 320, 180, white},
		{"bottom-right", 160, 160, 90, white}, // the cap applies to the region
		{"0.5,0,0.5,0.5", 640, 320, 180, green},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			r, err := media.ParseRegion(tt.region)
			require.NoError(t, err)
			w, h, c := firstFrame(t, path, r, tt.maxWidth)
			assert.Equal(t, tt.w, w)
			assert.Equal(t, tt.h, h)
			for i := range c {
				assert.InDelta(t, tt.colour[i], c[i], 20, "channel %d of %v", i, c)
			}
		})
	}
}

// On a video stored sideways with a rotation flag, the region is a part of
// the upright picture the analysis sees, not of the stored one.
func TestRegionCropRotated(t *testing.T) {
	src := quadrants(t, "gallery.mp4")
	rotated := filepath.Join(t.TempDir(), "rotated.mp4")
	testutil.FFmpeg(t, "-i", src, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
	w, h, _ := firstFrame(t, rotated, media.Region{}, 640)
	require.Equal(t, []int{360, 640}, []int{w, h}, "upright: portrait")
	whole, err := media.Tools{}.Probe(context.Background(), rotated)
	require.NoError(t, err)
	require.NotZero(t, whole.Video.Rotation)
	for _, name := range []string{"top-left", "bottom-right"} {
		r, err := media.ParseRegion(name)
		require.NoError(t, err)
		w, h, got := firstFrame(t, rotated, r, 640)
		require.Equal(t, []int{180, 320}, []int{w, h}, name)
		want := uprightQuarter(t, rotated, r)
		for i := range got {
			assert.InDelta(t, want[i], got[i], 20, "%s channel %d", name, i)
		}
	}
}

// uprightQuarter is the mean colour of r's central half in the whole
// upright first frame of path.
func uprightQuarter(t *testing.T, path string, r media.Region) [3]float64 {
	t.Helper()
	tools := media.Tools{}
	info, err := tools.Probe(context.Background(), path)
	require.NoError(t, err)
	vr, err := tools.OpenVideo(context.Background(), info, media.VideoOptions{FPS: 10, MaxWidth: 640})
	require.NoError(t, err)
	defer vr.Close()
	f, err := vr.Next()
	require.NoError(t, err)
	W, H := float64(f.Image.Cols()), float64(f.Image.Rows())
	x, y, w, h := int(W*r.X), int(H*r.Y), int(W*r.W), int(H*r.H)
	inner := f.Image.Region(image.Rect(x+w/4, y+h/4, x+w/4+w/2, y+h/4+h/2))
	defer inner.Close()
	m := inner.Mean()
	return [3]float64{m.Val1, m.Val2, m.Val3}
}

// A region too small a part of the video to hold a face is refused when
// the video is opened, with the sizes.
func TestRegionTooSmall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "color=gray:s=120x120:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", path)
	tools := media.Tools{}
	info, err := tools.Probe(context.Background(), path)
	require.NoError(t, err)
	r, err := media.ParseRegion("top-left")
	require.NoError(t, err)
	_, err = tools.OpenVideo(context.Background(), info, media.VideoOptions{Region: r})
	require.ErrorIs(t, err, media.ErrBadRegion)
	require.Contains(t, err.Error(), "60×60 pixels of this 120×120 video, and at least 64×64 are needed")
	require.False(t, errors.Is(err, media.ErrUnusableInput), "the choice of region, not the file, is at fault")
	_, _, err = tools.Open(context.Background(), info, &media.VideoOptions{Region: r}, nil)
	require.ErrorIs(t, err, media.ErrBadRegion, "Open checks it too")
}
