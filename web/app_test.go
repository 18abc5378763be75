package web

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// A server told to stop while it is still starting (recovering the jobs of
// the previous run) shuts down cleanly: Serve returns nil, as after any
// other shutdown.
func TestServeStoppedWhileStarting(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Analysis = realAnalysis(t)
	app, err := New(context.Background(), cfg)
	require.NoError(t, err)
	defer app.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, app.Serve(ctx, ln))
	require.NoError(t, app.Close())
}
