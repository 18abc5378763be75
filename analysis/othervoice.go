package analysis

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/media"
)

// A call recording carries the interviewer's voice too, and the voice
// signals pool every voice they hear: a genuine interviewer dilutes a
// manipulated candidate's voice (docs/evaluation.md, "Several voices in
// the sound"). Lip sync knows when a voice spoke while the analysed face's
// mouth was still (detectors.Result.OtherVoice). When it measured the
// face's own speech elsewhere, the voice signals are measured again
// without those stretches, on a second decode of the sound alone (cheap
// beside the picture), and replace the first ones.
//
// Only then: when every window had a still mouth, lip sync is not measured
// and nothing is left out, so a still face (a photo with a synthetic
// voice) cannot hide its voice from the voice signals.

// otherVoice returns the stretches lip sync attributes to another person,
// or nil when nothing is to be left out.
func otherVoice(results []detectors.Result) []detectors.Span {
	for _, res := range results {
		if res.Signal == detectors.LipSyncSignal && res.Summary != nil {
			return res.OtherVoice
		}
	}
	return nil
}

// withoutOtherVoice measures the voice signals again without the
// stretches spans and returns results with their audio signals replaced,
// and the seconds of decoded voice left out. It leaves results as they are
// (and returns 0) when spans is empty.
func (r *run) withoutOtherVoice(ctx context.Context, results []detectors.Result, spans []detectors.Span) ([]detectors.Result, float64, error) {
	if len(spans) == 0 || !r.info.HasAudio() {
		return results, 0, nil
	}
	seg, err := NewSegment(r.cfg)
	if err != nil {
		return nil, 0, err
	}
	defer seg.Close()
	if r.cfg.NoFullBand {
		seg.WithoutFullBand("only the 16-kHz voice was analysed (as on a live call); the full report measures it")
	}
	audio := []media.AudioOptions{{SampleRate: media.VoiceRate, HighPass: media.DCHighPass}}
	if seg.WantsFullBand() {
		audio = append(audio, media.AudioOptions{SampleRate: 0, HighPass: media.DCHighPass})
	}
	_, ars, err := r.cfg.Tools.OpenRange(ctx, r.info, r.cfg.Start, r.cfg.Duration, nil, audio)
	if err != nil {
		return nil, 0, err
	}
	other := func(c media.Chunk) bool {
		mid := c.Start.Seconds() + 0.5*float64(len(c.Samples))/float64(c.Rate)
		for _, sp := range spans {
			if sp.Contains(mid) {
				return true
			}
		}
		return false
	}
	// The readers share one ffmpeg: both are read at once.
	var wg sync.WaitGroup
	errs := make([]error, len(ars))
	var left float64
	for i, ar := range ars {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ar.Close()
			observe := seg.ObserveFullBand
			if i == 0 {
				observe = seg.ObserveVoice
			}
			for {
				c, err := ar.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						errs[i] = err
					}
					return
				}
				if other(c) {
					if i == 0 {
						left += float64(len(c.Samples)) / float64(c.Rate)
					}
					continue
				}
				observe(c)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	again := map[string]detectors.Result{}
	for _, res := range seg.Results() {
		if res.Modality == detectors.Audio {
			again[res.Signal] = res
		}
	}
	out := append([]detectors.Result(nil), results...)
	for i, res := range out {
		if a, ok := again[res.Signal]; ok && res.Modality == detectors.Audio {
			out[i] = a
		}
	}
	return out, left, nil
}
