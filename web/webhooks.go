package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/store"
)

type webhookJSON struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"` // only in the create response
	CreatedAt time.Time `json:"created_at"`
}

// createWebhook checks the URL with the outbound guard and stores a new
// webhook with a fresh signing secret.
func (s *server) createWebhook(c echo.Context, raw string) (store.Webhook, error) {
	u, err := s.guard.CheckURL(c.Request().Context(), raw)
	if err != nil {
		return store.Webhook{}, userErr(ErrBadRequest, "%v", err)
	}
	w := store.Webhook{URL: u.String(), Secret: "whsec_" + randomToken(32)}
	if p := currentPrincipal(c); p != nil {
		w.CreatedBy = p.User.ID
	}
	w, err = s.store.CreateWebhook(c.Request().Context(), w)
	if err != nil {
		return store.Webhook{}, err
	}
	s.log.Info("webhook added", "webhook", w.ID, "url", w.URL)
	c.Set(ctxAuditTarget, fmt.Sprintf("webhook:%d", w.ID))
	return w, nil
}

func webhookID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, userErr(ErrNotFound, "no webhook %q", c.Param("id"))
	}
	return id, nil
}

func (s *server) deleteWebhook(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(c.Request().Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return userErr(ErrNotFound, "no webhook %d", id)
		}
		return err
	}
	s.log.Info("webhook deleted", "webhook", id)
	c.Set(ctxAuditTarget, fmt.Sprintf("webhook:%d", id)) // as stored, not as typed ("007")
	return nil
}

// apiListWebhooks lists the webhooks (admins; secrets not shown).
func (s *server) apiListWebhooks(c echo.Context) error {
	hooks, err := s.store.Webhooks(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]webhookJSON, 0, len(hooks))
	for _, w := range hooks {
		out = append(out, webhookJSON{ID: w.ID, URL: w.URL, CreatedAt: w.CreatedAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

// apiCreateWebhook adds a webhook: 201 with its secret (shown once).
func (s *server) apiCreateWebhook(c echo.Context) error {
	var in struct {
		URL string `json:"url"`
	}
	if err := c.Bind(&in); err != nil {
		return userErr(ErrBadRequest, "send {\"url\": \"https://…\"}")
	}
	w, err := s.createWebhook(c, in.URL)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, webhookJSON{ID: w.ID, URL: w.URL, Secret: w.Secret, CreatedAt: w.CreatedAt})
}

// apiDeleteWebhook removes a webhook: 204.
func (s *server) apiDeleteWebhook(c echo.Context) error {
	if err := s.deleteWebhook(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type webhooksView struct {
	Hooks     []store.Webhook
	NewSecret string
	NewURL    string
	Error     string
}

// webhooksPage lists webhooks with forms to add and remove them.
func (s *server) webhooksPage(c echo.Context) error {
	return s.renderWebhooks(c, http.StatusOK, webhooksView{})
}

func (s *server) renderWebhooks(c echo.Context, status int, v webhooksView) error {
	hooks, err := s.store.Webhooks(c.Request().Context())
	if err != nil {
		return err
	}
	v.Hooks = hooks
	return s.render(c, status, "webhooks", pageData{Title: "Webhooks", Nav: "webhooks", Data: v})
}

// webhookCreateForm adds a webhook and shows its secret once.
func (s *server) webhookCreateForm(c echo.Context) error {
	w, err := s.createWebhook(c, c.FormValue("url"))
	if err != nil {
		var pe *publicError
		if errors.As(err, &pe) {
			return s.renderWebhooks(c, http.StatusBadRequest, webhooksView{Error: pe.msg})
		}
		return err
	}
	return s.renderWebhooks(c, http.StatusOK, webhooksView{NewSecret: w.Secret, NewURL: w.URL})
}

// webhookDeleteForm removes a webhook.
func (s *server) webhookDeleteForm(c echo.Context) error {
	if err := s.deleteWebhook(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/webhooks")
}
