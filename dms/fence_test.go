package dms_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// recordingFence wraps the fake source's fence: it records the calls and
// can fail Freeze or Thaw.
type recordingFence struct {
	*fakecloud.SourceFence
	mu                 sync.Mutex
	calls              []string
	freezeErr, thawErr error
	cancelOnFirstPoll  context.CancelFunc
}

func (r *recordingFence) record(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, op)
}

func (r *recordingFence) Freeze(ctx context.Context) (string, error) {
	r.record("Freeze")
	if r.freezeErr != nil {
		return "", r.freezeErr
	}
	return r.SourceFence.Freeze(ctx)
}

func (r *recordingFence) Frozen(ctx context.Context) (bool, error) {
	r.record("Frozen")
	return r.SourceFence.Frozen(ctx)
}

func (r *recordingFence) Confirmed(ctx context.Context, pos string) (bool, error) {
	r.record("Confirmed")
	if r.cancelOnFirstPoll != nil {
		r.cancelOnFirstPoll()
	}
	return r.SourceFence.Confirmed(ctx, pos)
}

func (r *recordingFence) Thaw(ctx context.Context) error {
	r.record("Thaw")
	if err := ctx.Err(); err != nil {
		return err // a thaw on the switch's cancelled context would not happen
	}
	if r.thawErr != nil {
		return r.thawErr
	}
	return r.SourceFence.Thaw(ctx)
}

func TestSwitchToReverse(t *testing.T) {
	const fwdName, revName = "dms-task-forward-dev", "dms-task-reverse-dev"
	tests := []struct {
		name string
		// setup runs after the forward task has run an hour (its full
		// load done, CDC a few seconds behind).
		setup      func(f *fixture, out *dms.Outputs, fence *recordingFence)
		dryRun     bool
		nilFence   bool
		cancel     bool
		wantErr    error
		wantErrMsg string
		wantWrites []string
		wantFwd    string
		wantRev    string
		wantFrozen bool
		wantFence  []string // the fence calls, with repeated Confirmed folded
		minWait    time.Duration
	}{
		{name: "caught up: freeze, drain, stop forward, start reverse",
			wantWrites: []string{"StopReplicationTask", "StartReplicationTask"}, wantFwd: "stopped", wantRev: "running", wantFrozen: true,
			wantFence: []string{"Freeze", "Confirmed"}},
		{name: "waits on the Env clock for the frozen writes to be confirmed",
			setup: func(f *fixture, out *dms.Outputs, _ *recordingFence) {
				f.cloud.DMS().SetTaskLatency(out.Forward.ARN, time.Second, 90*time.Second)
			},
			wantWrites: []string{"StopReplicationTask", "StartReplicationTask"}, wantFwd: "stopped", wantRev: "running", wantFrozen: true,
			wantFence: []string{"Freeze", "Confirmed"}, minWait: 90 * time.Second},
		{name: "a forward task too far behind: abandoned, thawed, nothing switched",
			setup: func(f *fixture, out *dms.Outputs, _ *recordingFence) {
				f.cloud.DMS().SetTaskLatency(out.Forward.ARN, time.Second, 10*time.Minute)
			},
			wantErrMsg: "the switch is abandoned and the source thawed", wantFwd: "running", wantRev: "ready",
			wantFence: []string{"Freeze", "Confirmed", "Thaw"}, minWait: dms.DrainTimeout},
		{name: "a thaw that fails says the source stays frozen",
			setup: func(f *fixture, out *dms.Outputs, fence *recordingFence) {
				f.cloud.DMS().SetTaskLatency(out.Forward.ARN, time.Second, 10*time.Minute)
				fence.thawErr = errors.New("connection refused")
			},
			wantErrMsg: "it stays frozen; thaw it by hand", wantFwd: "running", wantRev: "ready", wantFrozen: true,
			wantFence: []string{"Freeze", "Confirmed", "Thaw"}},
		{name: "a failed freeze is undone and switches nothing",
			setup: func(f *fixture, out *dms.Outputs, fence *recordingFence) {
				fence.freezeErr = errors.New("permission denied to alter database")
			},
			wantErrMsg: "freeze the source: permission denied", wantFwd: "running", wantRev: "ready",
			wantFence: []string{"Freeze", "Thaw"}},
		{name: "a cancelled switch still thaws",
			setup: func(f *fixture, out *dms.Outputs, _ *recordingFence) {
				f.cloud.DMS().SetTaskLatency(out.Forward.ARN, time.Second, 10*time.Minute)
			},
			cancel: true, wantErr: context.Canceled, wantFwd: "running", wantRev: "ready",
			wantFence: []string{"Freeze", "Confirmed", "Thaw"}},
		{name: "after a crash between the stop and the start it only starts the reverse task",
			setup: func(f *fixture, out *dms.Outputs, fence *recordingFence) {
				_, err := fence.SourceFence.Freeze(f.ctx)
				require.NoError(t, err)
				require.NoError(t, dms.Stop(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))
			},
			wantWrites: []string{"StartReplicationTask"}, wantFwd: "stopped", wantRev: "running", wantFrozen: true,
			wantFence: []string{"Frozen"}},
		{name: "switched already: nothing to do",
			setup: func(f *fixture, out *dms.Outputs, fence *recordingFence) {
				require.NoError(t, dms.SwitchToReverse(f.ctx, f.env, f.cloud.DMS(), fence.SourceFence, out.Forward.ARN, out.Reverse.ARN))
			},
			wantFwd: "stopped", wantRev: "running", wantFrozen: true},
		{name: "a forward task stopped outside a switch is refused: its later writes never left",
			setup: func(f *fixture, out *dms.Outputs, _ *recordingFence) {
				require.NoError(t, dms.Stop(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))
			},
			wantErr: dms.ErrForwardStoppedUnfenced, wantFwd: "stopped", wantRev: "ready", wantFence: []string{"Frozen"}},
		{name: "without a fence it refuses before any call", nilFence: true,
			wantErrMsg: "a write fence on the source database is required", wantFwd: "running", wantRev: "ready"},
		{name: "dry run changes nothing", dryRun: true, wantFwd: "running", wantRev: "ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			out := f.apply(f.spec())
			require.NoError(t, dms.Start(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))
			f.cloud.Clock().Advance(time.Hour)
			fence := &recordingFence{SourceFence: f.cloud.DMS().SourceFence(out.Forward.ARN)}
			if tt.setup != nil {
				tt.setup(f, out, fence)
			}
			fence.calls = nil
			f.reset()
			env, ctx := f.env, f.ctx
			env.DryRun = tt.dryRun
			if tt.cancel {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				fence.cancelOnFirstPoll = cancel
			}
			var fc dms.Fence = fence
			if tt.nilFence {
				fc = nil
			}
			start := f.cloud.Clock().Now()
			err := dms.SwitchToReverse(ctx, env, f.cloud.DMS(), fc, out.Forward.ARN, out.Reverse.ARN)
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			case tt.wantErrMsg != "":
				require.ErrorContains(t, err, tt.wantErrMsg)
			default:
				require.NoError(t, err)
			}
			if err != nil {
				assert.Contains(t, err.Error(), "switch to reverse: ")
			}
			assert.Equal(t, tt.wantWrites, f.writes())
			assert.Equal(t, tt.wantFwd, f.cloud.DMS().TaskStatus(fwdName))
			assert.Equal(t, tt.wantRev, f.cloud.DMS().TaskStatus(revName))
			assert.Equal(t, tt.wantFrozen, f.cloud.DMS().SourceFrozen(out.Forward.ARN))
			assert.Equal(t, tt.wantFence, fold(fence.calls))
			assert.GreaterOrEqual(t, f.cloud.Clock().Now().Sub(start), tt.minWait)
			if tt.nilFence {
				assert.Empty(t, f.cloud.Calls())
			}
			if err == nil && !tt.dryRun {
				// Idempotent: a second switch writes nothing.
				f.reset()
				require.NoError(t, dms.SwitchToReverse(f.ctx, f.env, f.cloud.DMS(), fence, out.Forward.ARN, out.Reverse.ARN))
				assert.Empty(t, f.cloud.Writes())
			}
		})
	}
}

// fold collapses runs of one call ("Confirmed" polled many times).
func fold(calls []string) []string {
	var out []string
	for _, c := range calls {
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	return out
}
