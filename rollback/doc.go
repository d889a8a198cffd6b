// Package rollback decides and carries out the rollback of a cutover.
//
// It has five parts, built so that every one of them agrees on what a
// breach is:
//
//   - The policy engine (Evaluate) is pure Go: a Policy is a list of Rules
//     (a CloudWatch metric or metric-math query, a comparator and
//     threshold, M of N datapoints, how missing data counts, a minimum
//     sample count, a provider-error limit, a dry-run flag) and a
//     data-loss budget. A Decision is Continue, Hold, Rollback or Freeze;
//     its exact semantics are in Evaluate's documentation. DefaultPolicy
//     is the rule set of the reference migration.
//   - Alarms (EnsureAlarm, EnsureCompositeAlarm, EnsurePolicyAlarms) are
//     generated from the same rules, so CloudWatch alarms on exactly what
//     the engine evaluates; the composite alarm invokes the rollback
//     Lambda directly.
//   - The metric source (Source) reads every rule's data in as few
//     GetMetricData calls as the 500-query limit allows.
//   - The Controller runs a cutover: weight steps with a bake each,
//     data-safety gates before each step, the policy evaluated every
//     period once the DNS answer has converged; Pause, Resume, Abort. The
//     Executor rolls back: weights to blue in one change batch, the
//     reverse CDC task started, the phase moved to rolled-back, one
//     notification — idempotent under duplicate and concurrent triggers.
//   - The Lambda (Handler, EnsureFunction, BuildZip) re-evaluates the
//     policy on every alarm and calls the executor.
//
// Every evaluation and action goes to the decision ledger (the tracking
// store's history) with its queries, raw values, thresholds, verdict,
// actor and Route 53 change ID, so "why did it roll back?" has an answer.
//
// The package does not import its siblings: it declares the narrow
// interfaces it needs (Router, Store, ControllerStore, Notifier,
// Replication) and the example program wires dns, tracking and dms in.
// All waiting is on the env clock.
package rollback
