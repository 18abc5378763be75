package detectors

import (
	"fmt"
	"math"

	"github.com/bonafide-dev/bonafide/media"
)

// BandLimitSignal is the name of the band-limit cliff signal.
const BandLimitSignal = "audio.bandlimit"

// BandLimit looks for a resampling cliff in the voice's long-term spectrum:
// speech generated at 16, 22.05 or 24 kHz (most TTS engines and voice
// converters) and resampled to the channel's rate keeps no energy above
// the generator's Nyquist frequency, and the resampler's brick-wall filter
// drops tens of dB within a few hundred hertz, while the channel itself
// could carry much more.
//
// Because real channels band-limit real voices too (telephone and
// wideband calls, natively 16-kHz recordings, Opus super-wideband, codec
// low-pass filters), the detector is deliberately conservative. It
// measures three things on the spectrum averaged over speech frames:
//
//   - the band edge: the highest frequency that still carries speech
//     energy and above which nothing comes back;
//   - the depth of the drop across that edge (±400–1500 Hz): a microphone's
//     roll-off loses a few dB there, a resampler 30–60 dB;
//   - the emptiness above it: how far below the speech band the rest of the
//     channel up to Nyquist lies; a real channel keeps some noise up there.
//
// A sharp, empty cliff is then weighted by how implausible its frequency
// is as a channel band edge (see channelPlausibility): a cliff at 8 kHz is
// what every 16-kHz call looks like and scores low, one at 11 kHz (a
// 22.05-kHz generator) or at an odd frequency left by pitch shifting scores
// high. It needs the full-band stream (Rate 0) of at least 22.05 kHz.
type BandLimit struct {
	rate    int
	started bool
	start   float64 // seconds, time of the first sample
	st      *chSTFT
	vad     *VAD
	speech  bool // latest VAD decision

	sum    []float64 // power summed over speech frames
	nSum   int
	win    []float64 // the same for the current timeline window
	nWin   int
	winIdx int

	frameSec float64
	windows  []Finding
}

// NewBandLimit returns the band-limit cliff detector.
func NewBandLimit() *BandLimit { return &BandLimit{} }

// Name implements AudioDetector.
func (d *BandLimit) Name() string { return BandLimitSignal }

// Rate implements AudioDetector: the source's own full band.
func (d *BandLimit) Rate() int { return 0 }

const (
	// bandLimitMinRate is the lowest channel rate worth examining: below
	// it no common generator rate leaves room for a cliff.
	bandLimitMinRate = 22050
	// bandLimitMinSpeech is the least speech (s) for a summary; a window
	// needs bandLimitWinSpeech.
	bandLimitMinSpeech = 1.5
	bandLimitWinSpeech = 1.0
	// bandLimitQuietDB: frames quieter than this are not used even when
	// the VAD calls them speech.
	bandLimitQuietDB = -70.0
)

// ObserveAudio implements AudioDetector.
func (d *BandLimit) ObserveAudio(c media.Chunk) error {
	if !d.started {
		d.started = true
		d.rate = c.Rate
		d.start = c.Start.Seconds()
		if d.rate < bandLimitMinRate {
			return nil
		}
		// About 40 ms frames (2048 samples at 44.1/48 kHz: 23-Hz bins)
		// with half overlap.
		n := chNextPow2(int(float64(d.rate) * 0.04))
		d.st = newChSTFT(n, n/2)
		d.vad = NewVAD(d.rate)
		d.sum = make([]float64, n/2+1)
		d.win = make([]float64, n/2+1)
		d.frameSec = float64(n/2) / float64(d.rate)
	}
	if d.st == nil {
		return nil
	}
	// Feed the VAD and the frames in hop-sized pieces so that each frame's
	// speech decision is at most one hop old.
	s := c.Samples
	for len(s) > 0 {
		k := min(d.st.hop, len(s))
		d.vad.Push(s[:k], func(f VADFrame) { d.speech = f.Speech })
		d.st.push(s[:k], d.frame)
		s = s[k:]
	}
	return nil
}

func (d *BandLimit) frame(f chFrame) {
	t := d.start + float64(f.Start)/float64(d.rate)
	if w := windowOf(t); w != d.winIdx {
		d.flushWindow()
		d.winIdx = w
	}
	if !d.speech || f.RMSdB < bandLimitQuietDB {
		return
	}
	for k, p := range f.Power {
		d.sum[k] += p
		d.win[k] += p
	}
	d.nSum++
	d.nWin++
}

func (d *BandLimit) flushWindow() {
	if sec := float64(d.nWin) * d.frameSec; sec >= bandLimitWinSpeech {
		c := analyseChCliff(d.win, d.nWin, float64(d.rate))
		start := float64(d.winIdx) * WindowSeconds
		d.windows = append(d.windows, d.finding(c, sec, start, start+WindowSeconds))
	}
	clear(d.win)
	d.nWin = 0
}

// Finish implements AudioDetector.
func (d *BandLimit) Finish() Result {
	switch {
	case !d.started:
		return NotMeasured(d.Name(), Audio, "no audio could be decoded")
	case d.rate < bandLimitMinRate:
		return NotMeasured(d.Name(), Audio, fmt.Sprintf(
			"the audio is sampled at %.1f kHz, too narrow a channel to look for a resampling cliff (needs at least %.2f kHz)",
			float64(d.rate)/1000, bandLimitMinRate/1000.0))
	}
	d.flushWindow()
	sec := float64(d.nSum) * d.frameSec
	if d.nSum == 0 {
		return NotMeasured(d.Name(), Audio, "no speech found (silence or noise only)")
	}
	if sec < bandLimitMinSpeech {
		return NotMeasured(d.Name(), Audio, fmt.Sprintf("only %.1f s of speech, at least %.1f s needed", sec, bandLimitMinSpeech))
	}
	c := analyseChCliff(d.sum, d.nSum, float64(d.rate))
	end := d.start + float64(d.st.start)/float64(d.rate)
	sum := d.finding(c, sec, d.start, end)
	return Result{Signal: d.Name(), Modality: Audio, Summary: &sum, Windows: d.windows}
}

func (d *BandLimit) finding(c chCliff, speechSec, start, end float64) Finding {
	conf := chClamp01(speechSec / 8)
	switch {
	case !c.Found:
		conf *= 0.8 // a cliff above the generator's rate would be invisible
	case c.Plausibility > 0.5:
		conf *= 0.5 // the channel's own edge hides anything below it
	}
	return Finding{
		Signal:     d.Name(),
		Modality:   Audio,
		Start:      start,
		End:        end,
		Score:      round3(c.Score),
		Confidence: round3(conf),
		Values: []Measurement{
			{Name: "band_edge", Value: round3(c.EdgeHz / 1000), Unit: "kHz"},
			{Name: "channel_nyquist", Value: round3(c.NyquistHz / 1000), Unit: "kHz"},
			M("edge_drop", round3(c.DepthDB), "dB", 0, cliffDepthMid),
			M("emptiness_above_edge", round3(c.EmptinessDB), "dB", 0, cliffEmptyMid),
			{Name: "channel_plausibility", Value: round3(c.Plausibility)},
		},
		Explanation: c.explain(),
	}
}

// Close implements AudioDetector. It holds nothing and is idempotent.
func (d *BandLimit) Close() error { return nil }

// chCliff is the band-limit analysis of one averaged spectrum.
type chCliff struct {
	Found        bool    // a sharp edge well below Nyquist
	EdgeHz       float64 // band edge (or the highest frequency with energy)
	NyquistHz    float64
	DepthDB      float64 // drop across the edge
	EmptinessDB  float64 // speech band level minus the level above the edge
	Plausibility float64 // 0…1, how usual the edge is for a real channel
	Cliffness    float64 // 0…1, how resampler-like the edge is
	Score        float64
}

const (
	// cliffContentDB: the band just below an edge must be within this of
	// the speech band (0.2–4 kHz), so that the edge bounds the voice and
	// not a codec's residual noise above it.
	cliffContentDB = 65.0
	// cliffClearDB: nothing above the edge may come back to within this
	// of the band just below it.
	cliffClearDB = 20.0
	// cliffDepthMid and cliffEmptyMid centre the logistic maps. Across
	// ±(400–1500) Hz a microphone's roll-off loses a few dB (a one-pole
	// low-pass: ~3 dB) and a real channel keeps a floor 40–80 dB below the
	// speech band; a resampler drops 30–70 dB (ffmpeg's default ~32 dB,
	// sox -v ~60 dB) to the 16-bit dither floor 80–100 dB down (synthetic
	// tests and the dev bandlimit items). Codec low-pass filters can be as
	// sharp as a resampler: channelPlausibility, not depth, excuses them.
	cliffDepthMid   = 20.0
	cliffDepthScale = 3.0
	cliffEmptyMid   = 65.0
	cliffEmptyScale = 5.0
	// cliffInnerHz and cliffOuterHz bound the bands compared on either
	// side of a candidate cliff.
	cliffInnerHz = 400.0
	cliffOuterHz = 1500.0
	// cliffMaxEdge: an edge above this fraction of Nyquist is the
	// channel's own anti-alias filter, not a cliff below it.
	cliffMaxEdge = 0.9
)

// analyseCliff finds the band edge in the mean of n summed power spectra.
func analyseChCliff(sum []float64, n int, rate float64) chCliff {
	bins := len(sum) - 1
	binHz := rate / 2 / float64(bins)
	mean := make([]float64, len(sum))
	for k, p := range sum {
		mean[k] = p / float64(max(n, 1))
	}
	sp := newChSpectrum(mean, binHz)
	nyq := rate / 2
	c := chCliff{NyquistHz: nyq}
	ref := sp.bandDB(200, 4000)
	top := 0.98 * nyq
	// Smoothed level (200-Hz bands) on the bin grid and its running
	// maximum from the top down: what comes back above a frequency.
	lvl := make([]float64, bins+1)
	for k := range lvl {
		f := float64(k) * binHz
		lvl[k] = sp.bandDB(f-100, f+100)
	}
	above := make([]float64, bins+2)
	above[bins+1] = chFloorDB
	for k := bins; k >= 0; k-- {
		above[k] = above[k+1]
		if float64(k)*binHz <= top {
			above[k] = math.Max(above[k], lvl[k])
		}
	}
	// The cliff is where the drop across ±(400–1500) Hz is largest, with
	// speech energy below it and nothing coming back above it. The span
	// is wide enough for resamplers with a soft transition band (ffmpeg's
	// default rolls off over ~2 kHz) and narrow enough that a microphone's
	// roll-off loses only a few dB across it.
	best := 0.0
	for k := 1; k <= bins; k++ {
		f := float64(k) * binHz
		if f < 2000 || f+cliffOuterHz > top {
			continue
		}
		below := sp.bandDB(f-cliffOuterHz, f-cliffInnerHz)
		if below < ref-cliffContentDB {
			continue
		}
		kUp := int(math.Ceil((f + cliffInnerHz) / binHz))
		if kUp > bins || above[kUp] > below-cliffClearDB {
			continue
		}
		if depth := below - sp.bandDB(f+cliffInnerHz, f+cliffOuterHz); depth > best {
			best, c.EdgeHz = depth, f
		}
	}
	if c.EdgeHz > 0 {
		// The edge proper: where the level first falls 12 dB under the
		// pass band before the cliff (the generator's Nyquist frequency,
		// before a soft resampler's transition band and images).
		pass := sp.bandDB(c.EdgeHz-2*cliffOuterHz, c.EdgeHz-cliffOuterHz)
		for k := int((c.EdgeHz - cliffOuterHz) / binHz); k <= bins; k++ {
			if lvl[k] < pass-12 {
				c.EdgeHz = float64(k) * binHz
				break
			}
		}
	}
	if c.EdgeHz == 0 || c.EdgeHz > cliffMaxEdge*nyq {
		// No edge below Nyquist: report how far the voice's energy reaches.
		c.Found = false
		c.EdgeHz = 0
		for k := bins; k >= 0; k-- {
			if float64(k)*binHz <= top && lvl[k] >= ref-cliffContentDB {
				c.EdgeHz = float64(k) * binHz
				break
			}
		}
		c.Plausibility = 1
		c.Score = 0.05
		c.DepthDB = math.Max(0, best)
		c.EmptinessDB = math.Max(0, ref-sp.bandDB(math.Min(c.EdgeHz+300, top), top))
		return c
	}
	c.Found = true
	c.DepthDB = best
	c.EmptinessDB = ref - sp.bandDB(c.EdgeHz+300, top)
	c.Cliffness = chLogistic(c.DepthDB, cliffDepthMid, cliffDepthScale) * chLogistic(c.EmptinessDB, cliffEmptyMid, cliffEmptyScale)
	c.Plausibility = channelPlausibility(c.EdgeHz)
	c.Score = 0.05 + 0.9*c.Cliffness*(1-c.Plausibility)
	return c
}

// channelEdges are the band edges of common voice channels, from codec
// and telephony standards rather than from the dev set. A cliff inside one
// of these ranges is explained by the channel.
var channelEdges = []struct{ lo, hi, weight float64 }{
	// Narrowband telephony (G.711, GSM, AMR-NB, Opus NB: 3.4–4 kHz). The
	// edge read off the averaged spectrum spreads beyond that: a voice
	// with little energy near 3.4 kHz puts it lower, and the upsampler's
	// transition band from 8 to 48 kHz puts it higher. Genuine dev voices
	// through G.711 μ-law, GSM 06.10, Opus NB at 12 kbit/s and Opus at 8
	// kbit/s, resampled back to 48 kHz by ffmpeg, read 2.6–4.52 kHz
	// (docs/detectors-voice-channel.md, "Telephone channels"). A
	// generator run at 8 kHz cannot be told from a telephone line by its
	// edge anyway.
	{2400, 4800, 1},
	// Wideband: AMR-WB (6.4–7 kHz), G.722 (7 kHz), 16-kHz recordings,
	// meeting bots and Opus WB (8 kHz), and the low-pass of MP3/AAC at
	// low bit rates (5.5–8.7 kHz; genuine dev items encoded as MP3 at
	// 22.05/24 kHz cut at 8.44 kHz, ffmpeg's AAC at 24 kbit/s at 8.7 kHz).
	// Opus's CELT layer codes bands with edges at 8, 9.6, 12, 15.6 and
	// 20 kHz and fills a band it codes but the source left empty by
	// folding, so a 16-kHz voice (8-kHz edge) sent through Opus at call
	// bit rates ends at 9.0–9.9 kHz (measured: libopus at 12 and 32
	// kbit/s on the dev genuine 16-kHz recordings, docs/evaluation.md);
	// the range ends at 10.1 kHz so that 9.9 kHz is not on its shoulder.
	// One range: two ranges meeting at 8.7 kHz left a dip of plausibility
	// 0.5 at their junction, where AAC at 24 kbit/s puts its edge.
	// Band-limited voices in calls must not look like generators. An
	// upward pitch shift of a 16-kHz voice can land here too and is no
	// longer seen. The upper end stays below the 10.3–11 kHz where a
	// 22.05-kHz generator's cliff lands.
	{5300, 10100, 1},
	// Opus super-wideband (12 kHz); also where 24-kHz generators cut, so
	// it is not fully excused.
	{11650, 12350, 0.8},
	// Full-band codecs' low-pass filters (AAC, MP3 at 13–20 kHz, Opus
	// FB 20 kHz). Not lower: a 24-kHz generator resampled by ffmpeg's
	// default resampler reads 12.3–12.7 kHz (its images push the edge
	// above 12 kHz), and so do pitch-shifted voices after AAC. A noise
	// suppressor applied after an AAC recording's 13.1-kHz low-pass moves
	// that edge down into the same 12.5–12.9 kHz and is then taken for a
	// generator (docs/detectors-voice-channel.md, "Noise suppression (a
	// known false alarm)").
	{12800, math.Inf(1), 1},
}

// channelPlausibility returns 0…1: how well a band edge at f is explained
// by a real channel. The ranges have 60-Hz logistic shoulders.
func channelPlausibility(f float64) float64 {
	p := 0.0
	for _, e := range channelEdges {
		v := e.weight * chLogistic(f, e.lo, 60)
		if !math.IsInf(e.hi, 1) {
			v *= chLogistic(f, e.hi, -60)
		}
		p = math.Max(p, v)
	}
	return p
}

func (c chCliff) explain() string {
	ny := c.NyquistHz / 1000
	switch {
	case !c.Found:
		return fmt.Sprintf("The voice's energy reaches %.1f kHz and fades out gradually below the channel's %.1f kHz limit, as with a real microphone; no resampling cliff was found.",
			c.EdgeHz/1000, ny)
	case c.Cliffness < 0.5:
		return fmt.Sprintf("The voice's energy falls off at %.1f kHz, but gradually (%.0f dB drop) and with some noise above, as a microphone or codec does; this does not suggest resampled synthetic speech.",
			c.EdgeHz/1000, c.DepthDB)
	case c.Plausibility >= 0.5:
		return fmt.Sprintf("The voice's energy stops sharply at %.1f kHz (%.0f dB drop), which is a usual band edge of call audio and recordings, so it says little either way.",
			c.EdgeHz/1000, c.DepthDB)
	default:
		return fmt.Sprintf("The voice's energy stops abruptly at %.1f kHz (%.0f dB drop, almost nothing above) although the channel carries up to %.1f kHz; such a cliff is typical of speech generated at a lower sample rate and resampled, and is not a usual call-channel band edge.",
			c.EdgeHz/1000, c.DepthDB, ny)
	}
}
