package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/store"
	"github.com/bonafide-dev/bonafide/web"
)

// buildBonafide builds the real binary once per test.
func buildBonafide(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bonafide")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// server is a running `bonafide serve` child process.
type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *testutil.SyncBuffer // written by the child's output copier
	done   chan error
}

var servingLine = regexp.MustCompile(`serving on (http://\S+)`)

func startServe(t *testing.T, bin, data string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", "127.0.0.1:0", "--shutdown-timeout", "3s")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &server{cmd: cmd, stderr: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
			s.base = m[1]
			break
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout) // keep the pipe drained
		s.done <- cmd.Wait()
	}()
	require.NotEmpty(t, s.base, "serve did not start: %s", s.stderr)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

func (s *server) request(t *testing.T, method, path, token string, body io.Reader, ct string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type ivStatus struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Progress float64         `json:"progress"`
	Attempts int             `json:"attempts"`
	Verdict  string          `json:"verdict"`
	Report   json.RawMessage `json:"report"`
}

func (s *server) interview(t *testing.T, token, id string) ivStatus {
	t.Helper()
	resp := s.request(t, http.MethodGet, "/api/v1/interviews/"+id, token, nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var iv ivStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&iv))
	return iv
}

func runCLI(t *testing.T, bin, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "bonafide %s: %s", strings.Join(args, " "), stderr.String())
	return strings.TrimSpace(string(out))
}

// TestServeKilledMidAnalysisResumes kills `bonafide serve` with SIGKILL
// while it analyses an upload; after a restart on the same data folder the
// interrupted job runs again and completes.
func TestServeKilledMidAnalysisResumes(t *testing.T) {
	bin := buildBonafide(t)
	data := t.TempDir()
	runCLI(t, bin, "a long enough password\n", "user", "add", "--data", data, "--email", "ops@example.com", "--role", "admin", "--password-stdin")
	token := runCLI(t, bin, "", "token", "create", "--data", data, "--email", "ops@example.com", "--name", "restart-test")
	require.True(t, strings.HasPrefix(token, "bf_"))

	s1 := startServe(t, bin, data)
	// A 10 s recording: long enough to be caught mid-analysis.
	clip := testutil.CorpusItem(t, "video", "genuine", "DeepfakeDetection@be94e6c6e28315abe11cb0c409eb393efe98f51d:real.mp4")
	f, err := os.ReadFile(clip)
	require.NoError(t, err)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", filepath.Base(clip))
	require.NoError(t, err)
	_, err = fw.Write(f)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	resp := s1.request(t, http.MethodPost, "/api/v1/interviews", token, &body, mw.FormDataContentType())
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	var created ivStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&created))

	require.Eventually(t, func() bool {
		iv := s1.interview(t, token, created.ID)
		return iv.Status == "processing" && iv.Progress > 0
	}, time.Minute, 50*time.Millisecond, "the analysis started and reported progress")
	require.NoError(t, s1.cmd.Process.Signal(syscall.SIGKILL))
	<-s1.done

	s2 := startServe(t, bin, data)
	iv := s2.interview(t, token, created.ID)
	assert.NotEqual(t, "done", iv.Status, "not finished before the kill")
	require.Eventually(t, func() bool {
		iv = s2.interview(t, token, created.ID)
		return iv.Status == "done" || iv.Status == "failed"
	}, 4*time.Minute, 200*time.Millisecond)
	require.Equal(t, "done", iv.Status, "stderr: %s", s2.stderr)
	assert.Equal(t, 2, iv.Attempts, "the killed attempt counts, the second one finished")
	assert.NotEmpty(t, iv.Report)
	assert.Contains(t, s2.stderr.String(), "resuming jobs interrupted by a restart")

	// Graceful stop: SIGTERM, exit status 0.
	require.NoError(t, s2.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-s2.done:
		require.NoError(t, err, "stderr: %s", s2.stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	data := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		stdin string
		code  int
		out   string
	}{
		{"add admin", []string{"user", "add", "--data", data, "--email", "a@example.com", "--role", "admin", "--password-stdin"}, "password-1234\n", exitOK, "created admin a@example.com"},
		{"add recruiter", []string{"user", "add", "--data", data, "--email", "r@example.com", "--role", "recruiter", "--password-stdin"}, "password-5678", exitOK, "created recruiter"},
		{"duplicate", []string{"user", "add", "--data", data, "--email", "A@example.com", "--role", "admin", "--password-stdin"}, "password-1234\n", exitUsage, ""},
		{"bad role", []string{"user", "add", "--data", data, "--email", "x@example.com", "--role", "boss", "--password-stdin"}, "password-1234\n", exitUsage, ""},
		{"short password", []string{"user", "add", "--data", data, "--email", "y@example.com", "--role", "admin", "--password-stdin"}, "short\n", exitUsage, ""},
		{"password on the command line is refused", []string{"user", "add", "--data", data, "--email", "z@example.com", "--role", "admin"}, "", exitUsage, ""},
		{"no data", []string{"user", "add", "--email", "z@example.com", "--password-stdin"}, "password-1234\n", exitUsage, ""},
		{"token", []string{"token", "create", "--data", data, "--email", "r@example.com", "--name", "ci"}, "", exitOK, "bf_"},
		{"token name taken", []string{"token", "create", "--data", data, "--email", "r@example.com", "--name", "ci"}, "", exitUsage, ""},
		{"token for nobody", []string{"token", "create", "--data", data, "--email", "ghost@example.com", "--name", "ci"}, "", exitUsage, ""},
		{"unknown subcommand", []string{"user", "delete"}, "", exitUsage, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &env{stdin: strings.NewReader(tc.stdin), stdout: &stdout, stderr: &stderr})
			require.Equal(t, tc.code, code, "stderr: %s", stderr.String())
			assert.Contains(t, stdout.String(), tc.out)
		})
	}
}

// The account and token commands record themselves in the audit log,
// which `bonafide audit` prints with its filters; a refused command
// records nothing.
func TestAuditCommand(t *testing.T) {
	data := t.TempDir()
	cli := func(stdin string, args ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr})
		return code, stdout.String()
	}
	for _, args := range [][]string{
		{"user", "add", "--data", data, "--email", "a@example.com", "--role", "admin", "--password-stdin"},
		{"user", "add", "--data", data, "--email", "r@example.com", "--password-stdin"},
		{"token", "create", "--data", data, "--email", "r@example.com", "--name", "ci"},
		{"user", "disable", "--data", data, "--email", "r@example.com"},
	} {
		code, _ := cli("password-1234\n", args...)
		require.Equal(t, exitOK, code, args)
	}
	code, _ := cli("password-1234\n", "user", "add", "--data", data, "--email", "A@example.com", "--password-stdin")
	require.Equal(t, exitUsage, code, "taken")
	lines := func(args ...string) []string {
		t.Helper()
		code, out := cli("", append([]string{"audit", "--data", data}, args...)...)
		require.Equal(t, exitOK, code)
		var fields []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] { // below the header
			f := strings.Fields(l)
			require.GreaterOrEqual(t, len(f), 5, l)
			assert.True(t, strings.HasPrefix(f[2], "cli"), l)
			fields = append(fields, f[3]+" "+f[4])
		}
		return fields
	}
	assert.Equal(t, []string{"user.disable user:2", "token.create user:2", "user.add user:2", "user.add user:1"}, lines())
	assert.Equal(t, []string{"user.add user:2", "user.add user:1"}, lines("--action", "user.add"))
	assert.Equal(t, []string{"token.create user:2"}, lines("--action", "token."))
	assert.Equal(t, []string{"user.disable user:2"}, lines("--target", "user:2", "--limit", "1"))
	assert.Equal(t, []string{"user.add user:1"}, lines("--limit", "1", "--before", "2"))
	for _, args := range [][]string{{"--limit", "0"}, {"--limit", "501"}, {"--before", "-1"}, {"--target"}} {
		code, _ := cli("", append([]string{"audit", "--data", data}, args...)...)
		assert.Equal(t, exitUsage, code, args)
	}
	code, _ = cli("", "audit")
	assert.Equal(t, exitUsage, code, "no --data")

	// --verify: the chain holds, an anchor taken from its output matches;
	// after an entry is edited behind the service's back it exits 1 and
	// names the entry.
	code, out := cli("", "audit", "--data", data, "--verify")
	require.Equal(t, exitOK, code, out)
	m := regexp.MustCompile(`checked 4 entries, 1 to 4; head 4:([0-9a-f]{64})\n`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assert.Contains(t, out, "audit log intact")
	assert.Contains(t, out, "oldest entry kept: 1, recorded ")
	anchor := "4:" + m[1]
	code, out = cli("", "audit", "--data", data, "--verify", "--anchor", anchor)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "anchors: 1 matched, 0 older than the oldest entry kept")
	for _, args := range [][]string{
		{"--anchor", anchor},                  // without --verify
		{"--verify", "--anchor", "4:abc"},     // not a hash
		{"--verify", "--anchor", "0:" + m[1]}, // not an id
		{"--verify", "--target", "user:2"},    // filters
		{"--verify", "--limit", "5"},          // a listing flag
		{"--verify", "--anchor", anchor, "--anchor", "4:" + strings.Repeat("0", 64)}, // two hashes for one entry
	} {
		code, _ := cli("", append([]string{"audit", "--data", data}, args...)...)
		assert.Equal(t, exitUsage, code, args)
	}
	code, _ = cli("", "audit", "--data", filepath.Join(data, "typo"), "--verify")
	assert.Equal(t, exitUsage, code, "a folder without a database is not an empty log")
	assert.NoDirExists(t, filepath.Join(data, "typo"), "and is not created")
	db, err := store.OpenSQLiteDB(store.Files{Root: data}.DBPath())
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE audit_events SET actor = 'cli:someone' WHERE id = 2`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	var stdout, stderr bytes.Buffer
	code = run(context.Background(), []string{"audit", "--data", data, "--verify"}, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
	assert.Equal(t, exitAltered, code)
	assert.Contains(t, stdout.String(), "entries 1 to 1 (1) follow each other; then:")
	assert.Contains(t, stderr.String(), "audit log altered: entry 2 does not match its hash")
}

func TestServeFlagErrors(t *testing.T) {
	cases := [][]string{
		{"serve"}, // no --data
		{"serve", "--data", t.TempDir(), "--max-upload", "lots"},
		{"serve", "--data", t.TempDir(), "--workers", "0"},
		{"serve", "--data", t.TempDir(), "--webhook-allow", "not-a-cidr"},
		{"serve", "--data", t.TempDir(), "--tls-cert", "cert.pem"},
		{"serve", "--data", t.TempDir(), "extra"},
		{"serve", "--data", t.TempDir(), "--login-max-failures", "0"},
		{"serve", "--data", t.TempDir(), "--login-window", "0s"},
		{"serve", "--data", t.TempDir(), "--retention", "30m"},
		{"serve", "--data", t.TempDir(), "--retention", "90days"},
		{"serve", "--data", t.TempDir(), "--audit-retention", "30m"},
		{"serve", "--data", t.TempDir(), "--audit-view-window", "-1s"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
			assert.Equal(t, exitUsage, code, "stderr: %s", stderr.String())
		})
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"4GiB": 4 << 30, "500MiB": 500 << 20, "64KiB": 64 << 10, "1048576": 1 << 20, "2 GB": 2e9} {
		var b byteSize
		require.NoError(t, b.Set(in), in)
		assert.Equal(t, want, int64(b), in)
	}
	for _, in := range []string{"", "-1", "0", "1.5GiB", "GiB", "9999999TiB"} {
		var b byteSize
		assert.Error(t, b.Set(in), in)
	}
}

func TestDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, " 1d ": 24 * time.Hour, "0": 0, "0d": 0, "36h": 36 * time.Hour, "1h30m": 90 * time.Minute} {
		var d days
		require.NoError(t, d.Set(in), in)
		assert.Equal(t, want, time.Duration(d), in)
	}
	for _, in := range []string{"", "-1d", "-2h", "1.5d", "d", "90", "99999d", "1w"} {
		var d days
		assert.Error(t, d.Set(in), in)
	}
	for d, want := range map[days]string{days(0): "0s", days(90 * 24 * time.Hour): "90d", days(36 * time.Hour): "36h0m0s"} {
		assert.Equal(t, want, d.String())
	}
}

// TestUserAndTokenLifecycleCommands lists, revokes, disables, enables and
// re-passwords through the CLI and checks the effect in the store.
func TestUserAndTokenLifecycleCommands(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	cli := func(t *testing.T, stdin string, args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr})
		return code, stdout.String(), stderr.String()
	}
	for email, role := range map[string]string{"a@example.com": "admin", "r@example.com": "recruiter"} {
		code, _, stderr := cli(t, "password-1234\n", "user", "add", "--data", data, "--email", email, "--role", role, "--password-stdin")
		require.Equal(t, exitOK, code, stderr)
	}
	code, secret, stderr := cli(t, "", "token", "create", "--data", data, "--email", "r@example.com", "--name", "ci")
	require.Equal(t, exitOK, code, stderr)
	secret = strings.TrimSpace(secret)
	inStore := func(t *testing.T, fn func(st *store.SQLite, u store.User)) {
		t.Helper()
		st, err := openStore(ctx, data)
		require.NoError(t, err)
		defer func() { require.NoError(t, st.Close()) }()
		u, err := st.UserByEmail(ctx, "r@example.com")
		require.NoError(t, err)
		fn(st, u)
	}
	session := []byte("session-of-r")
	newSession := func(t *testing.T) {
		inStore(t, func(st *store.SQLite, u store.User) {
			now := time.Now()
			require.NoError(t, st.CreateSession(ctx, store.Session{TokenHash: session, UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		})
	}
	sessionGone := func(t *testing.T) {
		inStore(t, func(st *store.SQLite, _ store.User) {
			_, _, err := st.SessionByHash(ctx, session, time.Now())
			require.ErrorIs(t, err, store.ErrNotFound, "the account's session ended")
		})
	}
	tokenWorks := func(want bool) func(t *testing.T) {
		return func(t *testing.T) {
			inStore(t, func(st *store.SQLite, _ store.User) {
				_, _, err := st.UserByTokenHash(ctx, web.HashToken(secret), time.Now())
				if want {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, store.ErrNotFound)
				}
			})
		}
	}
	steps := []struct {
		name   string
		args   []string
		stdin  string
		before func(t *testing.T)
		code   int
		out    []string
		errOut string
		after  func(t *testing.T)
	}{
		{name: "token list", args: []string{"token", "list", "--data", data},
			out: []string{"EMAIL", "r@example.com", "ci", "active"}},
		{name: "token list of one account", args: []string{"token", "list", "--data", data, "--email", "a@example.com"},
			out: []string{"EMAIL"}},
		{name: "token create expiring", args: []string{"token", "create", "--data", data, "--email", "a@example.com", "--name", "quarter", "--expires", "90d"},
			out: []string{"bf_"}, errOut: "expires "},
		{name: "token create expiring too soon", args: []string{"token", "create", "--data", data, "--email", "a@example.com", "--name", "brief", "--expires", "30m"},
			code: exitUsage, errOut: "--expires must be 0 (never) or at least 1h"},
		{name: "token list: expiry, last use, expired",
			before: func(t *testing.T) {
				inStore(t, func(st *store.SQLite, u store.User) {
					_, tok, err := st.UserByTokenHash(ctx, web.HashToken(secret), time.Now())
					require.NoError(t, err)
					require.NoError(t, st.TouchToken(ctx, tok.ID, time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)))
					_, err = st.CreateToken(ctx, u.ID, "old", []byte("old-hash"), time.Now().Add(-time.Hour))
					require.NoError(t, err)
				})
			},
			args: []string{"token", "list", "--data", data},
			out:  []string{"EXPIRES", "LAST USED", "2026-01-02T03:04:00Z", "quarter", "never", "refused: expired"}},
		{name: "token list of nobody", args: []string{"token", "list", "--data", data, "--email", "ghost@example.com"},
			code: exitUsage, errOut: "no account has the e-mail ghost@example.com"},
		{name: "user list", args: []string{"user", "list", "--data", data},
			out: []string{"a@example.com", "admin", "r@example.com", "recruiter", "active"}},
		{name: "user disable", args: []string{"user", "disable", "--data", data, "--email", "R@example.com"}, before: newSession,
			out:   []string{"disabled r@example.com; 1 session ended"},
			after: func(t *testing.T) { sessionGone(t); tokenWorks(false)(t) }},
		{name: "user list shows it", args: []string{"user", "list", "--data", data}, out: []string{"disabled since"}},
		{name: "token list shows it", args: []string{"token", "list", "--data", data}, out: []string{"refused: account disabled"}},
		{name: "user disable nobody", args: []string{"user", "disable", "--data", data, "--email", "ghost@example.com"},
			code: exitUsage, errOut: "no account has the e-mail"},
		{name: "user enable", args: []string{"user", "enable", "--data", data, "--email", "r@example.com"},
			out: []string{"enabled r@example.com"}, after: tokenWorks(true)},
		{name: "user enable without --email", args: []string{"user", "enable", "--data", data},
			code: exitUsage, errOut: "--email is required"},
		{name: "set-password", args: []string{"user", "set-password", "--data", data, "--email", "r@example.com", "--password-stdin"},
			stdin: "a new password\n", before: newSession,
			out: []string{"password set for r@example.com; 1 session ended"},
			after: func(t *testing.T) {
				sessionGone(t)
				tokenWorks(true)(t)
				inStore(t, func(_ *store.SQLite, u store.User) {
					cost, err := bcrypt.Cost([]byte(u.PasswordHash))
					require.NoError(t, err)
					assert.Equal(t, web.BcryptCost, cost, "the same cost as user add")
					require.NoError(t, bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("a new password")))
				})
			}},
		{name: "set-password too short", args: []string{"user", "set-password", "--data", data, "--email", "r@example.com", "--password-stdin"},
			stdin: "short\n", code: exitUsage, errOut: "at least 8 characters"},
		{name: "set-password too long", args: []string{"user", "set-password", "--data", data, "--email", "r@example.com", "--password-stdin"},
			stdin: strings.Repeat("x", 73) + "\n", code: exitUsage, errOut: "at most 72 bytes"},
		{name: "set-password from the command line", args: []string{"user", "set-password", "--data", data, "--email", "r@example.com"},
			code: exitUsage, errOut: "--password-stdin is required"},
		{name: "token revoke", args: []string{"token", "revoke", "--data", data, "--email", "r@example.com", "--name", "ci"},
			out: []string{`revoked token "ci" of r@example.com`}, after: tokenWorks(false)},
		{name: "token revoke again", args: []string{"token", "revoke", "--data", data, "--email", "r@example.com", "--name", "ci"},
			code: exitUsage, errOut: `r@example.com has no token named "ci"`},
		{name: "token revoke without --name", args: []string{"token", "revoke", "--data", data, "--email", "r@example.com"},
			code: exitUsage, errOut: "--name is required"},
		{name: "token revoke of nobody", args: []string{"token", "revoke", "--data", data, "--email", "ghost@example.com", "--name", "ci"},
			code: exitUsage, errOut: "no account has the e-mail"},
		{name: "token without a command", args: []string{"token"}, code: exitUsage, errOut: "create, list, revoke"},
		{name: "unknown user command", args: []string{"user", "delete"}, code: exitUsage, errOut: `unknown user command "delete"`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before(t)
			}
			code, stdout, stderr := cli(t, st.stdin, st.args...)
			require.Equal(t, st.code, code, "stderr: %s", stderr)
			for _, o := range st.out {
				assert.Contains(t, stdout, o)
			}
			assert.NotContains(t, stdout, secret, "the token is shown once, at creation")
			assert.NotContains(t, stdout, fmt.Sprintf("%x", web.HashToken(secret)))
			assert.Contains(t, stderr, st.errOut)
			if st.after != nil {
				st.after(t)
			}
		})
	}
}
