package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type uploadView struct {
	MaxBytes int64
}

// uploadPage shows the upload form (drag and drop, progress bars).
func (s *server) uploadPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "upload", pageData{Title: "Upload", Nav: "upload", Data: uploadView{MaxBytes: s.cfg.MaxUploadBytes}})
}

// uploadForm is the no-JavaScript upload: the same streaming receive as
// the API, then a redirect to the interview's page.
func (s *server) uploadForm(c echo.Context) error {
	iv, err := s.receiveUpload(c)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/interviews/"+iv.ID)
}
