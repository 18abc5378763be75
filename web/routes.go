package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes registers every route of the service, here and nowhere else.
// Everything except /healthz, /readyz, the login page, the static assets
// (CSS and JS only) and WHIP ingest (a live session's own token) requires a
// session or an API token.
func (s *server) routes() error {
	e := s.echo
	e.Use(s.observe, securityHeaders, limitBodies)

	static, err := staticHandler()
	if err != nil {
		return err
	}
	e.GET("/static/*", static)
	e.GET("/favicon.ico", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg")
	})
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)

	// WHIP ingest of live sessions (live_whip.go): authenticated by each
	// session's own bearer token, not by cookies; CORS for any client.
	e.OPTIONS("/api/v1/sessions/:id/whip", s.whipOptions)
	e.POST("/api/v1/sessions/:id/whip", s.whipPublish)
	e.OPTIONS("/api/v1/sessions/:id/whip/:resource", s.whipResourceOptions)
	e.DELETE("/api/v1/sessions/:id/whip/:resource", s.whipDelete)
	e.PATCH("/api/v1/sessions/:id/whip/:resource", s.whipPatch)

	a := e.Group("", s.requireAuth)
	a.POST("/logout", s.logout)
	a.GET("/metrics", s.metricsHandler())

	// Pages.
	a.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/interviews") })
	a.GET("/interviews", s.interviewsPage)
	a.GET("/upload", s.uploadPage)
	a.POST("/upload", s.uploadForm)
	a.GET("/interviews/:id", s.reportPage)
	a.GET("/interviews/:id/delete", s.deleteConfirmPage)
	a.POST("/interviews/:id/delete", s.deleteForm)
	a.POST("/interviews/:id/edit", s.editForm)
	a.POST("/interviews/:id/reanalyse", s.reanalyseForm)
	a.GET("/interviews/:id/evidence/:file", s.evidenceFile)
	a.GET("/live", s.livePage)
	a.POST("/live", s.liveCreateForm)
	a.GET("/live/:id", s.liveSessionPage)
	a.POST("/live/:id/end", s.liveEndForm)
	a.GET("/live/:id/delete", s.liveDeleteConfirmPage)
	a.POST("/live/:id/delete", s.liveDeleteForm)
	a.GET("/webhooks", s.webhooksPage, requireAdmin)
	a.POST("/webhooks", s.webhookCreateForm, requireAdmin)
	a.POST("/webhooks/:id/delete", s.webhookDeleteForm, requireAdmin)

	// JSON API (documented in openapi.json; a test checks they agree).
	api := a.Group("/api/v1")
	api.GET("/openapi.json", s.openAPI)
	api.POST("/interviews", s.apiCreateInterview)
	api.GET("/interviews", s.apiListInterviews)
	api.GET("/interviews/:id", s.apiGetInterview)
	api.PATCH("/interviews/:id", s.apiEditInterview)
	api.DELETE("/interviews/:id", s.apiDeleteInterview)
	api.POST("/interviews/:id/reanalysis", s.apiReanalyse)
	api.GET("/interviews/:id/report", s.apiGetReport)
	api.GET("/interviews/:id/evidence/:file", s.evidenceFile)
	api.POST("/sessions", s.apiCreateSession)
	api.GET("/sessions", s.apiListSessions)
	api.GET("/sessions/:id", s.apiGetSession)
	api.DELETE("/sessions/:id", s.apiEndSession)
	api.GET("/sessions/:id/events", s.liveEvents)
	api.DELETE("/sessions/:id/record", s.apiDeleteSession)
	api.GET("/webhooks", s.apiListWebhooks, requireAdmin)
	api.POST("/webhooks", s.apiCreateWebhook, requireAdmin)
	api.DELETE("/webhooks/:id", s.apiDeleteWebhook, requireAdmin)
	return nil
}
