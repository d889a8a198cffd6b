package fakecloud_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

const token1 = "token-00000000000000000000000000000001"

func newKey(t *testing.T, cloud *fakecloud.Cloud) string {
	t.Helper()
	out, err := cloud.KMS().CreateKey(context.Background(), &kms.CreateKeyInput{})
	require.NoError(t, err)
	return aws.ToString(out.KeyMetadata.Arn)
}

func TestSecretsManagerCreateIdempotency(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	sm := cloud.SecretsManager()
	key := newKey(t, cloud)
	in := &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), KmsKeyId: aws.String(key), SecretString: aws.String(`{"a":1}`), ClientRequestToken: aws.String(token1),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}
	first, err := sm.CreateSecret(ctx, in)
	require.NoError(t, err)
	assert.Regexp(t, `^arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-[A-Z0-9]{6}$`, aws.ToString(first.ARN))

	// Same token and value: the repeat is ignored and returns the secret.
	again, err := sm.CreateSecret(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, first.ARN, again.ARN)
	// Another token or value: the name is taken.
	in.SecretString = aws.String(`{"a":2}`)
	_, err = sm.CreateSecret(ctx, in)
	assert.Equal(t, "ResourceExistsException", awsx.Code(err))
	// Bad token, bad key.
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("x"), ClientRequestToken: aws.String("short")})
	assert.Equal(t, "ValidationException", awsx.Code(err))
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("y"), KmsKeyId: aws.String("alias/missing"), SecretString: aws.String("v")})
	assert.Equal(t, "EncryptionFailure", awsx.Code(err))

	// Describe by name, full ARN and partial ARN.
	for _, id := range []string{"app/db", aws.ToString(first.ARN), aws.ToString(first.ARN)[:len(aws.ToString(first.ARN))-7]} {
		d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		require.NoError(t, err, id)
		assert.Equal(t, key, aws.ToString(d.KmsKeyId))
		assert.Equal(t, []string{"AWSCURRENT"}, d.VersionIdsToStages[token1])
		assert.Equal(t, "platform", aws.ToString(d.Tags[0].Value))
	}
}

func TestSecretsManagerVersions(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	sm := cloud.SecretsManager()
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(token1)})
	require.NoError(t, err)
	arn := aws.ToString(out.ARN)
	p, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("v2")})
	require.NoError(t, err)
	v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	assert.Equal(t, "v2", aws.ToString(v.SecretString))
	prev, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPREVIOUS")})
	require.NoError(t, err)
	assert.Equal(t, "v1", aws.ToString(prev.SecretString))

	// A repeated token with the same value is ignored — the label does
	// not move back — and with another value refused.
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("v1"), ClientRequestToken: aws.String(token1)})
	require.NoError(t, err)
	cur, _ := sm.SecretValue(arn)
	assert.Equal(t, "v2", cur)
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("other"), ClientRequestToken: aws.String(token1)})
	assert.Equal(t, "ResourceExistsException", awsx.Code(err))

	// Moving AWSCURRENT back names the version holding it.
	_, err = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(token1)})
	assert.Equal(t, "InvalidParameterException", awsx.Code(err))
	_, err = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: aws.String(token1), RemoveFromVersionId: p.VersionId})
	require.NoError(t, err)
	cur, _ = sm.SecretValue(arn)
	assert.Equal(t, "v1", cur)
}

func TestSecretsManagerDeletion(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	sm := cloud.SecretsManager()
	_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")})
	require.NoError(t, err)
	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(3)})
	assert.Equal(t, "InvalidParameterException", awsx.Code(err))
	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
	assert.Equal(t, "InvalidParameterException", awsx.Code(err))
	d, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)})
	require.NoError(t, err)
	assert.Equal(t, fakecloud.Epoch.Add(7*24*time.Hour), aws.ToTime(d.DeletionDate))

	// Scheduled: unreadable, its name blocked, listed only on request.
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	assert.Equal(t, "InvalidRequestException", awsx.Code(err))
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")})
	assert.Equal(t, "InvalidRequestException", awsx.Code(err))
	l, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	require.NoError(t, err)
	assert.Empty(t, l.SecretList)
	l, err = sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
	require.NoError(t, err)
	assert.Len(t, l.SecretList, 1)

	// Restored within the window; purged after it.
	_, err = sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("s")})
	require.NoError(t, err)
	v, ok := sm.SecretValue("s")
	assert.True(t, ok)
	assert.Equal(t, "v", v)
	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)})
	require.NoError(t, err)
	cloud.Clock().Advance(8 * 24 * time.Hour)
	assert.Empty(t, sm.Secrets())
	_, err = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	assert.True(t, awsx.IsNotFound(err))
}

func TestSecretsManagerListFiltersAndSave(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	sm := cloud.SecretsManager()
	for _, n := range []string{"onprem/pg", "onprem/files", "rds/target"} {
		_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v"),
			Tags: []smtypes.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}}})
		require.NoError(t, err)
	}
	names := func(filters ...smtypes.Filter) []string {
		var out []string
		p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{Filters: filters, MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			require.NoError(t, err)
			for _, s := range page.SecretList {
				out = append(out, aws.ToString(s.Name))
			}
		}
		return out
	}
	assert.Equal(t, []string{"onprem/files", "onprem/pg"}, names(smtypes.Filter{Key: smtypes.FilterNameStringTypeName, Values: []string{"onprem/"}}))
	assert.Equal(t, []string{"rds/target"}, names(smtypes.Filter{Key: smtypes.FilterNameStringTypeName, Values: []string{"!onprem/"}}))
	assert.Len(t, names(smtypes.Filter{Key: smtypes.FilterNameStringTypeTagKey, Values: []string{"cutover:env"}}), 3)
	assert.Empty(t, names(smtypes.Filter{Key: smtypes.FilterNameStringTypeTagValue, Values: []string{"prod"}}))

	var buf bytes.Buffer
	require.NoError(t, cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	v, ok := loaded.SecretsManager().SecretValue("rds/target")
	assert.True(t, ok)
	assert.Equal(t, "v", v)
}

func putValue(id string) *secretsmanager.PutSecretValueInput {
	return &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String("x")}
}
