package dms_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

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

// A spec naming an existing target (Aurora here, its secret made by the
// operator with its own key) creates no RDS resource: the target
// endpoints read the operator's secret, the secrets role may read exactly
// the two secrets and decrypt with exactly their two keys, and destroy
// leaves both secrets alone.
func TestStepsWithExistingTarget(t *testing.T) {
	f := newFixture(t)
	targetKey := f.otherKey()
	target := f.createSecret("aurora/monolith/migrator", targetKey, map[string]any{
		"username": "migrator", "password": "Aur0ra-Target-Pw", "host": "monolith.cluster-abc.us-east-1.rds.amazonaws.com", "port": 5432})
	spec := f.spec()
	spec.Target = dms.TargetSpec{
		Existing:     &dms.ExistingTarget{SecretARN: target, Engine: "aurora-postgresql", Major: 16},
		DatabaseName: "monolith", CACertificatePEM: f.pem2,
	}
	require.NoError(t, spec.Validate())
	rb, out := f.stack(spec)

	f.reset()
	plan := f.env
	plan.DryRun = true
	require.NoError(t, rb.Plan(f.ctx, plan))
	assert.Empty(t, f.cloud.Writes(), "plan writes nothing")
	assert.Equal(t, 13, f.report.Counts()[migration.ActionCreate], "3 roles, group, instance, 2 certs, 4 endpoints, 2 tasks: %v", f.report.Changes())

	f.reset()
	require.NoError(t, rb.Apply(f.ctx, f.env))
	for _, c := range f.cloud.Calls() {
		assert.NotEqual(t, "RDS", c.Service, "no RDS call for an existing target: %s", c.Op)
	}
	assert.Empty(t, f.cloud.RDS().DBInstances())
	assert.Len(t, f.cloud.SecretsManager().Secrets(), 2, "no endpoint copy: the operator's secret has host and port")
	assert.Equal(t, target, out.TargetSecret.ARN)
	for _, name := range []string{"dms-target-dev", "dms-reverse-source-dev"} {
		ep := f.describeEndpoint(name)
		assert.Equal(t, target, aws.ToString(ep.PostgreSQLSettings.SecretsManagerSecretId), name)
		assert.Equal(t, "aurora-postgresql", aws.ToString(ep.EngineName), name)
	}
	for _, name := range []string{"dms-source-dev", "dms-reverse-target-dev"} {
		ep := f.describeEndpoint(name)
		assert.Equal(t, f.source, aws.ToString(ep.PostgreSQLSettings.SecretsManagerSecretId), name)
		assert.Equal(t, "postgres", aws.ToString(ep.EngineName), name)
	}
	var policy struct {
		Statement []struct {
			Action   any
			Resource []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(f.cloud.IAM().RoleInlinePolicies("dms-secrets-role-dev")["read-endpoint-secrets"]), &policy))
	require.Len(t, policy.Statement, 2)
	assert.ElementsMatch(t, []string{f.source, target}, policy.Statement[0].Resource, "exactly the two secrets")
	assert.ElementsMatch(t, []string{f.key, targetKey}, policy.Statement[1].Resource, "exactly their two keys")
	require.NoError(t, dms.TestConnections(f.ctx, f.env, f.cloud.DMS(), *out), "the role reads both secrets through both keys")

	f.reset()
	require.NoError(t, rb.Apply(f.ctx, f.env))
	assert.False(t, f.report.HasChanges(), "%v", f.report.Changes())
	assert.Empty(t, f.cloud.Writes())

	f.reset()
	require.NoError(t, rb.Destroy(f.ctx, f.env))
	for kind, ids := range f.cloud.DMS().Resources() {
		assert.Empty(t, ids, "%s left after destroy", kind)
	}
	assert.Len(t, f.cloud.SecretsManager().Secrets(), 2)
	assert.False(t, f.cloud.SecretsManager().ScheduledForDeletion("aurora/monolith/migrator"), "the operator's target secret is not the env's to delete")
	assert.False(t, f.cloud.SecretsManager().ScheduledForDeletion("onprem/pg13/migrator"))
	for _, c := range f.cloud.Calls() {
		assert.NotEqual(t, "RDS", c.Service, "destroy: no RDS call: %s", c.Op)
	}
}
