package rollback

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cutoverkit/cutover/migration"
)

// Step is one step of a cutover: the share of traffic on green and how
// long to bake there.
type Step struct {
	// Green is green's share of traffic in percent, 1..100.
	Green int `json:"green"`
	// Bake is how long the policy must hold at this weight, counted from
	// the moment the evaluation window opens and not counting time held
	// or paused. It must cover the policy's longest evaluation range.
	Bake time.Duration `json:"bake"`
}

// Schedule is the steps of a cutover, green's share strictly increasing
// and ending at 100.
type Schedule struct {
	Steps []Step `json:"steps"`
}

// Validate checks the schedule against the policy: at least one step,
// shares strictly increasing within 1..100 and ending at 100, and every
// bake at least the policy's longest evaluation range (Policy.Window).
func (s Schedule) Validate(p Policy) error {
	var errs []error
	if len(s.Steps) == 0 {
		errs = append(errs, errors.New("schedule.steps: at least one step is required"))
	}
	prev := 0
	for i, st := range s.Steps {
		if st.Green <= prev || st.Green > 100 {
			errs = append(errs, fmt.Errorf("schedule.steps[%d].green: %d must be above the previous step (%d) and at most 100", i, st.Green, prev))
		}
		prev = st.Green
		if w := p.Window(); st.Bake < w || st.Bake <= 0 {
			errs = append(errs, fmt.Errorf("schedule.steps[%d].bake: %v is shorter than the policy's longest evaluation range %v: the step would pass before a full range is seen", i, st.Bake, w))
		}
	}
	if len(s.Steps) > 0 && s.Steps[len(s.Steps)-1].Green != 100 {
		errs = append(errs, fmt.Errorf("schedule.steps: the last step must send 100 %% to green, got %d", s.Steps[len(s.Steps)-1].Green))
	}
	return errors.Join(errs...)
}

// Gates are the data-safety checks before every step.
type Gates struct {
	// MaxForwardLag is the most forward replication lag (max of source
	// and target latency) at which traffic may move to green. Required.
	MaxForwardLag time.Duration
	// Validations are validation names whose latest run must have passed.
	Validations []string
	// ValidationMaxAge, when positive, also requires each of them to be
	// at most this old.
	ValidationMaxAge time.Duration
	// RecordTTL is the TTL of the weighted records: after a shift is
	// INSYNC, resolvers may keep the old answer this long, so the
	// evaluation window opens only then.
	RecordTTL time.Duration
	// RetryInterval is how often failing gates are checked again; 0
	// means 30 seconds.
	RetryInterval time.Duration
	// Timeout is how long gates may fail before the controller holds and
	// notifies; 0 means 10 minutes.
	Timeout time.Duration
}

// Validate checks the gates.
func (g Gates) Validate() error {
	var errs []error
	if g.MaxForwardLag <= 0 {
		errs = append(errs, errors.New("gates.maxForwardLag: required (positive)"))
	}
	if g.RecordTTL < 0 || g.RetryInterval < 0 || g.Timeout < 0 || g.ValidationMaxAge < 0 {
		errs = append(errs, errors.New("gates: durations must not be negative"))
	}
	return errors.Join(errs...)
}

func (g Gates) retry() time.Duration {
	if g.RetryInterval <= 0 {
		return 30 * time.Second
	}
	return g.RetryInterval
}

func (g Gates) timeout() time.Duration {
	if g.Timeout <= 0 {
		return 10 * time.Minute
	}
	return g.Timeout
}

// The errors Run ends with when the cutover does not complete.
var (
	// ErrRolledBack: the cutover was rolled back (by the policy, the
	// Lambda or an operator).
	ErrRolledBack = errors.New("cutover rolled back")
	// ErrAborted: an operator aborted the cutover; traffic was rolled back.
	ErrAborted = errors.New("cutover aborted")
)

// EventType is the kind of a controller Event.
type EventType string

// The events a controller emits.
const (
	EventStep     EventType = "step"
	EventShift    EventType = "shift"
	EventWindow   EventType = "window-open"
	EventDecision EventType = "decision"
	EventGate     EventType = "gate"
	EventHold     EventType = "hold"
	EventFreeze   EventType = "freeze"
	EventPause    EventType = "pause"
	EventResume   EventType = "resume"
	EventRollback EventType = "rollback"
	EventComplete EventType = "complete"
)

// Event is one progress event of a cutover.
type Event struct {
	Type     EventType
	Time     time.Time
	Step     int // index in the schedule
	Split    migration.Split
	Message  string
	Decision *Decision
}

// Controller runs a cutover: it moves traffic to green step by step,
// checks the data-safety gates before each step and evaluates the
// rollback policy during each bake. Create one per run; Pause, Resume and
// Abort may be called from other goroutines while Run runs.
type Controller struct {
	Env         migration.Env
	Policy      Policy
	Gates       Gates
	Router      Router
	Store       ControllerStore
	Notifier    Notifier
	Replication Replication
	Metrics     Fetcher
	// Owner names this controller in the lease and the ledger
	// (user@host, a CI job).
	Owner string
	// RetryAfterRollback lets Run start again from a rolled-back phase;
	// without it Run refuses, so a restarted controller never re-attempts
	// a cutover that was rolled back.
	RetryAfterRollback bool
	// OnEvent receives progress events; it must not block.
	OnEvent func(Event)

	mu          sync.Mutex
	paused      bool
	held        bool
	frozen      bool
	abortReason string
	wake        chan struct{}
	epoch       int64
	state       State
}

func (c *Controller) init() {
	c.mu.Lock()
	if c.wake == nil {
		c.wake = make(chan struct{}, 1)
	}
	c.mu.Unlock()
}

func (c *Controller) signal() {
	c.init()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Pause stops promotion: the current step's bake stops counting and no
// further shift happens until Resume. The policy is still evaluated, so a
// breach still rolls back.
func (c *Controller) Pause(reason string) {
	c.mu.Lock()
	c.paused = true
	c.mu.Unlock()
	c.emit(Event{Type: EventPause, Message: reason})
	c.record(context.Background(), entry(c.Env, EntryOperator, c.actor(), "paused: "+reason, nil))
	c.signal()
}

// Resume ends a Pause, a Hold or a Freeze: the operator has looked and
// lets the cutover continue.
func (c *Controller) Resume(reason string) {
	c.mu.Lock()
	c.paused, c.held, c.frozen = false, false, false
	c.mu.Unlock()
	c.emit(Event{Type: EventResume, Message: reason})
	c.record(context.Background(), entry(c.Env, EntryOperator, c.actor(), "resumed: "+reason, nil))
	c.signal()
}

// Abort ends the cutover: Run rolls traffic back to blue through the
// executor (as the operator) and returns ErrAborted.
func (c *Controller) Abort(reason string) {
	if reason == "" {
		reason = "aborted by the operator"
	}
	c.mu.Lock()
	c.abortReason = reason
	c.mu.Unlock()
	c.signal()
}

func (c *Controller) flags() (paused, held, frozen bool, abort string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused, c.held, c.frozen, c.abortReason
}

func (c *Controller) actor() string {
	if c.Owner == "" {
		return "controller"
	}
	return "controller " + c.Owner
}

func (c *Controller) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = c.Env.Now()
	}
	if c.OnEvent != nil {
		c.OnEvent(e)
	}
}

// record writes to the ledger; a failure is logged, never fatal: the
// ledger explains, it does not decide.
func (c *Controller) record(ctx context.Context, e migration.HistoryEntry) {
	if c.Store == nil {
		return
	}
	if err := c.Store.Record(ctx, e); err != nil {
		c.Env.Log().Error("ledger write failed", "type", e.Type, "error", err)
	}
}

func (c *Controller) notify(ctx context.Context, sev migration.Severity, subject, reason string, details map[string]string) {
	n := migration.Notification{Env: c.Env.Suffix, Severity: sev, Subject: subject, Reason: reason, Time: c.Env.Now(), Details: details}
	if err := c.Notifier.Notify(ctx, n); err != nil {
		c.Env.Log().Error("notification failed", "subject", subject, "error", err)
	}
}

func (c *Controller) clock() migration.Clock {
	if c.Env.Clock == nil {
		return migration.SystemClock()
	}
	return c.Env.Clock
}

// sleep waits d on the env clock, or less when Pause, Resume or Abort
// is called, or until ctx ends.
func (c *Controller) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.clock().After(d):
		return nil
	case <-c.wake:
		return nil
	}
}

func (c *Controller) executor() *Executor {
	return &Executor{Env: c.Env, Router: c.Router, Store: c.Store, Notifier: c.Notifier, Reverse: c.Replication}
}

// Run runs the cutover to completion, a rollback, an abort or an error.
//
// It takes the env's lease for the whole run. It starts from the phase:
// validated moves to cutting-over; cutting-over resumes (a controller
// that crashed); complete returns nil at once; rolled-back is refused
// unless RetryAfterRollback. It resumes from the current weights: a
// split that equals a step re-bakes that step in full — after asserting
// the same split again, so a shift the crash interrupted is INSYNC and
// recorded before the window opens, and no traffic moves; otherwise it
// continues with the first step above it.
//
// Before each shift it checks the gates — the phase is still
// cutting-over at this run's epoch, the lease is held, the forward lag is
// under MaxForwardLag with the task running, every named validation
// passed, and the database has switched (Replication.SwitchDatabase:
// the reverse task running), which it does only once every other gate
// passes — retrying every
// Gates.RetryInterval; past Gates.Timeout it holds and notifies.
// A stopped forward task passes while the reverse task runs: that is the
// database switch (see Replication.SwitchDatabase), after which green's
// database is the writer and there is no forward lag to bound.
// The shift sets both weights in one change batch and returns when it is
// INSYNC; the evaluation window opens RecordTTL later.
//
// During the bake the policy is evaluated every Policy.Interval on the
// env clock, each decision recorded in the ledger:
//
//   - Rollback: the executor moves traffic to blue; Run returns
//     ErrRolledBack.
//   - Hold: stay at this weight and notify (warning); promotion waits for
//     Resume, evaluation goes on.
//   - Freeze: as Hold, notified as critical; a later Rollback decision
//     (the reverse lag back under budget) still rolls back.
//   - Continue: the bake counts.
//
// A step passes when its bake has counted Step.Bake and the last decision
// was Continue over a full evaluation range. A phase changed by someone
// else (the Lambda rolled back) stops Run with ErrRolledBack. After the
// last step the phase moves to complete.
func (c *Controller) Run(ctx context.Context, sched Schedule) error {
	if err := c.validate(sched); err != nil {
		return fmt.Errorf("cutover: %w", err)
	}
	c.init()
	unlock, err := c.Store.Lock(ctx, c.Owner)
	if err != nil {
		return fmt.Errorf("cutover: lease: %w", err)
	}
	defer func() {
		if err := unlock(context.WithoutCancel(ctx)); err != nil {
			c.Env.Log().Error("lease release failed", "error", err)
		}
	}()
	done, err := c.enter(ctx)
	if err != nil || done {
		return err
	}
	cur, err := c.Router.Weights(ctx)
	if err != nil {
		return fmt.Errorf("cutover: read weights: %w", err)
	}
	start, shift := resumePoint(sched, cur)
	for i := start; i < len(sched.Steps); i++ {
		step := sched.Steps[i]
		c.emit(Event{Type: EventStep, Step: i, Split: migration.GreenPercent(step.Green), Message: fmt.Sprintf("step %d of %d: %d %% to green, bake %v", i+1, len(sched.Steps), step.Green, step.Bake)})
		var windowOpen time.Time
		if i > start || shift {
			current := cur
			if i > start {
				current = migration.GreenPercent(sched.Steps[i-1].Green)
			}
			if err := c.gate(ctx, i, current); err != nil {
				return err
			}
			if windowOpen, err = c.shift(ctx, i, step); err != nil {
				return err
			}
		} else {
			// Resumed at this weight. What happened before the crash is
			// unknown — the shift may have been applied but not INSYNC, or
			// not recorded — so assert the same split again (no traffic
			// moves), wait for INSYNC and the TTL, and bake it in full.
			c.record(ctx, entry(c.Env, EntryOperator, c.actor(), fmt.Sprintf("resumed at step %d (%s); asserting it again and baking it in full", i+1, cur), nil))
			if windowOpen, err = c.shift(ctx, i, step); err != nil {
				return err
			}
		}
		if err := c.bake(ctx, i, step, windowOpen); err != nil {
			return err
		}
	}
	if err := c.Store.Transition(ctx, migration.PhaseCuttingOver, migration.PhaseComplete, "every cutover step passed"); err != nil {
		return fmt.Errorf("cutover: transition to complete: %w", err)
	}
	c.record(ctx, entry(c.Env, EntryComplete, c.actor(), "cutover complete: 100 % on green", nil))
	c.notify(ctx, migration.SeverityInfo, "Cutover complete", "every step passed its bake; 100 % of traffic is on green", nil)
	c.emit(Event{Type: EventComplete, Split: migration.GreenPercent(100), Message: "cutover complete"})
	return nil
}

func (c *Controller) validate(sched Schedule) error {
	var errs []error
	if c.Router == nil || c.Store == nil || c.Notifier == nil || c.Replication == nil || c.Metrics == nil {
		errs = append(errs, errors.New("controller: Router, Store, Notifier, Replication and Metrics are required"))
	}
	if err := c.Env.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Gates.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := sched.Validate(c.Policy); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// enter reads the phase and moves to cutting-over; done means there is
// nothing to do (complete).
func (c *Controller) enter(ctx context.Context) (done bool, err error) {
	phase, version, err := c.Store.PhaseVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("cutover: read phase: %w", err)
	}
	switch phase {
	case migration.PhaseComplete:
		c.emit(Event{Type: EventComplete, Message: "cutover already complete"})
		return true, nil
	case migration.PhaseCuttingOver:
		c.epoch = version
		return false, nil
	case migration.PhaseRolledBack:
		if !c.RetryAfterRollback {
			return false, fmt.Errorf("cutover: phase is rolled-back: %w; set RetryAfterRollback to try again", ErrRolledBack)
		}
	case migration.PhaseValidated:
	default:
		return false, fmt.Errorf("cutover: phase %s does not allow a cutover (it needs %s)", phase, migration.PhaseValidated)
	}
	if err := c.Store.Transition(ctx, phase, migration.PhaseCuttingOver, "cutover started by "+c.actor()); err != nil {
		return false, fmt.Errorf("cutover: transition %s → %s: %w", phase, migration.PhaseCuttingOver, err)
	}
	_, version, err = c.Store.PhaseVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("cutover: read phase: %w", err)
	}
	c.epoch = version
	c.notify(ctx, migration.SeverityInfo, "Cutover started", "cutover started by "+c.actor(), nil)
	return false, nil
}

// resumePoint returns the step to start from and whether it needs a
// shift: a split equal to a step's share re-bakes that step; any other
// split goes to the first step above it.
func resumePoint(sched Schedule, cur migration.Split) (int, bool) {
	share := cur.GreenShare()
	if cur.Green == 0 {
		share = 0
	}
	for i := len(sched.Steps) - 1; i >= 0; i-- {
		if math.Abs(float64(sched.Steps[i].Green)-share) < 0.5 {
			return i, false
		}
	}
	for i, st := range sched.Steps {
		if float64(st.Green) > share {
			return i, true
		}
	}
	return len(sched.Steps) - 1, false
}

// gate checks the gates before step i, retrying until they pass. Past the
// timeout it holds and notifies, and keeps checking (and evaluating the
// policy while green has traffic) until they pass and no hold or pause
// remains.
func (c *Controller) gate(ctx context.Context, i int, current migration.Split) error {
	start := c.Env.Now()
	notified := false
	var st decisionTracker
	for {
		if err := c.checkAbort(ctx); err != nil {
			return err
		}
		failures, switched, err := c.checkGates(ctx)
		if err != nil {
			return err
		}
		if switched != "" {
			// The database switched: progress, not a failing gate. The
			// hold timer starts again, so a switch's own drain and the
			// reverse task's start never count towards a hold, and the
			// gates are checked again at once, against the new writer.
			c.emit(Event{Type: EventGate, Step: i, Split: current, Message: switched})
			start = c.Env.Now()
			continue
		}
		paused, held, _, _ := c.flags()
		if len(failures) == 0 && !paused && !held {
			return nil
		}
		if len(failures) > 0 {
			msg := strings.Join(failures, "; ")
			c.emit(Event{Type: EventGate, Step: i, Split: current, Message: msg})
			if !notified && c.Env.Now().Sub(start) >= c.Gates.timeout() {
				notified = true
				c.mu.Lock()
				c.held = true
				c.mu.Unlock()
				c.record(ctx, entry(c.Env, EntryGate, c.actor(), "holding before step "+fmt.Sprint(i+1)+": "+msg, nil))
				c.notify(ctx, migration.SeverityWarning, "Cutover holding: gates failing", msg, map[string]string{"step": fmt.Sprint(i + 1)})
				c.emit(Event{Type: EventHold, Step: i, Split: current, Message: msg})
			}
		}
		if current.Green > 0 {
			if err := c.tick(ctx, i, current, time.Time{}, &st); err != nil {
				return err
			}
		}
		if err := c.sleep(ctx, c.Gates.retry()); err != nil {
			return err
		}
	}
}

// checkGates returns the failing gates, or, when every other gate passed
// and it switched the database, what it switched; an error means the run
// must stop.
func (c *Controller) checkGates(ctx context.Context) ([]string, string, error) {
	var failures []string
	phase, version, err := c.Store.PhaseVersion(ctx)
	switch {
	case err != nil:
		failures = append(failures, "phase: "+err.Error())
	case phase == migration.PhaseRolledBack:
		return nil, "", fmt.Errorf("cutover: the phase was moved to rolled-back by someone else: %w", ErrRolledBack)
	case phase != migration.PhaseCuttingOver || version != c.epoch:
		return nil, "", fmt.Errorf("cutover: the phase changed under this run (now %s, version %d; this run holds version %d); start again", phase, version, c.epoch)
	}
	if err := c.Store.Renew(ctx, c.Owner); err != nil {
		return nil, "", fmt.Errorf("cutover: lease lost: %w", err)
	}
	rev, revErr := c.Replication.ReverseLag(ctx)
	switched := revErr == nil && strings.EqualFold(rev.Status, "running")
	if fwd, err := c.Replication.ForwardLag(ctx); err != nil {
		failures = append(failures, "forward replication: "+err.Error())
	} else if lag := max(fwd.Source, fwd.Target); strings.EqualFold(fwd.Status, "stopped") && switched {
		// The database has switched: the forward task was stopped once
		// its lag drained and the reverse task carries green's writes
		// back. Green's database is the writer; there is no forward lag.
	} else if !strings.EqualFold(fwd.Status, "running") || lag > c.Gates.MaxForwardLag {
		failures = append(failures, fmt.Sprintf("forward replication %s is %s with lag %v (bound %v)", fwd.Task, fwd.Status, lag, c.Gates.MaxForwardLag))
	}
	for _, name := range c.Gates.Validations {
		v, ok, err := c.Store.LastValidation(ctx, name)
		switch {
		case err != nil:
			failures = append(failures, "validation "+name+": "+err.Error())
		case !ok:
			failures = append(failures, "validation "+name+" never ran")
		case !v.Passed:
			failures = append(failures, fmt.Sprintf("validation %s failed at %s", name, v.At.UTC().Format(time.RFC3339)))
		case c.Gates.ValidationMaxAge > 0 && c.Env.Now().Sub(v.At) > c.Gates.ValidationMaxAge:
			failures = append(failures, fmt.Sprintf("validation %s passed at %s, older than %v", name, v.At.UTC().Format(time.RFC3339), c.Gates.ValidationMaxAge))
		}
	}
	// The database switch last, only once every other gate passes: with
	// the forward lag over its bound the switch would wait out its drain
	// timeout on writes the forward task has not carried over.
	switch {
	case revErr != nil:
		failures = append(failures, "reverse replication: "+revErr.Error())
	case switched:
	case len(failures) > 0:
		failures = append(failures, fmt.Sprintf("reverse replication %s is %s; the database switches once the other gates pass", rev.Task, rev.Status))
	default:
		if err := c.Replication.SwitchDatabase(ctx); err != nil {
			failures = append(failures, fmt.Sprintf("database switch (reverse replication %s is %s): %v", rev.Task, rev.Status, err))
		} else {
			return nil, fmt.Sprintf("database switched: reverse replication %s was %s and runs now", rev.Task, rev.Status), nil
		}
	}
	return failures, "", nil
}

// shift moves traffic to step i and returns when the evaluation window
// opens (INSYNC + RecordTTL).
func (c *Controller) shift(ctx context.Context, i int, step Step) (time.Time, error) {
	to := migration.GreenPercent(step.Green)
	applied, err := migration.ShiftTo(ctx, c.Env, c.Router, to)
	if err != nil {
		return time.Time{}, fmt.Errorf("cutover: shift to %s: %w", to, err)
	}
	insync, changeID := c.Env.Now(), applied.ChangeID
	if err := c.Store.RecordSplit(ctx, applied.Split, changeID); err != nil {
		return time.Time{}, fmt.Errorf("cutover: record split: %w", err)
	}
	windowOpen := insync.Add(c.Gates.RecordTTL)
	c.record(ctx, entry(c.Env, EntryShift, c.actor(), fmt.Sprintf("step %d: %s", i+1, to), map[string]string{
		"changeId": changeID, "split": to.String(), "insync": insync.UTC().Format(time.RFC3339), "windowOpens": windowOpen.UTC().Format(time.RFC3339),
	}))
	c.emit(Event{Type: EventShift, Step: i, Split: to, Message: "INSYNC, change " + changeID})
	return windowOpen, nil
}

// decisionTracker keeps the last decision of a bake and whether it saw a
// full evaluation range of every deciding rule.
type decisionTracker struct {
	last     *Decision
	lastFull bool
}

// bake evaluates the policy every interval from the window opening until
// the step has baked long enough.
func (c *Controller) bake(ctx context.Context, i int, step Step, windowOpen time.Time) error {
	split := migration.GreenPercent(step.Green)
	for c.Env.Now().Before(windowOpen) {
		if err := c.checkAbort(ctx); err != nil {
			return err
		}
		if err := c.sleep(ctx, windowOpen.Sub(c.Env.Now())); err != nil {
			return err
		}
	}
	c.emit(Event{Type: EventWindow, Step: i, Split: split, Message: "evaluation window open"})
	interval := c.Policy.Interval()
	var baked time.Duration
	last := c.Env.Now()
	var st decisionTracker
	for {
		if err := c.sleep(ctx, interval-c.Env.Now().Sub(last)); err != nil {
			return err
		}
		if err := c.checkAbort(ctx); err != nil {
			return err
		}
		now := c.Env.Now()
		if now.Sub(last) < interval {
			// Woken early by Pause or Resume: nothing to evaluate yet.
			continue
		}
		paused, held, _, _ := c.flags()
		if !paused && !held {
			baked += now.Sub(last)
		}
		last = now
		if err := c.checkPhaseAndLease(ctx); err != nil {
			return err
		}
		if err := c.tick(ctx, i, split, windowOpen, &st); err != nil {
			return err
		}
		paused, held, _, _ = c.flags()
		if baked >= step.Bake && !paused && !held && st.last != nil && st.last.Verdict == Continue && st.lastFull {
			return nil
		}
	}
}

// checkPhaseAndLease stops the run when the phase moved under it (the
// Lambda rolled back) or the lease is lost; the replication gates apply
// to shifts only. A phase that cannot be read is logged and checked again
// at the next tick.
func (c *Controller) checkPhaseAndLease(ctx context.Context) error {
	phase, version, err := c.Store.PhaseVersion(ctx)
	if err != nil {
		c.Env.Log().Warn("read phase failed", "error", err)
		return nil
	}
	switch {
	case phase == migration.PhaseRolledBack:
		c.emit(Event{Type: EventRollback, Message: "rolled back by someone else"})
		return fmt.Errorf("cutover: the phase was moved to rolled-back by someone else (the rollback Lambda or an operator): %w", ErrRolledBack)
	case phase != migration.PhaseCuttingOver || version != c.epoch:
		return fmt.Errorf("cutover: the phase changed under this run (now %s, version %d; this run holds version %d)", phase, version, c.epoch)
	}
	if err := c.Store.Renew(ctx, c.Owner); err != nil {
		return fmt.Errorf("cutover: lease lost: %w", err)
	}
	return nil
}

// tick evaluates the policy once and acts on the decision.
func (c *Controller) tick(ctx context.Context, i int, split migration.Split, windowOpen time.Time, st *decisionTracker) error {
	now := c.Env.Now()
	obs := Observations{At: now, NotBefore: windowOpen, Previous: c.state}
	series, err := c.Metrics.Fetch(ctx, c.Policy, now)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cutover: fetch metrics: %w", err)
	}
	obs.Series = series
	if lag, err := c.Replication.ReverseLag(ctx); err == nil {
		obs.ReverseLag = &lag
	} else {
		c.Env.Log().Warn("reverse lag unreadable", "error", err)
	}
	d := Evaluate(c.Policy, obs)
	c.state = d.State
	st.last = &d
	st.lastFull = true
	for _, r := range d.Rules {
		if !r.DryRun && r.Evaluated < r.EvaluationPeriods {
			st.lastFull = false
		}
	}
	details := merge(DecisionDetails(c.Policy, d), map[string]string{"step": fmt.Sprint(i + 1), "split": split.String()})
	c.record(ctx, entry(c.Env, EntryDecision, c.actor(), string(d.Verdict)+": "+d.Reason, details))
	c.emit(Event{Type: EventDecision, Step: i, Split: split, Message: string(d.Verdict) + ": " + d.Reason, Decision: &d})

	switch d.Verdict {
	case Rollback:
		res, err := c.executor().Rollback(ctx, Request{Reason: d.Reason, Actor: c.actor(), Epoch: c.epoch, Decision: &d, Policy: c.Policy})
		c.emit(Event{Type: EventRollback, Step: i, Split: migration.AllBlue, Message: res.Message, Decision: &d})
		if err != nil {
			return fmt.Errorf("cutover: %w", err)
		}
		if res.Outcome == OutcomeStale {
			return fmt.Errorf("cutover: the phase changed under this run before it could roll back: %s", res.Message)
		}
		return fmt.Errorf("cutover: at step %d (%s): %s: %w", i+1, split, d.Reason, ErrRolledBack)
	case Freeze:
		_, _, frozen, _ := c.flags()
		if !frozen {
			c.mu.Lock()
			c.frozen, c.held = true, true
			c.mu.Unlock()
			c.notify(ctx, migration.SeverityCritical, "Cutover FROZEN: rollback needed but unsafe", d.Reason, DecisionDetails(c.Policy, d))
			c.emit(Event{Type: EventFreeze, Step: i, Split: split, Message: d.Reason, Decision: &d})
		}
	case Hold:
		_, held, _, _ := c.flags()
		if !held {
			c.mu.Lock()
			c.held = true
			c.mu.Unlock()
			c.notify(ctx, migration.SeverityWarning, "Cutover holding: policy inconclusive", d.Reason, DecisionDetails(c.Policy, d))
			c.emit(Event{Type: EventHold, Step: i, Split: split, Message: d.Reason, Decision: &d})
		}
	}
	return nil
}

// checkAbort rolls back and returns ErrAborted when Abort was called.
func (c *Controller) checkAbort(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, _, _, reason := c.flags()
	if reason == "" {
		return nil
	}
	c.record(ctx, entry(c.Env, EntryOperator, c.actor(), "abort: "+reason, nil))
	res, err := c.executor().Rollback(ctx, Request{Reason: "aborted: " + reason, Actor: "operator via " + c.actor(), Epoch: c.epoch})
	c.emit(Event{Type: EventRollback, Split: migration.AllBlue, Message: res.Message})
	if err != nil {
		return fmt.Errorf("cutover: abort: %w", err)
	}
	return fmt.Errorf("cutover: %s: %w", reason, ErrAborted)
}
