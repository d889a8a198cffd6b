package migration_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func TestEnsureLogGroup(t *testing.T) {
	ctx := context.Background()
	setupKey := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) migration.Key {
		k, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
		require.NoError(t, err)
		return k
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec migration.LogGroupSpec)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantErr    string
	}{
		{name: "missing is created encrypted with retention", wantAction: migration.ActionCreate, wantWrites: []string{"CreateLogGroup", "PutRetentionPolicy"}},
		{name: "converged makes no write", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec migration.LogGroupSpec) {
			_, err := migration.EnsureLogGroup(ctx, env, cloud.Logs(), spec)
			require.NoError(t, err)
		}, wantAction: migration.ActionNoop},
		{name: "retention drift converges", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec migration.LogGroupSpec) {
			_, err := migration.EnsureLogGroup(ctx, env, cloud.Logs(), spec)
			require.NoError(t, err)
			_, err = cloud.Logs().PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(spec.Name), RetentionInDays: aws.Int32(1)})
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"PutRetentionPolicy"}},
		{name: "unowned group is refused", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec migration.LogGroupSpec) {
			_, err := cloud.Logs().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(spec.Name)})
			require.NoError(t, err)
		}, wantErr: "refusing to adopt"},
		{name: "dry run writes nothing", dryRun: true, wantAction: migration.ActionCreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			key := setupKey(t, env, cloud)
			spec := migration.LogGroupSpec{Name: env.LogGroup("vpc-flow-logs"), RetentionDays: 90, KMSKeyARN: key.ARN}
			if tt.setup != nil {
				tt.setup(t, env, cloud, spec)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			_, err := migration.EnsureLogGroup(ctx, env, cloud.Logs(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			assert.Equal(t, tt.wantAction, report.Changes()[0].Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if !tt.dryRun {
				k, days, ok := cloud.Logs().LogGroupKey(spec.Name)
				require.True(t, ok)
				assert.Equal(t, key.ARN, k)
				assert.EqualValues(t, 90, days)
			}
		})
	}
}

func TestLogGroupSpecValidate(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	for _, tt := range []struct {
		spec migration.LogGroupSpec
		want string
	}{
		{migration.LogGroupSpec{Name: "", RetentionDays: 90, KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/x"}, "logGroup.name"},
		{migration.LogGroupSpec{Name: "/cutover/dev/x", RetentionDays: 2, KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/x"}, "logGroup.retentionDays"},
		{migration.LogGroupSpec{Name: "/cutover/dev/x", RetentionDays: 90}, "logGroup.kmsKeyArn"},
	} {
		_, err := migration.EnsureLogGroup(context.Background(), env, cloud.Logs(), tt.spec)
		require.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, cloud.Calls())
}

func TestDeleteLogGroupLeavesUnowned(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
	require.NoError(t, err)
	owned := migration.LogGroupSpec{Name: env.LogGroup("vpc-flow-logs"), RetentionDays: 90, KMSKeyARN: key.ARN}
	_, err = migration.EnsureLogGroup(ctx, env, cloud.Logs(), owned)
	require.NoError(t, err)
	decoy := env.LogGroup("vpc-flow-logs-old")
	_, err = cloud.Logs().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(decoy)})
	require.NoError(t, err)

	require.NoError(t, migration.DeleteLogGroup(ctx, env, cloud.Logs(), owned))
	require.NoError(t, migration.DeleteLogGroup(ctx, env, cloud.Logs(), migration.LogGroupSpec{Name: decoy, RetentionDays: 90, KMSKeyARN: key.ARN}))
	assert.Equal(t, []string{decoy}, cloud.Logs().LogGroups())
}
