package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/store"
)

// Sentinel errors that handlers return (wrapped with a message a user can
// read, see userErr); the error handler maps them to status codes.
var (
	ErrBadRequest   = errors.New("bad request")
	ErrUnauthorized = errors.New("authentication required")
	ErrForbidden    = errors.New("forbidden")
	ErrCSRF         = errors.New("missing or invalid CSRF token")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrTooLarge     = errors.New("upload too large")
	// ErrUnsupported is an upload that is not a recording at all (415);
	// other unusable recordings (empty, no streams) are 422.
	ErrUnsupported = errors.New("unsupported media type")
	ErrUnusable    = errors.New("unusable recording")
)

// publicError carries the message shown to the client; its sentinel sets
// the status.
type publicError struct {
	kind error
	msg  string
}

func (e *publicError) Error() string { return e.msg }
func (e *publicError) Unwrap() error { return e.kind }

// userErr returns an error of kind whose whole text is safe to show.
func userErr(kind error, format string, args ...any) error {
	return &publicError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// classify maps an error to a status, a short code and a public message.
func classify(err error) (int, string, string) {
	var pe *publicError
	msg := ""
	if errors.As(err, &pe) {
		msg = pe.msg
	}
	pick := func(status int, code, fallback string) (int, string, string) {
		if msg == "" {
			msg = fallback
		}
		return status, code, msg
	}
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, ErrCSRF):
		return pick(http.StatusForbidden, "csrf", ErrCSRF.Error())
	case errors.Is(err, ErrUnauthorized):
		return pick(http.StatusUnauthorized, "unauthorized", ErrUnauthorized.Error())
	case errors.Is(err, ErrForbidden):
		return pick(http.StatusForbidden, "forbidden", "you may not do this")
	case errors.Is(err, ErrNotFound), errors.Is(err, store.ErrNotFound):
		return pick(http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, ErrConflict), errors.Is(err, store.ErrExists):
		return pick(http.StatusConflict, "conflict", "conflict")
	case errors.Is(err, store.ErrLimit):
		return pick(http.StatusTooManyRequests, "too_many", "limit reached")
	case errors.Is(err, ErrTooLarge), errors.As(err, &mbe):
		return pick(http.StatusRequestEntityTooLarge, "too_large", "upload too large")
	case errors.Is(err, ErrUnsupported), errors.Is(err, media.ErrNotMedia):
		return pick(http.StatusUnsupportedMediaType, "unsupported_media", "not a recording bonafide can read")
	case errors.Is(err, ErrUnusable), errors.Is(err, media.ErrUnusableInput):
		return pick(http.StatusUnprocessableEntity, "unusable_media", "the recording cannot be analysed")
	case errors.Is(err, ErrBadRequest), errors.Is(err, store.ErrInvalid):
		return pick(http.StatusBadRequest, "bad_request", "bad request")
	case errors.As(err, &he):
		m := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && s != "" {
			m = s
		}
		code := strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
		return he.Code, code, m
	}
	return http.StatusInternalServerError, "internal", "internal error; see the server log"
}

// apiError is the JSON body of every API error.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// handleError is the one HTTPErrorHandler: JSON for /api and /metrics,
// an HTML page for everything else.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := classify(err)
	if clientGone(err, c) {
		// The client hung up (a WHIP publisher that gave up, a closed
		// tab): nobody reads the answer, and it is no server fault.
		status, code, msg = statusClientClosed, "client_closed", "the request was cancelled"
	}
	log := s.log.With("method", c.Request().Method, "path", c.Request().URL.Path, "status", status)
	if status >= 500 {
		log.Error("request failed", "err", err)
	} else {
		log.Debug("request refused", "err", err)
	}
	if status == http.StatusUnauthorized && isAPI(c) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="bonafide"`)
	}
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case isAPI(c):
		werr = c.JSON(status, apiError{Error: code, Message: msg})
	default:
		werr = s.render(c, status, "error", pageData{Title: http.StatusText(status), Data: errorView{Status: status, Message: msg}})
	}
	if werr != nil {
		log.Warn("could not write the error response", "err", werr)
	}
}

// statusClientClosed is the status logged and counted for a request
// whose client went away before it was answered (nginx's 499).
const statusClientClosed = 499

// clientGone reports whether err is the request's own context ending
// because the client closed the connection, and nothing else: an error
// that joins the cancellation with another failure (a clean-up that could
// not undo what the request had stored) is still the server's.
func clientGone(err error, c echo.Context) bool {
	return onlyCanceled(err) && errors.Is(c.Request().Context().Err(), context.Canceled)
}

// onlyCanceled reports whether every error that err joins or wraps ends in
// context.Canceled.
func onlyCanceled(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		for _, x := range errs {
			if !onlyCanceled(x) {
				return false
			}
		}
		return len(errs) > 0
	case interface{ Unwrap() error }:
		return onlyCanceled(e.Unwrap())
	}
	return err == context.Canceled
}

type errorView struct {
	Status  int
	Message string
}

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/api/") || p == "/metrics" || p == "/healthz" || p == "/readyz"
}
