package detectors

import (
	"fmt"
	"math"

	"github.com/bonafide-dev/bonafide/media"
)

// PitchConfig sets up a PitchTracker. Zero fields take the defaults of
// DefaultPitchConfig.
type PitchConfig struct {
	// MinF0 and MaxF0 bound the F0 search, in Hz (defaults 60 and 500:
	// the range of adult and child speaking voices).
	MinF0, MaxF0 float64
	// Threshold is YIN's absolute threshold on the cumulative mean
	// normalised difference (de Cheveigné & Kawahara 2002 use 0.1–0.15):
	// the first period candidate below it wins, which avoids octave-too-low
	// errors. Default 0.15.
	Threshold float64
	// VoicingThreshold is the highest normalised difference at the chosen
	// period for a frame to count as voiced. Default 0.3.
	VoicingThreshold float64
	// MinLevelDB: frames quieter than this RMS level (dBFS) are unvoiced
	// and not analysed. Default −55.
	MinLevelDB float64
	// WindowSeconds is YIN's integration window (default 0.025) and
	// HopSeconds the frame step (default 0.01).
	WindowSeconds, HopSeconds float64
}

// DefaultPitchConfig returns the defaults used by the voice detectors.
func DefaultPitchConfig() PitchConfig {
	return PitchConfig{
		MinF0: 60, MaxF0: 500, Threshold: 0.15, VoicingThreshold: 0.3,
		MinLevelDB: -55, WindowSeconds: 0.025, HopSeconds: 0.01,
	}
}

func (c PitchConfig) withDefaults() PitchConfig {
	d := DefaultPitchConfig()
	if c.MinF0 <= 0 {
		c.MinF0 = d.MinF0
	}
	if c.MaxF0 <= 0 {
		c.MaxF0 = d.MaxF0
	}
	if c.Threshold <= 0 {
		c.Threshold = d.Threshold
	}
	if c.VoicingThreshold <= 0 {
		c.VoicingThreshold = d.VoicingThreshold
	}
	if c.MinLevelDB == 0 {
		c.MinLevelDB = d.MinLevelDB
	}
	if c.WindowSeconds <= 0 {
		c.WindowSeconds = d.WindowSeconds
	}
	if c.HopSeconds <= 0 {
		c.HopSeconds = d.HopSeconds
	}
	return c
}

// PitchFrame is one analysis frame of a PitchTracker.
type PitchFrame struct {
	Index int64   // frame number from the start of the stream
	Time  float64 // time of the frame's centre, seconds (stream time)
	// Centre is the absolute index (from the first sample pushed) of the
	// frame's centre sample.
	Centre int64
	// F0 in Hz of the best period candidate; 0 when the frame was too quiet
	// to analyse. Meaningful as a pitch only when Voiced.
	F0     float64
	Voiced bool
	// Aperiodicity is YIN's cumulative mean normalised difference at the
	// chosen period: near 0 for a perfectly periodic frame, near 1 for
	// noise.
	Aperiodicity float64
	// Correlation is the normalised correlation between the signal and
	// itself one period later (1 = perfectly periodic). HNR derives from it.
	Correlation float64
	// LevelDB is the frame's RMS level in dBFS.
	LevelDB float64
	// Span holds the analysed samples at the input rate (DC removed);
	// Span[len(Span)/2] is the sample at Centre. It belongs to the tracker
	// and is valid only during the emit callback.
	Span []float64
}

// HNR returns the harmonics-to-noise ratio in dB estimated from the
// normalised correlation at the period (Boersma 1993: HNR = 10·log10(r/(1−r))),
// clipped to [−20, 40] dB.
func (f PitchFrame) HNR() float64 {
	r := f.Correlation
	if r <= 0.0099 {
		return -20
	}
	if r >= 0.9999 {
		return 40
	}
	return math.Max(-20, math.Min(40, 10*math.Log10(r/(1-r))))
}

// PitchTracker is a streaming YIN F0 tracker (de Cheveigné & Kawahara 2002)
// with voicing and aperiodicity. To keep it cheap, YIN runs on the signal
// low-passed and decimated by two when the rate allows (F0 needs no more
// than 4 kHz of bandwidth), with the difference function from a running
// energy sum and the cross-correlation summed directly (200 × 136
// products per 10-ms frame at 16 kHz). The period is then refined, and the
// periodicity behind HNR measured, on the full-band signal. Memory is
// bounded by a few frames whatever the stream length.
//
// A PitchTracker is used from one goroutine. It holds no resources, so it
// needs no Close.
type PitchTracker struct {
	cfg     PitchConfig
	rate    int
	dec     int       // decimation factor (1 or 2)
	taps    []float64 // anti-alias low-pass before decimation
	margin  int       // full-rate samples before the decimated window
	span    int       // full-rate samples per frame
	hop     int       // full-rate samples between frames
	win     int       // YIN integration window, decimated samples
	tauMin  int       // decimated samples
	tauMax  int       // decimated samples
	buf     []float64
	pos     int   // start in buf of the next frame
	base    int64 // absolute index of buf[0]
	frames  int64
	start   float64
	started bool
	x       []float64 // full-rate span, DC removed
	xd      []float64 // decimated analysis span
	r       []float64 // r(τ), τ = 0 … tauMax+1
	cum     []float64
	cmn     []float64
}

const pitchTaps = 31

// NewPitchTracker returns a tracker for mono audio at rate. It returns an
// error wrapping ErrPitchConfig when cfg cannot work at that rate.
func NewPitchTracker(rate int, cfg PitchConfig) (*PitchTracker, error) {
	cfg = cfg.withDefaults()
	if rate <= 0 || cfg.MinF0 >= cfg.MaxF0 || cfg.MaxF0 >= float64(rate)/4 {
		return nil, fmt.Errorf("%w: rate %d Hz, F0 range %.0f–%.0f Hz", ErrPitchConfig, rate, cfg.MinF0, cfg.MaxF0)
	}
	t := &PitchTracker{cfg: cfg, rate: rate, dec: 1}
	if rate%2 == 0 && float64(rate)/2 >= 8*cfg.MaxF0 {
		t.dec = 2
		// Windowed-sinc low-pass, cut-off at 0.45 of the decimated rate.
		fc := 0.45 / float64(t.dec)
		t.taps = make([]float64, pitchTaps)
		var sum float64
		for i := range t.taps {
			k := float64(i - pitchTaps/2)
			v := 2 * fc
			if k != 0 {
				v = math.Sin(2*math.Pi*fc*k) / (math.Pi * k)
			}
			w := 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(pitchTaps-1))
			t.taps[i] = v * w
			sum += t.taps[i]
		}
		for i := range t.taps {
			t.taps[i] /= sum
		}
		t.margin = pitchTaps / 2
	}
	rd := float64(rate) / float64(t.dec)
	t.win = int(math.Round(cfg.WindowSeconds * rd))
	t.hop = max(1, int(math.Round(cfg.HopSeconds*float64(rate))))
	t.tauMin = max(2, int(math.Floor(rd/cfg.MaxF0)))
	t.tauMax = int(math.Ceil(rd / cfg.MinF0))
	if t.win < t.tauMin {
		return nil, fmt.Errorf("%w: window %.3f s shorter than the shortest period", ErrPitchConfig, cfg.WindowSeconds)
	}
	spanD := t.win + t.tauMax + 2
	// The full-rate refinement reads the window plus one longest period
	// and a sample either side.
	t.span = 2*t.margin + max(t.dec*spanD, t.dec*(t.win+t.tauMax)+3)
	t.x = make([]float64, t.span)
	t.xd = make([]float64, spanD)
	t.r = make([]float64, t.tauMax+2)
	t.cum = make([]float64, spanD+1)
	t.cmn = make([]float64, t.tauMax+2)
	return t, nil
}

// Rate returns the sample rate the tracker was built for.
func (t *PitchTracker) Rate() int { return t.rate }

// HopSeconds returns the time between frames.
func (t *PitchTracker) HopSeconds() float64 { return float64(t.hop) / float64(t.rate) }

// Push feeds a chunk and calls emit for every completed frame, in order.
// Chunks must be contiguous; the first one sets the stream's start time. A
// chunk at another rate returns an error wrapping ErrVoiceRate.
func (t *PitchTracker) Push(c media.Chunk, emit func(PitchFrame)) error {
	if c.Rate != t.rate {
		return fmt.Errorf("%w: got %d Hz, want %d Hz", ErrVoiceRate, c.Rate, t.rate)
	}
	if !t.started {
		t.start, t.started = c.Start.Seconds(), true
	}
	for _, s := range c.Samples {
		t.buf = append(t.buf, float64(s))
	}
	for len(t.buf)-t.pos >= t.span {
		emit(t.analyse(t.buf[t.pos : t.pos+t.span]))
		t.pos += t.hop
	}
	if t.pos >= 4*t.span {
		n := copy(t.buf, t.buf[t.pos:])
		t.buf = t.buf[:n]
		t.base += int64(t.pos)
		t.pos = 0
	}
	return nil
}

// analyse runs YIN on one span of samples.
func (t *PitchTracker) analyse(in []float64) PitchFrame {
	centre := t.base + int64(t.pos) + int64(t.span/2)
	f := PitchFrame{
		Index:        t.frames,
		Centre:       centre,
		Time:         t.start + float64(centre)/float64(t.rate),
		Aperiodicity: 1,
	}
	t.frames++
	var mean float64
	for _, v := range in {
		mean += v
	}
	mean /= float64(len(in))
	var energy float64
	for i, v := range in {
		t.x[i] = v - mean
		energy += t.x[i] * t.x[i]
	}
	f.Span = t.x
	f.LevelDB = 10 * math.Log10(energy/float64(len(in))+1e-12)
	if f.LevelDB < t.cfg.MinLevelDB {
		return f
	}
	// Decimated analysis signal.
	xd := t.xd
	if t.dec == 1 {
		copy(xd, t.x)
	} else {
		for i := range xd {
			c := t.margin + t.dec*i
			var s float64
			for k, h := range t.taps {
				s += h * t.x[c+k-t.margin]
			}
			xd[i] = s
		}
	}
	// Cross-correlation r(τ) = Σ_{j<W} x_j x_{j+τ}, summed directly: at
	// W = 200 and τ ≤ 135 (8 kHz) that is 3.5 times faster than the three
	// 512-point FFTs that compute it for every τ.
	crossCorrelate(t.r, xd, t.win)
	t.cum[0] = 0
	for i, v := range xd {
		t.cum[i+1] = t.cum[i] + v*v
	}
	e0 := t.cum[t.win]
	if e0 <= 0 {
		return f
	}
	diff := func(tau int) float64 {
		d := e0 + t.cum[tau+t.win] - t.cum[tau] - 2*t.r[tau]
		return math.Max(d, 0)
	}
	// Cumulative mean normalised difference d'(τ).
	t.cmn[0] = 1
	var run float64
	for tau := 1; tau <= t.tauMax; tau++ {
		d := diff(tau)
		run += d
		if run <= 0 {
			t.cmn[tau] = 1
		} else {
			t.cmn[tau] = d * float64(tau) / run
		}
	}
	best := -1
	for tau := t.tauMin; tau <= t.tauMax; tau++ {
		if t.cmn[tau] < t.cfg.Threshold {
			for tau+1 <= t.tauMax && t.cmn[tau+1] < t.cmn[tau] {
				tau++
			}
			best = tau
			break
		}
	}
	if best < 0 {
		// No dip below the threshold: take the first local minimum nearly
		// as deep as the deepest one, so that a weak true period is not
		// lost to a slightly deeper dip at twice the period (the
		// octave-too-low error of breathy or high voices).
		glob := t.tauMin
		for tau := t.tauMin + 1; tau <= t.tauMax; tau++ {
			if t.cmn[tau] < t.cmn[glob] {
				glob = tau
			}
		}
		best = glob
		limit := t.cmn[glob]*1.25 + 0.02
		for tau := t.tauMin + 1; tau < glob; tau++ {
			if t.cmn[tau] <= limit && t.cmn[tau] <= t.cmn[tau-1] && t.cmn[tau] <= t.cmn[tau+1] {
				best = tau
				break
			}
		}
	}
	f.Aperiodicity = t.cmn[best]
	guess := float64(best)
	if best < t.tauMax {
		d0, d1, d2 := diff(best-1), diff(best), diff(best+1)
		if den := d0 - 2*d1 + d2; den > 0 {
			if off := 0.5 * (d0 - d2) / den; math.Abs(off) < 1 {
				guess += off
			}
		}
	}
	period, corr := t.refine(float64(t.dec) * guess)
	f.F0 = float64(t.rate) / period
	f.Correlation = corr
	f.Voiced = f.Aperiodicity < t.cfg.VoicingThreshold && f.F0 >= t.cfg.MinF0 && f.F0 <= t.cfg.MaxF0
	return f
}

// refine finds the period near guess (full-rate samples) as the minimum of
// the full-band difference function, with parabolic interpolation, and
// returns it with the normalised correlation at that lag.
func (t *PitchTracker) refine(guess float64) (float64, float64) {
	m, w := t.margin, t.dec*t.win
	x := t.x
	diff := func(tau int) (float64, float64) {
		var d, e1, e2 float64
		for j := m; j < m+w; j++ {
			a, b := x[j], x[j+tau]
			d += (a - b) * (a - b)
			e1 += a * a
			e2 += b * b
		}
		return d, e1 + e2
	}
	c := int(math.Round(guess))
	lo, hi := max(2, c-1), min(len(x)-m-w-2, c+1)
	best, bestD, bestE := c, math.Inf(1), 0.0
	for tau := lo; tau <= hi; tau++ {
		if d, e := diff(tau); d < bestD {
			best, bestD, bestE = tau, d, e
		}
	}
	period := float64(best)
	if best > 2 && best+1 < len(x)-m-w {
		d0, _ := diff(best - 1)
		d2, _ := diff(best + 1)
		if den := d0 - 2*bestD + d2; den > 0 {
			if off := 0.5 * (d0 - d2) / den; math.Abs(off) < 1 {
				period += off
			}
		}
	}
	corr := 0.0
	if bestE > 0 {
		corr = 1 - bestD/bestE
	}
	return period, corr
}

// crossCorrelate sets r[τ] = Σ_{j<win} x[j]·x[j+τ] for every τ < len(r);
// x must hold win+len(r)-1 samples. Four partial sums keep the loop from
// waiting on each addition.
func crossCorrelate(r, x []float64, win int) {
	head := x[:win]
	for tau := range r {
		y := x[tau : tau+win]
		var s0, s1, s2, s3 float64
		j := 0
		for ; j+4 <= win; j += 4 {
			s0 += head[j] * y[j]
			s1 += head[j+1] * y[j+1]
			s2 += head[j+2] * y[j+2]
			s3 += head[j+3] * y[j+3]
		}
		for ; j < win; j++ {
			s0 += head[j] * y[j]
		}
		r[tau] = (s0 + s1) + (s2 + s3)
	}
}
