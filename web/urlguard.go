package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/bonafide-dev/bonafide/jobs"
)

// ErrURLRefused means a webhook URL points where the service must not
// send requests. It wraps jobs.ErrPermanent: retrying cannot help.
var ErrURLRefused = fmt.Errorf("%w: webhook URL refused", jobs.ErrPermanent)

// URLGuard keeps outbound requests (webhooks) away from the machine itself
// and internal networks: loopback, private, link-local, site-local, CGNAT,
// multicast, unspecified and reserved addresses, and IPv6 addresses that
// embed an IPv4 one (IPv4-mapped ones are checked as that IPv4; IPv4-
// compatible, IPv4-translated, NAT64, 6to4 and Teredo are refused), unless
// an allowed range contains them. It checks URLs when they are registered and, through
// Control, every address actually dialled (so DNS cannot be used to point
// a public name at an internal address later).
type URLGuard struct {
	Allow []netip.Prefix
}

// blocked lists ranges outside the public internet (besides what
// netip.Addr's own predicates catch).
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	// IPv6 forms that embed an IPv4 address (which may be internal), or
	// that reach networks other than the public IPv6 internet.
	netip.MustParsePrefix("::/96"),           // IPv4-compatible ::a.b.c.d (deprecated; includes :: and ::1)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 (may embed an internal IPv4)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001::/32"),       // Teredo (embeds the server's and the client's IPv4)
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds an IPv4)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, internal)
}

// CheckAddr reports an error when a is not a public address and no
// allowed range contains it.
func (g *URLGuard) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	for _, p := range g.Allow {
		if p.Contains(a) {
			return nil
		}
	}
	internal := !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast()
	for _, p := range blocked {
		if p.Contains(a) {
			internal = true
		}
	}
	if internal {
		return fmt.Errorf("%w: %s is a loopback, private or reserved address (allow it with --webhook-allow)", ErrURLRefused, a)
	}
	return nil
}

// CheckURL validates a webhook URL: http or https, a host, no
// credentials, and every address the host resolves to allowed.
func (g *URLGuard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURLRefused, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: the scheme must be http or https", ErrURLRefused)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: the URL needs a host", ErrURLRefused)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: credentials in the URL are not allowed", ErrURLRefused)
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		return u, g.CheckAddr(a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot resolve %s: %v", ErrURLRefused, host, err)
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Control is a net.Dialer Control function that refuses connections to
// disallowed addresses, after DNS resolution and before connecting.
func (g *URLGuard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrURLRefused, err)
	}
	return g.CheckAddr(ap.Addr())
}

// isRefused reports a guard refusal anywhere in err's chain (the HTTP
// client wraps dial errors).
func isRefused(err error) bool { return errors.Is(err, ErrURLRefused) }
