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
	// and returns once Route 53 reports the change INSYNC, with the split
	// applied and its change ID.
	Shift(ctx context.Context, to migration.Split) (migration.Shifted, error)
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
// keeps the writes made on AWS when traffic moves back.
type ReverseReplication interface {
	// ReverseLag returns the reverse task's status and latency.
	ReverseLag(ctx context.Context) (migration.ReplicationLag, error)
	// EnsureReverse makes sure that, once the database has switched, the
	// reverse task runs — resuming from its checkpoint, so no write made
	// on AWS is lost. Before the switch (the forward task running, the
	// on-premises database the writer) there is nothing to carry back and
	// it does nothing: a rollback never switches the database. Idempotent:
	// the executor calls it on every rollback.
	EnsureReverse(ctx context.Context) error
}

// Replication is the DMS replication the controller gates on: the forward
// task (on-premises → AWS) and the reverse one.
type Replication interface {
	ReverseReplication
	// ForwardLag returns the forward task's status and latency.
	ForwardLag(ctx context.Context) (migration.ReplicationLag, error)
	// SwitchDatabase makes the AWS database the writer: it freezes
	// application writes on the source, waits for the forward task to
	// carry every one of them over, stops it and starts the reverse task,
	// so there is one writer and changes flow one way at a time (an
	// implementation over DMS: dms.SwitchToReverse). The controller calls
	// it only once every other gate passes. Idempotent: a switched
	// database is left alone.
	SwitchDatabase(ctx context.Context) error
}
