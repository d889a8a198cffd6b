package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// demoScale compresses the demo's time: an hour of the migration takes
// 1.2 seconds, so the whole story (about ten simulated hours, most of it
// the 2 TB transfer) takes under half a minute.
const demoScale = 3000

// demoSpike is how long green fails in the demo's incident.
const demoSpike = 20 * time.Minute

func cmdDemo(ctx context.Context, a *app) error {
	if err := a.load(); err != nil {
		return err
	}
	cloud := fakecloud.New(fakecloud.WithClock(fakecloud.NewScaledClock(fakecloud.Epoch, demoScale)), fakecloud.WithRegion(a.spec.Env.Region))
	if err := a.useSim(ctx, cloud); err != nil {
		return err
	}
	defer a.world.stop()
	_, err := demo(ctx, a, cloud)
	return err
}

// demoResult is what the story did, for its test.
type demoResult struct {
	planCalls, planWrites int
	againWrites           int
	// shifts are the splits the cutovers moved to, in order.
	shifts []migration.Split
	// phases are the phases the migration went through, in order.
	phases []migration.Phase
	// rolledBackBy is the actor of the automatic rollback.
	rolledBackBy string
	// database is the database record's split before the cutover, at its
	// first traffic step (the database switched), after the Lambda's
	// rollback, and once the cutover completed.
	database  [4]migration.Split
	leftovers []string
}

// demo tells the migration's story on a fresh simulated cloud.
func demo(ctx context.Context, a *app, cloud *fakecloud.Cloud) (demoResult, error) {
	var res demoResult
	chapter := func(format string, args ...any) { a.say("\n== "+format, args...) }
	phase := func() {
		if s, err := a.store(false); err == nil {
			if p, err := s.Phase(ctx); err == nil && (len(res.phases) == 0 || res.phases[len(res.phases)-1] != p) {
				res.phases = append(res.phases, p)
			}
		}
	}

	chapter("1. plan: what apply would do on an empty account (reads only)")
	mark := len(cloud.Calls())
	if err := plan(ctx, a, &migration.Report{}); err != nil {
		return res, err
	}
	res.planCalls, res.planWrites = callsSince(cloud, mark)
	a.say("(%d API calls, %d writes)", res.planCalls, res.planWrites)

	chapter("2. apply: the landing zone, replication, tracking, rollback — in parallel where independent")
	if err := apply(ctx, a, &migration.Report{}); err != nil {
		return res, err
	}
	phase()

	chapter("3. apply again: converged, nothing to do")
	mark = len(cloud.Calls())
	again := &migration.Report{}
	if err := apply(ctx, a, again); err != nil {
		return res, err
	}
	calls, writes := callsSince(cloud, mark)
	res.againWrites = writes
	a.say("(%d API calls, %d writes)", calls, writes)
	if again.HasChanges() {
		return res, fmt.Errorf("the second apply was not a no-op: %s", again.Summary())
	}

	chapter("4. replicate: database full load + CDC, 12 servers, 2 TB of files")
	if err := replicate(ctx, a); err != nil {
		return res, err
	}
	phase()

	chapter("5. validate: application, database, services and files on every server")
	if err := runValidation(ctx, a); err != nil {
		return res, err
	}
	phase()

	dbSplit := func(at int) error {
		rec := a.readDatabaseRecord(ctx)
		if rec.Error != "" {
			return fmt.Errorf("read the database record: %s", rec.Error)
		}
		res.database[at] = rec.Split
		return nil
	}
	if err := dbSplit(0); err != nil {
		return res, err
	}

	chapter("6. cutover: 10 → 25 → 50 %%; at 50 %% green starts failing — and the operator's session drops")
	// The controller would roll back too; the demo takes it away at the
	// incident to show that the alarm → Lambda path needs no operator.
	attempt, drop := context.WithCancel(ctx)
	defer drop()
	var dbErr error
	record := func(_ *rollback.Controller, e rollback.Event) {
		if e.Type == rollback.EventShift {
			if len(res.shifts) == 0 {
				dbErr = dbSplit(1)
			}
			res.shifts = append(res.shifts, e.Split)
		}
		if e.Type == rollback.EventWindow && e.Split.Green == 50 && len(res.shifts) <= 3 {
			a.say("  !! incident: green answers 12.5 %% of requests with 5xx for the next %s", demoSpike)
			a.say("  !! and the operator's session drops: only CloudWatch and the rollback Lambda are watching")
			a.world.spike(demoSpike)
			drop()
		}
	}
	if err := cutover(attempt, a, record); !errors.Is(err, context.Canceled) {
		return res, fmt.Errorf("the first cutover should have lost its session, got %v", err)
	}
	env := a.env(nil)
	err := env.Poll(ctx, "the alarm → Lambda rollback", 30*time.Second, time.Hour, func(ctx context.Context) (string, bool, error) {
		s, err := a.store(false)
		if err != nil {
			return "", false, err
		}
		p, err := s.Phase(ctx)
		return string(p), p == migration.PhaseRolledBack, err
	})
	if err != nil {
		return res, err
	}
	phase()
	if dbErr != nil {
		return res, dbErr
	}
	if err := dbSplit(2); err != nil {
		return res, err
	}
	res.rolledBackBy = a.rollbackActor(ctx)
	a.say("  rolled back by: %s (the composite alarm invoked it)", res.rolledBackBy)

	chapter("7. status: why did it roll back?")
	if err := a.recordDatabaseNow(ctx); err != nil {
		return res, err
	}
	if err := cmdStatusText(ctx, a); err != nil {
		return res, err
	}

	chapter("8. recovery: green is fixed; ten quiet minutes, then cutover once more, to 100 %%")
	a.world.heal()
	if err := env.Sleep(ctx, 10*time.Minute); err != nil {
		return res, err
	}
	if err := cutover(ctx, a, record); err != nil {
		return res, err
	}
	phase()
	if err := dbSplit(3); err != nil {
		return res, err
	}

	chapter("9. destroy: delete everything the env owns (a demo env: its migrated files too)")
	a.spec.Files.ForceDeleteObjects = true
	a.platform.spec = a.spec
	if err := destroy(ctx, a, &migration.Report{}); err != nil {
		return res, err
	}
	res.leftovers = leftovers(ctx, a.env(nil), cloud)
	if len(res.leftovers) > 0 {
		return res, fmt.Errorf("owned resources left after destroy: %v", res.leftovers)
	}
	a.say("\nNothing owned by env %q is left in the simulated cloud.", a.spec.Env.Suffix)
	return res, nil
}

// callsSince counts the calls the cloud logged after the first mark, and
// the writes among them to resources. The tracking table's item writes
// (the lease apply holds, and its events) are bookkeeping, not resources,
// and are not counted.
func callsSince(cloud *fakecloud.Cloud, mark int) (calls, writes int) {
	for _, c := range cloud.Calls()[mark:] {
		calls++
		if c.Write && !isBookkeeping(c) {
			writes++
		}
	}
	return calls, writes
}

// isBookkeeping reports whether a call writes the tracking table's items:
// no resource of the platform is a DynamoDB item.
func isBookkeeping(c fakecloud.Call) bool {
	switch c.Op {
	case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems":
		return c.Service == "DynamoDB"
	}
	return false
}

// rollbackActor returns who made the last transition to rolled-back.
func (a *app) rollbackActor(ctx context.Context) string {
	s, err := a.store(false)
	if err != nil {
		return ""
	}
	st, err := s.PhaseState(ctx)
	if err != nil {
		return ""
	}
	return st.Actor
}

// recordDatabaseNow records both DMS tasks as they are after the
// Lambda's rollback, which records the phase and the traffic but not the
// replication.
func (a *app) recordDatabaseNow(ctx context.Context) error {
	store, err := a.store(false)
	if err != nil {
		return err
	}
	if _, err := a.recordReplication(ctx, a.env(nil), store); err != nil && !errors.Is(err, dms.ErrNoLagData) {
		return err
	}
	return nil
}

func cmdStatusText(ctx context.Context, a *app) error {
	store, err := a.store(false)
	if err != nil {
		return err
	}
	st, err := store.Status(ctx)
	if err != nil {
		return err
	}
	if a.output == "text" {
		return writeStatus(a.stdout, st, a.readDatabaseRecord(ctx))
	}
	return nil
}
