package media

import (
	"context"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents) - 1 // ReadDir's own descriptor
}

// When the descriptor limit makes one of the child's pipes fail, every
// pipe made before it is closed: none leaks (exec's own pipes are closed
// only by Start or Wait, so one made before a failing step used to leak
// both its descriptors).
func TestStartFFmpegLeaksNoPipeAtTheDescriptorLimit(t *testing.T) {
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	t.Cleanup(func() { require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)) })
	// The runtime's poller keeps its own descriptors from the first pipe
	// on: make it before counting.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.NoError(t, w.Close())
	for room := range 12 {
		before := openFDs(t)
		low := lim
		low.Cur = uint64(before + room)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
		p, err := startFFmpegOutputs(context.Background(), "/bin/true", nil, true, 1, nil, nil)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
		if err == nil {
			_ = p.close()
		}
		t.Logf("room %d: %v", room, err)
		require.Equal(t, before, openFDs(t), "room for %d more descriptors (start error: %v)", room, err)
	}
}
