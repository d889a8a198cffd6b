package network_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// keyAndVPC is the first vertical slice: the env key and the VPC, as two
// independent runbook steps.
func keyAndVPC(t *testing.T, cloud *fakecloud.Cloud) *migration.Runbook {
	t.Helper()
	rb, err := migration.NewRunbook(migration.Options{},
		migration.Step{Name: "kms-key", Apply: func(ctx context.Context, env migration.Env) error {
			_, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
			return err
		}},
		migration.Step{Name: "vpc", Apply: func(ctx context.Context, env migration.Env) error {
			_, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
			return err
		}},
	)
	require.NoError(t, err)
	return rb
}

// TestCrashAtEveryWrite crashes apply at every write in turn, both before
// the write takes effect and after it with the response lost, restarts,
// applies again, and finds exactly one VPC and one key.
func TestCrashAtEveryWrite(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	require.NoError(t, keyAndVPC(t, cloud).Apply(ctx, env))
	writes := len(cloud.Writes())
	require.Equal(t, 6, writes, "CreateKey, CreateAlias, EnableKeyRotation, CreateVpc, 2 x ModifyVpcAttribute")

	for k := 1; k <= writes; k++ {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("write %d after=%v", k, after), func(t *testing.T) {
				env, cloud, _ := newEnv(t)
				rb := keyAndVPC(t, cloud)
				cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k, CrashAfter: after})
				err := rb.Apply(ctx, env)
				require.True(t, errors.Is(err, fakecloud.ErrCrash), "the apply died of the crash: %v", err)

				cloud.Restart()
				require.NoError(t, rb.Apply(ctx, env), "the re-run converges")
				assert.Len(t, cloud.EC2().Vpcs(), 1, "exactly one VPC")
				assert.Len(t, cloud.KMS().LiveKeys(), 1, "exactly one key")

				cloud.ResetCalls()
				require.NoError(t, rb.Apply(ctx, env))
				assert.Empty(t, cloud.Writes(), "and converged")
			})
		}
	}
}
