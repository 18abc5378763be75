package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/store"
)

// Correcting an interview's candidate name and title after the upload:
// PATCH /api/v1/interviews/{id} and the report page's Edit form. Only
// these two fields change; the analysis and its report do not depend on
// them, so nothing is re-run, and the cached report body (renderCache)
// does not show them.

// interviewEditJSON is the body of PATCH /api/v1/interviews/{id}; an
// absent (or null) field is left unchanged.
type interviewEditJSON struct {
	Candidate *string `json:"candidate"`
	Title     *string `json:"title"`
}

// apiEditInterview changes the candidate and/or the title: 200 with the
// interview as GET returns it.
func (s *server) apiEditInterview(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	if !mayChange(currentPrincipal(c), iv) {
		return errEditForbidden
	}
	var in interviewEditJSON
	err = decodeJSONObject(c.Request().Body, &in)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return err // 413
	case err != nil:
		return userErr(ErrBadRequest, `send a JSON object {"candidate": "…", "title": "…"} (each optional, at most %d characters)`, store.MaxField)
	}
	iv, err = s.editInterview(c, iv, store.InterviewEdit{Candidate: in.Candidate, Title: in.Title})
	if err != nil {
		return err
	}
	return s.interviewResponse(c, iv)
}

// editForm is the report page's Edit form (fields candidate and title):
// it saves them and returns to the report.
func (s *server) editForm(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	if _, err := c.FormParams(); err != nil { // url-encoded or multipart
		return userErr(ErrBadRequest, "send the form's candidate and title fields")
	}
	// The page's form sends both fields; one left out is left unchanged,
	// as in the API. Only the body counts, not the query string.
	var e store.InterviewEdit
	form := c.Request().PostForm
	if _, ok := form["candidate"]; ok {
		v := form.Get("candidate")
		e.Candidate = &v
	}
	if _, ok := form["title"]; ok {
		v := form.Get("title")
		e.Title = &v
	}
	if _, err := s.editInterview(c, iv, e); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/interviews/"+iv.ID)
}

// decodeJSONObject decodes one JSON object from r into v, refusing
// unknown fields and anything after the object; an empty body is io.EOF.
func decodeJSONObject(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

var errEditForbidden = userErr(ErrForbidden, "only the uploader or an admin may edit this interview")

// editInterview checks the caller may edit iv (the rule of delete) and
// stores e, cleaned as on upload; it returns the interview as it now is.
func (s *server) editInterview(c echo.Context, iv store.Interview, e store.InterviewEdit) (store.Interview, error) {
	p := currentPrincipal(c)
	if !mayChange(p, iv) {
		return iv, errEditForbidden
	}
	out, err := s.store.EditInterview(c.Request().Context(), iv.ID, e)
	switch {
	case errors.Is(err, store.ErrInvalid):
		return iv, userErr(ErrBadRequest, "the candidate and the title may have at most %d characters each", store.MaxField)
	case errors.Is(err, store.ErrNotFound): // deleted meanwhile
		return iv, userErr(ErrNotFound, "no interview %q", iv.ID)
	case err != nil:
		return iv, err
	}
	s.log.Info("interview edited", "interview", iv.ID, "by", p.User.Email)
	return out, nil
}
