package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tools names the ffmpeg and ffprobe executables. The zero value uses the
// ones on PATH.
type Tools struct {
	FFmpeg  string
	FFprobe string
}

func (t Tools) ffmpeg() string {
	if t.FFmpeg == "" {
		return "ffmpeg"
	}
	return t.FFmpeg
}

func (t Tools) ffprobe() string {
	if t.FFprobe == "" {
		return "ffprobe"
	}
	return t.FFprobe
}

// Check reports ErrToolMissing when ffmpeg or ffprobe cannot be found.
func (t Tools) Check() error {
	for _, name := range []string{t.ffmpeg(), t.ffprobe()} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("%w: %s", ErrToolMissing, name)
		}
	}
	return nil
}

// Info describes a probed input.
type Info struct {
	Path   string
	Size   int64
	Format string // container, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	// Demuxer is the ffmpeg input format that every later ffmpeg run on
	// Path is told to use (-f), so that the file is read the way it was
	// probed; one of Demuxers.
	Demuxer   string
	Duration  time.Duration // best estimate; 0 when unknown
	StartTime time.Duration // container start time; stream offsets are relative to it
	Video     *VideoInfo    // nil when the input has no (usable) video stream
	Audio     *AudioInfo    // nil when the input has no audio stream
}

// VideoInfo describes the first video stream.
type VideoInfo struct {
	Index    int    // stream index in the container
	Codec    string // e.g. "h264"
	Width    int    // coded picture width
	Height   int    // coded picture height
	Rotation int    // display rotation in degrees (0, 90, 180, 270)
	// DisplayWidth and DisplayHeight are the upright picture size that ffmpeg
	// produces after applying Rotation and the sample aspect ratio.
	DisplayWidth  int
	DisplayHeight int
	FPS           float64 // average frame rate; 0 when unknown
	// VariableFrameRate is set when the average and the nominal (r_frame_rate)
	// rates disagree by more than 5 %.
	VariableFrameRate bool
	Frames            int64         // frame count when the container states it
	Offset            time.Duration // stream start relative to Info.StartTime
	// Duration is the stream's own length when the container states it
	// (0 when unknown); a stream may end before the container does.
	Duration time.Duration
}

// AudioInfo describes the first audio stream.
type AudioInfo struct {
	Index      int
	Codec      string
	SampleRate int
	Channels   int
	Offset     time.Duration // stream start relative to Info.StartTime
	Duration   time.Duration // the stream's own length; 0 when unknown
}

// HasVideo reports whether the input has a video stream.
func (i *Info) HasVideo() bool { return i != nil && i.Video != nil }

// HasAudio reports whether the input has an audio stream.
func (i *Info) HasAudio() bool { return i != nil && i.Audio != nil }

// CheckFile reports why path cannot be a media file without running any
// tool: ErrNotFound, ErrIsDirectory or ErrEmpty. It returns the file size.
func CheckFile(path string) (int64, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("%s: %w", path, ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("%s: %w", path, err)
	case st.IsDir():
		return 0, fmt.Errorf("%s: %w", path, ErrIsDirectory)
	case st.Size() == 0:
		return 0, fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	return st.Size(), nil
}

type probeJSON struct {
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		StartTime  string `json:"start_time"`
	} `json:"format"`
	Streams []struct {
		Index             int               `json:"index"`
		CodecType         string            `json:"codec_type"`
		CodecName         string            `json:"codec_name"`
		Width             int               `json:"width"`
		Height            int               `json:"height"`
		SampleAspectRatio string            `json:"sample_aspect_ratio"`
		AvgFrameRate      string            `json:"avg_frame_rate"`
		RFrameRate        string            `json:"r_frame_rate"`
		NbFrames          string            `json:"nb_frames"`
		Duration          string            `json:"duration"`
		StartTime         string            `json:"start_time"`
		SampleRate        string            `json:"sample_rate"`
		Channels          int               `json:"channels"`
		Tags              map[string]string `json:"tags"`
		Disposition       map[string]int    `json:"disposition"`
		SideDataList      []struct {
			Rotation *float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
}

// Probe inspects path with ffprobe. Input problems wrap ErrUnusableInput.
func (t Tools) Probe(ctx context.Context, path string) (*Info, error) {
	size, err := CheckFile(path)
	if err != nil {
		return nil, err
	}
	// Only the demuxers bonafide reads (and the picture ones, to say "a
	// still image"): a playlist or concat list is refused before ffprobe
	// opens any file it names. Local files only.
	cmd := exec.CommandContext(ctx, t.ffprobe(), "-v", "error", "-format_whitelist", probeWhitelist,
		"-protocol_whitelist", "file", "-print_format", "json", "-show_format", "-show_streams", "--", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, fmt.Errorf("%w: %v", ErrToolMissing, err)
		}
		return nil, fmt.Errorf("%s: %w: %s", path, ErrNotMedia, lastLine(stderr.String()))
	}
	var pj probeJSON
	if err := json.Unmarshal(stdout.Bytes(), &pj); err != nil {
		return nil, fmt.Errorf("ffprobe output: %w", err)
	}
	info := &Info{
		Path:      path,
		Size:      size,
		Format:    pj.Format.FormatName,
		Duration:  seconds(pj.Format.Duration),
		StartTime: seconds(pj.Format.StartTime),
	}
	// Only self-contained recording containers are read. Anything else is
	// refused: formats that ffprobe recognises only as a guess (plain text
	// read as "tty", images as a one-frame video), and formats that make
	// ffmpeg open other files (an HLS playlist or a concat list names
	// segments anywhere on the disk, so an upload could have the server
	// analyse files that are not the uploader's, or repeat one segment for
	// hours).
	demuxer, ok := allowedDemuxer(info.Format)
	if !ok && stillImage(info.Format) {
		return nil, fmt.Errorf("%s: %w: detected as %q", path, ErrStillImage, info.Format)
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w: detected as %q, not a recording container bonafide reads", path, ErrNotMedia, info.Format)
	}
	info.Demuxer = demuxer
	for _, s := range pj.Streams {
		switch s.CodecType {
		case "video":
			if info.Video != nil || s.Disposition["attached_pic"] == 1 || s.Width <= 0 || s.Height <= 0 {
				continue
			}
			v := &VideoInfo{
				Index:  s.Index,
				Codec:  s.CodecName,
				Width:  s.Width,
				Height: s.Height,
				FPS:    rate(s.AvgFrameRate),
				Offset: seconds(s.StartTime) - info.StartTime,
			}
			if v.FPS == 0 {
				v.FPS = rate(s.RFrameRate)
			}
			if r := rate(s.RFrameRate); r > 0 && v.FPS > 0 && math.Abs(r-v.FPS)/r > 0.05 {
				v.VariableFrameRate = true
			}
			v.Frames, _ = strconv.ParseInt(s.NbFrames, 10, 64)
			v.Duration = streamDuration(s.Duration, s.Tags)
			v.Rotation = rotation(s.Tags["rotate"], s.SideDataList)
			dw, dh := s.Width, s.Height
			if num, den, ok := ratio(s.SampleAspectRatio); ok && num != den {
				dw = int(math.Round(float64(dw) * float64(num) / float64(den)))
			}
			if v.Rotation == 90 || v.Rotation == 270 {
				dw, dh = dh, dw
			}
			v.DisplayWidth, v.DisplayHeight = dw, dh
			if info.Duration == 0 {
				info.Duration = seconds(s.Duration)
			}
			info.Video = v
		case "audio":
			if info.Audio != nil {
				continue
			}
			sr, _ := strconv.Atoi(s.SampleRate)
			if sr <= 0 || s.Channels <= 0 {
				continue
			}
			info.Audio = &AudioInfo{
				Index:      s.Index,
				Codec:      s.CodecName,
				SampleRate: sr,
				Channels:   s.Channels,
				Offset:     seconds(s.StartTime) - info.StartTime,
				Duration:   streamDuration(s.Duration, s.Tags),
			}
			if info.Duration == 0 {
				info.Duration = seconds(s.Duration)
			}
		}
	}
	if info.Video == nil && info.Audio == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNoStreams)
	}
	return info, nil
}

// Demuxers are the ffmpeg input formats (the first name of ffprobe's
// format_name) that bonafide reads: the containers and raw streams that
// recordings, calls and voice notes come in. None of them opens other files
// (the MP4 demuxer's external data references are off by default).
var Demuxers = []string{
	"mov",      // mov,mp4,m4a,3gp,3g2,mj2
	"matroska", // matroska,webm
	"avi", "asf", "flv", "ivf", "mpegts", "mpeg", "mxf", "nut",
	"ogg", "wav", "w64", "aiff", "caf", "flac", "mp3", "aac", "amr", "au", "wv",
	"h264", "hevc", "m4v",
}

// stillImageDemuxers are the picture demuxers ffprobe may use on an
// upload, so that a photo is told apart from other files that are not
// recordings.
var stillImageDemuxers = []string{"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe"}

// probeWhitelist is ffprobe's -format_whitelist: the demuxers it may try.
var probeWhitelist = strings.Join(append(slices.Clone(Demuxers), stillImageDemuxers...), ",")

// allowedDemuxer returns the demuxer of an ffprobe format_name
// ("mov,mp4,m4a,3gp,3g2,mj2" → "mov") when bonafide reads it.
func allowedDemuxer(format string) (string, bool) {
	name, _, _ := strings.Cut(format, ",")
	if slices.Contains(Demuxers, name) {
		return name, true
	}
	return "", false
}

// stillImage reports whether ffprobe read a file as a picture: the image2
// demuxers and the piped image formats (png_pipe, jpeg_pipe, …), which
// ffprobe shows as a one-frame video.
func stillImage(format string) bool {
	name, _, _ := strings.Cut(format, ",")
	return slices.Contains(stillImageDemuxers, name)
}

// streamDuration is a stream's stated length: ffprobe's duration, or the
// DURATION tag Matroska writes per track ("00:01:02.500000000").
func streamDuration(d string, tags map[string]string) time.Duration {
	if v := seconds(d); v > 0 {
		return v
	}
	for k, v := range tags {
		if !strings.EqualFold(k, "DURATION") {
			continue
		}
		var h, m int
		var sec float64
		if n, _ := fmt.Sscanf(v, "%d:%d:%f", &h, &m, &sec); n == 3 && sec >= 0 {
			return time.Duration((float64(h*3600+m*60) + sec) * float64(time.Second))
		}
	}
	return 0
}

// rotation returns the clockwise display rotation normalised to 0..359.
// ffmpeg's side data states the counter-clockwise angle (negative for a
// clockwise turn); the legacy "rotate" tag states the clockwise angle.
func rotation(tag string, side []struct {
	Rotation *float64 `json:"rotation"`
}) int {
	deg := 0
	if tag != "" {
		deg, _ = strconv.Atoi(tag)
	}
	for _, sd := range side {
		if sd.Rotation != nil {
			deg = int(math.Round(-*sd.Rotation))
		}
	}
	deg %= 360
	if deg < 0 {
		deg += 360
	}
	return deg
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func rate(s string) float64 {
	num, den, ok := ratio(s)
	if !ok || den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

func ratio(s string) (int64, int64, bool) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		a, b, ok = strings.Cut(s, ":")
	}
	if !ok {
		return 0, 0, false
	}
	num, err1 := strconv.ParseInt(a, 10, 64)
	den, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || num <= 0 || den <= 0 {
		return 0, 0, false
	}
	return num, den, true
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "ffprobe could not read it"
	}
	return s
}

// FFmpegCommand returns the ffmpeg executable to run.
func (t Tools) FFmpegCommand() string { return t.ffmpeg() }

// LargestPictureSize decodes the keyframes of path's first video stream
// and returns the largest of their sizes as coded in the bitstream. It is
// for containers whose header may not say the truth: an IVF file written
// while a call was received states a nominal size before any frame has
// arrived, and the call's resolution changes (at keyframes) as its
// bandwidth does, often starting small.
func (t Tools) LargestPictureSize(ctx context.Context, path string) (width, height int, err error) {
	cmd := exec.CommandContext(ctx, t.ffprobe(), "-v", "error", "-protocol_whitelist", "file",
		"-skip_frame", "nokey", "-select_streams", "v:0", "-show_entries", "frame=width,height",
		"-of", "csv=p=0", "--", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("picture size of %s: %v: %s", path, err, lastLine(stderr.String()))
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		var w, h int
		if _, err := fmt.Sscanf(strings.TrimRight(strings.TrimSpace(line), ","), "%d,%d", &w, &h); err == nil && w*h > width*height {
			width, height = w, h
		}
	}
	if width <= 0 || height <= 0 {
		return 0, 0, fmt.Errorf("picture size of %s: no decodable keyframe", path)
	}
	return width, height, nil
}
