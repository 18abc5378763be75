package web

import (
	"errors"
	"fmt"
	"math"
	"mime"
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
	// The form is URL-encoded; a multipart body would be parsed (and its
	// files spooled) before anything is checked.
	if ct, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); ct != echo.MIMEApplicationForm {
		return userErr(ErrBadRequest, "the login form is sent as %s", echo.MIMEApplicationForm)
	}
	if err := c.Request().ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err // 413
		}
		return userErr(ErrBadRequest, "the login form could not be read")
	}
	ck, err := c.Cookie(loginCookie)
	if err != nil || !tokenEqual(c.FormValue(csrfField), ck.Value) {
		return userErr(ErrCSRF, "the login form expired; reload the page and try again")
	}
	email := strings.TrimSpace(c.FormValue("email"))
	if len(email) > store.MaxEmail {
		// No account has such an address; refused before it is counted
		// or logged, so that a flood cannot fill the log or the throttle.
		return userErr(ErrBadRequest, "an e-mail address has at most %d characters", store.MaxEmail)
	}
	pw := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	host := peerHost(c.Request())
	account, addr := "account:"+strings.ToLower(email), "addr:"+host
	// The attempt counts as a failure from here on, before the password
	// is checked: concurrent guesses cannot all pass the check while the
	// first ones are still in bcrypt. A success takes it back.
	if wait, ok := s.beginLogin(account, addr); ok {
		s.log.Warn("login refused: too many failures", "email", email, "addr", host, "retry_in", wait.Round(time.Second))
		mins := int(math.Ceil(wait.Minutes()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		tok := randomToken(24)
		c.SetCookie(s.cookie(c, loginCookie, tok, time.Hour))
		return s.render(c, http.StatusTooManyRequests, "login", pageData{Title: "Log in",
			Data: loginView{Email: email, Next: next, LoginCSRF: tok,
				Error: fmt.Sprintf("Too many failed logins for this account or from this address. Try again in %d minute%s.", mins, plural(mins))}})
	}
	// Until the comparison decides, the attempt is taken back on any way
	// out (no free password check, a cancelled request, a store error):
	// only a checked wrong password may count, or a flood of logins would
	// lock out the real users retrying theirs.
	settled := false
	defer func() {
		if !settled {
			s.abandonLogin(account, addr)
		}
	}()
	u, err := s.store.UserByEmail(c.Request().Context(), email)
	hash, found := "", false
	switch {
	case errors.Is(err, store.ErrNotFound):
		hash = dummyHash() // same time as a wrong password
	case err != nil:
		return err
	default:
		hash, found = u.PasswordHash, true
	}
	ok, err := s.passwords.check(c.Request().Context(), hash, pw)
	if err != nil {
		return err
	}
	// A disabled account is refused after the same bcrypt comparison and
	// with the same words as a wrong password: the page does not tell
	// whether an account exists or is disabled. Its failure counts too.
	disabled := found && u.Disabled()
	if !found || !ok || disabled {
		if ok && disabled {
			s.log.Info("login refused: account disabled", "email", email, "addr", host)
		} else {
			s.log.Info("login failed", "email", email, "addr", host)
		}
		if found {
			// Only attempts on a real account, which its throttle
			// bounds, go to the audit log; guesses at unknown
			// addresses (unbounded, and text anyone types) stay in
			// the server log.
			failure := store.AuditEvent{At: time.Now(), Actor: auditAnonymous, Action: "login.failed",
				Target: fmt.Sprintf("user:%d", u.ID), Addr: host, Detail: "wrong password"}
			if ok && disabled {
				failure.Detail = "account disabled"
			}
			s.auditLog.record(c.Request().Context(), failure)
		}
		settled = true // a failed try: it stays counted
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
	s.endLogin(account, addr)
	settled = true
	s.log.Info("login", "user", u.Email)
	s.auditLog.record(c.Request().Context(), store.AuditEvent{At: now, UserID: u.ID, Actor: u.Email, Action: "login", Target: fmt.Sprintf("user:%d", u.ID), Addr: host})
	c.SetCookie(s.cookie(c, sessionCookie, secret, s.cfg.SessionTTL))
	c.SetCookie(s.cookie(c, loginCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, next)
}

// beginLogin reports whether a login of account from addr is refused for
// too many failures (or because a full throttle cannot count it), and for
// how long. When it is not, the attempt is counted as a failure of both
// until endLogin: the check and the count are one step, so a burst of
// concurrent guesses gets no more tries than a sequence.
func (s *server) beginLogin(account, addr string) (time.Duration, bool) {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	wait, refused := s.loginFails.blocked(account)
	if w, ok := s.addrFails.blocked(addr); ok {
		wait, refused = max(wait, w), true
	}
	if refused {
		return wait, true
	}
	okAccount, okAddr := s.loginFails.fail(account), s.addrFails.fail(addr)
	if !okAccount || !okAddr {
		// A throttle full of keys still in their window cannot count
		// this attempt: it is refused rather than let through uncounted.
		if okAccount {
			s.loginFails.undo(account)
		}
		if okAddr {
			s.addrFails.undo(addr)
		}
		return max(s.loginFails.window, s.addrFails.window), true
	}
	return 0, false
}

// abandonLogin takes back an attempt whose password was never judged.
func (s *server) abandonLogin(account, addr string) {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	s.loginFails.undo(account)
	s.addrFails.undo(addr)
}

// endLogin takes back a successful attempt: the account's failures are
// forgotten and the address's pending one uncounted.
func (s *server) endLogin(account, addr string) {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	s.loginFails.reset(account)
	s.addrFails.undo(addr)
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
		s.audit(c, "logout", fmt.Sprintf("user:%d", p.User.ID))
	}
	c.SetCookie(s.cookie(c, sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps redirects on this site: a local absolute path only. A
// backslash or a control character is refused anywhere, since browsers
// read "/\\host" and drop tabs and newlines ("/\t/host" becomes "//host").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, func(r rune) bool {
		return r == '\\' || r < 0x20 || r == 0x7f
	}) {
		return "/interviews"
	}
	return next
}
