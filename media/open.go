package media

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Open starts one ffmpeg that decodes info's file once for every reader
// asked for: the picture as OpenVideo would (when video is not nil and the
// file has video) and the sound once per entry of audio, as OpenAudio would
// (when the file has audio). One process instead of one per stream saves
// its start-up (≈ 55 ms of CPU on the development machine, much of the cost
// of a short file's audio) and reading the file twice.
//
// The readers share the process: each must be read on its own goroutine
// (ffmpeg writes the streams in step, so one reader left unread stalls the
// others), and each must be closed; the last Close reaps ffmpeg. Closing a
// reader before its end stops the others too. The options' Start and
// Duration must be zero: Open decodes whole files (use OpenRange for a
// stretch of the file).
func (t Tools) Open(ctx context.Context, info *Info, video *VideoOptions, audio []AudioOptions) (*VideoReader, []*AudioReader, error) {
	return t.OpenRange(ctx, info, 0, 0, video, audio)
}

// OpenRange is Open for the stretch of the file that begins at start and
// lasts duration (0: to the end). Frame and sample times are relative to
// start, as if the stretch were the whole file. The options' own Start and
// Duration must be zero.
func (t Tools) OpenRange(ctx context.Context, info *Info, start, duration time.Duration, video *VideoOptions, audio []AudioOptions) (*VideoReader, []*AudioReader, error) {
	if start < 0 || duration < 0 {
		return nil, nil, errors.New("media: negative start or duration")
	}
	if video != nil && (video.Start != 0 || video.Duration != 0) {
		return nil, nil, errors.New("media: Open decodes one range for every stream; leave the video options' Start and Duration zero")
	}
	for _, a := range audio {
		if a.Start != 0 || a.Duration != 0 {
			return nil, nil, errors.New("media: Open decodes one range for every stream; leave the audio options' Start and Duration zero")
		}
	}
	if !info.HasVideo() {
		video = nil
	}
	if !info.HasAudio() {
		audio = nil
	}
	if video == nil && len(audio) == 0 {
		if !info.HasVideo() && !info.HasAudio() {
			return nil, nil, ErrNoVideo
		}
		return nil, nil, nil
	}
	return t.open(ctx, info, start, duration, video, audio)
}

// open starts one ffmpeg reading info's file from start (for duration
// when not zero) that writes the video (when video is not nil) and one
// audio stream per entry of audio, each to its own pipe.
func (t Tools) open(ctx context.Context, info *Info, start, duration time.Duration, video *VideoOptions, audio []AudioOptions) (*VideoReader, []*AudioReader, error) {
	level := "repeat+level+warning"
	if video != nil || len(audio) > 0 {
		level = "repeat+level+info" // (a)showinfo's frame timestamps are info lines
	}
	// One filter thread: slice-threading the scaling of 640-px frames costs
	// more CPU (≈ 50 ms on a 13-s 720p clip) than it saves, and the
	// analysis, not ffmpeg, sets the pace. The output is the same.
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", level, "-filter_threads", "1"}
	if start > 0 {
		args = append(args, "-ss", secondsArg(start))
	}
	if info.Demuxer != "" {
		// Read the file as it was probed: never re-detected as another
		// format, never opening anything but local files.
		args = append(args, "-f", info.Demuxer, "-protocol_whitelist", "file")
	}
	args = append(args, "-i", info.Path)
	// The first output goes to stdout, the next ones to fds 3, 4, …
	n := 0
	output := func() string {
		if duration > 0 {
			args = append(args, "-t", secondsArg(duration))
		}
		n++
		if n == 1 {
			return "pipe:1"
		}
		return "pipe:" + strconv.Itoa(n+1)
	}
	var vr *VideoReader
	var onLine func(string)
	var onDone func()
	if video != nil {
		va, r, err := videoOutput(info, *video, output())
		if err != nil {
			return nil, nil, err
		}
		args = append(args, va...)
		if err := r.allocate(r.width, r.height); err != nil {
			r.Close()
			return nil, nil, err
		}
		vr, onLine, onDone = r, r.onLine, r.onDone
	}
	// The first audio output logs its frames; every audio reader follows
	// them (see audioClock). ffmpeg's output of a range begins at its
	// start (a stall there is a gap from it), a whole file's where its
	// sound begins.
	var clock *audioClock
	if len(audio) > 0 {
		clock = newAudioClock(start == 0)
		onLine, onDone = clock.lineAfter(onLine), clock.finishAfter(onDone)
	}
	ars := make([]*AudioReader, len(audio))
	for i, opts := range audio {
		var aa []string
		aa, ars[i] = audioOutput(info, opts, output(), i == 0)
		ars[i].clock = clock
		if start > 0 {
			// A range's sound counts from the range's start (OpenRange: 0,
			// OpenAudio: its Start), not from where the file's sound
			// begins: should that be later, the clock fills the silence
			// up to it.
			ars[i].start = opts.Start
		}
		args = append(args, aa...)
	}
	p, err := startFFmpegOutputs(ctx, t.ffmpeg(), args, false, n-1, onLine, onDone)
	if err != nil {
		if vr != nil {
			vr.Close()
		}
		return nil, nil, err
	}
	p.share(n)
	outs := p.outs
	if vr != nil {
		vr.p, vr.out, outs = p, outs[0], outs[1:]
	}
	for i, ar := range ars {
		ar.p, ar.out = p, outs[i]
	}
	return vr, ars, nil
}
