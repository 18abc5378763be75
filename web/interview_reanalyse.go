package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/store"
)

// Analysing a finished interview again: POST
// /api/v1/interviews/{id}/reanalysis and the report page's "Analyse again"
// form. The usual reason is a call recorded in gallery view whose report
// measured the interviewer's face: the recruiter names the candidate's
// tile and the stored recording is analysed anew, without uploading it
// again. It also re-runs a failed analysis, or a report made by an older
// model. The old report is deleted when the new analysis is queued.

// reanalysisJSON is the body of POST /api/v1/interviews/{id}/reanalysis;
// an absent region keeps the interview's.
type reanalysisJSON struct {
	Region *string `json:"region"`
}

// errMediaDeleted refuses a new analysis of iv, whose recording the
// retention policy deleted.
func errMediaDeleted(iv store.Interview) error {
	return userErr(ErrConflict, "the recording of interview %s was deleted by the server's retention policy; only its report is kept, so it cannot be analysed again", iv.ID)
}

var errReanalyseForbidden = userErr(ErrForbidden, "only the uploader or an admin may analyse this interview again")

// apiReanalyse queues the interview's analysis anew: 202 with the
// interview as GET returns it.
func (s *server) apiReanalyse(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	if !mayChange(currentPrincipal(c), iv) {
		return errReanalyseForbidden
	}
	var in reanalysisJSON
	err = decodeJSONObject(c.Request().Body, &in)
	var mbe *http.MaxBytesError
	switch {
	case err == io.EOF: // no body: keep the region
	case errors.As(err, &mbe):
		return err // 413
	case err != nil:
		return userErr(ErrBadRequest, `send nothing, or a JSON object {"region": "…"} (whole, left, top-right, … or x,y,w,h)`)
	}
	iv, err = s.reanalyse(c, iv, in.Region)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/interviews/"+iv.ID)
	return c.JSON(http.StatusAccepted, toJSON(iv, s.cfg))
}

// reanalyseForm is the report page's "Analyse again" form (field region):
// it queues the analysis and returns to the interview's page, which
// follows it.
func (s *server) reanalyseForm(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	if _, err := c.FormParams(); err != nil {
		return userErr(ErrBadRequest, "send the form's region field")
	}
	var region *string
	if v, ok := c.Request().PostForm["region"]; ok && len(v) > 0 {
		region = &v[0]
	}
	if _, err := s.reanalyse(c, iv, region); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/interviews/"+iv.ID)
}

// reanalyse checks the caller may change iv and the region (nil: iv's
// own) fits its recording, resets the interview and queues its analysis.
func (s *server) reanalyse(c echo.Context, iv store.Interview, regionText *string) (store.Interview, error) {
	p := currentPrincipal(c)
	if !mayChange(p, iv) {
		return iv, errReanalyseForbidden
	}
	ctx := c.Request().Context()
	text := iv.Region
	if regionText != nil {
		text = *regionText
	}
	region, err := media.ParseRegion(text)
	if err != nil {
		return iv, userErr(ErrBadRequest, "region: %v", err)
	}
	if iv.Status == store.StatusQueued || iv.Status == store.StatusProcessing {
		return iv, userErr(ErrConflict, "interview %s is still being analysed; wait for its report", iv.ID)
	}
	if iv.MediaDeletedAt != nil {
		return iv, errMediaDeleted(iv)
	}
	stored := ""
	if !region.Whole() {
		path, err := s.files.Abs(iv.MediaFile)
		if err != nil {
			return iv, err
		}
		info, err := s.tools.Probe(ctx, path)
		if err != nil {
			if cur, cerr := s.store.Interview(ctx, iv.ID); cerr == nil && cur.MediaDeletedAt != nil {
				return iv, errMediaDeleted(iv) // deleted since the check above
			}
			return iv, fmt.Errorf("probe the stored recording: %w", err)
		}
		if stored, err = storedRegion(region, info); err != nil {
			return iv, userErr(ErrBadRequest, "region: %v", err)
		}
	}
	out, err := s.store.Reanalyse(ctx, iv.ID, stored)
	switch {
	case errors.Is(err, store.ErrBusy):
		return iv, userErr(ErrConflict, "interview %s is still being analysed; wait for its report", iv.ID)
	case errors.Is(err, store.ErrMediaDeleted): // meanwhile
		return iv, errMediaDeleted(iv)
	case errors.Is(err, store.ErrNotFound): // deleted meanwhile
		return iv, userErr(ErrNotFound, "no interview %q", iv.ID)
	case err != nil:
		return iv, err
	}
	if err := s.queue.EnqueueAnalysis(ctx, iv.ID); err != nil {
		// Not left queued without a job: it fails, and may be tried again.
		bg := context.WithoutCancel(ctx)
		msg := "the new analysis could not be queued; try again"
		if ferr := s.store.Fail(bg, iv.ID, msg, time.Now()); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return iv, fmt.Errorf("queue the analysis: %w", err)
	}
	s.log.Info("interview queued for a new analysis", "interview", iv.ID, "by", p.User.Email, "region", stored)
	return out, nil
}
