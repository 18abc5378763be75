// Package analysis runs one recording through the whole pipeline: media
// decoding, face tracking, every detector, and the fusion model, and builds
// the report. It is shared by `bonafide analyze`, `bonafide eval` and the
// web service's jobs.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// ErrNothingDecoded means neither a frame nor an audio sample could be
// decoded. It wraps media.ErrUnusableInput.
var ErrNothingDecoded = media.NewInputError("no video frame and no audio sample could be decoded")

// Config is everything an analysis needs; pass it down, no globals.
type Config struct {
	Tools      media.Tools
	Video      media.VideoOptions // analysis frame rate and width
	FaceModels models.FaceModels
	// Landmarker, when set, is shared by every analysis using this Config
	// (it is safe for concurrent use and takes a second to load); its owner
	// closes it. When nil each analysis loads its own.
	Landmarker *detectors.Landmarker
	Scorer     models.Scorer
	Logger     *slog.Logger
	Version    string // program version written into reports
	// VideoOnly analyses the picture alone, as if the file had no audio
	// (used by `bonafide bench` to measure what the voice detectors cost).
	VideoOnly bool
	// Start and Duration restrict the analysis to the stretch of the file
	// that begins at Start and lasts Duration (0: to the end), as if that
	// stretch were the whole recording; `bonafide eval --segment` uses them
	// to score what one live segment sees.
	Start, Duration time.Duration
	// NoFullBand feeds the detectors the 16-kHz voice stream only, as the
	// live path does: the detectors that need the source-rate audio are
	// reported not measurable.
	NoFullBand bool
	// Progress, when set, is called with the fraction done (0–1) as the
	// analysis advances. It is called from the analysis goroutines and must
	// be cheap and safe for concurrent use.
	Progress func(float64)
}

func (c *Config) defaults() {
	if c.Video.FPS <= 0 {
		c.Video.FPS = 10
	}
	if c.Video.MaxWidth <= 0 {
		c.Video.MaxWidth = 640
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Scorer == nil {
		c.Scorer = models.DefaultScorer()
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// run is the state of one analysis.
type run struct {
	cfg  Config
	info *media.Info
	seg  *Segment
	prep *FramePreparer // used by the video goroutine only

	mu       sync.Mutex
	notes    []string
	warnings int

	frames      int
	lastPTS     float64 // time of the last decoded frame
	frameW      int
	frameH      int
	audioSecond float64
}

// Analyze analyses the recording at path. Input problems return errors
// wrapping media.ErrUnusableInput; a cancelled ctx returns ctx.Err().
func Analyze(ctx context.Context, path string, cfg Config) (*report.Report, error) {
	cfg.defaults()
	if err := cfg.Video.Region.Validate(); err != nil {
		return nil, err
	}
	began := time.Now()
	// Load the detectors and face models while ffprobe runs.
	type setup struct {
		seg  *Segment
		prep *FramePreparer
		err  error
	}
	ready := make(chan setup, 1)
	go func() {
		seg, err := NewSegment(cfg)
		if err != nil {
			ready <- setup{err: err}
			return
		}
		prep, err := NewFramePreparer(cfg)
		if err != nil {
			seg.Close()
			ready <- setup{err: err}
			return
		}
		ready <- setup{seg: seg, prep: prep}
	}()
	info, err := cfg.Tools.Probe(ctx, path)
	st := <-ready
	if st.err == nil {
		defer st.seg.Close()
		defer st.prep.Close()
	}
	if err != nil {
		return nil, err
	}
	if st.err != nil {
		return nil, st.err
	}
	if cfg.VideoOnly && info.HasVideo() {
		info.Audio = nil
	}
	if cfg.Start < 0 || cfg.Duration < 0 {
		return nil, fmt.Errorf("analysis: negative start (%v) or duration (%v)", cfg.Start, cfg.Duration)
	}
	ranged := cfg.Start > 0 || cfg.Duration > 0
	if ranged {
		// The stretch stands for the whole recording.
		d := max(0, info.Duration-cfg.Start)
		if cfg.Duration > 0 && (info.Duration == 0 || d > cfg.Duration) {
			d = cfg.Duration
		}
		info.Duration = d
	}
	seg := st.seg
	if cfg.NoFullBand {
		seg.WithoutFullBand("only the 16-kHz voice was analysed (as on a live call); the full report measures it")
	}
	r := &run{cfg: cfg, info: info, seg: seg, prep: st.prep}
	if ranged {
		r.note("only %.1f s from %.1f s were analysed", info.Duration.Seconds(), cfg.Start.Seconds())
	}
	if reg := cfg.Video.Region; !reg.Whole() && info.HasVideo() {
		r.note("only the %s of the picture was analysed (x %.0f–%.0f %%, y %.0f–%.0f %% of the upright picture): faces outside it were not looked at",
			reg.Phrase(), 100*reg.X, 100*(reg.X+reg.W), 100*reg.Y, 100*(reg.Y+reg.H))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One ffmpeg decodes the picture and both sound streams.
	var video *media.VideoOptions
	if info.HasVideo() {
		v := cfg.Video
		v.Start, v.Duration = 0, 0
		video = &v
	}
	var audio []media.AudioOptions
	if info.HasAudio() {
		audio = append(audio, media.AudioOptions{SampleRate: media.VoiceRate, HighPass: media.DCHighPass})
		if seg.WantsFullBand() {
			audio = append(audio, media.AudioOptions{SampleRate: 0, HighPass: media.DCHighPass})
		}
	}
	vr, ars, err := cfg.Tools.OpenRange(ctx, info, cfg.Start, cfg.Duration, video, audio)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var videoErr, voiceErr, fullErr error
	if vr != nil {
		wg.Add(1)
		go func() { defer wg.Done(); videoErr = r.runVideo(ctx, vr) }()
	}
	if len(ars) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); voiceErr = r.runAudio(ctx, ars[0], true, vr == nil) }()
	}
	if len(ars) > 1 {
		wg.Add(1)
		go func() { defer wg.Done(); fullErr = r.runAudio(ctx, ars[1], false, false) }()
	}
	wg.Wait()
	// The readers share one process: its warnings are counted once.
	switch {
	case vr != nil:
		r.warnings, _ = vr.Warnings()
	case len(ars) > 0:
		r.warnings, _ = ars[0].Warnings()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, e := range []error{videoErr, voiceErr, fullErr} {
		if e != nil && !errors.Is(e, media.ErrUnusableInput) {
			return nil, e
		}
	}
	if r.frames == 0 && r.audioSecond == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNothingDecoded)
	}
	rep := r.build(time.Since(began))
	if cfg.Progress != nil {
		cfg.Progress(1)
	}
	return rep, nil
}

// OppositePhaseNote is the analysis note for sec seconds of stereo sound
// whose channels carried the voice in opposite phase, where the reader
// analysed their difference (media.AudioReader.OppositePhase).
func OppositePhaseNote(sec float64) string {
	return fmt.Sprintf("the two sound channels carried the sound in opposite phase for %.1f s (a miswired microphone or an inverted channel), where their usual mix cancels the voice; their difference was analysed there instead", sec)
}

// GapNote is the analysis note for the silence a reader inserted where
// the sound's timestamps jumped ahead (media.AudioReader.FilledGaps), and
// for timestamps it stopped following; "" when there is nothing to say.
func GapNote(g media.GapSummary) string {
	var note string
	switch {
	case g.Count == 1:
		note = fmt.Sprintf("the sound's timestamps jump ahead by %.2f s at %.1f s (a recorder that stalled): the file holds no sound there, and that stretch was analysed as silence so that the sound after it stays in step with the picture", g.Total.Seconds(), g.LongestAt.Seconds())
	case g.Count > 1:
		note = fmt.Sprintf("the sound's timestamps jump ahead %d times, by %.2f s in all, the longest %.2f s at %.1f s (a recorder that stalled): the file holds no sound there, and those stretches were analysed as silence so that the sound after them stays in step with the picture", g.Count, g.Total.Seconds(), g.Longest.Seconds(), g.LongestAt.Seconds())
	}
	if g.Unread {
		if note != "" {
			note += "; after that, "
		}
		note += "ffmpeg's account of the sound's frame timestamps could not be read (an unexpected ffmpeg version or log): where a recorder stalled, if it did, the sound after the stall was analysed early against the picture"
	}
	return note
}

func (r *run) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *run) progress(t float64) {
	if r.cfg.Progress == nil || r.info.Duration <= 0 {
		return
	}
	r.cfg.Progress(math.Min(0.99, t/r.info.Duration.Seconds()))
}

// runVideo decodes frames, prepares them (grey, faces, landmarks) and feeds
// every video and audio-visual detector. Preparing frame n+1 and running
// the detectors on frame n happen on two goroutines, so both cores work
// while ffmpeg decodes.
func (r *run) runVideo(ctx context.Context, vr *media.VideoReader) error {
	defer vr.Close()
	r.frameW, r.frameH = vr.Size()
	prep := r.prep

	const buffers = 3
	pool := make([]*frameCopy, buffers)
	free := make(chan *frameCopy, buffers)
	for i := range pool {
		pool[i] = &frameCopy{img: gocv.NewMat(), gray: gocv.NewMat()}
		free <- pool[i]
	}
	defer func() {
		for _, fc := range pool {
			fc.img.Close()
			fc.gray.Close()
		}
	}()
	ready := make(chan *frameCopy, buffers)
	var detect sync.WaitGroup
	detect.Add(1)
	go func() {
		defer detect.Done()
		for fc := range ready {
			r.seg.ObserveFrame(&fc.vf)
			free <- fc
		}
	}()
	defer detect.Wait()
	defer close(ready)

	for {
		// Frames are decoded straight into a free buffer, and the grey
		// picture made there: nothing is copied.
		fc := <-free
		f, err := vr.NextInto(&fc.img)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if r.frames == 0 {
				r.note("video could not be decoded: %v", err)
			} else {
				r.note("video decoding stopped early at %.1f s: %v", r.lastPTS, err)
			}
			return nil
		}
		t := f.PTS.Seconds()
		fc.vf = *prep.PrepareInto(f, t, &fc.gray)
		ready <- fc
		r.frames++
		r.lastPTS = t
		r.progress(t)
	}
}

// frameCopy is a prepared frame handed from the preparing goroutine to the
// detecting one; its Mats are reused.
type frameCopy struct {
	vf        detectors.VideoFrame
	img, gray gocv.Mat
}

// runAudio feeds ar's samples to the detectors that want them: the voice
// stream (16 kHz) also feeds the audio-visual detectors, the full-band one
// the band-limit analysis.
func (r *run) runAudio(ctx context.Context, ar *media.AudioReader, voice, reportProgress bool) error {
	defer ar.Close()
	observe := r.seg.ObserveFullBand
	if voice {
		observe = r.seg.ObserveVoice
	}
	var decoded int64
	for {
		c, err := ar.Next()
		if err != nil {
			if sec := ar.OppositePhase(); voice && sec > 0 {
				r.note("%s", OppositePhaseNote(sec))
			}
			if voice {
				if note := GapNote(ar.FilledGaps()); note != "" {
					r.note("%s", note)
				}
			}
			if voice {
				r.mu.Lock()
				r.audioSecond = float64(decoded) / float64(ar.Rate())
				r.mu.Unlock()
			}
			if err == io.EOF {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if voice {
				if decoded == 0 {
					r.note("audio could not be decoded: %v", err)
				} else {
					r.note("audio decoding stopped early at %.1f s: %v", float64(decoded)/float64(ar.Rate()), err)
				}
			}
			return nil
		}
		decoded += int64(len(c.Samples))
		observe(c)
		if reportProgress {
			r.progress(c.Start.Seconds())
		}
	}
}
