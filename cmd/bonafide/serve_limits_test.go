package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestServeLiveMaxDurationFlag: a live call cap under a second is a usage
// error (64), caught before anything starts.
func TestServeLiveMaxDurationFlag(t *testing.T) {
	for _, v := range []string{"0", "500ms", "-1h", "forever"} {
		t.Run(v, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--live-max-duration", v},
				&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
			assert.Equal(t, exitUsage, code, "stderr: %s", stderr.String())
		})
	}
}
