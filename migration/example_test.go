package migration_test

import (
	"context"
	"fmt"
	"os"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// The env names and tags every resource.
func ExampleEnv() {
	env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012", UserTags: map[string]string{"CostCenter": "platform"}}
	fmt.Println(env.Validate())
	fmt.Println(env.Name("dms-instance"))
	fmt.Println(env.LogGroup("vpc-flow-logs"))
	tags := env.Tags()
	fmt.Println(tags["cutover:env"], tags["ManagedBy"], tags["CostCenter"])
	// Output:
	// <nil>
	// dms-instance-dev
	// /cutover/dev/vpc-flow-logs
	// dev cutover platform
}

// A runbook plans, applies and destroys a graph of Ensure steps; here the
// env's KMS key on a simulated cloud.
func ExampleRunbook() {
	ctx := context.Background()
	cloud := fakecloud.New()
	report := &migration.Report{}
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}

	rb, err := migration.NewRunbook(migration.Options{}, migration.Step{
		Name: "kms-key",
		Apply: func(ctx context.Context, env migration.Env) error {
			_, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
			return err
		},
		Delete: func(ctx context.Context, env migration.Env) error {
			return migration.DeleteKey(ctx, env, cloud.KMS(), migration.KeySpec{})
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = rb.Plan(ctx, env)
	_ = report.WriteTable(os.Stdout)

	_ = rb.Apply(ctx, env)
	again := &migration.Report{}
	env.Reporter = again
	_ = rb.Apply(ctx, env)
	fmt.Println(again.Summary())
	// Output:
	// ACTION  KIND     NAME                 ID     DETAIL
	// create  kms-key  alias/migration-dev  (new)
	// Plan: 1 to create, 0 to update, 0 to delete, 0 unchanged.
	// 0 to create, 0 to update, 0 to delete, 1 unchanged.
}
