package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bonafide-dev/bonafide/store"
	"github.com/bonafide-dev/bonafide/web"
)

func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		io.WriteString(e.stderr, "Usage: bonafide user add --data DIR --email E --role admin|recruiter --password-stdin\n")
		return usageErr("the only user command is \"add\"")
	}
	fs := newFlagSet("user add", e)
	data := fs.String("data", "", "data folder of the service (required)")
	email := fs.String("email", "", "the account's e-mail address (required)")
	role := fs.String("role", "recruiter", "admin or recruiter")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide user add --data DIR --email E --role admin|recruiter --password-stdin\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case *data == "":
		return usageErr("--data is required")
	case *email == "":
		return usageErr("--email is required")
	case !store.Role(*role).Valid():
		return usageErr("--role must be admin or recruiter")
	case !*fromStdin:
		return usageErr("--password-stdin is required (passwords are never taken from the command line)")
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	hash, err := web.HashPassword(pw)
	if err != nil {
		return usageErr("%v", err)
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	u, err := st.CreateUser(ctx, *email, store.Role(*role), hash)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrInvalid) {
		return usageErr("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s %s\n", u.Role, u.Email)
	return nil
}

// openStore opens the data folder's database, creating the folder.
func openStore(ctx context.Context, dir string) (*store.SQLite, error) {
	f := store.Files{Root: dir}
	if err := f.Init(); err != nil {
		return nil, err
	}
	return store.OpenSQLite(ctx, f.DBPath(), nil)
}
