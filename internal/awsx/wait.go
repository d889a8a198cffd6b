package awsx

import (
	"context"
	"errors"
	"fmt"
	"time"

	smithywaiter "github.com/aws/smithy-go/waiter"
)

// Clock is the time source of every wait. migration.Clock satisfies it; the
// simulated cloud's clock does too, so waits in tests and in -sim advance
// simulated time instead of sleeping.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// ErrTimeout is wrapped by the error Poll and Wait return when the timeout
// passes before the condition holds.
var ErrTimeout = errors.New("timeout")

// Sleep waits for d on clock. It returns ctx.Err() if ctx ends first.
func Sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}

// Poll calls cond, then again every interval on clock, until cond reports
// done, returns an error, timeout passes (an error wrapping ErrTimeout) or
// ctx ends. A timeout of zero or less means no timeout.
func Poll(ctx context.Context, clock Clock, interval, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	if interval <= 0 {
		return fmt.Errorf("poll: interval must be positive, got %v", interval)
	}
	start := clock.Now()
	for {
		checked := clock.Now()
		done, err := cond(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		// Give up only when a check made at or after the deadline failed:
		// time that passed meanwhile (a busy machine, other goroutines on a
		// simulated clock) earns one more check, never a timeout unseen.
		elapsed := checked.Sub(start)
		if timeout > 0 && elapsed >= timeout {
			return fmt.Errorf("gave up after %v: %w", timeout, ErrTimeout)
		}
		wait := interval
		if timeout > 0 {
			wait = min(interval, timeout-elapsed)
		}
		if err := Sleep(ctx, clock, wait); err != nil {
			return err
		}
	}
}

// Acceptor is the signature of an SDK waiter's Retryable option: given the
// input, output and error of one describe call it says whether to try
// again (true, nil), stop because the state is reached (false, nil) or stop
// on a failure state or an error it does not expect (false, err).
//
// Take it from the SDK's generated waiter instead of writing one:
//
//	var accept awsx.Acceptor[ec2.DescribeVpcsInput, ec2.DescribeVpcsOutput]
//	ec2.NewVpcAvailableWaiter(api, func(o *ec2.VpcAvailableWaiterOptions) { accept = o.Retryable })
type Acceptor[In, Out any] func(context.Context, *In, *Out, error) (bool, error)

// WaitOptions bound a Wait. Zero values take the defaults noted per field.
type WaitOptions struct {
	// MinDelay and MaxDelay bound the delay between attempts, computed the
	// SDK's way (smithy-go/waiter.ComputeDelay). Defaults: 2s and 30s.
	MinDelay, MaxDelay time.Duration
	// Timeout bounds the whole wait. Required.
	Timeout time.Duration
	// RetryCodes are API error codes that mean "not visible yet" for this
	// wait (eventual consistency right after a create, such as
	// InvalidVpcID.NotFound). They are retried; every other error not
	// accepted by the acceptor fails the wait at once, so AccessDenied never
	// hides behind a timeout.
	RetryCodes []string
	// OnAttempt, when set, is called after every attempt that has to wait
	// again, with the attempt number and the time waited so far.
	OnAttempt func(attempt int, waited time.Duration)
}

// Wait calls call(ctx, in) until accept says the state is reached, using
// the SDK waiter's acceptor and delay schedule but sleeping on clock. It
// returns the last output.
func Wait[In, Out, Opt any](ctx context.Context, clock Clock, call func(context.Context, *In, ...Opt) (*Out, error), in *In, accept Acceptor[In, Out], o WaitOptions) (*Out, error) {
	if o.Timeout <= 0 {
		return nil, errors.New("wait: timeout must be positive")
	}
	if o.MinDelay <= 0 {
		o.MinDelay = 2 * time.Second
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 30 * time.Second
	}
	if o.MinDelay > o.MaxDelay {
		o.MinDelay = o.MaxDelay
	}
	start := clock.Now()
	for attempt := int64(1); ; attempt++ {
		checked := clock.Now()
		out, err := call(ctx, in)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		retry := false
		if err != nil && HasCode(err, o.RetryCodes...) {
			retry = true
		} else {
			retry, err = accept(ctx, in, out, err)
			if err != nil {
				return out, err
			}
			if !retry {
				return out, nil
			}
		}
		// As in Poll: only a check made at or after the deadline times out.
		waited := checked.Sub(start)
		remaining := o.Timeout - waited
		if remaining <= 0 {
			return out, fmt.Errorf("gave up after %v: %w", o.Timeout, ErrTimeout)
		}
		delay, derr := smithywaiter.ComputeDelay(attempt, o.MinDelay, o.MaxDelay, remaining)
		if derr != nil {
			return out, derr
		}
		if delay <= 0 {
			// ComputeDelay leaves the SDK's waiters to a context deadline
			// at the end; here the last attempt happens at the timeout.
			delay = remaining
		}
		if o.OnAttempt != nil {
			o.OnAttempt(int(attempt), waited)
		}
		if err := Sleep(ctx, clock, delay); err != nil {
			return out, err
		}
	}
}

// Retry calls fn until it succeeds or fails with an error whose code is not
// in codes, at most attempts times, sleeping delay (doubled each time, up to
// 30s) on clock between tries. It absorbs the eventual-consistency errors
// an API names (an IAM role not yet usable, an ID not yet visible) — never
// throttling or 5xx, which the SDK retryer already handles.
func Retry(ctx context.Context, clock Clock, attempts int, delay time.Duration, codes []string, fn func(context.Context) error) error {
	var err error
	for i := 0; i < attempts; i++ {
		err = fn(ctx)
		if err == nil || !HasCode(err, codes...) {
			return err
		}
		if i == attempts-1 {
			break
		}
		if serr := Sleep(ctx, clock, delay); serr != nil {
			return serr
		}
		delay = min(delay*2, 30*time.Second)
	}
	return fmt.Errorf("still failing after %d attempts: %w", attempts, err)
}
