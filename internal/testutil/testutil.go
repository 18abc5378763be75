// Package testutil finds the dev corpus, makes media fixtures with the real
// ffmpeg and holds small test helpers, for tests only.
package testutil

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// RepoRoot returns the repository's root folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CorpusDir returns the dev corpus folder: $BONAFIDE_CORPUS, else
// ../shared/corpus next to the repository, else /work/shared/corpus (where
// CI clones put it). A test that needs the corpus fails when it is missing:
// it is part of the test set-up, not optional.
func CorpusDir(t testing.TB) string {
	t.Helper()
	dir, ok := FindCorpus()
	require.True(t, ok, "dev corpus not found: set BONAFIDE_CORPUS to the folder holding manifest.csv")
	return dir
}

// FindCorpus looks for the corpus without failing.
func FindCorpus() (string, bool) {
	cands := []string{os.Getenv("BONAFIDE_CORPUS"), filepath.Join(RepoRoot(), "..", "shared", "corpus"), "/work/shared/corpus"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "manifest.csv")); err == nil {
			return c, true
		}
	}
	return "", false
}

// Item is one manifest row.
type Item struct {
	Path, Modality, Label, VideoLabel, AudioLabel, Kind, Source string
	Duration                                                    float64
}

// Corpus returns the manifest rows with absolute paths.
func Corpus(t testing.TB) []Item {
	t.Helper()
	dir := CorpusDir(t)
	f, err := os.Open(filepath.Join(dir, "manifest.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var out []Item
	for _, r := range rows[1:] {
		d, _ := strconv.ParseFloat(r[col["duration_s"]], 64)
		out = append(out, Item{
			Path: filepath.Join(dir, r[col["path"]]), Modality: r[col["modality"]], Label: r[col["label"]],
			VideoLabel: r[col["video_label"]], AudioLabel: r[col["audio_label"]], Kind: r[col["kind"]],
			Source: r[col["source"]], Duration: d,
		})
	}
	return out
}

// CorpusFile returns the absolute path of the first manifest item whose
// kind is kind and whose source contains sourcePart (e.g. "519.mp4").
func CorpusFile(t testing.TB, kind, sourcePart string) string {
	t.Helper()
	for _, it := range Corpus(t) {
		if it.Kind == kind && strings.Contains(it.Source, sourcePart) {
			return it.Path
		}
	}
	t.Fatalf("no corpus item of kind %q with source containing %q", kind, sourcePart)
	return ""
}

// CorpusItem is CorpusFile restricted to one modality ("audio" or
// "video").
func CorpusItem(t testing.TB, modality, kind, sourcePart string) string {
	t.Helper()
	for _, it := range Corpus(t) {
		if it.Modality == modality && it.Kind == kind && strings.Contains(it.Source, sourcePart) {
			return it.Path
		}
	}
	t.Fatalf("no %s corpus item of kind %q with source containing %q", modality, kind, sourcePart)
	return ""
}

// FFmpeg runs ffmpeg with args (after -y -hide_banner -loglevel error) and
// fails the test on error.
func FFmpeg(t testing.TB, args ...string) {
	t.Helper()
	full := append([]string{"-y", "-hide_banner", "-nostdin", "-loglevel", "error"}, args...)
	var stderr bytes.Buffer
	cmd := exec.Command("ffmpeg", full...)
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "ffmpeg %s: %s", strings.Join(args, " "), stderr.String())
}

// ChildProcesses returns the pids of this process's live children.
func ChildProcesses() []int {
	me := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 2 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == me {
				out = append(out, pid)
			}
		}
	}
	return out
}

// NoChildProcesses fails the test if this process has live children.
func NoChildProcesses(t testing.TB) {
	t.Helper()
	require.Empty(t, ChildProcesses(), "leaked child processes")
}

// SyncBuffer is a bytes.Buffer that a logger or a child process may write
// while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
