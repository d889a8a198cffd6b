package fakecloud_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func TestSkipAheadClock(t *testing.T) {
	c := fakecloud.NewClock(fakecloud.Epoch)
	assert.Equal(t, fakecloud.Epoch, c.Now())
	got := <-c.After(10 * time.Minute)
	assert.Equal(t, fakecloud.Epoch.Add(10*time.Minute), got, "After fires at once, with time moved")
	c.Advance(time.Hour)
	assert.Equal(t, fakecloud.Epoch.Add(70*time.Minute), c.Now())
	<-c.After(-time.Second)
	assert.Equal(t, fakecloud.Epoch.Add(70*time.Minute), c.Now(), "time never goes back")
}

func TestScaledClock(t *testing.T) {
	c := fakecloud.NewScaledClock(fakecloud.Epoch, 60000) // a minute per millisecond
	start := time.Now()
	<-c.After(time.Minute)
	assert.Less(t, time.Since(start), time.Second)
	assert.GreaterOrEqual(t, c.Now().Sub(fakecloud.Epoch), time.Minute)
}

func TestErrorsLookLikeTheSDKs(t *testing.T) {
	cloud := fakecloud.New()
	_, err := cloud.KMS().DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String("alias/nope")})
	require.Error(t, err)
	var op *smithy.OperationError
	require.True(t, errors.As(err, &op))
	assert.Equal(t, "KMS", op.Service())
	assert.Equal(t, "DescribeKey", op.Operation())
	var api smithy.APIError
	require.True(t, errors.As(err, &api))
	assert.Equal(t, "NotFoundException", api.ErrorCode())
	assert.True(t, awsx.IsNotFound(err))
	calls := cloud.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, fakecloud.Call{Service: "KMS", Op: "DescribeKey", Write: false, Code: "NotFoundException", At: fakecloud.Epoch}, calls[0])
}

func TestThrottlingIsRetriedLikeTheSDK(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.5})
	for range 20 {
		_, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
		require.NoError(t, err, "the retryer absorbs throttling")
	}
	throttled := 0
	for _, c := range cloud.Calls() {
		if c.Code == "ThrottlingException" {
			throttled++
		}
	}
	assert.Positive(t, throttled)
	assert.Len(t, cloud.KMS().LiveKeys(), 20, "each create took effect once")
	assert.True(t, cloud.Clock().Now().After(fakecloud.Epoch), "backoff waited on the fake clock")

	// Always throttled: the retryer gives up after its attempts.
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 1})
	cloud.ResetCalls()
	_, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	assert.True(t, awsx.IsThrottle(err))
	assert.Equal(t, awsx.MaxAttempts, cloud.Count("KMS", "CreateKey"))

	// Scoped to another service: KMS is untouched.
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 1, Services: []string{"EC2"}})
	_, err = cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	assert.NoError(t, err)
}

func TestServerErrorsAreRetried(t *testing.T) {
	cloud := fakecloud.New()
	cloud.SetFaults(fakecloud.Faults{ServerErrorRate: 0.5})
	for range 10 {
		_, err := cloud.KMS().ListKeys(context.Background(), &kms.ListKeysInput{})
		require.NoError(t, err)
	}
	codes := map[string]int{}
	for _, c := range cloud.Calls() {
		codes[c.Code]++
	}
	assert.Positive(t, codes["InternalError"])
}

func TestCrash(t *testing.T) {
	ctx := context.Background()
	for _, after := range []bool{false, true} {
		cloud := fakecloud.New()
		cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 2, CrashAfter: after})
		_, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
		require.NoError(t, err)
		_, err = cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
		require.ErrorIs(t, err, fakecloud.ErrCrash)
		wantKeys := 1
		if after {
			wantKeys = 2 // it happened; only the response was lost
		}
		assert.Len(t, cloud.KMS().LiveKeys(), wantKeys, "after=%v", after)
		_, err = cloud.KMS().ListKeys(ctx, &kms.ListKeysInput{})
		assert.ErrorIs(t, err, fakecloud.ErrCrash, "the process is dead until Restart")
		cloud.Restart()
		_, err = cloud.KMS().ListKeys(ctx, &kms.ListKeysInput{})
		assert.NoError(t, err)
	}
}

func TestNotFoundAfterCreate(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cloud.SetFaults(fakecloud.Faults{NotFoundReads: 2})
	out, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	id := out.KeyMetadata.KeyId
	for i := range 2 {
		_, err = cloud.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
		assert.True(t, awsx.IsNotFound(err), "read %d", i)
	}
	_, err = cloud.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	assert.NoError(t, err)
}

func TestLatencyUsesTheFakeClock(t *testing.T) {
	cloud := fakecloud.New()
	cloud.SetFaults(fakecloud.Faults{Latency: 3 * time.Second})
	_, err := cloud.KMS().ListKeys(context.Background(), &kms.ListKeysInput{})
	require.NoError(t, err)
	assert.Equal(t, fakecloud.Epoch.Add(3*time.Second), cloud.Clock().Now())
}

func TestSaveLoad(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	out, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("k")})
	require.NoError(t, err)
	_, err = cloud.KMS().CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/a"), TargetKeyId: out.KeyMetadata.KeyId})
	require.NoError(t, err)
	cloud.Clock().Advance(time.Hour)

	var buf bytes.Buffer
	require.NoError(t, cloud.Save(&buf))
	loaded, err := fakecloud.Load(bytes.NewReader(buf.Bytes()), 0)
	require.NoError(t, err)
	assert.Equal(t, cloud.Clock().Now(), loaded.Clock().Now(), "time resumes where it was")
	d, err := loaded.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/a")})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(out.KeyMetadata.Arn), aws.ToString(d.KeyMetadata.Arn))

	// New IDs continue the sequence: no collision with saved ones.
	k2, err := loaded.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	assert.NotEqual(t, aws.ToString(out.KeyMetadata.KeyId), aws.ToString(k2.KeyMetadata.KeyId))

	_, err = fakecloud.Load(bytes.NewReader([]byte(`{"version":1,"services":{"nope":{}}}`)), 0)
	assert.ErrorContains(t, err, `unknown service "nope"`)
	_, err = fakecloud.Load(bytes.NewReader([]byte(`{"version":9}`)), 0)
	assert.ErrorContains(t, err, "unsupported state version")

	path := t.TempDir() + "/state.json"
	require.NoError(t, cloud.SaveFile(path))
	fromFile, err := fakecloud.LoadFile(path, 0)
	require.NoError(t, err)
	assert.Len(t, fromFile.KMS().LiveKeys(), 1)
	fresh, err := fakecloud.LoadFile(t.TempDir()+"/missing.json", 0)
	require.NoError(t, err)
	assert.Empty(t, fresh.KMS().LiveKeys())
}

func TestKMSDeletionWindow(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	out, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	_, err = cloud.KMS().ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: out.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(6)})
	assert.ErrorContains(t, err, "between 7 and 30")
	_, err = cloud.KMS().ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: out.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)})
	require.NoError(t, err)
	state, ok := cloud.KMS().KeyState(*out.KeyMetadata.KeyId)
	assert.True(t, ok)
	assert.Equal(t, "PendingDeletion", state)
	cloud.Clock().Advance(7 * 24 * time.Hour)
	_, ok = cloud.KMS().KeyState(*out.KeyMetadata.KeyId)
	assert.False(t, ok, "gone after the window")
}

func TestPagination(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	for range 7 {
		_, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
		require.NoError(t, err)
	}
	p := kms.NewListKeysPaginator(cloud.KMS(), &kms.ListKeysInput{Limit: aws.Int32(3)})
	pages, keys := 0, 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		keys += len(page.Keys)
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, 7, keys)
}

func TestTaggedWith(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	_, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("cutover:env"), TagValue: aws.String("dev")}}})
	require.NoError(t, err)
	_, err = cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("cutover:env"), TagValue: aws.String("prod")}}})
	require.NoError(t, err)
	got, err := cloud.TaggedWith("cutover:env", "dev")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "kms", got[0].Service)
	assert.Equal(t, "Enabled", got[0].State)
}
