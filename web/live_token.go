package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// liveTokenPrefix starts every live session token, so that it is never
// mistaken for an API token (bf_…): it grants publishing to one session
// and nothing else.
const liveTokenPrefix = "bfw_"

// liveKeyFile holds the key live session tokens are derived from.
const liveKeyFile = "live-token.key"

// liveTokens derives each live session's publishing token from a secret
// key in the data folder: token = HMAC-SHA256(key, session id). The store
// keeps only the token's SHA-256 (like API tokens), and the server can
// show the token again on the session's companion page, to its owner, with
// no plaintext copy in the database.
type liveTokens struct {
	key []byte
}

// loadLiveTokens reads the key from dir, creating it (0600) on first use.
func loadLiveTokens(dir string) (*liveTokens, error) {
	path := filepath.Join(dir, liveKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("live token key: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			return nil, errors.Join(fmt.Errorf("live token key: %w", err), f.Close())
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("live token key: %w", err)
		}
		return &liveTokens{key: key}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live token key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("live token key %s: shorter than 32 bytes", path)
	}
	return &liveTokens{key: key}, nil
}

// token returns session id's publishing token.
func (lt *liveTokens) token(id string) string {
	m := hmac.New(sha256.New, lt.key)
	m.Write([]byte("bonafide live session\x00"))
	m.Write([]byte(id))
	return liveTokenPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// liveTokenMatches reports whether token is the one whose hash the session stores
// (constant time).
func liveTokenMatches(token string, hash []byte) bool {
	if token == "" || len(hash) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(HashToken(token), hash) == 1
}
