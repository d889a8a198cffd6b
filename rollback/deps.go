package rollback

import (
	"context"

	"github.com/cutoverkit/cutover/migration"
)

// The interfaces below are what rollback needs from its sibling packages
// (dns, tracking, dms). rollback imports none of them: the example program
// wires their implementations in.

// Router moves traffic between blue and green (dns.Router implements it).
type Router interface {
	// Shift sets the weights of every record to to in one change batch
	// and returns once Route 53 reports the change INSYNC, with its change
	// ID.
	Shift(ctx context.Context, to migration.Split) (changeID string, err error)
	// Weights returns the current split.
	Weights(ctx context.Context) (migration.Split, error)
}

// Store is the part of the tracking store the executor and the Lambda
// use.
type Store interface {
	// PhaseVersion returns the current phase and its version, which every
	// transition increments: the epoch that deduplicates triggers.
	PhaseVersion(ctx context.Context) (migration.Phase, int64, error)
	// Transition moves the phase from → to with a conditional write. It
	// wraps migration.ErrIllegalTransition or migration.ErrConflict, and
	// writes nothing, when it does not happen.
	Transition(ctx context.Context, from, to migration.Phase, reason string) error
	// Record appends an entry to the migration's history: the decision
	// ledger.
	Record(ctx context.Context, e migration.HistoryEntry) error
	// RecordSplit records the split now in effect and the Route 53 change
	// that made it.
	RecordSplit(ctx context.Context, s migration.Split, changeID string) error
}

// ControllerStore is the part of the tracking store the cutover
// controller uses: the Store, validation results and the lease.
type ControllerStore interface {
	Store
	// LastValidation returns the latest result of the named validation,
	// and false when it never ran.
	LastValidation(ctx context.Context, name string) (migration.ValidationResult, bool, error)
	// Lock takes the env's lease for owner; unlock releases it.
	migration.Locker
	// Renew extends owner's lease, or fails when owner no longer holds it.
	Renew(ctx context.Context, owner string) error
}

// Notifier sends notifications to the operators (tracking.Notifier).
type Notifier interface {
	Notify(ctx context.Context, n migration.Notification) error
}

// ReverseReplication is the reverse CDC task (AWS → on-premises): what
// keeps the writes made on green when traffic moves back.
type ReverseReplication interface {
	// ReverseLag returns the reverse task's status and latency.
	ReverseLag(ctx context.Context) (migration.ReplicationLag, error)
	// StartReverse starts the reverse task if it is not running; it is a
	// no-op when it runs. Started while the forward task runs, it is the
	// database switch: an implementation over DMS stops the forward task
	// (the controller calls it only once the forward lag is within
	// bound) and starts the reverse one, so there is one writer and the
	// changes flow one way at a time.
	StartReverse(ctx context.Context) error
}

// Replication is the DMS replication the controller gates on: the forward
// task (on-premises → AWS) and the reverse one.
type Replication interface {
	ReverseReplication
	// ForwardLag returns the forward task's status and latency.
	ForwardLag(ctx context.Context) (migration.ReplicationLag, error)
}
