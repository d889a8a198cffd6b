// Command fullstack is the migration platform built from the cutover
// library: it plans, applies and destroys the whole landing zone of a
// monolith's move to AWS, against real AWS or (with -sim) against a
// simulated cloud that needs no account.
//
//	go run ./examples/fullstack demo            # the whole story on a fresh simulated cloud
//	go run ./examples/fullstack -sim plan       # what apply would do
//	go run ./examples/fullstack -sim apply      # do it (state kept in .cutover-sim.json)
//	go run ./examples/fullstack -sim -yes destroy
//
// Run a subcommand with -h for its flags. Exit codes: 0 success, 1
// failure, 2 bad usage or spec, and 3 for a plan with changes when
// -detailed-exitcode is set.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitChanges = 3
)

// usageError is a bad flag, argument or spec: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errChanges reports a plan with changes under -detailed-exitcode.
var errChanges = errors.New("plan has changes")

type command struct {
	name, summary, help string
	run                 func(ctx context.Context, a *app) error
}

var commands = []command{
	{"init", "write the default spec to a file for editing", "init writes the reference migration spec (YAML) to -config (default cutover.yaml), with the demo CA certificates it names; it refuses to overwrite an existing file.", cmdInit},
	{"plan", "show what apply would change, without changing anything", "plan reads the cloud and prints, for every resource, whether apply would create, update or leave it; it makes no write call. With -detailed-exitcode it exits 3 when there are changes.", cmdPlan},
	{"apply", "create or converge every resource of the spec", "apply ensures every resource of the spec in dependency order, independent parts in parallel, with live progress, under the tracking table's lease. It is idempotent: a second apply changes nothing. The first apply records the migration as provisioned.", cmdApply},
	{"status", "show the migration at a glance", "status shows the phase, the traffic split, the database replication and its lag, the servers by state, the file transfers, the validation results, the last events and, after a rollback, why it happened. -o json prints the whole record.", cmdStatus},
	{"replicate", "start the database, server and file replication and follow it", "replicate starts the DMS forward task (full load + CDC) and the DataSync transfer, follows them and the MGN servers, records their progress, and returns once all three replicate continuously (phase replicating).", cmdReplicate},
	{"validate", "launch test instances and run the validation suite on them", "validate launches the wave's MGN test instances, runs the SSM validation documents on every server (application, database, services, files) and records the migration as validated only if every check passed on every server; otherwise it names each failure and exits 1.", cmdValidate},
	{"cutover", "move traffic to green step by step, rolling back on its own", "cutover launches the servers' cutover instances, switches the database once replication has caught up (it freezes writes on the on-premises source, so run it where that database is reachable, and flips the database's DNS name to AWS), and moves traffic to green in the spec's steps, each baked under the rollback policy; a breach rolls back (exit 1), a hold or freeze waits for an operator. A rerun after a rollback tries again.", cmdCutover},
	{"rollback", "move all traffic back on-premises now", "rollback moves every record to blue in one change batch, makes sure the reverse replication runs so no write made on AWS is lost, and records and notifies it; -reason is required, and -yes confirms it. It refuses after the rollback window.", cmdRollback},
	{"destroy", "delete every resource the env owns", "destroy deletes, in reverse dependency order, every resource carrying the env's ownership tag; it never touches look-alikes without it. It keeps, and says so, the target database's final snapshot and the tracking table's final backup. It asks for confirmation unless -yes is given.", cmdDestroy},
	{"iam-policy", "print the IAM policy an operator needs", "iam-policy runs the whole migration on a fresh simulated cloud, collects every API call the platform made and every operation its clients declare (drift repairs included), and prints the IAM policy that allows exactly those actions (generated, so it never lags behind the code).", cmdIAMPolicy},
	{"demo", "the whole migration on a fresh simulated cloud", "demo tells the migration's story on a fresh simulated cloud with time compressed: plan, apply, replicate, validate, a stepped cutover with an incident and an automatic rollback, recovery, completion and destroy. It needs no AWS account and leaves nothing behind.", cmdDemo},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args and runs one subcommand, returning the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	global := flag.NewFlagSet("fullstack", flag.ContinueOnError)
	global.SetOutput(stderr)
	a.flags(global)
	global.Usage = func() { usage(stderr, global) }
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := global.Args()
	if len(rest) == 0 {
		usage(stderr, global)
		return exitUsage
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == rest[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "fullstack: unknown command %q\n\n", rest[0])
		usage(stderr, global)
		return exitUsage
	}
	cmd := commands[i]
	// Flags may also follow the subcommand: fullstack plan -sim.
	sub := flag.NewFlagSet("fullstack "+cmd.name, flag.ContinueOnError)
	sub.SetOutput(stderr)
	// The same flag values: what the global flags set stays set.
	global.VisitAll(func(f *flag.Flag) { sub.Var(f.Value, f.Name, f.Usage) })
	sub.Usage = func() {
		fmt.Fprintf(stderr, "usage: fullstack [flags] %s [flags]\n\n%s\n\nflags:\n", cmd.name, wrap(cmd.help, 76))
		sub.PrintDefaults()
	}
	if err := sub.Parse(rest[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if sub.NArg() > 0 {
		fmt.Fprintf(stderr, "fullstack %s: unexpected arguments %q\n", cmd.name, sub.Args())
		return exitUsage
	}
	if a.output != "text" && a.output != "json" {
		fmt.Fprintf(stderr, "fullstack: -o must be text or json, got %q\n", a.output)
		return exitUsage
	}
	err := cmd.run(ctx, a)
	a.notifyFailure(context.WithoutCancel(ctx), cmd.name, err)
	code := exitCode(err)
	if code == exitUsage || code == exitFailure {
		fmt.Fprintf(stderr, "fullstack %s: %v\n", cmd.name, err)
	}
	return code
}

// exitCode maps a command's outcome to its exit code: 0 for success, 3
// for a plan with changes (-detailed-exitcode), 2 for bad usage or an
// invalid spec, 1 for every other failure — a failed validation, and a
// cutover the controller rolled back, among them.
func exitCode(err error) int {
	var uerr usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errChanges):
		return exitChanges
	case errors.As(err, &uerr):
		return exitUsage
	default:
		return exitFailure
	}
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: fullstack [flags] <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nflags:\n")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nRun 'fullstack <command> -h' for what a command does.\n")
}

// wrap folds text at width columns.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(text) {
		if col > 0 && col+1+len(w) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
