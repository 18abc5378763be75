package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Queue is what the web service needs from the job queue (package jobs
// implements it on River).
type Queue interface {
	// EnqueueAnalysis queues the analysis of a stored interview.
	EnqueueAnalysis(ctx context.Context, interviewID string) error
	// Publish sends an event to every webhook (durably, with retries).
	Publish(ctx context.Context, ev jobs.Event) error
	Ping(ctx context.Context) error
}

// server holds what the handlers share. It owns no goroutines; App does.
type server struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	queue   Queue
	files   store.Files
	tools   media.Tools
	echo    *echo.Echo
	pages   map[string]*template.Template
	metrics *httpMetrics
	guard   *URLGuard
	bodies  *renderCache // rendered report bodies
	live    *liveManager // live sessions (live_manager.go); App owns and closes it
	// Failed logins per account and per client address (throttle.go);
	// loginMu makes checking both and counting an attempt one step.
	loginMu               sync.Mutex
	loginFails, addrFails *loginThrottle
	passwords             *passwordChecker // bcrypt, one per core at a time
	auditLog              *auditLog        // audit.go
}

func newServer(cfg Config, log *slog.Logger, st store.Store, q Queue, files store.Files, m *httpMetrics, guard *URLGuard) (*server, error) {
	s := &server{cfg: cfg, log: log, store: st, queue: q, files: files, tools: cfg.Analysis.Tools, metrics: m, guard: guard, bodies: newRenderCache(64),
		loginFails: newLoginThrottle(cfg.LoginMaxFailures, cfg.LoginWindow), addrFails: newLoginThrottle(cfg.LoginAddrMaxFailures, cfg.LoginWindow),
		passwords: newPasswordChecker(runtime.GOMAXPROCS(0), cfg.LoginCheckWait)}
	s.auditLog = newAuditLog(st, log, m.auditFailures, cfg.AuditViewWindow)
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	if cfg.servesHTTPS() {
		// Before routing: every answer carries it, redirects included.
		e.Pre(strictTransport)
	}
	s.echo = e
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// parsePages parses layout.html with each page template.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// pageData is what every page template gets.
type pageData struct {
	Title string
	User  *store.User
	CSRF  string
	Nav   string // active navigation item
	Flash string
	Data  any
}

// render executes page into a buffer first, so that a template error
// becomes a clean 500 instead of half a page.
func (s *server) render(c echo.Context, status int, page string, d pageData) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	if p := currentPrincipal(c); p != nil {
		d.User, d.CSRF = &p.User, p.CSRF()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// maxFormBody caps the body of every request but the two upload routes
// (which stream with their own cap) and is the time allowed to send it.
// Forms, JSON and WHIP offers are a few KiB; without the cap a form parse
// spools any size to disk and memory, before authentication on /login.
const (
	maxFormBody     = 256 << 10
	formBodyTimeout = 30 * time.Second
)

// limitBodies applies maxFormBody and formBodyTimeout to a request with a
// body unless its route is an upload route.
func limitBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody || (r.Method == http.MethodPost && uploadRoutes[c.Path()]) {
			return next(c)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBody)
		// A slow sender must not hold the request open; the deadline ends
		// with this request (the server sets the next one's).
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(formBodyTimeout))
		return next(c)
	}
}

// hstsMaxAge is the Strict-Transport-Security lifetime: one year.
const hstsMaxAge = "max-age=31536000"

// strictTransport tells browsers to use HTTPS only, for a service reached
// over HTTPS (Config.servesHTTPS). Browsers ignore the header on plain
// HTTP, so a TLS-terminating proxy passes it on to them.
func strictTransport(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Strict-Transport-Security", hstsMaxAge)
		return next(c)
	}
}

// securityHeaders sets a strict CSP (no inline script or style) and the
// usual hardening headers on every response.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}

// observe records metrics and a debug log line per request, after the
// error handler has written the response.
func (s *server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		began := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		s.metrics.observe(c.Request().Method, route, status, time.Since(began))
		s.log.Debug("http", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status,
			"ms", time.Since(began).Milliseconds(), "bytes", c.Response().Size)
		return nil
	}
}

func staticHandler() (echo.HandlerFunc, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	h := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}, nil
}
