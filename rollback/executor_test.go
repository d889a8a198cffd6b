package rollback_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

type executorFixture struct {
	env      migration.Env
	store    *fakeStore
	router   *fakeRouter
	notifier *fakeNotifier
	repl     *fakeReplication
	x        *rollback.Executor
}

func newExecutorFixture(phase migration.Phase) *executorFixture {
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	f := &executorFixture{env: env, store: newStore(cloud.Clock(), phase), router: newRouter(cloud.Clock()), notifier: &fakeNotifier{}, repl: newReplication()}
	f.router.split = migration.GreenPercent(50)
	f.x = &rollback.Executor{Env: env, Router: f.router, Store: f.store, Notifier: f.notifier, Reverse: f.repl}
	return f
}

func TestExecutorRollback(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		phase        migration.Phase
		setup        func(f *executorFixture)
		req          rollback.Request
		wantOutcome  rollback.Outcome
		wantErr      string
		wantErrIs    error
		wantShifts   int
		wantStarts   int
		wantPhase    migration.Phase
		wantNotified int
	}{
		{name: "cutting-over rolls back", phase: migration.PhaseCuttingOver, req: rollback.Request{Reason: "5xx", Actor: "operator alice"},
			wantOutcome: rollback.OutcomeRolledBack, wantShifts: 1, wantStarts: 1, wantPhase: migration.PhaseRolledBack, wantNotified: 1},
		{name: "complete rolls back inside the window", phase: migration.PhaseComplete, req: rollback.Request{Reason: "latency", Actor: "lambda"},
			wantOutcome: rollback.OutcomeRolledBack, wantShifts: 1, wantStarts: 1, wantPhase: migration.PhaseRolledBack, wantNotified: 1},
		{name: "already rolled back: converged, not notified", phase: migration.PhaseRolledBack,
			setup: func(f *executorFixture) { f.router.split = migration.AllBlue }, req: rollback.Request{Reason: "dup", Actor: "lambda"},
			wantOutcome: rollback.OutcomeAlreadyRolledBack, wantShifts: 0, wantStarts: 1, wantPhase: migration.PhaseRolledBack},
		{name: "already rolled back with drifted weights: shifted back to blue", phase: migration.PhaseRolledBack, req: rollback.Request{Reason: "dup"},
			wantOutcome: rollback.OutcomeAlreadyRolledBack, wantShifts: 1, wantStarts: 1, wantPhase: migration.PhaseRolledBack},
		{name: "a stale epoch does nothing", phase: migration.PhaseCuttingOver, req: rollback.Request{Reason: "old alarm", Epoch: 99},
			wantOutcome: rollback.OutcomeStale, wantPhase: migration.PhaseCuttingOver},
		{name: "the current epoch acts", phase: migration.PhaseCuttingOver, req: rollback.Request{Reason: "5xx", Epoch: 1},
			wantOutcome: rollback.OutcomeRolledBack, wantShifts: 1, wantStarts: 1, wantPhase: migration.PhaseRolledBack, wantNotified: 1},
		{name: "nothing to roll back before the cutover", phase: migration.PhaseValidated, req: rollback.Request{Reason: "x"},
			wantErrIs: rollback.ErrNothingToRollBack, wantPhase: migration.PhaseValidated},
		{name: "PriorRequestNotComplete is retried", phase: migration.PhaseCuttingOver, setup: func(f *executorFixture) { f.router.failPrior = 2 },
			req: rollback.Request{Reason: "5xx"}, wantOutcome: rollback.OutcomeRolledBack, wantShifts: 1, wantStarts: 1, wantPhase: migration.PhaseRolledBack, wantNotified: 1},
		{name: "a reverse task that cannot start is reported but traffic still moves", phase: migration.PhaseCuttingOver,
			setup: func(f *executorFixture) { f.repl.startErr = errors.New("AccessDeniedFault") }, req: rollback.Request{Reason: "5xx"},
			wantOutcome: rollback.OutcomeRolledBack, wantErr: "start reverse replication: AccessDeniedFault", wantShifts: 1, wantStarts: 1, wantPhase: migration.PhaseRolledBack, wantNotified: 1},
		{name: "before the database switch traffic moves and the database stays as it is", phase: migration.PhaseCuttingOver,
			setup: func(f *executorFixture) { f.repl.set(func(r *fakeReplication) { r.reverse.Status = "ready" }) }, req: rollback.Request{Reason: "vpn down"},
			wantOutcome: rollback.OutcomeRolledBack, wantShifts: 1, wantStarts: 1, wantPhase: migration.PhaseRolledBack, wantNotified: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newExecutorFixture(tt.phase)
			if tt.setup != nil {
				tt.setup(f)
			}
			res, err := f.x.Rollback(ctx, tt.req)
			switch {
			case tt.wantErrIs != nil:
				require.ErrorIs(t, err, tt.wantErrIs)
			case tt.wantErr != "":
				require.ErrorContains(t, err, tt.wantErr)
			default:
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOutcome, res.Outcome)
			assert.Len(t, f.router.shifts, tt.wantShifts)
			if tt.wantShifts > 0 {
				assert.Equal(t, migration.AllBlue, f.router.lastShift().To, "one change batch to blue")
				assert.Equal(t, f.router.lastShift().ChangeID, res.ChangeID)
				assert.Equal(t, []migration.Split{migration.AllBlue}, f.store.splits, "the split is recorded with its change")
			}
			assert.Equal(t, tt.wantStarts, f.repl.startCount())
			assert.Zero(t, f.repl.switchCount(), "a rollback never switches the database")
			assert.Equal(t, tt.wantPhase, f.store.current())
			assert.Len(t, f.notifier.sent, tt.wantNotified)
			if tt.wantNotified > 0 {
				n := f.notifier.sent[0]
				assert.Equal(t, migration.SeverityCritical, n.Severity)
				assert.Equal(t, migration.PhaseRolledBack, n.To)
				assert.Equal(t, res.ChangeID, n.Details["changeId"])
				if tt.wantErr != "" {
					assert.Contains(t, n.Details["reverseReplication"], "NOT STARTED")
				}
				rb := f.store.entries(rollback.EntryRollback)
				require.Len(t, rb, 1)
				assert.Equal(t, res.ChangeID, rb[0].Details["changeId"], "the ledger names the Route 53 change")
				assert.Equal(t, tt.req.Reason, rb[0].Summary)
			}
		})
	}
}

// TestExecutorDuplicateDeliveries delivers the same trigger five times in
// a row, as an at-least-once alarm delivery may: one transition, one
// notification, four "already rolled back".
func TestExecutorDuplicateDeliveries(t *testing.T) {
	ctx := context.Background()
	f := newExecutorFixture(migration.PhaseCuttingOver)
	_, epoch, _ := f.store.PhaseVersion(ctx)
	var outcomes []rollback.Outcome
	for range 5 {
		res, err := f.x.Rollback(ctx, rollback.Request{Reason: "alarm green-5xx-rate", Actor: "lambda", Epoch: epoch})
		require.NoError(t, err)
		outcomes = append(outcomes, res.Outcome)
	}
	assert.Equal(t, []rollback.Outcome{rollback.OutcomeRolledBack, rollback.OutcomeAlreadyRolledBack, rollback.OutcomeAlreadyRolledBack, rollback.OutcomeAlreadyRolledBack, rollback.OutcomeAlreadyRolledBack}, outcomes)
	assert.Equal(t, 1, f.store.transitionsTo(migration.PhaseRolledBack))
	assert.Len(t, f.notifier.sent, 1)
	assert.Len(t, f.router.shifts, 1, "the duplicates find the weights already blue")
	assert.Len(t, f.store.entries(rollback.EntryDuplicate), 4)
}

// TestExecutorConcurrentTriggers races the Lambda against operators: all
// read the phase before any transition (a barrier in Shift), one wins the
// conditional transition, the others report "already rolled back" without
// an error or a notification.
func TestExecutorConcurrentTriggers(t *testing.T) {
	ctx := context.Background()
	f := newExecutorFixture(migration.PhaseCuttingOver)
	const n = 6
	var barrier sync.WaitGroup
	barrier.Add(n)
	f.router.barrier = &barrier
	results := make([]rollback.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := "lambda"
			if i%2 == 1 {
				actor = "operator bob"
			}
			results[i], errs[i] = f.x.Rollback(ctx, rollback.Request{Reason: "race", Actor: actor})
		}()
	}
	wg.Wait()
	won := 0
	for i := range n {
		require.NoError(t, errs[i])
		switch results[i].Outcome {
		case rollback.OutcomeRolledBack:
			won++
		case rollback.OutcomeAlreadyRolledBack:
		default:
			t.Fatalf("unexpected outcome %q", results[i].Outcome)
		}
	}
	assert.Equal(t, 1, won, "exactly one trigger makes the transition")
	assert.Equal(t, 1, f.store.transitionsTo(migration.PhaseRolledBack))
	assert.Len(t, f.notifier.sent, 1, "exactly one notification")
	assert.Len(t, f.store.entries(rollback.EntryRollback), 1)
	assert.Len(t, f.store.entries(rollback.EntryDuplicate), n-1)
	w, _ := f.router.Weights(ctx)
	assert.Equal(t, migration.AllBlue, w)
}

// A router that applies another split than blue is an error: no
// transition, no split recorded, no notification.
func TestExecutorRouterMisapplies(t *testing.T) {
	f := newExecutorFixture(migration.PhaseCuttingOver)
	f.router.misapply = &migration.Split{Blue: 50, Green: 50}
	_, err := f.x.Rollback(context.Background(), rollback.Request{Reason: "5xx"})
	require.ErrorContains(t, err, "the router applied blue 50 / green 50, not blue 100 / green 0")
	assert.Equal(t, migration.PhaseCuttingOver, f.store.current())
	assert.Empty(t, f.store.splits)
	assert.Empty(t, f.notifier.sent)
}
