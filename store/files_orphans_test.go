package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The start-up sweep removes the recordings and evidence folders of
// interviews that no longer exist, and nothing else.
func TestCleanOrphans(t *testing.T) {
	f := Files{Root: t.TempDir()}
	require.NoError(t, f.Init())
	kept, gone, goneEv := NewID(), NewID(), NewID()
	write := func(path string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
		require.NoError(t, os.WriteFile(path, []byte("x"), 0o600))
	}
	write(filepath.Join(f.MediaDir(), kept+".mp4"))
	write(filepath.Join(f.EvidenceRoot(), kept, "face-1.jpg"))
	write(filepath.Join(f.MediaDir(), gone+".webm"))
	write(filepath.Join(f.EvidenceRoot(), goneEv, "face-1.jpg"))
	write(filepath.Join(f.MediaDir(), "README.txt"))                  // names no interview
	write(filepath.Join(f.MediaDir(), "Not-An-Id.mp4"))               // nor this
	write(filepath.Join(f.EvidenceRoot(), "lost+found", "something")) // nor this
	exists := func(id string) (bool, error) { return id == kept, nil }

	removed, err := f.CleanOrphans(exists)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{gone, goneEv}, removed)
	assert.FileExists(t, filepath.Join(f.MediaDir(), kept+".mp4"))
	assert.DirExists(t, filepath.Join(f.EvidenceRoot(), kept))
	assert.NoFileExists(t, filepath.Join(f.MediaDir(), gone+".webm"))
	assert.NoDirExists(t, filepath.Join(f.EvidenceRoot(), goneEv))
	assert.FileExists(t, filepath.Join(f.MediaDir(), "README.txt"))
	assert.FileExists(t, filepath.Join(f.MediaDir(), "Not-An-Id.mp4"))
	assert.DirExists(t, filepath.Join(f.EvidenceRoot(), "lost+found"))

	// When the store cannot answer, nothing is removed.
	write(filepath.Join(f.MediaDir(), gone+".webm"))
	removed, err = f.CleanOrphans(func(string) (bool, error) { return false, errors.New("database is locked") })
	require.Error(t, err)
	assert.Empty(t, removed)
	assert.FileExists(t, filepath.Join(f.MediaDir(), gone+".webm"))
}
