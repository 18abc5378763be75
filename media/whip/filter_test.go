package whip

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPublicIPFilter(t *testing.T) {
	for _, tc := range []struct {
		public []string
		local  string
		keep   bool
	}{
		{[]string{"203.0.113.7"}, "10.0.0.5", true},        // rewritten to the public address
		{[]string{"203.0.113.7"}, "127.0.0.1", true},       // rewritten too
		{[]string{"203.0.113.7"}, "fd00::2", false},        // private IPv6 next to a public IPv4
		{[]string{"203.0.113.7"}, "fe80::1", false},        // link-local
		{[]string{"203.0.113.7"}, "2a05:d018::1", true},    // a cloud machine's global IPv6
		{[]string{"2001:db8::7"}, "192.168.1.4", false},    // private IPv4 next to a public IPv6
		{[]string{"2001:db8::7"}, "fd00::2", true},         // rewritten
		{[]string{"::ffff:203.0.113.7"}, "10.0.0.5", true}, // an IPv4-mapped public address is IPv4
		{[]string{"203.0.113.7", "2001:db8::7"}, "fd00::2", true},
	} {
		got := publicIPFilter(tc.public)(net.ParseIP(tc.local))
		assert.Equal(t, tc.keep, got, "public %v, local %s", tc.public, tc.local)
	}
}
