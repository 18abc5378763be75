package whip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNothingRecorded means no media arrived before the session ended.
var ErrNothingRecorded = errors.New("no media was received")

// Recording merges the recorded tracks into one Matroska file at out
// (stream copy, no re-encoding), aligning audio and video as the sender
// captured them (RTCP sender reports), or by the arrival of their first
// recorded frames when a track had no sender report. Call it after Close:
// before, the track files are still being written (it does not race the
// tracks, but would merge a truncated recording).
func (p *Publication) Recording(ctx context.Context, out string) error {
	video, audio := p.recorded()
	if video == nil && audio == nil {
		return ErrNothingRecorded
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}
	var maps []string
	n := 0
	addInput := func(s *trackState, delay time.Duration) {
		if delay > 0 {
			args = append(args, "-itsoffset", fmt.Sprintf("%.3f", delay.Seconds()))
		}
		args = append(args, "-i", s.file)
		maps = append(maps, "-map", fmt.Sprintf("%d", n))
		n++
	}
	var videoLag time.Duration // how much later the video starts than the audio (negative: earlier)
	if video != nil && audio != nil {
		var bySR bool
		videoLag, bySR = alignment(video, audio)
		p.cfg.Logger.Info("recording aligned", "video_after_audio", videoLag.Round(time.Millisecond), "by_sender_reports", bySR)
	}
	if video != nil {
		if err := p.fixIVFSize(ctx, video.file); err != nil {
			// The merge still works; the analysis then scales the
			// picture to the nominal size.
			p.cfg.Logger.Warn("recording's picture size not known; its header says 640×480", "err", err)
		}
		addInput(video, videoLag)
	}
	if audio != nil {
		addInput(audio, -videoLag)
	}
	args = append(args, maps...)
	args = append(args, "-c", "copy", "-f", "matroska", out)
	tmp := out + ".part"
	args[len(args)-1] = tmp
	cmd := exec.CommandContext(ctx, p.cfg.Tools.FFmpegCommand(), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("merge recording: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return os.Rename(tmp, out)
}

// fixIVFSize writes the size of the largest recorded picture into the IVF
// header of the video recording at path, which states a nominal 640×480
// (written before any frame arrived). The merge copies the header's size
// into the Matroska file, ffprobe reports it, and the analysis would scale
// a 16:9 call to 4:3, stretching every face. The largest, not the first:
// a call often starts at a low resolution and steps up as its bandwidth
// estimate grows (each change at a keyframe), and the analysis scales
// every picture to this size.
func (p *Publication) fixIVFSize(ctx context.Context, path string) error {
	w, h, err := p.cfg.Tools.LargestPictureSize(ctx, path)
	if err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	if w > 0xffff || h > 0xffff {
		return fmt.Errorf("recording: a %d×%d picture does not fit an IVF header", w, h)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	var size [4]byte
	binary.LittleEndian.PutUint16(size[0:], uint16(w))
	binary.LittleEndian.PutUint16(size[2:], uint16(h))
	_, err = f.WriteAt(size[:], 12)
	return errors.Join(err, f.Close())
}

// Alignment returns how much later the recorded video starts than the
// recorded audio and whether the senders' clocks (RTCP sender reports)
// said so; ok is false unless both tracks were recorded. It is safe to
// call at any time, and final once Close has returned: before, a track may
// not have recorded anything yet, or its sender report may still come.
func (p *Publication) Alignment() (videoAfterAudio time.Duration, bySenderReports, ok bool) {
	video, audio := p.recorded()
	if video == nil || audio == nil {
		return 0, false, false
	}
	d, bySR := alignment(video, audio)
	return d, bySR, true
}

// recorded returns the video and audio tracks that recorded something.
func (p *Publication) recorded() (video, audio *trackState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.stats {
		if s.file == "" || s.recStart().IsZero() || s.frames.Load() == 0 {
			continue
		}
		switch s.kind {
		case "video":
			video = s
		case "audio":
			audio = s
		}
	}
	return video, audio
}

// alignment returns how much later the recorded video starts than the
// recorded audio (negative: earlier), by the sender's clock when both
// tracks had a sender report, else by arrival.
func alignment(video, audio *trackState) (time.Duration, bool) {
	vs, vok := video.captureStart()
	as, aok := audio.captureStart()
	if vok && aok {
		return vs.Sub(as), true
	}
	return video.recStart().Sub(audio.recStart()), false
}

// Files returns the base names of the per-track recordings in the
// publication's directory: one for each track taken ("video.ivf",
// "audio.ogg"), listed from the track's arrival. It is safe to call at any
// time, also while the tracks run; a file is complete only once Close has
// returned, and may be missing when it could not be created (the track's
// error is logged) or is still being created.
func (p *Publication) Files() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range p.stats {
		if s.file != "" {
			out = append(out, filepath.Base(s.file))
		}
	}
	return out
}
