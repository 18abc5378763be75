package evaluation

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
)

// cacheFormat is bumped when Features or the entry layout change.
const cacheFormat = "bonafide.eval-cache/v1"

// Cache stores each item's features in Dir, one JSON file per key. The key
// is derived from the file's content hash, the analysis settings and the
// detector-set fingerprint, so a changed file, setting or detector misses
// the cache while a changed fusion model does not. A Cache is safe for
// concurrent use by several workers: entries are written to a temporary
// file and renamed.
type Cache struct {
	Dir string
	// Settings is everything besides the file that changes what the
	// detectors measure: analysis frame rate and width, and the detector
	// fingerprint (see Fingerprint).
	Settings string
}

type cacheEntry struct {
	Format   string   `json:"format"`
	Content  string   `json:"content_sha256"`
	Settings string   `json:"settings"`
	Features Features `json:"features"`
}

func (c *Cache) file(contentHash string) string {
	h := sha256.Sum256([]byte(cacheFormat + "\x00" + contentHash + "\x00" + c.Settings))
	return filepath.Join(c.Dir, hex.EncodeToString(h[:16])+".json")
}

// Get returns the cached features of a file with this content hash; ok is
// false on a miss. A corrupt entry is a miss.
func (c *Cache) Get(contentHash string) (Features, bool) {
	data, err := os.ReadFile(c.file(contentHash))
	if err != nil {
		return Features{}, false
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Format != cacheFormat || e.Content != contentHash || e.Settings != c.Settings {
		return Features{}, false
	}
	return e.Features, true
}

// Put stores features under the content hash.
func (c *Cache) Put(contentHash string, f Features) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(cacheEntry{Format: cacheFormat, Content: contentHash, Settings: c.Settings, Features: f})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, ".entry-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), c.file(contentHash)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// modulePath identifies this repository's go.mod.
const modulePath = "github.com/bonafide-dev/bonafide"

// fingerprintDirs hold the code that decides what a detector measures.
var fingerprintDirs = []string{"detectors", "media", "analysis"}

// Fingerprint identifies the detector set. Run inside the source tree (as
// with `go run ./cmd/bonafide`), it is a hash of every non-test file under
// detectors/, media/ and analysis/ of the repository found from dir upwards,
// so editing a detector invalidates the cache and retraining the model does
// not. Elsewhere it is the binary's VCS revision (with "+modified" when the
// build had local changes), and "unknown" when even that is missing, which
// the caller should report.
func Fingerprint(dir string) (string, error) {
	if root, ok := findRepo(dir); ok {
		h := sha256.New()
		var files []string
		for _, d := range fingerprintDirs {
			err := filepath.WalkDir(filepath.Join(root, d), func(p string, e fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if e.IsDir() {
					if e.Name() == "testdata" {
						return filepath.SkipDir
					}
					return nil
				}
				if strings.HasSuffix(e.Name(), "_test.go") {
					return nil
				}
				files = append(files, p)
				return nil
			})
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			rel, _ := filepath.Rel(root, f)
			fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
			h.Write(data)
		}
		return "src-" + hex.EncodeToString(h.Sum(nil))[:16], nil
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, modified := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+modified"
				}
			}
		}
		if rev != "" {
			return "vcs-" + rev + modified, nil
		}
	}
	return "unknown", nil
}

// findRepo looks for this module's go.mod from dir upwards.
func findRepo(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			found := false
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "module ") {
					found = strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
					break
				}
			}
			f.Close()
			if found {
				return dir, true
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
