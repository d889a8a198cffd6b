package migration_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func testEnv() migration.Env {
	return migration.Env{Suffix: "test", Region: "us-east-1", Account: "123456789012", Clock: fakecloud.NewClock(fakecloud.Epoch)}
}

// trace records the order in which steps start and finish.
type trace struct {
	mu     sync.Mutex
	events []string
}

func (t *trace) add(s string) {
	t.mu.Lock()
	t.events = append(t.events, s)
	t.mu.Unlock()
}

func (t *trace) index(s string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Index(t.events, s)
}

func step(tr *trace, name string, deps ...string) migration.Step {
	return migration.Step{
		Name: name, DependsOn: deps,
		Apply:  func(context.Context, migration.Env) error { tr.add("start " + name); tr.add("end " + name); return nil },
		Delete: func(context.Context, migration.Env) error { tr.add("delete " + name); return nil },
	}
}

func TestNewRunbookRejects(t *testing.T) {
	noop := func(context.Context, migration.Env) error { return nil }
	tests := []struct {
		name  string
		steps []migration.Step
		want  string
	}{
		{"unknown dependency", []migration.Step{{Name: "a", DependsOn: []string{"b"}, Apply: noop}}, `step "a" depends on unknown step "b"`},
		{"self cycle", []migration.Step{{Name: "a", DependsOn: []string{"a"}, Apply: noop}}, "dependency cycle: a -> a"},
		{"three cycle", []migration.Step{
			{Name: "root", Apply: noop},
			{Name: "a", DependsOn: []string{"root", "c"}, Apply: noop},
			{Name: "b", DependsOn: []string{"a"}, Apply: noop},
			{Name: "c", DependsOn: []string{"b"}, Apply: noop},
		}, "dependency cycle: a -> c -> b -> a"},
		{"duplicate", []migration.Step{{Name: "a", Apply: noop}, {Name: "a", Apply: noop}}, `step "a" defined twice`},
		{"no name", []migration.Step{{Apply: noop}}, "step 0 has no name"},
		{"no apply", []migration.Step{{Name: "a"}}, `step "a" has no apply function`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := migration.NewRunbook(migration.Options{}, tt.steps...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestApplyOrderAndDestroyReverse(t *testing.T) {
	tr := &trace{}
	// key and vpc are independent; subnets needs vpc; dms needs key and subnets.
	rb, err := migration.NewRunbook(migration.Options{},
		step(tr, "dms", "key", "subnets"), step(tr, "subnets", "vpc"), step(tr, "vpc"), step(tr, "key"))
	require.NoError(t, err)
	assert.Equal(t, []string{"vpc", "key", "subnets", "dms"}, rb.Steps())

	require.NoError(t, rb.Apply(context.Background(), testEnv()))
	for _, edge := range [][2]string{{"vpc", "subnets"}, {"subnets", "dms"}, {"key", "dms"}} {
		assert.Less(t, tr.index("end "+edge[0]), tr.index("start "+edge[1]), "%s must finish before %s starts", edge[0], edge[1])
	}

	tr.events = nil
	require.NoError(t, rb.Destroy(context.Background(), testEnv()))
	for _, edge := range [][2]string{{"dms", "subnets"}, {"subnets", "vpc"}, {"dms", "key"}} {
		assert.Less(t, tr.index("delete "+edge[0]), tr.index("delete "+edge[1]), "%s must be deleted before %s", edge[0], edge[1])
	}
	assert.Len(t, tr.events, 4)
}

// TestApplyRunsIndependentStepsInParallel proves real overlap: each of the
// independent steps waits until all of them have started, which only
// completes if they run at the same time.
func TestApplyRunsIndependentStepsInParallel(t *testing.T) {
	const n = 4
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	var steps []migration.Step
	for i := range n {
		steps = append(steps, migration.Step{Name: string(rune('a' + i)), Apply: func(ctx context.Context, _ migration.Env) error {
			started.Done()
			select {
			case <-all:
				return nil
			case <-time.After(10 * time.Second): // a deadlock guard, not a sleep: fails the test
				return errors.New("independent steps did not overlap")
			}
		}})
	}
	rb, err := migration.NewRunbook(migration.Options{Parallelism: n}, steps...)
	require.NoError(t, err)
	require.NoError(t, rb.Apply(context.Background(), testEnv()))
}

func TestApplyBoundsParallelism(t *testing.T) {
	var running, peak atomic.Int32
	var steps []migration.Step
	for i := range 20 {
		steps = append(steps, migration.Step{Name: string(rune('a' + i)), Apply: func(context.Context, migration.Env) error {
			now := running.Add(1)
			for {
				p := peak.Load()
				if now <= p || peak.CompareAndSwap(p, now) {
					break
				}
			}
			for range 1000 {
				_ = running.Load() // give others a chance to overlap
			}
			running.Add(-1)
			return nil
		}})
	}
	rb, err := migration.NewRunbook(migration.Options{Parallelism: 3}, steps...)
	require.NoError(t, err)
	require.NoError(t, rb.Apply(context.Background(), testEnv()))
	assert.LessOrEqual(t, peak.Load(), int32(3))
}

func TestApplyAggregatesErrorsAndStopsLaunching(t *testing.T) {
	errA, errB := errors.New("boom a"), errors.New("boom b")
	// a and slow-ok finish only once the runbook has seen b fail.
	bFailed := make(chan struct{})
	var once sync.Once
	onEvent := func(e migration.Event) {
		if e.Type == migration.EventFailed && e.Step == "b" {
			once.Do(func() { close(bFailed) })
		}
	}
	var ranAfter atomic.Bool
	rb, err := migration.NewRunbook(migration.Options{Parallelism: 4, OnEvent: onEvent},
		migration.Step{Name: "a", Apply: func(context.Context, migration.Env) error { <-bFailed; return errA }},
		migration.Step{Name: "b", Apply: func(context.Context, migration.Env) error { return errB }},
		migration.Step{Name: "slow-ok", Apply: func(context.Context, migration.Env) error { <-bFailed; return nil }},
		migration.Step{Name: "after-a", DependsOn: []string{"a"}, Apply: func(context.Context, migration.Env) error { ranAfter.Store(true); return nil }},
		migration.Step{Name: "after-ok", DependsOn: []string{"slow-ok"}, Apply: func(context.Context, migration.Env) error { ranAfter.Store(true); return nil }},
	)
	require.NoError(t, err)
	err = rb.Apply(context.Background(), testEnv())
	require.Error(t, err)
	var runErr *migration.RunError
	require.ErrorAs(t, err, &runErr)
	var failed []string
	for _, f := range runErr.Failed {
		failed = append(failed, f.Step)
	}
	assert.ElementsMatch(t, []string{"a", "b"}, failed)
	assert.ErrorIs(t, err, errA)
	assert.ErrorIs(t, err, errB)
	assert.ElementsMatch(t, []string{"after-a", "after-ok"}, runErr.Skipped)
	assert.False(t, ranAfter.Load(), "nothing new may start after the first failure")
	assert.Contains(t, err.Error(), `step "a": boom a`)
	assert.Contains(t, err.Error(), `step "b": boom b`)
}

func TestDestroyKeepsGoingOnIndependentBranches(t *testing.T) {
	tr := &trace{}
	rb, err := migration.NewRunbook(migration.Options{},
		step(tr, "vpc"),
		migration.Step{Name: "subnet", DependsOn: []string{"vpc"}, Apply: func(context.Context, migration.Env) error { return nil },
			Delete: func(context.Context, migration.Env) error { return errors.New("stuck") }},
		step(tr, "key"),
		step(tr, "table", "key"),
	)
	require.NoError(t, err)
	err = rb.Destroy(context.Background(), testEnv())
	var runErr *migration.RunError
	require.ErrorAs(t, err, &runErr)
	assert.Equal(t, []string{"vpc"}, runErr.Skipped, "vpc must not be deleted under a stuck subnet")
	assert.GreaterOrEqual(t, tr.index("delete key"), 0, "the independent branch is still destroyed")
	assert.Less(t, tr.index("delete table"), tr.index("delete key"))
}

func TestApplyCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var secondRan atomic.Bool
	rb, err := migration.NewRunbook(migration.Options{},
		migration.Step{Name: "first", Apply: func(ctx context.Context, _ migration.Env) error { cancel(); <-ctx.Done(); return ctx.Err() }},
		migration.Step{Name: "second", DependsOn: []string{"first"}, Apply: func(context.Context, migration.Env) error { secondRan.Store(true); return nil }},
	)
	require.NoError(t, err)
	err = rb.Apply(ctx, testEnv())
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, secondRan.Load())
}

func TestEventsAndChangesPerStep(t *testing.T) {
	var mu sync.Mutex
	var events []migration.Event
	report := &migration.Report{}
	env := testEnv()
	env.Reporter = report
	rb, err := migration.NewRunbook(migration.Options{OnEvent: func(e migration.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }},
		migration.Step{Name: "vpc", Apply: func(ctx context.Context, env migration.Env) error {
			calls := 0
			if err := env.Poll(ctx, "vpc-1 to be available", time.Second, time.Minute, func(context.Context) (string, bool, error) {
				calls++
				return "pending", calls == 3, nil
			}); err != nil {
				return err
			}
			env.Report(migration.Change{Kind: "vpc", Name: "vpc-test", ID: "vpc-1", Action: migration.ActionCreate})
			return nil
		}})
	require.NoError(t, err)
	require.NoError(t, rb.Apply(context.Background(), env))

	var types []migration.EventType
	for _, e := range events {
		assert.Equal(t, "vpc", e.Step)
		types = append(types, e.Type)
	}
	assert.Equal(t, []migration.EventType{migration.EventStarted, migration.EventWaiting, migration.EventWaiting, migration.EventChange, migration.EventDone}, types)
	assert.Equal(t, "vpc-1 to be available", events[1].Waiting)
	assert.Equal(t, "pending", events[1].State)
	assert.Equal(t, time.Second, events[2].Waited, "the second wait has waited one interval of fake time")
	require.Len(t, events[4].Changes, 1)
	assert.Equal(t, "vpc-1", events[4].Changes[0].ID)
	assert.Len(t, report.Changes(), 1, "changes also reach the env's reporter")
}

func TestPlanSetsDryRun(t *testing.T) {
	var sawDryRun bool
	rb, err := migration.NewRunbook(migration.Options{}, migration.Step{Name: "a", Apply: func(_ context.Context, env migration.Env) error {
		sawDryRun = env.DryRun
		return nil
	}})
	require.NoError(t, err)
	require.NoError(t, rb.Plan(context.Background(), testEnv()))
	assert.True(t, sawDryRun)
}

type fakeLock struct {
	held   atomic.Bool
	unlock atomic.Int32
	err    error
}

func (l *fakeLock) Lock(context.Context, string) (func(context.Context) error, error) {
	if l.err != nil {
		return nil, l.err
	}
	l.held.Store(true)
	return func(context.Context) error { l.held.Store(false); l.unlock.Add(1); return nil }, nil
}

func TestApplyHoldsLock(t *testing.T) {
	lock := &fakeLock{}
	var heldDuring bool
	rb, err := migration.NewRunbook(migration.Options{Lock: lock, Owner: "alice"}, migration.Step{Name: "a", Apply: func(context.Context, migration.Env) error {
		heldDuring = lock.held.Load()
		return nil
	}})
	require.NoError(t, err)
	require.NoError(t, rb.Apply(context.Background(), testEnv()))
	assert.True(t, heldDuring)
	assert.False(t, lock.held.Load())
	assert.EqualValues(t, 1, lock.unlock.Load())

	busy := &fakeLock{err: errors.New("held by bob since 09:00")}
	rb, err = migration.NewRunbook(migration.Options{Lock: busy}, migration.Step{Name: "a", Apply: func(context.Context, migration.Env) error {
		t.Fatal("must not run without the lock")
		return nil
	}})
	require.NoError(t, err)
	err = rb.Apply(context.Background(), testEnv())
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "held by bob"))
}

func TestApplyRejectsInvalidEnv(t *testing.T) {
	rb, err := migration.NewRunbook(migration.Options{}, migration.Step{Name: "a", Apply: func(context.Context, migration.Env) error {
		t.Fatal("must not run with an invalid env")
		return nil
	}})
	require.NoError(t, err)
	env := testEnv()
	env.Suffix = "Bad--"
	require.Error(t, rb.Apply(context.Background(), env))
}
