package rollback_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// scenario is a cutover on the fake cloud: CloudWatch (scripted metrics,
// GetMetricData) and the fake clock from fakecloud, the store, router,
// notifier and DMS tasks from the in-memory doubles.
type scenario struct {
	t        *testing.T
	cloud    *fakecloud.Cloud
	env      migration.Env
	store    *fakeStore
	router   *fakeRouter
	notifier *fakeNotifier
	repl     *fakeReplication
	c        *rollback.Controller

	mu     sync.Mutex
	events []rollback.Event
	onEv   func(s *scenario, e rollback.Event)
}

var greenDims = map[string]string{"Service": "green"}

// scenarioPolicy: ErrorRate > 5 % in 2 of 3 minutes rolls back.
func scenarioPolicy() rollback.Policy {
	return rollback.Policy{DataLossBudget: time.Minute, Rules: []rollback.Rule{{
		Name:       "errors",
		Query:      rollback.Query{Metric: &rollback.Metric{Namespace: "App", Name: "ErrorRate", Dimensions: greenDims, Stat: "Average"}, Period: time.Minute},
		Comparator: rollback.GreaterThan, Threshold: 5, EvaluationPeriods: 3, DatapointsToAlarm: 2,
		Missing: rollback.MissingInconclusive, ClearAfter: 2, ErrorLimit: 1,
	}}}
}

var schedule = rollback.Schedule{Steps: []rollback.Step{
	{Green: 10, Bake: 5 * time.Minute}, {Green: 25, Bake: 5 * time.Minute}, {Green: 50, Bake: 5 * time.Minute}, {Green: 100, Bake: 5 * time.Minute},
}}

const recordTTL = time.Minute

// newScenario sets up a validated env; errorRate scripts the green error
// rate as a function of the split in effect at each minute (no data while
// green has no traffic).
func newScenario(t *testing.T, errorRate func(s *scenario, at time.Time, split migration.Split) (float64, bool)) *scenario {
	t.Helper()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	s := &scenario{t: t, cloud: cloud, env: env, store: newStore(cloud.Clock(), migration.PhaseValidated), router: newRouter(cloud.Clock()), notifier: &fakeNotifier{}, repl: newReplication()}
	s.store.validations["smoke"] = migration.ValidationResult{Name: "smoke", Passed: true, At: cloud.Clock().Now()}
	if errorRate == nil {
		errorRate = func(_ *scenario, _ time.Time, split migration.Split) (float64, bool) { return 1, split.Green > 0 }
	}
	cloud.CloudWatch().SetMetricFunc("App", "ErrorRate", greenDims, func(at time.Time) (float64, bool) {
		return errorRate(s, at, s.router.splitAt(at))
	})
	s.c = s.controller()
	return s
}

func (s *scenario) controller() *rollback.Controller {
	return &rollback.Controller{
		Env: s.env, Policy: scenarioPolicy(), Router: s.router, Store: s.store, Notifier: s.notifier, Replication: s.repl,
		Metrics: rollback.Source{API: s.cloud.CloudWatch()}, Owner: "alice@ops",
		Gates: rollback.Gates{MaxForwardLag: 30 * time.Second, Validations: []string{"smoke"}, RecordTTL: recordTTL, RetryInterval: 30 * time.Second, Timeout: 3 * time.Minute},
		OnEvent: func(e rollback.Event) {
			s.mu.Lock()
			s.events = append(s.events, e)
			fn := s.onEv
			s.mu.Unlock()
			if fn != nil {
				fn(s, e)
			}
		},
	}
}

func (s *scenario) eventsOf(typ rollback.EventType) []rollback.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rollback.Event
	for _, e := range s.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// windowOpen returns when the evaluation window of the shift to green %
// opened: INSYNC plus the record TTL.
func (s *scenario) windowOpen(green int) time.Time {
	for _, sh := range s.router.shifts {
		if sh.To.Green == green {
			return sh.At.Add(recordTTL)
		}
	}
	s.t.Fatalf("no shift to %d %%", green)
	return time.Time{}
}

// rollbackDecision returns when the policy decided to roll back.
func rollbackDecision(t *testing.T, s *scenario) time.Time {
	t.Helper()
	for _, e := range s.eventsOf(rollback.EventDecision) {
		if e.Decision.Verdict == rollback.Rollback {
			return e.Time
		}
	}
	t.Fatal("no rollback decision")
	return time.Time{}
}

func TestControllerCleanCutover(t *testing.T) {
	ctx := context.Background()
	s := newScenario(t, nil)
	start := s.cloud.Clock().Now()
	require.NoError(t, s.c.Run(ctx, schedule))

	assert.Equal(t, migration.PhaseComplete, s.store.current())
	assert.Equal(t, []int{10, 25, 50, 100}, s.router.greens(), "one shift per step, in order")
	assert.Len(t, s.store.splits, 4)
	assert.Equal(t, []string{"Cutover started", "Cutover complete"}, s.notifier.subjects())
	assert.Empty(t, s.store.entries(rollback.EntryRollback))

	// Every decision came after its step's window opened, and every step
	// baked at least its bake time.
	decisions := s.eventsOf(rollback.EventDecision)
	require.NotEmpty(t, decisions)
	last := map[int]time.Time{}
	for _, d := range decisions {
		w := s.windowOpen(schedule.Steps[d.Step].Green)
		assert.False(t, d.Time.Before(w), "step %d decided at %s before its window opened at %s", d.Step, d.Time, w)
		assert.Equal(t, rollback.Continue, d.Decision.Verdict)
		last[d.Step] = d.Time
	}
	for i, st := range schedule.Steps {
		assert.GreaterOrEqual(t, last[i].Sub(s.windowOpen(st.Green)), st.Bake, "step %d baked its bake time", i)
	}
	// Each evaluation is one batched GetMetricData and one ledger entry.
	assert.Equal(t, len(decisions), s.cloud.Count("CloudWatch", "GetMetricData"))
	ledger := s.store.entries(rollback.EntryDecision)
	assert.Len(t, ledger, len(decisions))
	assert.Contains(t, ledger[0].Details["rule.errors.query"], "App ErrorRate{Service=green} Average per 1m0s")
	assert.Equal(t, "> 5", ledger[0].Details["rule.errors.threshold"])
	assert.Len(t, s.store.entries(rollback.EntryShift), 4)
	assert.Len(t, s.store.entries(rollback.EntryComplete), 1)
	total := s.cloud.Clock().Now().Sub(start)
	assert.Less(t, total, 4*(5*time.Minute+recordTTL+40*time.Second+2*time.Minute), "no step waited needlessly: %v", total)

	// A second Run finds the cutover complete and does nothing.
	s.router.shifts = nil
	require.NoError(t, s.controller().Run(ctx, schedule))
	assert.Empty(t, s.router.shifts)
}

// TestControllerBreachAtHalf: the error rate rises as soon as half the
// traffic is on green. The controller rolls back within one evaluation
// range (N × period) of the window opening — not before M periods of
// evidence — and never reaches 100 %.
func TestControllerBreachAtHalf(t *testing.T) {
	ctx := context.Background()
	s := newScenario(t, func(_ *scenario, _ time.Time, split migration.Split) (float64, bool) {
		if split.Green >= 50 {
			return 20, true
		}
		return 1, split.Green > 0
	})
	err := s.c.Run(ctx, schedule)
	require.ErrorIs(t, err, rollback.ErrRolledBack)
	assert.Contains(t, err.Error(), "at step 3 (blue 50 / green 50)")

	w := s.windowOpen(50)
	require.Len(t, s.eventsOf(rollback.EventRollback), 1)
	r := rollbackDecision(t, s)
	assert.False(t, r.Before(w.Add(2*time.Minute)), "rolled back at %s: before M=2 periods of evidence after the window opened at %s", r, w)
	assert.False(t, r.After(w.Add(3*time.Minute)), "rolled back at %s: more than one evaluation range (3 × 1m) after the window opened at %s", r, w)

	assert.Equal(t, []int{10, 25, 50, 0}, s.router.greens(), "straight back to blue in one change")
	assert.Equal(t, migration.PhaseRolledBack, s.store.current())
	assert.Equal(t, 1, s.repl.startCount(), "the reverse task is (re)started")
	crit := s.notifier.bySeverity(migration.SeverityCritical)
	require.Len(t, crit, 1)
	assert.Equal(t, "Cutover rolled back to blue", crit[0].Subject)

	// The ledger answers "why did it roll back?".
	entries := s.store.entries(rollback.EntryRollback)
	require.Len(t, entries, 1)
	e := entries[0]
	assert.Equal(t, "controller alice@ops", e.Actor)
	assert.Equal(t, "rollback", e.Details["verdict"])
	assert.Equal(t, s.router.lastShift().ChangeID, e.Details["changeId"])
	assert.Contains(t, e.Details["rule.errors"], "breaching: 2 of the last")
	assert.Contains(t, e.Details["rule.errors.values"], "=20")
	assert.Equal(t, "cutting-over", e.Details["from"])
}

// TestControllerMissingDataHolds: green's error metric stops reporting at
// 25 %. The controller holds at 25 % and notifies once; when the metric is
// back and the operator resumes, the cutover completes.
func TestControllerMissingDataHolds(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	broken := true
	s := newScenario(t, func(_ *scenario, _ time.Time, split migration.Split) (float64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if split.Green == 25 && broken {
			return 0, false
		}
		return 1, split.Green > 0
	})
	var heldAt time.Time
	s.onEv = func(s *scenario, e rollback.Event) {
		if e.Type == rollback.EventHold {
			heldAt = e.Time
			assert.Equal(t, []int{10, 25}, s.router.greens(), "held at 25 %")
			// The operator looks, the metric pipeline is fixed, they resume.
			mu.Lock()
			broken = false
			mu.Unlock()
			s.c.Resume("metrics pipeline fixed")
		}
	}
	require.NoError(t, s.c.Run(ctx, schedule))
	require.Len(t, s.eventsOf(rollback.EventHold), 1)
	assert.False(t, heldAt.IsZero())
	warn := s.notifier.bySeverity(migration.SeverityWarning)
	require.Len(t, warn, 1)
	assert.Equal(t, "Cutover holding: policy inconclusive", warn[0].Subject)
	assert.Contains(t, warn[0].Reason, "no data in")
	assert.Equal(t, []int{10, 25, 50, 100}, s.router.greens())
	assert.Equal(t, migration.PhaseComplete, s.store.current())
	assert.NotEmpty(t, s.store.entries(rollback.EntryOperator), "the resume is in the ledger")
}

// TestControllerFreeze: a breach at 50 % while the reverse replication
// lags 5 minutes behind (budget 1 minute): the controller freezes —
// traffic stays, a critical page — and rolls back once the lag is back
// under budget.
func TestControllerFreeze(t *testing.T) {
	ctx := context.Background()
	s := newScenario(t, func(_ *scenario, _ time.Time, split migration.Split) (float64, bool) {
		if split.Green >= 50 {
			return 20, true
		}
		return 1, split.Green > 0
	})
	var frozenAt time.Time
	ticksFrozen := 0
	s.onEv = func(s *scenario, e rollback.Event) {
		switch {
		case e.Type == rollback.EventShift && e.Split.Green == 50:
			s.repl.set(func(f *fakeReplication) { f.reverse.Target = 5 * time.Minute })
		case e.Type == rollback.EventFreeze:
			frozenAt = e.Time
		case e.Type == rollback.EventDecision && e.Decision.Verdict == rollback.Freeze:
			ticksFrozen++
			if ticksFrozen == 3 { // the DBA catches the reverse task up
				s.repl.set(func(f *fakeReplication) { f.reverse.Target = 20 * time.Second })
			}
		}
	}
	err := s.c.Run(ctx, schedule)
	require.ErrorIs(t, err, rollback.ErrRolledBack)
	require.Len(t, s.eventsOf(rollback.EventFreeze), 1, "one freeze episode")
	assert.Equal(t, 3, ticksFrozen, "traffic stayed at 50 % for three frozen evaluations")
	crit := s.notifier.bySeverity(migration.SeverityCritical)
	require.Len(t, crit, 2, "the freeze page and then the rollback")
	assert.Contains(t, crit[0].Subject, "FROZEN")
	assert.Contains(t, crit[0].Reason, "exceeds the data-loss budget")
	assert.Equal(t, "Cutover rolled back to blue", crit[1].Subject)
	assert.Equal(t, []int{10, 25, 50, 0}, s.router.greens())
	rb := rollbackDecision(t, s)
	assert.Equal(t, 3*time.Minute, rb.Sub(frozenAt), "rolled back at the first evaluation with the lag under budget")
}

// TestControllerCrashAndResume: the controller dies during a step — in
// the 50 % bake, or in the shift to 50 % after Route 53 accepted the
// change and before it was INSYNC and recorded. A new controller reads
// the weights and the phase, asserts 50 % again (the same weights: no
// traffic moves), opens the evaluation window only after that is INSYNC
// plus the record TTL, bakes 50 % in full and completes.
func TestControllerCrashAndResume(t *testing.T) {
	tests := []struct {
		name  string
		crash func(s *scenario, crash func())
	}{
		{name: "crash during the bake", crash: func(s *scenario, crash func()) {
			s.onEv = func(_ *scenario, e rollback.Event) {
				if e.Type == rollback.EventDecision && e.Split.Green == 50 {
					crash()
				}
			}
		}},
		{name: "crash during the shift, before INSYNC", crash: func(s *scenario, crash func()) {
			s.router.accepted = func(to migration.Split) {
				if to.Green == 50 {
					crash()
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario(t, nil)
			ctx, crash := context.WithCancel(context.Background())
			tt.crash(s, crash)
			err := s.c.Run(ctx, schedule)
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, migration.PhaseCuttingOver, s.store.current())
			w, _ := s.router.Weights(context.Background())
			assert.Equal(t, migration.GreenPercent(50), w, "the records are at 50 %")
			shiftsBefore := len(s.router.shifts)

			s.mu.Lock()
			s.onEv, s.events = nil, nil
			s.mu.Unlock()
			s.router.accepted = nil
			resumed := s.controller()
			require.NoError(t, resumed.Run(context.Background(), schedule))
			assert.Equal(t, []int{50, 100}, s.router.greens()[shiftsBefore:], "50 % asserted again, then 100 %")
			assert.Equal(t, migration.PhaseComplete, s.store.current())
			assert.Equal(t, 1, s.store.transitionsTo(migration.PhaseCuttingOver), "the resumed run did not restart the cutover")
			assert.Equal(t, migration.GreenPercent(50), s.store.splits[len(s.store.splits)-2], "the resumed 50 % is recorded with its change")

			steps := s.eventsOf(rollback.EventStep)
			require.Len(t, steps, 2, "the resumed run baked 50 % and 100 %")
			assert.Equal(t, 50, steps[0].Split.Green)
			// The window of the resumed step opened at its INSYNC + TTL,
			// and the step baked in full from there.
			reasserted := s.router.shifts[shiftsBefore]
			var last time.Time
			for _, d := range s.eventsOf(rollback.EventDecision) {
				if d.Split.Green == 50 {
					assert.False(t, d.Time.Before(reasserted.At.Add(recordTTL)), "decided at %s before the window opened at %s", d.Time, reasserted.At.Add(recordTTL))
					last = d.Time
				}
			}
			assert.GreaterOrEqual(t, last.Sub(reasserted.At.Add(recordTTL)), schedule.Steps[2].Bake, "50 % baked in full again")
			var resumedEntry bool
			for _, e := range s.store.entries(rollback.EntryOperator) {
				resumedEntry = resumedEntry || strings.Contains(e.Summary, "resumed at step 3")
			}
			assert.True(t, resumedEntry)
		})
	}
}

// TestControllerSlowSwitchIsNoHold: a database switch that takes longer
// than the gate timeout (a slow drain, the reverse task's start) is
// progress, not a failing gate: the controller neither holds nor pages,
// and goes on to shift.
func TestControllerSlowSwitchIsNoHold(t *testing.T) {
	s := newScenario(t, nil)
	s.repl.set(func(f *fakeReplication) {
		f.reverse.Status = "stopped"
		f.switchTakes = 2 * s.c.Gates.Timeout
		f.clock = s.cloud.Clock()
	})
	var events []rollback.EventType
	s.onEv = func(_ *scenario, e rollback.Event) { events = append(events, e.Type) }
	// A held run waits for an operator who never comes: bound it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.c.Run(ctx, schedule))
	assert.Equal(t, 1, s.repl.switchCount())
	assert.NotContains(t, events, rollback.EventHold)
	assert.Empty(t, s.notifier.bySeverity(migration.SeverityWarning), "nobody paged for a switch that succeeded")
	gate, shift := slices.Index(events, rollback.EventGate), slices.Index(events, rollback.EventShift)
	require.GreaterOrEqual(t, gate, 0, "the switch is said, as a gate event")
	assert.Less(t, gate, shift, "before traffic moves: %v", events)
}

// TestControllerGates: before 10 %, the forward replication lags and the
// reverse task is stopped. The controller does not switch the database
// while the forward lag is over its bound: it waits, holds after the gate
// timeout and notifies; when the lag recovers and the operator resumes,
// it switches the database, and once the reverse task runs it shifts.
func TestControllerGates(t *testing.T) {
	s := newScenario(t, nil)
	s.repl.set(func(f *fakeReplication) {
		f.forward.Target = 10 * time.Minute
		f.reverse.Status = "stopped"
	})
	gateEvents := 0
	s.onEv = func(s *scenario, e rollback.Event) {
		switch e.Type {
		case rollback.EventGate:
			gateEvents++
		case rollback.EventHold:
			assert.Empty(t, s.router.shifts, "nothing shifted while the gates fail")
			assert.Zero(t, s.repl.switchCount(), "no database switch while the forward lag is over its bound")
			s.repl.set(func(f *fakeReplication) { f.forward.Target = 5 * time.Second })
			s.c.Resume("replication caught up")
		case rollback.EventShift:
			assert.Equal(t, 1, s.repl.switchCount(), "the database switched before traffic moved")
		}
	}
	require.NoError(t, s.c.Run(context.Background(), schedule))
	assert.GreaterOrEqual(t, gateEvents, 6, "gates retried every 30s for the 3 minute timeout")
	require.Equal(t, 1, s.repl.switchCount(), "the database switched once")
	assert.Zero(t, s.repl.startCount(), "the controller switches; it never merely starts the reverse task")
	for _, fwd := range s.repl.forwardAtStarts() {
		assert.LessOrEqual(t, max(fwd.Source, fwd.Target), s.c.Gates.MaxForwardLag, "the database switched with the forward lag within bound")
	}
	warn := s.notifier.bySeverity(migration.SeverityWarning)
	require.Len(t, warn, 1)
	assert.Contains(t, warn[0].Reason, "forward replication dms-task-forward-dev is running with lag 10m0s (bound 30s)")
	assert.Contains(t, warn[0].Reason, "reverse replication dms-task-reverse-dev is stopped; the database switches once the other gates pass")
	assert.Len(t, s.store.entries(rollback.EntryGate), 1)
	assert.Equal(t, migration.PhaseComplete, s.store.current())
}

func TestControllerValidationGate(t *testing.T) {
	s := newScenario(t, nil)
	s.store.validations["smoke"] = migration.ValidationResult{Name: "smoke", Passed: false, At: s.cloud.Clock().Now()}
	var reason string
	s.onEv = func(s *scenario, e rollback.Event) {
		if e.Type == rollback.EventHold {
			reason = e.Message
			s.c.Abort("validation keeps failing")
		}
	}
	err := s.c.Run(context.Background(), schedule)
	require.ErrorIs(t, err, rollback.ErrAborted)
	assert.Contains(t, reason, "validation smoke failed")
	assert.Equal(t, []int{0}, s.router.greens(), "no traffic ever moved to green; the abort re-asserted blue")
	assert.Equal(t, migration.PhaseRolledBack, s.store.current())
}

// TestControllerSomeoneElseRolledBack: the Lambda rolls back during the
// 25 % bake. The controller notices at its next tick and stops without
// another shift.
func TestControllerSomeoneElseRolledBack(t *testing.T) {
	s := newScenario(t, nil)
	s.onEv = func(s *scenario, e rollback.Event) {
		if e.Type == rollback.EventDecision && e.Split.Green == 25 && len(s.eventsOf(rollback.EventDecision)) > 0 {
			x := &rollback.Executor{Env: s.env, Router: s.router, Store: s.store, Notifier: s.notifier, Reverse: s.repl}
			if s.store.current() == migration.PhaseCuttingOver {
				_, err := x.Rollback(context.Background(), rollback.Request{Reason: "alarm", Actor: "lambda"})
				assert.NoError(t, err)
			}
		}
	}
	err := s.c.Run(context.Background(), schedule)
	require.ErrorIs(t, err, rollback.ErrRolledBack)
	assert.Contains(t, err.Error(), "by someone else")
	assert.Equal(t, []int{10, 25, 0}, s.router.greens())
	assert.Len(t, s.notifier.bySeverity(migration.SeverityCritical), 1)
}

// TestControllerPauseResume: a pause during the 10 % bake stops the bake
// clock; the step lasts as much longer as it was paused.
func TestControllerPauseResume(t *testing.T) {
	run := func(pause bool) time.Duration {
		s := newScenario(t, nil)
		decisions := 0
		s.onEv = func(s *scenario, e rollback.Event) {
			if !pause || e.Type != rollback.EventDecision || e.Split.Green != 10 {
				return
			}
			decisions++
			switch decisions {
			case 1:
				s.c.Pause("lunch")
			case 4:
				s.c.Resume("back")
			}
		}
		require.NoError(t, s.c.Run(context.Background(), schedule))
		var first, second time.Time
		for _, sh := range s.router.shifts {
			switch sh.To.Green {
			case 10:
				first = sh.At
			case 25:
				second = sh.At
			}
		}
		return second.Sub(first)
	}
	plain, paused := run(false), run(true)
	assert.Equal(t, 3*time.Minute, paused-plain, "three paused minutes do not count toward the bake")
}

func TestControllerRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		edit  func(s *scenario)
		sched rollback.Schedule
		want  string
		is    error
	}{
		{name: "a bake shorter than the evaluation range", sched: rollback.Schedule{Steps: []rollback.Step{{Green: 100, Bake: time.Minute}}}, want: "shorter than the policy's longest evaluation range"},
		{name: "a schedule not ending at 100 %", sched: rollback.Schedule{Steps: []rollback.Step{{Green: 50, Bake: 5 * time.Minute}}}, want: "must send 100 %"},
		{name: "decreasing steps", sched: rollback.Schedule{Steps: []rollback.Step{{Green: 50, Bake: 5 * time.Minute}, {Green: 25, Bake: 5 * time.Minute}, {Green: 100, Bake: 5 * time.Minute}}}, want: "must be above the previous step"},
		{name: "a phase before validated", sched: schedule, edit: func(s *scenario) { s.store.phase = migration.PhaseReplicating }, want: "does not allow a cutover"},
		{name: "a rolled-back phase without RetryAfterRollback", sched: schedule, edit: func(s *scenario) { s.store.phase = migration.PhaseRolledBack }, is: rollback.ErrRolledBack},
		{name: "the lease held by another", sched: schedule, edit: func(s *scenario) { s.store.leaseOwner = "bob@ops" }, want: "lease held by bob@ops"},
		{name: "no forward lag bound", sched: schedule, edit: func(s *scenario) { s.c.Gates.MaxForwardLag = 0 }, want: "gates.maxForwardLag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario(t, nil)
			if tt.edit != nil {
				tt.edit(s)
			}
			err := s.c.Run(ctx, tt.sched)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			if tt.want != "" {
				assert.Contains(t, err.Error(), tt.want)
			}
			assert.Empty(t, s.router.shifts, "nothing moved")
		})
	}
}

// A router that applies another split than asked is an error: the run
// stops before recording a split or baking it.
func TestControllerRouterMisapplies(t *testing.T) {
	s := newScenario(t, nil)
	s.router.misapply = &migration.Split{Blue: 50, Green: 50}
	err := s.c.Run(context.Background(), schedule)
	require.ErrorContains(t, err, "shift to blue 90 / green 10: the router applied blue 50 / green 50")
	assert.Empty(t, s.eventsOf(rollback.EventDecision), "nothing baked")
	assert.Empty(t, s.store.splits, "no split recorded")
}

func TestControllerRetryAfterRollback(t *testing.T) {
	s := newScenario(t, nil)
	s.store.phase = migration.PhaseRolledBack
	s.c.RetryAfterRollback = true
	require.NoError(t, s.c.Run(context.Background(), schedule))
	assert.Equal(t, migration.PhaseComplete, s.store.current())
	assert.Equal(t, []int{10, 25, 50, 100}, s.router.greens())
}

// TestControllerStops: an operator's abort during a bake rolls back; a
// lost lease stops the run where it is (another controller owns the env
// now) without moving traffic.
func TestControllerStops(t *testing.T) {
	tests := []struct {
		name      string
		act       func(s *scenario)
		is        error
		want      string
		wantGreen []int
		wantPhase migration.Phase
	}{
		{name: "abort during the 25 % bake rolls back", act: func(s *scenario) { s.c.Abort("customer complaints") },
			is: rollback.ErrAborted, want: "customer complaints", wantGreen: []int{10, 25, 0}, wantPhase: migration.PhaseRolledBack},
		{name: "a lost lease stops the run in place", act: func(s *scenario) {
			s.store.mu.Lock()
			s.store.leaseOwner = "bob@ops"
			s.store.mu.Unlock()
		}, want: "lease lost", wantGreen: []int{10, 25}, wantPhase: migration.PhaseCuttingOver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario(t, nil)
			done := false
			s.onEv = func(s *scenario, e rollback.Event) {
				if !done && e.Type == rollback.EventDecision && e.Split.Green == 25 {
					done = true
					tt.act(s)
				}
			}
			err := s.c.Run(context.Background(), schedule)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.wantGreen, s.router.greens())
			assert.Equal(t, tt.wantPhase, s.store.current())
		})
	}
}

// TestControllerGatesAfterTheDatabaseSwitch: once the reverse task runs,
// a stopped forward task is the database switch, not a failing gate.
func TestControllerGatesAfterTheDatabaseSwitch(t *testing.T) {
	s := newScenario(t, nil)
	s.repl.set(func(f *fakeReplication) { f.forward.Status = "stopped" })
	require.NoError(t, s.c.Run(context.Background(), schedule))
	assert.Empty(t, s.notifier.bySeverity(migration.SeverityWarning), "no gate failed")
	assert.Equal(t, migration.PhaseComplete, s.store.current())

	// A stopped forward task without a running reverse one still fails.
	s = newScenario(t, nil)
	s.repl.set(func(f *fakeReplication) {
		f.forward.Status = "stopped"
		f.reverse.Status = "stopped"
		f.startsRunning = false
	})
	s.onEv = func(s *scenario, e rollback.Event) {
		if e.Type == rollback.EventHold {
			s.c.Abort("test done")
		}
	}
	err := s.c.Run(context.Background(), schedule)
	require.ErrorIs(t, err, rollback.ErrAborted)
	warn := s.notifier.bySeverity(migration.SeverityWarning)
	require.NotEmpty(t, warn)
	assert.Contains(t, warn[0].Reason, "forward replication dms-task-forward-dev is stopped")
}
