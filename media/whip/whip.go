// Package whip receives a publisher's media over WebRTC (WHIP, RFC 9725
// ingest): it answers the SDP offer with pion, records every track to disk as
// it arrives, and decodes it live through ffmpeg pipes for analysis. The
// media path never waits for analysis: between the RTP readers and the live
// decoders sit bounded queues that drop and count.
//
// A publication takes one video track and one audio track: the first of
// each kind to arrive in a codec it handles (VP8, VP9 or H.264; Opus). The
// offer is still answered when it carries more, but further tracks of a
// kind already taken are read and discarded — no decoder, no recording —
// and counted (Publication.IgnoredTracks) and logged.
//
// A publication lasts at most Config.MaxDuration (default 4 h) from its
// offer's arrival; then Done closes with Err ErrMaxDuration and its owner ends it as
// after a hang-up, which also bounds the recording's size.
//
// HTTP (status codes, auth, CORS) is the web server's business; this package
// turns an offer into an answer and a running Publication.
package whip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/bonafide-dev/bonafide/media"
)

// Sentinel errors.
var (
	// ErrBadOffer means the SDP offer could not be used (malformed, or no
	// audio or video we accept).
	ErrBadOffer = errors.New("unusable SDP offer")
	// ErrClosed is returned by a closed Endpoint.
	ErrClosed = errors.New("whip endpoint closed")
	// ErrMaxDuration is Publication.Err when the publication reached
	// Config.MaxDuration.
	ErrMaxDuration = errors.New("the publication reached its maximum duration")
)

// DefaultMaxDuration is the longest publication unless Config says
// otherwise.
const DefaultMaxDuration = 4 * time.Hour

// Config configures an Endpoint. The zero value works on loopback.
type Config struct {
	Tools  media.Tools
	Logger *slog.Logger
	// Live analysis frames: rate and width (defaults 5 fps, 640 px).
	LiveFPS   float64
	LiveWidth int
	// QueueFrames bounds the video frames waiting for the live decoder
	// (default 60); QueuePackets the audio packets (default 500). Beyond
	// them media is dropped and counted, never blocking the receiver.
	QueueFrames  int
	QueuePackets int
	// FullBand also decodes the sound at Opus's own 48 kHz into
	// Track.FullBand, for the detectors that look above the voice band
	// (the band-limit cliff of resampled synthetic voices). Both audio
	// readers share one decoder: a consumer must read each on its own
	// goroutine.
	FullBand bool
	// UDPPortMin/Max restrict ICE to a port range (0 = any).
	UDPPortMin, UDPPortMax uint16
	// PublicIPs are announced as host candidates (behind 1:1 NAT).
	PublicIPs []string
	// DisconnectTimeout is how long a vanished peer may stay silent before
	// its publication ends (default 20 s after ICE reports it disconnected).
	DisconnectTimeout time.Duration
	// MaxDuration caps a publication, counted from its offer's arrival (default
	// DefaultMaxDuration): then its Done closes and Err is ErrMaxDuration.
	MaxDuration time.Duration
	// LiveAudioFill is the longest gap in a call's audio (lost packets, a
	// pause in sending) filled with silence in the live decoder's input
	// (default 2 s); the recording fills every gap. Set it a little below
	// the silence after which the live scorer places the sound at the
	// wall clock itself (see opusGap).
	LiveAudioFill time.Duration
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.LiveFPS <= 0 {
		c.LiveFPS = 5
	}
	if c.LiveWidth <= 0 {
		c.LiveWidth = 640
	}
	if c.QueueFrames <= 0 {
		c.QueueFrames = 60
	}
	if c.QueuePackets <= 0 {
		c.QueuePackets = 500
	}
	if c.LiveAudioFill <= 0 {
		c.LiveAudioFill = defaultLiveAudioFill
	}
	if c.DisconnectTimeout <= 0 {
		c.DisconnectTimeout = 20 * time.Second
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = DefaultMaxDuration
	}
}

// Endpoint answers WHIP offers. It is safe for concurrent use.
type Endpoint struct {
	cfg Config
	api *webrtc.API
}

// NewEndpoint builds the WebRTC API: Opus audio, VP8, VP9 and H.264 video,
// pion's default interceptors (NACK, RTCP reports).
func NewEndpoint(cfg Config) (*Endpoint, error) {
	cfg.defaults()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	se.SetICETimeouts(5*time.Second, cfg.DisconnectTimeout, 2*time.Second)
	if cfg.UDPPortMin > 0 && cfg.UDPPortMax >= cfg.UDPPortMin {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, err
		}
	}
	if len(cfg.PublicIPs) > 0 {
		// The host candidates of the announced address families carry the
		// public addresses instead of the local ones (1:1 NAT). Of the other
		// family only global addresses are offered (a cloud machine's IPv6
		// address is often reachable as it is): a private or link-local
		// address next to a public one would tell the publisher the
		// server's internal address for nothing.
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, err
		}
		se.SetIPFilter(publicIPFilter(cfg.PublicIPs))
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return &Endpoint{cfg: cfg, api: api}, nil
}

// PublishOptions are the choices of one publication.
type PublishOptions struct {
	// Region is the part of the picture the live decoder delivers (the
	// candidate's tile of a shared meeting window in gallery view); the
	// zero Region is the whole picture. The recording keeps the whole.
	Region media.Region
}

// Publish answers offer and starts receiving into dir (created by the
// caller), where the tracks are recorded. It waits for ICE gathering to
// finish, so the answer carries every candidate (no trickle needed), at
// most 10 s and no longer than ctx (the offer's request) lasts. The caller
// owns the returned Publication and must Close it.
func (e *Endpoint) Publish(ctx context.Context, offer, dir string) (*Publication, string, error) {
	return e.PublishWith(ctx, offer, dir, PublishOptions{})
}

// PublishWith is Publish with options; an invalid Region returns an error
// wrapping media.ErrBadRegion.
func (e *Endpoint) PublishWith(ctx context.Context, offer, dir string, o PublishOptions) (*Publication, string, error) {
	if err := o.Region.Validate(); err != nil {
		return nil, "", err
	}
	if !strings.Contains(offer, "v=0") || !strings.Contains(offer, "m=") {
		return nil, "", fmt.Errorf("%w: not an SDP offer", ErrBadOffer)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", err
	}
	p := newPublication(e.cfg, pc, dir, o)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	if !p.acceptsSomething() {
		p.Close()
		return nil, "", fmt.Errorf("%w: it offers no Opus audio and no VP8, VP9 or H.264 video to send", ErrBadOffer)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	select {
	case <-gathered:
	case <-timeout.C:
		p.Close()
		return nil, "", errors.New("whip: ICE gathering timed out")
	case <-ctx.Done():
		p.Close()
		return nil, "", ctx.Err()
	}
	return p, pc.LocalDescription().SDP, nil
}

// publicIPFilter keeps a local address when public addresses of its family
// are announced (it is rewritten to them), and otherwise only when it is
// global: not loopback, link-local or private (RFC 1918, fc00::/7).
func publicIPFilter(public []string) func(net.IP) bool {
	var v4, v6 bool
	for _, s := range public {
		if a, err := netip.ParseAddr(s); err == nil {
			if a.Unmap().Is4() {
				v4 = true
			} else {
				v6 = true
			}
		}
	}
	return func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return false
		}
		a = a.Unmap()
		if (a.Is4() && v4) || (a.Is6() && v6) {
			return true
		}
		return a.IsGlobalUnicast() && !a.IsPrivate()
	}
}
