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

// liveKeySize is the length of the key, in bytes.
const liveKeySize = 32

// loadLiveTokens reads the key from dir, creating it (0600) on first use.
// The key file appears whole or not at all, even when writing it fails or
// the machine crashes meanwhile; of two processes starting at once, one
// creates it and both use it.
func loadLiveTokens(dir string) (*liveTokens, error) {
	return loadLiveTokensWith(dir, writeLiveKey)
}

// loadLiveTokensWith is loadLiveTokens with the function that writes a new
// key to its file (tests fail it as a full disk does).
func loadLiveTokensWith(dir string, write func(f *os.File, key []byte) error) (*liveTokens, error) {
	path := filepath.Join(dir, liveKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createLiveKey(dir, path, write)
		if errors.Is(err, fs.ErrExist) { // another process created it first
			key, err = os.ReadFile(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("live token key: %w", err)
	}
	if len(key) < liveKeySize {
		return nil, fmt.Errorf("live token key %s: %d bytes, shorter than %d (was it written in part?); "+
			"remove the file and a new key is made at the next start", path, len(key), liveKeySize)
	}
	return &liveTokens{key: key}, nil
}

// writeLiveKey writes key to f and flushes it to the disk.
func writeLiveKey(f *os.File, key []byte) error {
	if _, err := f.Write(key); err != nil {
		return err
	}
	return f.Sync()
}

// createLiveKey makes a new random key at path: it writes and syncs it (with
// write) to a
// temporary file in dir, then links that to path, so that path never holds
// part of a key. It returns an error wrapping fs.ErrExist when path exists
// (another process linked its key first), and leaves no temporary file.
func createLiveKey(dir, path string, write func(f *os.File, key []byte) error) ([]byte, error) {
	key := make([]byte, liveKeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
	// CreateTemp makes the file with mode 0600, in dir: the link below
	// cannot cross file systems.
	f, err := os.CreateTemp(dir, liveKeyFile+".*.tmp")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // once linked, path keeps the key
	if err := write(f, key); err != nil {
		return nil, errors.Join(fmt.Errorf("write %s: %w", tmp, err), f.Close())
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	// A link, unlike a rename, fails when path exists: a key another
	// process made at the same time is never replaced.
	if err := os.Link(tmp, path); err != nil {
		return nil, err
	}
	// Make the new name durable; some file systems cannot sync a
	// directory, and the key is then only as durable as they make it.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return key, nil
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
