package media

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// VoiceRate is the sample rate of the voice-analysis stream.
const VoiceRate = 16000

// AudioOptions sets how audio is delivered.
type AudioOptions struct {
	// SampleRate of the delivered mono PCM. Zero keeps the source's own rate
	// (the full-band stream used for band-limit analysis).
	SampleRate int
	// ChunkSamples is how many samples one Next call returns at most.
	// Default: 100 ms worth.
	ChunkSamples int
	// Start and Duration select a segment; zero values mean the whole input.
	Start, Duration time.Duration
	// HighPass, when above zero, is the cut-off (Hz) of a two-pole
	// high-pass applied before the mix to mono; the analysis asks for
	// DCHighPass. Zero delivers the samples as decoded.
	HighPass float64
	// Channels, for DecodeAudio and DecodeAudioStreams, is how many the
	// stream carries when the caller knows (a live Ogg stream it writes
	// itself); 2 lets the reader mix them (see sideSwitch). 0: not known,
	// ffmpeg mixes whatever it decodes. OpenAudio ignores it and uses the
	// probed count.
	Channels int
}

// Chunk is a run of mono samples, nominally in [-1, 1] (a high-pass may
// overshoot that a little on a full-scale recording).
type Chunk struct {
	Start   time.Duration // time of Samples[0], relative to the input's start
	Rate    int
	Samples []float32 // owned by the reader; valid until the next Next or Close
}

// AudioReader streams mono float PCM from an ffmpeg child process. Memory use
// is one chunk whatever the input's length. Close must be called; it is
// idempotent and reaps the child.
type AudioReader struct {
	p       *process      // possibly shared with other readers (see Open)
	out     io.ReadCloser // the pipe the samples arrive on
	rate    int
	raw     []byte
	samples []float32
	start   time.Duration
	n       int64 // samples delivered so far
	err     error
	closed  bool

	// Silence for the jumps in a file's timestamps (see gapThreshold):
	// clock follows them (nil: a stream from a pipe), queue holds those
	// learnt and not yet delivered, gi counts the clock's gaps learnt.
	clock       *audioClock
	queue       []readerGap
	gi          int
	silenceLeft int64     // samples of the current gap still to deliver
	pend        []float32 // read into samples and not yet delivered
	read        int64     // samples read from ffmpeg
	zeros       []float32
	filled      GapSummary

	// Stereo sources (channels 2) are mixed here: see mix.
	channels              int
	midEnergy, sideEnergy float64 // smoothed mean squares of (L±R)/√2
	side                  bool    // delivering (L−R)/√2
	sideSamples           int64
}

// OpenAudio starts decoding info's audio stream, downmixed to mono (stereo
// by the reader, which does not let a voice in opposite phase cancel: see
// sideSwitch). It
// returns ErrNoAudio when there is none.
func (t Tools) OpenAudio(ctx context.Context, info *Info, opts AudioOptions) (*AudioReader, error) {
	if !info.HasAudio() {
		return nil, ErrNoAudio
	}
	_, ars, err := t.open(ctx, info, opts.Start, opts.Duration, nil, []AudioOptions{opts})
	if err != nil {
		return nil, err
	}
	return ars[0], nil
}

// DCHighPass (Hz) is the high-pass the analysis puts in front of every
// detector: it removes a DC offset and sub-audio rumble. A constant offset
// adds to every frame's level: on one genuine dev recording an offset of
// −0.13 (−17.5 dBFS) kept every 20-ms frame within 7 dB of the quietest,
// so the voice activity detector (which asks for 12 dB) heard no speech in
// 5 s of clear reading and the recording could not be judged. Voices start
// at 60 Hz, where a two-pole filter at 20 Hz takes away 0.05 dB.
const DCHighPass = 20.0

// maxMixChannels is the most channels ffmpeg has a mixdown matrix for
// (7.1); a source with more (a multitrack recorder) has no layout to mix
// from, and ffmpeg refused it, failing the whole decode, video included.
const maxMixChannels = 8

// finiteExpr replaces a NaN or infinite sample by silence (aeval, every
// channel). Floating-point PCM can carry them (a broken export); one NaN
// entering the high-pass or the resampler's filters turns every later
// sample into NaN, so a recording went silent from its first bad sample on.
const finiteExpr = "aeval=exprs='if(isnan(val(ch))+isinf(val(ch)),0,val(ch))':c=same"

// filterArgs returns the ffmpeg audio filter arguments for o, for a source
// of the given codec and number of channels ("" and 0: not known), with
// ashowinfo first when showinfo is set (see audioClock).
// Only floating-point PCM sources get finiteExpr: a decoder of a
// compressed or integer format does not produce NaN, and the expression
// costs about 10 s of CPU per hour of 48-kHz mono sound, per output.
func (o AudioOptions) filterArgs(codec string, channels int, showinfo bool) []string {
	var filters []string
	if showinfo {
		filters = append(filters, "ashowinfo")
	}
	if strings.HasPrefix(codec, "pcm_f") {
		filters = append(filters, finiteExpr)
	}
	if channels > maxMixChannels {
		// The mean of all channels, as for identical ones the downmix of
		// a known layout gives.
		g := strconv.FormatFloat(1/float64(channels), 'g', 6, 64)
		terms := make([]string, channels)
		for i := range terms {
			terms[i] = g + "*c" + strconv.Itoa(i)
		}
		filters = append(filters, "pan=mono|c0="+strings.Join(terms, "+"))
	}
	if o.HighPass > 0 {
		// precision=f32: on integer samples (WAV, FLAC) the filter would
		// otherwise run in the source's integer format and clip an
		// overshoot, logging a warning per audio frame of a loud recording.
		filters = append(filters, "highpass=f="+strconv.FormatFloat(o.HighPass, 'f', -1, 64)+":poles=2:precision=f32")
	}
	if len(filters) == 0 {
		return nil
	}
	return []string{"-af", strings.Join(filters, ",")}
}

// audioOutput returns the ffmpeg output arguments that write info's audio,
// mono, at opts.SampleRate (0: the source's), as float PCM to pipe, and a
// reader for them without its process. With showinfo ffmpeg logs the
// output's frames for an audioClock.
func audioOutput(info *Info, opts AudioOptions, pipe string, showinfo bool) ([]string, *AudioReader) {
	rate := opts.SampleRate
	if rate <= 0 {
		rate = info.Audio.SampleRate
	}
	chunk := opts.ChunkSamples
	if chunk <= 0 {
		chunk = rate / 10
	}
	var args []string
	if info.Audio.Channels > 2 {
		// ffmpeg's default surround-to-mono matrix sums to more than one
		// (a 5.1 file with the same signal on every channel comes out 3.4×
		// louder, beyond [-1, 1]); normalise it. Mono and stereo keep the
		// default ((L+R)/√2).
		args = append(args, "-rematrix_maxval", "1")
	}
	args = append(args, "-map", "0:"+strconv.Itoa(info.Audio.Index), "-vn", "-sn", "-dn")
	args = append(args, opts.filterArgs(info.Audio.Codec, info.Audio.Channels, showinfo)...)
	channels := deliveredChannels(info.Audio.Channels)
	args = append(args, "-ac", strconv.Itoa(channels), "-ar", strconv.Itoa(rate),
		"-f", "f32le", "-c:a", "pcm_f32le", pipe)
	start := info.Audio.Offset
	if opts.Start > 0 {
		start = opts.Start
	}
	return args, newAudioReader(nil, rate, chunk, channels, start)
}

// deliveredChannels is how many channels ffmpeg delivers for a source of
// n: stereo as it is, mixed by the reader (see AudioReader.mix); any other
// layout (and an unknown one, 0) mixed to mono by ffmpeg.
func deliveredChannels(n int) int {
	if n == 2 {
		return 2
	}
	return 1
}

func newAudioReader(p *process, rate, chunk, channels int, start time.Duration) *AudioReader {
	r := &AudioReader{
		p:        p,
		rate:     rate,
		channels: channels,
		raw:      make([]byte, 4*channels*chunk),
		samples:  make([]float32, chunk),
		start:    start,
	}
	if p != nil {
		r.out = p.outs[0]
	}
	return r
}

// DecodeAudio starts an ffmpeg that reads a live stream in the given
// container format (e.g. "ogg") from the returned writer and delivers mono
// PCM at opts.SampleRate (which must be set). Timestamps start at 0 with the
// first sample. The caller writes the stream into w and closes w at its
// end; the reader then reaches io.EOF. Close the reader in any case.
func (t Tools) DecodeAudio(ctx context.Context, format string, opts AudioOptions) (*AudioReader, io.WriteCloser, error) {
	ars, w, err := t.DecodeAudioStreams(ctx, format, []AudioOptions{opts})
	if err != nil {
		return nil, nil, err
	}
	return ars[0], w, nil
}

// DecodeAudioStreams is DecodeAudio with one ffmpeg delivering the sound
// once per entry of opts (e.g. the 16-kHz voice and the source-rate
// band): the stream is written and decoded once. As with Open, each reader
// must be read on its own goroutine and closed; the last Close reaps
// ffmpeg.
func (t Tools) DecodeAudioStreams(ctx context.Context, format string, opts []AudioOptions) ([]*AudioReader, io.WriteCloser, error) {
	if len(opts) == 0 {
		return nil, nil, errors.New("media: DecodeAudioStreams needs at least one output")
	}
	args := []string{"-hide_banner", "-nostats", "-loglevel", "repeat+level+warning",
		"-f", format, "-i", "pipe:0"}
	ars := make([]*AudioReader, len(opts))
	for i, o := range opts {
		if o.SampleRate <= 0 {
			return nil, nil, errors.New("media: DecodeAudio needs a sample rate")
		}
		chunk := o.ChunkSamples
		if chunk <= 0 {
			chunk = o.SampleRate / 10
		}
		pipe := "pipe:1"
		if i > 0 {
			pipe = "pipe:" + strconv.Itoa(i+2) // fds 3, 4, …
		}
		args = append(args, "-map", "0:a:0", "-vn", "-sn", "-dn")
		args = append(args, o.filterArgs("", 0, false)...)
		channels := deliveredChannels(o.Channels)
		args = append(args, "-ac", strconv.Itoa(channels), "-ar", strconv.Itoa(o.SampleRate),
			"-f", "f32le", "-c:a", "pcm_f32le", "-flush_packets", "1", pipe)
		ars[i] = newAudioReader(nil, o.SampleRate, chunk, channels, 0)
	}
	p, err := startFFmpegOutputs(ctx, t.ffmpeg(), args, true, len(opts)-1, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	p.share(len(opts))
	for i, ar := range ars {
		ar.p, ar.out = p, p.outs[i]
	}
	return ars, p.stdin, nil
}

// Rate returns the delivered sample rate.
func (r *AudioReader) Rate() int { return r.rate }

// Next returns the next chunk. At the end it returns io.EOF, or a
// *DecodeError when ffmpeg failed; samples delivered before are valid.
func (r *AudioReader) Next() (Chunk, error) {
	if r.err != nil {
		return Chunk{}, r.err
	}
	if r.closed {
		return Chunk{}, io.ErrClosedPipe
	}
	if r.silenceLeft > 0 {
		return r.silence(), nil
	}
	if len(r.pend) == 0 {
		if err := r.fill(); err != nil {
			return Chunk{}, err
		}
	}
	k := len(r.pend)
	if len(r.queue) > 0 {
		g := r.queue[0]
		if g.pos <= r.n {
			r.queue = r.queue[1:]
			r.silenceLeft = g.length
			r.filled.Count++
			l := time.Duration(float64(g.length) / float64(r.rate) * float64(time.Second))
			r.filled.Total += l
			if l > r.filled.Longest {
				r.filled.Longest, r.filled.LongestAt = l, r.at(r.n)
			}
			return r.silence(), nil
		}
		k = int(min(int64(k), g.pos-r.n))
	}
	c := Chunk{Start: r.at(r.n), Rate: r.rate, Samples: r.pend[:k]}
	r.pend = r.pend[k:]
	r.n += int64(k)
	return c, nil
}

// at returns the chunk time of the sample delivered n-th.
func (r *AudioReader) at(n int64) time.Duration {
	return r.start + time.Duration(float64(n)/float64(r.rate)*float64(time.Second))
}

// silence delivers the next chunk of the current gap's silence.
func (r *AudioReader) silence() Chunk {
	if r.zeros == nil {
		r.zeros = make([]float32, len(r.samples))
	}
	k := int(min(int64(len(r.zeros)), r.silenceLeft))
	c := Chunk{Start: r.at(r.n), Rate: r.rate, Samples: r.zeros[:k]}
	r.silenceLeft -= int64(k)
	r.n += int64(k)
	return c
}

// fill reads the next chunk of samples from ffmpeg into pend and learns
// the gaps up to its end.
func (r *AudioReader) fill() error {
	n, err := io.ReadFull(r.out, r.raw)
	n /= 4 * r.channels
	if n == 0 {
		werr := r.p.wait()
		if werr == nil && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
			r.err = io.EOF
		} else {
			if werr == nil {
				werr = err
			}
			_, detail := r.p.diagnostics()
			r.err = &DecodeError{Stream: "audio", Err: werr, Detail: detail}
		}
		return r.err
	}
	if r.channels == 2 {
		r.mix(n)
	} else {
		for i := 0; i < n; i++ {
			r.samples[i] = sample(r.raw[4*i:])
		}
	}
	r.pend = r.samples[:n]
	r.read += int64(n)
	if r.clock != nil {
		for _, g := range r.clock.gapsUpTo(float64(r.read)/float64(r.rate), r.gi) {
			r.gi++
			pos := int64(math.Round(g.At.Seconds() * float64(r.rate)))
			length := int64(math.Round(g.Length.Seconds() * float64(r.rate)))
			if q := len(r.queue); q > 0 {
				pos = max(pos, r.queue[q-1].pos+r.queue[q-1].length)
			}
			if length > 0 {
				r.queue = append(r.queue, readerGap{pos: pos, length: length})
			}
		}
	}
	return nil
}

// readerGap is a gap placed on a reader's output: silence of length
// samples inserted once pos samples (silence before included) have been
// delivered.
type readerGap struct{ pos, length int64 }

// FilledGaps returns the silence delivered so far where the file's
// timestamps jumped ahead of its sound (a recorder that stalled; see
// gapThreshold).
func (r *AudioReader) FilledGaps() GapSummary {
	g := r.filled
	g.Unread = r.clock != nil && r.clock.isBlind()
	return g
}

// sample decodes one little-endian float32; NaN or an infinity (from a
// broken decoder) becomes 0. One infinity would otherwise make the stereo
// mix's smoothed energies NaN for good.
func sample(b []byte) float32 {
	v := math.Float32frombits(binary.LittleEndian.Uint32(b))
	if v != v || math.IsInf(float64(v), 0) {
		return 0
	}
	return v
}

// Stereo mixing (AudioReader.mix). The usual mix, (L+R)/√2 as ffmpeg's,
// cancels a voice recorded on the two channels in opposite phase (a
// miswired microphone or cable, or a channel inverted on purpose): a
// listener on headphones hears it clearly, the analysis heard nothing and
// reported no speech. So the reader also forms the difference (L−R)/√2
// and delivers it instead of the mix while it carries clearly more energy
// (sideSwitch, 6 dB), until it no longer does (sideReturn, 3 dB: the
// hysteresis keeps a borderline recording from switching back and forth).
// Energies are smoothed over about sideSmooth seconds, so a channel
// inverted mid-recording is followed within half a second. A recording in
// phase has almost nothing in the difference, and two speakers on their
// own channels put as much in the mix as in the difference, so both keep
// the mix. sideFloor (−80 dBFS) keeps near-silence from switching.
const (
	sideSwitch = 4.0
	sideReturn = 2.0
	sideSmooth = 0.3 // s
	sideFloor  = 1e-8
)

// mix turns n stereo frames of raw into mono samples (see sideSwitch).
func (r *AudioReader) mix(n int) {
	const g = math.Sqrt2 / 2
	var em, es float64
	for i := 0; i < n; i++ {
		l, rr := float64(sample(r.raw[8*i:])), float64(sample(r.raw[8*i+4:]))
		m, s := (l+rr)*g, (l-rr)*g
		em += m * m
		es += s * s
	}
	a := 1.0
	if r.n > 0 {
		a = math.Min(1, float64(n)/(sideSmooth*float64(r.rate)))
	}
	r.midEnergy += a * (em/float64(n) - r.midEnergy)
	r.sideEnergy += a * (es/float64(n) - r.sideEnergy)
	switch {
	case !r.side && r.sideEnergy > sideSwitch*r.midEnergy && r.sideEnergy > sideFloor:
		r.side = true
	case r.side && r.sideEnergy < sideReturn*r.midEnergy:
		r.side = false
	}
	sign := 1.0
	if r.side {
		sign = -1
		r.sideSamples += int64(n)
	}
	for i := 0; i < n; i++ {
		l, rr := float64(sample(r.raw[8*i:])), float64(sample(r.raw[8*i+4:]))
		r.samples[i] = float32((l + sign*rr) * g)
	}
}

// OppositePhase returns how many seconds of a stereo recording so far were
// delivered as the channels' difference because they carried the sound in
// opposite phase (see sideSwitch); 0 for other layouts.
func (r *AudioReader) OppositePhase() float64 {
	return float64(r.sideSamples) / float64(r.rate)
}

// Warnings returns how many warning or error lines ffmpeg logged and the last
// few of them.
func (r *AudioReader) Warnings() (int, string) { return r.p.diagnostics() }

// Interrupt stops the decoder so that a pending or later Next returns. It
// is the one method safe to call from another goroutine; Close must still
// be called by the owner.
func (r *AudioReader) Interrupt() { r.p.interrupt() }

// Close stops decoding and reaps ffmpeg. It is idempotent.
func (r *AudioReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	_ = r.out.Close()
	_ = r.p.release()
	return nil
}
