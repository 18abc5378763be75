package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/bonafide-dev/bonafide/store"
	"github.com/bonafide-dev/bonafide/web"
)

const tokenUsage = `Usage:
  bonafide token create --data DIR --email E --name N [--expires 90d]
  bonafide token list   --data DIR [--email E]
  bonafide token revoke --data DIR --email E --name N

Changes take effect at once, also while the service runs.
`

func runToken(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, args, "token", tokenUsage, []subcommand{
		{"create", runTokenCreate},
		{"list", runTokenList},
		{"revoke", runTokenRevoke},
	})
}

func runTokenCreate(ctx context.Context, e *env, args []string) error {
	fs, af := newAccountFlagSet(e, "token create", "--data DIR --email E --name N [--expires 90d]\n\n"+
		"Prints the token once; only its SHA-256 hash is stored.", "the account the token acts as (required)")
	name := fs.String("name", "", "a name for the token, unique per account (required)")
	var expires days
	fs.Var(&expires, "expires", "the token stops working this long from now, e.g. 90d or 12h (at least 1h; 0: never)")
	if err := parseAccount(fs, af, args); err != nil {
		return err
	}
	if *name == "" {
		return usageErr("--name is required")
	}
	if expires != 0 && time.Duration(expires) < time.Hour {
		return usageErr("--expires must be 0 (never) or at least 1h")
	}
	var until time.Time
	if expires > 0 {
		until = time.Now().Add(time.Duration(expires))
	}
	return withStore(ctx, *af.data, func(st store.Store) error {
		token, err := createToken(ctx, st, *af.email, *name, until)
		if token != "" {
			// Made, so shown, even if its audit entry failed. Only the
			// token goes to standard output, for scripts.
			fmt.Fprintln(e.stdout, token)
			if !until.IsZero() {
				fmt.Fprintf(e.stderr, "expires %s\n", cliTime(until))
			}
		}
		return err
	})
}

// createToken makes a token for the account and returns it, also with the
// error when only its audit entry failed (the token exists then).
func createToken(ctx context.Context, st store.Store, email, name string, expires time.Time) (string, error) {
	u, err := lookupUser(ctx, st, email)
	if err != nil {
		return "", err
	}
	token, hash := web.NewAPIToken()
	if _, err := st.CreateToken(ctx, u.ID, name, hash, expires); err != nil {
		return "", err
	}
	detail := "token " + name
	if !expires.IsZero() {
		detail += ", expires " + cliTime(expires)
	}
	return token, recordCLI(ctx, st, "token.create", u, detail)
}

func runTokenList(ctx context.Context, e *env, args []string) error {
	fs, af := newAccountFlagSet(e, "token list", "--data DIR [--email E]\n\n"+
		"Prints each token's account, name, creation, expiry and last use (UTC, to the\n"+
		"minute) and whether it is refused; never the token.",
		"only this account's tokens (default: every account's)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *af.data == "" {
		return usageErr("--data is required")
	}
	return withStore(ctx, *af.data, func(st store.Store) error {
		users, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		owner := make(map[int64]store.User, len(users))
		for _, u := range users {
			owner[u.ID] = u
		}
		var id int64
		if *af.email != "" {
			u, err := lookupUser(ctx, st, *af.email)
			if err != nil {
				return err
			}
			id = u.ID
		}
		tokens, err := st.ListTokens(ctx, id)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
		for _, t := range tokens {
			u := owner[t.UserID]
			status := "active"
			switch {
			case u.Disabled():
				status = "refused: account disabled"
			case t.Expired(now):
				status = "refused: expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, t.Name, cliTime(t.CreatedAt), optCLITime(t.ExpiresAt, "never"), optCLITime(t.LastUsedAt, "never"), status)
		}
		return tw.Flush()
	})
}

func runTokenRevoke(ctx context.Context, e *env, args []string) error {
	fs, af := newAccountFlagSet(e, "token revoke", "--data DIR --email E --name N\n\n"+
		"Deletes the token: later requests with it get 401.", "the token's account (required)")
	name := fs.String("name", "", "the token's name (required; see 'token list')")
	if err := parseAccount(fs, af, args); err != nil {
		return err
	}
	if *name == "" {
		return usageErr("--name is required")
	}
	return withStore(ctx, *af.data, func(st store.Store) error {
		u, err := lookupUser(ctx, st, *af.email)
		if err != nil {
			return err
		}
		err = st.DeleteToken(ctx, u.ID, *name)
		if errors.Is(err, store.ErrNotFound) {
			return usageErr("%s has no token named %q (see bonafide token list --email %s)", u.Email, *name, u.Email)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked token %q of %s\n", *name, u.Email)
		return recordCLI(ctx, st, "token.revoke", u, "token "+*name)
	})
}
