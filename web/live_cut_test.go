package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/bonafide-dev/bonafide/internal/whiptest"
)

// cutPublisher is a WebRTC publisher whose network can be cut: all its
// packets go through one UDP socket, and Cut closes that socket, so the
// peer vanishes without a DTLS close or any other goodbye — like a crashed
// tab or a lost network. Close stops everything and waits.
type cutPublisher struct {
	pc     *webrtc.PeerConnection
	conn   net.PacketConn
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

func newCutPublisher(answer whiptest.Answerer, ivf, ogg string) (*cutPublisher, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetICEUDPMux(webrtc.NewICEUDPMux(nil, conn))
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &cutPublisher{pc: pc, conn: conn, cancel: cancel}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "cut")
	if err == nil {
		_, err = pc.AddTrack(video)
	}
	audio, err2 := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "cut")
	if err = errors.Join(err, err2); err == nil {
		_, err = pc.AddTrack(audio)
	}
	if err == nil {
		err = publishOffer(pc, answer, "cut publisher")
	}
	if err != nil {
		return nil, errors.Join(err, p.Close())
	}
	p.wg.Add(2)
	go func() { defer p.wg.Done(); _ = loopIVF(ctx, video, ivf) }()
	go func() { defer p.wg.Done(); _ = loopOgg(ctx, audio, ogg) }()
	return p, nil
}

// Cut closes the publisher's socket: from now on nothing reaches the
// server, not even a goodbye.
func (p *cutPublisher) Cut() error { return p.conn.Close() }

// Close stops sending and closes the connection. It is idempotent.
func (p *cutPublisher) Close() error {
	var err error
	p.once.Do(func() {
		p.cancel()
		p.wg.Wait()
		err = p.pc.Close()
		if cerr := p.conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
	})
	return err
}

// loopIVF sends an IVF file's frames in real time, over and over, until
// ctx ends (sending errors after a cut are ignored: the point is silence).
func loopIVF(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string) error {
	for {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		r, hdr, err := ivfreader.NewWith(f)
		if err != nil {
			return errors.Join(err, f.Close())
		}
		dur := time.Duration(float64(time.Second) * float64(hdr.TimebaseNumerator) / float64(hdr.TimebaseDenominator))
		tick := time.NewTicker(dur)
		for err == nil {
			var frame []byte
			if frame, _, err = r.ParseNextFrame(); err != nil {
				break
			}
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-tick.C:
				_ = track.WriteSample(media.Sample{Data: frame, Duration: dur})
			}
		}
		tick.Stop()
		if cerr := f.Close(); cerr != nil {
			return cerr
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
	}
}

// loopOgg sends an Ogg/Opus file (one 20-ms packet per page) in real time,
// over and over, until ctx ends.
func loopOgg(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string) error {
	for {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		r, _, err := oggreader.NewWith(f)
		if err != nil {
			return errors.Join(err, f.Close())
		}
		tick := time.NewTicker(20 * time.Millisecond)
		var last uint64
		for err == nil {
			var data []byte
			var hdr *oggreader.OggPageHeader
			if data, hdr, err = r.ParseNextPage(); err != nil {
				break
			}
			if hdr.GranulePosition == 0 {
				continue
			}
			samples := hdr.GranulePosition - last
			last = hdr.GranulePosition
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-tick.C:
				_ = track.WriteSample(media.Sample{Data: data, Duration: time.Duration(samples) * time.Second / 48000})
			}
		}
		tick.Stop()
		if cerr := f.Close(); cerr != nil {
			return cerr
		}
		if !errors.Is(err, io.EOF) {
			return fmt.Errorf("ogg: %w", err)
		}
	}
}
