// Command bonafide screens video interviews for manipulated faces and voices.
//
// Exit codes: 0 success, 1 failure of the machine or a tool, 2 unusable
// input (see media.ErrUnusableInput), 64 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/store"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUnusable = 2
	exitUsage    = 64
	// exitAltered: bonafide audit --verify found the audit log altered.
	exitAltered = 3
)

var errUsage = errors.New("usage error")

type command struct {
	name, summary string
	run           func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: streams and a logger, no globals.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	logger         *slog.Logger
}

func commands() []command {
	return []command{
		{"analyze", "analyse a recording and print its authenticity report", runAnalyze},
		{"bench", "time analyze against ffmpeg decode-only on the same file", runBench},
		{"eval", "measure the detectors and the model on a corpus manifest", runEval},
		{"train", "fit the fusion model on a corpus manifest", runTrain},
		{"serve", "run the web service", runServe},
		{"user", "manage accounts (add, list, disable, enable, set-password)", runUser},
		{"token", "manage API tokens (create, list, revoke)", runToken},
		{"audit", "print the audit log (who viewed, changed and deleted what)", runAudit},
		{"version", "print the version", func(_ context.Context, e *env, _ []string) error {
			fmt.Fprintln(e.stdout, "bonafide", version())
			return nil
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, e *env) int {
	if e.logger == nil {
		e.logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, errUsage), errors.Is(err, media.ErrBadRegion): // a region too small for this video
			fmt.Fprintf(e.stderr, "bonafide %s: %v\n", c.name, err)
			return exitUsage
		case errors.Is(err, store.ErrAuditAltered):
			fmt.Fprintf(e.stderr, "bonafide %s: %v\n", c.name, err)
			return exitAltered
		case errors.Is(err, media.ErrUnusableInput):
			fmt.Fprintf(e.stderr, "bonafide %s: unusable input: %v\n", c.name, err)
			return exitUnusable
		default:
			fmt.Fprintf(e.stderr, "bonafide %s: %v\n", c.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(e.stderr, "bonafide: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "bonafide: deepfake screening for video interviews")
	fmt.Fprintln(w, "\nUsage: bonafide COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'bonafide COMMAND -h' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 unusable input, 64 usage error.")
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}
