package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bonafide-dev/bonafide/store"
	"github.com/bonafide-dev/bonafide/web"
)

const userUsage = `Usage:
  bonafide user add          --data DIR --email E --role admin|recruiter --password-stdin
  bonafide user list         --data DIR
  bonafide user disable      --data DIR --email E
  bonafide user enable       --data DIR --email E
  bonafide user set-password --data DIR --email E --password-stdin

Changes take effect at once, also while the service runs.
`

func runUser(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, args, "user", userUsage, []subcommand{
		{"add", runUserAdd},
		{"list", runUserList},
		{"disable", runUserDisable},
		{"enable", runUserEnable},
		{"set-password", runUserSetPassword},
	})
}

// subcommand is one of a command's verbs ("user add").
type subcommand struct {
	name string
	run  func(ctx context.Context, e *env, args []string) error
}

// runSub runs the subcommand named by args[0]; without one, or with an
// unknown one, it prints usage and returns a usage error.
func runSub(ctx context.Context, e *env, args []string, cmd, usage string, subs []subcommand) error {
	names := make([]string, len(subs))
	for i, sc := range subs {
		if len(args) > 0 && args[0] == sc.name {
			return sc.run(ctx, e, args[1:])
		}
		names[i] = sc.name
	}
	io.WriteString(e.stderr, usage)
	if len(args) == 0 {
		return usageErr("a %s command is needed: %s", cmd, strings.Join(names, ", "))
	}
	return usageErr("unknown %s command %q (%s)", cmd, args[0], strings.Join(names, ", "))
}

// accountFlags are the flags of the commands that act on one account.
type accountFlags struct {
	data, email *string
}

// newAccountFlagSet returns the flag set of command name with --data and
// --email; its -h prints "Usage: bonafide NAME " + usage and the flags.
func newAccountFlagSet(e *env, name, usage, emailHelp string) (*flag.FlagSet, accountFlags) {
	fs := newFlagSet(name, e)
	af := accountFlags{
		data:  fs.String("data", "", "data folder of the service (required)"),
		email: fs.String("email", "", emailHelp),
	}
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide "+name+" "+usage+"\n")
		if strings.Contains(usage, "\n") {
			io.WriteString(e.stderr, "\n") // a description: a blank line before the flags
		}
		fs.PrintDefaults()
	}
	return fs, af
}

func runUserAdd(ctx context.Context, e *env, args []string) error {
	fs, af := newAccountFlagSet(e, "user add", "--data DIR --email E --role admin|recruiter --password-stdin", "the account's e-mail address (required)")
	role := fs.String("role", "recruiter", "admin or recruiter")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	if err := parseAccount(fs, af, args); err != nil {
		return err
	}
	switch {
	case !store.Role(*role).Valid():
		return usageErr("--role must be admin or recruiter")
	case !*fromStdin:
		return usageErr("--password-stdin is required (passwords are never taken from the command line)")
	}
	hash, err := readPassword(e)
	if err != nil {
		return err
	}
	return withStore(ctx, *af.data, func(st store.Store) error {
		u, err := st.CreateUser(ctx, *af.email, store.Role(*role), hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created %s %s\n", u.Role, u.Email)
		return recordCLI(ctx, st, "user.add", u, "role "+string(u.Role))
	})
}

func runUserList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("user list", e)
	data := fs.String("data", "", "data folder of the service (required)")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide user list --data DIR\n\nPrints every account: e-mail, role, creation time (UTC) and status.\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return usageErr("--data is required")
	}
	return withStore(ctx, *data, func(st store.Store) error {
		users, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tCREATED\tSTATUS")
		for _, u := range users {
			status := "active"
			if u.Disabled() {
				status = "disabled since " + cliTime(*u.DisabledAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Role, cliTime(u.CreatedAt), status)
		}
		return tw.Flush()
	})
}

func runUserDisable(ctx context.Context, e *env, args []string) error {
	fs, af := newAccountFlagSet(e, "user disable", "--data DIR --email E\n\n"+
		"The account can no longer log in, its sessions end at once and its API tokens\n"+
		"are refused (they are kept: 'user enable' brings them back).", "the account (required)")
	if err := parseAccount(fs, af, args); err != nil {
		return err
	}
	return withStore(ctx, *af.data, func(st store.Store) error {
		u, err := lookupUser(ctx, st, *af.email)
		if err != nil {
			return err
		}
		n, err := st.DisableUser(ctx, u.ID, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "disabled %s; %d session%s ended\n", u.Email, n, plural(n))
		return recordCLI(ctx, st, "user.disable", u, "")
	})
}

func runUserEnable(ctx context.Context, e *env, args []string) error {
	fs, af := newAccountFlagSet(e, "user enable", "--data DIR --email E", "the account (required)")
	if err := parseAccount(fs, af, args); err != nil {
		return err
	}
	return withStore(ctx, *af.data, func(st store.Store) error {
		u, err := lookupUser(ctx, st, *af.email)
		if err != nil {
			return err
		}
		if err := st.EnableUser(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "enabled %s\n", u.Email)
		return recordCLI(ctx, st, "user.enable", u, "")
	})
}

func runUserSetPassword(ctx context.Context, e *env, args []string) error {
	fs, af := newAccountFlagSet(e, "user set-password", "--data DIR --email E --password-stdin\n\n"+
		"Sets a new password and ends the account's sessions. API tokens are kept\n"+
		"(revoke them with 'token revoke' if the account was compromised).", "the account (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input (required)")
	if err := parseAccount(fs, af, args); err != nil {
		return err
	}
	if !*fromStdin {
		return usageErr("--password-stdin is required (passwords are never taken from the command line)")
	}
	hash, err := readPassword(e)
	if err != nil {
		return err
	}
	return withStore(ctx, *af.data, func(st store.Store) error {
		u, err := lookupUser(ctx, st, *af.email)
		if err != nil {
			return err
		}
		n, err := st.SetPasswordHash(ctx, u.ID, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password set for %s; %d session%s ended\n", u.Email, n, plural(n))
		return recordCLI(ctx, st, "user.password", u, "")
	})
}

// parseAccount parses args and requires --data and --email.
func parseAccount(fs *flag.FlagSet, af accountFlags, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *af.data == "":
		return usageErr("--data is required")
	case *af.email == "":
		return usageErr("--email is required")
	}
	return nil
}

// readPassword reads a password from the first line of standard input and
// hashes it as `user add` does (8–72 bytes, bcrypt at web.BcryptCost).
func readPassword(e *env) (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	hash, err := web.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		return "", usageErr("%v", err)
	}
	return hash, nil
}

// lookupUser finds the account of email; an unknown one is a usage error.
func lookupUser(ctx context.Context, st store.Users, email string) (store.User, error) {
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, usageErr("no account has the e-mail %s (see bonafide user list)", email)
	}
	return u, err
}

// withStore opens the data folder's database, runs fn and closes it. The
// store's sentinels — no such row, name taken, invalid value — are the
// operator's to fix, so they become usage errors (exit code 64).
func withStore(ctx context.Context, dir string, fn func(store.Store) error) error {
	st, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	err = fn(st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if !errors.Is(err, errUsage) && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrInvalid)) {
		return usageErr("%v", err)
	}
	return err
}

// cliTime formats a stored time for listings: UTC, to the second.
func cliTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// optCLITime is cliTime of *t, or none when t is nil.
func optCLITime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return cliTime(*t)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// openStore opens the data folder's database, creating the folder.
func openStore(ctx context.Context, dir string) (*store.SQLite, error) {
	f := store.Files{Root: dir}
	if err := f.Init(); err != nil {
		return nil, err
	}
	return store.OpenSQLite(ctx, f.DBPath(), nil)
}
