package main

import (
	"context"
	"fmt"
	"io"
	"os/user"
	"text/tabwriter"

	"github.com/bonafide-dev/bonafide/store"
)

// cliActor names who runs an account or token command in the audit log:
// "cli:" and the operating-system user (the service has no account for
// them: whoever can run the command can read the data folder).
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// recordCLI adds the audit entry of a command that changed account u. The
// change is made by then: a failure says so.
func recordCLI(ctx context.Context, st store.Audit, action string, u store.User, detail string) error {
	err := st.RecordAudit(ctx, store.AuditEvent{Actor: cliActor(), Action: action, Target: fmt.Sprintf("user:%d", u.ID), Detail: detail})
	if err != nil {
		return fmt.Errorf("%s of %s done, but its audit entry was not recorded: %w", action, u.Email, err)
	}
	return nil
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("audit", e)
	data := fs.String("data", "", "data folder of the service (required)")
	target := fs.String("target", "", `only entries about this target ("interview:ID", "session:ID", "user:N", "webhook:N")`)
	actor := fs.String("actor", "", "only entries of this actor (an e-mail address, server, cli:NAME, publisher, anonymous)")
	action := fs.String("action", "", `only this action ("interview.view"), or actions starting with it when it ends in "." ("interview.")`)
	limit := fs.Int("limit", 100, "at most this many entries (1–500)")
	before := fs.Int64("before", 0, "only entries older than the entry with this id (the next page)")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide audit --data DIR [--target T] [--actor A] [--action X] [--limit N] [--before ID]\n\n"+
			"Prints the audit log, newest first: id, time (UTC), actor, action, target, client address, detail.\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *data == "":
		return usageErr("--data is required")
	case *limit < 1 || *limit > 500:
		return usageErr("--limit must be in [1, 500]")
	case *before < 0:
		return usageErr("--before must be an entry id")
	}
	return withStore(ctx, *data, func(st store.Store) error {
		events, err := st.AuditEvents(ctx, store.AuditFilter{Target: *target, Actor: *actor, Action: *action, Limit: *limit, Before: *before})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tACTOR\tACTION\tTARGET\tADDRESS\tDETAIL")
		for _, ev := range events {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.ID, cliTime(ev.At), ev.Actor, ev.Action, ev.Target, ev.Addr, ev.Detail)
		}
		return tw.Flush()
	})
}
