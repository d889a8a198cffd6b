package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/examples/fullstack/internal/wire"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// replicating returns an app on a fresh simulated cloud (its clock
// skipping ahead) that is applied and replicating: the forward task
// running and caught up, the database record all blue.
func replicating(t *testing.T) (*app, *fakecloud.Cloud) {
	t.Helper()
	ctx := context.Background()
	a, cloud, out := testApp(t, 0)
	require.NoError(t, apply(ctx, a, &migration.Report{}), out.String())
	require.NoError(t, replicate(ctx, a), out.String())
	return a, cloud
}

// switching wires the replication as the cutover does: with the source's
// write fence.
func switching(t *testing.T, a *app) wire.Replication {
	t.Helper()
	env := a.env(nil)
	repl, err := a.replication(env)
	require.NoError(t, err)
	repl.Fence, err = a.sourceFence(context.Background(), env)
	require.NoError(t, err)
	return repl
}

// databaseState reads what the switch changes: the DMS tasks' statuses
// and the database record's split.
func databaseState(t *testing.T, a *app, repl wire.Replication) (forward, reverse string, record migration.Split) {
	t.Helper()
	ctx := context.Background()
	fwd, err := repl.ForwardLag(ctx)
	if err != nil {
		fwd.Status = "error: " + err.Error()
	}
	rev, _ := repl.ReverseLag(ctx)
	rec := a.readDatabaseRecord(ctx)
	require.Empty(t, rec.Error)
	return fwd.Status, rev.Status, rec.Split
}

// TestSwitchDatabaseCrashThenRerun crashes the database switch at each of
// its writes — before the write takes effect, and after it with the
// response lost — and runs it again: the re-run completes the switch
// (forward task stopped, reverse task running) and flips the database
// record to AWS, above all after a crash between the DMS switch and the
// flip, when SwitchToReverse finds the database switched already.
func TestSwitchDatabaseCrashThenRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("applies and replicates the platform for every crash point")
	}
	ctx := context.Background()
	a, cloud := replicating(t)
	repl := switching(t, a)
	_, _, before := databaseState(t, a, repl)
	require.Equal(t, migration.AllBlue, before)
	mark := len(cloud.Calls())
	require.NoError(t, repl.SwitchDatabase(ctx))
	var writes []string
	for _, c := range cloud.Calls()[mark:] {
		if c.Write {
			writes = append(writes, c.Service+" "+c.Op)
		}
	}
	require.Equal(t, "Route 53 ChangeResourceRecordSets", writes[len(writes)-1], "the flip is the switch's last write: %v", writes)
	fwd, rev, record := databaseState(t, a, repl)
	assert.Equal(t, []string{"stopped", "running"}, []string{fwd, rev})
	assert.Equal(t, migration.GreenPercent(100), record)

	for k := range writes {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("crash at %s (write %d) after=%v", writes[k], k+1, after), func(t *testing.T) {
				t.Parallel() // each on a cloud of its own
				a, cloud := replicating(t)
				repl := switching(t, a)
				cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k + 1, CrashAfter: after})
				err := repl.SwitchDatabase(ctx)
				require.True(t, errors.Is(err, fakecloud.ErrCrash), "the switch died of the crash: %v", err)
				cloud.Restart()

				if k == len(writes)-1 && !after {
					// Between the DMS switch and the flip: the database
					// is AWS's, its record still on-premises. The gate
					// refuses to move traffic until the flip.
					fwd, rev, record := databaseState(t, a, repl)
					assert.Equal(t, "running", rev)
					assert.Contains(t, fwd, "the switch is incomplete")
					assert.Equal(t, migration.AllBlue, record)
				}

				require.NoError(t, repl.SwitchDatabase(ctx), "the re-run completes the switch")
				fwd, rev, record := databaseState(t, a, repl)
				assert.Equal(t, []string{"stopped", "running"}, []string{fwd, rev})
				assert.Equal(t, migration.GreenPercent(100), record, "the re-run flips the database record")

				mark := len(cloud.Calls())
				require.NoError(t, repl.SwitchDatabase(ctx))
				for _, c := range cloud.Calls()[mark:] {
					assert.False(t, c.Write, "a switched database costs no write: %s %s", c.Service, c.Op)
				}
			})
		}
	}
}

// TestCutoverCompletesACrashedSwitch: a cutover re-run after a crash
// between the DMS switch and the flip flips the database record before
// the controller runs — the controller switches only while the reverse
// task is not running — and completes.
func TestCutoverCompletesACrashedSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole cutover")
	}
	ctx := context.Background()
	a, _ := replicating(t)
	// Green's load balancer and the VPN report healthy: the policy has
	// data to decide on.
	a.world.traffic()
	a.world.attach(a.platform.out)
	require.NoError(t, runValidation(ctx, a))
	// The switch as the controller makes it, cut off at the flip: the
	// database record fails to change once.
	repl := switching(t, a)
	repl.Database = failingRecord{DatabaseRecord: repl.Database}
	err := repl.SwitchDatabase(ctx)
	require.ErrorContains(t, err, "the AWS database is the writer, but its DNS record does not point at AWS")
	_, rev, record := databaseState(t, a, repl)
	require.Equal(t, "running", rev)
	require.Equal(t, migration.AllBlue, record)

	var events []string
	a.timeout = 30 * time.Second // wall clock: a gate that never passes fails here
	require.NoError(t, cutover(ctx, a, func(_ *rollback.Controller, e rollback.Event) {
		if e.Type == rollback.EventShift && len(events) == 0 {
			rec := a.readDatabaseRecord(ctx)
			events = append(events, fmt.Sprintf("first shift with the database record %s", rec.Split))
		}
	}))
	assert.Equal(t, []string{"first shift with the database record blue 0 / green 100"}, events, "the record flipped before any traffic moved")
	_, _, record = databaseState(t, a, repl)
	assert.Equal(t, migration.GreenPercent(100), record)
}

// failingRecord is a database record whose Shift fails: Route 53 down, or
// the process dying, between the DMS switch and the flip.
type failingRecord struct{ wire.DatabaseRecord }

func (failingRecord) Shift(context.Context, migration.Split) (migration.Shifted, error) {
	return migration.Shifted{}, errors.New("route 53 unreachable")
}

// TestDatabaseRecordApartFromTraffic: the database record is a records
// set of its own in the env's zone: the traffic Router and the rollback
// Lambda's records never include it, a traffic shift leaves it alone, and
// destroy deletes it.
func TestDatabaseRecordApartFromTraffic(t *testing.T) {
	ctx := context.Background()
	a, cloud, out := testApp(t, 0)
	require.NoError(t, apply(ctx, a, &migration.Report{}), out.String())
	env := a.env(nil)
	o := a.platform.out
	assert.Equal(t, []string{"db.corp.example.internal"}, o.database.Names)
	assert.NotContains(t, o.records.Names, "db.corp.example.internal")
	policy, err := a.platform.policy(env)
	require.NoError(t, err)
	assert.NotContains(t, a.platform.lambdaConfig(env, policy).RecordNames, "db", "the rollback Lambda never loads the database record")

	router, err := a.router(env)
	require.NoError(t, err)
	_, err = router.Shift(ctx, migration.GreenPercent(50))
	require.NoError(t, err)
	rec := a.readDatabaseRecord(ctx)
	require.Empty(t, rec.Error)
	assert.Equal(t, migration.AllBlue, rec.Split, "a traffic shift leaves the database record alone")
	assert.Equal(t, "pg13.dc1.corp.example", rec.Blue)
	assert.Equal(t, o.dms.TargetDB.Address, rec.Green)

	// Both record sets in one zone load and converge on their own.
	loaded, err := dns.LoadRecords(ctx, env, cloud.Route53(), o.zone.ID, a.spec.DNS.Zone, []string{"web", "api"})
	require.NoError(t, err)
	assert.Len(t, loaded.Services, 2)
	again := &migration.Report{}
	require.NoError(t, apply(ctx, a, again))
	assert.False(t, again.HasChanges(), again.Summary())

	report := &migration.Report{}
	require.NoError(t, a.platform.spec.Validate())
	a.spec.Files.ForceDeleteObjects = true
	a.platform.spec = a.spec
	require.NoError(t, destroy(ctx, a, report))
	var deleted []string
	for _, c := range report.Changes() {
		if c.Kind == dns.KindRecords && c.Action == migration.ActionDelete {
			deleted = append(deleted, c.Name)
		}
	}
	assert.Contains(t, deleted, "db.corp.example.internal")
	assert.True(t, strings.Contains(out.String(), "Destroy complete"))
}

// TestSourceFenceAgainstRealAWS: outside the simulation the cutover's
// fence is a dms.PostgresFence on the source secret's host and port, with
// the spec's database and CA, reading the secret's credentials itself; a
// CA file without a certificate is refused naming the field, before any
// connection.
func TestSourceFenceAgainstRealAWS(t *testing.T) {
	ctx := context.Background()
	a, _, out := testApp(t, 0)
	require.NoError(t, apply(ctx, a, &migration.Report{}), out.String())
	env := a.env(nil)
	a.clients.cloud = nil // as against real AWS: no simulated source

	fence, err := a.sourceFence(ctx, env)
	require.NoError(t, err)
	pg, ok := fence.(dms.PostgresFence)
	require.True(t, ok, "a %T", fence)
	assert.Equal(t, "pg13.dc1.corp.example", pg.Host, "the host DMS reads, from the source secret")
	assert.Equal(t, 5432, pg.Port)
	assert.Equal(t, a.spec.DMS.Source.DatabaseName, pg.Database)
	assert.Equal(t, a.platform.out.sourceARN, pg.SecretARN)
	assert.NotNil(t, pg.RootCAs, "verified against dms.source.caCertificateFile")
	assert.NotContains(t, fmt.Sprintf("%+v", pg), "simulated-dev", "the fence holds no password")

	a.spec.dirFS = fstest.MapFS{a.spec.DMS.Source.CACertificateFile: {Data: []byte("not a certificate")}}
	_, err = a.sourceFence(ctx, env)
	assert.ErrorContains(t, err, "dms.source.caCertificateFile: certs/onprem-ca.pem holds no PEM certificate")
}
