package tracking_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

// putPhase stores the migration item directly, as if the migration had
// reached phase at version.
func putPhase(cloud *fakecloud.Cloud, phase migration.Phase, version int64) {
	cloud.DynamoDB().PutRawItem("migration-tracking-dev", map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "env#dev"}, "sk": &types.AttributeValueMemberS{Value: "state#migration"},
		"kind": &types.AttributeValueMemberS{Value: "migration"}, "phase": &types.AttributeValueMemberS{Value: string(phase)},
		"version": &types.AttributeValueMemberN{Value: fmt.Sprint(version)}, "epoch": &types.AttributeValueMemberN{Value: "1"},
		"since": &types.AttributeValueMemberS{Value: "2026-11-02T08:00:00.000000000Z"},
	})
}

func transitionEvents(t *testing.T, s *tracking.Store) []migration.HistoryEntry {
	t.Helper()
	all, err := s.Events(context.Background(), time.Time{})
	require.NoError(t, err)
	var out []migration.HistoryEntry
	for _, e := range all {
		if e.Type == tracking.EventTransition {
			out = append(out, e)
		}
	}
	return out
}

// TestTransitionEveryPair drives the phase machine through the Store:
// every ordered pair of phases, legal ones succeed with one event and one
// notification, illegal ones fail before any call.
func TestTransitionEveryPair(t *testing.T) {
	ctx := context.Background()
	// migration.CanTransition is checked against the design pair by pair
	// (migration.TestTransitionsExhaustive); here the counts pin that the
	// Store drove the whole machine: 7 phases, 8 legal moves.
	require.Len(t, migration.Phases, 7, "the seven phases of the lifecycle")
	legal, illegal := 0, 0
	t.Cleanup(func() {
		assert.Equal(t, 8, legal, "every legal pair was driven")
		assert.Equal(t, 7*7-8, illegal, "every other pair was refused")
	})
	for _, from := range migration.Phases {
		for _, to := range migration.Phases {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				sink := &recorder{}
				s, _, cloud := newStore(t, tracking.StoreOptions{Notifier: sink})
				putPhase(cloud, from, 3)
				cloud.ResetCalls()

				err := s.Transition(ctx, from, to, "operator decision")
				if !migration.CanTransition(from, to) {
					illegal++
					require.ErrorIs(t, err, tracking.ErrIllegalTransition)
					assert.Empty(t, cloud.Calls(), "an illegal transition is refused before any call")
					assert.Empty(t, sink.all())
					ps, err := s.PhaseState(ctx)
					require.NoError(t, err)
					assert.Equal(t, from, ps.Phase)
					return
				}
				legal++
				require.NoError(t, err)
				assert.Equal(t, []string{"TransactWriteItems"}, writeOps(cloud), "phase and event in one transaction")
				ps, err := s.PhaseState(ctx)
				require.NoError(t, err)
				assert.Equal(t, to, ps.Phase)
				assert.Equal(t, int64(4), ps.Version)
				assert.Equal(t, "operator decision", ps.Reason)
				epoch := "1"
				if to == migration.PhaseCuttingOver {
					epoch = "2"
				}
				assert.Equal(t, epoch, fmt.Sprint(ps.Epoch))
				evs := transitionEvents(t, s)
				require.Len(t, evs, 1)
				assert.Equal(t, map[string]string{"from": string(from), "to": string(to), "reason": "operator decision", "version": "4", "epoch": epoch}, evs[0].Details)
				got := sink.all()
				require.Len(t, got, 1)
				assert.Equal(t, from, got[0].From)
				assert.Equal(t, to, got[0].To)
				assert.Equal(t, "dev", got[0].Env)
			})
		}
	}
}

func TestTransitionFromTheStart(t *testing.T) {
	ctx := context.Background()
	s, _, cloud := newStore(t, tracking.StoreOptions{})
	p, v, err := s.PhaseVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.PhasePlanned, p)
	assert.Equal(t, int64(0), v)
	require.ErrorIs(t, s.Transition(ctx, migration.PhasePlanned, migration.PhaseReplicating, "skip"), tracking.ErrIllegalTransition)
	require.ErrorIs(t, s.Transition(ctx, migration.PhaseProvisioned, migration.PhaseReplicating, "not there yet"), tracking.ErrConflict)
	require.ErrorIs(t, s.Transition(ctx, "frozen", migration.PhasePlanned, "bogus"), tracking.ErrIllegalTransition)
	require.ErrorContains(t, s.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, " "), "reason: required")

	// The whole lifecycle, with a rollback and a second attempt: every
	// transition bumps the version, every entry into cutting-over the epoch.
	steps := []struct {
		to    migration.Phase
		epoch int64
	}{
		{migration.PhaseProvisioned, 0}, {migration.PhaseReplicating, 0}, {migration.PhaseValidated, 0},
		{migration.PhaseCuttingOver, 1}, {migration.PhaseRolledBack, 1}, {migration.PhaseCuttingOver, 2}, {migration.PhaseComplete, 2},
	}
	from := migration.PhasePlanned
	for i, st := range steps {
		cloud.Clock().Advance(time.Minute)
		require.NoError(t, s.Transition(ctx, from, st.to, "step "+fmt.Sprint(i)))
		ps, err := s.PhaseState(ctx)
		require.NoError(t, err)
		assert.Equal(t, st.to, ps.Phase)
		assert.Equal(t, int64(i+1), ps.Version)
		assert.Equal(t, st.epoch, ps.Epoch, "epoch after %s", st.to)
		assert.Equal(t, cloud.Clock().Now(), ps.Since)
		from = st.to
	}
	evs := transitionEvents(t, s)
	require.Len(t, evs, len(steps))
	for i, e := range evs {
		assert.Equal(t, string(steps[i].to), e.Details["to"], "events in order")
		assert.Equal(t, "cutover", e.Actor)
	}
	assert.Equal(t, "planned → provisioned: step 0", evs[0].Summary)
}

// TestTransitionRace runs sixteen Stores (sixteen processes) racing the
// same transition: exactly one wins, the others get ErrConflict, one
// event is written and one notification sent.
func TestTransitionRace(t *testing.T) {
	ctx := context.Background()
	sink := &recorder{}
	s0, env, cloud := newStore(t, tracking.StoreOptions{})
	putPhase(cloud, migration.PhaseValidated, 7)
	cloud.ResetCalls()

	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{Notifier: sink, Actor: fmt.Sprintf("operator-%d", i)})
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Transition(ctx, migration.PhaseValidated, migration.PhaseCuttingOver, "go")
		}()
	}
	close(start)
	wg.Wait()

	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, tracking.ErrConflict):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	assert.Equal(t, 1, won, "exactly one winner")
	assert.Len(t, transitionEvents(t, s0), 1, "one event")
	assert.Len(t, sink.all(), 1, "one notification")
	ps, err := s0.PhaseState(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.PhaseCuttingOver, ps.Phase)
	assert.Equal(t, int64(8), ps.Version, "the version moved exactly once")
	assert.Equal(t, int64(2), ps.Epoch)
	committed := 0
	for _, c := range cloud.Calls() {
		if c.Op == "TransactWriteItems" && c.Code == "" {
			committed++
		}
		if c.Write && c.Op != "TransactWriteItems" {
			t.Errorf("unexpected write %s", c.Op)
		}
	}
	assert.Equal(t, 1, committed, "the losers' transactions were cancelled or never sent")
}

func TestTransitionFromGuardsTheVersion(t *testing.T) {
	ctx := context.Background()
	s, _, cloud := newStore(t, tracking.StoreOptions{})
	putPhase(cloud, migration.PhaseCuttingOver, 5)
	attempt1, err := s.PhaseState(ctx)
	require.NoError(t, err)
	// Rolled back and cut over again: same phase, newer version.
	require.NoError(t, s.Transition(ctx, migration.PhaseCuttingOver, migration.PhaseRolledBack, "alarm"))
	require.NoError(t, s.Transition(ctx, migration.PhaseRolledBack, migration.PhaseCuttingOver, "retry"))
	cloud.ResetCalls()
	err = s.TransitionFrom(ctx, attempt1, migration.PhaseRolledBack, "late alarm of attempt 1")
	require.ErrorIs(t, err, tracking.ErrConflict)
	assert.Contains(t, err.Error(), "is cutting-over (version 7)")
	ps, err := s.PhaseState(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(7), ps.Version, "nothing written")
	assert.Len(t, transitionEvents(t, s), 2)
}

func TestNotificationFailureIsRecorded(t *testing.T) {
	ctx := context.Background()
	sink := &recorder{err: errors.New("KMSDisabled")}
	s, _, _ := newStore(t, tracking.StoreOptions{Notifier: sink})
	require.NoError(t, s.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "applied"), "the transition happened; SNS failing does not undo it")
	p, err := s.Phase(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.PhaseProvisioned, p)
	evs, err := s.Events(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, tracking.EventNotificationFailed, evs[1].Type)
	assert.Equal(t, "KMSDisabled", evs[1].Details["error"])
}

func TestRecordAndEvents(t *testing.T) {
	ctx := context.Background()
	s, _, cloud := newStore(t, tracking.StoreOptions{Actor: "controller"})
	// Five events at one fake instant keep their order.
	for i := range 5 {
		require.NoError(t, s.Record(ctx, migration.HistoryEntry{Type: "decision", Summary: fmt.Sprintf("hold %d", i)}))
	}
	cloud.Clock().Advance(time.Hour)
	mark := cloud.Clock().Now()
	require.NoError(t, s.Record(ctx, migration.HistoryEntry{Type: "decision", Actor: "lambda", Summary: "rollback", Details: map[string]string{"alarm": "green-5xx"}}))
	all, err := s.Events(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, all, 6)
	for i := range 5 {
		assert.Equal(t, fmt.Sprintf("hold %d", i), all[i].Summary)
		assert.Equal(t, "controller", all[i].Actor)
	}
	since, err := s.Events(ctx, mark)
	require.NoError(t, err)
	require.Len(t, since, 1)
	assert.Equal(t, "lambda", since[0].Actor)
	assert.Equal(t, map[string]string{"alarm": "green-5xx"}, since[0].Details)
	assert.Equal(t, mark, since[0].Time)

	require.ErrorContains(t, s.Record(ctx, migration.HistoryEntry{Summary: "no type"}), "type and summary are required")
	require.ErrorContains(t, s.Record(ctx, migration.HistoryEntry{Type: "big", Summary: string(make([]byte, 500*1024))}), "at most 400 KB")
}

func TestRecordServerNewerWins(t *testing.T) {
	ctx := context.Background()
	s, _, cloud := newStore(t, tracking.StoreOptions{})
	t0 := cloud.Clock().Now()
	require.NoError(t, s.RecordServer(ctx, migration.ServerStatus{Name: "app-01", ID: "s-1", State: "NOT_READY", Replication: "INITIAL_SYNC", Percent: 10, At: t0}))
	require.NoError(t, s.RecordServer(ctx, migration.ServerStatus{Name: "app-01", ID: "s-1", State: "NOT_READY", Replication: "INITIAL_SYNC", Percent: 50, At: t0.Add(time.Minute)}))
	require.NoError(t, s.RecordServer(ctx, migration.ServerStatus{Name: "app-01", ID: "s-1", State: "READY_FOR_TEST", Replication: "CONTINUOUS", Percent: 100, Lag: 2 * time.Second, At: t0.Add(2 * time.Minute)}))
	// A late poller's old reading is dropped.
	require.NoError(t, s.RecordServer(ctx, migration.ServerStatus{Name: "app-01", ID: "s-1", State: "NOT_READY", Replication: "INITIAL_SYNC", Percent: 20, At: t0.Add(30 * time.Second)}))

	st, err := s.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.Servers, 1)
	assert.Equal(t, "READY_FOR_TEST", st.Servers[0].State)
	assert.Equal(t, 100.0, st.Servers[0].Percent)
	assert.Equal(t, 2*time.Second, st.Servers[0].Lag)
	var summaries []string
	for _, e := range st.Events {
		summaries = append(summaries, e.Summary)
	}
	assert.Equal(t, []string{"server app-01: NOT_READY/INITIAL_SYNC", "server app-01: NOT_READY/INITIAL_SYNC → READY_FOR_TEST/CONTINUOUS"}, summaries, "an event per state change, none for progress")

	require.ErrorContains(t, s.RecordServer(ctx, migration.ServerStatus{}), "server.name: required")
	require.ErrorContains(t, s.RecordServer(ctx, migration.ServerStatus{Name: "x", Percent: 101}), "outside 0..100")
}

func TestRecordDatabaseTransferValidationSplit(t *testing.T) {
	ctx := context.Background()
	s, _, cloud := newStore(t, tracking.StoreOptions{})
	require.NoError(t, s.RecordDatabase(ctx, migration.ReplicationLag{Task: "forward", Status: "running", Source: 2 * time.Second, Target: 3 * time.Second, Tables: map[string]int{"Table completed": 40}}))
	cloud.Clock().Advance(time.Minute)
	require.NoError(t, s.RecordDatabase(ctx, migration.ReplicationLag{Task: "forward", Status: "stopped", Source: time.Second, Target: time.Second}))
	require.NoError(t, s.RecordTransfer(ctx, migration.TransferStatus{Task: "files", Status: "TRANSFERRING", BytesDone: 1 << 40, BytesTotal: 2 << 40}))

	_, ok, err := s.LastValidation(ctx, "health")
	require.NoError(t, err)
	assert.False(t, ok)
	res := migration.ValidationResult{Name: "health", Passed: false, CommandID: "cmd-1", Instances: []migration.InstanceResult{{InstanceID: "i-1", Passed: true, Status: "Success"}, {InstanceID: "i-2", Passed: false, Status: "Failed", Output: "HTTP 503"}}}
	require.NoError(t, s.RecordValidation(ctx, res))
	got, ok, err := s.LastValidation(ctx, "health")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, res.Instances, got.Instances)
	assert.Equal(t, cloud.Clock().Now(), got.At)

	require.NoError(t, s.RecordSplit(ctx, migration.GreenPercent(25), "/change/C1"))
	require.ErrorContains(t, s.RecordSplit(ctx, migration.Split{Blue: 300}, ""), "split.blue")

	st, err := s.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.Databases, 1)
	assert.Equal(t, "stopped", st.Databases[0].Status)
	require.Len(t, st.Transfers, 1)
	assert.Equal(t, int64(1<<40), st.Transfers[0].BytesDone)
	require.Len(t, st.Validations, 1)
	require.NotNil(t, st.Split)
	assert.Equal(t, migration.Split{Blue: 75, Green: 25}, st.Split.Split)
	assert.Equal(t, "/change/C1", st.Split.ChangeID)
	var types []string
	for _, e := range st.Events {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{tracking.EventDatabaseStatus, tracking.EventDatabaseStatus, tracking.EventValidation, tracking.EventTrafficShift}, types)
	assert.Equal(t, "validation health failed (1 of 2 instances failed)", st.Events[2].Summary)
}

// TestStatusIsOneQuery fills the partition like a real migration and
// checks that Status reads it in one paginated Query that stops once it
// has the last events.
func TestStatusIsOneQuery(t *testing.T) {
	ctx := context.Background()
	s, env, cloud := newStore(t, tracking.StoreOptions{StatusEvents: 5})
	require.NoError(t, s.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "applied"))
	for i := range 12 {
		require.NoError(t, s.RecordServer(ctx, migration.ServerStatus{Name: fmt.Sprintf("app-%02d", i+1), State: "READY_FOR_CUTOVER", Replication: "CONTINUOUS", Percent: 100}))
	}
	for i := range 300 {
		cloud.Clock().Advance(time.Second)
		require.NoError(t, s.Record(ctx, migration.HistoryEntry{Type: "tick", Summary: fmt.Sprint(i)}))
	}
	_, err := s.AcquireLease(ctx, "alice@laptop", time.Hour)
	require.NoError(t, err)
	cloud.ResetCalls()

	st, err := s.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, cloud.Count("DynamoDB", "Query"), "state and the last events fit the first page")
	assert.Equal(t, 1, len(cloud.Calls()))
	assert.Equal(t, migration.PhaseProvisioned, st.Phase.Phase)
	assert.Len(t, st.Servers, 12)
	assert.Equal(t, "app-01", st.Servers[0].Name)
	require.NotNil(t, st.Lease)
	assert.Equal(t, "alice@laptop", st.Lease.Owner)
	require.Len(t, st.Events, 5)
	assert.Equal(t, tracking.EventLeaseAcquired, st.Events[4].Type, "newest last")
	assert.Equal(t, "296", st.Events[0].Summary)

	// Asking for more events than a page holds pages through them.
	big, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{StatusEvents: 250})
	require.NoError(t, err)
	cloud.ResetCalls()
	st, err = big.Status(ctx)
	require.NoError(t, err)
	assert.Len(t, st.Events, 250)
	assert.Equal(t, 3, cloud.Count("DynamoDB", "Query"), "paginated, 100 items a page")
	assert.Equal(t, aws.String("app-12"), aws.String(st.Servers[11].Name))
}

// TestTimesAreEnvClockRFC3339UTC checks the stored form of every time the
// Store writes: the env clock's instant (even when the clock reports a
// local zone), as RFC 3339 in UTC with a fixed nine-digit fraction, so
// that keys and "at" attributes sort as strings.
func TestTimesAreEnvClockRFC3339UTC(t *testing.T) {
	ctx := context.Background()
	_, env, cloud := newStore(t, tracking.StoreOptions{})
	zone := time.FixedZone("EST", -5*60*60)
	clock := newManualClock(time.Date(2026, 11, 2, 3, 4, 5, 60_000_000, zone)) // 08:04:05.06 UTC
	env.Clock = clock
	s, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{})
	require.NoError(t, err)

	require.NoError(t, s.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "applied"))
	require.NoError(t, s.RecordServer(ctx, migration.ServerStatus{Name: "app-01", State: "NOT_READY", Replication: "INITIAL_SYNC"}))
	_, err = s.AcquireLease(ctx, "alice@laptop", time.Hour)
	require.NoError(t, err)

	const want = "2026-11-02T08:04:05.060000000Z"
	seen := map[string]string{}
	for _, item := range cloud.DynamoDB().TableItems("migration-tracking-dev") {
		sk := item["sk"].(*types.AttributeValueMemberS).Value
		for _, attr := range []string{"since", "at", "acquired", "time"} {
			if v, ok := item[attr].(*types.AttributeValueMemberS); ok {
				seen[attr] = v.Value
				assert.Equal(t, want, v.Value, "%s of %s", attr, sk)
			}
		}
		if strings.HasPrefix(sk, "event#") {
			assert.True(t, strings.HasPrefix(sk, "event#"+want+"#"), "event key %s starts with its UTC time", sk)
		}
		if sk == "state#lease" {
			assert.Equal(t, "2026-11-02T09:04:05.060000000Z", item["expires"].(*types.AttributeValueMemberS).Value)
		}
	}
	assert.Len(t, seen, 4, "phase since, server at, lease acquired and event time were all checked: %v", seen)
	ps, err := s.PhaseState(ctx)
	require.NoError(t, err)
	assert.True(t, ps.Since.Equal(clock.Now()))
	assert.Equal(t, time.UTC, ps.Since.Location())
}
