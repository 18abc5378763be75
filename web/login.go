package web

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/store"
)

type loginView struct {
	Email string
	Next  string
	Error string
	// LoginCSRF is the double-submit token: the same value is in a cookie
	// and in the form, so another site cannot post the form (login CSRF).
	LoginCSRF string
}

// loginPage shows the login form.
func (s *server) loginPage(c echo.Context) error {
	// Keep an existing token: a second tab, or a stray request that lands
	// on this page, must not invalidate the form already shown.
	tok := ""
	if ck, err := c.Cookie(loginCookie); err == nil && len(ck.Value) == 32 {
		tok = ck.Value
	} else {
		tok = randomToken(24)
	}
	c.SetCookie(s.cookie(c, loginCookie, tok, time.Hour))
	return s.render(c, http.StatusOK, "login", pageData{Title: "Log in",
		Data: loginView{Next: safeNext(c.QueryParam("next")), LoginCSRF: tok}})
}

// login checks the credentials and starts a session.
func (s *server) login(c echo.Context) error {
	ck, err := c.Cookie(loginCookie)
	if err != nil || !tokenEqual(c.FormValue(csrfField), ck.Value) {
		return userErr(ErrCSRF, "the login form expired; reload the page and try again")
	}
	email := strings.TrimSpace(c.FormValue("email"))
	pw := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	host := peerHost(c.Request())
	account, addr := "account:"+strings.ToLower(email), "addr:"+host
	if wait, ok := s.loginRefused(account, addr); ok {
		s.log.Warn("login refused: too many failures", "email", email, "addr", host, "retry_in", wait.Round(time.Second))
		mins := int(math.Ceil(wait.Minutes()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		tok := randomToken(24)
		c.SetCookie(s.cookie(c, loginCookie, tok, time.Hour))
		return s.render(c, http.StatusTooManyRequests, "login", pageData{Title: "Log in",
			Data: loginView{Email: email, Next: next, LoginCSRF: tok,
				Error: fmt.Sprintf("Too many failed logins for this account or from this address. Try again in %d minute%s.", mins, plural(mins))}})
	}
	u, err := s.store.UserByEmail(c.Request().Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		checkPassword(dummyHash(), pw) // same time as a wrong password
	case err != nil:
		return err
	}
	if err != nil || !checkPassword(u.PasswordHash, pw) {
		s.loginFails.fail(account)
		s.addrFails.fail(addr)
		s.log.Info("login failed", "email", email, "addr", host)
		tok := randomToken(24)
		c.SetCookie(s.cookie(c, loginCookie, tok, time.Hour))
		return s.render(c, http.StatusUnauthorized, "login", pageData{Title: "Log in",
			Data: loginView{Email: email, Next: next, Error: "Wrong e-mail or password.", LoginCSRF: tok}})
	}
	secret := randomToken(32)
	now := time.Now()
	se := store.Session{TokenHash: HashToken(secret), UserID: u.ID, CSRF: randomToken(32), CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(c.Request().Context(), se); err != nil {
		return err
	}
	s.loginFails.reset(account)
	s.log.Info("login", "user", u.Email)
	c.SetCookie(s.cookie(c, sessionCookie, secret, s.cfg.SessionTTL))
	c.SetCookie(s.cookie(c, loginCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, next)
}

// loginRefused reports whether a login of account from addr is refused
// for too many failures, and for how long.
func (s *server) loginRefused(account, addr string) (time.Duration, bool) {
	wait, refused := s.loginFails.blocked(account)
	if w, ok := s.addrFails.blocked(addr); ok {
		wait, refused = max(wait, w), true
	}
	return wait, refused
}

// peerHost is the TCP peer's address (not X-Forwarded-For, which any
// client can set).
func peerHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// logout ends the session (CSRF-checked by requireAuth).
func (s *server) logout(c echo.Context) error {
	if p := currentPrincipal(c); p != nil && p.Session != nil {
		if err := s.store.DeleteSession(c.Request().Context(), p.Session.TokenHash); err != nil {
			return err
		}
	}
	c.SetCookie(s.cookie(c, sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps redirects on this site: a local absolute path only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) || strings.ContainsAny(next, "\r\n") {
		return "/interviews"
	}
	return next
}
