package web

import (
	"encoding/json"
	"path/filepath"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/report"
)

// evidenceFile serves one evidence file of a finished interview. Only
// files listed in the report are served, so no path from the URL ever
// reaches the file system.
func (s *server) evidenceFile(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	raw, err := s.store.Report(c.Request().Context(), iv.ID)
	if err != nil {
		return err
	}
	var rep struct {
		Evidence []report.Evidence `json:"evidence"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return err
	}
	if iv.MediaDeletedAt != nil {
		return userErr(ErrNotFound, "the evidence of interview %s was deleted with its recording by the server's retention policy", iv.ID)
	}
	name := c.Param("file")
	for _, ev := range rep.Evidence {
		if ev.File != name || !filepath.IsLocal(ev.File) {
			continue
		}
		dir, err := s.files.EvidenceDir(iv.ID)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "private, max-age=3600")
		return c.File(filepath.Join(dir, ev.File))
	}
	return userErr(ErrNotFound, "no evidence file %q in this report", name)
}
