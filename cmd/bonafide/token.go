package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bonafide-dev/bonafide/store"
	"github.com/bonafide-dev/bonafide/web"
)

func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		io.WriteString(e.stderr, "Usage: bonafide token create --data DIR --email E --name N\n")
		return usageErr("the only token command is \"create\"")
	}
	fs := newFlagSet("token create", e)
	data := fs.String("data", "", "data folder of the service (required)")
	email := fs.String("email", "", "the account the token acts as (required)")
	name := fs.String("name", "", "a name for the token, unique per account (required)")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide token create --data DIR --email E --name N\n\nPrints the token once; only its SHA-256 hash is stored.\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *data == "" || *email == "" || *name == "" {
		return usageErr("--data, --email and --name are required")
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	token, err := createToken(ctx, st, *email, *name)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrInvalid) {
		return usageErr("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}

func createToken(ctx context.Context, st store.Store, email, name string) (string, error) {
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	token, hash := web.NewAPIToken()
	if _, err := st.CreateToken(ctx, u.ID, name, hash); err != nil {
		return "", err
	}
	return token, nil
}
