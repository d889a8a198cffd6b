package dms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// The whole DMS side: plan on an empty cloud writes nothing, apply
// creates everything, a second plan and apply change nothing, destroy
// removes everything the env owns but the shared service roles and the
// final snapshot, and a second destroy is a no-op.
func TestStepsLifecycle(t *testing.T) {
	f := newFixture(t)
	spec := f.spec()
	require.NoError(t, spec.Validate())
	rb, out := f.stack(spec)

	plan := f.env
	plan.DryRun = true
	require.NoError(t, rb.Plan(f.ctx, plan))
	assert.Empty(t, f.cloud.Writes(), "plan writes nothing")
	n := f.report.Counts()
	assert.Equal(t, 0, n[migration.ActionUpdate]+n[migration.ActionDelete])
	assert.Equal(t, 17, n[migration.ActionCreate], "roles, groups, instances, secret, certs, endpoints, tasks: %v", f.report.Changes())

	f.reset()
	require.NoError(t, rb.Apply(f.ctx, f.env))
	assert.Equal(t, "available", f.cloud.DMS().InstanceStatus("dms-instance-dev"))
	assert.Equal(t, "available", f.cloud.RDS().DBInstanceStatus("rds-target-dev"))
	assert.Equal(t, "ready", f.cloud.DMS().TaskStatus("dms-task-forward-dev"), "EnsureTask never starts a task")
	assert.Equal(t, "ready", f.cloud.DMS().TaskStatus("dms-task-reverse-dev"))
	assert.Len(t, out.Endpoints, 4)
	assert.NotEmpty(t, out.Instance.PrivateIPs, "pg_hba.conf needs the instance's address")
	for _, c := range f.report.Changes() {
		assert.NotEqual(t, migration.ActionUpdate, c.Action, "%v", c)
	}

	// Converged: plan and apply again change nothing and write nothing.
	f.reset()
	require.NoError(t, rb.Plan(f.ctx, plan))
	assert.False(t, f.report.HasChanges(), "plan after apply: %v", f.report.Changes())
	f.reset()
	require.NoError(t, rb.Apply(f.ctx, f.env))
	assert.False(t, f.report.HasChanges(), "apply after apply: %v", f.report.Changes())
	assert.Empty(t, f.cloud.Writes(), "a converged stack makes no write")
	assert.Zero(t, f.calls("Secrets Manager", "GetSecretValue")-1, "only the source secret's shape is read; the target secret converges without reading a value")

	f.reset()
	require.NoError(t, rb.Destroy(f.ctx, f.env))
	res := f.cloud.DMS().Resources()
	for kind, ids := range res {
		assert.Empty(t, ids, "%s left after destroy", kind)
	}
	assert.Empty(t, f.cloud.RDS().DBInstances())
	assert.Len(t, f.cloud.RDS().Snapshots(), 1, "the final snapshot is kept")
	assert.Contains(t, f.cloud.IAM().Roles(), dms.VPCRoleName, "shared roles stay")
	assert.NotContains(t, f.cloud.IAM().Roles(), "dms-secrets-role-dev")
	assert.True(t, f.cloud.SecretsManager().ScheduledForDeletion("dms-target-endpoint-dev"))
	c := change(t, f.report, dms.KindDBInstance, "rds-target-dev")
	assert.Contains(t, c.Note, "final snapshot rds-target-final-dev-")

	f.reset()
	require.NoError(t, rb.Destroy(f.ctx, f.env))
	assert.Empty(t, f.cloud.Writes(), "a second destroy is a no-op")
}
