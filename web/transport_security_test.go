package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCookiesSecureAndHSTS: cookies are Secure and responses carry
// Strict-Transport-Security whenever browsers reach the service over
// HTTPS — it terminates TLS itself, or its public URL is https (behind a
// TLS-terminating proxy); --secure-cookies forces Secure cookies alone.
func TestCookiesSecureAndHSTS(t *testing.T) {
	cert, key, pool := selfSignedCert(t)
	for _, tc := range []struct {
		name         string
		mod          func(*Config)
		tls          bool
		secure, hsts bool
	}{
		{"plain HTTP", nil, false, false, false},
		{"--secure-cookies", func(c *Config) { c.SecureCookies = true }, false, true, false},
		{"http public URL", func(c *Config) { c.Live.PublicURL = "http://bonafide.example" }, false, false, false},
		{"https public URL behind a proxy", func(c *Config) { c.Live.PublicURL = "https://bonafide.example" }, false, true, true},
		{"TLS terminated here", func(c *Config) { c.TLSCert, c.TLSKey = cert, key }, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := startApp(t, func(c *Config) {
				c.Analyzer = &fakeAnalyzer{}
				if tc.mod != nil {
					tc.mod(c)
				}
			})
			base := ta.base
			client := &http.Client{Timeout: time.Minute, CheckRedirect: noRedirect.CheckRedirect}
			if tc.tls {
				base = "https://" + strings.TrimPrefix(base, "http://")
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			}
			wantHSTS := ""
			if tc.hsts {
				wantHSTS = "max-age=31536000"
			}

			// The login form's double-submit cookie.
			resp, err := client.Get(base + "/login")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, wantHSTS, resp.Header.Get("Strict-Transport-Security"))
			login := findCookie(t, resp, loginCookie)
			assert.Equal(t, tc.secure, login.Secure, "login cookie")
			assert.True(t, login.HttpOnly)

			// The session cookie (the form posted by hand: a cookie jar
			// keeps Secure cookies from plain-HTTP requests).
			form := url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "csrf": {login.Value}}
			req, err := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: loginCookie, Value: login.Value})
			resp, err = client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, wantHSTS, resp.Header.Get("Strict-Transport-Security"))
			assert.Equal(t, tc.secure, findCookie(t, resp, sessionCookie).Secure, "session cookie")

			// Every answer carries HSTS, errors too.
			resp, err = client.Get(base + "/api/v1/interviews")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, wantHSTS, resp.Header.Get("Strict-Transport-Security"))
		})
	}
}

func findCookie(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie set", name)
	return nil
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key (PEM)
// and returns their paths and a pool that trusts it.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "bonafide test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(priv)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}
