package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/bonafide-dev/bonafide/store"
)

// Cookie and header names.
const (
	sessionCookie = "bonafide_session"
	loginCookie   = "bonafide_login" // double-submit CSRF token of the login form
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
	tokenPrefix   = "bf_"
)

// BcryptCost is the cost of stored password hashes.
const BcryptCost = 12

// HashPassword hashes a password with bcrypt for the users table.
func HashPassword(pw string) (string, error) {
	if len(pw) < 8 {
		return "", userErr(ErrBadRequest, "a password needs at least 8 characters")
	}
	if len(pw) > 72 {
		return "", userErr(ErrBadRequest, "a password may have at most 72 bytes (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), BcryptCost)
	return string(h), err
}

// dummyHash is compared against when the e-mail is unknown, so that a
// login takes as long whether or not the account exists. Made on first use.
var dummyHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("not a real password"), BcryptCost)
	if err != nil {
		return "$2a$12$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva"
	}
	return string(h)
})

// checkPassword reports whether pw matches hash (constant time, bcrypt).
func checkPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// randomToken returns n random bytes in URL-safe base64.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewAPIToken returns a new bearer token and the SHA-256 hash to store.
// The token is shown once; only the hash is kept.
func NewAPIToken() (token string, hash []byte) {
	token = tokenPrefix + randomToken(32)
	return token, HashToken(token)
}

// HashToken is the stored form of a bearer token or session cookie.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// tokenTouchWait is the longest a request waits to record its token's
// use (store.TouchToken) when the database is busy writing.
const tokenTouchWait = 250 * time.Millisecond

// principal is who is making a request.
type principal struct {
	User    store.User
	Session *store.Session // nil for bearer tokens
}

func (p *principal) isAdmin() bool { return p.User.Role == store.RoleAdmin }

// CSRF returns the session's form token ("" for bearer tokens).
func (p *principal) CSRF() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.CSRF
}

const ctxPrincipal = "bonafide.principal"

func currentPrincipal(c echo.Context) *principal {
	p, _ := c.Get(ctxPrincipal).(*principal)
	return p
}

// authenticate finds the principal from a bearer token or, without an
// Authorization header, from the session cookie. A revoked token, or a
// token or session of a disabled account, is not found by the store
// (store.Tokens, store.Sessions), so it is refused like an unknown one.
func (s *server) authenticate(c echo.Context) (*principal, error) {
	ctx := c.Request().Context()
	if h := c.Request().Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(tok, tokenPrefix) {
			return nil, userErr(ErrUnauthorized, "the Authorization header must be \"Bearer bf_…\"")
		}
		hash := HashToken(strings.TrimSpace(tok))
		now := time.Now()
		u, t, err := s.store.UserByTokenHash(ctx, hash, now)
		if errors.Is(err, store.ErrNotFound) || (err == nil && subtle.ConstantTimeCompare(t.Hash, hash) != 1) {
			return nil, userErr(ErrUnauthorized, "unknown API token")
		}
		if errors.Is(err, store.ErrExpired) {
			// Only the token's holder can get here: saying so helps them
			// and tells nobody else anything.
			return nil, userErr(ErrUnauthorized, "this API token has expired; ask for a new one")
		}
		if err != nil {
			return nil, err
		}
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= time.Minute {
			// A write, so at most once a minute per token (the store
			// checks again), and never for long: the request goes on
			// without it.
			tctx, cancel := context.WithTimeout(ctx, tokenTouchWait)
			if err := s.store.TouchToken(tctx, t.ID, now); err != nil {
				s.log.Warn("token use not recorded", "token", t.Name, "user", u.Email, "err", err)
			}
			cancel()
		}
		return &principal{User: u}, nil
	}
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, ErrUnauthorized
	}
	hash := HashToken(ck.Value)
	se, u, err := s.store.SessionByHash(ctx, hash, time.Now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && subtle.ConstantTimeCompare(se.TokenHash, hash) != 1) {
		return nil, userErr(ErrUnauthorized, "your session has expired; log in again")
	}
	if err != nil {
		return nil, err
	}
	return &principal{User: u, Session: &se}, nil
}

// requireAuth admits authenticated requests. Pages redirect anonymous
// visitors to the login page; the API answers 401. Unsafe methods on a
// cookie session must carry the session's CSRF token (header or form
// field; multipart uploads check their csrf part themselves, see
// csrfPending).
func (s *server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.authenticate(c)
		if err != nil {
			if errors.Is(err, ErrUnauthorized) && !isAPI(c) && c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return err
		}
		c.Set(ctxPrincipal, p)
		if p.Session != nil && !safeMethod(c.Request().Method) {
			if err := checkCSRF(c, p.Session.CSRF); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// requireAdmin admits admins only; use after requireAuth.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := currentPrincipal(c); p == nil || !p.isAdmin() {
			return userErr(ErrForbidden, "only admins may do this")
		}
		return next(c)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

const ctxCSRFPending = "bonafide.csrf_pending"

// uploadRoutes stream multipart bodies and check their csrf part
// themselves (receiveUpload); every other route reads the form here.
var uploadRoutes = map[string]bool{"/api/v1/interviews": true, "/upload": true}

// checkCSRF compares the request's token with want in constant time.
func checkCSRF(c echo.Context, want string) error {
	got := c.Request().Header.Get(csrfHeader)
	if got == "" {
		if uploadRoutes[c.Path()] {
			// Upload bodies are not capped by limitBodies, and parsing a
			// form here would spool all of it to disk before the token is
			// compared; the upload handler streams the multipart form and
			// checks the csrf part before the file part. Anything but a
			// multipart form is refused unread.
			mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
			if err != nil || mt != echo.MIMEMultipartForm {
				return userErr(ErrBadRequest, "send the recording as multipart/form-data in the field \"file\"")
			}
			c.Set(ctxCSRFPending, want)
			return nil
		}
		got = c.FormValue(csrfField)
	}
	if !tokenEqual(got, want) {
		return ErrCSRF
	}
	return nil
}

// csrfPending returns the token a multipart form must still present.
func csrfPending(c echo.Context) (string, bool) {
	v, ok := c.Get(ctxCSRFPending).(string)
	return v, ok
}

func tokenEqual(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// cookie builds a cookie with the service's security attributes.
func (s *server) cookie(c echo.Context, name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   s.cfg.SecureCookies || s.cfg.servesHTTPS() || c.Request().TLS != nil,
	}
	if maxAge < 0 {
		ck.MaxAge = -1
		ck.Expires = time.Unix(1, 0)
	} else {
		ck.MaxAge = int(maxAge / time.Second)
		ck.Expires = time.Now().Add(maxAge)
	}
	return ck
}
