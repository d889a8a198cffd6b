package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/examples/fullstack/internal/wire"
	"github.com/cutoverkit/cutover/internal/pgdial"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
	"github.com/cutoverkit/cutover/tracking"
	"github.com/cutoverkit/cutover/validate"
)

// pollEvery is how often replicate reads progress (simulated or real
// time): DMS publishes latency each minute.
const pollEvery = time.Minute

// withTimeout bounds ctx by -timeout when it is set.
func (a *app) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.timeout > 0 {
		return context.WithTimeout(ctx, a.timeout)
	}
	return context.WithCancel(ctx)
}

// connected discovers what apply made, for the commands that act on it.
func (a *app) connected(ctx context.Context) error {
	if err := a.discover(ctx); err != nil {
		return err
	}
	if a.world != nil {
		a.world.attach(a.platform.out)
	}
	return nil
}

func cmdReplicate(ctx context.Context, a *app) error {
	return a.session(ctx, func(ctx context.Context) error { return replicate(ctx, a) })
}

// replicate starts the three replications — the database (DMS full load +
// CDC), the servers (MGN agents, already streaming), the files (DataSync)
// — and follows them until all are in continuous sync: the database's
// full load done and its lag within bound, every server CONTINUOUS, the
// transfer SUCCESS.
func replicate(ctx context.Context, a *app) error {
	if err := a.connected(ctx); err != nil {
		return err
	}
	ctx, cancel := a.withTimeout(ctx)
	defer cancel()
	env, c, o := a.env(nil), a.clients, a.platform.out
	if err := a.advance(ctx, migration.PhaseProvisioned, migration.PhaseReplicating, "replication started"); err != nil {
		return err
	}
	store, err := a.store(false)
	if err != nil {
		return err
	}
	if err := dms.Start(ctx, env, c.dms, o.dms.Forward.ARN); err != nil {
		return err
	}
	exec, err := migration.StartTransfer(ctx, env, c.datasync, o.files.Task.ARN)
	if err != nil {
		return err
	}
	a.say("Replicating: database (DMS %s), %d servers (MGN), files (DataSync %s).", taskID(o.dms.Forward.ARN), len(a.spec.Servers.Hosts), exec[strings.LastIndex(exec, "/")+1:])
	start := env.Now()
	var lastMilestone string
	var lastSaid time.Time
	for {
		done, line, milestone, err := a.replicationProgress(ctx, env, store, exec)
		if err != nil {
			return err
		}
		// A line when something reached a milestone (a table loaded, a
		// server continuous, the transfer's state), and at least hourly.
		if milestone != lastMilestone || env.Now().Sub(lastSaid) >= time.Hour || done {
			a.say("%s %s", fmtElapsed(env.Now().Sub(start)), line)
			lastMilestone, lastSaid = milestone, env.Now()
		}
		if done {
			a.say("Replication is continuous: next, validate.")
			return nil
		}
		if err := env.Sleep(ctx, pollEvery*10); err != nil {
			return fmt.Errorf("replication not caught up: %w", err)
		}
	}
}

// replicationProgress reads and records the three replications and says
// whether all are continuous, with a progress line and its milestones.
func (a *app) replicationProgress(ctx context.Context, env migration.Env, store *tracking.Store, exec string) (done bool, line, milestone string, err error) {
	c := a.clients
	lag, lagErr := a.recordReplication(ctx, env, store)
	if lagErr != nil && !errors.Is(lagErr, dms.ErrNoLagData) {
		return false, "", "", lagErr
	}
	servers, err := migration.ReadServers(ctx, env, c.mgn, a.spec.wave().Servers, store)
	if err != nil {
		return false, "", "", err
	}
	transfer, err := migration.ReadTransfer(ctx, env, c.datasync, exec, store)
	if err != nil {
		return false, "", "", err
	}
	if st, err := store.Status(ctx); err == nil {
		if err := tracking.PublishProgress(ctx, env, c.cloudwatch, st); err != nil {
			return false, "", "", err
		}
	}
	loading := lag.Tables["Full load"] + lag.Tables["Before load"]
	dbDone := lagErr == nil && strings.EqualFold(lag.Status, "running") && loading == 0 && max(lag.Source, lag.Target) <= a.spec.Cutover.MaxForwardLag.D()
	continuous := 0
	for _, s := range servers {
		if s.Replication == "CONTINUOUS" {
			continuous++
		}
	}
	filesDone := transfer.Status == "SUCCESS"
	line = fmt.Sprintf("database %s, %d/%d tables loaded, lag %s | servers %d/%d continuous | files %s, %s of %s",
		lag.Status, lag.Tables["Table completed"], total(lag.Tables), fmtLag(lag, lagErr), continuous, len(servers), strings.ToLower(transfer.Status), bytesHuman(transfer.BytesDone), bytesHuman(transfer.BytesTotal))
	milestone = fmt.Sprint(lag.Status, lag.Tables["Table completed"], continuous, transfer.Status)
	return dbDone && continuous == len(servers) && filesDone, line, milestone, nil
}

// recordReplication reads both DMS tasks and records them under their
// names, so that status shows the database as it is now: before the
// switch the forward task carries the writes and the reverse one waits,
// after it the forward task is stopped and the reverse one runs. It
// returns the forward task's lag; ErrNoLagData (a task without latency
// datapoints yet) is recorded with the task's status, and returned.
func (a *app) recordReplication(ctx context.Context, env migration.Env, store *tracking.Store) (migration.ReplicationLag, error) {
	var forward migration.ReplicationLag
	var forwardErr error
	for _, t := range []dms.Task{a.platform.out.dms.Reverse, a.platform.out.dms.Forward} {
		lag, err := dms.Lag(ctx, env, a.clients.dms, a.clients.cloudwatch, t.ARN)
		if err != nil && !errors.Is(err, dms.ErrNoLagData) {
			return lag, err
		}
		lag.Task = t.ID
		if rerr := store.RecordDatabase(ctx, lag); rerr != nil {
			return lag, rerr
		}
		forward, forwardErr = lag, err
	}
	return forward, forwardErr
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func fmtLag(l migration.ReplicationLag, err error) string {
	if err != nil {
		return "unknown"
	}
	return max(l.Source, l.Target).Round(time.Second).String()
}

func bytesHuman(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

func cmdValidate(ctx context.Context, a *app) error {
	return a.session(ctx, func(ctx context.Context) error { return runValidation(ctx, a) })
}

// runValidation launches the wave's test instances, runs the validation
// suite on them and, if every check of every server passed, records the
// migration as validated. A failure names every failing server and check
// and leaves the phase where it was.
func runValidation(ctx context.Context, a *app) error {
	if err := a.connected(ctx); err != nil {
		return err
	}
	ctx, cancel := a.withTimeout(ctx)
	defer cancel()
	env, c, o := a.env(nil), a.clients, a.platform.out
	store, err := a.store(false)
	if err != nil {
		return err
	}
	wave := a.spec.wave()
	launched, err := migration.LaunchTestInstances(ctx, env, c.mgn, wave, store)
	if err != nil {
		return err
	}
	var ids []string
	for _, s := range launched.Servers {
		ids = append(ids, s.InstanceID)
	}
	if a.world != nil {
		a.world.launched(ids)
	}
	spec := a.spec.validateSpec(o.key.ARN, o.dms.TargetDB.Address, o.dms.TargetSecret.ARN, ids)
	results, runErr := validate.RunSuite(ctx, env, c.ssm, store, o.suite, spec)
	a.printValidation(results)
	if runErr != nil {
		return runErr
	}
	if err := validate.Gate(migration.PhaseReplicating, migration.PhaseValidated, results...); err != nil {
		return err
	}
	if err := a.advance(ctx, migration.PhaseReplicating, migration.PhaseValidated, fmt.Sprintf("%d validations passed on %d servers", len(results), len(ids))); err != nil && !errors.Is(err, errWrongPhase) {
		return err
	}
	a.say("Validated: every check passed on every server. Next, cutover.")
	return nil
}

func (a *app) printValidation(results []migration.ValidationResult) {
	for _, r := range results {
		ok := 0
		var failed []string
		for _, in := range r.Instances {
			if in.Passed {
				ok++
			} else {
				failed = append(failed, fmt.Sprintf("%s (%s)", orName(in), in.Status))
			}
		}
		verdict := "passed"
		if !r.Passed {
			verdict = "FAILED"
		}
		a.say("  %-44s %s on %d/%d servers%s", r.Name, verdict, ok, len(r.Instances), joinPrefixed(": failed on ", failed))
	}
}

func orName(in migration.InstanceResult) string {
	if in.Name != "" {
		return in.Name
	}
	return in.InstanceID
}

func joinPrefixed(prefix string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	return prefix + strings.Join(items, ", ")
}

func cmdCutover(ctx context.Context, a *app) error {
	return a.session(ctx, func(ctx context.Context) error { return cutover(ctx, a, nil) })
}

// cutover launches the servers' cutover instances (green), then runs the
// controller: the database switches once its lag is within bound, traffic
// moves to green step by step, each step baked under the rollback policy.
// On completion the servers' replication is finalized. onEvent, when set,
// also receives the controller's events (the demo injects its incident).
func cutover(ctx context.Context, a *app, onEvent func(*rollback.Controller, rollback.Event)) error {
	if err := a.connected(ctx); err != nil {
		return err
	}
	ctx, cancel := a.withTimeout(ctx)
	defer cancel()
	env, c := a.env(nil), a.clients
	notifying, err := a.store(true)
	if err != nil {
		return err
	}
	phase, err := notifying.Phase(ctx)
	if err != nil {
		return err
	}
	wave := a.spec.wave()
	if phase == migration.PhaseValidated || phase == migration.PhaseRolledBack {
		// Green's servers: the wave's cutover instances.
		if _, err := migration.MarkReadyForCutover(ctx, env, c.mgn, wave, notifying); err != nil {
			return err
		}
		if _, err := migration.StartWaveCutover(ctx, env, c.mgn, wave, notifying); err != nil {
			return err
		}
	}
	repl, err := a.replication(env)
	if err != nil {
		return err
	}
	if repl.Fence, err = a.sourceFence(ctx, env); err != nil {
		return err
	}
	// A switch cut off between the DMS switch and the database record's
	// flip (a crash) is finished first: the controller switches only
	// while the reverse task is not running, and its gate holds while the
	// record still sends the applications to the read-only source.
	if err := repl.CompleteSwitch(ctx); err != nil {
		return err
	}
	ctl, err := a.controller(env, phase == migration.PhaseRolledBack, repl)
	if err != nil {
		return err
	}
	ctl.OnEvent = func(e rollback.Event) {
		a.printControllerEvent(e)
		if onEvent != nil {
			onEvent(ctl, e)
		}
	}
	runErr := ctl.Run(ctx, a.spec.schedule())
	// The database switched (or a rollback kept the reverse task running):
	// status shows both tasks as they are now. The run's own outcome
	// matters more than this bookkeeping, which may fail with it.
	if _, err := a.recordReplication(context.WithoutCancel(ctx), env, notifying); err != nil && !errors.Is(err, dms.ErrNoLagData) && runErr == nil {
		return err
	}
	if st, err := notifying.Status(ctx); err == nil {
		_ = tracking.PublishProgress(ctx, env, c.cloudwatch, st)
	}
	switch {
	case runErr == nil:
		if _, err := migration.FinalizeWaveCutover(ctx, env, c.mgn, wave, notifying); err != nil {
			return err
		}
		a.say("Cutover complete: 100 %% of traffic on green; the reverse task keeps %s current for the %s rollback window.", "the on-premises database", a.spec.Cutover.RollbackWindow.D())
		return nil
	case errors.Is(runErr, rollback.ErrRolledBack), errors.Is(runErr, rollback.ErrAborted):
		a.say("Cutover rolled back: traffic is on blue. `status` says why.")
		return runErr
	}
	return runErr
}

// controller wires the cutover controller over the platform's resources
// and the replication.
func (a *app) controller(env migration.Env, retry bool, repl wire.Replication) (*rollback.Controller, error) {
	c, o := a.clients, a.platform.out
	policy, err := a.platform.policy(env)
	if err != nil {
		return nil, err
	}
	router, err := a.router(env)
	if err != nil {
		return nil, err
	}
	store, err := a.storeAs("controller "+owner(), false)
	if err != nil {
		return nil, err
	}
	notifier, err := tracking.NewNotifier(env, c.sns, o.topic.ARN)
	if err != nil {
		return nil, err
	}
	var validations []string
	for _, d := range o.suite.Documents {
		validations = append(validations, d.Name)
	}
	return &rollback.Controller{
		Env: env, Policy: policy, Gates: a.spec.gates(validations), Router: router, Store: store, Notifier: notifier,
		Replication: repl, Metrics: rollback.Source{API: c.cloudwatch}, Owner: owner(), RetryAfterRollback: retry,
	}, nil
}

func (a *app) router(env migration.Env) (*dns.Router, error) {
	return dns.NewRouter(env, a.clients.route53, a.platform.out.zone.ID, a.spec.recordsSpec(a.platform.out.zone.ID))
}

// replication wires the DMS tasks and the database record for the
// controller and the executor. It has no write fence: only the cutover,
// which switches the database, adds one (see sourceFence), so a rollback
// never depends on reaching the on-premises database.
func (a *app) replication(env migration.Env) (wire.Replication, error) {
	o := a.platform.out
	db, err := a.databaseRouter(env)
	if err != nil {
		return wire.Replication{}, err
	}
	return wire.Replication{Env: env, DMS: a.clients.dms, Metrics: a.clients.cloudwatch, ForwardARN: o.dms.Forward.ARN, ReverseARN: o.dms.Reverse.ARN,
		Database: announced{Router: db, a: a, name: a.spec.databaseName(), green: a.platform.databaseGreen()}}, nil
}

// sourceFence is the write fence of the on-premises source database: a
// dms.PostgresFence that connects, from where this command runs, to the
// host and port of the source secret (the server DMS reads, whose
// certificate names that host) with verify-full TLS against
// dms.source.caCertificateFile and the secret's credentials, which it
// reads itself. Only host and port are read here; the password is not
// kept. On the simulated cloud the simulated source's fence stands in,
// after the same read, so the secret is checked the same way and the
// generated operator policy allows the read.
func (a *app) sourceFence(ctx context.Context, env migration.Env) (dms.Fence, error) {
	o := a.platform.out
	if o.sourceARN == "" || migration.IsPending(o.sourceARN) {
		return nil, errors.New("dms.source.secretName: the source secret is not resolved: run apply")
	}
	addr, err := pgdial.ReadAddress(ctx, a.clients.secrets, o.sourceARN)
	if err != nil {
		return nil, fmt.Errorf("dms.source.secretName: %w", err)
	}
	if a.clients.cloud != nil {
		return a.clients.cloud.DMS().SourceFence(o.dms.Forward.ARN), nil
	}
	pem, err := a.spec.readFile(a.spec.DMS.Source.CACertificateFile)
	if err != nil {
		return nil, fmt.Errorf("dms.source.caCertificateFile: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(pem)) {
		return nil, fmt.Errorf("dms.source.caCertificateFile: %s holds no PEM certificate", a.spec.DMS.Source.CACertificateFile)
	}
	fence := dms.PostgresFence{Host: addr.Host, Port: addr.Port, Database: a.spec.DMS.Source.DatabaseName, SecretARN: o.sourceARN,
		RootCAs: roots, Secrets: a.clients.secrets, Log: env.Log()}
	if err := fence.Validate(); err != nil {
		return nil, fmt.Errorf("the source's write fence: %w", err)
	}
	return fence, nil
}

// databaseRouter is the router of the database record alone: the traffic
// Router never moves it.
func (a *app) databaseRouter(env migration.Env) (*dns.Router, error) {
	spec, err := a.platform.databaseRecordsSpec(env)
	if err != nil {
		return nil, err
	}
	return dns.NewRouter(env, a.clients.route53, a.platform.out.zone.ID, spec)
}

// announced is the database record's router that says when the database
// moves, in the controller's event format: the switch's most visible
// moment.
type announced struct {
	*dns.Router
	a           *app
	name, green string
}

// Shift shifts the database record and says so.
func (r announced) Shift(ctx context.Context, to migration.Split) (migration.Shifted, error) {
	applied, err := r.Router.Shift(ctx, to)
	if err == nil {
		at := r.a.clients.clock.Now().UTC().Format("15:04")
		r.a.say("  %s  %-12s %-22s %s → %s: the applications write to the AWS database (change %s)", at, "database", applied.Split, r.name, r.green, applied.ChangeID)
	}
	return applied, err
}

func (a *app) printControllerEvent(e rollback.Event) {
	at := e.Time.UTC().Format("15:04")
	split := e.Split.String()
	if e.Split == (migration.Split{}) {
		split = "-"
	}
	switch e.Type {
	case rollback.EventShift, rollback.EventRollback, rollback.EventComplete, rollback.EventHold, rollback.EventFreeze, rollback.EventGate, rollback.EventWindow, rollback.EventPause, rollback.EventResume:
		a.say("  %s  %-12s %-22s %s", at, e.Type, split, e.Message)
	case rollback.EventDecision:
		if e.Decision != nil && e.Decision.Verdict != rollback.Continue {
			a.say("  %s  %-12s %-22s %s", at, e.Type, split, e.Message)
		}
	}
}

func cmdRollback(ctx context.Context, a *app) error {
	if strings.TrimSpace(a.reason) == "" {
		return usageError{errors.New("rollback needs -reason: one line saying why, for the ledger and the notification")}
	}
	return a.session(ctx, func(ctx context.Context) error {
		if !a.yes {
			if err := confirm(a, fmt.Sprintf("move all traffic of env %q back on-premises", a.spec.Env.Suffix), a.spec.Env.Suffix); err != nil {
				return err
			}
		}
		return manualRollback(ctx, a, a.reason)
	})
}

// manualRollback is an operator's rollback: the same executor the Lambda
// and the controller use, so concurrent triggers make one transition.
func manualRollback(ctx context.Context, a *app, reason string) error {
	if err := a.connected(ctx); err != nil {
		return err
	}
	env := a.env(nil)
	store, err := a.store(false)
	if err != nil {
		return err
	}
	phase, err := store.Phase(ctx)
	if err != nil {
		return err
	}
	if phase == migration.PhaseComplete {
		st, err := store.PhaseState(ctx)
		if err != nil {
			return err
		}
		if w := a.spec.Cutover.RollbackWindow.D(); env.Now().Sub(st.Since) > w {
			return fmt.Errorf("the cutover completed %s ago, outside the %s rollback window; a rollback now would move traffic to a database that stopped being current", env.Now().Sub(st.Since).Round(time.Minute), w)
		}
	}
	router, err := a.router(env)
	if err != nil {
		return err
	}
	notifier, err := tracking.NewNotifier(env, a.clients.sns, a.platform.out.topic.ARN)
	if err != nil {
		return err
	}
	repl, err := a.replication(env)
	if err != nil {
		return err
	}
	x := &rollback.Executor{Env: env, Router: router, Store: store, Notifier: notifier, Reverse: repl}
	res, err := x.Rollback(ctx, rollback.Request{Reason: reason, Actor: "operator " + owner()})
	if err != nil {
		return err
	}
	if _, err := a.recordReplication(ctx, env, store); err != nil && !errors.Is(err, dms.ErrNoLagData) {
		return err
	}
	a.say("Rollback: %s. %s", res.Outcome, res.Message)
	return nil
}

// say writes one line of text output (nothing with -o json).
func (a *app) say(format string, args ...any) {
	if a.output == "text" {
		fmt.Fprintf(a.stdout, format+"\n", args...)
	}
}
