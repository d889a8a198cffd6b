package migration

import (
	"context"
	"fmt"
)

// Shifter moves traffic to a split and reports what took effect: a
// dns.Router, or any router of the same contract.
type Shifter interface {
	Shift(ctx context.Context, to Split) (Shifted, error)
}

// ShiftTo shifts r to the split to and returns what took effect. Route
// 53's PriorRequestNotComplete (another change of the zone still
// propagating) is retried on the env clock (Env.Retry) after the SDK's own
// retries give up, since a rollback or a cutover step must not fail on a
// busy zone. A router that reports a split other than to is an error
// naming both and the change, so no caller records a split that did not
// happen.
func ShiftTo(ctx context.Context, env Env, r Shifter, to Split) (Shifted, error) {
	var applied Shifted
	err := env.Retry(ctx, []string{"PriorRequestNotComplete"}, func(ctx context.Context) error {
		var err error
		applied, err = r.Shift(ctx, to)
		return err
	})
	if err != nil {
		return applied, err
	}
	if applied.Split != to {
		return applied, fmt.Errorf("the router applied %s, not %s (change %s)", applied.Split, to, applied.ChangeID)
	}
	return applied, nil
}
