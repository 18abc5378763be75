package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/bonafide-dev/bonafide/store"
)

// Over real HTTP: a revoked API token, and the token and session of a
// disabled account, get 401 at once; a disabled account's login page says
// what a wrong password gets; enabling brings the kept token back; a new
// password ends the sessions and the old password stops working.
func TestAuthTokenRevokeAndAccountLifecycle(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	ctx := context.Background()
	u, tok := ta.addUser(t, "third@example.com", store.RoleRecruiter)
	browser, _ := ta.login(t, u.Email)

	status := func(t *testing.T, c *http.Client, token string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, ta.base+"/api/v1/interviews", nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			assert.Equal(t, "unauthorized", decode[apiError](t, resp).Error)
		}
		return resp.StatusCode
	}
	loginPage := func(t *testing.T, password string) (int, string) {
		t.Helper()
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: noRedirect.CheckRedirect}
		resp := ta.postLogin(t, c, u.Email, password)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	wrongCode, wrongPage := loginPage(t, "not the password")
	require.Equal(t, http.StatusUnauthorized, wrongCode)
	require.Contains(t, wrongPage, "Wrong e-mail or password.")

	steps := []struct {
		name    string
		do      func(t *testing.T)
		token   int // the account's API token
		session int // the browser session made before the step
		login   int // a login with testPassword
	}{
		{"before", func(*testing.T) {}, 200, 200, 303},
		{"disable", func(t *testing.T) {
			n, err := ta.st.DisableUser(ctx, u.ID, time.Now())
			require.NoError(t, err)
			assert.EqualValues(t, 2, n, "the browser's session and the one login just made")
		}, 401, 401, 401},
		{"enable", func(t *testing.T) {
			require.NoError(t, ta.st.EnableUser(ctx, u.ID))
		}, 200, 401, 303},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do(t)
			assert.Equal(t, st.token, status(t, noRedirect, tok), "token")
			assert.Equal(t, st.session, status(t, browser, ""), "session")
			code, page := loginPage(t, testPassword)
			require.Equal(t, st.login, code)
			if code == http.StatusUnauthorized {
				assert.Contains(t, page, "Wrong e-mail or password.", "no enumeration: the same words as a wrong password")
				assert.NotContains(t, strings.ToLower(page), "disabled")
			}
		})
	}

	// A new password: sessions end, the old password is refused, the new
	// one works, the token is untouched.
	browser, _ = ta.login(t, u.Email)
	h, err := bcrypt.GenerateFromPassword([]byte("a brand new password"), bcrypt.MinCost)
	require.NoError(t, err)
	_, err = ta.st.SetPasswordHash(ctx, u.ID, string(h))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, status(t, browser, ""), "session after a new password")
	code, _ := loginPage(t, testPassword)
	assert.Equal(t, http.StatusUnauthorized, code, "old password")
	code, _ = loginPage(t, "a brand new password")
	assert.Equal(t, http.StatusSeeOther, code, "new password")
	assert.Equal(t, http.StatusOK, status(t, noRedirect, tok), "the token survives a new password")

	// Revoking the token: the next request with it gets 401; other tokens
	// are untouched.
	require.NoError(t, ta.st.DeleteToken(ctx, u.ID, "test"))
	assert.Equal(t, http.StatusUnauthorized, status(t, noRedirect, tok), "revoked token")
	assert.Equal(t, http.StatusOK, status(t, noRedirect, ta.recTok), "another account's token of the same name")
}

// An expiring API token works until its expiry and gets 401 saying so
// from then on; a request records its use.
func TestAuthTokenExpiry(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	ctx := context.Background()
	tok, hash := NewAPIToken()
	exp := time.Now().Add(2 * time.Second)
	_, err := ta.st.CreateToken(ctx, ta.rec.ID, "brief", hash, exp)
	require.NoError(t, err)
	resp := ta.do(t, http.MethodGet, "/api/v1/interviews", tok, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	list, err := ta.st.ListTokens(ctx, ta.rec.ID)
	require.NoError(t, err)
	var used *time.Time
	for _, l := range list {
		if l.Name == "brief" {
			used = l.LastUsedAt
		}
	}
	require.NotNil(t, used, "its use is recorded")
	assert.WithinDuration(t, time.Now(), *used, time.Minute)

	time.Sleep(time.Until(exp) + 50*time.Millisecond)
	resp = ta.do(t, http.MethodGet, "/api/v1/interviews", tok, nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	e := decode[apiError](t, resp)
	assert.Equal(t, "unauthorized", e.Error)
	assert.Contains(t, e.Message, "expired")
	resp = ta.do(t, http.MethodGet, "/api/v1/interviews", ta.recTok, nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the account's other token still works")
}
