package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is up.
func (s *server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says the database and the job queue answer. It is public, so a
// failure says only "fail"; the error is in the log.
func (s *server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "queue": "ok"}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness: database", "err", err)
		checks["database"], status = "fail", http.StatusServiceUnavailable
	}
	if err := s.queue.Ping(ctx); err != nil {
		s.log.Warn("readiness: queue", "err", err)
		checks["queue"], status = "fail", http.StatusServiceUnavailable
	}
	return c.JSON(status, checks)
}
