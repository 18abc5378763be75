package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/store"
)

type listView struct {
	Items   []store.Interview
	Total   int
	Filter  store.ListFilter
	Query   url.Values // the current filters, for links
	Prev    string     // offset of the previous page, "" on the first
	Next    string     // offset of the next page, "" on the last
	From    int
	To      int
	Pending bool // some rows are still queued or processing
	// PastEnd: the offset is beyond the last interview, but there are
	// some (on earlier pages).
	PastEnd bool
}

// interviewsPage lists interviews with search, filters and pages.
func (s *server) interviewsPage(c echo.Context) error {
	f, err := listFilter(c, 25)
	if err != nil {
		return err
	}
	page, err := s.store.ListInterviews(c.Request().Context(), f)
	if err != nil {
		return err
	}
	q := url.Values{}
	for _, k := range []string{"q", "status", "verdict"} {
		if v := c.QueryParam(k); v != "" {
			q.Set(k, v)
		}
	}
	v := listView{Items: page.Items, Total: page.Total, Filter: f, Query: q, From: f.Offset + 1, To: f.Offset + len(page.Items)}
	if f.Offset > 0 {
		v.Prev = itoa(max(f.Offset-f.Limit, 0))
	}
	v.PastEnd = len(page.Items) == 0 && page.Total > 0
	if v.To < page.Total {
		v.Next = itoa(v.To)
	}
	for _, iv := range page.Items {
		if iv.Status == store.StatusQueued || iv.Status == store.StatusProcessing {
			v.Pending = true
		}
	}
	return s.render(c, http.StatusOK, "interviews", pageData{Title: "Interviews", Nav: "interviews", Data: v})
}
