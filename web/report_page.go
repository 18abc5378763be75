package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

type reportView struct {
	Interview   store.Interview
	Report      *report.Report
	Body        template.HTML // the rendered report sections (reportbody)
	CanChange   bool          // the viewer may edit and delete it (mayChange)
	Admin       bool          // the viewer may read the audit log (its access log)
	Gauge       template.HTML
	Timeline    template.HTML
	Modalities  []modalityView
	Enhancement *signalView
	Evidence    []evidenceView
	Live        *liveNote // the live session the recording came from (live_pages.go)
	// SeveralFaces is the share of frames with a face that showed more than
	// one (face.presence), when it reaches detectors.SeveralFacesShare (0
	// below): the page then suggests analysing the candidate's tile again.
	SeveralFaces float64
	Uploader     string // the owner's e-mail; "" when the account is gone
	// ExpiresAt is when the retention policy deletes the interview, and
	// MediaExpiresAt its recording and evidence; nil: no such policy (or
	// already deleted: Interview.MediaDeletedAt).
	ExpiresAt, MediaExpiresAt *time.Time
}

type modalityView struct {
	Label    string
	Score    *float64
	Measured bool
	Reason   string
	Signals  []signalView
}

type signalView struct {
	report.Signal
	Values []valueView
}

type valueView struct {
	Name, Value, Unit, Range string
	Outside                  bool // outside the normal range
	// Quiet: outside, but its signal as a whole looks genuine (one value
	// alone does not decide), so it is not highlighted as a warning.
	Quiet bool
}

type evidenceView struct {
	report.Evidence
	URL   string
	Image bool
}

func signalOf(sig report.Signal) signalView {
	sv := signalView{Signal: sig}
	for _, m := range sig.Values {
		v := valueOf(m)
		v.Quiet = v.Outside && (!sig.Measured || sig.Informational || sig.Score < 0.5)
		sv.Values = append(sv.Values, v)
	}
	return sv
}

func valueOf(m detectors.Measurement) valueView {
	v := valueView{Name: m.Name, Value: formatNum(m.Value), Unit: m.Unit}
	switch {
	case m.NormalLow != nil && m.NormalHigh != nil:
		v.Range = formatNum(*m.NormalLow) + " – " + formatNum(*m.NormalHigh)
		v.Outside = m.Value < *m.NormalLow || m.Value > *m.NormalHigh
	case m.NormalLow != nil:
		v.Range = "≥ " + formatNum(*m.NormalLow)
		v.Outside = m.Value < *m.NormalLow
	case m.NormalHigh != nil:
		v.Range = "≤ " + formatNum(*m.NormalHigh)
		v.Outside = m.Value > *m.NormalHigh
	}
	return v
}

// buildReportView turns a stored report into what the page shows. Signals
// are rendered generically: every signal of every modality, whatever
// detectors produced them.
func buildReportView(iv store.Interview, raw json.RawMessage) (reportView, error) {
	v := reportView{Interview: iv}
	if raw == nil {
		return v, nil
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return v, fmt.Errorf("stored report of %s: %w", iv.ID, err)
	}
	v.Report = &rep
	v.Gauge = gaugeSVG(rep.Authenticity, string(rep.Verdict))
	for _, sig := range rep.AllSignals() {
		if sig.Name != "face.presence" {
			continue
		}
		for _, m := range sig.Values {
			if m.Name == "several_faces_fraction" && m.Value >= detectors.SeveralFacesShare {
				v.SeveralFaces = m.Value
			}
		}
	}
	v.Timeline = timelineSVG(rep.Timeline, rep.Coverage.DurationSeconds)
	for _, m := range []struct {
		label string
		mod   report.Modality
	}{{"Face (video)", rep.Video}, {"Voice (audio)", rep.Audio}, {"Lips and voice (audio-visual)", rep.AV}} {
		mv := modalityView{Label: m.label, Score: m.mod.Score, Measured: m.mod.Measured, Reason: m.mod.Reason}
		for _, sig := range m.mod.Signals {
			if rep.Enhancement != nil && sig.Name == rep.Enhancement.Name {
				continue // shown in its own section
			}
			mv.Signals = append(mv.Signals, signalOf(sig))
		}
		v.Modalities = append(v.Modalities, mv)
	}
	if rep.Enhancement != nil {
		e := signalOf(*rep.Enhancement)
		v.Enhancement = &e
	}
	for _, ev := range rep.Evidence {
		if iv.MediaDeletedAt != nil {
			break // deleted by the retention policy: the section says so
		}
		lower := strings.ToLower(ev.File)
		v.Evidence = append(v.Evidence, evidenceView{Evidence: ev, URL: "/interviews/" + iv.ID + "/evidence/" + ev.File,
			Image: strings.HasSuffix(lower, ".jpg") || strings.HasSuffix(lower, ".jpeg") || strings.HasSuffix(lower, ".png")})
	}
	return v, nil
}

// reportPage shows an interview: its progress while queued or processing,
// the full report when done, the error when failed.
func (s *server) reportPage(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	v := reportView{Interview: iv}
	if iv.Status == store.StatusDone {
		if v, err = s.reportBody(c, iv); err != nil {
			return err
		}
	}
	v.CanChange = mayChange(currentPrincipal(c), iv)
	v.Admin = currentPrincipal(c).isAdmin()
	j := toJSON(iv, s.cfg)
	v.ExpiresAt, v.MediaExpiresAt = j.ExpiresAt, j.MediaExpiresAt
	if v.Live, err = s.liveNoteOf(c, iv); err != nil {
		return err
	}
	if iv.OwnerID != 0 {
		// Everyone reads every interview: say whose it is.
		switch u, err := s.store.UserByID(c.Request().Context(), iv.OwnerID); {
		case err == nil:
			v.Uploader = u.Email
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	title := iv.Candidate
	if title == "" {
		title = iv.OriginalName
	}
	return s.render(c, http.StatusOK, "report", pageData{Title: title, Nav: "interviews", Data: v})
}

// reportBody renders the report sections of a finished interview, once:
// the result is cached (see renderCache). The sections must not show the
// candidate or the title, which can be edited (interview_edit.go) without
// changing the key: the heading that shows them is rendered per request.
func (s *server) reportBody(c echo.Context, iv store.Interview) (reportView, error) {
	key := iv.ID
	if iv.FinishedAt != nil {
		key += "@" + iv.FinishedAt.String()
	}
	if iv.MediaDeletedAt != nil {
		key += "@media-deleted" // the evidence section changes
	}
	if h, ok := s.bodies.get(key); ok {
		return reportView{Interview: iv, Body: h.body, Report: &report.Report{}, SeveralFaces: h.severalFaces}, nil
	}
	raw, err := s.store.Report(c.Request().Context(), iv.ID)
	if err != nil {
		return reportView{}, err
	}
	v, err := buildReportView(iv, raw)
	if err != nil {
		return reportView{}, err
	}
	var buf bytes.Buffer
	if err := s.pages["report"].ExecuteTemplate(&buf, "reportbody", v); err != nil {
		return reportView{}, fmt.Errorf("render report %s: %w", iv.ID, err)
	}
	v.Body = template.HTML(buf.String()) //nolint:gosec // produced by html/template
	s.bodies.put(key, renderedReport{body: v.Body, severalFaces: v.SeveralFaces})
	return v, nil
}

// deleteConfirmPage asks before deleting (the no-JavaScript path; with
// JavaScript the report page's button asks in a dialog).
func (s *server) deleteConfirmPage(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "delete", pageData{Title: "Delete interview", Nav: "interviews", Data: iv})
}

// deleteForm deletes the interview and returns to the list.
func (s *server) deleteForm(c echo.Context) error {
	iv, err := s.interview(c)
	if err != nil {
		return err
	}
	if err := s.deleteInterview(c, iv); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/interviews")
}
