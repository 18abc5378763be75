package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/store"
)

// Submission is a recording on disk to be stored and analysed.
type Submission struct {
	// Path is the recording. SubmitFile takes ownership: on success the
	// file is moved into the data folder; on failure it is left where it is.
	Path         string
	OriginalName string // shown in lists and reports; default: base of Path
	Candidate    string
	Title        string
	Source       string // "upload" (default) or e.g. "live"
	OwnerID      int64
	// Region is the part of the picture to analyse (a candidate's tile in
	// gallery view); the zero Region is the whole picture. It is ignored
	// for a recording without video.
	Region media.Region
}

// submit probes the recording, moves it into the data folder, stores the
// interview and queues its analysis. Unusable recordings return errors
// wrapping media.ErrUnusableInput (with Path replaced by OriginalName in the
// message), and a region that does not fit the video media.ErrBadRegion;
// nothing is stored then. Any later failure undoes what was done.
func (s *server) submit(ctx context.Context, sub Submission) (store.Interview, error) {
	if sub.OriginalName == "" {
		sub.OriginalName = filepath.Base(sub.Path)
	}
	if sub.Source == "" {
		sub.Source = "upload"
	}
	info, err := s.tools.Probe(ctx, sub.Path)
	if err != nil {
		if errors.Is(err, media.ErrUnusableInput) {
			return store.Interview{}, &renamedError{err: err, from: sub.Path, to: sub.OriginalName}
		}
		return store.Interview{}, err
	}
	region, err := storedRegion(sub.Region, info)
	if err != nil {
		return store.Interview{}, err
	}
	id := store.NewID()
	rel, err := s.files.MediaName(id, strings.ToLower(filepath.Ext(sub.OriginalName)))
	if err != nil {
		return store.Interview{}, err
	}
	dst, err := s.files.Abs(rel)
	if err != nil {
		return store.Interview{}, err
	}
	if err := moveFile(sub.Path, dst); err != nil {
		return store.Interview{}, fmt.Errorf("store the recording: %w", err)
	}
	iv := store.Interview{
		ID: id, OwnerID: sub.OwnerID, Candidate: sub.Candidate, Title: sub.Title, Source: sub.Source,
		MediaFile: rel, OriginalName: sub.OriginalName, SizeBytes: info.Size, Duration: info.Duration.Seconds(),
		Status: store.StatusQueued, CreatedAt: time.Now(), Region: region,
	}
	undo := func(err error) (store.Interview, error) {
		return store.Interview{}, errors.Join(err, moveFile(dst, sub.Path))
	}
	if err := s.store.CreateInterview(ctx, iv); err != nil {
		return undo(err)
	}
	if err := s.queue.EnqueueAnalysis(ctx, id); err != nil {
		bg := context.WithoutCancel(ctx)
		return undo(errors.Join(fmt.Errorf("queue the analysis: %w", err), s.store.DeleteInterview(bg, id)))
	}
	s.log.Info("interview queued", "interview", id, "source", sub.Source, "bytes", info.Size, "seconds", iv.Duration, "region", region)
	return iv, nil
}

// storedRegion is region as an interview row keeps it for the recording
// info describes: "" for the whole picture or a recording without video,
// else its text once it fits the video (an error wrapping
// media.ErrBadRegion when it does not).
func storedRegion(region media.Region, info *media.Info) (string, error) {
	if region.Whole() || !info.HasVideo() {
		return "", nil
	}
	if _, err := region.Apply(info.Video); err != nil {
		return "", err
	}
	return region.String(), nil
}

// renamedError hides a server path in an input error's message.
type renamedError struct {
	err      error
	from, to string
}

func (e *renamedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.from, e.to) }
func (e *renamedError) Unwrap() error { return e.err }

// moveFile renames src to dst, copying across file systems.
func moveFile(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		return errors.Join(err, out.Close(), os.Remove(dst))
	}
	if err := out.Close(); err != nil {
		return errors.Join(err, os.Remove(dst))
	}
	return os.Remove(src)
}
