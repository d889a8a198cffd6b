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
	"path/filepath"
	"sync"
	"time"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
	"github.com/cutoverkit/cutover/tracking"
)

// simScale is how much faster than the wall clock simulated time runs in
// -sim: an hour of the migration takes six seconds.
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
	reason           string
	lambdaZip        string
	timeout          time.Duration
	simSpeed         float64

	spec     Spec
	clients  *clients
	platform *platform
	// world is the simulated world around the cloud (on-premises
	// servers, green's traffic, the alarm evaluation loop); nil against
	// real AWS.
	world *simWorld
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
	fs.StringVar(&a.reason, "reason", "", "rollback: why, in one line (required)")
	fs.StringVar(&a.lambdaZip, "lambda-zip", "", "apply: a prebuilt rollback Lambda zip instead of building it with the go toolchain")
	fs.DurationVar(&a.timeout, "timeout", 0, "replicate, validate, cutover: give up after this long (default: no limit)")
	fs.Float64Var(&a.simSpeed, "sim-speed", simScale, "with -sim: how much faster than the wall clock simulated time runs")
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
		a.use(c, nil)
		return func() error { return nil }, nil
	}
	if a.simSpeed <= 0 {
		return nil, usageError{fmt.Errorf("-sim-speed must be positive, got %v", a.simSpeed)}
	}
	cloud, err := fakecloud.LoadFile(a.state, a.simSpeed)
	if err != nil {
		return nil, err
	}
	if cloud.Region() != a.spec.Env.Region {
		return nil, usageError{fmt.Errorf("the simulated cloud in %s is in %s, the spec says %s", a.state, cloud.Region(), a.spec.Env.Region)}
	}
	if err := a.useSim(ctx, cloud); err != nil {
		return nil, err
	}
	return func() error { a.world.stop(); return cloud.SaveFile(a.state) }, nil
}

// use selects the clients (and, simulated, the world around them).
func (a *app) use(c *clients, world *simWorld) {
	a.clients, a.world = c, world
	a.platform = newPlatform(a.spec, c, a.lambdaZipFunc())
}

// useSim selects a simulated cloud and starts the world around it: the
// on-premises side an operator would have prepared, green's traffic, and
// the Lambda's handler.
func (a *app) useSim(ctx context.Context, cloud *fakecloud.Cloud) error {
	world := newSimWorld(a.spec, cloud)
	a.use(simClients(cloud), world)
	return world.start(ctx, a.env(nil))
}

// lambdaZipFunc returns how apply gets the rollback Lambda's package: the
// -lambda-zip file, a build with the go toolchain against real AWS, or, on
// the simulated cloud — which runs the handler in process and never the
// zip — a fixed placeholder package. The package is made once per run.
func (a *app) lambdaZipFunc() func(context.Context) ([]byte, error) {
	var (
		mu   sync.Mutex
		zip  []byte
		err  error
		made bool
	)
	get := a.lambdaZipSource()
	return func(ctx context.Context) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if !made {
			zip, err = get(ctx)
			made = err == nil
		}
		return zip, err
	}
}

func (a *app) lambdaZipSource() func(context.Context) ([]byte, error) {
	switch {
	case a.lambdaZip != "":
		return func(context.Context) ([]byte, error) { return os.ReadFile(a.lambdaZip) }
	case a.sim || a.world != nil:
		return func(context.Context) ([]byte, error) {
			return rollback.ZipBootstrap([]byte("#!/bin/sh\n# simulated cloud: the handler runs in process\n"))
		}
	default:
		return func(ctx context.Context) ([]byte, error) {
			return rollback.BuildZip(ctx, rollback.BuildSpec{Dir: ".", Package: "github.com/cutoverkit/cutover/examples/fullstack/lambda"})
		}
	}
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
// view in a terminal, log lines otherwise, JSON lines with -o json), the
// applier's identity, and the tracking table's lease once it exists.
func (a *app) runbook(quiet bool) (*migration.Runbook, error) {
	var p *progress
	opts := migration.Options{Owner: owner(), Lock: &tableLock{app: a}}
	if !quiet {
		opts.OnEvent = func(e migration.Event) { p.event(e) }
	}
	rb, err := a.platform.runbook(opts)
	if err != nil {
		return nil, err
	}
	p = newProgress(a.stdout, a.output, a.clients.clock, rb.Steps())
	return rb, nil
}

// readOutputs runs a plan that reports nothing, so that the platform's
// outputs hold the IDs of what exists and pending IDs for what does not.
func (a *app) readOutputs(ctx context.Context) error {
	_, err := a.planQuietly(ctx)
	return err
}

func (a *app) planQuietly(ctx context.Context) (*migration.Report, error) {
	rb, err := a.runbook(true)
	if err != nil {
		return nil, err
	}
	report := &migration.Report{}
	return report, rb.Plan(ctx, a.env(report))
}

// discover reads what exists (a plan, reporting nothing) so a command can
// act on the IDs apply made. It fails when the env is not applied.
func (a *app) discover(ctx context.Context) error {
	report, err := a.planQuietly(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, c := range report.Changes() {
		if c.Action == migration.ActionCreate {
			missing = append(missing, c.Kind+" "+c.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the env is not applied (%d resources missing, first %s): run apply first", len(missing), missing[0])
	}
	return nil
}

// store returns the tracking store. With notify, every transition made
// through it is notified; the rollback controller and executor send their
// own notifications and get a quiet one.
func (a *app) store(notify bool) (*tracking.Store, error) {
	return a.storeAs("operator "+owner(), notify)
}

// storeAs is store with the actor the history names.
func (a *app) storeAs(actor string, notify bool) (*tracking.Store, error) {
	opts := tracking.StoreOptions{Actor: actor}
	if notify && a.platform.out.topic.ARN != "" {
		n, err := tracking.NewNotifier(a.env(nil), a.clients.sns, a.platform.out.topic.ARN)
		if err != nil {
			return nil, err
		}
		opts.Notifier = n
	}
	return tracking.NewStore(a.env(nil), a.clients.dynamodb, opts)
}

// failureSeverity is the severity of each command's failure notification;
// a command not listed notifies none (plan and status change nothing,
// destroy is deleting the topic, demo has its own cloud).
var failureSeverity = map[string]migration.Severity{
	"apply":     migration.SeverityWarning,
	"replicate": migration.SeverityWarning,
	"validate":  migration.SeverityWarning,
	// Traffic may be split, or stuck: someone must look now.
	"cutover":  migration.SeverityCritical,
	"rollback": migration.SeverityCritical,
}

// notifyFailure publishes a command's failure to the env's topic, so its
// subscribers learn of it without watching the terminal: subject
// "[cutover <env>] <command> failed", the error as the reason. It does
// nothing for a success, bad usage, a plan with changes, an interrupt,
// or a cutover the controller rolled back or aborted (the controller has
// notified that itself, once), nor before the topic exists. Sending is
// best effort: a failure to send is said on stderr, and the command's own
// error stands. Errors carry no secrets (the packages never put one in an
// error), so the reason is the error's text.
func (a *app) notifyFailure(ctx context.Context, command string, err error) {
	severity, ok := failureSeverity[command]
	var uerr usageError
	switch {
	case err == nil, !ok, errors.As(err, &uerr), errors.Is(err, errChanges), errors.Is(err, context.Canceled),
		errors.Is(err, rollback.ErrRolledBack), errors.Is(err, rollback.ErrAborted):
		return
	case a.clients == nil || a.platform == nil || a.platform.out == nil:
		return
	}
	topic := a.platform.out.topic.ARN
	if topic == "" || migration.IsPending(topic) {
		return
	}
	env := a.env(nil)
	n, nerr := tracking.NewNotifier(env, a.clients.sns, topic)
	if nerr == nil {
		nerr = n.Notify(ctx, migration.Notification{
			Severity: severity,
			Subject:  fmt.Sprintf("[cutover %s] %s failed", env.Suffix, command),
			Reason:   err.Error(),
			Details:  map[string]string{"command": command, "operator": owner()},
		})
	}
	if nerr != nil {
		fmt.Fprintf(a.stderr, "fullstack %s: could not notify the failure: %v\n", command, nerr)
	}
}

// advance moves the phase from → to if it is in from; in to already is
// fine (a re-run).
func (a *app) advance(ctx context.Context, from, to migration.Phase, reason string) error {
	store, err := a.store(true)
	if err != nil {
		return err
	}
	phase, err := store.Phase(ctx)
	if err != nil {
		return err
	}
	switch phase {
	case to:
		return nil
	case from:
		return store.Transition(ctx, from, to, reason)
	}
	return fmt.Errorf("%w: the migration is %s; this step needs it %s", errWrongPhase, phase, from)
}

// errWrongPhase is wrapped by advance when the migration is in neither
// phase.
var errWrongPhase = errors.New("wrong phase")

// tableLock is the runbook's lock: the tracking table's lease once the
// table exists. The first apply creates the table and so runs unlocked;
// a destroy deletes it, so releasing a lease on a deleted table is done.
type tableLock struct{ app *app }

func (l *tableLock) Lock(ctx context.Context, owner string) (func(context.Context) error, error) {
	store, err := l.app.store(false)
	if err != nil {
		return nil, err
	}
	unlock, err := store.Lock(ctx, owner)
	if isMissingTable(err) {
		return func(context.Context) error { return nil }, nil
	}
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if err := unlock(ctx); err != nil && !isMissingTable(err) {
			return err
		}
		return nil
	}, nil
}

// isMissingTable reports whether err says the tracking table does not
// exist (yet, or any more).
func isMissingTable(err error) bool { return awsx.IsNotFound(err) }

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

// session runs fn connected, saving the simulated cloud afterwards.
func (a *app) session(ctx context.Context, fn func(ctx context.Context) error) error {
	save, err := a.connect(ctx)
	if err != nil {
		return err
	}
	return withSave(fn(ctx), save)
}

func cmdInit(_ context.Context, a *app) error {
	path := a.config
	if path == "" {
		path = "cutover.yaml"
	}
	data, err := defaults.ReadFile("spec.default.yaml")
	if err != nil {
		return err
	}
	if err := writeNew(path, data); err != nil {
		return err
	}
	// The certificates the default spec names, next to it.
	for _, name := range []string{"certs/onprem-ca.pem", "certs/rds-ca.pem"} {
		b, err := defaults.ReadFile(name)
		if err != nil {
			return err
		}
		dst := filepath.Join(filepath.Dir(path), name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := writeNew(dst, b); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "wrote %s (and the demo CA certificates it names under certs/); replace them with yours, edit the spec, then:\n  fullstack -config %s plan\n", path, path)
	return nil
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return usageError{fmt.Errorf("%s exists; remove it or choose another -config: %w", path, os.ErrExist)}
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cmdPlan(ctx context.Context, a *app) error {
	report := &migration.Report{}
	if err := a.session(ctx, func(ctx context.Context) error { return plan(ctx, a, report) }); err != nil {
		return err
	}
	if a.detailedExitcode && report.HasChanges() {
		return errChanges
	}
	return nil
}

func plan(ctx context.Context, a *app, report *migration.Report) error {
	rb, err := a.runbook(true)
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
	return a.session(ctx, func(ctx context.Context) error { return apply(ctx, a, &migration.Report{}) })
}

// apply provisions everything, then records the migration as provisioned.
func apply(ctx context.Context, a *app, report *migration.Report) error {
	rb, err := a.runbook(false)
	if err != nil {
		return err
	}
	start := a.clients.clock.Now()
	if err := rb.Apply(ctx, a.env(report)); err != nil {
		return err
	}
	// The first apply provisions; a later one (in any phase) converges.
	if err := a.advance(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "apply converged the landing zone"); err != nil && !errors.Is(err, errWrongPhase) {
		return err
	}
	if a.world != nil {
		if err := a.world.afterApply(ctx, a.platform.out); err != nil {
			return err
		}
	}
	if a.output == "text" {
		fmt.Fprintf(a.stdout, "Apply complete in %s: %s\n", a.clients.clock.Now().Sub(start).Round(time.Second), report.Summary())
		a.printNextSteps()
	}
	return nil
}

// printNextSteps tells the operator what the on-premises side needs now.
func (a *app) printNextSteps() {
	o := a.platform.out
	fmt.Fprintln(a.stdout, "\nOn-premises, next:")
	if len(o.resolver.IPs) > 0 {
		fmt.Fprintf(a.stdout, "  DNS: conditionally forward %s to %v\n", a.spec.DNS.Zone, o.resolver.IPs)
	}
	fmt.Fprintf(a.stdout, "  Applications: reach the database as %s (now %s; the database switch points it at AWS)\n", a.spec.databaseName(), a.spec.DNS.Database.Blue.Host)
	if len(o.dms.Instance.PrivateIPs) > 0 {
		fmt.Fprintf(a.stdout, "  PostgreSQL: allow %v in pg_hba.conf (host all and host replication)\n", o.dms.Instance.PrivateIPs)
	}
	for i, t := range o.vpn.Tunnels {
		fmt.Fprintf(a.stdout, "  VPN tunnel %d: peer %s, inside %s (AWS %s, you %s)\n", i+1, t.OutsideIP, t.InsideCIDR, t.AWSInsideIP, t.CustomerInsideIP)
	}
}

func cmdDestroy(ctx context.Context, a *app) error {
	return a.session(ctx, func(ctx context.Context) error {
		if !a.yes {
			if err := confirm(a, fmt.Sprintf("destroy every resource of env %q", a.spec.Env.Suffix), a.spec.Env.Suffix); err != nil {
				return err
			}
		}
		return destroy(ctx, a, &migration.Report{})
	})
}

func destroy(ctx context.Context, a *app, report *migration.Report) error {
	// Read what exists first, so every Delete gets the spec its Ensure
	// had. A partly destroyed env reads as partly pending, which the
	// Deletes take as gone.
	if err := a.readOutputs(ctx); err != nil {
		return err
	}
	rb, err := a.runbook(false)
	if err != nil {
		return err
	}
	if err := rb.Destroy(ctx, a.env(report)); err != nil {
		return err
	}
	if a.output == "text" {
		fmt.Fprintf(a.stdout, "Destroy complete: %d deleted.\n", report.Counts()[migration.ActionDelete])
		for _, c := range report.Changes() {
			if c.Action == migration.ActionNoop && c.Note != "" && c.Note != migration.NoteGone {
				fmt.Fprintf(a.stdout, "  kept: %s %s (%s)\n", c.Kind, c.Name, c.Note)
			}
			if c.Action == migration.ActionDelete && c.Note != "" {
				fmt.Fprintf(a.stdout, "  note: %s %s: %s\n", c.Kind, c.Name, c.Note)
			}
		}
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
