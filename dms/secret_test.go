package dms_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// targetDB makes the RDS target and returns the target secret spec.
func (f *fixture) targetDB() (dms.TargetDB, dms.TargetSecretSpec) {
	f.t.Helper()
	db, err := dms.EnsureTargetDB(f.ctx, f.env, f.cloud.RDS(), f.targetSpec(f.rdsDeps()))
	require.NoError(f.t, err)
	return db, dms.TargetSecretSpec{DBInstanceID: db.ID, DatabaseName: "monolith", KMSKeyARN: f.key}
}

func (f *fixture) secretValue(id string) map[string]any {
	f.t.Helper()
	v, ok := f.cloud.SecretsManager().SecretValue(id)
	require.True(f.t, ok)
	var m map[string]any
	require.NoError(f.t, json.Unmarshal([]byte(v), &m))
	return m
}

func TestEnsureTargetSecret(t *testing.T) {
	f := newFixture(t)
	db, spec := f.targetDB()
	sm := f.cloud.SecretsManager()

	// Created from the RDS master secret plus host and port, encrypted
	// with the env key, tagged.
	f.reset()
	s, err := dms.EnsureTargetSecret(f.ctx, f.env, f.cloud.RDS(), sm, spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"CreateSecret"}, f.writes())
	v := f.secretValue(s.ARN)
	master := f.secretValue(db.MasterSecretARN)
	assert.Equal(t, master["password"], v["password"])
	assert.Equal(t, master["username"], v["username"])
	assert.Equal(t, db.Address, v["host"])
	assert.EqualValues(t, 5432, v["port"])
	assert.Equal(t, "monolith", v["dbname"])
	_, hasHost := master["host"]
	assert.False(t, hasHost, "the RDS-managed secret lacks host, as in AWS")
	d, err := sm.DescribeSecret(f.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.ARN)})
	require.NoError(t, err)
	assert.Equal(t, f.key, aws.ToString(d.KmsKeyId))

	// Converged: recognised from version IDs alone — no value is read.
	f.reset()
	_, err = dms.EnsureTargetSecret(f.ctx, f.env, f.cloud.RDS(), sm, spec)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.Zero(t, f.calls("Secrets Manager", "GetSecretValue"))
	assert.Equal(t, []migration.Action{migration.ActionNoop}, actions(f.report))

	// RDS rotates the master password: the copy syncs.
	require.True(t, sm.Rotate(db.MasterSecretARN, "after-rotation-1"))
	f.reset()
	_, err = dms.EnsureTargetSecret(f.ctx, f.env, f.cloud.RDS(), sm, spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"PutSecretValue"}, f.writes())
	assert.Equal(t, "after-rotation-1", f.secretValue(s.ARN)["password"])
	assert.Equal(t, []migration.FieldDiff{{Field: "value", From: "(stale)", To: "(synced from the RDS master user secret)"}}, f.report.Changes()[0].Diff)

	// Someone overwrote the copy by hand: it syncs back.
	_, err = sm.PutSecretValue(f.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.ARN), SecretString: aws.String(`{"username":"x"}`)})
	require.NoError(t, err)
	f.reset()
	_, err = dms.EnsureTargetSecret(f.ctx, f.env, f.cloud.RDS(), sm, spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"UpdateSecretVersionStage"}, f.writes(), "the right version exists: its label moves back, no value is read")
	assert.Zero(t, f.calls("Secrets Manager", "GetSecretValue"))
	assert.Equal(t, db.Address, f.secretValue(s.ARN)["host"])

	// Dry run of drift: reported, nothing read or written.
	require.True(t, sm.Rotate(db.MasterSecretARN, "after-rotation-2"))
	f.reset()
	dry := f.env
	dry.DryRun = true
	_, err = dms.EnsureTargetSecret(f.ctx, dry, f.cloud.RDS(), sm, spec)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.Zero(t, f.calls("Secrets Manager", "GetSecretValue"))
	assert.Equal(t, []migration.Action{migration.ActionUpdate}, actions(f.report))

	// Destroy schedules deletion; applying again within the recovery
	// window restores the secret instead of failing on its name.
	f.reset()
	require.NoError(t, dms.DeleteTargetSecret(f.ctx, f.env, sm, spec))
	assert.Equal(t, []string{"DeleteSecret"}, f.writes())
	assert.True(t, sm.ScheduledForDeletion("dms-target-endpoint-dev"))
	assert.Equal(t, "recoverable for 7 days", f.report.Changes()[0].Note)
	f.reset()
	require.NoError(t, dms.DeleteTargetSecret(f.ctx, f.env, sm, spec))
	assert.Empty(t, f.cloud.Writes(), "already scheduled")
	f.reset()
	_, err = dms.EnsureTargetSecret(f.ctx, f.env, f.cloud.RDS(), sm, spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"RestoreSecret", "PutSecretValue"}, f.writes())
	assert.False(t, sm.ScheduledForDeletion("dms-target-endpoint-dev"))
	assert.Equal(t, "after-rotation-2", f.secretValue(s.ARN)["password"])
}

func TestTargetSecretOwnershipAndParents(t *testing.T) {
	f := newFixture(t)
	_, spec := f.targetDB()
	sm := f.cloud.SecretsManager()

	// A pending DB: create reported without a call.
	f.reset()
	dry := f.env
	dry.DryRun = true
	pending := spec
	pending.DBInstanceID = migration.Pending("rds-target-dev")
	s, err := dms.EnsureTargetSecret(f.ctx, dry, f.cloud.RDS(), sm, pending)
	require.NoError(t, err)
	assert.True(t, migration.IsPending(s.ARN))
	assert.Empty(t, f.cloud.Calls())

	// A secret of the name without the ownership tag is neither adopted
	// nor deleted.
	f.createSecret("dms-target-endpoint-dev", f.key, map[string]any{"username": "someone"})
	_, err = dms.EnsureTargetSecret(f.ctx, f.env, f.cloud.RDS(), sm, spec)
	require.ErrorContains(t, err, "refusing to adopt")
	f.reset()
	require.NoError(t, dms.DeleteTargetSecret(f.ctx, f.env, sm, spec))
	assert.Empty(t, f.cloud.Writes())
	assert.False(t, sm.ScheduledForDeletion("dms-target-endpoint-dev"))
}

func TestInspectSecret(t *testing.T) {
	f := newFixture(t)
	sm := f.cloud.SecretsManager()
	info, err := dms.InspectSecret(f.ctx, f.env, sm, f.source)
	require.NoError(t, err)
	assert.Equal(t, f.key, info.KMSKeyARN)

	tests := []struct {
		name, key string
		value     map[string]any
		want      string
	}{
		{"no host or port", f.key, map[string]any{"username": "u", "password": "p"}, "lacks host, port"},
		{"empty password", f.key, map[string]any{"username": "u", "password": "", "host": "h", "port": 5432}, "lacks password"},
		{"bad port", f.key, map[string]any{"username": "u", "password": "p", "host": "h", "port": 70000}, "not a TCP port"},
		{"AWS managed key", "", map[string]any{"username": "u", "password": "p", "host": "h", "port": 5432}, "aws/secretsmanager"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arn := f.createSecret("bad/"+string(rune('a'+i)), tt.key, tt.value)
			_, err := dms.InspectSecret(f.ctx, f.env, sm, arn)
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err = dms.InspectSecret(f.ctx, f.env, sm, "arn:aws:secretsmanager:us-east-1:123456789012:secret:onprem/pg13/migrator")
	require.ErrorContains(t, err, "partial secret ARN")

	// Scheduled for deletion.
	_, err = sm.DeleteSecret(f.ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(f.source), RecoveryWindowInDays: aws.Int64(7)})
	require.NoError(t, err)
	_, err = dms.InspectSecret(f.ctx, f.env, sm, f.source)
	require.ErrorContains(t, err, "scheduled for deletion")
	list, err := sm.ListSecrets(f.ctx, &secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"onprem/"}}}})
	require.NoError(t, err)
	assert.Empty(t, list.SecretList, "scheduled secrets are listed only on request")
}
