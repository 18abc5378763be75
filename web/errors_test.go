package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// A request whose client hung up (a WHIP publisher that gave up while the
// offer was being answered) is answered 499 and logged at debug level,
// not as a server failure; the same error on a live request stays a 500.
func TestHandleErrorClientGone(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hungUp     bool
		err        error
		wantStatus int
		wantError  bool
	}{
		{"client hung up", true, fmt.Errorf("whip: publish: %w", context.Canceled), statusClientClosed, false},
		{"cancelled by the server, client still there", false, fmt.Errorf("whip: publish: %w", context.Canceled), http.StatusInternalServerError, true},
		{"other failure after a hang-up", true, fmt.Errorf("disk full"), http.StatusInternalServerError, true},
		{"a clean-up that failed after a hang-up", true, fmt.Errorf("store: %w", errors.Join(context.Canceled, errors.New("rename failed"))), http.StatusInternalServerError, true},
		{"cancellations only, joined", true, errors.Join(context.Canceled, fmt.Errorf("enqueue: %w", context.Canceled)), statusClientClosed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &server{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.hungUp {
				cancel()
			}
			req := httptest.NewRequest(http.MethodPost, "/api/v1/sessions/x/whip", nil).WithContext(ctx)
			rec := httptest.NewRecorder()
			s.handleError(tc.err, echo.New().NewContext(req, rec))
			require.Equal(t, tc.wantStatus, rec.Code)
			require.Equal(t, tc.wantError, bytes.Contains(logs.Bytes(), []byte("level=ERROR")), "log: %s", logs.String())
		})
	}
}
