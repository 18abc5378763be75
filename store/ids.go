package store

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// NewID returns a random, unguessable interview ID: 24 characters of
// lower-case base32 (120 random bits).
func NewID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}
