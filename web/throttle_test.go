package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoginThrottle(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	th := newLoginThrottle(3, 10*time.Minute)
	th.now = func() time.Time { return now }
	step := func(d time.Duration) { now = now.Add(d) }

	for i := range 2 {
		th.fail("a")
		_, blocked := th.blocked("a")
		require.False(t, blocked, "after %d failures", i+1)
		step(time.Minute)
	}
	th.fail("a") // third failure at 12:02
	wait, blocked := th.blocked("a")
	require.True(t, blocked)
	assert.Equal(t, 8*time.Minute, wait, "until the first failure (12:00) is 10 min old")
	_, blocked = th.blocked("b")
	assert.False(t, blocked, "other keys are not affected")

	step(8 * time.Minute) // 12:10: the 12:00 failure leaves the window
	_, blocked = th.blocked("a")
	assert.False(t, blocked)
	th.fail("a") // 12:10: failures at 12:01, 12:02, 12:10
	wait, blocked = th.blocked("a")
	require.True(t, blocked)
	assert.Equal(t, time.Minute, wait)

	th.reset("a")
	_, blocked = th.blocked("a")
	assert.False(t, blocked, "a successful login clears the account")

	// Memory stays bounded: beyond maxKeys, expired keys go first, then new
	// keys are not tracked, and fail says so.
	th.maxKeys = 4
	for i := range 4 {
		require.True(t, th.fail(fmt.Sprint("k", i)))
	}
	assert.False(t, th.fail("k-new"), "no room for a new key")
	assert.True(t, th.fail("k0"), "a tracked key still counts")
	assert.Len(t, th.fails, 4)
	step(time.Hour)
	assert.True(t, th.fail("k-new"))
	assert.Len(t, th.fails, 1, "expired keys were pruned")

	off := newLoginThrottle(0, time.Minute)
	for range 10 {
		assert.True(t, off.fail("x"))
	}
	_, blocked = off.blocked("x")
	assert.False(t, blocked, "a limit of 0 is off")
	assert.Empty(t, off.fails)
}

// A login that a full throttle cannot count is refused, and leaves no
// count behind on the other throttle.
func TestBeginLoginRefusedWhenThrottleFull(t *testing.T) {
	s := &server{loginFails: newLoginThrottle(5, 15*time.Minute), addrFails: newLoginThrottle(30, 15*time.Minute)}
	s.loginFails.maxKeys = 2
	for _, a := range []string{"account:a", "account:b"} {
		_, refused := s.beginLogin(a, "addr:1")
		require.False(t, refused)
	}
	wait, refused := s.beginLogin("account:new", "addr:1")
	assert.True(t, refused, "the account throttle has no room")
	assert.Equal(t, 15*time.Minute, wait)
	assert.Len(t, s.addrFails.fails["addr:1"], 2, "the refused attempt was not counted for the address")
	_, refused = s.beginLogin("account:a", "addr:1")
	assert.False(t, refused, "tracked accounts still log in")
}

// Over real HTTP: five wrong passwords lock the account (even the right
// password is refused with 429 and Retry-After) without locking others;
// the address limit catches guesses spread over accounts.
func TestLoginLockout(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.LoginAddrMaxFailures = 8 })
	post := func(email, password string) *http.Response {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		return ta.postLogin(t, &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}, email, password)
	}
	body := func(resp *http.Response) string {
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		return string(b)
	}
	for i := range 5 {
		resp := post("Recruiter@example.com", "wrong password")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "failure %d", i+1)
		assert.Contains(t, body(resp), "Wrong e-mail or password")
	}
	resp := post("recruiter@example.com", testPassword)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the right password is refused while locked")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, body(resp), "Too many failed logins")

	resp = post("admin@example.com", testPassword)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "another account logs in")
	resp.Body.Close()

	// Three more failures on other (unknown) accounts reach the address
	// limit of 8: now nobody logs in from this address.
	for i := range 3 {
		resp := post(fmt.Sprintf("nobody%d@example.com", i), "guess")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp.Body.Close()
	}
	resp = post("admin@example.com", testPassword)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the address is locked")
	resp.Body.Close()
}

// Guesses sent all at once get no more tries than guesses sent one after
// the other: each attempt is counted before its password is checked.
func TestLoginBurstGetsNoMoreTries(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.LoginAddrMaxFailures = 0 })
	const burst = 16
	// The transport dials connections in the burst that may never carry a
	// request; the server's shutdown waits for such connections, so close
	// them before it.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	codes := make(chan int, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			jar, err := cookiejar.New(nil)
			if !assert.NoError(t, err) {
				return
			}
			resp := ta.postLogin(t, &http.Client{Jar: jar, Transport: tr, CheckRedirect: noRedirect.CheckRedirect}, "recruiter@example.com", "wrong password")
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: burst - 5}, count,
		"five passwords checked (the account limit), the rest refused")
}

// The login form is URL-encoded and small: a multipart or oversized body
// is refused before it is parsed, and no other route reads a large form.
func TestLoginBodyRefused(t *testing.T) {
	ta := startApp(t, nil)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	resp, err := c.Get(ta.base + "/login")
	require.NoError(t, err)
	resp.Body.Close()

	body, ct := multipartBody(t, [][2]string{{"email", "admin@example.com"}}, "x.bin", bytes.Repeat([]byte{0}, 1<<20), false)
	resp, err = c.Post(ta.base+"/login", ct, body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "multipart login")

	big := url.Values{"email": {strings.Repeat("a", 1<<20)}, "password": {"x"}}.Encode()
	resp, err = c.Post(ta.base+"/login", echo.MIMEApplicationForm, strings.NewReader(big))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "an oversized form")

}

// An e-mail address longer than any account's is refused before it is
// counted or logged: more tries than the address limit all get 400, and
// the address is not locked.
func TestLoginLongEmailRefused(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.LoginAddrMaxFailures = 3 })
	for range 5 {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		resp := ta.postLogin(t, &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}, strings.Repeat("a", 250)+"@example.com", "wrong password")
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "an e-mail address of 262 characters")
	}
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	resp := ta.postLogin(t, &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}, "admin@example.com", testPassword)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "the address was not locked")
}

// A login that never had its password checked (every bcrypt slot busy:
// 503) is not a failed try: a flood of logins must not lock out the real
// user who retries a correct password.
func TestLoginBusyIsNotAFailure(t *testing.T) {
	ta := startApp(t, func(c *Config) { c.LoginCheckWait = 20 * time.Millisecond })
	slots := ta.app.srv.passwords.slots
	for range cap(slots) {
		slots <- struct{}{} // every core "busy"
	}
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	for i := range 8 {
		resp := ta.postLogin(t, c, "recruiter@example.com", testPassword)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "attempt %d while busy", i+1)
	}
	for range cap(slots) {
		<-slots
	}
	resp := ta.postLogin(t, c, "recruiter@example.com", testPassword)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "eight busy answers did not lock the account")
}
