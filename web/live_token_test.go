package web

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// A start that cannot write the key fails and leaves nothing behind: the
// next start makes a whole key rather than refusing a part of one.
func TestLiveTokenKeyWriteFails(t *testing.T) {
	tests := []struct {
		name  string
		write func(f *os.File, key []byte) error // replaces writeLiveKey
		setup func(t *testing.T, dir string)
		want  error
	}{
		{
			name: "disk full half way",
			write: func(f *os.File, key []byte) error {
				if _, err := f.Write(key[:len(key)/2]); err != nil {
					return err
				}
				return syscall.ENOSPC
			},
			want: syscall.ENOSPC,
		},
		{
			name: "sync fails",
			write: func(f *os.File, key []byte) error {
				if _, err := f.Write(key); err != nil {
					return err
				}
				return syscall.EIO
			},
			want: syscall.EIO,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			write := writeLiveKey
			if tt.write != nil {
				write = tt.write
			}
			_, err := loadLiveTokensWith(dir, write)
			require.ErrorIs(t, err, tt.want)
			assert.Empty(t, dirNames(t, dir), "neither a key nor a temporary file is left")

			// The disk has room again.
			require.NoError(t, os.Chmod(dir, 0o700))
			lt, err := loadLiveTokens(dir)
			require.NoError(t, err, "the next start makes a key")
			assert.Len(t, lt.key, liveKeySize)
			assert.Equal(t, []string{liveKeyFile}, dirNames(t, dir))
			st, err := os.Stat(filepath.Join(dir, liveKeyFile))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		})
	}
}

// A key file shorter than a key (made by an older version that failed half
// way, or by hand) is refused with a message that names the file and says
// what to do.
func TestLiveTokenKeyShortFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, liveKeyFile)
	require.NoError(t, os.WriteFile(path, []byte("short"), 0o600))
	_, err := loadLiveTokens(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "5 bytes, shorter than 32")
	assert.Contains(t, err.Error(), "remove the file")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "short", string(b), "left for the operator")
}

// Starts racing on an empty folder all end with the same key, and leave
// only the key.
func TestLiveTokenKeyConcurrentStarts(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lt, err := loadLiveTokens(dir)
			errs[i] = err
			if err == nil {
				keys[i] = lt.key
			}
		}()
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, keys[0], keys[i], "start %d", i)
	}
	assert.Len(t, keys[0], liveKeySize)
	assert.Equal(t, []string{liveKeyFile}, dirNames(t, dir))
}
