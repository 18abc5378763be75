package web

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/store"
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

// A server started without any account says so in its log, with the
// command that creates one; once there is an account it does not.
func TestServeWarnsWithoutAccounts(t *testing.T) {
	dir := t.TempDir()
	serve := func() string {
		var log testutil.SyncBuffer
		cfg := testConfig(t, dir)
		cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
		_, _, stop := serveApp(t, cfg)
		// The account check follows the "serving" line and finishes
		// before Serve returns.
		require.Eventually(t, func() bool { return strings.Contains(log.String(), "msg=serving") }, 10*time.Second, 10*time.Millisecond)
		stop()
		return log.String()
	}
	out := serve()
	assert.Contains(t, out, "no accounts yet")
	assert.Contains(t, out, "bonafide user add --data "+dir+" --email EMAIL --role admin --password-stdin")

	st, err := store.OpenSQLite(context.Background(), store.Files{Root: dir}.DBPath(), nil)
	require.NoError(t, err)
	_, err = st.CreateUser(context.Background(), "admin@example.com", store.RoleAdmin, "x")
	require.NoError(t, err)
	require.NoError(t, st.Close())
	out = serve()
	assert.Contains(t, out, "serving")
	assert.NotContains(t, out, "no accounts yet")
}
