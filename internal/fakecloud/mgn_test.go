package fakecloud_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mgn"
	mgntypes "github.com/aws/aws-sdk-go-v2/service/mgn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func TestMGNUninitialized(t *testing.T) {
	ctx := context.Background()
	c := fakecloud.New()
	_, err := c.MGN().DescribeSourceServers(ctx, &mgn.DescribeSourceServersInput{})
	assert.Equal(t, "UninitializedAccountException", awsx.Code(err))
	_, err = c.MGN().InitializeService(ctx, &mgn.InitializeServiceInput{})
	require.NoError(t, err)
	_, err = c.MGN().InitializeService(ctx, &mgn.InitializeServiceInput{})
	require.NoError(t, err, "initializing twice is harmless")
	assert.Contains(t, c.IAM().Roles(), "AWSServiceRoleForApplicationMigrationService")
}

func TestMGNLifecycleRules(t *testing.T) {
	ctx := context.Background()
	c := fakecloud.New()
	_, err := c.MGN().InitializeService(ctx, &mgn.InitializeServiceInput{})
	require.NoError(t, err)
	id := c.MGN().AddSourceServer("app-01", nil)
	c.MGN().SetInitialSync(id, 10<<30, time.Hour)
	describe := func() mgntypes.SourceServer {
		out, err := c.MGN().DescribeSourceServers(ctx, &mgn.DescribeSourceServersInput{Filters: &mgntypes.DescribeSourceServersRequestFilters{SourceServerIDs: []string{id}}})
		require.NoError(t, err)
		require.Len(t, out.Items, 1)
		return out.Items[0]
	}
	assert.Equal(t, mgntypes.DataReplicationStateInitiating, describe().DataReplicationInfo.DataReplicationState)
	c.Clock().Advance(35 * time.Minute)
	s := describe()
	assert.Equal(t, mgntypes.DataReplicationStateInitialSync, s.DataReplicationInfo.DataReplicationState)
	assert.Equal(t, mgntypes.LifeCycleStateNotReady, s.LifeCycle.State)
	assert.Nil(t, s.DataReplicationInfo.LagDuration, "not launchable before the initial sync ends")
	_, err = c.MGN().StartTest(ctx, &mgn.StartTestInput{SourceServerIDs: []string{id}})
	assert.Equal(t, "ValidationException", awsx.Code(err))

	c.Clock().Advance(time.Hour)
	s = describe()
	assert.Equal(t, mgntypes.LifeCycleStateReadyForTest, s.LifeCycle.State)
	assert.Equal(t, "PT2S", aws.ToString(s.DataReplicationInfo.LagDuration))
	_, err = c.MGN().StartCutover(ctx, &mgn.StartCutoverInput{SourceServerIDs: []string{id}})
	assert.Equal(t, "ValidationException", awsx.Code(err), "cutover needs READY_FOR_CUTOVER")
	test, err := c.MGN().StartTest(ctx, &mgn.StartTestInput{SourceServerIDs: []string{id}})
	require.NoError(t, err)
	assert.Equal(t, mgntypes.JobStatusPending, test.Job.Status)
	assert.Equal(t, "TESTING", c.MGN().ServerLifecycle(id))
	assert.Nil(t, describe().LaunchedInstance, "nothing launched while the job runs")
	assert.Equal(t, aws.ToString(test.Job.JobID), aws.ToString(describe().LifeCycle.LastTest.Initiated.JobID), "the job is the server's last test")
	c.Clock().Advance(11 * time.Minute)
	jobs, err := c.MGN().DescribeJobs(ctx, &mgn.DescribeJobsInput{Filters: &mgntypes.DescribeJobsRequestFilters{JobIDs: []string{aws.ToString(test.Job.JobID)}}})
	require.NoError(t, err)
	assert.Equal(t, mgntypes.JobStatusCompleted, jobs.Items[0].Status)
	assert.Equal(t, mgntypes.LaunchStatusLaunched, jobs.Items[0].ParticipatingServers[0].LaunchStatus)
	assert.NotNil(t, describe().LaunchedInstance)

	_, err = c.MGN().FinalizeCutover(ctx, &mgn.FinalizeCutoverInput{SourceServerID: aws.String(id)})
	assert.Equal(t, "ValidationException", awsx.Code(err), "finalize needs CUTTING_OVER")
	_, err = c.MGN().ChangeServerLifeCycleState(ctx, &mgn.ChangeServerLifeCycleStateInput{SourceServerID: aws.String(id),
		LifeCycle: &mgntypes.ChangeServerLifeCycleStateSourceServerLifecycle{State: mgntypes.ChangeServerLifeCycleStateSourceServerLifecycleStateReadyForCutover}})
	require.NoError(t, err)
	cut, err := c.MGN().StartCutover(ctx, &mgn.StartCutoverInput{SourceServerIDs: []string{id}})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(cut.Job.JobID), aws.ToString(describe().LifeCycle.LastCutover.Initiated.JobID))
	assert.Equal(t, aws.ToString(test.Job.JobID), aws.ToString(describe().LifeCycle.LastTest.Initiated.JobID), "the last test stays")
	_, err = c.MGN().FinalizeCutover(ctx, &mgn.FinalizeCutoverInput{SourceServerID: aws.String(id)})
	assert.Equal(t, "ValidationException", awsx.Code(err), "the cutover instance has not launched yet")
	c.Clock().Advance(11 * time.Minute)
	_, err = c.MGN().FinalizeCutover(ctx, &mgn.FinalizeCutoverInput{SourceServerID: aws.String(id)})
	require.NoError(t, err)
	s = describe()
	assert.Equal(t, mgntypes.LifeCycleStateCutover, s.LifeCycle.State)
	assert.Equal(t, mgntypes.DataReplicationStateDisconnected, s.DataReplicationInfo.DataReplicationState)

	var buf bytes.Buffer
	require.NoError(t, c.Save(&buf))
	c2, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "CUTOVER", c2.MGN().ServerLifecycle(id))
}

func TestMGNTemplateUpdateKeepsZeroThrottle(t *testing.T) {
	ctx := context.Background()
	c := fakecloud.New()
	_, err := c.MGN().InitializeService(ctx, &mgn.InitializeServiceInput{})
	require.NoError(t, err)
	_, err = c.MGN().CreateReplicationConfigurationTemplate(ctx, &mgn.CreateReplicationConfigurationTemplateInput{StagingAreaSubnetId: aws.String("subnet-0123456789abcdef0")})
	assert.Equal(t, "ValidationException", awsx.Code(err), "required fields")
	out, err := c.MGN().CreateReplicationConfigurationTemplate(ctx, &mgn.CreateReplicationConfigurationTemplateInput{
		StagingAreaSubnetId: aws.String("subnet-0123456789abcdef0"), ReplicationServersSecurityGroupsIDs: []string{}, AssociateDefaultSecurityGroup: aws.Bool(true),
		ReplicationServerInstanceType: aws.String("t3.small"), UseDedicatedReplicationServer: aws.Bool(false), DefaultLargeStagingDiskType: mgntypes.ReplicationConfigurationDefaultLargeStagingDiskTypeGp3,
		EbsEncryption: mgntypes.ReplicationConfigurationEbsEncryptionDefault, DataPlaneRouting: mgntypes.ReplicationConfigurationDataPlaneRoutingPrivateIp,
		CreatePublicIP: aws.Bool(false), StagingAreaTags: map[string]string{}, BandwidthThrottling: 100,
	})
	require.NoError(t, err)
	id := out.ReplicationConfigurationTemplateID
	_, err = c.MGN().UpdateReplicationConfigurationTemplate(ctx, &mgn.UpdateReplicationConfigurationTemplateInput{ReplicationConfigurationTemplateID: id, BandwidthThrottling: 0})
	require.NoError(t, err)
	got, err := c.MGN().DescribeReplicationConfigurationTemplates(ctx, &mgn.DescribeReplicationConfigurationTemplatesInput{})
	require.NoError(t, err)
	assert.Equal(t, int64(100), got.Items[0].BandwidthThrottling, "a zero throttle is not sent, so not applied")
	_, err = c.MGN().UpdateReplicationConfigurationTemplate(ctx, &mgn.UpdateReplicationConfigurationTemplateInput{ReplicationConfigurationTemplateID: id, EbsEncryption: mgntypes.ReplicationConfigurationEbsEncryptionCustom})
	assert.Equal(t, "ValidationException", awsx.Code(err), "CUSTOM needs a key")
}
