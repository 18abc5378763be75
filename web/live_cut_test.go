package web

import (
	"context"
	"errors"
	"net"

	"github.com/pion/webrtc/v4"

	"github.com/bonafide-dev/bonafide/internal/whiptest"
)

// cutPublisher is a WebRTC publisher whose network can be cut: all its
// packets go through one UDP socket, and Cut closes that socket, so the
// peer vanishes without a DTLS close or any other goodbye — like a crashed
// tab or a lost network. It loops its files until then. Close stops
// everything and waits.
type cutPublisher struct {
	*whiptest.Publisher
	conn net.PacketConn
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
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	pub, err := whiptest.PublishWith(context.Background(), answer, whiptest.Options{Video: ivf, Audio: ogg, Loop: true, API: api})
	if err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	return &cutPublisher{Publisher: pub, conn: conn}, nil
}

// Cut closes the publisher's socket: from now on nothing reaches the
// server, not even a goodbye.
func (p *cutPublisher) Cut() error { return p.conn.Close() }

// Close stops sending, closes the connection and the socket. It is
// idempotent.
func (p *cutPublisher) Close() error {
	err := p.Publisher.Close()
	if cerr := p.conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}
