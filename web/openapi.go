package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDoc describes the JSON API; TestOpenAPIMatchesRoutes keeps it in
// step with routes.go.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI serves the OpenAPI 3.1 document.
func (s *server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDoc)
}
