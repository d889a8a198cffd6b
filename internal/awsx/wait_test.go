package awsx_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// stepClock is a skip-ahead clock: After moves time and fires at once.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func TestPoll(t *testing.T) {
	clock := &stepClock{now: time.Unix(0, 0)}
	calls := 0
	err := awsx.Poll(context.Background(), clock, 10*time.Second, time.Minute, func(context.Context) (bool, error) {
		calls++
		return calls == 3, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
	assert.Equal(t, 20*time.Second, clock.Now().Sub(time.Unix(0, 0)), "two intervals of clock time, no real sleep")

	err = awsx.Poll(context.Background(), clock, 10*time.Second, 30*time.Second, func(context.Context) (bool, error) { return false, nil })
	assert.ErrorIs(t, err, awsx.ErrTimeout)

	boom := errors.New("boom")
	err = awsx.Poll(context.Background(), clock, time.Second, time.Minute, func(context.Context) (bool, error) { return false, boom })
	assert.ErrorIs(t, err, boom)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = awsx.Poll(ctx, &blockClock{}, time.Second, 0, func(context.Context) (bool, error) { return false, nil })
	assert.ErrorIs(t, err, context.Canceled)
}

// blockClock never fires: only ctx can end a wait on it.
type blockClock struct{}

func (blockClock) Now() time.Time                       { return time.Unix(0, 0) }
func (blockClock) After(time.Duration) <-chan time.Time { return nil }

// describer answers DescribeVpcs from a script of states and errors.
type describer struct {
	states []string
	errs   []error
	calls  int
}

func (d *describer) DescribeVpcs(_ context.Context, _ *ec2.DescribeVpcsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	i := min(d.calls, len(d.states)-1)
	d.calls++
	if d.errs != nil && d.errs[i] != nil {
		return nil, d.errs[i]
	}
	return &ec2.DescribeVpcsOutput{Vpcs: []types.Vpc{{VpcId: aws.String("vpc-1"), State: types.VpcState(d.states[i])}}}, nil
}

func vpcAcceptor(api ec2.DescribeVpcsAPIClient) awsx.Acceptor[ec2.DescribeVpcsInput, ec2.DescribeVpcsOutput] {
	var accept awsx.Acceptor[ec2.DescribeVpcsInput, ec2.DescribeVpcsOutput]
	ec2.NewVpcAvailableWaiter(api, func(o *ec2.VpcAvailableWaiterOptions) { accept = o.Retryable })
	return accept
}

func TestWaitUsesTheSDKAcceptorOnTheClock(t *testing.T) {
	ctx := context.Background()
	t.Run("pending then available", func(t *testing.T) {
		clock := &stepClock{now: time.Unix(0, 0)}
		d := &describer{states: []string{"pending", "pending", "available"}}
		attempts := 0
		out, err := awsx.Wait(ctx, clock, d.DescribeVpcs, &ec2.DescribeVpcsInput{}, vpcAcceptor(d), awsx.WaitOptions{Timeout: time.Minute, OnAttempt: func(int, time.Duration) { attempts++ }})
		require.NoError(t, err)
		assert.Equal(t, types.VpcStateAvailable, out.Vpcs[0].State)
		assert.Equal(t, 3, d.calls)
		assert.Equal(t, 2, attempts)
		assert.Positive(t, clock.Now().Sub(time.Unix(0, 0)))
	})
	t.Run("not visible yet is retried when named", func(t *testing.T) {
		clock := &stepClock{now: time.Unix(0, 0)}
		d := &describer{states: []string{"", "available"}, errs: []error{sdkError("EC2", "InvalidVpcID.NotFound"), nil}}
		_, err := awsx.Wait(ctx, clock, d.DescribeVpcs, &ec2.DescribeVpcsInput{}, vpcAcceptor(d), awsx.WaitOptions{Timeout: time.Minute, RetryCodes: []string{"InvalidVpcID.NotFound"}})
		require.NoError(t, err)
	})
	t.Run("access denied fails fast, not at the timeout", func(t *testing.T) {
		clock := &stepClock{now: time.Unix(0, 0)}
		d := &describer{states: []string{""}, errs: []error{sdkError("EC2", "UnauthorizedOperation")}}
		_, err := awsx.Wait(ctx, clock, d.DescribeVpcs, &ec2.DescribeVpcsInput{}, vpcAcceptor(d), awsx.WaitOptions{Timeout: time.Hour})
		require.Error(t, err)
		assert.Equal(t, "UnauthorizedOperation", awsx.Code(err))
		assert.Equal(t, 1, d.calls)
		assert.Equal(t, time.Duration(0), clock.Now().Sub(time.Unix(0, 0)))
	})
	t.Run("timeout", func(t *testing.T) {
		clock := &stepClock{now: time.Unix(0, 0)}
		d := &describer{states: []string{"pending"}}
		_, err := awsx.Wait(ctx, clock, d.DescribeVpcs, &ec2.DescribeVpcsInput{}, vpcAcceptor(d), awsx.WaitOptions{Timeout: time.Minute})
		assert.ErrorIs(t, err, awsx.ErrTimeout)
		assert.LessOrEqual(t, clock.Now().Sub(time.Unix(0, 0)), time.Minute+30*time.Second)
	})
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	clock := &stepClock{now: time.Unix(0, 0)}
	calls := 0
	err := awsx.Retry(ctx, clock, 5, time.Second, []string{"NoSuchEntity"}, func(context.Context) error {
		calls++
		if calls < 3 {
			return sdkError("IAM", "NoSuchEntity")
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
	assert.Equal(t, 3*time.Second, clock.Now().Sub(time.Unix(0, 0)), "1s then 2s backoff")

	calls = 0
	err = awsx.Retry(ctx, clock, 3, time.Second, []string{"NoSuchEntity"}, func(context.Context) error { calls++; return sdkError("IAM", "NoSuchEntity") })
	assert.ErrorContains(t, err, "still failing after 3 attempts")
	assert.Equal(t, 3, calls)

	calls = 0
	err = awsx.Retry(ctx, clock, 3, time.Second, []string{"NoSuchEntity"}, func(context.Context) error { calls++; return sdkError("IAM", "AccessDenied") })
	assert.Equal(t, "AccessDenied", awsx.Code(err))
	assert.Equal(t, 1, calls, "other errors are not retried")
}

// TestPollChecksAgainAfterATimeJump: when the clock jumps past the
// deadline while the condition is being checked (a busy machine; other
// goroutines on a simulated clock), Poll checks once more instead of
// timing out on a state it never saw.
func TestPollChecksAgainAfterATimeJump(t *testing.T) {
	clock := &stepClock{now: time.Unix(0, 0)}
	calls := 0
	err := awsx.Poll(context.Background(), clock, 10*time.Second, time.Minute, func(context.Context) (bool, error) {
		calls++
		if calls == 1 {
			clock.After(10 * time.Minute) // someone else moved time on
			return false, nil
		}
		return true, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, calls)
}
