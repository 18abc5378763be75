package detectors

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
)

// Synthetic frames with a known answer: a picture refreshed at half the
// analysis rate shows half duplicated pairs; a live noisy picture none.
func TestVirtualCamSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name         string
		noise        float64
		repeat       int
		dupLo, dupHi float64
		flagged      bool
	}{
		{"live noisy camera", 2, 1, 0, 0, false},
		{"half-rate source", 2, 2, 0.45, 0.55, true},
		{"frozen picture", 2, 1000, 1, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewVirtualCam()
			defer func() { require.NoError(t, d.Close()) }()
			camFeed(t, d, newCamSynth(4, 320, 240, tc.noise), 60, tc.repeat)
			r := d.Finish()
			require.NotNil(t, r.Summary, r.NotMeasurable)
			dup := summaryValue(t, r, "duplicate_frame_fraction")
			assert.GreaterOrEqual(t, dup, tc.dupLo)
			assert.LessOrEqual(t, dup, tc.dupHi)
			assert.Equal(t, tc.flagged, r.Summary.Score > 0.5, "score %.3f", r.Summary.Score)
			assert.NotEmpty(t, r.Windows)
			t.Logf("%.3f %s", r.Summary.Score, r.Summary.Explanation)
		})
	}
}

// A real clip passed through fps=5,fps=25 (a source refreshing at 5 fps
// in a 25 fps stream) is flagged; the same clip through the same encoder
// at its own rate is not. Both fixtures have the same length, size and
// codec: only the refresh rate differs.
func TestVirtualCamDuplicatedClip(t *testing.T) {
	src := camCorpusVideo(t, "genuine", "driving/d20.mp4")
	dir := t.TempDir()
	enc := []string{"-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"}
	dup := filepath.Join(dir, "dup.mp4")
	testutil.FFmpeg(t, append([]string{"-i", src, "-t", "6", "-vf", "fps=5,fps=25"}, append(enc, dup)...)...)
	ctl := filepath.Join(dir, "ctl.mp4")
	testutil.FFmpeg(t, append([]string{"-i", src, "-t", "6", "-vf", "fps=25"}, append(enc, ctl)...)...)

	rd := camRun(t, dup, nil, NewVirtualCam())[0]
	rc := camRun(t, ctl, nil, NewVirtualCam())[0]
	require.NotNil(t, rd.Summary, rd.NotMeasurable)
	require.NotNil(t, rc.Summary, rc.NotMeasurable)
	t.Logf("duplicated: %.3f %v", rd.Summary.Score, rd.Summary.Values)
	t.Logf("control:    %.3f %v", rc.Summary.Score, rc.Summary.Values)
	assert.Greater(t, rd.Summary.Score, 0.5)
	assert.Less(t, rc.Summary.Score, 0.2)
	assert.Greater(t, summaryValue(t, rd, "duplicate_frame_fraction"), 0.3)
	assert.Less(t, summaryValue(t, rc, "duplicate_frame_fraction"), 0.05)
	assert.Contains(t, rc.Summary.Explanation, "could not be judged")
}

// A genuine dev clip (real camera, re-encoded) is not flagged.
func TestVirtualCamGenuineCorpusClip(t *testing.T) {
	r := camRun(t, camCorpusVideo(t, "genuine", "WDA_AlexandriaOcasioCortez"), nil, NewVirtualCam())[0]
	require.NotNil(t, r.Summary, r.NotMeasurable)
	assert.Less(t, r.Summary.Score, 0.2)
}

// A source slower than the analysis rate (5 fps) arrives at its own
// timestamps: timing is judged and reported; a live camera is still not
// flagged.
func TestVirtualCamSlowSourceTiming(t *testing.T) {
	src := camCorpusVideo(t, "genuine", "driving/d20.mp4")
	slow := filepath.Join(t.TempDir(), "slow.mp4")
	testutil.FFmpeg(t, "-i", src, "-t", "6", "-vf", "fps=5", "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", slow)
	r := camRun(t, slow, nil, NewVirtualCam())[0]
	require.NotNil(t, r.Summary, r.NotMeasurable)
	t.Logf("%.3f %v %s", r.Summary.Score, r.Summary.Values, r.Summary.Explanation)
	assert.InDelta(t, 0.2, summaryValue(t, r, "frame_interval"), 0.01)
	assert.Less(t, summaryValue(t, r, "frame_interval_jitter"), 1.0)
	assert.Less(t, r.Summary.Score, 0.2)
}

func TestVirtualCamNotMeasurable(t *testing.T) {
	noFace := filepath.Join(t.TempDir(), "noface.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", noFace)
	r := camRun(t, noFace, nil, NewVirtualCam())[0]
	assert.False(t, r.Measured())
	assert.Contains(t, r.NotMeasurable, "too little face video")

	d := NewVirtualCam()
	assert.Contains(t, d.Finish().NotMeasurable, "no video frame")
	camFeed(t, d, newCamSynth(5, 320, 240, 2), 10, 1)
	assert.Contains(t, d.Finish().NotMeasurable, "too little face video")
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close is idempotent")
	assert.ErrorIs(t, d.Observe(&VideoFrame{}), ErrCameraDetectorClosed)
}

func TestVirtualCamScoreMapping(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		s      vcStats
		lo, hi float64
	}{
		{"no duplicates", vcStats{dupFrac: 0, noise: nan}, 0, 0.05},
		{"screen-capture level", vcStats{dupFrac: 0.05, noise: nan}, 0, 0.15},
		{"half-rate source", vcStats{dupFrac: 0.5, noise: nan}, 0.99, 1},
		{"regular timing alone", vcStats{dupFrac: 0, noise: nan, timing: true, jitter: 0}, 0, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.s.score()
			assert.GreaterOrEqual(t, v, tc.lo)
			assert.LessOrEqual(t, v, tc.hi)
		})
	}
}

// BenchmarkVirtualCamObserve measures the per-frame cost on 640×360.
func BenchmarkVirtualCamObserve(b *testing.B) {
	d := NewVirtualCam()
	defer d.Close()
	s := newCamSynth(6, 640, 360, 2)
	bgr1, gray1 := s.frame(b)
	defer bgr1.Close()
	defer gray1.Close()
	bgr2, gray2 := s.frame(b)
	defer bgr2.Close()
	defer gray2.Close()
	faces := []Face{{Rect: s.face, TrackID: 1, Detected: true}}
	b.ResetTimer()
	cpu0 := camCPU(b)
	for i := 0; i < b.N; i++ {
		f := &VideoFrame{Index: i, Time: float64(i) / 10, Image: bgr1, Gray: gray1, Faces: faces, FPS: 10}
		if i%2 == 1 {
			f.Image, f.Gray = bgr2, gray2
		}
		if err := d.Observe(f); err != nil {
			b.Fatal(err)
		}
		if len(d.pairs) > 10000 {
			d.pairs, d.dts = d.pairs[:0], d.dts[:0]
		}
	}
	b.ReportMetric(float64(camCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// The share of time the picture stood still (runs of duplicates of 2 s or
// more) and the longest run follow the pairs' own intervals and end where
// frames without a face broke the sequence: a picture once a second is
// never still, a photo always, and one held picture among moving ones
// counts for its own time only.
func TestVirtualCamStillFraction(t *testing.T) {
	// frames lists analysed frame times with a face and whether each is a
	// duplicate of the frame before it (the first frame's flag is unused);
	// a pair is made of two consecutive listed frames, as Observe does
	// when no frame without a face lies between them (gap marks one).
	type frame struct {
		t   float64
		dup bool
		gap bool // frames without a face came just before this one
	}
	every := func(from, to, step float64, dup func(i int) bool) []frame {
		var out []frame
		for i := 0; from+float64(i)*step < to-1e-9; i++ {
			out = append(out, frame{t: from + float64(i)*step, dup: dup(i)})
		}
		return out
	}
	run := func(fs []frame) vcStats {
		d := &VirtualCam{fps: 10}
		var pairs []vcPair
		var dts []float32
		for i := 1; i < len(fs); i++ {
			if fs[i].gap {
				continue // the pair across a gap is not made
			}
			pairs = append(pairs, vcPair{t: float32(fs[i].t), dup: fs[i].dup, noise: float32(math.NaN())})
			dts = append(dts, float32(fs[i].t-fs[i-1].t))
		}
		return d.stats(pairs, dts)
	}
	onceASecond := func(i int) bool { return i%10 != 0 }
	// Pictures 4–7 held: the frames from 4.1 s to 8.0 s repeat the one at 4 s.
	held := every(0, 15, 0.1, func(i int) bool { return i%10 != 0 || (i >= 50 && i < 80) })
	gappy := every(0, 15, 0.1, onceASecond)
	for i := range gappy {
		if i%30 == 25 { // a face missed now and then
			gappy[i].gap = true
		}
	}
	afterGap := []frame{{t: 0}, {t: 0.1}, {t: 18.9, gap: true}, {t: 19.0, dup: true}}
	for _, tc := range []struct {
		name             string
		frames           []frame
		still, longestLo float64
		longestHi        float64
	}{
		{"a photo", every(0, 6, 0.1, func(int) bool { return true }), 1, 5.8, 6},
		{"a new picture once a second", every(0, 15, 0.1, onceASecond), 0, 0.85, 0.95},
		{"one held picture", held, 3.9 / 14.9, 3.85, 3.95},
		{"once a second, faces missed", gappy, 0, 0.85, 0.95},
		{"a duplicate after a long gap", afterGap, 0, 0.05, 0.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := run(tc.frames)
			assert.InDelta(t, tc.still, s.still, 0.02, "still")
			assert.GreaterOrEqual(t, s.longest, tc.longestLo)
			assert.LessOrEqual(t, s.longest, tc.longestHi)
		})
	}
}
