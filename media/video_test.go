package media_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/media"
)

// fakeFFmpeg writes an executable shell script standing in for ffmpeg and
// returns Tools that run it.
func fakeFFmpeg(t *testing.T, script string) media.Tools {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ffmpeg")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755))
	return media.Tools{FFmpeg: path}
}

// A live decoder whose output cannot be parsed fails Next at once with the
// reason, even though the decoder still runs and writes: the reader stops
// it rather than wait for an ffmpeg blocked on a pipe nobody reads.
func TestDecodeVideoBadOutputStopsDecoder(t *testing.T) {
	// More showinfo lines than the reader buffers timestamps for: the
	// stderr reader blocks handing one over until it is released.
	const showinfo = `i=0; while [ $i -lt 200 ]; do echo "[Parsed_showinfo_1 @ 0x1] n: $i pts: $i pts_time:$i" >&2; i=$((i+1)); done
`
	tests := []struct {
		name, script, want string
	}{
		{"unexpected output", "printf 'hello\\n'\nexec yes\n", "unexpected decoder output"},
		{"bad y4m header", "printf 'YUV4MPEG2 W0 H0 F5:1\\n'\nexec yes\n", "bad y4m header"},
		{"odd y4m width", "printf 'YUV4MPEG2 W3 H2 F5:1\\n'\nexec yes\n", "bad y4m header"},
		{"no frame header", "printf 'YUV4MPEG2 W2 H2 F5:1\\n'\nexec yes\n", "out of step"},
		{"line too long", "exec cat /dev/zero\n", "y4m line too long"},
		{"timestamps pile up", showinfo + "printf 'YUV4MPEG2 W0 H0\\n'\nexec yes\n", "bad y4m header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			vr, in, err := fakeFFmpeg(t, tt.script).DecodeVideo(ctx, "ivf", media.DefaultVideoOptions())
			require.NoError(t, err)
			defer in.Close()
			defer vr.Close()
			done := make(chan error, 1)
			go func() {
				_, err := vr.Next()
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				vr.Interrupt() // let the test end
				t.Fatal("Next hung on a decoder that still runs")
			}
			var de *media.DecodeError
			require.ErrorAs(t, err, &de)
			require.ErrorContains(t, err, tt.want)
			require.False(t, errors.Is(err, io.EOF))
			_, again := vr.Next()
			require.Equal(t, err, again, "the error sticks")
			closed := make(chan error, 1)
			go func() { closed <- vr.Close() }()
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close hung")
			}
		})
	}
}
