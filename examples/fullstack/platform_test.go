package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// newPlatform returns the default spec's runbook and env on a fresh
// simulated cloud.
func newPlatform(t *testing.T) (*migration.Runbook, migration.Env, *fakecloud.Cloud) {
	t.Helper()
	spec, err := loadSpec("")
	require.NoError(t, err)
	require.NoError(t, spec.Validate())
	cloud := fakecloud.New()
	c := simClients(cloud)
	rb, err := runbook(spec, c, migration.Options{})
	require.NoError(t, err)
	env := spec.env(c.account)
	env.Clock = c.clock
	return rb, env, cloud
}

func withReport(env migration.Env) (migration.Env, *migration.Report) {
	r := &migration.Report{}
	env.Reporter = r
	return env, r
}

func TestPlanApplyApplyAgain(t *testing.T) {
	ctx := context.Background()
	rb, env, cloud := newPlatform(t)

	// plan on an empty cloud lists the creates and writes nothing.
	penv, plan := withReport(env)
	require.NoError(t, rb.Plan(ctx, penv))
	assert.Empty(t, cloud.Writes(), "plan must not write")
	counts := plan.Counts()
	assert.Equal(t, len(plan.Changes()), counts[migration.ActionCreate], "everything is a create on an empty cloud")
	assert.Positive(t, counts[migration.ActionCreate])

	aenv, applied := withReport(env)
	require.NoError(t, rb.Apply(ctx, aenv))
	assert.Equal(t, plan.Counts(), applied.Counts(), "apply does what plan said")
	assert.Positive(t, len(cloud.Writes()))

	// The second apply reports only noop and makes zero write calls.
	cloud.ResetCalls()
	aenv, again := withReport(env)
	require.NoError(t, rb.Apply(ctx, aenv))
	for _, c := range again.Changes() {
		assert.Equal(t, migration.ActionNoop, c.Action, "%s", c)
	}
	assert.Empty(t, cloud.Writes(), "a converged apply makes no write call")
	assert.Positive(t, len(cloud.Calls()), "it reads")
}

// TestCrashAtEveryWrite crashes apply at every write in turn, both before
// the write takes effect and after it with the response lost, restarts,
// applies again and checks that nothing was duplicated or left behind.
func TestCrashAtEveryWrite(t *testing.T) {
	ctx := context.Background()
	rb, env, cloud := newPlatform(t)
	require.NoError(t, rb.Apply(ctx, env))
	writes := len(cloud.Writes())
	require.Positive(t, writes)

	for k := 1; k <= writes; k++ {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("write %d crash after=%v", k, after), func(t *testing.T) {
				rb, env, cloud := newPlatform(t)
				cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k, CrashAfter: after})
				err := rb.Apply(ctx, env)
				require.Error(t, err)
				require.True(t, errors.Is(err, fakecloud.ErrCrash), "the apply died of the crash: %v", err)
				require.True(t, cloud.Crashed())

				cloud.Restart()
				require.NoError(t, rb.Apply(ctx, env), "the re-run converges")

				assert.Len(t, cloud.EC2().Vpcs(), 1, "exactly one VPC")
				assert.Len(t, cloud.KMS().LiveKeys(), 1, "exactly one key")

				cloud.ResetCalls()
				require.NoError(t, rb.Apply(ctx, env))
				assert.Empty(t, cloud.Writes(), "and it is converged")
			})
		}
	}
}

func TestDestroyLeavesNothingOwned(t *testing.T) {
	ctx := context.Background()
	rb, env, cloud := newPlatform(t)
	require.NoError(t, rb.Apply(ctx, env))
	require.NoError(t, rb.Destroy(ctx, env))
	assert.Empty(t, cloud.EC2().Vpcs())
	assert.Empty(t, cloud.KMS().LiveKeys())
	// Destroying again is a no-op.
	cloud.ResetCalls()
	require.NoError(t, rb.Destroy(ctx, env))
	assert.Empty(t, cloud.Writes())
}
