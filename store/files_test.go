package store

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDataFolderPrivate: a data folder and databases left world-readable
// (made under umask 022 by an older version, or by hand) are restricted
// to their owner when the service starts on them; new ones are created
// that way.
func TestDataFolderPrivate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rootMode fs.FileMode // of the existing folder; 0: none yet
		dbMode   fs.FileMode // of existing databases and -wal/-shm; 0: none yet
		wantRoot fs.FileMode
	}{
		{"new folder", 0, 0, 0o750},
		{"existing 0755 folder, new databases", 0o755, 0, 0o750},
		{"existing 0777 folder, 0644 databases", 0o777, 0o644, 0o750},
		{"existing 0700 folder stays 0700", 0o700, 0o640, 0o700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "data")
			f := Files{Root: root}
			if tc.rootMode != 0 {
				require.NoError(t, os.Mkdir(root, 0o700))
				require.NoError(t, os.MkdirAll(f.MediaDir(), 0o700))
				require.NoError(t, os.Chmod(f.MediaDir(), tc.rootMode))
				require.NoError(t, os.Chmod(root, tc.rootMode))
			}
			if tc.dbMode != 0 {
				// Databases as a previous run left them: written, with a
				// WAL and its index.
				require.NoError(t, f.Init())
				s, err := OpenSQLite(context.Background(), f.DBPath(), nil)
				require.NoError(t, err)
				_, err = s.CreateUser(context.Background(), "a@example.com", RoleAdmin, "hash")
				require.NoError(t, err)
				q, err := OpenSQLiteDB(f.QueuePath())
				require.NoError(t, err)
				_, err = q.Exec(`CREATE TABLE t (x)`)
				require.NoError(t, err)
				// Left open, as a crashed run leaves its -wal and -shm.
				defer s.Close()
				defer q.Close()
				require.Contains(t, dbFiles(t, root), f.DBPath()+"-wal")
				for _, p := range dbFiles(t, root) {
					require.NoError(t, os.Chmod(p, tc.dbMode))
				}
				require.NoError(t, os.Chmod(root, tc.rootMode))
				require.NoError(t, os.Chmod(f.MediaDir(), tc.rootMode))
			}

			require.NoError(t, f.Init())
			assertMode(t, root, tc.wantRoot)
			assertMode(t, f.MediaDir(), tc.wantRoot)

			s, err := OpenSQLite(context.Background(), f.DBPath(), nil)
			require.NoError(t, err)
			defer s.Close()
			q, err := OpenSQLiteDB(f.QueuePath())
			require.NoError(t, err)
			defer q.Close()
			// Write through both, so that SQLite has its -wal and -shm open.
			_, err = s.CreateUser(context.Background(), "b@example.com", RoleRecruiter, "hash")
			require.NoError(t, err)
			_, err = q.Exec(`CREATE TABLE IF NOT EXISTS u (x)`)
			require.NoError(t, err)
			files := dbFiles(t, root)
			require.Contains(t, files, f.DBPath()+"-wal")
			require.Contains(t, files, f.QueuePath()+"-shm")
			for _, p := range files {
				fi, err := os.Stat(p)
				require.NoError(t, err)
				assert.Zero(t, fi.Mode().Perm()&0o077, "%s is %v: readable by others", filepath.Base(p), fi.Mode().Perm())
			}
		})
	}
}

// dbFiles lists the database files in root: bonafide.db, queue.db and
// their -wal, -shm.
func dbFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"bonafide.db*", "queue.db*"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		require.NoError(t, err)
		out = append(out, m...)
	}
	require.NotEmpty(t, out)
	return out
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode().Perm(), path)
}
