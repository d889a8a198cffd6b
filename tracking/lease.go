package tracking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutoverkit/cutover/migration"
)

// ErrLeaseHeld is wrapped by the error AcquireLease returns when another
// owner holds an unexpired lease (see *LeaseHeldError for who and until
// when).
var ErrLeaseHeld = errors.New("lease held by another owner")

// ErrLeaseLost is wrapped by the error the renew and release methods
// return when the lease is no longer the caller's: it expired and someone
// took it over.
var ErrLeaseLost = errors.New("lease lost")

// LeaseHeldError says who holds the lease and until when.
type LeaseHeldError struct {
	Owner   string
	Expires time.Time
}

// Error says that the lease is held, by whom and until when.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("%v: %s holds it until %s", ErrLeaseHeld, e.Owner, fmtTime(e.Expires))
}

// Unwrap returns ErrLeaseHeld.
func (e *LeaseHeldError) Unwrap() error { return ErrLeaseHeld }

// Lease is the env's lock: one owner at a time, until Expires. Token
// identifies this holding; RenewLease and ReleaseLease guard on it, so an
// owner whose lease expired and was taken over cannot renew or release
// the new holder's.
type Lease struct {
	Owner    string    `json:"owner"`
	Token    string    `json:"token"`
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
}

type leaseItem struct {
	itemHeader
	Lease
}

// maxLeaseTTL bounds a lease: a lock that outlives a day is a stuck lock.
const maxLeaseTTL = 24 * time.Hour

func checkTTL(ttl time.Duration) error {
	if ttl < time.Second || ttl > maxLeaseTTL {
		return fmt.Errorf("ttl %v outside 1s..%v", ttl, maxLeaseTTL)
	}
	return nil
}

// AcquireLease takes the env's lease for owner for ttl (1s..24h), as
// Terraform's DynamoDB lock does: a conditional put that succeeds only if
// no lease exists or the existing one has expired (on the env clock) — an
// expired lease is taken over, and the takeover is recorded in the
// history. When someone else holds it, the error is a *LeaseHeldError
// (errors.Is ErrLeaseHeld) naming them. An owner holding the lease cannot
// take it again either: two appliers with the same name are still two.
func (s *Store) AcquireLease(ctx context.Context, owner string, ttl time.Duration) (Lease, error) {
	if strings.TrimSpace(owner) == "" {
		return Lease{}, errors.New("acquire lease: owner: required")
	}
	if err := checkTTL(ttl); err != nil {
		return Lease{}, fmt.Errorf("acquire lease: %w", err)
	}
	now := s.env.Now().UTC()
	l := Lease{Owner: owner, Token: newToken(), Acquired: now, Expires: now.Add(ttl)}
	item, err := marshal(leaseItem{itemHeader{s.pk, skLease, kindLease}, l})
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease: %w", err)
	}
	out, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #expires < :now"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK, "#expires": "expires"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": str(fmtTime(now))},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var held leaseItem
		if len(ccf.Item) > 0 && unmarshal(ccf.Item, &held) == nil {
			return Lease{}, fmt.Errorf("acquire lease of %s: %w", s.env.Suffix, &LeaseHeldError{Owner: held.Owner, Expires: held.Expires})
		}
		return Lease{}, fmt.Errorf("acquire lease of %s: %w", s.env.Suffix, &LeaseHeldError{Owner: "(unknown)"})
	}
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease of %s: %w", s.env.Suffix, err)
	}
	e := migration.HistoryEntry{Time: now, Type: EventLeaseAcquired, Actor: owner,
		Summary: fmt.Sprintf("lease acquired by %s until %s", owner, fmtTime(l.Expires)),
		Details: map[string]string{"owner": owner, "expires": fmtTime(l.Expires)}}
	if len(out.Attributes) > 0 {
		var prev leaseItem
		if unmarshal(out.Attributes, &prev) == nil {
			e.Type = EventLeaseTakenOver
			e.Summary = fmt.Sprintf("lease taken over by %s from %s, whose lease expired at %s", owner, prev.Owner, fmtTime(prev.Expires))
			e.Details["previousOwner"] = prev.Owner
			e.Details["previousExpires"] = fmtTime(prev.Expires)
		}
	}
	if err := s.Record(ctx, e); err != nil {
		s.env.Log().Error("lease event not recorded", "env", s.env.Suffix, "error", err)
	}
	return l, nil
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RenewLease extends a lease the caller holds to ttl from now, guarded by
// the lease's token. It fails with ErrLeaseLost if the lease is no longer
// the caller's (taken over after it expired, or released). A lease that
// expired but was not taken over is still the caller's and renews.
func (s *Store) RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	if err := checkTTL(ttl); err != nil {
		return Lease{}, fmt.Errorf("renew lease: %w", err)
	}
	now := s.env.Now().UTC()
	next := l
	next.Expires = now.Add(ttl)
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 s.key(skLease),
		UpdateExpression:                    aws.String("SET #expires = :expires"),
		ConditionExpression:                 aws.String("#token = :token"),
		ExpressionAttributeNames:            map[string]string{"#expires": "expires", "#token": "token"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":expires": str(fmtTime(next.Expires)), ":token": str(l.Token)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return Lease{}, fmt.Errorf("renew lease of %s for %s: %w", s.env.Suffix, l.Owner, lostBecause(ccf.Item))
	}
	if err != nil {
		return Lease{}, fmt.Errorf("renew lease of %s for %s: %w", s.env.Suffix, l.Owner, err)
	}
	return next, nil
}

// lostBecause describes who holds the lease now.
func lostBecause(item map[string]types.AttributeValue) error {
	var now leaseItem
	if len(item) > 0 && unmarshal(item, &now) == nil {
		return fmt.Errorf("%w: %s holds it until %s", ErrLeaseLost, now.Owner, fmtTime(now.Expires))
	}
	return fmt.Errorf("%w: it was released", ErrLeaseLost)
}

// ReleaseLease gives a lease up, guarded by its token. Releasing a lease
// that is already gone is a no-op; one that someone else took over fails
// with ErrLeaseLost and is left to them.
func (s *Store) ReleaseLease(ctx context.Context, l Lease) error {
	return s.release(ctx, l.Owner, "#token = :token", map[string]string{"#token": "token"}, map[string]types.AttributeValue{":token": str(l.Token)})
}

func (s *Store) release(ctx context.Context, owner, cond string, names map[string]string, values map[string]types.AttributeValue) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 s.key(skLease),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return nil
		}
		return fmt.Errorf("release lease of %s for %s: %w", s.env.Suffix, owner, lostBecause(ccf.Item))
	}
	if err != nil {
		return fmt.Errorf("release lease of %s for %s: %w", s.env.Suffix, owner, err)
	}
	if err := s.Record(ctx, migration.HistoryEntry{Type: EventLeaseReleased, Actor: owner, Summary: "lease released by " + owner,
		Details: map[string]string{"owner": owner}}); err != nil {
		s.env.Log().Error("lease event not recorded", "env", s.env.Suffix, "error", err)
	}
	return nil
}

// Renew extends owner's lease to StoreOptions.LockTTL from now: the
// renewal a long-running holder of Lock (the cutover controller) makes
// from its own loop. It fails with ErrLeaseLost when owner no longer
// holds the lease (someone took it over after it expired, or it was
// released). Owner names must be unique per applier (user@host, a CI job
// ID); RenewLease guards on the lease's token instead.
func (s *Store) Renew(ctx context.Context, owner string) error {
	if strings.TrimSpace(owner) == "" {
		return errors.New("renew lease: owner: required")
	}
	expires := s.env.Now().UTC().Add(s.lockTTL)
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 s.key(skLease),
		UpdateExpression:                    aws.String("SET #expires = :expires"),
		ConditionExpression:                 aws.String("#owner = :owner"),
		ExpressionAttributeNames:            map[string]string{"#expires": "expires", "#owner": "owner"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":expires": str(fmtTime(expires)), ":owner": str(owner)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("renew lease of %s for %s: %w", s.env.Suffix, owner, lostBecause(ccf.Item))
	}
	if err != nil {
		return fmt.Errorf("renew lease of %s for %s: %w", s.env.Suffix, owner, err)
	}
	return nil
}

// Release gives owner's lease up. It is a no-op when no lease is held,
// and fails with ErrLeaseLost, leaving the lease alone, when someone else
// holds it. ReleaseLease guards on the lease's token instead.
func (s *Store) Release(ctx context.Context, owner string) error {
	if strings.TrimSpace(owner) == "" {
		return errors.New("release lease: owner: required")
	}
	return s.release(ctx, owner, "#owner = :owner", map[string]string{"#owner": "owner"}, map[string]types.AttributeValue{":owner": str(owner)})
}

// Lock implements migration.Locker with the lease: it acquires it for
// owner for StoreOptions.LockTTL (an error wrapping ErrLeaseHeld when
// someone else holds it) and returns the function that releases it. With
// StoreOptions.LockKeepAlive it renews the lease every third of the TTL
// on the env clock until unlocked; a lost lease stops the renewals, is
// logged and recorded, and makes unlock fail with ErrLeaseLost, so the
// run that held it learns that its lock did not hold.
func (s *Store) Lock(ctx context.Context, owner string) (func(context.Context) error, error) {
	l, err := s.AcquireLease(ctx, owner, s.lockTTL)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		cur  = l
		lost error
	)
	stop := func() {}
	done := make(chan struct{})
	if s.keepAlive {
		kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop = func() { cancel(); <-done }
		go func() {
			defer close(done)
			for {
				if err := s.env.Sleep(kctx, s.lockTTL/3); err != nil {
					return
				}
				mu.Lock()
				held := cur
				mu.Unlock()
				next, err := s.RenewLease(kctx, held, s.lockTTL)
				switch {
				case kctx.Err() != nil:
					return
				case errors.Is(err, ErrLeaseLost):
					mu.Lock()
					lost = err
					mu.Unlock()
					s.recordLost(kctx, owner, err)
					return
				case err != nil:
					// Transient: try again at the next tick; the lease has
					// two thirds of its TTL left.
					s.env.Log().Warn("lease renewal failed", "env", s.env.Suffix, "owner", owner, "error", err)
				default:
					mu.Lock()
					cur = next
					mu.Unlock()
				}
			}
		}()
	} else {
		close(done)
	}
	var once sync.Once
	var unlockErr error
	unlock := func(ctx context.Context) error {
		once.Do(func() {
			stop()
			mu.Lock()
			held, lostErr := cur, lost
			mu.Unlock()
			if lostErr != nil {
				unlockErr = lostErr
				return
			}
			unlockErr = s.ReleaseLease(ctx, held)
			if errors.Is(unlockErr, ErrLeaseLost) {
				s.recordLost(ctx, owner, unlockErr)
			}
		})
		return unlockErr
	}
	return unlock, nil
}

// recordLost logs and records that owner's lease was lost while it
// believed it held it.
func (s *Store) recordLost(ctx context.Context, owner string, err error) {
	s.env.Log().Error("lease lost", "env", s.env.Suffix, "owner", owner, "error", err)
	if rerr := s.Record(context.WithoutCancel(ctx), migration.HistoryEntry{Type: EventLeaseLost, Actor: owner, Summary: "lease lost by " + owner + ": " + err.Error()}); rerr != nil {
		s.env.Log().Error("lease event not recorded", "env", s.env.Suffix, "error", rerr)
	}
}

var _ migration.Locker = (*Store)(nil)
