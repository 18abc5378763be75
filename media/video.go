package media

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"
)

// VideoOptions sets how frames are sampled for analysis.
type VideoOptions struct {
	// FPS is the analysis frame rate. Sources slower than FPS deliver every
	// frame at its own timestamp. Default 10.
	FPS float64
	// MaxWidth caps the width of delivered frames (aspect kept). Default 640.
	MaxWidth int
	// Start and Duration select a segment; zero values mean the whole input.
	Start, Duration time.Duration
	// Region is the part of the picture delivered (cropped before scaling,
	// so MaxWidth applies to it); the zero Region is the whole picture.
	// Opening a file's video fails with ErrBadRegion when it is invalid or
	// too small a part of that video (Region.Apply).
	Region Region
}

// DefaultVideoOptions are the analysis defaults.
func DefaultVideoOptions() VideoOptions { return VideoOptions{FPS: 10, MaxWidth: 640} }

// Frame is one decoded, scaled picture.
type Frame struct {
	Index int           // 0-based count of delivered frames
	PTS   time.Duration // presentation time, relative to the input's start
	// Image is an 8-bit BGR picture. It belongs to the VideoReader and is
	// valid only until the next call to Next or Close: copy what you keep.
	Image gocv.Mat
}

// VideoReader streams frames from an ffmpeg child process. Memory use is one
// frame whatever the input's length. Close must be called; it is idempotent
// and reaps the child.
type VideoReader struct {
	p       *process      // possibly shared with AudioReaders (see Open)
	out     io.ReadCloser // the pipe the frames arrive on
	mat     gocv.Mat
	buf     []byte // aliases mat's C memory
	width   int
	height  int
	pts     chan time.Duration
	frames  int
	sampled bool
	fps     float64
	err     error
	closed  bool
	quit    chan struct{} // closed by stopPTS to release the stderr reader
	// quitOnce closes quit: on Close, or when reading failed while ffmpeg
	// ran (finish).
	quitOnce sync.Once
	offset   time.Duration
	// ffmpeg writes planar YUV 4:2:0 into yuv, converted to BGR in mat
	// (OpenCV's conversion costs a fifth of swscale's bgr24 output); y4m:
	// wrapped in YUV4MPEG2 (live streams, size learnt from its header).
	y4m       bool
	yuv       gocv.Mat
	allocated bool // mat and yuv exist
	// firstSize is the size showinfo reported for the first frame (set
	// and read by the stderr reader only); resized is set once a later
	// frame's differs (see Resized).
	firstSize image.Point
	resized   atomic.Bool
}

var (
	// Only showinfo's lines, whole: ashowinfo's (the audio frames, see
	// audioClock) have the same fields, and a file's metadata, which
	// ffmpeg prints at the same level, may hold anything after a newline.
	showinfoRE     = regexp.MustCompile(`^\[Parsed_showinfo_\d+ @ [^]]*\] (?:\[info\] )?n:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:(-?[0-9.e+-]+)`)
	showinfoSizeRE = regexp.MustCompile(` s:(\d+)x(\d+) `)
)

// OutputSize returns the frame size a VideoReader delivers for v with the
// given width cap: the upright display size scaled down to maxWidth, with
// even dimensions.
func OutputSize(v *VideoInfo, maxWidth int) (int, int) {
	w, h := v.DisplayWidth, v.DisplayHeight
	if maxWidth > 0 && w > maxWidth {
		h = int(float64(h) * float64(maxWidth) / float64(w))
		w = maxWidth
	}
	w, h = w&^1, h&^1
	if w < 2 {
		w = 2
	}
	if h < 2 {
		h = 2
	}
	return w, h
}

// OpenVideo starts decoding info's video stream. It returns ErrNoVideo when
// there is none.
func (t Tools) OpenVideo(ctx context.Context, info *Info, opts VideoOptions) (*VideoReader, error) {
	if !info.HasVideo() {
		return nil, ErrNoVideo
	}
	vr, _, err := t.open(ctx, info, opts.Start, opts.Duration, &opts, nil)
	return vr, err
}

// videoOutput returns the ffmpeg output arguments that write info's video,
// cropped, sampled and scaled per opts, as raw BGR to pipe, and a reader
// for them without its process; an error wrapping ErrBadRegion when
// opts.Region does not fit the video.
func videoOutput(info *Info, opts VideoOptions, pipe string) ([]string, *VideoReader, error) {
	if opts.FPS <= 0 {
		opts.FPS = 10
	}
	if opts.MaxWidth <= 0 {
		opts.MaxWidth = 640
	}
	v, err := opts.Region.Apply(info.Video)
	if err != nil {
		return nil, nil, err
	}
	w, h := OutputSize(v, opts.MaxWidth)
	filters := ""
	sampled := info.Video.FPS == 0 || info.Video.FPS > opts.FPS*1.01 || info.Video.VariableFrameRate
	if sampled {
		filters = "fps=" + strconv.FormatFloat(opts.FPS, 'f', -1, 64)
		// The filter emits the frames up to the end rounded to the nearest
		// output tick: a video shorter than half a tick (a single picture
		// of 1/25 s) would give none. Such a short stream keeps its last
		// frame; longer ones are sampled exactly as before.
		if shortVideo(info, opts.FPS) {
			filters += ":eof_action=pass"
		}
		filters += ","
	}
	if c := opts.Region.cropFilter(); c != "" {
		filters += c + ","
	}
	// Scale in YUV, then convert to BGR unscaled: swscale's unscaled
	// converter is SIMD, and half the cost of converting while scaling.
	filters += fmt.Sprintf("scale=%d:%d:flags=area,setsar=1,format=yuv420p,scale=flags=area,format=bgr24,showinfo=checksum=0", w, h)
	args := []string{
		"-map", "0:" + strconv.Itoa(info.Video.Index), "-an", "-sn", "-dn",
		"-vf", filters, "-fps_mode", "passthrough",
		"-f", "rawvideo", "-pix_fmt", "bgr24", pipe}
	r := newVideoReader(opts, sampled, opts.Start)
	r.width, r.height = w, h
	return args, r, nil
}

// shortVideo reports whether info's video is one picture, or lasts less
// than two frames at fps by its own or the container's stated length.
func shortVideo(info *Info, fps float64) bool {
	d := info.Video.Duration
	if d <= 0 {
		d = info.Duration
	}
	return info.Video.Frames == 1 || (d > 0 && d.Seconds() < 2/fps)
}

// DecodeVideo starts an ffmpeg that reads a live stream in the given
// container format (e.g. "ivf") from the returned writer and delivers frames
// sampled at opts.FPS, cropped to opts.Region and scaled to at most
// opts.MaxWidth. The frame size is
// that of the first decoded picture (ffmpeg scales later pictures of another
// size to it). Timestamps come from the stream. The caller writes the stream
// into w and closes w at its end; the reader then reaches io.EOF. Close the
// reader in any case.
func (t Tools) DecodeVideo(ctx context.Context, format string, opts VideoOptions) (*VideoReader, io.WriteCloser, error) {
	if opts.FPS <= 0 {
		opts.FPS = 10
	}
	if opts.MaxWidth <= 0 {
		opts.MaxWidth = 640
	}
	// Both sides even: the reader converts 4:2:0 frames, which OpenCV
	// refuses (by aborting the process) at an odd width.
	if err := opts.Region.Validate(); err != nil {
		return nil, nil, err
	}
	crop := ""
	if c := opts.Region.cropFilter(); c != "" {
		// The stream's size is not known yet: the region is not checked
		// against it, and a tiny stream gives a tiny picture.
		crop = c + ","
	}
	filters := fmt.Sprintf("fps=%s,%sscale=w='trunc(min(%d,iw)/2)*2':h=-2:flags=area,setsar=1,format=yuv420p,showinfo=checksum=0",
		strconv.FormatFloat(opts.FPS, 'f', -1, 64), crop, opts.MaxWidth)
	// -fpsprobesize 0: ffmpeg would otherwise read about 20 frames (0.7 s
	// of a call) to guess a frame rate the fps filter does not need before
	// its first picture, and again at every restart of a live decoder
	// (TestDecodeVideoStartsPromptly).
	args := []string{"-hide_banner", "-nostats", "-loglevel", "repeat+level+info",
		"-fpsprobesize", "0", "-f", format, "-i", "pipe:0", "-an", "-sn", "-dn",
		"-vf", filters, "-fps_mode", "passthrough",
		"-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", "pipe:1"}
	r := newVideoReader(opts, true, 0)
	r.y4m = true
	p, err := startFFmpeg(ctx, t.ffmpeg(), args, true, r.onLine, r.onDone)
	if err != nil {
		return nil, nil, err
	}
	r.p, r.out = p, p.outs[0]
	return r, p.stdin, nil
}

func newVideoReader(opts VideoOptions, sampled bool, offset time.Duration) *VideoReader {
	return &VideoReader{pts: make(chan time.Duration, 64), sampled: sampled, fps: opts.FPS, offset: offset, quit: make(chan struct{})}
}

// onLine takes frame timestamps from ffmpeg's showinfo filter.
func (r *VideoReader) onLine(line string) {
	m := showinfoRE.FindStringSubmatch(line)
	if m == nil {
		return
	}
	sec, err := strconv.ParseFloat(m[3], 64)
	if err != nil {
		return
	}
	if sz := showinfoSizeRE.FindStringSubmatch(line); sz != nil {
		w, _ := strconv.Atoi(sz[1])
		h, _ := strconv.Atoi(sz[2])
		switch p := image.Pt(w, h); {
		case r.firstSize == image.Point{}:
			r.firstSize = p
		case p != r.firstSize:
			r.resized.Store(true)
		}
	}
	select {
	case r.pts <- r.offset + time.Duration(sec*float64(time.Second)):
	case <-r.quit:
	}
}

func (r *VideoReader) onDone() { close(r.pts) }

// allocate creates the frame buffers for w×h frames.
func (r *VideoReader) allocate(w, h int) error {
	if r.allocated {
		return nil
	}
	r.allocated = true
	r.width, r.height = w, h
	r.mat = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	r.yuv = gocv.NewMatWithSize(h*3/2, w, gocv.MatTypeCV8UC1)
	if !r.y4m {
		buf, err := r.mat.DataPtrUint8()
		r.buf = buf
		return err
	}
	buf, err := r.yuv.DataPtrUint8()
	r.buf = buf
	return err
}

// readY4MHeader reads "YUV4MPEG2 W.. H.. ...\n" and allocates the buffers.
func (r *VideoReader) readY4MHeader() error {
	line, err := r.readLine()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "YUV4MPEG2 ") {
		return fmt.Errorf("media: unexpected decoder output %q", line)
	}
	var w, h int
	for _, f := range strings.Fields(line)[1:] {
		switch f[0] {
		case 'W':
			w, _ = strconv.Atoi(f[1:])
		case 'H':
			h, _ = strconv.Atoi(f[1:])
		}
	}
	if w <= 0 || h <= 0 || w%2 != 0 || h%2 != 0 {
		// The frames are converted from 4:2:0, which needs even sides.
		return fmt.Errorf("media: bad y4m header %q", line)
	}
	return r.allocate(w, h)
}

// readLine reads up to a newline, byte by byte (headers are short).
func (r *VideoReader) readLine() (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 256 {
		if _, err := io.ReadFull(r.out, one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
	return "", errors.New("media: y4m line too long")
}

// Size returns the delivered frame width and height.
func (r *VideoReader) Size() (int, int) { return r.width, r.height }

// Resized reports whether ffmpeg has decoded a picture whose size, after
// the crop and the scale to MaxWidth, differs from the first picture's.
// ffmpeg delivers every frame of a stream at the first picture's size,
// scaling later pictures to it; a live stream that changed its picture
// size needs a decoder restarted at its next keyframe to be delivered at
// its own size. Safe to call from any goroutine.
func (r *VideoReader) Resized() bool { return r.resized.Load() }

// Sampled reports whether frames are resampled to the analysis rate (false
// when the source is slower and every frame is delivered).
func (r *VideoReader) Sampled() bool { return r.sampled }

// Next returns the next frame. At the end of the stream it returns io.EOF,
// or a *DecodeError when ffmpeg failed; frames delivered before either are
// valid. The returned frame is valid until the next call.
func (r *VideoReader) Next() (Frame, error) { return r.next(nil) }

// NextInto is Next with the picture decoded into img (re-allocated when it
// is not an 8-bit BGR Mat of the frame size) rather than into the reader's
// buffer, so that a caller who keeps frames does not copy them. The
// returned Frame's Image is *img.
func (r *VideoReader) NextInto(img *gocv.Mat) (Frame, error) { return r.next(img) }

func (r *VideoReader) next(dst *gocv.Mat) (Frame, error) {
	if r.err != nil {
		return Frame{}, r.err
	}
	if r.closed {
		return Frame{}, io.ErrClosedPipe
	}
	if r.y4m {
		if r.buf == nil {
			if err := r.readY4MHeader(); err != nil {
				r.err = r.finish(err)
				return Frame{}, r.err
			}
		}
		line, err := r.readLine() // "FRAME[ params]"
		if err == nil && !strings.HasPrefix(line, "FRAME") {
			err = fmt.Errorf("media: y4m stream out of step: %q where a frame header should be", line)
		}
		if err != nil {
			r.err = r.finish(err)
			return Frame{}, r.err
		}
	}
	img, buf := &r.mat, r.buf
	if dst != nil {
		if dst.Rows() != r.height || dst.Cols() != r.width || dst.Type() != gocv.MatTypeCV8UC3 {
			dst.Close()
			*dst = gocv.NewMatWithSize(r.height, r.width, gocv.MatTypeCV8UC3)
		}
		img = dst
		if !r.y4m {
			b, err := dst.DataPtrUint8()
			if err != nil {
				return Frame{}, err
			}
			buf = b
		}
	}
	if _, err := io.ReadFull(r.out, buf); err != nil {
		r.err = r.finish(err)
		return Frame{}, r.err
	}
	if r.y4m {
		gocv.CvtColor(r.yuv, img, gocv.ColorYUVToBGRIYUV)
	}
	pts, ok := <-r.pts
	if !ok {
		// showinfo lines are written before the frame; missing means ffmpeg
		// is gone. Fall back to the nominal timestamp.
		pts = time.Duration(float64(r.frames) / r.fps * float64(time.Second))
	}
	f := Frame{Index: r.frames, PTS: pts, Image: *img}
	r.frames++
	return f, nil
}

// finish reaps ffmpeg after reading its output failed with readErr, and
// returns what Next reports from then on: io.EOF at the end of a stream
// ffmpeg completed, else a *DecodeError.
func (r *VideoReader) finish(readErr error) error {
	if readErr != io.EOF && !errors.Is(readErr, io.ErrUnexpectedEOF) {
		// Not the end of the output: its parsing failed (unexpected
		// output, a bad y4m header, a line too long) while ffmpeg may
		// still run. Nobody reads its output any more: it would block on
		// the full pipe and never exit, so stop it, and release the stderr
		// reader should it wait to hand over a timestamp nobody takes.
		r.p.interrupt()
		r.stopPTS()
		_ = r.p.wait() // killed: the read error says why
		_, detail := r.p.diagnostics()
		return &DecodeError{Stream: "video", Err: readErr, Detail: detail}
	}
	// The picture has ended, but ffmpeg may still decode the sound, and
	// the stderr reader must go on (the audio readers follow its
	// ashowinfo lines: see audioClock) rather than wait to hand over the
	// timestamp of a frame that was logged and never written.
	r.stopPTS()
	werr := r.p.wait()
	if werr == nil {
		return io.EOF
	}
	_, detail := r.p.diagnostics()
	return &DecodeError{Stream: "video", Err: werr, Detail: detail}
}

// stopPTS releases the stderr reader from handing timestamps over; safe to
// call more than once.
func (r *VideoReader) stopPTS() { r.quitOnce.Do(func() { close(r.quit) }) }

// Warnings returns how many warning or error lines ffmpeg logged and the last
// few of them (e.g. corrupt packets in a truncated file).
func (r *VideoReader) Warnings() (int, string) { return r.p.diagnostics() }

// Interrupt stops the decoder so that a pending or later Next returns. It
// is the one method safe to call from another goroutine; Close must still
// be called by the owner.
func (r *VideoReader) Interrupt() { r.p.interrupt() }

// Close stops decoding, reaps ffmpeg and frees the frame buffer. It is
// idempotent. Errors of the stream are reported by Next, not by Close.
func (r *VideoReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.stopPTS()
	if r.p != nil {
		_ = r.out.Close()
		_ = r.p.release()
	}
	r.buf = nil
	if r.allocated {
		_ = r.yuv.Close()
		return r.mat.Close()
	}
	return nil
}

func secondsArg(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
