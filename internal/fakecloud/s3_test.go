package fakecloud_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func TestS3CreateBucketRules(t *testing.T) {
	ctx := context.Background()
	create := func(c *fakecloud.Cloud, name, lc string) error {
		in := &s3.CreateBucketInput{Bucket: aws.String(name)}
		if lc != "" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(lc)}
		}
		_, err := c.S3().CreateBucket(ctx, in)
		return err
	}
	east := fakecloud.New()
	require.NoError(t, create(east, "files-a", ""))
	assert.NoError(t, create(east, "files-a", ""), "us-east-1 answers 200 OK to re-creating an own bucket")
	assert.Equal(t, "InvalidLocationConstraint", awsx.Code(create(east, "files-b", "us-east-1")))
	assert.Equal(t, "InvalidBucketName", awsx.Code(create(east, "Files_C", "")))
	east.S3().PlantForeignBucket("taken")
	assert.Equal(t, "BucketAlreadyExists", awsx.Code(create(east, "taken", "")))

	west := fakecloud.New(fakecloud.WithRegion("eu-west-1"))
	assert.Equal(t, "IllegalLocationConstraintException", awsx.Code(create(west, "files-d", "")))
	require.NoError(t, create(west, "files-d", "eu-west-1"))
	assert.Equal(t, "BucketAlreadyOwnedByYou", awsx.Code(create(west, "files-d", "eu-west-1")))

	// A new bucket gets the 2023 defaults.
	pab, err := east.S3().GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("files-a")})
	require.NoError(t, err)
	assert.True(t, aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy))
	enc, err := east.S3().GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("files-a")})
	require.NoError(t, err)
	assert.Equal(t, s3types.ServerSideEncryptionAes256, enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)
	// Another account's bucket, or the wrong expected owner, is AccessDenied.
	_, err = east.S3().GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("taken")})
	assert.Equal(t, "AccessDenied", awsx.Code(err))
	_, err = east.S3().GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("files-a"), ExpectedBucketOwner: aws.String("999999999999")})
	assert.Equal(t, "AccessDenied", awsx.Code(err))
	_, err = east.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("taken")})
	assert.Equal(t, "Forbidden", awsx.Code(err))
	_, err = east.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")})
	assert.True(t, awsx.IsNotFound(err))
}

func TestS3VersionsAndDeleteBucket(t *testing.T) {
	ctx := context.Background()
	c := fakecloud.New()
	b := aws.String("files")
	_, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b})
	require.NoError(t, err)
	_, err = c.S3().PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, c.S3().PutTestObject("files", fmt.Sprintf("k%d", i), 10))
		require.NoError(t, c.S3().PutTestObject("files", fmt.Sprintf("k%d", i), 20))
	}
	// Deleting without a version leaves a delete marker: the bucket is still not empty.
	_, err = c.S3().DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("k0")}}}})
	require.NoError(t, err)
	list, err := c.S3().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
	require.NoError(t, err)
	assert.Len(t, list.Contents, 4)
	_, err = c.S3().DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
	assert.Equal(t, "BucketNotEmpty", awsx.Code(err))

	// Versions page by key and version markers, without loss or repeat.
	seen := map[string]bool{}
	in := &s3.ListObjectVersionsInput{Bucket: b, MaxKeys: aws.Int32(3)}
	for {
		out, err := c.S3().ListObjectVersions(ctx, in)
		require.NoError(t, err)
		for _, v := range out.Versions {
			id := aws.ToString(v.Key) + "@" + aws.ToString(v.VersionId)
			assert.False(t, seen[id], id)
			seen[id] = true
		}
		for _, m := range out.DeleteMarkers {
			seen[aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId)] = true
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	assert.Len(t, seen, 11, "ten versions and a delete marker")
	assert.Equal(t, 11, c.S3().ObjectVersions("files"))

	// The state survives Save and Load.
	var buf bytes.Buffer
	require.NoError(t, c.Save(&buf))
	c2, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	assert.Equal(t, 11, c2.S3().ObjectVersions("files"))
}
