package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/store"
)

// formOverhead is what a multipart body may hold besides the file: the
// small text fields and the part headers.
const formOverhead = 64 << 10

// maxField is the longest candidate, title or file name kept (the store's
// rule for candidate and title, see store.CleanField).
const maxField = store.MaxField

// receiveUpload streams a multipart upload (field "file", optional
// "candidate", "title" and "region" (media.ParseRegion's forms: the part of
// the picture to analyse), and "csrf" when a cookie session has not sent
// the X-CSRF-Token header) into the data folder's tmp/ with the size cap
// enforced as bytes arrive, then hands it to submit. Whatever happens, no
// temporary file is left behind.
func (s *server) receiveUpload(c echo.Context) (store.Interview, error) {
	r := c.Request()
	limit := s.cfg.MaxUploadBytes
	// size is the body's length when the client stated it (-1 when
	// chunked): the file plus a few hundred bytes of form, close enough
	// to tell the user how large the file is.
	size := r.ContentLength
	if size > limit+formOverhead {
		s.metrics.uploads.WithLabelValues("too_large").Inc()
		return store.Interview{}, tooLarge(size, limit)
	}
	rc := http.NewResponseController(c.Response())
	r.Body = http.MaxBytesReader(c.Response(), &idleReader{r: r.Body, rc: rc, idle: s.cfg.UploadIdleTimeout}, limit+formOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return store.Interview{}, userErr(ErrBadRequest, "send the recording as multipart/form-data in the field \"file\"")
	}
	csrfWant, csrfNeeded := csrfPending(c)
	var sub Submission
	var tmp, regionText string
	defer func() {
		if tmp != "" {
			if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.log.Warn("temporary upload not removed", "file", tmp, "err", err)
			}
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return store.Interview{}, uploadErr(err, size, limit)
		}
		switch part.FormName() {
		case "file":
			if csrfNeeded {
				return store.Interview{}, userErr(ErrCSRF, "the csrf field must come before the file")
			}
			if tmp != "" {
				return store.Interview{}, userErr(ErrBadRequest, "send one file per upload")
			}
			sub.OriginalName = cleanName(part.FileName())
			tmp, err = s.receiveFile(part, size, limit)
			if err != nil {
				if errors.Is(err, ErrTooLarge) {
					s.metrics.uploads.WithLabelValues("too_large").Inc()
				}
				return store.Interview{}, err
			}
		case "candidate", "title", "region", csrfField:
			v, err := readField(part)
			if err != nil {
				return store.Interview{}, uploadErr(err, size, limit)
			}
			switch part.FormName() {
			case "candidate":
				sub.Candidate = v
			case "title":
				sub.Title = v
			case "region":
				regionText = v // read after the CSRF check
			default:
				if csrfNeeded {
					if !tokenEqual(v, csrfWant) {
						return store.Interview{}, ErrCSRF
					}
					csrfNeeded = false
				}
			}
		}
		if err := part.Close(); err != nil {
			return store.Interview{}, uploadErr(err, size, limit)
		}
	}
	// The body is read: the server's own read after it (which notices a
	// client that goes away) must not time out while the upload is stored.
	_ = rc.SetReadDeadline(time.Time{})
	if csrfNeeded {
		return store.Interview{}, ErrCSRF
	}
	if sub.Region, err = media.ParseRegion(regionText); err != nil {
		s.metrics.uploads.WithLabelValues("bad_region").Inc()
		return store.Interview{}, userErr(ErrBadRequest, "region: %v", err)
	}
	if tmp == "" {
		return store.Interview{}, userErr(ErrBadRequest, "no file: send the recording in the multipart field \"file\"")
	}
	if p := currentPrincipal(c); p != nil {
		sub.OwnerID = p.User.ID
	}
	sub.Path = tmp
	iv, err := s.submit(r.Context(), sub)
	switch {
	case errors.Is(err, media.ErrUnusableInput):
		// The client gets one plain sentence; ffprobe's words stay in the
		// log (the error names the client's file, not the server path).
		s.log.Info("upload refused", "file", sub.OriginalName, "err", err)
		if errors.Is(err, media.ErrNotMedia) {
			s.metrics.uploads.WithLabelValues("unsupported").Inc()
		} else {
			s.metrics.uploads.WithLabelValues("unusable").Inc()
		}
		return store.Interview{}, refusal(sub.OriginalName, err)
	case errors.Is(err, media.ErrBadRegion):
		s.metrics.uploads.WithLabelValues("bad_region").Inc()
		return store.Interview{}, userErr(ErrBadRequest, "region: %v", err)
	case err != nil:
		s.metrics.uploads.WithLabelValues("error").Inc()
		return store.Interview{}, err
	}
	tmp = "" // moved into media/
	c.Set(ctxAuditTarget, "interview:"+iv.ID)
	s.metrics.uploads.WithLabelValues("queued").Inc()
	s.metrics.bytes.Add(float64(iv.SizeBytes))
	return iv, nil
}

// receiveFile copies one file part into a new temporary file, failing
// with ErrTooLarge as soon as more than limit bytes arrive; size is the
// request's Content-Length (-1: unknown), for the message.
func (s *server) receiveFile(part *multipart.Part, size, limit int64) (string, error) {
	f, err := os.CreateTemp(s.files.TmpDir(), "upload-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	n, err := io.Copy(f, io.LimitReader(part, limit+1))
	cerr := f.Close()
	if err == nil && n > limit {
		err = tooLarge(size, limit)
	}
	if err == nil {
		err = cerr
	}
	if err != nil {
		return "", errors.Join(uploadErr(err, size, limit), os.Remove(name))
	}
	return name, nil
}

func readField(part *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, 4096))
	if err != nil {
		return "", err
	}
	v, _ := store.CleanField(string(b)) // an upload keeps a too-long value cut
	return v, nil
}

// cleanName keeps a client's file name for display only.
func cleanName(n string) string {
	n = filepath.Base(strings.ReplaceAll(n, `\`, "/"))
	n = strings.Map(func(r rune) rune {
		if r < 0x20 {
			return -1 // a file name's line break is no word break
		}
		return store.DisplaySafe(r)
	}, strings.ToValidUTF8(n, ""))
	if n == "" || n == "." || n == "/" {
		n = "upload"
	}
	if utf8.RuneCountInString(n) > maxField {
		n = string([]rune(n)[:maxField])
	}
	return n
}

// tooLarge states the file's size when the request stated it (size is
// Content-Length, or -1) and the limit.
func tooLarge(size, limit int64) error {
	if got, lim := humanBytes(size), humanBytes(limit); size > limit && got != lim {
		return userErr(ErrTooLarge, "This file is %s; the limit is %s.", got, lim)
	}
	return userErr(ErrTooLarge, "This file is larger than the limit of %s.", humanBytes(limit))
}

// refusal is the one sentence a user reads when the uploaded file name
// is not a recording that can be analysed; err (wrapping
// media.ErrUnusableInput) keeps ffprobe's details for the log. Not media
// at all is ErrUnsupported (415), the rest ErrUnusable (422).
func refusal(name string, err error) error {
	switch {
	case errors.Is(err, media.ErrStillImage):
		return userErr(ErrUnsupported, "%s is a still image; upload the interview recording.", name)
	case errors.Is(err, media.ErrNotMedia):
		return userErr(ErrUnsupported, "%s is not a video or audio file bonafide can read.", name)
	case errors.Is(err, media.ErrEmpty):
		return userErr(ErrUnusable, "%s is empty.", name)
	case errors.Is(err, media.ErrNoStreams):
		return userErr(ErrUnusable, "%s has no video or audio stream.", name)
	}
	return userErr(ErrUnusable, "%s cannot be analysed.", name)
}

// uploadErr turns a body read error into a client error; size and limit
// are as for tooLarge.
func uploadErr(err error, size, limit int64) error {
	var mbe *http.MaxBytesError
	var pe *publicError
	switch {
	case errors.As(err, &pe):
		return err
	case errors.As(err, &mbe):
		return tooLarge(size, limit)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return userErr(ErrBadRequest, "the upload was cut off")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return userErr(ErrBadRequest, "the upload stalled: nothing arrived for a while")
	}
	return fmt.Errorf("read upload: %w", err)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// idleReader reads an upload's body with a read deadline idle ahead of
// every read: a client that stops sending is cut off after idle, one that
// sends slowly but steadily is not.
type idleReader struct {
	r    io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	if ir.idle > 0 {
		_ = ir.rc.SetReadDeadline(time.Now().Add(ir.idle))
	}
	return ir.r.Read(p)
}

func (ir *idleReader) Close() error { return ir.r.Close() }
