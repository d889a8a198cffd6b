package tracking_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

func TestLeaseExpiryAndTakeover(t *testing.T) {
	ctx := context.Background()
	a, env, cloud := newStore(t, tracking.StoreOptions{})
	b, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{})
	require.NoError(t, err)
	t0 := cloud.Clock().Now()

	la, err := a.AcquireLease(ctx, "alice@laptop", 10*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(10*time.Minute), la.Expires)

	_, err = b.AcquireLease(ctx, "ci-job-42", 10*time.Minute)
	require.ErrorIs(t, err, tracking.ErrLeaseHeld)
	var held *tracking.LeaseHeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, "alice@laptop", held.Owner)
	assert.Equal(t, la.Expires, held.Expires)
	_, err = a.AcquireLease(ctx, "alice@laptop", 10*time.Minute)
	require.ErrorIs(t, err, tracking.ErrLeaseHeld, "the same owner name twice is still two appliers")

	cloud.Clock().Advance(10 * time.Minute)
	_, err = b.AcquireLease(ctx, "ci-job-42", 10*time.Minute)
	require.ErrorIs(t, err, tracking.ErrLeaseHeld, "held up to and including its expiry instant")

	cloud.Clock().Advance(time.Second)
	lb, err := b.AcquireLease(ctx, "ci-job-42", 10*time.Minute)
	require.NoError(t, err, "an expired lease is taken over")

	_, err = a.RenewLease(ctx, la, 10*time.Minute)
	require.ErrorIs(t, err, tracking.ErrLeaseLost)
	assert.Contains(t, err.Error(), "ci-job-42 holds it")
	require.ErrorIs(t, a.ReleaseLease(ctx, la), tracking.ErrLeaseLost, "the old holder cannot release the new one's lease")
	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Lease)
	assert.Equal(t, "ci-job-42", st.Lease.Owner)

	cloud.Clock().Advance(5 * time.Minute)
	lb, err = b.RenewLease(ctx, lb, 10*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, cloud.Clock().Now().Add(10*time.Minute), lb.Expires)
	require.NoError(t, b.ReleaseLease(ctx, lb))
	require.NoError(t, b.ReleaseLease(ctx, lb), "releasing a released lease is a no-op")

	_, err = a.AcquireLease(ctx, "alice@laptop", 10*time.Minute)
	require.NoError(t, err)

	evs, err := a.Events(ctx, time.Time{})
	require.NoError(t, err)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{tracking.EventLeaseAcquired, tracking.EventLeaseTakenOver, tracking.EventLeaseReleased, tracking.EventLeaseAcquired}, types)
	assert.Equal(t, "alice@laptop", evs[1].Details["previousOwner"])

	_, err = a.AcquireLease(ctx, "", time.Minute)
	require.ErrorContains(t, err, "owner: required")
	_, err = a.AcquireLease(ctx, "x", 48*time.Hour)
	require.ErrorContains(t, err, "outside 1s..24h")
}

func TestLockWithTheRunbook(t *testing.T) {
	ctx := context.Background()
	s, env, cloud := newStore(t, tracking.StoreOptions{LockTTL: 30 * time.Minute})
	other, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{})
	require.NoError(t, err)
	var second error
	rb, err := migration.NewRunbook(migration.Options{Lock: s, Owner: "alice@laptop"}, migration.Step{
		Name: "work",
		Apply: func(ctx context.Context, env migration.Env) error {
			_, second = other.Lock(ctx, "bob@desk")
			return nil
		},
	})
	require.NoError(t, err)
	require.NoError(t, rb.Apply(ctx, env))
	require.ErrorIs(t, second, tracking.ErrLeaseHeld, "a second applier is kept off the env")
	assert.Contains(t, second.Error(), "alice@laptop holds it")

	st, err := s.Status(ctx)
	require.NoError(t, err)
	assert.Nil(t, st.Lease, "released after the run")

	// Now bob may.
	unlock, err := other.Lock(ctx, "bob@desk")
	require.NoError(t, err)
	require.NoError(t, unlock(ctx))
	require.NoError(t, unlock(ctx), "unlock is idempotent")
}

// manualClock is a clock that moves only when Advance is called, and
// signals every wait armed on it, so a test can step a background
// goroutine deterministically.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
	armed   chan time.Duration
}

type manualWaiter struct {
	at time.Time
	ch chan time.Time
}

func newManualClock(now time.Time) *manualClock {
	return &manualClock{now: now, armed: make(chan time.Duration, 16)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, manualWaiter{at: c.now.Add(d), ch: ch})
	c.mu.Unlock()
	c.armed <- d
	return ch
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func TestLockKeepAlive(t *testing.T) {
	ctx := context.Background()
	_, env, cloud := newStore(t, tracking.StoreOptions{})
	clock := newManualClock(cloud.Clock().Now())
	env.Clock = clock
	s, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{LockTTL: 30 * time.Minute, LockKeepAlive: true})
	require.NoError(t, err)
	other, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{})
	require.NoError(t, err)
	t0 := clock.Now()

	unlock, err := s.Lock(ctx, "ci-job-7")
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, <-clock.armed, "renews every third of the TTL")
	clock.Advance(10 * time.Minute)
	<-clock.armed // renewed, waiting for the next round
	st, err := s.Status(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Lease)
	assert.Equal(t, t0.Add(40*time.Minute), st.Lease.Expires)

	clock.Advance(25 * time.Minute) // past the first expiry; the renewal at 20 min is due
	<-clock.armed
	_, err = other.AcquireLease(ctx, "intruder", time.Minute)
	require.ErrorIs(t, err, tracking.ErrLeaseHeld, "kept alive past its first TTL")

	require.NoError(t, unlock(ctx))
	st, err = s.Status(ctx)
	require.NoError(t, err)
	assert.Nil(t, st.Lease)
}

func TestLockKeepAliveLost(t *testing.T) {
	ctx := context.Background()
	_, env, cloud := newStore(t, tracking.StoreOptions{})
	clock := newManualClock(cloud.Clock().Now())
	env.Clock = clock
	s, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{LockTTL: 30 * time.Minute, LockKeepAlive: true})
	require.NoError(t, err)
	unlock, err := s.Lock(ctx, "ci-job-7")
	require.NoError(t, err)
	<-clock.armed
	// Someone force-takes the lease (an operator breaking a stuck lock).
	cloud.DynamoDB().PutRawItem("migration-tracking-dev", map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "env#dev"}, "sk": &types.AttributeValueMemberS{Value: "state#lease"},
		"kind": &types.AttributeValueMemberS{Value: "lease"}, "owner": &types.AttributeValueMemberS{Value: "operator"},
		"token": &types.AttributeValueMemberS{Value: "other"}, "expires": &types.AttributeValueMemberS{Value: "2099-01-01T00:00:00.000000000Z"},
	})
	clock.Advance(10 * time.Minute)
	err = unlock(ctx)
	require.ErrorIs(t, err, tracking.ErrLeaseLost, "the run learns its lock did not hold")
	assert.Contains(t, err.Error(), "operator holds it")
	st, err := s.Status(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Lease)
	assert.Equal(t, "operator", st.Lease.Owner, "the new holder's lease is left alone")
	evs, err := s.Events(ctx, time.Time{})
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	assert.Contains(t, evs[len(evs)-1].Summary, "lease lost by ci-job-7", "the loss is in the history")
}

// controllerStore is the shape the cutover controller declares for the
// store it drives (rollback.ControllerStore): the Store must keep it.
type controllerStore interface {
	PhaseVersion(ctx context.Context) (migration.Phase, int64, error)
	Transition(ctx context.Context, from, to migration.Phase, reason string) error
	Record(ctx context.Context, e migration.HistoryEntry) error
	RecordSplit(ctx context.Context, s migration.Split, changeID string) error
	LastValidation(ctx context.Context, name string) (migration.ValidationResult, bool, error)
	migration.Locker
	Renew(ctx context.Context, owner string) error
}

var _ controllerStore = (*tracking.Store)(nil)

func TestRenewAndReleaseByOwner(t *testing.T) {
	ctx := context.Background()
	s, env, cloud := newStore(t, tracking.StoreOptions{LockTTL: 30 * time.Minute})
	other, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{})
	require.NoError(t, err)
	unlock, err := s.Lock(ctx, "controller@ops-1")
	require.NoError(t, err)

	cloud.Clock().Advance(20 * time.Minute)
	require.NoError(t, s.Renew(ctx, "controller@ops-1"))
	cloud.Clock().Advance(15 * time.Minute) // past the first TTL
	_, err = other.AcquireLease(ctx, "intruder", time.Minute)
	require.ErrorIs(t, err, tracking.ErrLeaseHeld, "renewed by the controller's own loop")
	st, err := s.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, cloud.Clock().Now().Add(-15*time.Minute+30*time.Minute), st.Lease.Expires)

	require.ErrorIs(t, other.Renew(ctx, "intruder"), tracking.ErrLeaseLost)
	require.ErrorIs(t, other.Release(ctx, "intruder"), tracking.ErrLeaseLost, "a non-holder cannot release")
	require.NoError(t, unlock(ctx))
	err = s.Renew(ctx, "controller@ops-1")
	require.ErrorIs(t, err, tracking.ErrLeaseLost)
	assert.Contains(t, err.Error(), "it was released")
	require.NoError(t, s.Release(ctx, "controller@ops-1"), "nothing held: a no-op")

	la, err := other.AcquireLease(ctx, "batch", time.Hour)
	require.NoError(t, err)
	require.NoError(t, other.Release(ctx, la.Owner))
	st, err = s.Status(ctx)
	require.NoError(t, err)
	assert.Nil(t, st.Lease)
}
