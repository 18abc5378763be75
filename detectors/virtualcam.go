package detectors

import (
	"errors"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// VirtualCamSignal is the name of the virtual-camera signal.
const VirtualCamSignal = "video.virtualcam"

// VirtualCam looks for signs that the picture comes from a program feeding
// frames to the call (a virtual camera, a looped or frozen picture) rather
// than from a camera sensor:
//
//   - duplicated frames: consecutive analysed frames in which no part of the
//     picture changed, i.e. a source that refreshes slower than it claims, or
//     a frozen picture;
//   - perfectly regular frame timing, judged only when frames arrive at the
//     source's own timestamps (a source slower than the analysis rate):
//     faster sources are resampled to the analysis rate by the decoder and
//     their timing says nothing;
//   - temporal sensor noise in the still parts of the picture. Rendered
//     frames have none, but call codecs at modest bit rates remove it as
//     well, and real-time face swaps keep the camera's own background noise:
//     it is reported, not scored.
//
// Only frames showing a face are judged: the signal is about the picture of
// the interviewee. A network freeze also duplicates frames; the
// explanation says so.
type VirtualCam struct {
	tm       *camTemporal
	pairs    []vcPair // one per consecutive pair of frames with a face
	dts      []float32
	frames   int
	prevFace bool
	lastT    float64
	fps      float64
	closed   bool
}

// vcPair is the compact per-pair track.
type vcPair struct {
	t     float32 // time of the later frame
	dup   bool
	noise float32 // temporal noise in static blocks, grey levels; NaN if none
}

const (
	vcMinPairs = 20 // pairs of consecutive face frames needed (2 s at 10 fps)
	// vcDupCentre is the duplicate fraction scored 0.5. Genuine dev clips
	// stay at or under 11 % (a very still face, re-encoded), except a
	// screen capture that itself refreshes at about half its frame rate; a
	// source refreshing at half the analysis rate shows about 50 %.
	vcDupCentre = 0.20
	vcDupSlope  = 20.0 // logit per unit of duplicate fraction: 5 % → 0.05, 11 % → 0.14, 30 % → 0.88
	// vcRegularJitter is the frame-interval spread (seconds) under which
	// timing counts as perfectly regular.
	vcRegularJitter = 0.0005
)

// NewVirtualCam returns the virtual-camera detector.
func NewVirtualCam() *VirtualCam { return newVirtualCam(newCamTemporal()) }

// newVirtualCam returns the detector using tm, which it shares with other
// detectors of the same frames (see camTemporal).
func newVirtualCam(tm *camTemporal) *VirtualCam { return &VirtualCam{tm: tm.share()} }

// Name implements VideoDetector.
func (d *VirtualCam) Name() string { return VirtualCamSignal }

// Observe implements VideoDetector.
func (d *VirtualCam) Observe(f *VideoFrame) error {
	if d.closed {
		return ErrCameraDetectorClosed
	}
	d.frames++
	d.fps = f.FPS
	_, face := f.Primary()
	st, ok := d.tm.push(f)
	if ok && face && d.prevFace {
		d.pairs = append(d.pairs, vcPair{t: float32(f.Time), dup: st.dup, noise: st.noise})
		d.dts = append(d.dts, float32(f.Time-d.lastT))
	}
	d.prevFace = face
	d.lastT = f.Time
	return nil
}

// vcStillRun is the shortest run of duplicate pairs, in seconds, that
// counts towards vcStats.still: the picture stood still that long at a
// time (models.FrozenPictureFraction is a share of this still time).
const vcStillRun = 2.0

// vcStats are the summary numbers of a run of pairs.
type vcStats struct {
	n, dups int
	dupFrac float64
	longest float64 // longest run of duplicates, seconds
	// still is the share of the measured time (the pairs' intervals)
	// spent in runs of duplicates lasting vcStillRun or more: how much of
	// the time the picture stood still.
	still       float64
	noise       float64 // median temporal noise, NaN when unknown
	timing      bool    // timing could be judged
	jitter      float64 // robust spread of frame intervals, seconds
	medInterval float64
}

func (d *VirtualCam) stats(pairs []vcPair, dts []float32) vcStats {
	s := vcStats{n: len(pairs), noise: math.NaN(), jitter: math.NaN()}
	var noise []float32
	// A run of duplicates lasts the sum of its pairs' intervals; it ends
	// at a pair that changed and where pairs are not consecutive frames
	// (frames without a face in between).
	var run, total, still float64
	endRun := func() {
		if run >= vcStillRun {
			still += run
		}
		run = 0
	}
	for i, p := range pairs {
		dt := float64(dts[i])
		total += dt
		if i > 0 && math.Abs(float64(p.t-dts[i]-pairs[i-1].t)) > dt/2 {
			endRun()
		}
		if p.dup {
			s.dups++
			run += dt
			s.longest = math.Max(s.longest, run)
		} else {
			endRun()
			if !math.IsNaN(float64(p.noise)) {
				noise = append(noise, p.noise)
			}
		}
	}
	endRun()
	if s.n > 0 {
		s.dupFrac = float64(s.dups) / float64(s.n)
	}
	if total > 0 {
		s.still = still / total
	}
	if len(noise) > 0 {
		s.noise = float64(camSelect(noise, 0.5))
	}
	if len(dts) > 0 && d.fps > 0 {
		iv := append([]float32(nil), dts...)
		s.medInterval = float64(camSelect(iv, 0.5))
		// Frames spaced clearly wider than the analysis interval come at
		// the source's own timestamps (see media.VideoReader.Sampled).
		if s.medInterval > 1.25/d.fps {
			s.timing = true
			dev := make([]float32, len(dts))
			for i, v := range dts {
				dev[i] = float32(math.Abs(float64(v) - s.medInterval))
			}
			s.jitter = float64(camSelect(dev, 0.5)) * 1.4826
		}
	}
	return s
}

// score maps the statistics to a score in [0,1]: a logistic in the
// duplicate fraction (vcDupCentre, vcDupSlope) and a small push (+0.5
// logit) when timing is measurable and perfectly regular. Regular timing
// weighs little because recorders and muxers also write regular
// timestamps.
func (s vcStats) score() float64 {
	z := vcDupSlope * (s.dupFrac - vcDupCentre)
	if s.timing && s.jitter < vcRegularJitter {
		z += 0.5
	}
	return camLogistic(z)
}

// Finish implements VideoDetector.
func (d *VirtualCam) Finish() Result {
	sig := d.Name()
	if d.frames == 0 {
		return NotMeasured(sig, Video, "no video frame could be decoded")
	}
	if len(d.pairs) < vcMinPairs {
		return NotMeasured(sig, Video, fmt.Sprintf(
			"too little face video: %d consecutive frame pairs with a face (%d needed)", len(d.pairs), vcMinPairs))
	}
	s := d.stats(d.pairs, d.dts)
	score := s.score()
	vals := []Measurement{
		M("duplicate_frame_fraction", round3(s.dupFrac), "", 0, 0.05),
		M("longest_frozen", round3(s.longest), "s", 0, 1),
		M("still_fraction", round3(s.still), "", 0, 0.1),
	}
	if !math.IsNaN(s.noise) {
		vals = append(vals, Measurement{Name: "static_temporal_noise", Value: round3(s.noise), Unit: "grey levels"})
	}
	if s.timing {
		vals = append(vals,
			Measurement{Name: "frame_interval", Value: round3(s.medInterval), Unit: "s"},
			Measurement{Name: "frame_interval_jitter", Value: math.Round(s.jitter*1e6) / 1e3, Unit: "ms"})
	}
	conf := math.Min(1, float64(s.n)/100)
	expl := d.explain(s, score)
	res := Result{Signal: sig, Modality: Video, Summary: &Finding{
		Signal: sig, Modality: Video, Start: 0, End: d.lastT,
		Score: round3(score), Confidence: round3(conf), Values: vals, Explanation: expl,
	}}
	res.Windows = d.windows()
	return res
}

func (d *VirtualCam) explain(s vcStats, score float64) string {
	pct := 100 * s.dupFrac
	var e string
	switch {
	case score >= 0.5 && s.longest >= 2:
		e = fmt.Sprintf("The picture froze: %.0f%% of consecutive frames were identical, up to %.1f s at a time, as with a virtual camera, a looped picture or a network freeze.", pct, s.longest)
	case score >= 0.5:
		e = fmt.Sprintf("%.0f%% of consecutive frames were identical: the picture refreshes more slowly than the video claims, as when a program (virtual camera) feeds the call, or as in a recording whose frame rate varies (phones and browsers drop frames under load), where the gaps are filled with repeats.", pct)
	default:
		e = fmt.Sprintf("Only %.0f%% of consecutive frames were identical, as expected from a live camera.", pct)
	}
	if !math.IsNaN(s.noise) && s.noise > camNoisePresent {
		e += fmt.Sprintf(" The still parts of the picture carry camera noise (%.2f grey levels).", s.noise)
	}
	if s.timing {
		if s.jitter < vcRegularJitter {
			e += " Frames arrive at perfectly regular intervals, which recorders also produce."
		}
	} else {
		e += " Frame timing could not be judged because the source is faster than the analysis rate."
	}
	return e
}

// windows returns one finding per timeline window with enough pairs.
func (d *VirtualCam) windows() []Finding {
	var out []Finding
	start := 0
	for start < len(d.pairs) {
		w := windowOf(float64(d.pairs[start].t))
		end := start
		for end < len(d.pairs) && windowOf(float64(d.pairs[end].t)) == w {
			end++
		}
		if n := end - start; n >= vcMinPairs/2 {
			s := d.stats(d.pairs[start:end], d.dts[start:end])
			sc := s.score()
			out = append(out, Finding{
				Signal: VirtualCamSignal, Modality: Video,
				Start: float64(w) * WindowSeconds, End: float64(w+1) * WindowSeconds,
				Score: round3(sc), Confidence: round3(math.Min(1, float64(n)/50)),
				Values:      []Measurement{M("duplicate_frame_fraction", round3(s.dupFrac), "", 0, 0.05)},
				Explanation: fmt.Sprintf("%.0f%% of consecutive frames were identical in this window.", 100*s.dupFrac),
			})
		}
		start = end
	}
	return out
}

// Close implements VideoDetector. It is idempotent.
func (d *VirtualCam) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return d.tm.release()
}

// camTemporal compares each grey frame with the previous one, block by
// block (16×16 mean absolute differences). Detectors that observe the same
// frames share one (share, then release once each): the first to push a
// frame measures it, the others get the same answer. It owns its Mats; the
// last release frees them. Not safe for concurrent use.
type camTemporal struct {
	prev, diff, d4, blocks gocv.Mat
	hist                   []int
	have                   bool
	users                  int
	// The last frame pushed and what it gave.
	lastIndex int
	lastTime  float64
	last      camPair
	lastOK    bool
}

// camPair is what camTemporal measures on one pair of frames.
type camPair struct {
	// dup: the picture did not change: mean difference under camDupMean
	// and no 16×16 block changed by camDupBlock or more on average.
	dup bool
	// noise is the temporal noise of the static picture: the 10th
	// percentile of block differences (the stillest tenth of the frame),
	// in grey levels; NaN for duplicates.
	noise float32
}

const (
	camBlock = 16
	// An unchanged picture re-encoded by a codec differs only by the
	// encoder's refinement: at most 0.33 grey levels on average and 3 in any
	// block (libx264 crf 23, measured), against 1.8 and 14 for the least
	// change between live frames of the same talking-head clip at 10 fps.
	camDupMean  = 0.5 // grey levels, whole frame
	camDupBlock = 3.5 // grey levels, largest 16×16 block
	// camNoisePresent is the temporal noise (grey levels) above which the
	// still picture clearly carries live sensor noise; codecs at call bit
	// rates usually leave less.
	camNoisePresent = 0.15
)

func newCamTemporal() *camTemporal {
	return &camTemporal{prev: gocv.NewMat(), diff: gocv.NewMat(), d4: gocv.NewMat(), blocks: gocv.NewMat(), hist: make([]int, 256), lastIndex: -1}
}

// share registers one more user and returns c.
func (c *camTemporal) share() *camTemporal {
	c.users++
	return c
}

// push compares f's grey picture with the previous frame's and keeps a
// copy of it; ok is false for the first frame or after a size change. A
// frame pushed again (same index and time) returns the first answer.
func (c *camTemporal) push(f *VideoFrame) (camPair, bool) {
	if c.have && f.Index == c.lastIndex && f.Time == c.lastTime {
		return c.last, c.lastOK
	}
	c.lastIndex, c.lastTime = f.Index, f.Time
	c.last, c.lastOK = c.measure(f.Gray)
	return c.last, c.lastOK
}

func (c *camTemporal) measure(gray gocv.Mat) (camPair, bool) {
	var p camPair
	ok := c.have && c.prev.Cols() == gray.Cols() && c.prev.Rows() == gray.Rows()
	if ok {
		gocv.AbsDiff(gray, c.prev, &c.diff)
		// ×4 keeps quarter-level resolution in 8 bit (saturates at 63.75).
		gocv.ConvertScaleAbs(c.diff, &c.d4, 4, 0)
		bw, bh := max(1, gray.Cols()/camBlock), max(1, gray.Rows()/camBlock)
		// Whole blocks only: OpenCV's area resize has a fast path for
		// integer factors and is ten times slower without one.
		whole := c.d4
		if bw*camBlock <= gray.Cols() && bh*camBlock <= gray.Rows() {
			whole = c.d4.Region(image.Rect(0, 0, bw*camBlock, bh*camBlock))
			defer whole.Close()
		}
		gocv.Resize(whole, &c.blocks, image.Pt(bw, bh), 0, 0, gocv.InterpolationArea)
		_, mx, _, _ := gocv.MinMaxLoc(c.blocks)
		p.dup = float64(mx)/4 < camDupBlock && c.blocks.Mean().Val1/4 < camDupMean
		p.noise = float32(math.NaN())
		if !p.dup {
			p.noise = float32(math.Max(0, camHistQuantile(c.blocks, c.hist, 0.1)/4))
		}
	}
	gray.CopyTo(&c.prev)
	c.have = true
	return p, ok
}

// release drops one user; the last frees the Mats.
func (c *camTemporal) release() error {
	c.users--
	if c.users > 0 {
		return nil
	}
	var errs []error
	for _, m := range []*gocv.Mat{&c.prev, &c.diff, &c.d4, &c.blocks} {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// camHistQuantile returns the q-quantile of the bytes of m (8 bit, one
// channel, continuous), interpolated within the unit bin. hist is scratch
// of 256 entries.
func camHistQuantile(m gocv.Mat, hist []int, q float64) float64 {
	data, err := m.DataPtrUint8()
	if err != nil || len(data) == 0 {
		return 0
	}
	clear(hist)
	for _, v := range data {
		hist[v]++
	}
	target := q * float64(len(data))
	cum := 0.0
	for v, c := range hist {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= target {
			return float64(v) + (target-cum)/float64(c) - 0.5
		}
		cum += float64(c)
	}
	return 255
}

// camLogistic is the logistic function 1/(1+e^−z).
func camLogistic(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
