package whip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNothingRecorded means no media arrived before the session ended.
var ErrNothingRecorded = errors.New("no media was received")

// Recording merges the recorded tracks into one Matroska file at out
// (stream copy, no re-encoding), aligning audio and video by the arrival of
// their first packets. Call it after Close.
func (p *Publication) Recording(ctx context.Context, out string) error {
	p.mu.Lock()
	var video, audio *trackState
	for _, s := range p.stats {
		if s.file == "" || s.firstAt.IsZero() || s.frames.Load() == 0 {
			continue
		}
		switch s.kind {
		case "video":
			video = s
		case "audio":
			audio = s
		}
	}
	p.mu.Unlock()
	if video == nil && audio == nil {
		return ErrNothingRecorded
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}
	var maps []string
	n := 0
	addInput := func(s *trackState, other *trackState) {
		if other != nil && s.firstAt.After(other.firstAt) {
			args = append(args, "-itsoffset", fmt.Sprintf("%.3f", s.firstAt.Sub(other.firstAt).Seconds()))
		}
		args = append(args, "-i", s.file)
		maps = append(maps, "-map", fmt.Sprintf("%d", n))
		n++
	}
	if video != nil {
		addInput(video, audio)
	}
	if audio != nil {
		addInput(audio, video)
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

// Files returns the per-track recordings written so far.
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
