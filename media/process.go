package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// process is one ffmpeg child. Its outputs (stdout, then any extra pipes
// at fds 3, 4, …) are read by their owners; its stderr is consumed by a
// goroutine that hands every line to onLine and keeps the last error lines
// for messages. close kills the child if it still runs and always waits
// for it and for the stderr goroutine, so no process or goroutine outlives
// it. close is idempotent. Readers that share a process each call release
// once instead; the last release closes it.
type process struct {
	cmd   *exec.Cmd
	outs  []io.ReadCloser // stdout, then the extra outputs
	stdin io.WriteCloser  // nil unless started withStdin
	users atomic.Int32

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
	return startFFmpegOutputs(ctx, bin, args, withStdin, 0, onLine, onDone)
}

// startFFmpegOutputs is startFFmpeg with extra output pipes: ffmpeg writes
// its i-th extra output to "pipe:<3+i>", read from p.outs[1+i].
func startFFmpegOutputs(ctx context.Context, bin string, args []string, withStdin bool, extra int, onLine func(string), onDone func()) (*process, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	// Plain log lines whatever the environment: the readers parse them
	// (showinfo, ashowinfo).
	cmd.Env = append(os.Environ(), "AV_LOG_FORCE_NOCOLOR=1")
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	cmd.WaitDelay = 5 * time.Second
	// Own process group: a Ctrl-C on the terminal reaches us, and we decide.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Our own pipes, not cmd.StdoutPipe: Wait closes those, and with
	// several outputs one reader may wait for the child while another still
	// drains its pipe. Stdin is ours too, and stderr (exec's pipe) comes
	// last: exec closes its pipes only in Start or Wait, so one made before
	// a failing step would leak both its descriptors.
	var outs []io.ReadCloser
	var writers []*os.File // the child's ends, ours to close after Start
	var stdin *onceCloser
	closeAll := func() {
		for _, o := range outs {
			_ = o.Close()
		}
		for _, w := range writers {
			_ = w.Close()
		}
		if stdin != nil {
			_ = stdin.Close()
		}
	}
	for range 1 + extra {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, err
		}
		growPipe(r)
		outs, writers = append(outs, r), append(writers, w)
	}
	cmd.Stdout, cmd.ExtraFiles = writers[0], writers[1:]
	if withStdin {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, err
		}
		cmd.Stdin, writers, stdin = r, append(writers, r), &onceCloser{f: w}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		closeAll()
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", ErrToolMissing, err)
		}
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	// The child has its copies of its ends: ours must go, or the readers
	// would never see EOF (and a writer into stdin never see EPIPE).
	for _, w := range writers {
		_ = w.Close()
	}
	p := &process{cmd: cmd, outs: outs, stderrDone: make(chan struct{})}
	if stdin != nil {
		p.stdin = stdin
	}
	p.users.Store(1)
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

// wait waits for the child after its output reached EOF.
func (p *process) wait() error {
	p.closeOnce.Do(func() {
		<-p.stderrDone
		p.waitErr = p.cmd.Wait()
		if p.stdin != nil {
			_ = p.stdin.Close() // as exec's StdinPipe did after Wait
		}
	})
	return p.waitErr
}

// onceCloser is the writing end of a child's stdin: closed by its writer,
// and by the process after the child has exited, whichever comes first.
type onceCloser struct {
	f    *os.File
	once sync.Once
	err  error
}

func (c *onceCloser) Write(b []byte) (int, error) { return c.f.Write(b) }

func (c *onceCloser) Close() error {
	c.once.Do(func() { c.err = c.f.Close() })
	return c.err
}

// interrupt kills the child without reaping it; the owner's reads then end.
// Safe to call from any goroutine, any number of times.
func (p *process) interrupt() {
	_ = p.cmd.Process.Kill()
}

// share sets how many readers share the process (each calls release).
func (p *process) share(users int) { p.users.Store(int32(users)) }

// release is close for one of the readers sharing the process: the last
// one closes it.
func (p *process) release() error {
	if p.users.Add(-1) > 0 {
		return nil
	}
	return p.close()
}

// close kills the child unless it has exited and reaps it.
func (p *process) close() error {
	p.closeOnce.Do(func() {
		for _, o := range p.outs {
			_ = o.Close()
		}
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

// pipeSize is the output pipe buffer asked for: a few analysis frames, so
// that ffmpeg decodes ahead while the analysis works on the last frame
// instead of waiting for it to read (the default is 64 KiB, a fifth of a
// 640×360 frame). Linux caps it at /proc/sys/fs/pipe-max-size (1 MiB by
// default) for unprivileged processes.
const pipeSize = 1 << 20

// growPipe enlarges the buffer of pipe f; failure only costs speed.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
		})
	}
}
