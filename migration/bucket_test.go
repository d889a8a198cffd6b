package migration_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// envKey ensures the env's KMS key and returns its ARN.
func envKey(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) string {
	t.Helper()
	k, err := migration.EnsureKey(context.Background(), env, cloud.KMS(), migration.KeySpec{})
	require.NoError(t, err)
	return k.ARN
}

// createOwnedBucket creates a bucket with the env's ownership tag
// directly through the fake, in the given Region.
func createOwnedBucket(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, name, region string) {
	t.Helper()
	cfg := &s3types.CreateBucketConfiguration{Tags: []s3types.Tag{{Key: aws.String(migration.OwnerTag), Value: aws.String(env.Suffix)}}}
	if region != "us-east-1" {
		cfg.LocationConstraint = s3types.BucketLocationConstraint(region)
	}
	_, err := cloud.S3().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name), CreateBucketConfiguration: cfg})
	require.NoError(t, err)
}

func TestEnsureBucket(t *testing.T) {
	ctx := context.Background()
	ensure := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
		_, err := migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key})
		require.NoError(t, err)
	}
	allWrites := []string{"CreateBucket", "PutPublicAccessBlock", "PutBucketOwnershipControls", "PutBucketEncryption", "PutBucketVersioning", "PutBucketPolicy"}
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantDiff   []string
		wantErr    string
	}{
		{name: "missing is created and configured", wantAction: migration.ActionCreate, wantWrites: allWrites},
		{name: "converged makes no write", setup: ensure, wantAction: migration.ActionNoop},
		{
			name: "drift converges field by field",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				ensure(t, env, cloud, key)
				b := aws.String(migration.BucketName(env))
				_, err := cloud.S3().PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
				require.NoError(t, err)
				_, err = cloud.S3().DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b})
				require.NoError(t, err)
				_, err = cloud.S3().DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b})
				require.NoError(t, err)
				_, err = cloud.S3().PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
					Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
				require.NoError(t, err)
				// Someone adds a tag of their own and removes one of ours.
				_, err = cloud.S3().PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
					{Key: aws.String(migration.OwnerTag), Value: aws.String(env.Suffix)}, {Key: aws.String("CostCenter"), Value: aws.String("42")}}}})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"PutPublicAccessBlock", "PutBucketEncryption", "PutBucketVersioning", "PutBucketPolicy", "PutBucketTagging"},
			wantDiff:   []string{"publicAccessBlock", "encryption", "versioning", "policy", "tags"},
		},
		{
			name: "dry run reports drift and writes nothing",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				ensure(t, env, cloud, key)
				_, err := cloud.S3().PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(migration.BucketName(env)), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
				require.NoError(t, err)
			},
			dryRun: true, wantAction: migration.ActionUpdate, wantDiff: []string{"versioning"},
		},
		{name: "dry run on an empty cloud reports create", dryRun: true, wantAction: migration.ActionCreate},
		{
			name: "a bucket in another Region is refused: the Region is immutable",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, _ string) {
				createOwnedBucket(t, env, cloud, migration.BucketName(env), "eu-west-1")
			},
			wantErr: "region is immutable",
		},
		{
			name: "a look-alike without the ownership tag is not adopted",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, _ string) {
				_, err := cloud.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(migration.BucketName(env))})
				require.NoError(t, err)
			},
			wantErr: "refusing to adopt",
		},
		{
			name: "a name taken by another account is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, _ string) {
				cloud.S3().PlantForeignBucket(migration.BucketName(env))
			},
			wantErr: "taken by a bucket of another account",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			key := envKey(t, env, cloud)
			if tt.setup != nil {
				tt.setup(t, env, cloud, key)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			b, err := migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure bucket "migration-files-dev-123456789012"`)
				assert.Empty(t, cloud.Writes(), "a refused change writes nothing")
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			c := report.Changes()[0]
			assert.Equal(t, tt.wantAction, c.Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			var fields []string
			for _, d := range c.Diff {
				fields = append(fields, d.Field)
			}
			assert.Equal(t, tt.wantDiff, fields)
			if tt.dryRun {
				return
			}
			assertBucketConverged(t, env, cloud, b.Name, key)
		})
	}
}

// assertBucketConverged checks the bucket's state through the fake's API.
func assertBucketConverged(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, name, key string) {
	t.Helper()
	ctx := context.Background()
	b := aws.String(name)
	enc, err := cloud.S3().GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	require.NoError(t, err)
	rule := enc.ServerSideEncryptionConfiguration.Rules[0]
	assert.Equal(t, s3types.ServerSideEncryptionAwsKms, rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm)
	assert.Equal(t, key, aws.ToString(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID))
	assert.True(t, aws.ToBool(rule.BucketKeyEnabled))
	ver, err := cloud.S3().GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	require.NoError(t, err)
	assert.Equal(t, s3types.BucketVersioningStatusEnabled, ver.Status)
	pab, err := cloud.S3().GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	require.NoError(t, err)
	p := pab.PublicAccessBlockConfiguration
	assert.True(t, aws.ToBool(p.BlockPublicAcls) && aws.ToBool(p.IgnorePublicAcls) && aws.ToBool(p.BlockPublicPolicy) && aws.ToBool(p.RestrictPublicBuckets))
	own, err := cloud.S3().GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
	require.NoError(t, err)
	assert.Equal(t, s3types.ObjectOwnershipBucketOwnerEnforced, own.OwnershipControls.Rules[0].ObjectOwnership)
	pol, err := cloud.S3().GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	require.NoError(t, err)
	doc, err := migration.ParsePolicy(aws.ToString(pol.Policy))
	require.NoError(t, err)
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, "Deny", doc.Statement[0].Effect)
	assert.Equal(t, migration.Strings{"false"}, doc.Statement[0].Condition["Bool"]["aws:SecureTransport"])
	tags, err := cloud.S3().GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	require.NoError(t, err)
	have := map[string]string{}
	for _, tg := range tags.TagSet {
		have[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	for k, v := range env.NameTags(name) {
		assert.Equal(t, v, have[k], "tag %s", k)
	}
}

func TestEnsureBucketOutsideUSEast1(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New(fakecloud.WithRegion("eu-west-1"))
	env := migration.Env{Suffix: "dev", Region: "eu-west-1", Account: cloud.Account(), Clock: cloud.Clock()}
	key := envKey(t, env, cloud)
	_, err := migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key})
	require.NoError(t, err, "outside us-east-1 the LocationConstraint must name the Region")
	exists, err := cloud.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(migration.BucketName(env))})
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", aws.ToString(exists.BucketRegion))
}

func TestEnsureBucketConvergesUnderFaults(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.4, NotFoundReads: 2, Services: []string{"S3"}})
	_, err := migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key})
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	var throttled, hidden int
	for _, c := range cloud.Calls() {
		switch c.Code {
		case "ThrottlingException":
			throttled++
		case "NoSuchBucket", "NotFound":
			hidden++
		}
	}
	assert.Positive(t, throttled, "the throttling fault must have fired")
	assert.Positive(t, hidden, "the NotFound-after-create fault must have fired")
	assert.Equal(t, 1, cloud.Count("S3", "CreateBucket"), "one bucket, created once")
	assertBucketConverged(t, env, cloud, migration.BucketName(env), key)

	cloud.ResetCalls()
	_, err = migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key})
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes(), "converged after the faults")
}

func TestEnsureBucketCrashAfterCreate(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	// The process dies right after CreateBucket took effect: no encryption,
	// no policy yet. The next run finds the bucket by name and finishes.
	cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 1, CrashAfter: true})
	_, err := migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key})
	require.ErrorIs(t, err, fakecloud.ErrCrash)
	cloud.Restart()
	report := &migration.Report{}
	env.Reporter = report
	_, err = migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key})
	require.NoError(t, err)
	assert.Equal(t, migration.ActionUpdate, report.Changes()[0].Action)
	assert.Equal(t, []string{migration.BucketName(env)}, cloud.S3().Buckets())
	assertBucketConverged(t, env, cloud, migration.BucketName(env), key)
}

func TestDeleteBucket(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		fill        int // objects written (twice each: two versions) before the delete
		force       bool
		dryRun      bool
		wantErr     error
		wantBuckets int
		wantAction  migration.Action
	}{
		{name: "empty bucket is deleted", wantAction: migration.ActionDelete},
		{name: "a bucket holding the migrated files is refused", fill: 3, wantErr: migration.ErrBucketNotEmpty, wantBuckets: 1},
		{name: "refused in a dry run too", fill: 3, dryRun: true, wantErr: migration.ErrBucketNotEmpty, wantBuckets: 1},
		{name: "ForceDeleteObjects destroys every version, then the bucket", fill: 1200, force: true, wantAction: migration.ActionDelete},
		{name: "dry run with ForceDeleteObjects writes nothing", fill: 3, force: true, dryRun: true, wantBuckets: 1, wantAction: migration.ActionDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			key := envKey(t, env, cloud)
			spec := migration.BucketSpec{KMSKeyARN: key, ForceDeleteObjects: tt.force}
			_, err := migration.EnsureBucket(ctx, env, cloud.S3(), spec)
			require.NoError(t, err)
			name := migration.BucketName(env)
			for i := range tt.fill {
				for range 2 { // versioned: every overwrite keeps the old version
					require.NoError(t, cloud.S3().PutTestObject(name, fmt.Sprintf("share/file-%05d", i), 1<<20))
				}
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			err = migration.DeleteBucket(ctx, env, cloud.S3(), spec)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), "ForceDeleteObjects")
				assert.Empty(t, cloud.Writes())
				assert.Equal(t, 2*tt.fill, cloud.S3().ObjectVersions(name), "not one object lost")
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.wantAction, report.Changes()[0].Action)
			}
			assert.Len(t, cloud.S3().Buckets(), tt.wantBuckets)
			if tt.dryRun {
				assert.Empty(t, cloud.Writes())
			}
			if tt.force && !tt.dryRun {
				// 2400 versions in pages of at most 1000.
				assert.Equal(t, 3, cloud.Count("S3", "DeleteObjects"))
			}
		})
	}
}

func TestDeleteBucketLeavesWhatIsNotOurs(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	spec := migration.BucketSpec{KMSKeyARN: key, ForceDeleteObjects: true}
	_, err := cloud.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(migration.BucketName(env))})
	require.NoError(t, err)
	cloud.ResetCalls()
	require.NoError(t, migration.DeleteBucket(ctx, env, cloud.S3(), spec))
	assert.Empty(t, cloud.Writes())
	assert.Len(t, cloud.S3().Buckets(), 1, "an unowned look-alike is left in place")

	other, cloud2, _ := cloudEnv(t)
	cloud2.S3().PlantForeignBucket(migration.BucketName(other))
	require.NoError(t, migration.DeleteBucket(ctx, other, cloud2.S3(), spec))
	assert.Empty(t, cloud2.Writes(), "another account's bucket is never touched")

	// Gone: a no-op.
	env2, cloud3, _ := cloudEnv(t)
	cloud3.ResetCalls()
	require.NoError(t, migration.DeleteBucket(ctx, env2, cloud3.S3(), spec))
	assert.Empty(t, cloud3.Writes())
}

func TestBucketSpecValidate(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	_, err := migration.EnsureBucket(context.Background(), env, cloud.S3(), migration.BucketSpec{})
	require.ErrorContains(t, err, "bucket.kmsKeyArn")
	err = migration.DeleteBucket(context.Background(), env, cloud.S3(), migration.BucketSpec{KMSKeyARN: "alias/x"})
	require.ErrorContains(t, err, "bucket.kmsKeyArn")
	bad := env
	bad.Account = "12"
	_, err = migration.EnsureBucket(context.Background(), bad, cloud.S3(), migration.BucketSpec{KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/x"})
	require.ErrorContains(t, err, "env.account")
	assert.Empty(t, cloud.Calls(), "validation happens before any call")
}

func ExampleEnsureBucket() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	key, _ := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
	b, err := migration.EnsureBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key.ARN})
	fmt.Println(b.Name, err)
	_ = cloud.S3().PutTestObject(b.Name, "share/report.pdf", 1024)
	err = migration.DeleteBucket(ctx, env, cloud.S3(), migration.BucketSpec{KMSKeyARN: key.ARN})
	fmt.Println(errors.Is(err, migration.ErrBucketNotEmpty))
	// Output:
	// migration-files-dev-123456789012 <nil>
	// true
}
