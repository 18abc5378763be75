package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one ffmpeg child. Its stdout is read by the owner; its stderr
// is consumed by a goroutine that hands every line to onLine and keeps the
// last error lines for messages. close kills the child if it still runs and
// always waits for it and for the stderr goroutine, so no process or
// goroutine outlives it. close is idempotent.
type process struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stdin  io.WriteCloser // nil unless started withStdin

	stderrDone chan struct{}
	mu         sync.Mutex
	errLines   []string // last warning/error lines
	warnings   int      // count of [warning] and [error] lines

	closeOnce sync.Once
	waitErr   error
}

const keepErrLines = 8

// onLine (optional) sees every stderr line; onDone (optional) runs once
// stderr is exhausted, before close returns. With withStdin the child reads
// its input from p.stdin, which the caller writes and closes.
func startFFmpeg(ctx context.Context, bin string, args []string, withStdin bool, onLine func(string), onDone func()) (*process, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	cmd.WaitDelay = 5 * time.Second
	// Own process group: a Ctrl-C on the terminal reaches us, and we decide.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	var stdin io.WriteCloser
	if withStdin {
		if stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", ErrToolMissing, err)
		}
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	p := &process{cmd: cmd, stdout: stdout, stdin: stdin, stderrDone: make(chan struct{})}
	go p.readStderr(stderr, onLine, onDone)
	return p, nil
}

func (p *process) readStderr(r io.Reader, onLine func(string), onDone func()) {
	defer close(p.stderrDone)
	if onDone != nil {
		defer onDone()
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if onLine != nil {
			onLine(line)
		}
		if strings.Contains(line, "[error]") || strings.Contains(line, "[fatal]") || strings.Contains(line, "[warning]") {
			p.mu.Lock()
			p.warnings++
			p.errLines = append(p.errLines, cleanLogLine(line))
			if len(p.errLines) > keepErrLines {
				p.errLines = p.errLines[1:]
			}
			p.mu.Unlock()
		}
	}
	// Drain whatever is left so the child never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

// cleanLogLine strips ffmpeg's "[ctx @ 0x..] [level] " prefixes.
func cleanLogLine(s string) string {
	for strings.HasPrefix(s, "[") {
		i := strings.Index(s, "] ")
		if i < 0 {
			break
		}
		s = s[i+2:]
	}
	return strings.TrimSpace(s)
}

// wait waits for the child after its stdout reached EOF.
func (p *process) wait() error {
	p.closeOnce.Do(func() {
		<-p.stderrDone
		p.waitErr = p.cmd.Wait()
	})
	return p.waitErr
}

// interrupt kills the child without reaping it; the owner's reads then end.
// Safe to call from any goroutine, any number of times.
func (p *process) interrupt() {
	_ = p.cmd.Process.Kill()
}

// close kills the child unless it has exited and reaps it.
func (p *process) close() error {
	p.closeOnce.Do(func() {
		_ = p.stdout.Close()
		if p.stdin != nil {
			_ = p.stdin.Close()
		}
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
		<-p.stderrDone
		p.waitErr = p.cmd.Wait()
	})
	return p.waitErr
}

// diagnostics returns the number of warning/error lines and the last ones.
func (p *process) diagnostics() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.warnings, strings.Join(p.errLines, "; ")
}

// DecodeError reports that ffmpeg stopped with an error. Frames or samples
// delivered before it are valid.
type DecodeError struct {
	Stream string // "video" or "audio"
	Err    error  // the exit status
	Detail string // ffmpeg's last error lines
}

func (e *DecodeError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("ffmpeg %s decode failed: %v", e.Stream, e.Err)
	}
	return fmt.Sprintf("ffmpeg %s decode failed: %v: %s", e.Stream, e.Err, e.Detail)
}

func (e *DecodeError) Unwrap() error { return e.Err }
