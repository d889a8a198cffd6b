package rollback

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cutoverkit/cutover/migration"
)

// ErrNothingToRollBack is returned by Executor.Rollback in a phase that
// has no traffic on green to move back (before the cutover started).
var ErrNothingToRollBack = errors.New("nothing to roll back")

// Outcome is what a rollback request came to.
type Outcome string

// The outcomes of Executor.Rollback.
const (
	// OutcomeRolledBack: this request moved traffic to blue and made the
	// phase transition.
	OutcomeRolledBack Outcome = "rolled-back"
	// OutcomeAlreadyRolledBack: another request (a duplicate delivery,
	// the Lambda racing an operator) rolled back first; this one only
	// made sure the end state holds, and sent no notification.
	OutcomeAlreadyRolledBack Outcome = "already-rolled-back"
	// OutcomeStale: the phase moved on (another epoch) since the trigger
	// was raised; nothing was done. Re-evaluate and decide again.
	OutcomeStale Outcome = "stale"
)

// Request is one rollback trigger.
type Request struct {
	// Reason says why, in one line; it goes to the phase transition, the
	// ledger and the notification.
	Reason string
	// Actor says who or what acts: "operator alice", "lambda",
	// "controller".
	Actor string
	// Epoch is the phase version the trigger was raised at (see
	// Store.PhaseVersion); 0 accepts the current one. A request whose
	// epoch is not the current version is stale, unless the phase is
	// already rolled back.
	Epoch int64
	// Decision is the policy decision behind the request, if any; its
	// details go to the ledger.
	Decision *Decision
	// Policy is the policy that made Decision (for the ledger's query
	// descriptions).
	Policy Policy
	// Trigger holds what raised the request (alarm name, state time,
	// delivery channel), for the ledger.
	Trigger map[string]string
}

// Result is what Executor.Rollback did.
type Result struct {
	Outcome  Outcome
	From     migration.Phase
	ChangeID string
	// Message is one line for the operator.
	Message string
}

// Executor moves traffic back to blue. It is safe to run any number of
// times, from any number of places at once (the Lambda on every alarm
// delivery, the controller, an operator): exactly one request makes the
// transition and sends the notification.
type Executor struct {
	Env      migration.Env
	Router   Router
	Store    Store
	Notifier Notifier
	Reverse  ReverseReplication
}

// Rollback rolls the cutover back:
//
//  1. It reads the phase and its version. A request of another epoch is
//     stale (nothing done) unless the phase is rolled-back; a phase other
//     than cutting-over or complete is ErrNothingToRollBack.
//  2. It sets every record to blue (migration.AllBlue) in one change
//     batch, retrying Route 53's PriorRequestNotComplete on the env
//     clock, and records the split with its change ID.
//  3. Once the database has switched, it makes sure the reverse CDC task
//     runs (ReverseReplication.EnsureReverse), so the on-premises copy
//     keeps every write made on AWS; before the switch there is nothing
//     to carry back and the database is left as it is.
//  4. It makes the phase transition to rolled-back, conditional on the
//     phase it read. Losing that race (ErrConflict, or the phase already
//     rolled back) means another request won: the outcome is
//     OutcomeAlreadyRolledBack, with no error and no notification.
//  5. The winner records the rollback in the ledger (reason, actor,
//     change ID, the decision's queries and values) and sends one
//     critical notification.
//
// An already rolled-back env is converged instead (weights to blue if
// they drifted, reverse task started) and reported as
// OutcomeAlreadyRolledBack. A reverse task that cannot be started does
// not stop the rollback — traffic still moves to blue — but is reported
// in the notification and returned as an error after the transition.
func (x *Executor) Rollback(ctx context.Context, req Request) (Result, error) {
	if x.Router == nil || x.Store == nil || x.Notifier == nil || x.Reverse == nil {
		return Result{}, errors.New("rollback: executor needs a Router, a Store, a Notifier and the reverse replication")
	}
	if req.Actor == "" {
		req.Actor = "unknown"
	}
	phase, version, err := x.Store.PhaseVersion(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("rollback: read phase: %w", err)
	}
	if phase == migration.PhaseRolledBack {
		return x.already(ctx, req, version)
	}
	if req.Epoch != 0 && req.Epoch != version {
		msg := fmt.Sprintf("trigger raised at phase version %d, now %d (%s): stale, nothing done", req.Epoch, version, phase)
		if err := x.Store.Record(ctx, entry(x.Env, EntryDuplicate, req.Actor, msg, merge(req.Trigger, map[string]string{"reason": req.Reason}))); err != nil {
			return Result{}, fmt.Errorf("rollback: record: %w", err)
		}
		return Result{Outcome: OutcomeStale, From: phase, Message: msg}, nil
	}
	if phase != migration.PhaseCuttingOver && phase != migration.PhaseComplete {
		return Result{From: phase}, fmt.Errorf("rollback: phase is %s: %w (traffic has not moved)", phase, ErrNothingToRollBack)
	}

	changeID, err := x.toBlue(ctx)
	if err != nil {
		return Result{From: phase}, fmt.Errorf("rollback: shift to blue: %w", err)
	}
	revErr := x.Reverse.EnsureReverse(ctx)
	if err := x.Store.Transition(ctx, phase, migration.PhaseRolledBack, req.Reason); err != nil {
		if !errors.Is(err, migration.ErrConflict) && !errors.Is(err, migration.ErrIllegalTransition) {
			return Result{From: phase, ChangeID: changeID}, fmt.Errorf("rollback: transition %s → %s: %w", phase, migration.PhaseRolledBack, err)
		}
		now, _, rerr := x.Store.PhaseVersion(ctx)
		if rerr != nil {
			return Result{From: phase, ChangeID: changeID}, fmt.Errorf("rollback: re-read phase after losing the transition: %w", rerr)
		}
		if now != migration.PhaseRolledBack {
			return Result{From: phase, ChangeID: changeID}, fmt.Errorf("rollback: transition lost to a move to %s: %w", now, err)
		}
		return x.already(ctx, req, 0)
	}

	details := map[string]string{"from": string(phase), "changeId": changeID, "epoch": strconv.FormatInt(version, 10)}
	if req.Decision != nil {
		details = merge(DecisionDetails(req.Policy, *req.Decision), details)
	}
	details = merge(req.Trigger, details)
	if revErr != nil {
		details["reverseStartError"] = revErr.Error()
	}
	msg := fmt.Sprintf("rolled back from %s to blue by %s: %s (Route 53 change %s)", phase, req.Actor, req.Reason, changeID)
	var errs []error
	if err := x.Store.Record(ctx, entry(x.Env, EntryRollback, req.Actor, req.Reason, details)); err != nil {
		errs = append(errs, fmt.Errorf("record: %w", err))
	}
	n := migration.Notification{
		Env: x.Env.Suffix, Severity: migration.SeverityCritical, Subject: "Cutover rolled back to blue",
		From: phase, To: migration.PhaseRolledBack, Reason: req.Reason, Time: x.Env.Now(),
		Details: map[string]string{"actor": req.Actor, "changeId": changeID},
	}
	if revErr != nil {
		n.Details["reverseReplication"] = "NOT STARTED: " + revErr.Error() + " — writes made on green since the cutover must be reconciled by hand"
	}
	if err := x.Notifier.Notify(ctx, n); err != nil {
		errs = append(errs, fmt.Errorf("notify: %w", err))
	}
	if revErr != nil {
		errs = append(errs, fmt.Errorf("start reverse replication: %w", revErr))
	}
	res := Result{Outcome: OutcomeRolledBack, From: phase, ChangeID: changeID, Message: msg}
	if len(errs) > 0 {
		return res, fmt.Errorf("rollback: traffic is on blue and the phase is rolled-back, but: %w", errors.Join(errs...))
	}
	return res, nil
}

// toBlue shifts every record to blue (migration.ShiftTo: retrying a busy
// zone, refusing a misapplied split) and records it.
func (x *Executor) toBlue(ctx context.Context) (string, error) {
	applied, err := migration.ShiftTo(ctx, x.Env, x.Router, migration.AllBlue)
	changeID := applied.ChangeID
	if err != nil {
		return changeID, err
	}
	if err := x.Store.RecordSplit(ctx, applied.Split, changeID); err != nil {
		return changeID, fmt.Errorf("record split: %w", err)
	}
	return changeID, nil
}

// already converges an env that is rolled back: weights to blue if they
// drifted and the reverse task running. It records the duplicate and
// sends no notification.
func (x *Executor) already(ctx context.Context, req Request, version int64) (Result, error) {
	res := Result{Outcome: OutcomeAlreadyRolledBack, From: migration.PhaseRolledBack, Message: "already rolled back; nothing to do"}
	w, err := x.Router.Weights(ctx)
	if err != nil {
		return res, fmt.Errorf("rollback: read weights: %w", err)
	}
	if w != migration.AllBlue {
		if res.ChangeID, err = x.toBlue(ctx); err != nil {
			return res, fmt.Errorf("rollback: phase is rolled-back but weights were %s; shift to blue: %w", w, err)
		}
		res.Message = fmt.Sprintf("already rolled back; weights had drifted to %s and were set to blue (change %s)", w, res.ChangeID)
	}
	if err := x.Reverse.EnsureReverse(ctx); err != nil {
		return res, fmt.Errorf("rollback: start reverse replication: %w", err)
	}
	details := merge(req.Trigger, map[string]string{"reason": req.Reason})
	if version != 0 {
		details["epoch"] = strconv.FormatInt(version, 10)
	}
	if err := x.Store.Record(ctx, entry(x.Env, EntryDuplicate, req.Actor, res.Message, details)); err != nil {
		return res, fmt.Errorf("rollback: record: %w", err)
	}
	return res, nil
}
