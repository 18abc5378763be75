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
	e.POST("/api/v1/sessions/:id/whip", s.whipPublish, s.audited("session.publish"))
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
	a.POST("/upload", s.uploadForm, s.audited("interview.upload"))
	a.GET("/interviews/:id", s.reportPage, s.audited("interview.view"))
	a.GET("/interviews/:id/delete", s.deleteConfirmPage, s.audited("interview.view"))
	a.POST("/interviews/:id/delete", s.deleteForm, s.audited("interview.delete"))
	a.POST("/interviews/:id/edit", s.editForm, s.audited("interview.edit"))
	a.POST("/interviews/:id/reanalyse", s.reanalyseForm, s.audited("interview.reanalyse"))
	a.GET("/interviews/:id/evidence/:file", s.evidenceFile, s.audited("interview.evidence"))
	a.GET("/live", s.livePage)
	a.POST("/live", s.liveCreateForm, s.audited("session.create"))
	a.GET("/live/:id", s.liveSessionPage, s.audited("session.view"))
	a.POST("/live/:id/end", s.liveEndForm, s.audited("session.end"))
	a.GET("/live/:id/delete", s.liveDeleteConfirmPage, s.audited("session.view"))
	a.POST("/live/:id/delete", s.liveDeleteForm, s.audited("session.delete"))
	a.GET("/webhooks", s.webhooksPage, requireAdmin)
	a.GET("/audit", s.auditPageHandler, requireAdmin, s.audited("audit.view"))
	a.POST("/webhooks", s.webhookCreateForm, requireAdmin, s.audited("webhook.create"))
	a.POST("/webhooks/:id/delete", s.webhookDeleteForm, requireAdmin, s.audited("webhook.delete"))

	// JSON API (documented in openapi.json; a test checks they agree).
	api := a.Group("/api/v1")
	api.GET("/openapi.json", s.openAPI)
	api.POST("/interviews", s.apiCreateInterview, s.audited("interview.upload"))
	api.GET("/interviews", s.apiListInterviews)
	api.GET("/interviews/:id", s.apiGetInterview, s.audited("interview.view"))
	api.PATCH("/interviews/:id", s.apiEditInterview, s.audited("interview.edit"))
	api.DELETE("/interviews/:id", s.apiDeleteInterview, s.audited("interview.delete"))
	api.POST("/interviews/:id/reanalysis", s.apiReanalyse, s.audited("interview.reanalyse"))
	api.GET("/interviews/:id/report", s.apiGetReport, s.audited("interview.view"))
	api.GET("/interviews/:id/evidence/:file", s.evidenceFile, s.audited("interview.evidence"))
	api.POST("/sessions", s.apiCreateSession, s.audited("session.create"))
	api.GET("/sessions", s.apiListSessions)
	api.GET("/sessions/:id", s.apiGetSession, s.audited("session.view"))
	api.DELETE("/sessions/:id", s.apiEndSession, s.audited("session.end"))
	api.GET("/sessions/:id/events", s.liveEvents)
	api.DELETE("/sessions/:id/record", s.apiDeleteSession, s.audited("session.delete"))
	api.GET("/webhooks", s.apiListWebhooks, requireAdmin)
	api.POST("/webhooks", s.apiCreateWebhook, requireAdmin, s.audited("webhook.create"))
	api.DELETE("/webhooks/:id", s.apiDeleteWebhook, requireAdmin, s.audited("webhook.delete"))
	api.GET("/audit", s.apiAudit, requireAdmin, s.audited("audit.view"))
	api.GET("/audit/verify", s.apiAuditVerify, requireAdmin, s.audited("audit.verify"))
	return nil
}
