package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// Files is the on-disk layout of a data folder:
//
//	DIR/bonafide.db        accounts, interviews, reports, webhooks (SQLite)
//	DIR/queue.db           the job queue (River)
//	DIR/media/ID.EXT       uploaded recordings
//	DIR/evidence/ID/       face crops and spectrograms of one interview
//	DIR/tmp/               uploads being received (emptied at start-up)
type Files struct {
	Root string
}

// validID matches the interview IDs this package generates (NewID) and the
// only ones it will turn into paths.
var (
	validID  = regexp.MustCompile(`^[a-z0-9]{8,40}$`)
	validExt = regexp.MustCompile(`^\.[A-Za-z0-9]{1,8}$`)
)

// ErrBadID means an interview ID that cannot name a file.
var ErrBadID = fmt.Errorf("%w: malformed interview id", ErrInvalid)

// Init creates the folders, owner and group only (0750). Folders that
// already exist lose any group-write and world permission (0755 becomes
// 0750, 0700 stays), so that recordings, evidence and the databases are
// not readable by other users of the machine whatever the umask was when
// the folder was made. This is best effort: a folder the service may use
// but does not own (a shared group folder, a bind mount) keeps its mode,
// since only its owner may change it.
func (f Files) Init() error {
	if f.Root == "" {
		return fmt.Errorf("%w: empty data folder", ErrInvalid)
	}
	for _, d := range []string{f.Root, f.MediaDir(), f.EvidenceRoot(), f.TmpDir()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
		if err := restrictMode(d, 0o027); err != nil {
			return fmt.Errorf("restrict %s to its owner: %w", d, err)
		}
	}
	return nil
}

// restrictMode clears the permission bits in mask from path's mode, if
// any is set and the process may (the owner, or root); a file owned by
// someone else keeps its mode.
func restrictMode(path string, mask fs.FileMode) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if mode := fi.Mode().Perm(); mode&mask != 0 {
		if err := os.Chmod(path, mode&^mask); err != nil && !errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	return nil
}

// restrictSQLite makes the SQLite database at path owner-only (0600)
// before it is opened: it creates the file when missing, and takes group
// and world permissions off it and off its -wal, -shm and -journal files.
// SQLite gives the files it creates later the database file's mode.
func restrictSQLite(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := restrictMode(p, 0o077); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restrict %s to its owner: %w", p, err)
		}
	}
	return nil
}

// DBPath is the SQLite file of the store.
func (f Files) DBPath() string { return filepath.Join(f.Root, "bonafide.db") }

// QueuePath is the SQLite file of the job queue.
func (f Files) QueuePath() string { return filepath.Join(f.Root, "queue.db") }

// MediaDir holds the uploaded recordings.
func (f Files) MediaDir() string { return filepath.Join(f.Root, "media") }

// EvidenceRoot holds one evidence folder per interview.
func (f Files) EvidenceRoot() string { return filepath.Join(f.Root, "evidence") }

// TmpDir holds uploads in progress, on the same file system as MediaDir so
// that a finished upload is moved into place by a rename.
func (f Files) TmpDir() string { return filepath.Join(f.Root, "tmp") }

// EvidenceDir is the evidence folder of interview id.
func (f Files) EvidenceDir(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", ErrBadID
	}
	return filepath.Join(f.EvidenceRoot(), id), nil
}

// MediaName returns the stored file name (relative to Root) of interview
// id's recording with extension ext (".mp4"; anything odd becomes ".bin").
func (f Files) MediaName(id, ext string) (string, error) {
	if !validID.MatchString(id) {
		return "", ErrBadID
	}
	if !validExt.MatchString(ext) {
		ext = ".bin"
	}
	return filepath.Join("media", id+ext), nil
}

// Abs turns a path relative to Root into an absolute one. It refuses paths
// that leave Root.
func (f Files) Abs(rel string) (string, error) {
	if rel == "" || filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%w: path %q is not inside the data folder", ErrInvalid, rel)
	}
	return filepath.Join(f.Root, rel), nil
}

// RemoveInterview deletes interview iv's recording and evidence folder.
// Missing files are not an error.
func (f Files) RemoveInterview(iv Interview) error {
	var errs []error
	if iv.MediaFile != "" {
		p, err := f.Abs(iv.MediaFile)
		if err != nil {
			errs = append(errs, err)
		} else if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if dir, err := f.EvidenceDir(iv.ID); err != nil {
		errs = append(errs, err)
	} else if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CleanTmp removes uploads left behind by a crash.
func (f Files) CleanTmp() error {
	ents, err := os.ReadDir(f.TmpDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		errs = append(errs, os.RemoveAll(filepath.Join(f.TmpDir(), e.Name())))
	}
	return errors.Join(errs...)
}

// CleanOrphans removes recordings (media/ID.EXT) and evidence folders
// (evidence/ID/) whose interview no longer exists, as exists reports: files
// a delete could not remove, or a recording moved in just before a crash
// stopped its row from being stored. Entries that do not name an interview
// are left alone. It returns the IDs whose files it removed. Call it only
// while no upload or analysis runs (at start-up, holding the data folder's
// lock).
func (f Files) CleanOrphans(exists func(id string) (bool, error)) ([]string, error) {
	var removed []string
	var errs []error
	sweep := func(dir string, idOf func(fs.DirEntry) string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return
		}
		for _, e := range ents {
			id := idOf(e)
			if !validID.MatchString(id) {
				continue
			}
			ok, err := exists(id)
			if err != nil {
				errs = append(errs, err)
				return // the store cannot tell: remove nothing more
			}
			if ok {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, id)
		}
	}
	sweep(f.MediaDir(), func(e fs.DirEntry) string {
		if e.IsDir() {
			return ""
		}
		ext := filepath.Ext(e.Name())
		if !validExt.MatchString(ext) {
			return ""
		}
		return e.Name()[:len(e.Name())-len(ext)]
	})
	sweep(f.EvidenceRoot(), func(e fs.DirEntry) string {
		if !e.IsDir() {
			return ""
		}
		return e.Name()
	})
	return removed, errors.Join(errs...)
}
