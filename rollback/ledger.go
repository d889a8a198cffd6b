package rollback

import (
	"fmt"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/migration"
)

// The history entry types rollback writes to the decision ledger.
const (
	// EntryDecision is one evaluation of the policy.
	EntryDecision = "decision"
	// EntryShift is a traffic shift of the cutover.
	EntryShift = "shift"
	// EntryGate is a gate check that failed.
	EntryGate = "gate"
	// EntryRollback is a rollback: who, why, the change ID.
	EntryRollback = "rollback"
	// EntryDuplicate is a rollback trigger that found the work done.
	EntryDuplicate = "rollback-duplicate"
	// EntryAlarm is an alarm delivery the Lambda handled.
	EntryAlarm = "alarm"
	// EntryOperator is an operator action (pause, resume, abort).
	EntryOperator = "operator"
	// EntryComplete is the end of a cutover.
	EntryComplete = "complete"
)

// DecisionDetails flattens a decision for the ledger: the verdict and
// reason, the reverse lag against the budget, and for every rule its
// query, status, threshold, how many of how many, and the raw values
// (newest first, "-" for a missing period). It is what `status` shows to
// answer "why did it roll back?".
func DecisionDetails(policy Policy, d Decision) map[string]string {
	out := map[string]string{
		"verdict": string(d.Verdict),
		"reason":  d.Reason,
		"at":      d.At.UTC().Format(time.RFC3339),
		"budget":  d.DataLossBudget.String(),
	}
	if d.ReverseLagKnown {
		out["reverseLag"] = d.ReverseLag.String()
	} else {
		out["reverseLag"] = "unknown"
	}
	if d.ReverseStatus != "" {
		out["reverseStatus"] = d.ReverseStatus
	}
	if d.PolicyError != "" {
		out["policyError"] = d.PolicyError
	}
	queries := map[string]string{}
	for _, r := range policy.Rules {
		queries[r.Name] = r.describeQuery()
	}
	for _, r := range d.Rules {
		k := "rule." + r.Rule
		status := string(r.Status)
		if r.DryRun {
			status += " (dry run)"
		}
		out[k] = status + ": " + r.Why
		out[k+".query"] = queries[r.Rule]
		out[k+".threshold"] = r.Comparator.Symbol() + " " + formatFloat(r.Threshold)
		out[k+".count"] = fmt.Sprintf("%d of %d breaching, %d missing (alarm at %d of %d)", r.Breaching, r.Evaluated, r.Missing, r.DatapointsToAlarm, r.EvaluationPeriods)
		var vals []string
		for _, s := range r.Slots {
			v := "-"
			if s.Present {
				v = formatFloat(s.Value)
			} else if s.LowSamples {
				v = "low:" + formatFloat(s.Value)
			}
			vals = append(vals, s.Time.UTC().Format("15:04:05")+"="+v)
		}
		out[k+".values"] = strings.Join(vals, " ")
	}
	return out
}

// merge returns a copy of a with b's entries added.
func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// entry builds a history entry at the env's time.
func entry(env migration.Env, typ, actor, summary string, details map[string]string) migration.HistoryEntry {
	return migration.HistoryEntry{Time: env.Now(), Type: typ, Actor: actor, Summary: summary, Details: details}
}
