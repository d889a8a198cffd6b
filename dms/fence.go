package dms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/cutoverkit/cutover/migration"
)

// Fence is the source side of the database switch: it stops the
// applications' writes to the forward task's source database and tells
// when the forward task has carried every write made before that over to
// the target. Without it, stopping the forward task strands the writes it
// had not yet applied, and any made after — the data loss a cutover must
// never cause.
//
// PostgresFence implements it for PostgreSQL over a direct connection;
// tests and the simulated cloud use fakes.
type Fence interface {
	// Freeze stops application writes to the source database and returns
	// a position in its change stream (for PostgreSQL a WAL location such
	// as "0/16B3748") that every write made before the freeze precedes. The
	// replication user keeps writing (DMS's heartbeat and, after the
	// switch, the reverse task). Idempotent: freezing a frozen database
	// returns the current position.
	Freeze(ctx context.Context) (position string, err error)
	// Frozen reports whether application writes are frozen.
	Frozen(ctx context.Context) (bool, error)
	// Confirmed reports whether the forward task has confirmed — applied
	// to the target and acknowledged to the source — every change up to
	// position.
	Confirmed(ctx context.Context, position string) (bool, error)
	// Thaw lets the applications write to the source again. It undoes an
	// abandoned switch; after a completed one the source stays frozen,
	// written only by the reverse task. Idempotent.
	Thaw(ctx context.Context) error
}

// DrainTimeout bounds how long SwitchToReverse waits, with writes frozen,
// for the forward task to confirm them. The forward task confirms at the
// latest with its next heartbeat (Stack sets one a minute), so the wait
// is normally the CDC latency; past the timeout the switch is abandoned
// and the source thawed.
const DrainTimeout = 5 * time.Minute

// drainInterval is how often SwitchToReverse asks the fence whether the
// forward task has confirmed the frozen writes.
const drainInterval = 5 * time.Second

// ErrForwardStoppedUnfenced is returned by SwitchToReverse when the
// forward task is stopped but the source is not frozen: someone stopped
// it outside a switch, and the writes made since are on-premises only.
var ErrForwardStoppedUnfenced = errors.New("the forward task is stopped but the source database is not frozen: writes made since it stopped were never replicated; resume it (Start) and switch again")

// SwitchToReverse is the cutover's database switch, the moment the AWS
// database becomes the writer:
//
//  1. the fence freezes application writes to the source (on-premises);
//  2. it waits, on the Env clock and for at most DrainTimeout, until the
//     forward task has confirmed every write made before the freeze;
//  3. it stops the forward task;
//  4. it starts the reverse task fresh (start-replication: capture from
//     now) and waits until it runs, so every write on AWS from then on
//     flows back and a rollback loses none.
//
// No write is lost in between: before the freeze the forward task carries
// writes over, after it there are none on the source until the reverse
// task applies AWS's. Fresh matters on a second cutover after a rollback:
// the target's WAL from before holds changes the forward task applied,
// which must not flow back. The applications must write to the AWS
// database from step 4 on (the example flips the database's DNS record).
//
// When the forward task does not confirm in time the source is thawed
// and nothing is switched: the error says so and the switch can be
// retried. Idempotent and safe after a crash at any point: a running
// reverse task with a stopped forward task is left alone; a stopped
// forward task with a frozen source (a crash between steps 3 and 4) goes
// on with step 4; a stopped forward task with a source that is not frozen
// is refused with ErrForwardStoppedUnfenced. A dry run calls nothing.
func SwitchToReverse(ctx context.Context, env migration.Env, api TaskRunner, fence Fence, forwardARN, reverseARN string) error {
	if err := switchToReverse(ctx, env, api, fence, forwardARN, reverseARN); err != nil {
		return fmt.Errorf("switch to reverse: %w", err)
	}
	return nil
}

func switchToReverse(ctx context.Context, env migration.Env, api TaskRunner, fence Fence, forwardARN, reverseARN string) error {
	if fence == nil {
		return errors.New("a write fence on the source database is required: without one, stopping the forward task strands the writes it has not applied")
	}
	if env.DryRun || migration.AnyPending(forwardARN, reverseARN) {
		return nil
	}
	fwd, err := settleTask(ctx, env, api, forwardARN)
	if err != nil {
		return fmt.Errorf("forward task: %w", err)
	}
	rev, err := settleTask(ctx, env, api, reverseARN)
	if err != nil {
		return fmt.Errorf("reverse task: %w", err)
	}
	switch {
	case fwd == "running":
		if err := drain(ctx, env, fence); err != nil {
			return err
		}
		if err := Stop(ctx, env, api, forwardARN); err != nil {
			return fmt.Errorf("stop forward: %w", err)
		}
	case rev == "running":
		return nil // switched already
	default:
		t, err := describeTask(ctx, api, forwardARN)
		if err != nil {
			return fmt.Errorf("forward task: %w", err)
		}
		if t.ReplicationTaskStartDate == nil {
			return fmt.Errorf("the forward task %s never ran: there is nothing on the target to switch to", forwardARN)
		}
		frozen, err := fence.Frozen(ctx)
		if err != nil {
			return fmt.Errorf("fence: %w", err)
		}
		if !frozen {
			return fmt.Errorf("forward task %s is %s: %w", forwardARN, aws.ToString(t.Status), ErrForwardStoppedUnfenced)
		}
	}
	if err := start(ctx, env, api, reverseARN, dmstypes.StartReplicationTaskTypeValueStartReplication); err != nil {
		return fmt.Errorf("start reverse: %w", err)
	}
	env.Log().Info("database switched: the AWS database is the writer", "forward", forwardARN, "reverse", reverseARN)
	return nil
}

// drain freezes the source and waits until the forward task has confirmed
// every write made before the freeze; when it does not, it thaws the
// source again.
func drain(ctx context.Context, env migration.Env, fence Fence) error {
	pos, err := fence.Freeze(ctx)
	if err != nil {
		return errors.Join(fmt.Errorf("freeze the source: %w", err), thaw(ctx, fence))
	}
	env.Log().Info("source writes frozen; waiting for the forward task to confirm them", "position", pos)
	err = env.Poll(ctx, "the forward task to confirm the source's writes up to "+pos, drainInterval, DrainTimeout,
		func(ctx context.Context) (string, bool, error) {
			ok, err := fence.Confirmed(ctx, pos)
			return "not confirmed", ok, err
		})
	if err != nil {
		return errors.Join(fmt.Errorf("%w; the switch is abandoned and the source thawed", err), thaw(ctx, fence))
	}
	return nil
}

// thaw undoes a freeze on an abandoned switch, on a context of its own so
// a cancelled switch still thaws.
func thaw(ctx context.Context, fence Fence) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := fence.Thaw(ctx); err != nil {
		return fmt.Errorf("thaw the source (it stays frozen; thaw it by hand): %w", err)
	}
	return nil
}
