package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
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
	verify := fs.Bool("verify", false, "check the log's hash chain (and every --anchor) instead of listing it")
	anchors := anchorFlag{}
	fs.Var(anchors, "anchor", `with --verify: "ID:HASH", a head the server logged ("audit log head"); the entry must still have that hash (repeatable)`)
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide audit --data DIR [--target T] [--actor A] [--action X] [--limit N] [--before ID]\n"+
			"       bonafide audit --data DIR --verify [--anchor ID:HASH]...\n\n"+
			"Prints the audit log, newest first: id, time (UTC), actor, action, target, client address, detail.\n"+
			"With --verify, checks that no entry was edited, removed or inserted since it was recorded, and that\n"+
			"the entry of each anchor still has the hash the server logged for it; exits 3 if not (1: could not check).\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *data == "":
		return usageErr("--data is required")
	case len(anchors) > 0 && !*verify:
		return usageErr("--anchor needs --verify")
	case *verify:
		var filters []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "data" && f.Name != "verify" && f.Name != "anchor" {
				filters = append(filters, "--"+f.Name)
			}
		})
		if len(filters) > 0 {
			return usageErr("--verify checks the whole log: no %s", strings.Join(filters, ", "))
		}
		// Opening a store creates a data folder: a mistyped --data must
		// not verify a new, empty log.
		if db := (store.Files{Root: *data}).DBPath(); !fileExists(db) {
			return usageErr("no database at %s: is --data the service's data folder?", db)
		}
		return withStore(ctx, *data, func(st store.Store) error { return verifyAudit(ctx, e.stdout, st, anchors) })
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

// anchorFlag collects --anchor ID:HASH values.
type anchorFlag map[int64]string

func (a anchorFlag) String() string { return fmt.Sprint(map[int64]string(a)) }

func (a anchorFlag) Set(v string) error {
	id, h, err := store.ParseAuditAnchor(v)
	if err != nil {
		return err
	}
	if old, ok := a[id]; ok && old != h {
		return fmt.Errorf("two different hashes for entry %d", id)
	}
	a[id] = h
	return nil
}

// verifyAudit checks the audit log's chain and anchors and says what it
// checked; an altered log is an error wrapping store.ErrAuditAltered (exit
// 3) after that summary.
func verifyAudit(ctx context.Context, w io.Writer, st store.Audit, anchors anchorFlag) error {
	c, err := st.VerifyAudit(ctx, anchors)
	switch {
	case c.Entries > 0 && err != nil:
		fmt.Fprintf(w, "entries %d to %d (%d) follow each other; then:\n", c.First, c.Head, c.Entries)
	case c.Entries > 0:
		fmt.Fprintf(w, "checked %d entries, %d to %d; head %d:%s\n", c.Entries, c.First, c.Head, c.Head, c.HeadHash)
		fmt.Fprintf(w, "oldest entry kept: %d, recorded %s\n", c.First, cliTime(c.FirstAt))
	}
	if c.Unchained > 0 {
		fmt.Fprintf(w, "%d older entries were recorded before the log was chained and cannot be checked\n", c.Unchained)
	}
	if len(anchors) > 0 && err == nil {
		fmt.Fprintf(w, "anchors: %d matched, %d older than the oldest entry kept (deleted by the audit period, or by hand: not checked)\n", c.Anchors, c.Expired)
	}
	switch {
	case err != nil:
		return err
	case c.Entries == 0 && c.Unchained == 0:
		fmt.Fprintln(w, "the audit log is empty: nothing to check")
	case c.Entries == 0:
		fmt.Fprintln(w, "no chained entries to check")
	default:
		fmt.Fprintln(w, "audit log intact")
	}
	return nil
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
