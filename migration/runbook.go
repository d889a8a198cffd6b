package migration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// StepFunc applies or deletes the resources of one runbook step. The env it
// receives reports Changes and progress under the step's name.
type StepFunc func(ctx context.Context, env Env) error

// Step is one named unit of a Runbook: what it needs first, how to apply
// it and how to delete it. Apply must be idempotent (an Ensure); Delete
// must be a no-op when the resources are gone. A nil Delete means the step
// owns nothing to delete (a check, a read).
type Step struct {
	Name      string
	DependsOn []string
	Apply     StepFunc
	Delete    StepFunc
}

// EventType is the kind of a progress Event.
type EventType string

// The progress events a Runbook emits.
const (
	EventStarted EventType = "started"
	EventWaiting EventType = "waiting"
	EventChange  EventType = "change"
	EventDone    EventType = "done"
	EventFailed  EventType = "failed"
	EventSkipped EventType = "skipped"
)

// Event is one progress event of a runbook run. Waiting events say what
// the step waits on, the last state seen and for how long; done events
// carry the step's Changes.
type Event struct {
	Type    EventType     `json:"type"`
	Step    string        `json:"step"`
	Time    time.Time     `json:"time"`
	Waiting string        `json:"waiting,omitempty"`
	State   string        `json:"state,omitempty"`
	Waited  time.Duration `json:"waited,omitempty"`
	Change  *Change       `json:"change,omitempty"`
	Changes []Change      `json:"changes,omitempty"`
	Err     string        `json:"error,omitempty"`
}

// Locker keeps two appliers off one env (tracking.Store implements it with
// a DynamoDB lease). Lock returns an unlock function, or an error when
// someone else holds the lock.
type Locker interface {
	Lock(ctx context.Context, owner string) (unlock func(context.Context) error, err error)
}

// Options tune a Runbook run.
type Options struct {
	// Parallelism bounds the steps running at once; default 8.
	Parallelism int
	// OnEvent receives progress events. It is called from several
	// goroutines and must be safe for concurrent use.
	OnEvent func(Event)
	// Lock, when set, is held for the whole of Apply and Destroy.
	Lock Locker
	// Owner names this applier in the lock (user@host, a CI job ID).
	Owner string
}

// Runbook is a DAG of steps. Build it with NewRunbook, which rejects
// unknown dependencies and cycles.
type Runbook struct {
	steps []Step
	index map[string]int
	opts  Options
}

// NewRunbook checks steps and returns a runbook. Names must be unique and
// non-empty, every dependency must name a step, and the graph must be
// acyclic; the error names the offending step or the whole cycle.
func NewRunbook(opts Options, steps ...Step) (*Runbook, error) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 8
	}
	r := &Runbook{steps: steps, index: make(map[string]int, len(steps)), opts: opts}
	for i, s := range steps {
		if s.Name == "" {
			return nil, fmt.Errorf("runbook: step %d has no name", i)
		}
		if s.Apply == nil {
			return nil, fmt.Errorf("runbook: step %q has no apply function", s.Name)
		}
		if _, dup := r.index[s.Name]; dup {
			return nil, fmt.Errorf("runbook: step %q defined twice", s.Name)
		}
		r.index[s.Name] = i
	}
	for _, s := range steps {
		for _, d := range s.DependsOn {
			if _, ok := r.index[d]; !ok {
				return nil, fmt.Errorf("runbook: step %q depends on unknown step %q", s.Name, d)
			}
		}
	}
	if cycle := r.findCycle(); cycle != nil {
		return nil, fmt.Errorf("runbook: dependency cycle: %s", strings.Join(cycle, " -> "))
	}
	return r, nil
}

// findCycle returns one cycle as a path that starts and ends with the same
// step, or nil.
func (r *Runbook) findCycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(r.steps))
	var stack []string
	var visit func(i int) []string
	visit = func(i int) []string {
		color[i] = grey
		stack = append(stack, r.steps[i].Name)
		for _, d := range r.steps[i].DependsOn {
			j := r.index[d]
			switch color[j] {
			case grey:
				start := slices.Index(stack, d)
				return append(slices.Clone(stack[start:]), d)
			case white:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
		return nil
	}
	for i := range r.steps {
		if color[i] == white {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}

// Steps returns the step names in a topological order (dependencies
// first, ties in definition order).
func (r *Runbook) Steps() []string {
	var out []string
	done := make([]bool, len(r.steps))
	for len(out) < len(r.steps) {
		for i, s := range r.steps {
			if done[i] {
				continue
			}
			ready := true
			for _, d := range s.DependsOn {
				if !done[r.index[d]] {
					ready = false
					break
				}
			}
			if ready {
				done[i] = true
				out = append(out, s.Name)
			}
		}
	}
	return out
}

// StepError is the failure of one step.
type StepError struct {
	Step string
	Err  error
}

// Error names the step and its error.
func (e *StepError) Error() string { return fmt.Sprintf("step %q: %v", e.Step, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// RunError is what Apply, Plan and Destroy return when steps fail: every
// failed step with its error, and the steps that never ran because of
// them. errors.Is and errors.As see every step's error.
type RunError struct {
	Op      string
	Failed  []*StepError
	Skipped []string
}

// Error names the operation, every failed step with its error and the
// steps that were skipped.
func (e *RunError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d step(s) failed", e.Op, len(e.Failed))
	for _, f := range e.Failed {
		fmt.Fprintf(&b, "\n  %s", f.Error())
	}
	if len(e.Skipped) > 0 {
		fmt.Fprintf(&b, "\n  not run: %s", strings.Join(e.Skipped, ", "))
	}
	return b.String()
}

// Unwrap returns every step's error.
func (e *RunError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}

// Apply runs every step's Apply, each once all its dependencies are done,
// up to Parallelism at a time. After the first failure it launches nothing
// new but lets running steps finish; the error (a *RunError) names every
// failed step and the steps that did not run. The env is validated first.
func (r *Runbook) Apply(ctx context.Context, env Env) error {
	if err := env.Validate(); err != nil {
		return err
	}
	return r.locked(ctx, env, func() error {
		return r.run(ctx, env, "apply", false, false)
	})
}

// Plan is Apply with env.DryRun set: every step reads and reports what it
// would do, and nothing is written. It takes no lock.
func (r *Runbook) Plan(ctx context.Context, env Env) error {
	if err := env.Validate(); err != nil {
		return err
	}
	env.DryRun = true
	return r.run(ctx, env, "plan", false, false)
}

// Destroy runs every step's Delete in reverse dependency order: a step is
// deleted only after every step that depends on it. A failed delete blocks
// the deletes of what it depends on (they would fail on its resources) but
// independent branches carry on, so one stuck resource leaves as little
// running as possible.
func (r *Runbook) Destroy(ctx context.Context, env Env) error {
	if err := env.Validate(); err != nil {
		return err
	}
	return r.locked(ctx, env, func() error {
		return r.run(ctx, env, "destroy", true, true)
	})
}

func (r *Runbook) locked(ctx context.Context, env Env, fn func() error) error {
	if r.opts.Lock == nil || env.DryRun {
		return fn()
	}
	unlock, err := r.opts.Lock.Lock(ctx, r.opts.Owner)
	if err != nil {
		return fmt.Errorf("lock env %q: %w", env.Suffix, err)
	}
	runErr := fn()
	// Unlock even when ctx was cancelled, so the lease does not linger.
	if err := unlock(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(runErr, fmt.Errorf("unlock env %q: %w", env.Suffix, err))
	}
	return runErr
}

type stepResult struct {
	i       int
	err     error
	changes []Change
}

// run schedules the steps over the dependency graph (reversed for
// destroy). keepGoing lets independent steps start after a failure.
func (r *Runbook) run(ctx context.Context, env Env, op string, reverse, keepGoing bool) error {
	n := len(r.steps)
	// waitsOn[i] counts what must finish before i starts; next[i] lists
	// what i's completion releases.
	waitsOn := make([]int, n)
	next := make([][]int, n)
	for i, s := range r.steps {
		for _, d := range s.DependsOn {
			j := r.index[d]
			if reverse {
				waitsOn[j]++
				next[i] = append(next[i], j)
			} else {
				waitsOn[i]++
				next[j] = append(next[j], i)
			}
		}
	}

	emit := func(e Event) {
		if r.opts.OnEvent != nil {
			r.opts.OnEvent(e)
		}
	}
	results := make(chan stepResult, n)
	var g errgroup.Group
	g.SetLimit(r.opts.Parallelism)
	started := make([]bool, n)
	running := 0
	launch := func(i int) {
		started[i] = true
		running++
		s := r.steps[i]
		fn := s.Apply
		if reverse {
			fn = s.Delete
		}
		g.Go(func() error {
			rec := &stepRecorder{}
			senv := env
			senv.step = s.Name
			senv.onEvent = r.opts.OnEvent
			senv.Reporter = ReporterFunc(func(c Change) {
				rec.add(c)
				if env.Reporter != nil {
					env.Reporter.Report(c)
				}
				emit(Event{Type: EventChange, Step: s.Name, Time: env.Now(), Change: &c})
			})
			var err error
			if ctx.Err() != nil {
				err = ctx.Err()
			} else if fn != nil {
				emit(Event{Type: EventStarted, Step: s.Name, Time: env.Now()})
				err = fn(ctx, senv)
			}
			results <- stepResult{i: i, err: err, changes: rec.list()}
			return nil
		})
	}

	for i := range r.steps {
		if waitsOn[i] == 0 {
			launch(i)
		}
	}
	runErr := &RunError{Op: op}
	for running > 0 {
		res := <-results
		running--
		name := r.steps[res.i].Name
		if res.err != nil {
			runErr.Failed = append(runErr.Failed, &StepError{Step: name, Err: res.err})
			emit(Event{Type: EventFailed, Step: name, Time: env.Now(), Err: res.err.Error(), Changes: res.changes})
			continue
		}
		if (reverse && r.steps[res.i].Delete != nil) || !reverse {
			emit(Event{Type: EventDone, Step: name, Time: env.Now(), Changes: res.changes})
		}
		if ctx.Err() != nil || (len(runErr.Failed) > 0 && !keepGoing) {
			continue
		}
		for _, j := range next[res.i] {
			waitsOn[j]--
			if waitsOn[j] == 0 {
				launch(j)
			}
		}
	}
	_ = g.Wait() // every goroutine has already sent its result
	for i, s := range r.steps {
		if !started[i] {
			runErr.Skipped = append(runErr.Skipped, s.Name)
			emit(Event{Type: EventSkipped, Step: s.Name, Time: env.Now()})
		}
	}
	if len(runErr.Failed) == 0 && len(runErr.Skipped) == 0 {
		return nil
	}
	if len(runErr.Failed) == 0 && ctx.Err() != nil {
		return fmt.Errorf("%s: %w (not run: %s)", op, ctx.Err(), strings.Join(runErr.Skipped, ", "))
	}
	return runErr
}

type stepRecorder struct {
	mu      sync.Mutex
	changes []Change
}

func (s *stepRecorder) add(c Change) {
	s.mu.Lock()
	s.changes = append(s.changes, c)
	s.mu.Unlock()
}

func (s *stepRecorder) list() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}
