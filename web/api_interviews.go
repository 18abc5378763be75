package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/store"
)

// interviewJSON is an interview in the API.
type interviewJSON struct {
	ID           string       `json:"id"`
	Status       store.Status `json:"status"`
	Progress     float64      `json:"progress"`
	Candidate    string       `json:"candidate"`
	Title        string       `json:"title"`
	Source       string       `json:"source"`
	FileName     string       `json:"file_name"`
	SizeBytes    int64        `json:"size_bytes"`
	Duration     float64      `json:"duration_seconds"`
	Region       string       `json:"region,omitempty"` // the part of the picture analysed; omitted: whole
	Attempts     int          `json:"attempts"`
	Verdict      string       `json:"verdict,omitempty"`
	Authenticity *int         `json:"authenticity,omitempty"`
	Probability  *float64     `json:"probability_manipulated,omitempty"`
	Error        string       `json:"error,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	StartedAt    *time.Time   `json:"started_at,omitempty"`
	FinishedAt   *time.Time   `json:"finished_at,omitempty"`
	// ExpiresAt is when the retention policy deletes the interview (at
	// its first hourly check from then on); omitted: kept until deleted.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// MediaExpiresAt is when the media retention policy deletes the
	// recording and evidence images, keeping the report; MediaDeletedAt
	// says when it did.
	MediaExpiresAt *time.Time      `json:"media_expires_at,omitempty"`
	MediaDeletedAt *time.Time      `json:"media_deleted_at,omitempty"`
	ReportURL      string          `json:"report_url,omitempty"`
	PageURL        string          `json:"page_url"`
	Report         json.RawMessage `json:"report,omitempty"`
}

// toJSON is the API's view of iv under the configuration's retention
// periods.
func toJSON(iv store.Interview, cfg Config) interviewJSON {
	j := interviewJSON{
		ID: iv.ID, Status: iv.Status, Progress: iv.Progress, Candidate: iv.Candidate, Title: iv.Title,
		Source: iv.Source, FileName: iv.OriginalName, SizeBytes: iv.SizeBytes, Duration: iv.Duration, Region: iv.Region,
		Attempts: iv.Attempts, Verdict: iv.Verdict, Authenticity: iv.Authenticity, Probability: iv.Probability,
		Error: iv.Error, CreatedAt: iv.CreatedAt, StartedAt: iv.StartedAt, FinishedAt: iv.FinishedAt,
		PageURL: "/interviews/" + iv.ID, ExpiresAt: expiresAt(iv.CreatedAt, cfg.Retention),
		MediaDeletedAt: iv.MediaDeletedAt,
	}
	if iv.MediaDeletedAt == nil {
		j.MediaExpiresAt = expiresAt(iv.CreatedAt, cfg.MediaRetention)
	}
	if iv.Status == store.StatusDone {
		j.ReportURL = "/api/v1/interviews/" + iv.ID + "/report"
	}
	return j
}

// apiCreateInterview receives an upload and queues its analysis: 202.
func (s *server) apiCreateInterview(c echo.Context) error {
	iv, err := s.receiveUpload(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/interviews/"+iv.ID)
	return c.JSON(http.StatusAccepted, toJSON(iv, s.cfg))
}

type listJSON struct {
	Items  []interviewJSON `json:"items"`
	Total  int             `json:"total"`
	Limit  int             `json:"limit"`
	Offset int             `json:"offset"`
	// NextOffset is the offset of the next page; absent on the last.
	NextOffset *int `json:"next_offset,omitempty"`
}

// listFilter reads status, verdict, q, limit and offset.
func listFilter(c echo.Context, defLimit int) (store.ListFilter, error) {
	f := store.ListFilter{Status: store.Status(c.QueryParam("status")), Verdict: c.QueryParam("verdict"), Query: c.QueryParam("q"), Limit: defLimit}
	if f.Status != "" && !f.Status.Valid() {
		return f, userErr(ErrBadRequest, "status must be queued, processing, done or failed")
	}
	switch f.Verdict {
	case "", "genuine", "inconclusive", "suspicious", "manipulated":
	default:
		return f, userErr(ErrBadRequest, "verdict must be genuine, inconclusive, suspicious or manipulated")
	}
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &f.Limit, 1, 200}, {"offset", &f.Offset, 0, 1 << 30}} {
		if v := c.QueryParam(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return f, userErr(ErrBadRequest, "%s must be a whole number in [%d, %d]", p.name, p.min, p.max)
			}
			*p.dst = n
		}
	}
	return f, nil
}

// apiListInterviews lists interviews, newest first, paged and filtered.
func (s *server) apiListInterviews(c echo.Context) error {
	f, err := listFilter(c, 50)
	if err != nil {
		return err
	}
	page, err := s.store.ListInterviews(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := listJSON{Items: make([]interviewJSON, 0, len(page.Items)), Total: page.Total, Limit: f.Limit, Offset: f.Offset}
	for _, iv := range page.Items {
		out.Items = append(out.Items, toJSON(iv, s.cfg))
	}
	if next := f.Offset + len(page.Items); next < page.Total {
		out.NextOffset = &next
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) interview(c echo.Context) (store.Interview, error) {
	iv, err := s.store.Interview(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return iv, userErr(ErrNotFound, "no interview %q", c.Param("id"))
	}
	return iv, err
}

// apiGetInterview returns the interview, with its report when done.
func (s *server) apiGetInterview(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	return s.interviewResponse(c, iv)
}

// interviewResponse answers 200 with iv as JSON, with its report when
// done: the body of GET and PATCH /api/v1/interviews/{id}.
func (s *server) interviewResponse(c echo.Context, iv store.Interview) error {
	j := toJSON(iv, s.cfg)
	if iv.Status == store.StatusDone {
		var err error
		if j.Report, err = s.store.Report(c.Request().Context(), iv.ID); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, j)
}

// apiGetReport returns the report alone (schema: docs/report-schema.md).
func (s *server) apiGetReport(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	if iv.Status != store.StatusDone {
		return userErr(ErrConflict, "interview %s is %s; the report exists once it is done", iv.ID, iv.Status)
	}
	rep, err := s.store.Report(c.Request().Context(), iv.ID)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, rep)
}

// apiDeleteInterview removes the interview, its report, media and
// evidence: 204.
func (s *server) apiDeleteInterview(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	if err := s.deleteInterview(c, iv); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// mayChange reports whether p may edit or delete iv: only its uploader
// or an admin may (everyone reads every interview).
func mayChange(p *principal, iv store.Interview) bool {
	return p != nil && (p.isAdmin() || p.User.ID == iv.OwnerID)
}

// deleteInterview checks the caller may delete iv and deletes it: the row
// first (a running analysis notices and stops), then the files.
func (s *server) deleteInterview(c echo.Context, iv store.Interview) error {
	p := currentPrincipal(c)
	if !mayChange(p, iv) {
		return userErr(ErrForbidden, "only the uploader or an admin may delete this interview")
	}
	session, err := s.removeInterview(c.Request().Context(), iv, time.Time{})
	if err != nil {
		return err
	}
	s.log.Info("interview deleted", "interview", iv.ID, "by", p.User.Email)
	if session != "" {
		// Its live session's record went too: that session's history
		// says so (the route records the interview's delete).
		s.auditWith(c, "session.delete", "session:"+session, "with interview:"+iv.ID)
	}
	return nil
}

// removeInterview deletes iv: the row first (with its report and the
// record of its live session; a running analysis notices and stops), then
// the files, and what a crash left in its live session's working folder.
// With expiredBefore set, only if the interview is still finished and was
// created before it (store.DeleteExpiredInterview: ErrBusy otherwise).
// ErrNotFound when the row is already gone. It returns the id of the live
// session whose record went with it ("" for an upload).
func (s *server) removeInterview(ctx context.Context, iv store.Interview, expiredBefore time.Time) (session string, err error) {
	session, err = s.liveSessionOf(ctx, iv)
	if err != nil {
		return "", err
	}
	if expiredBefore.IsZero() {
		err = s.store.DeleteInterview(ctx, iv.ID)
	} else {
		err = s.store.DeleteExpiredInterview(ctx, iv.ID, expiredBefore)
	}
	if err != nil {
		return "", err
	}
	// The interview is gone once its row is: a file that could not be
	// removed is the server's to clean up, not a failed delete (which a
	// retry would only answer with 404).
	liveDir := ""
	if session != "" {
		liveDir = s.live.sessionDir(session)
	}
	s.removeFiles(iv, liveDir, "interview deleted")
	return session, nil
}

// liveSessionOf is the id of the live session iv was recorded in, "" for
// an upload or when the session's record is gone.
func (s *server) liveSessionOf(ctx context.Context, iv store.Interview) (string, error) {
	if iv.Source != "live" {
		return "", nil
	}
	ls, err := s.store.LiveSessionByInterview(ctx, iv.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return ls.ID, nil
}

// liveDirOf is the working folder of the live session iv was recorded in,
// "" for an upload or when the session's record is gone.
func (s *server) liveDirOf(ctx context.Context, iv store.Interview) (string, error) {
	id, err := s.liveSessionOf(ctx, iv)
	if id == "" || err != nil {
		return "", err
	}
	return s.live.sessionDir(id), nil
}

// removeFiles removes iv's recording and evidence, and liveDir (what a
// crash left of its live session's recording) when set, once the store
// says they are gone (what says so: done). A file that could not be
// removed is logged, not returned: the store already says it is gone, and
// the start-up cleanup removes it (Files.CleanOrphans).
func (s *server) removeFiles(iv store.Interview, liveDir, done string) {
	if err := s.files.RemoveInterview(iv); err != nil {
		s.log.Error(done+", but not all its files were removed", "interview", iv.ID, "err", err)
	}
	if liveDir != "" {
		if err := os.RemoveAll(liveDir); err != nil {
			s.log.Error(done+", but its live session's working folder was not removed", "interview", iv.ID, "err", err)
		}
	}
}
