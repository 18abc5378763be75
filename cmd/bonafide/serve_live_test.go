package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestServeLiveFlagErrors: bad live-session flags are usage errors (64),
// caught before anything starts.
func TestServeLiveFlagErrors(t *testing.T) {
	for _, extra := range [][]string{
		{"--whip-udp-ports", "50000"},
		{"--whip-udp-ports", "50010-50000"},
		{"--whip-udp-ports", "0-10"},
		{"--public-ip", "not-an-ip"},
		{"--public-url", "https://example.com/bonafide"},
		{"--live-max-sessions", "0"},
		{"--live-fps", "0"},
		{"--live-segment", "1s"},
		{"--live-alert-score", "2"},
	} {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			args := append([]string{"serve", "--data", t.TempDir()}, extra...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
			assert.Equal(t, exitUsage, code, "stderr: %s", stderr.String())
		})
	}
}
