package migration_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func TestEnsureKey(t *testing.T) {
	ctx := context.Background()
	ensure := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) migration.Key {
		k, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
		require.NoError(t, err)
		return k
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantErr    string
	}{
		{name: "missing is created with alias and rotation", wantAction: migration.ActionCreate, wantWrites: []string{"CreateKey", "CreateAlias", "EnableKeyRotation"}},
		{name: "converged makes no write", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) { ensure(t, env, cloud) }, wantAction: migration.ActionNoop},
		{
			name: "drift: disabled, rotation off, policy replaced, tag lost",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				k := ensure(t, env, cloud)
				id := aws.String(k.ID)
				_, err := cloud.KMS().DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: id})
				require.NoError(t, err)
				_, err = cloud.KMS().DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
				require.NoError(t, err)
				_, err = cloud.KMS().PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: id, PolicyName: aws.String("default"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`)})
				require.NoError(t, err)
				_, err = cloud.KMS().TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []kmstypes.Tag{{TagKey: aws.String("Project"), TagValue: aws.String("other")}}})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"EnableKey", "EnableKeyRotation", "PutKeyPolicy", "TagResource"},
		},
		{
			name: "alias lost (crash between CreateKey and CreateAlias): found by tag, alias restored",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				ensure(t, env, cloud)
				_, err := cloud.KMS().DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/migration-dev")})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"CreateAlias"},
		},
		{
			name: "alias on an unowned key is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				out, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
				require.NoError(t, err)
				_, err = cloud.KMS().CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/migration-dev"), TargetKeyId: out.KeyMetadata.KeyId})
				require.NoError(t, err)
			},
			wantErr: "refusing to adopt",
		},
		{
			name: "two owned keys are a conflict",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				for range 2 {
					_, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("cutover:env"), TagValue: aws.String("dev")}}})
					require.NoError(t, err)
				}
			},
			wantErr: "2 keys carry cutover:env=dev",
		},
		{
			name: "an unowned key of another env is ignored",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				_, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("cutover:env"), TagValue: aws.String("prod")}}})
				require.NoError(t, err)
			},
			wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateKey", "CreateAlias", "EnableKeyRotation"},
		},
		{name: "dry run on an empty cloud writes nothing", dryRun: true, wantAction: migration.ActionCreate},
		{
			name: "dry run with drift writes nothing",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				k := ensure(t, env, cloud)
				_, err := cloud.KMS().DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: aws.String(k.ID)})
				require.NoError(t, err)
			},
			dryRun:     true,
			wantAction: migration.ActionUpdate,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			key, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure key "alias/migration-dev"`)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			assert.Equal(t, tt.wantAction, report.Changes()[0].Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.dryRun {
				return
			}
			// The state: enabled, rotating, the env policy, aliased, tagged.
			d, err := cloud.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/migration-dev")})
			require.NoError(t, err)
			assert.Equal(t, key.ID, aws.ToString(d.KeyMetadata.KeyId))
			assert.Equal(t, kmstypes.KeyStateEnabled, d.KeyMetadata.KeyState)
			rot, err := cloud.KMS().GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(key.ID)})
			require.NoError(t, err)
			assert.True(t, rot.KeyRotationEnabled)
			pol, err := cloud.KMS().GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key.ID)})
			require.NoError(t, err)
			assert.True(t, migration.PolicyEqual(aws.ToString(pol.Policy), migration.KeyPolicy(env).JSON()))
		})
	}
}

func TestDeleteKey(t *testing.T) {
	ctx := context.Background()
	env, cloud, report := cloudEnv(t)
	decoy, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("Name"), TagValue: aws.String("alias/migration-dev")}}})
	require.NoError(t, err)
	key, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{DeletionWindowDays: 10})
	require.NoError(t, err)

	require.NoError(t, migration.DeleteKey(ctx, env, cloud.KMS(), migration.KeySpec{DeletionWindowDays: 10}))
	state, _ := cloud.KMS().KeyState(key.ID)
	assert.Equal(t, "PendingDeletion", state)
	assert.Equal(t, []string{aws.ToString(decoy.KeyMetadata.KeyId)}, cloud.KMS().LiveKeys(), "the look-alike survives")
	_, err = cloud.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/migration-dev")})
	assert.Error(t, err, "the alias is gone")
	last := report.Changes()[len(report.Changes())-1]
	assert.Equal(t, migration.ActionDelete, last.Action)
	assert.Equal(t, "deletion scheduled in 10 days", last.Note)

	// Deleting again is a no-op, and a new apply makes a new key rather
	// than resurrecting the one pending deletion.
	cloud.ResetCalls()
	require.NoError(t, migration.DeleteKey(ctx, env, cloud.KMS(), migration.KeySpec{}))
	assert.Empty(t, cloud.Writes())
	again, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
	require.NoError(t, err)
	assert.NotEqual(t, key.ID, again.ID)
}

func TestKeySpecValidate(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	for _, days := range []int{1, 6, 31} {
		_, err := migration.EnsureKey(context.Background(), env, cloud.KMS(), migration.KeySpec{DeletionWindowDays: days})
		assert.ErrorContains(t, err, "key.deletionWindowDays")
	}
	assert.Empty(t, cloud.Calls())
}
