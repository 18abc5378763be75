// Package whiptest is a WebRTC publisher for tests and benchmarks: it sends
// a video file (VP8 or VP9 in IVF, or H.264 in Annex B with the extension
// .h264) and an Ogg/Opus file as live tracks, paced in real time, to any
// WHIP-style answerer.
package whiptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// Answerer turns an SDP offer into an SDP answer (e.g. an HTTP POST to a
// WHIP URL, or a direct call to an endpoint).
type Answerer func(offer string) (answer string, err error)

// Publisher is a running test publisher. Close is idempotent and waits for
// its sending goroutines.
type Publisher struct {
	pc        *webrtc.PeerConnection
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	connected chan struct{}
	mu        sync.Mutex
	err       error
	closeOnce sync.Once
	finished  chan struct{} // closed when every file has been sent
}

// Publish connects to answer and streams the files (either may be "") in
// real time, looping them until ctx ends or Close is called if loop is set.
func Publish(ctx context.Context, answer Answerer, videoIVF, audioOgg string, loop bool) (*Publisher, error) {
	return PublishWith(ctx, answer, Options{Video: videoIVF, Audio: audioOgg, Loop: loop})
}

// Options are PublishWith's files and timing.
type Options struct {
	Video, Audio string // either may be ""
	Loop         bool
	// VideoDelay holds the video back after the connection is up, as a
	// camera that starts later than the microphone.
	VideoDelay time.Duration
	// API builds the PeerConnection (nil: pion's defaults), e.g. one whose
	// SettingEngine sends everything through a socket a test can close.
	API *webrtc.API
	// AudioLost, when set, says which audio packets are lost on the way,
	// by their start in the stream: they are not sent, and the RTP
	// timestamps jump over them, as a receiver sees a lost packet.
	AudioLost func(at time.Duration) bool
}

// PublishWith is Publish with Options.
func PublishWith(ctx context.Context, answer Answerer, o Options) (*Publisher, error) {
	videoIVF, audioOgg, loop := o.Video, o.Audio, o.Loop
	newPC := webrtc.NewPeerConnection
	if o.API != nil {
		newPC = o.API.NewPeerConnection
	}
	pc, err := newPC(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Publisher{pc: pc, cancel: cancel, connected: make(chan struct{}), finished: make(chan struct{})}
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(p.connected) })
		}
	})
	var senders []func(context.Context) error
	if videoIVF != "" {
		mime, send, err := videoSender(videoIVF)
		if err != nil {
			p.Close()
			return nil, err
		}
		track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, "video", "bonafide-test")
		if err != nil {
			p.Close()
			return nil, err
		}
		if _, err := pc.AddTrack(track); err != nil {
			p.Close()
			return nil, err
		}
		senders = append(senders, func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(o.VideoDelay):
			}
			return send(ctx, track, videoIVF, loop)
		})
	}
	if audioOgg != "" {
		track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "bonafide-test")
		if err != nil {
			p.Close()
			return nil, err
		}
		if _, err := pc.AddTrack(track); err != nil {
			p.Close()
			return nil, err
		}
		senders = append(senders, func(ctx context.Context) error { return sendOgg(ctx, track, audioOgg, loop, o.AudioLost) })
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		p.Close()
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		p.Close()
		return nil, err
	}
	<-gathered
	ans, err := answer(pc.LocalDescription().SDP)
	if err != nil {
		p.Close()
		return nil, err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		p.Close()
		return nil, err
	}
	select {
	case <-p.connected:
	case <-time.After(15 * time.Second):
		p.Close()
		return nil, errors.New("whiptest: ICE did not connect within 15 s")
	}
	var done sync.WaitGroup
	for _, send := range senders {
		p.wg.Add(1)
		done.Add(1)
		go func() {
			defer p.wg.Done()
			defer done.Done()
			if err := send(ctx); err != nil && !errors.Is(err, context.Canceled) {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}()
	}
	p.wg.Add(1)
	go func() { defer p.wg.Done(); done.Wait(); close(p.finished) }()
	return p, nil
}

// Finished is closed when every file has been sent (never when looping).
func (p *Publisher) Finished() <-chan struct{} { return p.finished }

// Err returns the first sending error.
func (p *Publisher) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Close stops sending and closes the connection.
func (p *Publisher) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.cancel()
		p.wg.Wait()
		err = p.pc.Close()
	})
	return err
}

type sender func(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string, loop bool) error

// videoSender picks the codec of a video file: H.264 for .h264 (Annex B),
// else the IVF header's fourcc (VP80 or VP90).
func videoSender(path string) (mime string, send sender, err error) {
	if strings.EqualFold(filepath.Ext(path), ".h264") {
		return webrtc.MimeTypeH264, sendH264, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	_, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		return "", nil, fmt.Errorf("ivf: %w", err)
	}
	switch hdr.FourCC {
	case "VP80":
		return webrtc.MimeTypeVP8, sendIVF, nil
	case "VP90":
		return webrtc.MimeTypeVP9, sendIVF, nil
	}
	return "", nil, fmt.Errorf("whiptest: IVF with fourcc %q: only VP80 and VP90 are sent", hdr.FourCC)
}

func sendIVF(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string, loop bool) error {
	for {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		r, hdr, err := ivfreader.NewWith(f)
		if err != nil {
			f.Close()
			return err
		}
		dur := time.Duration(float64(time.Second) * float64(hdr.TimebaseNumerator) / float64(hdr.TimebaseDenominator))
		tick := time.NewTicker(dur)
		for {
			frame, _, err := r.ParseNextFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tick.Stop()
				f.Close()
				return fmt.Errorf("ivf: %w", err)
			}
			select {
			case <-ctx.Done():
				tick.Stop()
				f.Close()
				return ctx.Err()
			case <-tick.C:
			}
			if err := track.WriteSample(media.Sample{Data: frame, Duration: dur}); err != nil {
				tick.Stop()
				f.Close()
				return err
			}
		}
		tick.Stop()
		f.Close()
		if !loop {
			return nil
		}
	}
}

func sendOgg(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string, loop bool, lost func(time.Duration) bool) error {
	for {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		r, _, err := oggreader.NewWith(f)
		if err != nil {
			f.Close()
			return err
		}
		// Each page (one packet) is sent when its time comes, whatever its
		// length (ffmpeg's libopus writes 20-ms frames unless told).
		timer := time.NewTimer(0)
		next := time.Now()
		var last uint64
		var dropped uint16
		err = func() error {
			defer timer.Stop()
			for {
				data, hdr, err := r.ParseNextPage()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return fmt.Errorf("ogg: %w", err)
				}
				// Header pages carry no audio.
				if hdr.GranulePosition == 0 {
					continue
				}
				samples := hdr.GranulePosition - last
				at := time.Duration(last) * time.Second / 48000
				last = hdr.GranulePosition
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
				d := time.Duration(samples) * time.Second / 48000
				next = next.Add(d)
				timer.Reset(time.Until(next))
				if lost != nil && lost(at) {
					dropped++
					continue
				}
				err = track.WriteSample(media.Sample{Data: data, Duration: d, PrevDroppedPackets: dropped})
				dropped = 0
				if err != nil {
					return err
				}
			}
		}()
		f.Close()
		if err != nil || !loop {
			return err
		}
	}
}

// sendH264 sends an Annex-B H.264 file one access unit per frame interval
// (25 fps): the parameter sets and SEI that precede a slice go with it.
// The file must have one slice per picture (x264's default).
func sendH264(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string, loop bool) error {
	const frame = 40 * time.Millisecond
	tick := time.NewTicker(frame)
	defer tick.Stop()
	for {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		r, err := h264reader.NewReader(f)
		if err != nil {
			f.Close()
			return err
		}
		var au []byte
		for {
			nal, err := r.NextNAL()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("h264: %w", err)
			}
			au = append(append(au, 0, 0, 0, 1), nal.Data...)
			if nal.UnitType != h264reader.NalUnitTypeCodedSliceIdr && nal.UnitType != h264reader.NalUnitTypeCodedSliceNonIdr {
				continue
			}
			select {
			case <-ctx.Done():
				f.Close()
				return ctx.Err()
			case <-tick.C:
			}
			if err := track.WriteSample(media.Sample{Data: au, Duration: frame}); err != nil {
				f.Close()
				return err
			}
			au = nil
		}
		f.Close()
		if !loop {
			return nil
		}
	}
}
