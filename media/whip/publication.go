package whip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/bonafide-dev/bonafide/media"
)

// Track is one received track, decoded live. The receiver of a Track owns
// its reader (Video or Audio) and must Close it; the reader reaches io.EOF
// when the track ends or the Publication is closed.
type Track struct {
	Kind  string // "video" or "audio"
	Codec string // MIME type, e.g. "video/VP8"
	Video *Frames
	Audio *media.AudioReader // mono at media.VoiceRate
	// FullBand is the same sound, mono at 48 kHz, when Config.FullBand is
	// set (else nil). It shares Audio's decoder: read each on its own
	// goroutine, and close both.
	FullBand *media.AudioReader
	// Start is the wall-clock arrival of the track's first packet; frame and
	// chunk timestamps count from it.
	Start time.Time
}

// TrackStats counts what a track received and what the live path dropped.
type TrackStats struct {
	Kind     string `json:"kind"`
	Codec    string `json:"codec"`
	Packets  int64  `json:"packets"`
	Bytes    int64  `json:"bytes"`
	Frames   int64  `json:"frames"`  // video frames (audio: packets) recorded
	Dropped  int64  `json:"dropped"` // frames/packets not decoded live because analysis lagged
	PLIsSent int64  `json:"plis_sent"`
	// DecoderRestarts counts the live video decoder's restarts for a new
	// picture size (see Frames).
	DecoderRestarts int64 `json:"decoder_restarts,omitempty"`
	// FilledSeconds is the sound missing from the stream (audio: gaps in
	// the RTP timestamps, from lost packets or pauses in sending), filled
	// in the recording so that the sound after it keeps its time.
	FilledSeconds float64 `json:"filled_seconds,omitempty"`
}

// Publication is one publisher's running session: its PeerConnection, the
// recordings and the live decoders. It takes the first video track and the
// first audio track the publisher sends (in a codec it handles); further
// tracks of either kind are read and discarded — neither decoded nor
// recorded — and counted (IgnoredTracks). Close is idempotent and waits for
// every goroutine it started.
type Publication struct {
	cfg  Config
	opts PublishOptions // set before the peer connection can deliver a track
	pc   *webrtc.PeerConnection
	dir  string

	tracks   chan Track
	done     chan struct{}
	doneOnce sync.Once
	endErr   error           // why the Publication ended itself; set before done closes
	limit    *time.Timer     // Config.MaxDuration
	ignored  atomic.Int64    // extra tracks read and discarded
	taken    map[string]bool // kinds with an accepted track; under mu

	mu      sync.Mutex
	stats   []*trackState
	closing bool
	inputs  []io.Closer // decoder stdin writers
	wg      sync.WaitGroup

	closeOnce sync.Once
}

type trackState struct {
	kind, codec string
	// file is the track's recording, "" for a track in a codec not
	// recorded. Set in onTrack, under Publication.mu, before the track's
	// goroutines start, and never changed.
	file string

	// mu guards what the track's goroutines learn while it runs.
	mu sync.Mutex
	// The recording's first frame (video: the first keyframe) or packet:
	// its arrival, RTP timestamp and the RTP clock rate (noteRecStart).
	recAt  time.Time
	recRTP uint32
	clock  uint32
	// The first RTCP sender report of the track: it pairs the sender's
	// wall clock (NTP) with an RTP timestamp, so that the tracks can be
	// aligned as they were captured rather than as they arrived.
	srNTP   uint64
	srRTP   uint32
	haveSR  bool
	packets atomic.Int64
	bytes   atomic.Int64
	frames  atomic.Int64
	dropped atomic.Int64
	plis    atomic.Int64
	// restarts counts the live video decoder's restarts for a new
	// picture size.
	restarts atomic.Int64
	// filled counts the 48-kHz samples written into the audio recording
	// for sound missing from the stream (see opusGap).
	filled atomic.Int64
}

func newPublication(cfg Config, pc *webrtc.PeerConnection, dir string, o PublishOptions) *Publication {
	p := &Publication{cfg: cfg, opts: o, pc: pc, dir: dir, tracks: make(chan Track, 4), done: make(chan struct{}), taken: map[string]bool{}}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		cfg.Logger.Debug("peer connection state", "state", s.String())
		switch s {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			p.endPeer()
		}
	})
	// The call's length is capped: past MaxDuration, Done closes (Err says
	// why) and the owner ends the session as after a hang-up. A timer, not
	// a goroutine: Close stops it.
	p.limit = time.AfterFunc(cfg.MaxDuration, func() {
		cfg.Logger.Warn("publication reached its maximum duration; ending it", "max_duration", cfg.MaxDuration)
		p.end(ErrMaxDuration)
	})
	return p
}

// acceptsSomething reports whether the negotiated transceivers receive a
// codec we handle.
func (p *Publication) acceptsSomething() bool {
	for _, t := range p.pc.GetTransceivers() {
		if t.Receiver() == nil {
			continue
		}
		for _, c := range t.Receiver().GetParameters().Codecs {
			if fourcc(c.MimeType) != "" || strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus) {
				return true
			}
		}
	}
	return false
}

// Tracks delivers each received track once, as it starts.
func (p *Publication) Tracks() <-chan Track { return p.tracks }

// Done is closed when the peer has gone (closed, failed, or silent past the
// disconnect timeout), the publication reached Config.MaxDuration (Err is
// then ErrMaxDuration) or the Publication was closed. The owner then
// closes it.
func (p *Publication) Done() <-chan struct{} { return p.done }

// Err returns, once Done is closed, why the Publication ended itself:
// ErrMaxDuration. It is nil while Done is open and when the peer went or
// Close was called.
func (p *Publication) Err() error {
	select {
	case <-p.done:
		return p.endErr
	default:
		return nil
	}
}

// IgnoredTracks counts the tracks read and discarded because the
// publication already had a track of their kind.
func (p *Publication) IgnoredTracks() int64 { return p.ignored.Load() }

func (p *Publication) endPeer() { p.end(nil) }

// end closes Done, recording cause (nil: the peer went or Close) if it is
// the first to.
func (p *Publication) end(cause error) {
	p.doneOnce.Do(func() {
		p.endErr = cause
		close(p.done)
	})
}

// Stats returns a snapshot of every track's counters.
func (p *Publication) Stats() []TrackStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]TrackStats, 0, len(p.stats))
	for _, s := range p.stats {
		out = append(out, TrackStats{Kind: s.kind, Codec: s.codec, Packets: s.packets.Load(), Bytes: s.bytes.Load(),
			Frames: s.frames.Load(), Dropped: s.dropped.Load(), PLIsSent: s.plis.Load(),
			DecoderRestarts: s.restarts.Load(), FilledSeconds: float64(s.filled.Load()) / 48000})
	}
	return out
}

func fourcc(mime string) string {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return "VP80"
	case strings.ToLower(webrtc.MimeTypeVP9):
		return "VP90"
	case strings.ToLower(webrtc.MimeTypeH264):
		return "H264"
	}
	return ""
}

// supported reports whether a track of kind in codec mime is decoded and
// recorded.
func supported(kind, mime string) bool {
	switch kind {
	case "video":
		return fourcc(mime) != ""
	case "audio":
		return strings.EqualFold(mime, webrtc.MimeTypeOpus)
	}
	return false
}

func (p *Publication) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mime := remote.Codec().MimeType
	kind := remote.Kind().String()
	log := p.cfg.Logger.With("kind", kind, "codec", mime)
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	if supported(kind, mime) && p.taken[kind] {
		// One video and one audio track per publication: a second one
		// would start another decoder and overwrite the recording. Read
		// it (so pion's buffers do not fill) and drop it.
		p.ignored.Add(1)
		p.wg.Add(1)
		p.mu.Unlock()
		log.Warn("extra track ignored: a publication takes one video and one audio track",
			"track", remote.ID(), "rid", remote.RID(), "ignored_tracks", p.ignored.Load())
		go func() {
			defer p.wg.Done()
			readToEnd(remote)
		}()
		return
	}
	st := &trackState{kind: kind, codec: mime}
	if supported(kind, mime) {
		p.taken[kind] = true
		// The name depends only on the kind, and one track per kind is
		// taken: set here, under mu, so that Files never races a track.
		st.file = filepath.Join(p.dir, recordingName[kind])
	}
	p.stats = append(p.stats, st)
	p.wg.Add(2)
	p.mu.Unlock()

	// Drain RTCP so the interceptors (NACK, reports) see it, and keep the
	// first sender report for aligning the recording.
	ssrc := uint32(remote.SSRC())
	go func() {
		defer p.wg.Done()
		for {
			pkts, _, err := recv.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				if sr, ok := pk.(*rtcp.SenderReport); ok && sr.SSRC == ssrc {
					st.noteSR(sr.NTPTime, sr.RTPTime)
				}
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		var err error
		switch {
		case kind == "video" && supported(kind, mime):
			err = p.receiveVideo(remote, st)
		case kind == "audio" && supported(kind, mime):
			err = p.receiveAudio(remote, st)
		default:
			err = fmt.Errorf("unsupported codec %s", mime)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			log.Warn("track ended with an error", "err", err)
		}
		// A receiver that failed (its recording could not be written, its
		// decoder not started) leaves the track open: it is still read to
		// its end, since pion answers a track's RTCP (NACKs, receiver
		// reports) only while it is read, and its buffers must not fill.
		readToEnd(remote)
	}()
}

// readToEnd reads and drops remote's packets until it ends.
func readToEnd(remote *webrtc.TrackRemote) {
	for {
		if _, _, err := remote.ReadRTP(); err != nil {
			return
		}
	}
}

// recordingName is the file, in the publication's directory, that a track
// of each kind is recorded into.
var recordingName = map[string]string{"video": "video.ivf", "audio": "audio.ogg"}

// offer hands a track to the consumer, or closes its reader when nobody
// will take it any more.
func (p *Publication) offer(t Track) {
	select {
	case p.tracks <- t:
	default:
		t.Close()
	}
}

// Close closes the track's readers: what its receiver does with a track it
// will not read.
func (t Track) Close() {
	for _, r := range []*media.AudioReader{t.Audio, t.FullBand} {
		if r != nil {
			r.Close()
		}
	}
	if t.Video != nil {
		t.Video.Close()
	}
}

// addInput registers a decoder input so Close can unblock it; false when the
// publication is already closing.
func (p *Publication) addInput(c io.Closer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.inputs = append(p.inputs, c)
	return true
}

func (p *Publication) sendPLI(remote *webrtc.TrackRemote, st *trackState) {
	if err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}}); err == nil {
		st.plis.Add(1)
	}
}

// receiveVideo reassembles frames (samplebuilder), records them to an IVF
// file and queues them for the live decoder, dropping (and asking for a
// keyframe) when the decoder lags.
func (p *Publication) receiveVideo(remote *webrtc.TrackRemote, st *trackState) error {
	mime := remote.Codec().MimeType
	var depack rtp.Depacketizer
	var isKey func([]byte) bool
	switch fourcc(mime) {
	case "VP80":
		depack, isKey = &codecs.VP8Packet{}, vp8Keyframe
	case "VP90":
		depack, isKey = &codecs.VP9Packet{}, vp9Keyframe
	default:
		depack, isKey = &codecs.H264Packet{}, h264Keyframe
	}
	sb := samplebuilder.New(256, depack, remote.Codec().ClockRate)

	f, err := os.Create(st.file)
	if err != nil {
		return err
	}
	defer f.Close()
	rec := newIVFWriter(f, fourcc(mime))
	defer func() {
		if rec.discontinuities+rec.capped+rec.lifted > 0 {
			p.cfg.Logger.Warn("video timestamps were inconsistent; the recording's were repaired",
				"discontinuities", rec.discontinuities, "held_to_arrival", rec.capped, "lifted_to_arrival", rec.lifted, "frames", rec.frames)
		}
	}()

	vopts := media.VideoOptions{FPS: p.cfg.LiveFPS, MaxWidth: p.cfg.LiveWidth, Region: p.opts.Region}
	vr, in, err := p.cfg.Tools.DecodeVideo(context.Background(), "ivf", vopts)
	if err != nil {
		return err
	}
	if !p.addInput(in) {
		in.Close()
		vr.Close()
		return nil
	}
	frames := newFrames(vr)
	queue := make(chan liveFrame, p.cfg.QueueFrames)
	feed := &liveFeed{p: p, st: st, opts: vopts, frames: frames, cur: vr, in: in,
		w: newIVFWriter(in, fourcc(mime)), startsOn: isKey}
	if fourcc(mime) == "H264" {
		feed.startsOn = h264ParameterSets
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		feed.run(queue)
	}()
	defer close(queue)

	started, waitKey, recording := false, true, false
	defer func() {
		if !started { // never handed out: nobody else will close it
			frames.Close()
		}
	}()
	lastPLI := time.Time{}
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return err
		}
		if !started {
			started = true
			p.offer(Track{Kind: "video", Codec: mime, Video: frames, Start: time.Now()})
			p.sendPLI(remote, st) // start at a keyframe
			lastPLI = time.Now()
		}
		if feed.wantKey.Load() && time.Since(lastPLI) > time.Second {
			p.sendPLI(remote, st)
			lastPLI = time.Now()
		}
		st.packets.Add(1)
		st.bytes.Add(int64(len(pkt.Payload)))
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			now := time.Now()
			key := isKey(s.Data)
			// The recording starts at the first keyframe and then keeps
			// every frame.
			if !recording && key {
				st.noteRecStart(now, s.PacketTimestamp, remote.Codec().ClockRate)
			}
			if recording = recording || key; recording {
				if err := rec.writeFrame(s.Data, s.PacketTimestamp, now); err != nil {
					return fmt.Errorf("record video: %w", err)
				}
				st.frames.Add(1)
			}
			// The live decoder restarts at a keyframe after any loss.
			if s.PrevDroppedPackets > 0 {
				waitKey = true
			}
			if waitKey && !key {
				st.dropped.Add(1)
				if time.Since(lastPLI) > time.Second {
					p.sendPLI(remote, st)
					lastPLI = time.Now()
				}
				continue
			}
			waitKey = false
			select {
			case queue <- liveFrame{s.Data, s.PacketTimestamp, now, key}:
			default:
				st.dropped.Add(1)
				waitKey = true
			}
		}
	}
}

// minRestartGap is the least time between two restarts of a live video
// decoder for a new picture size (or attempts, should one fail).
const minRestartGap = 2 * time.Second

// liveFrame is a video frame queued for the live decoder.
type liveFrame struct {
	data []byte
	ts   uint32
	at   time.Time // arrival (when the samplebuilder completed it)
	key  bool
}

// liveFeed writes the queued frames into the live decoder, and starts a
// new decoder at a keyframe once the delivered picture size changed (see
// Frames). Its fields belong to its goroutine (run), but wantKey, which
// the receive loop reads to ask the sender for a keyframe.
type liveFeed struct {
	p        *Publication
	st       *trackState
	opts     media.VideoOptions
	frames   *Frames
	cur      *media.VideoReader // the decoder written to
	in       io.WriteCloser     // its input
	w        *ivfWriter
	startsOn func([]byte) bool // a keyframe a new decoder can start on
	wantKey  atomic.Bool
	// lastStart is when the current decoder was started for a new size,
	// or a start failed.
	lastStart time.Time
}

// run feeds queue's frames to the decoders until queue closes or a
// decoder fails (the rest is drained and counted as dropped).
func (f *liveFeed) run(queue <-chan liveFrame) {
	defer func() { f.in.Close() }()
	for fr := range queue {
		written, err := f.restartFor(fr)
		if !written {
			err = f.w.writeFrame(fr.data, fr.ts, fr.at)
		}
		if err != nil {
			drain(queue, f.st)
			return
		}
	}
}

// restartFor starts a new decoder at fr when the current one delivers
// pictures of a size other than its first and fr can start one, and
// writes fr to it; written says whether it did. At most one restart, or
// failed start, every minRestartGap: a sender that keeps changing size
// costs one ffmpeg start per gap at most.
func (f *liveFeed) restartFor(fr liveFrame) (written bool, err error) {
	if !f.cur.Resized() || fr.at.Sub(f.lastStart) < minRestartGap {
		return false, nil
	}
	if !fr.key || !f.startsOn(fr.data) {
		f.wantKey.Store(true)
		return false, nil
	}
	f.wantKey.Store(false)
	f.lastStart = fr.at
	vr, in, ok := f.p.restartDecoder(f.opts)
	if !ok {
		return false, nil // the old decoder goes on; tried again after the gap
	}
	// The successor is queued before the old input closes: Frames reads
	// on from it at the old one's end.
	f.w.restart(in)
	err = f.w.writeFrame(fr.data, fr.ts, fr.at)
	if f.frames.add(vr, f.w.lastTime()) {
		f.st.restarts.Add(1)
	}
	f.in.Close()
	f.cur, f.in = vr, in
	return true, err
}

// restartDecoder starts a live video decoder for a picture size change;
// false (logged) when it cannot.
func (p *Publication) restartDecoder(opts media.VideoOptions) (*media.VideoReader, io.WriteCloser, bool) {
	vr, in, err := p.cfg.Tools.DecodeVideo(context.Background(), "ivf", opts)
	if err != nil {
		p.cfg.Logger.Warn("live video decoder not restarted for the new picture size", "err", err)
		return nil, nil, false
	}
	if !p.addInput(in) { // closing
		in.Close()
		vr.Close()
		return nil, nil, false
	}
	return vr, in, true
}

// drain reads queue to its end (the decoder is gone), counting each frame
// as dropped.
func drain[T any](queue <-chan T, st *trackState) {
	for range queue {
		st.dropped.Add(1)
	}
}

// receiveAudio records Opus packets to an Ogg file and queues them for the
// live decoder, dropping when it lags.
func (p *Publication) receiveAudio(remote *webrtc.TrackRemote, st *trackState) error {
	rec, err := oggwriter.New(st.file, 48000, 2)
	if err != nil {
		return err
	}
	defer rec.Close()
	// WebRTC's Opus is always two channels (RFC 7587), as the Ogg stream
	// written here says: the decoder's reader mixes them, so a voice sent
	// in opposite phase on the two channels does not cancel.
	opts := []media.AudioOptions{{SampleRate: media.VoiceRate, HighPass: media.DCHighPass, Channels: 2}}
	if p.cfg.FullBand {
		opts = append(opts, media.AudioOptions{SampleRate: 48000, HighPass: media.DCHighPass, Channels: 2})
	}
	ars, in, err := p.cfg.Tools.DecodeAudioStreams(context.Background(), "ogg", opts)
	if err != nil {
		return err
	}
	track := Track{Kind: "audio", Codec: remote.Codec().MimeType, Audio: ars[0]}
	if len(ars) > 1 {
		track.FullBand = ars[1]
	}
	if !p.addInput(in) {
		in.Close()
		track.Close()
		return nil
	}
	type arrived struct {
		pkt *rtp.Packet
		at  time.Time
	}
	queue := make(chan arrived, p.cfg.QueuePackets)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		live, err := oggwriter.NewWith(in, 48000, 2)
		if err != nil {
			in.Close()
			drain(queue, st)
			return
		}
		defer live.Close() // closes in
		// Its own gap finder: packets the live path dropped leave gaps too.
		gap := opusGap{upTo: p.cfg.LiveAudioFill}
		for a := range queue {
			payloads, _ := gap.add(a.pkt.Timestamp, a.pkt.Payload, a.at)
			if err := writeOpus(live, a.pkt, payloads); err != nil {
				drain(queue, st)
				return
			}
		}
	}()
	defer close(queue)
	started := false
	defer func() {
		if !started { // never handed out: nobody else will close it
			track.Close()
		}
	}()
	var gap opusGap
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return err
		}
		now := time.Now()
		if !started {
			started = true
			track.Start = now
			st.noteRecStart(track.Start, pkt.Timestamp, remote.Codec().ClockRate)
			p.offer(track)
		}
		st.packets.Add(1)
		st.bytes.Add(int64(len(pkt.Payload)))
		st.frames.Add(1)
		payloads, filled := gap.add(pkt.Timestamp, pkt.Payload, now)
		st.filled.Add(int64(filled))
		if err := writeOpus(rec, pkt, payloads); err != nil {
			return fmt.Errorf("record audio: %w", err)
		}
		select {
		case queue <- arrived{pkt, now}:
		default:
			st.dropped.Add(1)
		}
	}
}

// writeOpus writes the Opus packets opusGap gave for pkt (fillers for
// the sound missing before it, then pkt's own).
func writeOpus(w *oggwriter.OggWriter, pkt *rtp.Packet, payloads [][]byte) error {
	for _, p := range payloads {
		if err := w.WriteRTP(&rtp.Packet{Header: pkt.Header, Payload: p}); err != nil {
			return err
		}
	}
	return nil
}

// Close ends the session: closes the PeerConnection (ending every track),
// unblocks the live decoders' inputs, finishes the recordings and waits for
// every goroutine. Readers already handed out reach io.EOF; their owners
// close them. It is idempotent.
func (p *Publication) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closing = true
		p.mu.Unlock()
		p.limit.Stop()
		err = p.pc.Close()
		p.endPeer()
		// The feeds end when their queues close; closing the inputs too
		// unblocks a feed stuck on a decoder nobody reads.
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			p.mu.Lock()
			for _, c := range p.inputs {
				_ = c.Close()
			}
			p.mu.Unlock()
			<-done
		}
		// Tracks nobody took: close their readers.
		for {
			select {
			case t := <-p.tracks:
				t.Close()
				continue
			default:
			}
			break
		}
	})
	return err
}

func (s *trackState) noteSR(ntp uint64, rtpTS uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.haveSR {
		s.srNTP, s.srRTP, s.haveSR = ntp, rtpTS, true
	}
}

// noteRecStart records the arrival, RTP timestamp and clock rate of the
// recording's first frame or packet. Called once, by the track's goroutine.
func (s *trackState) noteRecStart(at time.Time, rtpTS, clock uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recAt, s.recRTP, s.clock = at, rtpTS, clock
}

// recStart returns the arrival of the recording's first frame or packet;
// zero while nothing was recorded.
func (s *trackState) recStart() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recAt
}

// captureStart returns the sender's wall-clock time of the recording's
// first frame or packet, from the track's first sender report; false when
// there was none.
func (s *trackState) captureStart() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.haveSR || s.clock == 0 || s.recAt.IsZero() {
		return time.Time{}, false
	}
	// RTP timestamps wrap at 32 bits; the difference is signed.
	d := float64(int32(s.recRTP-s.srRTP)) / float64(s.clock)
	return ntpTime(s.srNTP).Add(time.Duration(d * float64(time.Second))), true
}

// ntpTime converts a 64-bit NTP timestamp (seconds since 1900, 32.32
// fixed point) to a time.
func ntpTime(ntp uint64) time.Time {
	const unixFromNTP = 2208988800
	return time.Unix(int64(ntp>>32)-unixFromNTP, int64((ntp&0xffffffff)*1e9>>32))
}
