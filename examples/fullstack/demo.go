package main

import (
	"context"
	"fmt"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// cmdDemo runs the story on a fresh simulated cloud: plan, apply, apply
// again (nothing to do), destroy (nothing owned left).
func cmdDemo(ctx context.Context, a *app) error {
	if err := a.load(); err != nil {
		return err
	}
	cloud := fakecloud.New(fakecloud.WithClock(fakecloud.NewScaledClock(fakecloud.Epoch, simScale)), fakecloud.WithRegion(a.spec.Env.Region))
	a.clients = simClients(cloud)
	return demo(ctx, a, cloud)
}

func demo(ctx context.Context, a *app, cloud *fakecloud.Cloud) error {
	say := func(format string, args ...any) { fmt.Fprintf(a.stdout, "\n== "+format+"\n", args...) }

	say("plan: what apply would do on an empty account (reads only)")
	cloud.ResetCalls()
	if err := plan(ctx, a, &migration.Report{}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "(%d API calls, %d writes)\n", len(cloud.Calls()), len(cloud.Writes()))

	say("apply: provision the landing zone")
	if err := apply(ctx, a, &migration.Report{}); err != nil {
		return err
	}

	say("apply again: everything converged, nothing to do")
	cloud.ResetCalls()
	again := &migration.Report{}
	if err := apply(ctx, a, again); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "(%d API calls, %d writes)\n", len(cloud.Calls()), len(cloud.Writes()))
	if again.HasChanges() || len(cloud.Writes()) > 0 {
		return fmt.Errorf("second apply was not a no-op: %s, %d writes", again.Summary(), len(cloud.Writes()))
	}

	say("destroy: delete everything the env owns")
	if err := destroy(ctx, a, &migration.Report{}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nleft in the simulated cloud: %d VPCs, %d live KMS keys\n", len(cloud.EC2().Vpcs()), len(cloud.KMS().LiveKeys()))
	return nil
}
