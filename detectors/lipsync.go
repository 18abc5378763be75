package detectors

import (
	"fmt"
	"image"
	"math"
	"runtime"
	"sort"
	"sync"

	"gocv.io/x/gocv"
	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"

	"github.com/bonafide-dev/bonafide/media"
)

// LipSyncSignal is the name of the lip-sync signal.
const LipSyncSignal = "av.lipsync"

// Lip-sync parameters. The detector asks how well the appearance of the
// mouth predicts the loudness of the voice, and at which audio delay.
const (
	lsHop       = 0.010 // audio envelope hop, seconds
	lsCropW     = 12    // mouth crop size after resizing, pixels
	lsCropH     = 10
	lsMinFace   = 80   // face box height needed to see the mouth, pixels
	lsMinFPS    = 7.0  // analysis frames per second needed
	lsWindow    = 10.0 // analysis window, seconds
	lsWinHop    = 5.0  // analysis windows start every lsWinHop seconds
	lsSpeechPad = 0.2  // a frame counts as speaking when the VAD says speech within this many seconds
	lsMaxFrames = 200  // frames per window used at most (evenly thinned)
	// lsLead is the natural lead of visible articulation over the sound:
	// the mouth opens and shapes a syllable before its acoustic energy
	// peaks (Chandrasekaran et al. 2009 report 100–300 ms at onsets; the
	// appearance-to-envelope regression used here peaks at a median raw
	// lag of about +165 ms on the dev corpus's genuine talking heads).
	// Delays are reported relative to it, so 0 means natural sync.
	lsLead = 0.150
	// Delay search range relative to natural sync, seconds.
	lsLagMin  = -0.5
	lsLagMax  = 0.5
	lsLagStep = 0.010
	// A mouth crop that hardly changes while the voice speaks is not a
	// talking mouth: the mouth is covered or out of the picture, or the
	// face found is not the speaker's (a false detection; a face whose
	// forehead the picture cuts off can give one). The change is the mean
	// absolute difference of consecutive normalised crops (frames at most
	// lsMotionGap apart, both while the voice speaks, so that a candidate
	// who mostly listens is not taken for a still mouth). Below
	// lsMinMouthMotion, its median over the recording (with at least
	// lsMinMotionPairs pairs), the absence of sync is no evidence of a
	// foreign voice, and lip sync is not measured. Dev figures in
	// docs/detectors-av.md.
	lsMinMouthMotion = 0.15
	lsMinMotionPairs = 20
	lsMotionGap      = 0.21 // s: 1.5 frames at the lowest rate accepted
	lsMotionBin      = 0.01
	lsMotionBins     = 300
	// lsMinSpeechFace is the speech time with a usable face the whole
	// recording needs, and lsMinWindowSpeech what one window needs.
	lsMinSpeechFace   = 4.0
	lsMinWindowSpeech = 3.0
	// lsEnvFloorDB clips the envelope this far below the window's peak so
	// that silence and noise do not dominate the regression target.
	lsEnvFloorDB = 45.0
	// The loudness envelope is measured in the band where the lips shape
	// the spectrum most (second-formant region, Grant & Seitz 2000;
	// Chandrasekaran et al. 2009), which also keeps hum, bass and rumble
	// out of it.
	lsBandLo = 800.0  // Hz
	lsBandHi = 3000.0 // Hz
	// lsMaxAhead bounds how far (seconds of media time) the audio track may
	// run ahead of the video before new audio is dropped and counted: the
	// audio decodes much faster than the video, and memory must stay
	// bounded (4 h of the audio track is about 6.5 MB). lsMaxVideoAhead
	// does the same for the video track (30 min of it is about 2.5 MB),
	// which only runs ahead when the audio is missing or stalls.
	lsMaxAhead      = 4 * 3600.0
	lsMaxVideoAhead = 30 * 60.0
)

// lsSurrogateShifts are the circular shifts, as fractions of a window's
// audio span, that make the surrogate (deliberately misaligned) pairs: the
// same mouth and the same voice, far out of sync. Their best correlations
// say how high a correlation arises by chance for this window's data.
//
// Read-only.
var lsSurrogateShifts = [...]float64{0.2, 0.24, 0.28, 0.32, 0.36, 0.4, 0.44, 0.48, 0.52, 0.56, 0.6, 0.64, 0.68, 0.72, 0.76, 0.8}

// Score mapping (see scoreLipSync).
const (
	// A matching voice gives z ≈ lsGenuineZ·√(speech/lsGenuineZRef): about
	// 2.5 for the 5–7 s of speech of the dev corpus's genuine clips, 4.9
	// for its one 26-s clip. A voice that does not belong to the face gives
	// z ≈ 0 with a spread of about lsNullZSD (measured on independent
	// synthetic mouth/voice pairs).
	lsGenuineZ    = 2.5
	lsGenuineZRef = 6.0 // s
	// lsEvidenceSpeech is the most speech a score weighs: beyond it z is
	// scaled to that much speech (z·√(lsEvidenceSpeech/speech), the sync
	// strength of the whole recording at the length of the clips the
	// fusion model learnt from: 4–9 s of speech but one) and the
	// expectation is that of lsEvidenceSpeech. Counted whole, chance-level
	// sync over a long interview scored about 0.99 where the same
	// recording's first 7 s scored 0.5–0.7, and 5 of the 35 dev clips lip
	// sync measures are genuine at chance level (a badly muxed source, a
	// small mouth).
	lsEvidenceSpeech = 10.0 // s
	lsNullZSD        = 1.5
	lsPriorOdds      = 0.25 // prior odds of a foreign voice against a matching one
	lsTrustMid       = 1.5  // z above which the measured delay is trusted
	lsTrustSc        = 0.4  // logistic scale of that trust
	lsDelayMid       = 0.23 // |delay| (s) that scores 0.5
	lsDelaySc        = 0.03 // logistic scale of the delay score (s)
	lsZSDFloor       = 0.05 // floor of the surrogate spread used for z
	lsNormalLag      = 0.15 // |delay| (s) within which most genuine dev items fall
	// A delay is only evidence when each half of the frames, measured on
	// its own, prefers it to natural sync (see lsEstimate.replication):
	// with a few seconds of speech the curve has side peaks about a
	// syllable (350–450 ms) from natural sync, and which one wins changed
	// with the encoding of genuine recordings. lsSyncBand is natural
	// sync's reach (±45 ms, plus rounding), lsReplMid the margin in
	// surrogate spreads that halves the delay evidence, lsReplSc its
	// logistic scale. docs/detectors-av.md, "Delay replication".
	lsSyncBand = 0.05
	lsReplMid  = 1.0
	lsReplSc   = 0.25
)

// lsFrame is the compact per-frame video track: time and a small mouth crop.
type lsFrame struct {
	t    float64
	crop [lsCropW * lsCropH]uint8
}

// LipSync is the audio-visual lip-sync detector (signal av.lipsync). It
// regresses the voice's loudness envelope on the mouth's appearance (a
// 12×10 crop of detectors.RegionMouth, normalised per frame) in 10-s
// windows, with cross-validation, at every audio delay in ±500 ms, and
// compares the best correlation with deliberately misaligned (surrogate)
// pairs of the same window. A clear peak near natural sync is genuine; a
// clear peak at a steady delay of 100–300 ms suggests voice processing
// latency; no peak above chance while the person speaks suggests the voice
// does not belong to the face.
//
// Observe (video goroutine) and ObserveAudio (audio goroutine) may run at
// the same time. Each keeps its own side's state and appends compact
// time-stamped tracks to shared buffers under mu; windows are computed as
// soon as both tracks cover them, so memory is bounded by the window length
// plus how far one decoder runs ahead of the other (capped at lsMaxAhead,
// beyond which data is dropped and counted).
type LipSync struct {
	// Video side: used only by Observe (and Close).
	vmu     sync.Mutex
	small   gocv.Mat
	closed  bool
	vFrames int // frames seen
	vFaces  int // frames with a usable face
	vSmall  int // frames whose face was too small
	vFirstT float64
	vLastT  float64

	// Audio side: used only by ObserveAudio.
	vad      *VAD
	aStarted bool
	aPartial []float32 // samples of the current hop
	aFrame   []float64 // previous and current hop, windowed for the FFT
	aHann    []float64 // Hann window of len(aFrame)
	aBuf     []float64 // windowed frame
	aFFT     *fourier.FFT
	aCoef    []complex128

	mu            sync.Mutex // guards everything below
	maxAhead      float64    // lsMaxAhead; fields so that tests can lower them
	maxVideoAhead float64    // lsMaxVideoAhead
	tr            lsTracks
	// Results.
	windows  []Finding
	acc      lsAccum
	finished bool
	result   Result
}

// lsTracks holds the shared compact tracks and the window schedule.
type lsTracks struct {
	frames   []lsFrame
	videoEnd float64 // time of the last frame appended
	videoAny bool
	// motion counts the mouth crop's change between consecutive frames
	// while the voice speaks (see lsMinMouthMotion), in the windows kept;
	// unjudged those of windows with too few pairs for their own gate.
	motion, unjudged lsMotionHist

	aStart  float64   // time of audio hop 0
	hopBase int       // absolute index of rms[0]
	rms     []float32 // per-hop RMS
	vadBase int       // absolute index of speech[0]
	speech  []bool    // per 20-ms VAD frame
	hops    int       // absolute hops seen (stored or dropped)
	audioOK bool
	cut     bool // audio ran too far ahead: later audio is dropped

	nextWin   int // index of the next window to compute
	dropped   float64
	speechFS  float64 // seconds of speech with a usable face
	countedTo float64 // speechFS counts frames before this time
	measured  int     // windows measured
	// stillWindows counts windows left out because the mouth hardly
	// moved while the voice spoke.
	stillWindows int
}

// lsAccum accumulates window lag curves for the whole-recording estimate.
type lsAccum struct {
	weight float64
	curve  []float64 // Σ w·c(τ)
	// half pools the curves of the windows' halves: Σ (w/2)·c(τ) over the
	// halves in each pool, halfW their weights. Window k's first half
	// (about the 5-s block k of the recording) goes to pool k mod 2, its
	// second half (block k+1) to pool (k+1) mod 2: with windows every 5 s
	// the two pools hold alternate 5-s blocks, so that they do not share
	// frames, as the two halves of one window do not.
	half  [2][]float64
	halfW [2]float64
	surr  [][]float64 // Σ w·c_s(τ) per surrogate shift
}

// NewLipSync returns the lip-sync detector.
func NewLipSync() *LipSync {
	n := 2 * int(lsHop*media.VoiceRate)
	hann := make([]float64, n)
	for i := range hann {
		hann[i] = 1
	}
	return &LipSync{
		small:         gocv.NewMat(),
		maxAhead:      lsMaxAhead,
		maxVideoAhead: lsMaxVideoAhead,
		vad:           NewVAD(media.VoiceRate),
		vFirstT:       -1,
		aFrame:        make([]float64, n),
		aHann:         window.Hann(hann),
		aBuf:          make([]float64, n),
		aFFT:          fourier.NewFFT(n),
	}
}

// Name implements AVDetector.
func (d *LipSync) Name() string { return LipSyncSignal }

// Observe implements AVDetector: it crops the primary face's mouth and
// appends it to the video track.
func (d *LipSync) Observe(f *VideoFrame) error {
	d.vmu.Lock()
	defer d.vmu.Unlock()
	if d.closed {
		return nil
	}
	d.vFrames++
	if d.vFirstT < 0 {
		d.vFirstT = f.Time
	}
	d.vLastT = f.Time
	fr := lsFrame{t: f.Time}
	ok := false
	if face, has := f.Primary(); has && !face.Profile && !f.Gray.Empty() {
		if face.Rect.Dy() < lsMinFace {
			d.vSmall++
		} else {
			bounds := image.Rect(0, 0, f.Gray.Cols(), f.Gray.Rows())
			r := Grow(Sub(face.Whole(), RegionMouth, bounds), 0.1, bounds)
			if r.Dx() >= lsCropW && r.Dy() >= lsCropH {
				reg := f.Gray.Region(r)
				gocv.Resize(reg, &d.small, image.Pt(lsCropW, lsCropH), 0, 0, gocv.InterpolationArea)
				reg.Close()
				b, err := d.small.DataPtrUint8()
				if err != nil {
					return fmt.Errorf("lipsync: mouth crop: %w", err)
				}
				copy(fr.crop[:], b)
				ok = true
				d.vFaces++
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tr.videoAny = true
	d.tr.videoEnd = f.Time
	if ok {
		ahead := len(d.tr.frames) > 0 && f.Time-d.tr.frames[0].t > d.maxVideoAhead
		if d.tr.audioOK {
			ahead = f.Time-d.tr.audioEnd() > d.maxVideoAhead
		}
		if ahead {
			d.tr.dropped += 1 / math.Max(f.FPS, 1)
		} else {
			d.tr.frames = append(d.tr.frames, fr)
		}
	}
	d.processReady(false)
	return nil
}

// lsCropChange is the mean absolute difference of two frames' normalised
// mouth crops.
func lsCropChange(a, b *lsFrame) float64 {
	na, nb := lsNormCrop(&a.crop), lsNormCrop(&b.crop)
	var sum float64
	for i := range na {
		sum += math.Abs(na[i] - nb[i])
	}
	return sum / float64(len(na))
}

// lsMotionHist counts the mouth crop's frame-to-frame changes in bins of
// lsMotionBin, for their median without keeping every value.
type lsMotionHist struct {
	bins [lsMotionBins]int
	n    int
}

func (h *lsMotionHist) add(v float64) {
	h.bins[min(max(int(v/lsMotionBin), 0), lsMotionBins-1)]++
	h.n++
}

// median returns the middle change (the centre of its bin), 0 when empty.
func (h *lsMotionHist) median() float64 {
	c := 0
	for i, b := range h.bins {
		if c += b; 2*c >= h.n && h.n > 0 {
			return (float64(i) + 0.5) * lsMotionBin
		}
	}
	return 0
}

// ObserveAudio implements AVDetector: it adds 10-ms RMS values and VAD
// decisions to the audio track.
func (d *LipSync) ObserveAudio(c media.Chunk) error {
	if c.Rate != media.VoiceRate {
		return fmt.Errorf("lipsync: audio at %d Hz, want %d", c.Rate, media.VoiceRate)
	}
	hop := int(lsHop * media.VoiceRate)
	var rms []float32
	var speech []bool
	samples := c.Samples
	for len(samples) > 0 {
		n := min(hop-len(d.aPartial), len(samples))
		d.aPartial = append(d.aPartial, samples[:n]...)
		samples = samples[n:]
		if len(d.aPartial) < hop {
			break
		}
		rms = append(rms, float32(d.bandLevel()))
		d.vad.Push(d.aPartial, func(f VADFrame) { speech = append(speech, f.Speech) })
		d.aPartial = d.aPartial[:0]
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.aStarted {
		d.aStarted = true
		d.tr.aStart = c.Start.Seconds()
		d.tr.audioOK = true
	}
	if !d.tr.cut && d.tr.videoAny && d.tr.audioEnd()-d.tr.videoEnd > d.maxAhead {
		// From here on the audio is dropped (and counted): the track keeps
		// its timeline but stores nothing, so windows after this point are
		// not measured.
		d.tr.cut = true
	}
	if d.tr.cut {
		d.tr.dropped += float64(len(rms)) * lsHop
	} else {
		d.tr.rms = append(d.tr.rms, rms...)
		d.tr.speech = append(d.tr.speech, speech...)
	}
	d.tr.hops += len(rms)
	d.processReady(false)
	return nil
}

// bandLevel returns the RMS level in [lsBandLo, lsBandHi] of the last two
// hops (a 20-ms Hann-windowed frame ending with the hop in aPartial).
func (d *LipSync) bandLevel() float64 {
	hop := len(d.aPartial)
	copy(d.aFrame, d.aFrame[hop:])
	for i, v := range d.aPartial {
		d.aFrame[len(d.aFrame)-hop+i] = float64(v)
	}
	buf := d.aBuf
	for i, v := range d.aFrame {
		buf[i] = v * d.aHann[i]
	}
	d.aCoef = d.aFFT.Coefficients(d.aCoef, buf)
	var p float64
	for i, c := range d.aCoef {
		if f := d.aFFT.Freq(i) * media.VoiceRate; f >= lsBandLo && f <= lsBandHi {
			p += real(c)*real(c) + imag(c)*imag(c)
		}
	}
	return math.Sqrt(p) / float64(len(buf))
}

// audioEnd returns the time up to which the audio track is complete.
func (t *lsTracks) audioEnd() float64 { return t.aStart + float64(t.hops)*lsHop }

// speechAt reports whether the VAD heard speech within lsSpeechPad of t.
func (t *lsTracks) speechAt(tm float64) bool {
	vf := 2 * lsHop
	lo := int(math.Floor((tm-lsSpeechPad-t.aStart)/vf)) - t.vadBase
	hi := int(math.Floor((tm+lsSpeechPad-t.aStart)/vf)) - t.vadBase
	lo = max(lo, 0)
	hi = min(hi, len(t.speech)-1)
	for i := lo; i <= hi; i++ {
		if t.speech[i] {
			return true
		}
	}
	return false
}

// lsMargin is the track data kept before the next window's start: its
// envelope begins at the earliest delay searched (with the natural lead)
// minus the smoothing room, 0.45 s before it.
const lsMargin = 0.7

// lsEnvAfter is how far past a window's end its audio envelope reaches
// (the latest delay searched, plus smoothing room). A window waits for
// that much audio, so that its envelope, and with it the surrogate shifts
// and the chance level, never depend on how far the audio goroutine had
// got when the window was measured; only the last windows, at Finish, end
// where the audio ends.
const lsEnvAfter = lsLead + lsLagMax + 0.1

// processReady computes every window both tracks now cover; with final set
// it computes the remaining windows with whatever data there is. Called
// with mu held.
func (d *LipSync) processReady(final bool) {
	t := &d.tr
	for {
		start := float64(t.nextWin) * lsWinHop
		end := start + lsWindow
		if !final {
			if !t.videoAny || !t.audioOK || t.videoEnd < end || t.audioEnd() < end+lsEnvAfter {
				return
			}
		} else if (!t.videoAny || start >= t.videoEnd) || (!t.audioOK || start >= t.audioEnd()) {
			return
		}
		// At the end, a window that adds less than a second of new data
		// beyond the previous one would only repeat it.
		if final && t.nextWin > 0 && math.Min(t.videoEnd, t.audioEnd()) < start+lsWindow-lsWinHop+1 {
			return
		}
		d.computeWindow(start, end)
		t.nextWin++
		d.prune(float64(t.nextWin) * lsWinHop)
	}
}

// prune drops track data before the next window's start (minus margin).
func (d *LipSync) prune(next float64) {
	t := &d.tr
	keepFrom := next - lsMargin
	k := sort.Search(len(t.frames), func(i int) bool { return t.frames[i].t >= keepFrom })
	if k > 0 {
		t.frames = append(t.frames[:0:0], t.frames[k:]...)
	}
	h := int(math.Floor((keepFrom-t.aStart)/lsHop)) - t.hopBase
	if h > 0 && h <= len(t.rms) {
		t.rms = append(t.rms[:0:0], t.rms[h:]...)
		t.hopBase += h
	}
	v := int(math.Floor((keepFrom-t.aStart)/(2*lsHop))) - t.vadBase
	if v > 0 && v <= len(t.speech) {
		t.speech = append(t.speech[:0:0], t.speech[v:]...)
		t.vadBase += v
	}
}

// lsWindowResult is what one window measured.
type lsWindowResult struct {
	start, end float64
	speechFace float64 // seconds
	curve      []float64
	half       [2][]float64 // curve over each half of the frames
	index      int          // window number (its start is index·lsWinHop)
	surr       [][]float64
	weight     float64
	est        lsEstimate
}

// computeWindow measures the window [start, end). Called with mu held.
func (d *LipSync) computeWindow(start, end float64) {
	t := &d.tr
	// Frames of the window whose every lag falls inside the envelope.
	lagLo, lagHi := lsLead+lsLagMin, lsLead+lsLagMax
	env := d.envelope(math.Max(start+lagLo-0.1, t.aStart), math.Min(end+lsEnvAfter, t.audioEnd()))
	if len(env.v) < 10 {
		return
	}
	envEnd := env.t0 + float64(len(env.v))*lsHop
	var sel []*lsFrame
	for i := range t.frames {
		f := &t.frames[i]
		if f.t < start || f.t >= end {
			continue
		}
		if f.t+lagLo < env.t0+lsHop || f.t+lagHi > envEnd-lsHop {
			continue
		}
		sel = append(sel, f)
	}
	if len(sel) < 2 {
		return
	}
	// The window needs enough frames with speech nearby, but all its frames
	// with a face enter the regression: gating frames by the voice would
	// make the aligned pair differ from the surrogates (whose voice is
	// shifted) and bias the comparison; the pauses carry sync information
	// too (closed mouth, quiet voice).
	dt := lsMedianStep(sel)
	var speechFace, newSpeech float64
	var changes lsMotionHist
	var newChanges []float64
	var prev *lsFrame // the previous frame, when it was speaking
	for _, f := range sel {
		if !t.speechAt(f.t) {
			prev = nil
			continue
		}
		speechFace += dt
		fresh := f.t >= t.countedTo // windows overlap: count once
		if fresh {
			newSpeech += dt
		}
		if prev != nil && f.t-prev.t <= lsMotionGap {
			c := lsCropChange(prev, f)
			changes.add(c)
			if fresh {
				newChanges = append(newChanges, c)
			}
		}
		prev = f
	}
	// A window in which the mouth hardly moves while the voice speaks is
	// left out (see lsMinMouthMotion): in a conversation it is mostly the
	// other person speaking while the candidate listens, and counted, such
	// windows made a genuine candidate who listens a third of the time
	// "not measured" (the recording's median change fell below the gate)
	// or, below that, diluted the sync. Its speech is not counted either,
	// so the next window counts the part they share. A window with too few
	// pairs to judge is left to the recording-wide gate (t.unjudged).
	judged := changes.n >= lsMinMotionPairs
	if judged && changes.median() < lsMinMouthMotion {
		t.stillWindows++
		return
	}
	t.countedTo = end
	t.speechFS += newSpeech
	for _, c := range newChanges {
		t.motion.add(c)
		if !judged {
			t.unjudged.add(c)
		}
	}
	if speechFace < lsMinWindowSpeech || 1/dt < lsMinFPS {
		return
	}
	if len(sel) > lsMaxFrames {
		thin := make([]*lsFrame, 0, lsMaxFrames)
		for i := 0; i < lsMaxFrames; i++ {
			thin = append(thin, sel[i*len(sel)/lsMaxFrames])
		}
		sel = thin
	}
	x := make([][]float64, len(sel))
	times := make([]float64, len(sel))
	for i, f := range sel {
		x[i] = lsNormCrop(&f.crop)
		times[i] = f.t
	}
	ridge, err := newLSRidge(x)
	if err != nil {
		return
	}
	shifts := make([]int, 1+len(lsSurrogateShifts))
	for s, frac := range lsSurrogateShifts {
		shifts[1+s] = int(frac * float64(len(env.v)))
	}
	curves, half := lsCurves(ridge, env, times, shifts)
	curve, surr := curves[0], curves[1:]
	w := lsWindowResult{start: sel[0].t, end: sel[len(sel)-1].t + dt, speechFace: speechFace,
		curve: curve, half: half, index: t.nextWin, surr: surr, weight: speechFace}
	w.est = lsEvaluate(curve, half, surr)
	t.measured++
	d.acc.add(w)
	f := lsFinding(w.est, speechFace)
	f.Start, f.End = w.start, w.end
	d.windows = append(d.windows, f)
}

// envelope returns the smoothed dB loudness envelope over [lo, hi).
func (d *LipSync) envelope(lo, hi float64) lsEnvelope {
	t := &d.tr
	a := int(math.Floor((lo-t.aStart)/lsHop)) - t.hopBase
	b := int(math.Floor((hi-t.aStart)/lsHop)) - t.hopBase
	a = max(a, 0)
	b = min(b, len(t.rms))
	if b-a < 1 {
		return lsEnvelope{}
	}
	lin := make([]float64, b-a)
	for i := range lin {
		lin[i] = float64(t.rms[a+i])
	}
	lin = lsSmooth(lin, 5)
	peak := -200.0
	for i, v := range lin {
		lin[i] = 20 * math.Log10(v+1e-9)
		peak = math.Max(peak, lin[i])
	}
	for i, v := range lin {
		lin[i] = math.Max(v, peak-lsEnvFloorDB)
	}
	return lsEnvelope{t0: t.aStart + float64(t.hopBase+a)*lsHop, v: lsSmooth(lin, 5)}
}

// lsNumLags is the number of delays searched.
var lsNumLags = int(math.Round((lsLagMax-lsLagMin)/lsLagStep)) + 1

// lsCurves returns lsCurve for each of shifts, computed on up to
// GOMAXPROCS goroutines (each with its own scratch): the 17 curves of a
// window are most of the lip-sync cost, and on a short recording they are
// all computed at the end, when the other cores are idle. half holds the
// first shift's curve measured on the first and on the second half of the
// frames (see lsEstimate.replication).
func lsCurves(r *lsRidge, env lsEnvelope, times []float64, shifts []int) (out [][]float64, half [2][]float64) {
	out = make([][]float64, len(shifts))
	workers := min(runtime.GOMAXPROCS(0), len(shifts))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := r.withScratch()
			for i := w; i < len(shifts); i += workers {
				var h *[2][]float64
				if i == 0 {
					h = &half
				}
				out[i] = lsCurve(rr, env, times, shifts[i], h)
			}
		}()
	}
	wg.Wait()
	return out, half
}

// lsCurve returns the cross-validated correlation at every delay, with the
// envelope rotated by shift hops. With half set it also fills it with the
// correlations over the first and the second half of the frames (the same
// cross-validated predictions, scored on each half).
func lsCurve(r *lsRidge, env lsEnvelope, times []float64, shift int, half *[2][]float64) []float64 {
	out := make([]float64, lsNumLags)
	if half != nil {
		half[0], half[1] = make([]float64, lsNumLags), make([]float64, lsNumLags)
	}
	y := make([]float64, len(times))
	for li := range out {
		lag := lsLead + lsLagMin + float64(li)*lsLagStep
		for i, tm := range times {
			y[i], _ = env.at(tm+lag, shift) // frames were chosen inside the envelope
		}
		out[li] = r.cvCorr(y)
		if half != nil {
			h := len(y) / 2
			half[0][li] = lsPearson(r.pred[:h], y[:h])
			half[1][li] = lsPearson(r.pred[h:], y[h:])
		}
	}
	return out
}

// lsPeakTop is the depth of the top of a peak, as a fraction of the peak's
// height above the curve's median.
const lsPeakTop = 0.25

// lsMedian returns the median of x (x is not modified).
func lsMedian(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// lsEstimate is what a lag curve says.
type lsEstimate struct {
	lag      float64 // delay of the best peak, s, relative to natural sync
	peak     float64 // its cross-validated correlation
	z        float64 // its height against the surrogates' best peaks
	nullMean float64 // the surrogates' mean best peak (chance level)
	edge     bool    // the maximum is at an end of the search range
	// replication is the smaller of the two halves' margins: how much the
	// first (and the second) half of the frames, scored on its own,
	// correlates better at the best peak's arg-max than anywhere within
	// lsSyncBand of natural sync, in surrogate spreads (as z). For the
	// whole recording the halves are the two pools of alternate 5-s blocks
	// (lsAccum.half). A delay that only the two halves together favour,
	// or that one half places at natural sync, is not a measured delay.
	// It is ≤ 0 when the best peak lies at natural sync.
	replication float64
}

// lsEvaluate finds the best peak of curve and compares its height with the
// surrogate curves' best peaks. Curves are first smoothed over ±20 ms.
// Talking heads often give a flat-topped peak some 100–200 ms wide (the
// mouth's shape predicts the voice over a whole syllable), so the delay is
// the weighted centre of the top of the peak (the contiguous lags within
// lsPeakTop of the maximum, weighted by their height above that level)
// rather than its noisy arg-max; a single sharp peak reduces to parabolic
// interpolation around the maximum.
func lsEvaluate(curve []float64, half [2][]float64, surr [][]float64) lsEstimate {
	sm := lsSmooth(curve, 5)
	bi := 0
	for i, v := range sm {
		if v > sm[bi] {
			bi = i
		}
	}
	thr := sm[bi] - lsPeakTop*(sm[bi]-lsMedian(sm))
	lo, hi := bi, bi
	for lo > 0 && sm[lo-1] >= thr {
		lo--
	}
	for hi < len(sm)-1 && sm[hi+1] >= thr {
		hi++
	}
	var pos float64
	if lo == hi {
		off, _ := lsParabolic(sm, bi)
		pos = float64(bi) + off
	} else {
		var sw, swi float64
		for i := lo; i <= hi; i++ {
			w := sm[i] - thr
			sw += w
			swi += w * float64(i)
		}
		pos = swi / sw
	}
	e := lsEstimate{
		lag:  lsLagMin + pos*lsLagStep,
		peak: sm[bi],
		edge: bi == 0 || bi == len(sm)-1,
	}
	var peaks []float64
	for _, s := range surr {
		m := math.Inf(-1)
		for _, v := range lsSmooth(s, 5) {
			m = math.Max(m, v)
		}
		peaks = append(peaks, m)
	}
	var mean, ss float64
	for _, p := range peaks {
		mean += p
	}
	mean /= float64(len(peaks))
	for _, p := range peaks {
		ss += (p - mean) * (p - mean)
	}
	sd := math.Max(math.Sqrt(ss/float64(len(peaks))), lsZSDFloor)
	e.z, e.nullMean = (e.peak-mean)/sd, mean
	for k, h := range half {
		if len(h) != len(curve) {
			e.replication = 0 // no halves: nothing replicates the delay
			break
		}
		hs := lsSmooth(h, 5)
		near := math.Inf(-1)
		for i, v := range hs {
			if math.Abs(lsLagMin+float64(i)*lsLagStep) <= lsSyncBand+1e-9 {
				near = math.Max(near, v)
			}
		}
		if m := (hs[bi] - near) / sd; k == 0 || m < e.replication {
			e.replication = m
		}
	}
	return e
}

func (a *lsAccum) add(w lsWindowResult) {
	if a.curve == nil {
		a.curve = make([]float64, len(w.curve))
		a.half = [2][]float64{make([]float64, len(w.curve)), make([]float64, len(w.curve))}
		a.surr = make([][]float64, len(w.surr))
		for i := range a.surr {
			a.surr[i] = make([]float64, len(w.curve))
		}
	}
	a.weight += w.weight
	for i, v := range w.curve {
		a.curve[i] += w.weight * v
	}
	for j, h := range w.half {
		p := (w.index + j) % 2
		a.halfW[p] += w.weight / 2
		for i, v := range h {
			a.half[p][i] += w.weight / 2 * v
		}
	}
	for s := range w.surr {
		for i, v := range w.surr[s] {
			a.surr[s][i] += w.weight * v
		}
	}
}

// lsNormCrop returns the crop with its mean removed and divided by its
// standard deviation, so that lighting and exposure changes do not count.
func lsNormCrop(c *[lsCropW * lsCropH]uint8) []float64 {
	out := make([]float64, len(c))
	var m float64
	for i, v := range c {
		out[i] = float64(v)
		m += out[i]
	}
	m /= float64(len(out))
	var s float64
	for i := range out {
		out[i] -= m
		s += out[i] * out[i]
	}
	s = math.Sqrt(s/float64(len(out))) + 1
	for i := range out {
		out[i] /= s
	}
	return out
}

// lsMedianStep returns the median time between consecutive frames.
func lsMedianStep(fs []*lsFrame) float64 {
	var d []float64
	for i := 1; i < len(fs); i++ {
		if v := fs[i].t - fs[i-1].t; v > 0 {
			d = append(d, v)
		}
	}
	if len(d) == 0 {
		return 1
	}
	sort.Float64s(d)
	return d[len(d)/2]
}

// scoreLipSync maps the measurements to a score in [0,1] and names the
// dominant reason:
//
//   - mismatch: z compares the best correlation with the best correlations
//     of misaligned (surrogate) pairs of the same window, so z ≈ 0 is chance
//     level. The score is the posterior probability that the voice is
//     foreign, for z ~ N(0, σ²) if it is and z ~ N(μ, σ²) if it matches,
//     with μ = 2.5·√(speech/6 s), σ = 1.5 and prior odds 1:4:
//     logistic(μ/σ²·(μ/2 − z) + ln ¼). With 6 s of speech this is 0.5 at
//     z = 0 and 0.8 at z = −1.2. Beyond lsEvidenceSpeech (10 s) z is
//     scaled to 10 s of speech and μ stays at 3.2 (0.5 at z ≈ 0.6), so
//     chance-level sync scores about 0.7 however long the recording: the
//     strength of the sync counts, not how long it was watched;
//   - delay = trust · logistic((|lag| − 230 ms)/30 ms), trust =
//     logistic((z − 1.5)/0.4): a clear peak (well above chance) at a steady
//     delay. 230 ms is the ±45 ms of natural sync, plus ~60 ms a call
//     pipeline may add, plus the spread of this estimator on genuine dev
//     items (their clear peaks lie within −95…+175 ms but one at −376 ms)
//     → voice processing latency such as a voice changer's 100–300 ms.
//     The trust is also multiplied by logistic((replication − 1)/0.25):
//     each half of the frames on its own must prefer the delay to natural
//     sync by about one surrogate spread, or the peak is taken for a side
//     peak that won by chance (replication is scaled like z beyond 10 s).
//
// A best peak at the end of the search range is not a measured delay (the
// curve only rises towards the edge), so it carries no delay evidence.
// Score = max(mismatch, delay).
func scoreLipSync(e lsEstimate, speech float64) (score float64, reason string) {
	z, repl, speech := e.z, e.replication, math.Max(speech, 0)
	if speech > lsEvidenceSpeech {
		z *= math.Sqrt(lsEvidenceSpeech / speech)
		repl *= math.Sqrt(lsEvidenceSpeech / speech)
		speech = lsEvidenceSpeech
	}
	mu := lsGenuineZ * math.Sqrt(speech/lsGenuineZRef)
	mismatch := lsLogistic(mu/(lsNullZSD*lsNullZSD)*(mu/2-z) + math.Log(lsPriorOdds))
	trust := lsLogistic((z - lsTrustMid) / lsTrustSc)
	if e.edge {
		trust = 0
	}
	atLag := trust * lsLogistic((math.Abs(e.lag)-lsDelayMid)/lsDelaySc)
	delay := atLag * lsLogistic((repl-lsReplMid)/lsReplSc)
	switch {
	case delay >= mismatch && delay >= 0.5:
		return delay, "delay"
	case mismatch >= 0.5:
		return mismatch, "mismatch"
	case atLag >= 0.5 && repl < lsReplMid:
		// A clear peak away from natural sync that the halves of the
		// frames do not both prefer clearly: not evidence, but say why.
		return math.Max(delay, mismatch), "unreplicated"
	default:
		return math.Max(delay, mismatch), "sync"
	}
}

// lsConfidence grows with the seconds of speech with a usable face: about
// 0.3 for 4 s, 0.55 for 10 s, 0.9 for 30 s.
func lsConfidence(speechFace float64) float64 {
	return math.Min(1, 1-math.Exp(-speechFace/12))
}

// lsFinding builds the finding for one window or the whole recording.
func lsFinding(e lsEstimate, speechFace float64) Finding {
	score, reason := scoreLipSync(e, speechFace)
	lag, peak, z, nullMean := e.lag, e.peak, e.z, e.nullMean
	ms := math.Round(lag * 1000)
	where := fmt.Sprintf("with the voice about %.0f ms later than natural sync", ms)
	if lag < 0 {
		where = fmt.Sprintf("with the voice about %.0f ms ahead of natural sync", -ms)
	}
	var expl string
	switch {
	case reason == "delay":
		if lag > 0 {
			expl = fmt.Sprintf("The voice follows the lip movements with a steady delay of about %.0f ms (correlation %.2f), more than natural speech or a call adds: this suggests voice processing latency (a voice changer?). A recording whose sound was saved out of step with its picture does this too: check whether the whole recording is out of sync.", ms, peak)
		} else {
			expl = fmt.Sprintf("The voice comes about %.0f ms before the matching lip movements (correlation %.2f), which natural speech does not do: a real-time face swap delays the picture, or the audio was shifted or edited. A recording whose sound was saved out of step with its picture does this too: check whether the whole recording is out of sync.", -ms, peak)
		}
	case reason == "mismatch":
		expl = fmt.Sprintf("The lip movements do not match the voice at any delay within ±500 ms (best correlation %.2f, not clearly above the %.2f reached by chance): the audio may not belong to this face.", peak, nullMean)
	case reason == "unreplicated":
		expl = fmt.Sprintf("The lip movements match the voice best %s (correlation %.2f), but two halves of the frames (in a longer recording, alternate 5-s stretches), each on its own, do not both prefer that delay to natural sync by a clear margin, so it is not taken as a delay: with a few seconds of speech, a peak a syllable away from the true one can win by chance.", where, peak)
	case math.Abs(lag) >= lsDelayMid && !e.edge:
		expl = fmt.Sprintf("The lip movements match the voice best %s (correlation %.2f), but not clearly enough to count as a delay (sync evidence z %.1f).", where, peak, z)
	default:
		expl = fmt.Sprintf("The lip movements match the voice (correlation %.2f at %+.0f ms from natural sync), as in a genuine recording.", peak, ms)
	}
	f := Finding{
		Signal:     LipSyncSignal,
		Modality:   AV,
		Score:      round3(score),
		Confidence: round3(lsConfidence(speechFace)),
		Values: []Measurement{
			M("audio_delay", ms, "ms", -lsNormalLag*1000, lsNormalLag*1000),
			M("sync_correlation", round3(peak), "", 0.3, 0.8),
			M("chance_correlation", round3(nullMean), "", 0.1, 0.5),
			M("sync_evidence_z", round3(z), "", 0.5, 6),
			{Name: "speech_with_face_seconds", Value: round3(speechFace), Unit: "s"},
		},
		Explanation: expl,
	}
	if math.Abs(lag) > lsSyncBand {
		// At natural sync the margin is ≤ 0 by construction and says
		// nothing.
		f.Values = append(f.Values, Measurement{Name: "delay_replication_z", Value: round3(e.replication)})
	}
	return f
}

// Finish implements AVDetector. It computes the remaining windows and the
// whole-recording estimate from the averaged window curves.
func (d *LipSync) Finish() Result {
	d.vmu.Lock()
	frames, faces, small := d.vFrames, d.vFaces, d.vSmall
	span := d.vLastT - d.vFirstT
	d.vmu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished {
		return d.result
	}
	d.finished = true
	d.processReady(true)
	d.result = d.summarise(frames, faces, small, span)
	return d.result
}

func (d *LipSync) summarise(frames, faces, small int, span float64) Result {
	t := &d.tr
	motion := &t.motion
	nm := func(reason string) Result { return NotMeasured(LipSyncSignal, AV, reason) }
	switch {
	case frames == 0:
		return nm("no video: lip sync needs a face")
	case !t.audioOK || t.hops == 0:
		return nm("no audio: lip sync needs a voice")
	case frames > 1 && float64(frames-1)/math.Max(span, 1e-9) < lsMinFPS:
		return nm(fmt.Sprintf("the video has only %.1f frames per second; lip sync needs at least %.0f", float64(frames-1)/math.Max(span, 1e-9), lsMinFPS))
	case faces == 0 && small > 0:
		return nm(fmt.Sprintf("the face is too small to see the mouth (needs a face at least %d px tall)", lsMinFace))
	case faces == 0:
		return nm("no frontal face found: lip sync needs a visible mouth")
	case t.measured == 0 && t.stillWindows > 0:
		return nm(fmt.Sprintf("the mouth region hardly changed while the voice spoke (in each of %d windows with speech, talking mouths change by %.2f or more between frames): the mouth may be covered or out of the picture, or the face found is not the speaker's", t.stillWindows, lsMinMouthMotion))
	case t.measured == 0 || t.speechFS < lsMinSpeechFace:
		why := ""
		if small > faces {
			why = fmt.Sprintf("; the face is mostly smaller than %d px", lsMinFace)
		}
		if t.stillWindows > 0 {
			why += fmt.Sprintf("; %d windows were left out because the mouth hardly moved while the voice spoke", t.stillWindows)
		}
		return nm(fmt.Sprintf("too little speech with a visible mouth (%.1f s; lip sync needs %.0f s%s)", t.speechFS, lsMinSpeechFace, why))
	case t.unjudged.n >= lsMinMotionPairs && t.unjudged.median() < lsMinMouthMotion:
		return nm(fmt.Sprintf("the mouth region hardly changed while the voice spoke (median change %.2f between frames; talking mouths change by %.2f or more): the mouth may be covered or out of the picture, or the face found is not the speaker's", t.unjudged.median(), lsMinMouthMotion))
	}
	curve := make([]float64, len(d.acc.curve))
	for i, v := range d.acc.curve {
		curve[i] = v / d.acc.weight
	}
	surr := make([][]float64, len(d.acc.surr))
	for s := range d.acc.surr {
		surr[s] = make([]float64, len(curve))
		for i, v := range d.acc.surr[s] {
			surr[s][i] = v / d.acc.weight
		}
	}
	var half [2][]float64 // a pool without a window leaves nil: no replication
	for p := range half {
		if d.acc.halfW[p] > 0 {
			half[p] = make([]float64, len(curve))
			for i, v := range d.acc.half[p] {
				half[p][i] = v / d.acc.halfW[p]
			}
		}
	}
	sum := lsFinding(lsEvaluate(curve, half, surr), t.speechFS)
	sum.Start, sum.End = d.windows[0].Start, d.windows[len(d.windows)-1].End
	if t.stillWindows > 0 {
		// Say so: in a call recording it is mostly the interviewer
		// speaking, whose voice the voice signals pool with the
		// candidate's (docs/evaluation.md, "Limits").
		sum.Explanation += fmt.Sprintf(" In %d of the %d 10-s windows with speech the mouth hardly moved while a voice spoke (another person speaking, as the interviewer in a call recording, or a covered mouth); such windows are left out. The voice signals describe every voice heard together.",
			t.stillWindows, t.stillWindows+t.measured)
	}
	sum.Values = append(sum.Values,
		Measurement{Name: "mouth_motion", Value: round3(motion.median())},
		Measurement{Name: "windows_measured", Value: float64(t.measured)},
		Measurement{Name: "windows_mouth_still", Value: float64(t.stillWindows)},
		Measurement{Name: "dropped_seconds", Value: round3(t.dropped), Unit: "s"})
	return Result{Signal: LipSyncSignal, Modality: AV, Summary: &sum, Windows: d.windows}
}

// Close implements AVDetector. It is idempotent.
func (d *LipSync) Close() error {
	d.vmu.Lock()
	defer d.vmu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.small.Close()
}
