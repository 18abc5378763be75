package analysis

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// Signals converts detector results to the fusion model's input.
func Signals(results []detectors.Result) []models.Signal {
	var out []models.Signal
	for _, res := range results {
		if res.Informational {
			continue
		}
		s := models.Signal{Name: res.Signal, Modality: string(res.Modality), Measured: res.Summary != nil}
		if res.Summary != nil {
			s.Score, s.Confidence = res.Summary.Score, res.Summary.Confidence
			s.Values = map[string]float64{}
			for _, m := range res.Summary.Values {
				s.Values[m.Name] = m.Value
			}
		}
		out = append(out, s)
	}
	return out
}

func (r *run) build(elapsed time.Duration) *report.Report {
	info := r.info
	results := r.seg.Results()
	faceCov, speechCov := r.seg.Coverage()
	out := Score(r.cfg.Scorer, results, faceCov, speechCov)
	dur := info.Duration.Seconds()
	if dur <= 0 {
		// No duration in the container (a raw stream): what was decoded.
		if r.frames > 0 {
			dur = r.lastPTS + 1/r.cfg.Video.FPS
		}
		dur = math.Max(dur, r.audioSecond)
	}
	rep := &report.Report{
		Schema:        report.Schema,
		Authenticity:  out.Authenticity,
		Verdict:       out.Verdict,
		VerdictReason: out.VerdictReason,
		NotMeasured:   []report.NotMeasured{},
	}
	if out.Authenticity != nil && !math.IsNaN(out.Probability) {
		p := math.Round(out.Probability*1000) / 1000
		rep.Probability = &p
	}
	contrib := map[string]float64{}
	for _, c := range out.Contributions {
		contrib[c.Signal] = c.Points
	}
	mods := map[string]*report.Modality{models.ModVideo: &rep.Video, models.ModAudio: &rep.Audio, models.ModAV: &rep.AV}
	for name, m := range mods {
		ms := out.Modalities[name]
		m.Measured, m.Reason, m.Signals = ms.Measured, ms.Reason, []report.Signal{}
		if ms.Measured {
			s := math.Round(ms.Score*1000) / 1000
			m.Score = &s
		}
	}
	switch {
	case !info.HasVideo():
		rep.Video.Reason = "the file has no video stream"
		rep.AV.Reason = "the file has no video stream"
	case r.frames == 0:
		rep.Video.Reason = "no video frame could be decoded"
	}
	switch {
	case !info.HasAudio():
		rep.Audio.Reason = "the file has no audio stream"
		rep.AV.Reason = "the file has no audio stream"
	case r.audioSecond == 0:
		rep.Audio.Reason = "no audio could be decoded"
	}
	if !info.HasVideo() {
		rep.NotMeasured = append(rep.NotMeasured, report.NotMeasured{Signal: "video", Reason: "the file has no video stream"})
	}
	if !info.HasAudio() {
		rep.NotMeasured = append(rep.NotMeasured, report.NotMeasured{Signal: "audio", Reason: "the file has no audio stream"})
	}
	for _, res := range results {
		// Signals of a stream the file does not have are covered by the
		// modality's reason.
		if (!info.HasVideo() && res.Modality != detectors.Audio) || (!info.HasAudio() && res.Modality != detectors.Video) {
			continue
		}
		sig := report.Signal{
			Name:          res.Signal,
			Modality:      string(res.Modality),
			Measured:      res.Summary != nil,
			Informational: res.Informational,
			Reason:        res.NotMeasurable,
			Contribution:  contrib[res.Signal],
			Findings:      res.Windows,
		}
		if res.Summary != nil {
			sig.Score, sig.Confidence = res.Summary.Score, res.Summary.Confidence
			sig.Values, sig.Explanation = res.Summary.Values, res.Summary.Explanation
		} else {
			rep.NotMeasured = append(rep.NotMeasured, report.NotMeasured{Signal: res.Signal, Reason: res.NotMeasurable})
		}
		if res.Signal == detectors.EnhancementSignal {
			s := sig
			rep.Enhancement = &s
		}
		m := mods[string(res.Modality)]
		m.Signals = append(m.Signals, sig)
	}
	for _, m := range mods {
		sort.SliceStable(m.Signals, func(i, j int) bool {
			return math.Abs(m.Signals[i].Contribution) > math.Abs(m.Signals[j].Contribution)
		})
	}
	rep.Coverage = coverage(dur, faceCov.Seconds, speechCov.Seconds, info.HasVideo(), info.HasAudio())
	rep.Timeline = timeline(dur, results, faceCov, speechCov)
	rep.Analysis = r.analysisMeta(elapsed)
	if v, ok := r.cfg.Scorer.(models.Validated); ok {
		rep.ModelValidation = report.NewModelValidation(v.Validation())
	}
	if reason := r.damagedReason(); reason != "" && (rep.Verdict != models.Inconclusive || rep.Authenticity != nil) {
		// The scores stand for what was decoded; the verdict would be a
		// guess about the rest. A reason the model gave (a picture that
		// did not move) follows; "too little to judge" stays alone.
		if out.VerdictReason != "" {
			reason += "; " + out.VerdictReason
		}
		rep.Verdict, rep.VerdictReason = models.Inconclusive, reason
		out.VerdictReason = reason
	}
	rep.Summary = summary(rep, out)
	return rep
}

// damagedReason says why no verdict is given: less than half of a stream
// could be decoded, so most of the recording was not seen ("" when every
// stream decoded well enough).
func (r *run) damagedReason() string {
	var parts []string
	for _, sf := range r.shortfalls() {
		if sf.want >= 2 && sf.got < 0.5*sf.want && !sf.stopped {
			parts = append(parts, fmt.Sprintf("only %.1f s of the %.1f s of %s", sf.got, sf.want, sf.kind))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " and ") + " could be decoded (a truncated or damaged file?), so the rest was not seen"
}

func coverage(dur, face, speech float64, hasVideo, hasAudio bool) report.Coverage {
	if dur > 0 {
		// A damaged file's timestamps can run past its duration.
		face, speech = math.Min(face, dur), math.Min(speech, dur)
	}
	c := report.Coverage{DurationSeconds: round(dur, 2), FaceSeconds: round(face, 2), SpeechSeconds: round(speech, 2)}
	if dur > 0 {
		c.FaceFraction = round(math.Min(1, face/dur), 3)
		c.SpeechFraction = round(math.Min(1, speech/dur), 3)
	}
	var parts []string
	switch {
	case !hasVideo:
		parts = append(parts, "no video stream")
	default:
		parts = append(parts, fmt.Sprintf("a face was visible for %.1f s of %.1f s", face, dur))
	}
	switch {
	case !hasAudio:
		parts = append(parts, "no audio stream")
	default:
		parts = append(parts, fmt.Sprintf("speech was heard for %.1f s", speech))
	}
	c.Statement = strings.ToUpper(parts[0][:1]) + parts[0][1:] + "; " + strings.Join(parts[1:], "; ") + "."
	return c
}

// timeline builds the per-window modality scores from the detectors'
// window findings: a confidence-weighted mean per modality, and the highest
// modality as the window's overall score.
func timeline(dur float64, results []detectors.Result, face, speech detectors.Coverage) []report.Window {
	n := int(math.Ceil(dur / detectors.WindowSeconds))
	if n < 1 {
		n = 1
	}
	type acc struct{ num, den float64 }
	sums := make([]map[detectors.Modality]*acc, n)
	for i := range sums {
		sums[i] = map[detectors.Modality]*acc{}
	}
	for _, res := range results {
		if res.Informational {
			continue
		}
		for _, f := range res.Windows {
			for w := int(f.Start / detectors.WindowSeconds); w < n && float64(w)*detectors.WindowSeconds < f.End; w++ {
				if w < 0 {
					continue
				}
				a := sums[w][f.Modality]
				if a == nil {
					a = &acc{}
					sums[w][f.Modality] = a
				}
				a.num += f.Confidence * f.Score
				a.den += f.Confidence
			}
		}
	}
	out := make([]report.Window, n)
	for w := range out {
		win := &out[w]
		win.Start = float64(w) * detectors.WindowSeconds
		win.End = math.Min(dur, win.Start+detectors.WindowSeconds)
		if w < len(face.PerWindow) {
			win.FaceSeconds = round(face.PerWindow[w], 2)
		}
		if w < len(speech.PerWindow) {
			win.SpeechSeconds = round(speech.PerWindow[w], 2)
		}
		for mod, dst := range map[detectors.Modality]**float64{detectors.Video: &win.Video, detectors.Audio: &win.Audio, detectors.AV: &win.AV} {
			if a := sums[w][mod]; a != nil && a.den > 0 {
				v := round(a.num/a.den, 3)
				*dst = &v
				if win.Overall == nil || v > *win.Overall {
					o := v
					win.Overall = &o
				}
			}
		}
	}
	return out
}

// shortfall is how much of one stream was decoded against its stated
// length (the stream's own, else the container's; within an analysed
// range, the range).
type shortfall struct {
	kind      string // "video" or "sound"
	got, want float64
	// stopped marks a video whose pictures end early in a file that is
	// otherwise whole (its sound decoded to its stated end, past where
	// the pictures should have ended, and ffmpeg reported no problem): a
	// still picture, or a camera that stopped sending frames, which a
	// recorder keeps on screen. That is not damage.
	stopped bool
}

// short reports whether less was decoded than the stream promised, beyond
// rounding and a last second that a cut can lose.
func (sf shortfall) short() bool { return sf.want > 0 && sf.got < 0.9*sf.want-1 }

// shortfalls lists the streams that were decoded at all, with how much.
func (r *run) shortfalls() []shortfall {
	dur := r.info.Duration.Seconds()
	want := func(stream time.Duration) float64 {
		if s := stream.Seconds(); s > 0 && (dur <= 0 || s < dur) {
			return s
		}
		return dur
	}
	var out []shortfall
	var sound shortfall // zero when no sound was decoded
	if r.info.HasAudio() && r.audioSecond > 0 {
		sound = shortfall{kind: "sound", got: r.audioSecond, want: want(r.info.Audio.Duration)}
		out = append(out, sound)
	}
	if r.info.HasVideo() && r.frames > 0 {
		video := shortfall{kind: "video", got: r.lastPTS, want: want(r.info.Video.Duration)}
		// Stopped, not damaged: the sound has a stated length, decoded
		// to it, and ran on to about where the pictures should have
		// ended; and ffmpeg reported no problem.
		video.stopped = video.short() && sound.want > 0 && !sound.short() &&
			sound.got >= 0.9*video.want-1 && r.warnings == 0
		out = append([]shortfall{video}, out...)
	}
	return out
}

// shortfallNotes says when less was decoded than a stream promised (a
// truncated or damaged file), or when the pictures stopped early.
func (r *run) shortfallNotes() []string {
	var notes []string
	for _, sf := range r.shortfalls() {
		switch {
		case sf.stopped:
			notes = append(notes, fmt.Sprintf("the video shows no new picture after %.1f s of its %.1f s (a still picture, or a camera that stopped sending frames): only the pictures up to then were screened", sf.got, sf.want))
		case sf.short():
			notes = append(notes, fmt.Sprintf("only %.1f s of the %.1f s of %s could be decoded (truncated or damaged file?)", sf.got, sf.want, sf.kind))
		}
	}
	if r.warnings > 0 {
		notes = append(notes, fmt.Sprintf("ffmpeg reported %d decoding problems", r.warnings))
	}
	return notes
}

func (r *run) analysisMeta(elapsed time.Duration) report.Analysis {
	info := r.info
	a := report.Analysis{
		Version:         r.cfg.Version,
		ModelVersion:    r.cfg.Scorer.Version(),
		File:            info.Path,
		SizeBytes:       info.Size,
		Container:       info.Format,
		DurationSeconds: round(info.Duration.Seconds(), 3),
		AnalysisFPS:     r.cfg.Video.FPS,
		AnalysisWidth:   r.frameW,
		AnalysisHeight:  r.frameH,
		FramesAnalyzed:  r.frames,
		AudioSeconds:    round(r.audioSecond, 2),
		DecodeWarnings:  r.warnings,
		Notes:           append(append([]string{}, r.notes...), r.shortfallNotes()...),
		ElapsedSeconds:  round(elapsed.Seconds(), 2),
	}
	if v := info.Video; v != nil {
		if !r.cfg.Video.Region.Whole() {
			a.Region = r.cfg.Video.Region.String()
		}
		a.Video = &report.VideoInput{Codec: v.Codec, Width: v.Width, Height: v.Height, FPS: round(v.FPS, 3), Rotation: v.Rotation, VariableRate: v.VariableFrameRate}
		src := int(v.Frames)
		if src <= 0 {
			src = int(math.Round(v.FPS * info.Duration.Seconds()))
		}
		if src > r.frames {
			a.FramesSkipped = src - r.frames
		}
	}
	if au := info.Audio; au != nil {
		a.Audio = &report.AudioInput{Codec: au.Codec, SampleRate: au.SampleRate, Channels: au.Channels}
	}
	return a
}

func summary(rep *report.Report, out models.Output) string {
	if rep.Authenticity == nil {
		return "Could not judge this recording: " + out.VerdictReason + "."
	}
	return verdictSummary(rep, out) + unscreenedNote(rep)
}

// unscreenedNote says, after a verdict, which stream of the recording was
// there but gave the score nothing (no face or no speech measured), so that
// a verdict from the voice alone is not read as one about the face too.
func unscreenedNote(rep *report.Report) string {
	cov := rep.Coverage
	switch {
	case rep.Analysis.Video != nil && !rep.Video.Measured && !rep.AV.Measured:
		return fmt.Sprintf(" The face was not screened (a face was found for %.1f s of %.1f s of video): this rests on the voice alone.", cov.FaceSeconds, cov.DurationSeconds)
	case rep.Analysis.Audio != nil && !rep.Audio.Measured && !rep.AV.Measured:
		return fmt.Sprintf(" The voice was not screened (speech was heard for %.1f s): this rests on the face alone.", cov.SpeechSeconds)
	}
	return ""
}

// verdictSummary states the verdict and its strongest evidence.
func verdictSummary(rep *report.Report, out models.Output) string {
	s := fmt.Sprintf("Authenticity %d/100 (%s).", *rep.Authenticity, rep.Verdict)
	if out.VerdictReason != "" {
		s += " " + strings.ToUpper(out.VerdictReason[:1]) + out.VerdictReason[1:] + "."
	}
	// Name the strongest evidence towards manipulation.
	worst := models.Contribution{}
	for _, c := range out.Contributions {
		if c.Points < worst.Points {
			worst = c
		}
	}
	if worst.Points <= -5 {
		for _, sig := range rep.AllSignals() {
			if sig.Name == worst.Signal && sig.Explanation != "" {
				if rep.Verdict == models.Genuine {
					return s + " The strongest sign of manipulation, outweighed by the rest: " + sig.Explanation
				}
				return s + " Strongest evidence: " + sig.Explanation
			}
		}
	}
	switch {
	case rep.Verdict != models.Genuine:
	case worst.Points < 0:
		return s + " No signal gave strong evidence of manipulation."
	default:
		return s + " No signal showed signs of manipulation."
	}
	return s
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
