package validate_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

func suiteEnv(t *testing.T) (migration.Env, *fakecloud.Cloud, validate.Spec) {
	t.Helper()
	env, cloud, _ := newEnv(t)
	key, err := migration.EnsureKey(context.Background(), env, cloud.KMS(), migration.KeySpec{})
	require.NoError(t, err)
	return env, cloud, fullSpec(key.ARN)
}

func TestEnsureSuite(t *testing.T) {
	ctx := context.Background()
	env, cloud, spec := suiteEnv(t)
	registerWave(cloud, 12)

	// Plan first: reads only, everything to create.
	plan := &migration.Report{}
	env.Reporter, env.DryRun = plan, true
	cloud.ResetCalls()
	_, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
	assert.Equal(t, map[migration.Action]int{migration.ActionCreate: 5}, plan.Counts(), "log group, three documents, association")

	// Apply.
	applied := &migration.Report{}
	env.Reporter, env.DryRun = applied, false
	suite, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
	require.NoError(t, err)
	assert.Equal(t, map[migration.Action]int{migration.ActionCreate: 5}, applied.Counts())
	assert.Equal(t, "/cutover/dev/validation", suite.LogGroup)
	keyARN, days, ok := cloud.Logs().LogGroupKey(suite.LogGroup)
	require.True(t, ok)
	assert.Equal(t, spec.KMSKeyARN, keyARN, "the output log group is encrypted with the env key")
	assert.EqualValues(t, 90, days)
	assert.Equal(t, []string{"validate-application-health-dev", "validate-configuration-dev", "validate-database-dev"}, cloud.SSM().Documents())
	require.Len(t, suite.Documents, 3)
	assert.Equal(t, "validate-configuration-dev", suite.Documents[2].Name)
	require.NotEmpty(t, suite.Association.ID)
	got := describeAssociation(t, cloud, suite.Association.ID)
	assert.Equal(t, "validate-configuration-dev", *got.Name)
	assert.Equal(t, "rate(30 minutes)", *got.ScheduleExpression)

	// Plan again: zero changes.
	again := &migration.Report{}
	env.Reporter = again
	cloud.ResetCalls()
	_, err = validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
	assert.False(t, again.HasChanges(), again.Summary())

	// A changed check: one new document version, the association re-pinned.
	changed := &migration.Report{}
	env.Reporter = changed
	fs := *spec.Files
	fs.ReadPath = "sentinel-v2"
	spec.Files = &fs
	suite2, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
	require.NoError(t, err)
	assert.Equal(t, map[migration.Action]int{migration.ActionUpdate: 2, migration.ActionNoop: 3}, changed.Counts())
	assert.Equal(t, "2", suite2.Documents[2].Version)
	assert.Equal(t, "2", *describeAssociation(t, cloud, suite2.Association.ID).DocumentVersion)
}

// A crash at any write of a fresh EnsureSuite — done or not, its answer
// lost — is repaired by a re-run without a second document, version or
// association.
func TestEnsureSuiteCrashAtEveryWrite(t *testing.T) {
	ctx := context.Background()
	env, cloud, spec := suiteEnv(t)
	cloud.ResetCalls()
	_, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
	require.NoError(t, err)
	writes := len(cloud.Writes())
	require.GreaterOrEqual(t, writes, 5)
	for k := 1; k <= writes; k++ {
		for _, after := range []bool{true, false} {
			env, cloud, spec := suiteEnv(t)
			cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k, CrashAfter: after})
			_, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
			require.Error(t, err, "write %d", k)
			cloud.Restart()
			suite, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
			require.NoError(t, err, "write %d (crash after: %v)", k, after)
			assert.Len(t, cloud.SSM().Documents(), 3, "write %d", k)
			for _, d := range suite.Documents {
				assert.Equal(t, "1", d.Version, "write %d: %s", k, d.Name)
			}
			assert.Len(t, cloud.SSM().Associations(), 1, "write %d (crash after: %v)", k, after)
			cloud.ResetCalls()
			_, err = validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes(), "write %d (crash after: %v)", k, after)
		}
	}
}

func TestRunSuiteAndGate(t *testing.T) {
	ctx := context.Background()
	env, cloud, spec := suiteEnv(t)
	ids := registerWave(cloud, 12)
	spec.Expect = ids
	suite, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
	require.NoError(t, err)
	cloud.SSM().ScriptOutcome(ids[4], "validate-database-dev", types.CommandInvocationStatusFailed, "FAIL database: rds-target-dev...: psql: error: certificate verify failed")
	rec := &recorder{}

	results, err := validate.RunSuite(ctx, env, cloud.SSM(), rec, suite, spec)
	require.NoError(t, err)
	require.Len(t, results, 3)
	assert.Len(t, rec.results, 3, "every run is recorded")
	assert.True(t, results[0].Passed)
	assert.False(t, results[1].Passed)
	assert.True(t, results[2].Passed)
	err = validate.Gate(migration.PhaseReplicating, migration.PhaseValidated, results...)
	require.ErrorIs(t, err, validate.ErrNotValidated)
	assert.Contains(t, err.Error(), "validate-database-dev on "+ids[4]+" (app-05): Failed: [databaseConnectivity] FAIL database")
	assert.Len(t, cloud.SSM().Commands(), 3)
	for _, c := range cloud.SSM().Commands() {
		assert.Equal(t, suite.LogGroup, c.LogGroup)
	}
}

func TestDeleteSuite(t *testing.T) {
	ctx := context.Background()
	env, cloud, spec := suiteEnv(t)
	registerWave(cloud, 2)
	_, err := validate.EnsureSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec)
	require.NoError(t, err)

	report := &migration.Report{}
	env.Reporter = report
	require.NoError(t, validate.DeleteSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec))
	assert.Empty(t, cloud.SSM().Documents())
	assert.Empty(t, cloud.SSM().Associations())
	assert.Empty(t, cloud.Logs().LogGroups())
	assert.Equal(t, map[migration.Action]int{migration.ActionDelete: 5}, report.Counts())

	cloud.ResetCalls()
	require.NoError(t, validate.DeleteSuite(ctx, env, cloud.SSM(), cloud.Logs(), spec))
	assert.Empty(t, cloud.Writes(), "deleting what is gone writes nothing")
}

func TestSpecValidate(t *testing.T) {
	env, cloud, _ := newEnv(t)
	good := fullSpec("arn:aws:kms:us-east-1:123456789012:key/k")
	tests := []struct {
		mutate func(*validate.Spec)
		want   string
	}{
		{func(s *validate.Spec) { s.Application, s.Database, s.Services, s.Files = nil, nil, nil, nil }, "at least one check"},
		{func(s *validate.Spec) { s.KMSKeyARN = "" }, "validate.kmsKeyArn"},
		{func(s *validate.Spec) { s.Targets = nil }, "validate.targets"},
		{func(s *validate.Spec) { s.Schedule = "rate(1 minute)" }, "validate.schedule"},
		{func(s *validate.Spec) { s.LogRetentionDays = 2 }, "validate.logRetentionDays"},
		{func(s *validate.Spec) { s.Expect = []string{"i-0123456789abcdef0", ""} }, `validate.expect[1]: "" is not an instance ID`},
		{func(s *validate.Spec) { db := *s.Database; db.SecretARN = "password123"; s.Database = &db }, "databaseConnectivity.secretArn"},
	}
	for _, tt := range tests {
		s := good
		tt.mutate(&s)
		_, err := validate.EnsureSuite(context.Background(), env, cloud.SSM(), cloud.Logs(), s)
		require.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, cloud.Calls())
}

func TestSteps(t *testing.T) {
	ctx := context.Background()
	env, cloud, spec := suiteEnv(t)
	ids := registerWave(cloud, 4)
	spec.Expect = ids
	var suite validate.Suite
	rb, err := migration.NewRunbook(migration.Options{}, validate.Steps(cloud.SSM(), cloud.Logs(), func() validate.Spec { return spec }, &suite)...)
	require.NoError(t, err)

	plan := &migration.Report{}
	env.Reporter = plan
	cloud.ResetCalls()
	require.NoError(t, rb.Plan(ctx, env))
	assert.Empty(t, cloud.Writes(), "plan reads only")
	assert.Equal(t, map[migration.Action]int{migration.ActionCreate: 5}, plan.Counts())

	env.Reporter = &migration.Report{}
	require.NoError(t, rb.Apply(ctx, env))
	require.Len(t, suite.Documents, 3)
	assert.Equal(t, "/cutover/dev/validation", suite.LogGroup)
	assert.NotEmpty(t, suite.Association.ID)
	results, err := validate.RunSuite(ctx, env, cloud.SSM(), nil, suite, spec)
	require.NoError(t, err)
	require.NoError(t, validate.Passed(results...))

	again := &migration.Report{}
	env.Reporter = again
	cloud.ResetCalls()
	require.NoError(t, rb.Apply(ctx, env))
	assert.Empty(t, cloud.Writes())
	assert.False(t, again.HasChanges(), again.Summary())

	require.NoError(t, rb.Destroy(ctx, env))
	assert.Empty(t, cloud.SSM().Documents())
	assert.Empty(t, cloud.SSM().Associations())
	assert.Empty(t, cloud.Logs().LogGroups())
}
