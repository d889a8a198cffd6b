package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

// plantTable creates a table of the env's name without the ownership tag.
func plantTable(t *testing.T, cloud *fakecloud.Cloud, name string) {
	t.Helper()
	_, err := cloud.DynamoDB().CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		BillingMode:          types.BillingModePayPerRequest,
		Tags:                 []types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}, {Key: aws.String("ManagedBy"), Value: aws.String("cutover")}},
	})
	require.NoError(t, err)
	cloud.Clock().Advance(time.Minute)
}

func TestEnsureTable(t *testing.T) {
	ctx := context.Background()
	type setup func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string)
	ensured := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
		_, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
		require.NoError(t, err)
	}
	tests := []struct {
		name       string
		setup      setup
		dryRun     bool
		pendingKey bool
		spec       func(key string) tracking.TableSpec
		wantAction migration.Action
		wantWrites []string
		wantDiff   []string
		wantErr    string
	}{
		{
			name:       "missing is created encrypted, on demand, then PITR",
			wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateTable", "UpdateContinuousBackups"},
		},
		{
			name:       "converged makes no write",
			setup:      ensured,
			wantAction: migration.ActionNoop,
		},
		{
			name: "drift converges: key, PITR, deletion protection, tags",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				ensured(t, env, cloud, key)
				db := cloud.DynamoDB()
				other, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
				require.NoError(t, err)
				_, err = db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("migration-tracking-dev"), SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: other.KeyMetadata.Arn}})
				require.NoError(t, err)
				cloud.Clock().Advance(time.Minute)
				_, err = db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("migration-tracking-dev"), DeletionProtectionEnabled: aws.Bool(true)})
				require.NoError(t, err)
				cloud.Clock().Advance(time.Minute)
				_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("migration-tracking-dev"), PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(false)}})
				require.NoError(t, err)
				_, err = db.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/migration-tracking-dev"), TagKeys: []string{"Project"}})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"UpdateTable", "UpdateTable", "UpdateContinuousBackups", "TagResource"},
			wantDiff:   []string{"kmsKey", "deletionProtection", "pointInTimeRecovery", "tags"},
		},
		{
			name:       "dry run on an empty cloud reports create and writes nothing",
			dryRun:     true,
			wantAction: migration.ActionCreate,
		},
		{
			name:       "a pending key reports create without any call",
			pendingKey: true,
			dryRun:     true,
			wantAction: migration.ActionCreate,
		},
		{
			name: "dry run reports drift and writes nothing",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				ensured(t, env, cloud, key)
				_, err := cloud.DynamoDB().UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("migration-tracking-dev"), PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(false)}})
				require.NoError(t, err)
			},
			dryRun:     true,
			wantAction: migration.ActionUpdate,
			wantDiff:   []string{"pointInTimeRecovery"},
		},
		{
			name: "a table of that name without the ownership tag is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				plantTable(t, cloud, "migration-tracking-dev")
			},
			wantErr: "refusing to adopt",
		},
		{
			name: "a different key schema is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				_, err := cloud.DynamoDB().CreateTable(ctx, &dynamodb.CreateTableInput{
					TableName:            aws.String("migration-tracking-dev"),
					AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
					KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
					BillingMode:          types.BillingModePayPerRequest,
					Tags:                 []types.Tag{{Key: aws.String(migration.OwnerTag), Value: aws.String("dev")}},
				})
				require.NoError(t, err)
				cloud.Clock().Advance(time.Minute)
			},
			wantErr: "key schema is immutable",
		},
		{
			name:    "an alias instead of a key ARN is refused before any call",
			spec:    func(string) tracking.TableSpec { return tracking.TableSpec{KMSKeyARN: "alias/migration-dev"} },
			wantErr: "table.kmsKeyArn",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _, key := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud, key)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter = report
			env.DryRun = tt.dryRun
			spec := tracking.TableSpec{KMSKeyARN: key}
			if tt.pendingKey {
				spec.KMSKeyARN = migration.Pending("alias/migration-dev")
			}
			if tt.spec != nil {
				spec = tt.spec(key)
			}

			table, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure table "migration-tracking-dev"`)
				assert.Empty(t, cloud.Writes(), "a refused table is not written")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(report))
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			var fields []string
			for _, d := range report.Changes()[0].Diff {
				fields = append(fields, d.Field)
			}
			if tt.wantDiff != nil {
				assert.Equal(t, tt.wantDiff, fields)
			}
			if tt.pendingKey {
				assert.Empty(t, cloud.Calls(), "a pending parent makes no call")
			}
			if tt.dryRun {
				if tt.wantAction == migration.ActionCreate {
					assert.True(t, migration.IsPending(table.ARN))
				}
				return
			}
			// The state: ACTIVE, on demand, the env key, PITR, no deletion
			// protection, every env tag.
			d, err := cloud.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("migration-tracking-dev")})
			require.NoError(t, err)
			assert.Equal(t, types.TableStatusActive, d.Table.TableStatus)
			assert.Equal(t, types.BillingModePayPerRequest, d.Table.BillingModeSummary.BillingMode)
			assert.Equal(t, key, aws.ToString(d.Table.SSEDescription.KMSMasterKeyArn))
			assert.False(t, aws.ToBool(d.Table.DeletionProtectionEnabled))
			cb, err := cloud.DynamoDB().DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("migration-tracking-dev")})
			require.NoError(t, err)
			assert.Equal(t, types.PointInTimeRecoveryStatusEnabled, cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
			tags, err := cloud.DynamoDB().ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(table.ARN)})
			require.NoError(t, err)
			have := map[string]string{}
			for _, tg := range tags.Tags {
				have[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			for k, v := range env.NameTags("migration-tracking-dev") {
				assert.Equal(t, v, have[k], "tag %s", k)
			}
			// And it converged: another run writes nothing.
			cloud.ResetCalls()
			_, err = tracking.EnsureTable(ctx, env, cloud.DynamoDB(), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes())
		})
	}
}

func TestEnsureTableUnderFaults(t *testing.T) {
	ctx := context.Background()
	env, cloud, _, key := newEnv(t)
	// Throttling everywhere, the new table invisible to its first reads,
	// and a crash right after CreateTable took effect: the second run
	// finds the table by name and finishes (PITR), without a duplicate.
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.3, NotFoundReads: 2, CrashAtWrite: 1, CrashAfter: true})
	_, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
	require.ErrorIs(t, err, fakecloud.ErrCrash)
	cloud.Restart()
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.3})
	report := &migration.Report{}
	env.Reporter = report
	_, err = tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
	require.NoError(t, err)
	assert.Equal(t, []migration.Action{migration.ActionUpdate}, actions(report), "PITR was missing after the crash")
	cloud.SetFaults(fakecloud.Faults{})
	cloud.ResetCalls()
	_, err = tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
}

func TestDeleteTable(t *testing.T) {
	ctx := context.Background()

	t.Run("owned: final backup, then delete; gone: no-op", func(t *testing.T) {
		env, cloud, report, key := newEnv(t)
		s, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
		require.NoError(t, err)
		store, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{})
		require.NoError(t, err)
		require.NoError(t, store.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "apply done"))
		*report = migration.Report{}
		cloud.ResetCalls()
		require.NoError(t, tracking.DeleteTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key}))
		assert.Equal(t, []string{"CreateBackup", "DeleteTable"}, writeOps(cloud))
		assert.Equal(t, []migration.Action{migration.ActionDelete}, actions(report))
		assert.Equal(t, s.ARN, report.Changes()[0].ID)
		backups := cloud.DynamoDB().Backups()
		require.Len(t, backups, 1)
		assert.Regexp(t, `^migration-tracking-final-dev-2026110209\d{4}$`, backups[0].Name)
		assert.Equal(t, 2, backups[0].Items, "the phase and its event survive in the backup")
		_, err = cloud.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("migration-tracking-dev")})
		assert.Error(t, err, "gone after the wait")

		cloud.ResetCalls()
		require.NoError(t, tracking.DeleteTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key}))
		assert.Empty(t, cloud.Writes())
	})

	t.Run("skip final backup", func(t *testing.T) {
		env, cloud, _, key := newEnv(t)
		_, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
		require.NoError(t, err)
		cloud.ResetCalls()
		require.NoError(t, tracking.DeleteTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key, SkipFinalBackup: true}))
		assert.Equal(t, []string{"DeleteTable"}, writeOps(cloud))
		assert.Empty(t, cloud.DynamoDB().Backups())
	})

	t.Run("a look-alike without the ownership tag is left alone", func(t *testing.T) {
		env, cloud, report, key := newEnv(t)
		plantTable(t, cloud, "migration-tracking-dev")
		cloud.ResetCalls()
		require.NoError(t, tracking.DeleteTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key}))
		assert.Empty(t, cloud.Writes())
		assert.Equal(t, []migration.Action{migration.ActionNoop}, actions(report))
		assert.Contains(t, report.Changes()[0].Note, "not owned")
	})

	t.Run("deletion protection is refused, not switched off", func(t *testing.T) {
		env, cloud, _, key := newEnv(t)
		_, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key, DeletionProtection: true})
		require.NoError(t, err)
		cloud.ResetCalls()
		err = tracking.DeleteTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
		require.ErrorContains(t, err, "deletion protection is on")
		assert.Empty(t, cloud.Writes())
	})

	t.Run("dry run writes nothing", func(t *testing.T) {
		env, cloud, report, key := newEnv(t)
		_, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
		require.NoError(t, err)
		*report = migration.Report{}
		cloud.ResetCalls()
		env.DryRun = true
		require.NoError(t, tracking.DeleteTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key}))
		assert.Empty(t, cloud.Writes())
		assert.Equal(t, []migration.Action{migration.ActionDelete}, actions(report))
	})
}
