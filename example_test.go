package cutover_test

import (
	"context"
	"fmt"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// The Ensure contract on a simulated cloud: a plan reads only and gives
// what it would create pending IDs, an apply creates, and the apply after
// it converges with no write.
func Example() {
	ctx := context.Background()
	cloud := fakecloud.New()
	run := func(dryRun bool) (*migration.Report, int) {
		report := &migration.Report{}
		env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report, DryRun: dryRun}
		before := len(cloud.Writes())
		key, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
		if err != nil {
			fmt.Println(err)
		}
		vpc, err := network.EnsureVPC(ctx, env, cloud.EC2(), network.VPCSpec{CIDR: "10.0.0.0/16"})
		if err != nil {
			fmt.Println(err)
		}
		if dryRun {
			fmt.Println("pending:", migration.IsPending(key.ARN), migration.IsPending(vpc.ID))
		}
		return report, len(cloud.Writes()) - before
	}
	for _, step := range []struct {
		name   string
		dryRun bool
	}{{"plan", true}, {"apply", false}, {"apply again", false}} {
		report, writes := run(step.dryRun)
		fmt.Printf("%s: %s (%d writes)\n", step.name, report.Summary(), writes)
	}
	// Output:
	// pending: true true
	// plan: 2 to create, 0 to update, 0 to delete, 0 unchanged. (0 writes)
	// apply: 2 to create, 0 to update, 0 to delete, 0 unchanged. (6 writes)
	// apply again: 0 to create, 0 to update, 0 to delete, 2 unchanged. (0 writes)
}
