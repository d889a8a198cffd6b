package fakecloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func TestDataSyncExecutionPhases(t *testing.T) {
	ctx := context.Background()
	c := fakecloud.New()
	ds := c.DataSync()
	agent := ds.AddAgent("a1")
	src, err := ds.CreateLocationNfs(ctx, &datasync.CreateLocationNfsInput{ServerHostname: aws.String("nfs.example.com"), Subdirectory: aws.String("/share"),
		OnPremConfig: &dstypes.OnPremConfig{AgentArns: []string{agent}}})
	require.NoError(t, err)
	dst, err := ds.CreateLocationNfs(ctx, &datasync.CreateLocationNfsInput{ServerHostname: aws.String("nfs2.example.com"), Subdirectory: aws.String("/copy"),
		OnPremConfig: &dstypes.OnPremConfig{AgentArns: []string{agent}}})
	require.NoError(t, err)

	_, err = ds.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: src.LocationArn, DestinationLocationArn: dst.LocationArn, Options: &dstypes.Options{LogLevel: dstypes.LogLevelBasic}})
	assert.Equal(t, "InvalidRequestException", awsx.Code(err), "logs need a log group")
	_, err = ds.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: src.LocationArn, DestinationLocationArn: dst.LocationArn,
		Options: &dstypes.Options{TransferMode: dstypes.TransferModeAll, PreserveDeletedFiles: dstypes.PreserveDeletedFilesRemove}})
	assert.Equal(t, "InvalidRequestException", awsx.Code(err), "REMOVE cannot go with ALL")

	task, err := ds.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: src.LocationArn, DestinationLocationArn: dst.LocationArn,
		Options: &dstypes.Options{BytesPerSecond: aws.Int64(1 << 20)}})
	require.NoError(t, err)
	ds.SetSourceData(aws.ToString(src.LocationArn), 600<<20, 60) // 600 MiB at 1 MiB/s: ten minutes
	exec, err := ds.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: task.TaskArn})
	require.NoError(t, err)
	_, err = ds.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: task.TaskArn})
	assert.Equal(t, "InvalidRequestException", awsx.Code(err), "one execution at a time")

	status := func() *datasync.DescribeTaskExecutionOutput {
		out, err := ds.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: exec.TaskExecutionArn})
		require.NoError(t, err)
		return out
	}
	for _, step := range []struct {
		advance time.Duration
		want    dstypes.TaskExecutionStatus
	}{
		{0, dstypes.TaskExecutionStatusLaunching},
		{time.Minute, dstypes.TaskExecutionStatusPreparing},
		{7 * time.Minute, dstypes.TaskExecutionStatusTransferring},
		{5 * time.Minute, dstypes.TaskExecutionStatusVerifying},
		{5 * time.Minute, dstypes.TaskExecutionStatusSuccess},
	} {
		c.Clock().Advance(step.advance)
		assert.Equal(t, step.want, status().Status)
	}
	assert.Equal(t, int64(600<<20), status().BytesTransferred)

	// Incremental: nothing changed, nothing moves.
	exec, err = ds.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: task.TaskArn})
	require.NoError(t, err)
	assert.Zero(t, status().EstimatedBytesToTransfer)
}

func TestDataSyncS3LocationNeedsRoleAndBucket(t *testing.T) {
	ctx := context.Background()
	c := fakecloud.New()
	_, err := c.DataSync().CreateLocationS3(ctx, &datasync.CreateLocationS3Input{S3BucketArn: aws.String("arn:aws:s3:::nope"),
		S3Config: &dstypes.S3Config{BucketAccessRoleArn: aws.String("arn:aws:iam::123456789012:role/missing")}})
	require.ErrorContains(t, err, "Unable to assume role")
	_, err = c.DataSync().DescribeLocationS3(ctx, &datasync.DescribeLocationS3Input{LocationArn: aws.String("arn:aws:datasync:us-east-1:123456789012:location/loc-01234567890abcdef")})
	assert.Equal(t, "InvalidRequestException", awsx.Code(err), "DataSync reports a missing resource as an invalid request")
}
