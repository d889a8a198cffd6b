package fakecloud_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// The source fence: frozen writes, confirmation that trails the fake
// clock by the task's CDC latency and stops where the task stopped, and
// state that survives Save and Load without entering the call log.
func TestDMSSourceFence(t *testing.T) {
	ctx := context.Background()
	w := newDMSWorld(t)
	api := w.cloud.DMS()
	arn := w.task(t, "fwd", dmstypes.MigrationTypeValueFullLoadAndCdc)
	fence := api.SourceFence(arn)

	pos, err := fence.Freeze(ctx)
	require.NoError(t, err)
	ok, err := fence.Confirmed(ctx, pos)
	require.NoError(t, err)
	assert.False(t, ok, "a task that never ran confirms nothing")
	require.NoError(t, fence.Thaw(ctx))
	assert.False(t, api.SourceFrozen(arn))

	_, err = api.StartReplicationTask(ctx, &dms.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: dmstypes.StartReplicationTaskTypeValueStartReplication})
	require.NoError(t, err)
	w.cloud.Clock().Advance(30 * time.Minute) // the full load, then CDC
	api.SetTaskLatency(arn, time.Second, 20*time.Second)

	calls := len(w.cloud.Calls())
	pos, err = fence.Freeze(ctx)
	require.NoError(t, err)
	again, err := fence.Freeze(ctx)
	require.NoError(t, err)
	assert.Equal(t, pos, again, "freezing a frozen source at the same time is the same position")
	frozen, err := fence.Frozen(ctx)
	require.NoError(t, err)
	assert.True(t, frozen)

	w.cloud.Clock().Advance(19 * time.Second)
	ok, err = fence.Confirmed(ctx, pos)
	require.NoError(t, err)
	assert.False(t, ok, "20 s behind: not there yet")
	w.cloud.Clock().Advance(time.Second)
	ok, err = fence.Confirmed(ctx, pos)
	require.NoError(t, err)
	assert.True(t, ok, "caught up with the freeze")
	assert.Len(t, w.cloud.Calls(), calls, "the on-premises database is not AWS")

	// A stopped task confirms nothing past where it stopped.
	_, err = api.StopReplicationTask(ctx, &dms.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)})
	require.NoError(t, err)
	w.cloud.Clock().Advance(time.Hour)
	later, err := fence.Freeze(ctx)
	require.NoError(t, err)
	ok, err = fence.Confirmed(ctx, later)
	require.NoError(t, err)
	assert.False(t, ok)

	// The frozen state survives Save and Load.
	var saved bytes.Buffer
	require.NoError(t, w.cloud.Save(&saved))
	loaded, err := fakecloud.Load(&saved, 0)
	require.NoError(t, err)
	assert.True(t, loaded.DMS().SourceFrozen(arn))

	_, err = fence.Confirmed(ctx, "0/16B3748")
	assert.ErrorContains(t, err, "not a position of this source")
	_, err = api.SourceFence("arn:aws:dms:us-east-1:123456789012:task:NOPE").Confirmed(ctx, later)
	assert.ErrorContains(t, err, "no task")
}
