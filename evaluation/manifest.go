// Package evaluation measures the detectors and the fusion model on a
// labelled corpus: it reads a manifest in the corpus format, analyses every
// item with N workers (caching each item's features), groups items by
// source for cross-validation, and computes AUC, EER and the false-positive
// rate and recall at each verdict threshold, overall, per modality, per
// manipulation kind and per signal. `bonafide eval` and `bonafide train` are
// thin wrappers around it.
package evaluation

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bonafide-dev/bonafide/models"
)

// Sentinel errors.
var (
	// ErrManifest means the manifest could not be read or lacks a column.
	ErrManifest = errors.New("invalid manifest")
	// ErrNoItems means there was nothing to evaluate.
	ErrNoItems = errors.New("no item could be evaluated")
)

// Label values of the manifest.
const (
	Genuine     = "genuine"
	Manipulated = "manipulated"
	None        = "none"
)

// Item is one manifest row.
type Item struct {
	// Path is the file's path as resolved against the manifest's folder;
	// Rel is the path as written in the manifest.
	Path, Rel string
	Modality  string // "audio" or "video" (the file's kind)
	// Label is manipulated when any stream is; VideoLabel and AudioLabel
	// label each stream ("none" = no such stream).
	Label, VideoLabel, AudioLabel string
	Kind                          string
	// Source says where the item came from; it is used only to group items
	// for cross-validation, never as a feature.
	Source string
}

// Manifest is a parsed manifest file.
type Manifest struct {
	Path   string
	SHA256 string // of the file's bytes
	Items  []Item
}

var requiredColumns = []string{"path", "label", "video_label", "audio_label", "kind"}

// ReadManifest reads a manifest in the corpus format (CSV with a header:
// path relative to the manifest's folder, modality, label, video_label,
// audio_label, kind, source, …).
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	sum := sha256.Sum256(data)
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrManifest, path, err)
	}
	if len(rows) < 1 {
		return nil, fmt.Errorf("%w: %s: empty", ErrManifest, path)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%w: %s: no %q column", ErrManifest, path, c)
		}
	}
	get := func(r []string, name string) string {
		if i, ok := col[name]; ok && i < len(r) {
			return strings.TrimSpace(r[i])
		}
		return ""
	}
	dir := filepath.Dir(path)
	m := &Manifest{Path: path, SHA256: hex.EncodeToString(sum[:])}
	for n, r := range rows[1:] {
		it := Item{
			Rel: get(r, "path"), Modality: get(r, "modality"),
			Label: get(r, "label"), VideoLabel: get(r, "video_label"), AudioLabel: get(r, "audio_label"),
			Kind: get(r, "kind"), Source: get(r, "source"),
		}
		if it.Rel == "" {
			return nil, fmt.Errorf("%w: %s: row %d has no path", ErrManifest, path, n+2)
		}
		for _, l := range []struct{ name, v string }{{"label", it.Label}, {"video_label", it.VideoLabel}, {"audio_label", it.AudioLabel}} {
			if l.v != Genuine && l.v != Manipulated && (l.v != None || l.name == "label") {
				return nil, fmt.Errorf("%w: %s: row %d: %s %q", ErrManifest, path, n+2, l.name, l.v)
			}
		}
		it.Path = it.Rel
		if !filepath.IsAbs(it.Path) {
			it.Path = filepath.Join(dir, it.Rel)
		}
		m.Items = append(m.Items, it)
	}
	return m, nil
}

// HashFile returns the SHA-256 of a file's content.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func toLabel(s string) models.Label {
	switch s {
	case Genuine:
		return models.LabelGenuine
	case Manipulated:
		return models.LabelManipulated
	}
	return models.LabelNone
}
