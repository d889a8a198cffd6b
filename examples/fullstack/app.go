package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"time"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// simScale is how much faster than the wall clock simulated time runs in
// -sim: ten simulated minutes take one real second.
const simScale = 600

// app is one invocation of the platform: its flags and what they select.
type app struct {
	stdout, stderr io.Writer

	config           string
	suffix           string
	region           string
	sim              bool
	state            string
	output           string
	yes              bool
	detailedExitcode bool
	verbose          bool

	spec    Spec
	clients *clients
}

func (a *app) flags(fs *flag.FlagSet) {
	fs.StringVar(&a.config, "config", "", "spec file (YAML or JSON); the embedded reference migration when empty")
	fs.StringVar(&a.suffix, "env", "", "env suffix, overriding env.suffix of the spec")
	fs.StringVar(&a.region, "region", "", "AWS Region, overriding env.region of the spec")
	fs.BoolVar(&a.sim, "sim", false, "run against the simulated cloud kept in -state instead of AWS")
	fs.StringVar(&a.state, "state", ".cutover-sim.json", "state file of the simulated cloud (with -sim)")
	fs.StringVar(&a.output, "o", "text", "output format: text or json")
	fs.BoolVar(&a.yes, "yes", false, "confirm destroy and rollback without asking")
	fs.BoolVar(&a.detailedExitcode, "detailed-exitcode", false, "plan: exit 3 when there are changes")
	fs.BoolVar(&a.verbose, "v", false, "log every change and API decision to stderr")
}

// load reads and validates the spec and applies the flag overrides.
func (a *app) load() error {
	spec, err := loadSpec(a.config)
	if err != nil {
		return usageError{err}
	}
	if a.suffix != "" {
		spec.Env.Suffix = a.suffix
	}
	if a.region != "" {
		spec.Env.Region = a.region
	}
	if err := spec.Validate(); err != nil {
		return usageError{fmt.Errorf("invalid spec %s:\n%w", orDefault(a.config), err)}
	}
	a.spec = spec
	return nil
}

// connect loads the spec and makes the clients: the simulated cloud of the
// state file with -sim, real AWS otherwise. The returned function saves
// the simulated cloud; call it when the command ends, whatever happened.
func (a *app) connect(ctx context.Context) (save func() error, err error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	if !a.sim {
		c, err := awsClients(ctx, a.spec.Env.Region)
		if err != nil {
			return nil, err
		}
		a.clients = c
		return func() error { return nil }, nil
	}
	cloud, err := fakecloud.LoadFile(a.state, simScale)
	if err != nil {
		return nil, err
	}
	if cloud.Region() != a.spec.Env.Region {
		return nil, usageError{fmt.Errorf("the simulated cloud in %s is in %s, the spec says %s", a.state, cloud.Region(), a.spec.Env.Region)}
	}
	a.clients = simClients(cloud)
	return func() error { return cloud.SaveFile(a.state) }, nil
}

// env returns the migration env of the spec in the connected account.
func (a *app) env(reporter migration.Reporter) migration.Env {
	env := a.spec.env(a.clients.account)
	env.Clock = a.clients.clock
	env.Reporter = reporter
	if a.verbose {
		env.Logger = slog.New(slog.NewTextHandler(a.stderr, nil))
	}
	return env
}

// runbook builds the platform's runbook with progress on stdout (a live
// view in a terminal, log lines otherwise, JSON lines with -o json) and
// the applier's identity for the lease.
func (a *app) runbook() (*migration.Runbook, error) {
	var p *progress
	opts := migration.Options{OnEvent: func(e migration.Event) { p.event(e) }, Owner: owner()}
	rb, err := runbook(a.spec, a.clients, opts)
	if err != nil {
		return nil, err
	}
	p = newProgress(a.stdout, a.output, a.clients.clock, rb.Steps())
	return rb, nil
}

func owner() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

func withSave(err error, save func() error) error {
	if serr := save(); serr != nil {
		return errors.Join(err, fmt.Errorf("save simulated cloud: %w", serr))
	}
	return err
}

func cmdInit(_ context.Context, a *app) error {
	path := a.config
	if path == "" {
		path = "cutover.yaml"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return usageError{fmt.Errorf("%s exists; remove it or choose another -config", path)}
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(defaultSpec); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s; edit it, then: fullstack -config %s plan\n", path, path)
	return nil
}

func cmdPlan(ctx context.Context, a *app) error {
	save, err := a.connect(ctx)
	if err != nil {
		return err
	}
	report := &migration.Report{}
	err = plan(ctx, a, report)
	if err = withSave(err, save); err != nil {
		return err
	}
	if a.detailedExitcode && report.HasChanges() {
		return errChanges
	}
	return nil
}

func plan(ctx context.Context, a *app, report *migration.Report) error {
	rb, err := a.runbook()
	if err != nil {
		return err
	}
	if err := rb.Plan(ctx, a.env(report)); err != nil {
		return err
	}
	return a.writeReport(report)
}

func (a *app) writeReport(report *migration.Report) error {
	if a.output == "json" {
		return json.NewEncoder(a.stdout).Encode(report)
	}
	return report.WriteTable(a.stdout)
}

func cmdApply(ctx context.Context, a *app) error {
	save, err := a.connect(ctx)
	if err != nil {
		return err
	}
	return withSave(apply(ctx, a, &migration.Report{}), save)
}

func apply(ctx context.Context, a *app, report *migration.Report) error {
	rb, err := a.runbook()
	if err != nil {
		return err
	}
	start := a.clients.clock.Now()
	if err := rb.Apply(ctx, a.env(report)); err != nil {
		return err
	}
	if a.output == "text" {
		fmt.Fprintf(a.stdout, "Apply complete in %s: %s\n", a.clients.clock.Now().Sub(start).Round(time.Second), report.Summary())
	}
	return nil
}

func cmdDestroy(ctx context.Context, a *app) error {
	save, err := a.connect(ctx)
	if err != nil {
		return err
	}
	if !a.yes {
		if err := confirm(a, fmt.Sprintf("destroy every resource of env %q", a.spec.Env.Suffix), a.spec.Env.Suffix); err != nil {
			return withSave(err, save)
		}
	}
	return withSave(destroy(ctx, a, &migration.Report{}), save)
}

func destroy(ctx context.Context, a *app, report *migration.Report) error {
	rb, err := a.runbook()
	if err != nil {
		return err
	}
	if err := rb.Destroy(ctx, a.env(report)); err != nil {
		return err
	}
	if a.output == "text" {
		fmt.Fprintf(a.stdout, "Destroy complete: %d deleted.\n", report.Counts()[migration.ActionDelete])
	}
	return nil
}

// confirm asks the operator to type word on a terminal; without one it
// refuses, so scripts must say -yes.
func confirm(a *app, what, word string) error {
	if !isTerminal(os.Stdin) {
		return usageError{fmt.Errorf("refusing to %s without -yes (stdin is not a terminal)", what)}
	}
	fmt.Fprintf(a.stderr, "About to %s. Type %q to continue: ", what, word)
	var got string
	if _, err := fmt.Fscanln(os.Stdin, &got); err != nil || got != word {
		return usageError{errors.New("not confirmed")}
	}
	return nil
}
