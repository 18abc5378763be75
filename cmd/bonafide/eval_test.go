package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvalAndTrainUsageErrors(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.csv")
	require.NoError(t, os.WriteFile(manifest, []byte("path,label,video_label,audio_label,kind\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"eval without manifest", []string{"eval"}, exitUsage},
		{"eval bad cv", []string{"eval", "--manifest", manifest, "--cv", "1"}, exitUsage},
		{"eval bad workers", []string{"eval", "--manifest", manifest, "--workers", "0"}, exitUsage},
		{"eval empty manifest", []string{"eval", "--manifest", manifest, "--no-cache"}, exitFailure},
		{"eval missing manifest", []string{"eval", "--manifest", filepath.Join(dir, "absent.csv")}, exitFailure},
		{"train without out", []string{"train", "--manifest", manifest}, exitUsage},
		{"train bad fpr", []string{"train", "--manifest", manifest, "--out", filepath.Join(dir, "w.json"), "--fpr", "2"}, exitUsage},
		{"train bad values", []string{"train", "--manifest", manifest, "--out", filepath.Join(dir, "w.json"), "--values", "nocolon"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, &env{stdout: &out, stderr: &errb})
			assert.Equal(t, tc.code, code, errb.String())
		})
	}
	_, err := os.Stat(filepath.Join(dir, "w.json"))
	assert.True(t, os.IsNotExist(err), "a failed train writes no weights")
}
