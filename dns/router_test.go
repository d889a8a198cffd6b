package dns_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

func TestShift(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, spec := setup(t)
	report := &migration.Report{}
	env.Reporter = report
	r, err := dns.NewRouter(env, cloud.Route53(), "/hostedzone/"+zone.ID, spec)
	require.NoError(t, err)

	for _, to := range []migration.Split{migration.GreenPercent(10), migration.GreenPercent(50), {Blue: 0, Green: 255}, migration.AllBlue} {
		cloud.ResetCalls()
		start := cloud.Clock().Now()
		applied, err := r.Shift(ctx, to)
		require.NoError(t, err)
		id := applied.ChangeID
		assert.Equal(t, to, applied.Split, "Shift returns the split applied")
		assert.Equal(t, []string{"ChangeResourceRecordSets"}, writeOps(cloud), "one batch for every service name")
		assert.Equal(t, to, weights(cloud, zone.ID, web))
		assert.Equal(t, to, weights(cloud, zone.ID, api))
		ch, err := cloud.Route53().GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		require.NoError(t, err)
		assert.Equal(t, types.ChangeStatusInsync, ch.ChangeInfo.Status, "Shift returns once INSYNC")
		assert.Greater(t, cloud.Clock().Now().Sub(start), time.Duration(0), "waited on the env clock")
		got, err := r.Weights(ctx)
		require.NoError(t, err)
		assert.Equal(t, to, got, "Weights reads back the split")
	}
	// The records' content is the spec's: a shift changes weights only.
	assert.Equal(t, "internal-web-123.us-east-1.elb.amazonaws.com.", aws.ToString(record(cloud, zone.ID, web, dns.Green).AliasTarget.DNSName))
	assert.Len(t, record(cloud, zone.ID, web, dns.Blue).ResourceRecords, 2)
	// And EnsureRecords sees a converged set.
	cloud.ResetCalls()
	_, err = dns.EnsureRecords(ctx, env, cloud.Route53(), spec)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())

	var shifts []string
	for _, c := range report.Changes() {
		if c.Kind == dns.KindWeights {
			shifts = append(shifts, c.Diff[0].To)
		}
	}
	assert.ElementsMatch(t, []string{"blue 90 / green 10", "blue 50 / green 50", "blue 0 / green 255", "blue 100 / green 0"}, shifts, "every shift is reported")
}

func TestShiftValidation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		to      migration.Split
		opts    []dns.RouterOption
		wantErr string
	}{
		{name: "blue above 255", to: migration.Split{Blue: 256, Green: 0}, wantErr: "split.blue: weight 256 outside 0..255"},
		{name: "green negative", to: migration.Split{Blue: 10, Green: -1}, wantErr: "split.green: weight -1 outside 0..255"},
		{name: "both zero refused by default", to: migration.Split{}, wantErr: "both weights zero"},
		{name: "both zero allowed explicitly", to: migration.Split{}, opts: []dns.RouterOption{dns.AllowBothZero()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, zone, spec := setup(t)
			r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec, tt.opts...)
			require.NoError(t, err)
			cloud.ResetCalls()
			_, err = r.Shift(ctx, tt.to)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, cloud.Calls(), "refused before any call")
				assert.Equal(t, migration.AllBlue, weights(cloud, zone.ID, web))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.to, weights(cloud, zone.ID, web))
		})
	}
}

func TestNewRouter(t *testing.T) {
	env, cloud, zone, spec := setup(t)
	_, err := dns.NewRouter(env, cloud.Route53(), "Z0OTHERZONE", spec)
	assert.ErrorContains(t, err, "differs from records.zoneId")
	spec.ZoneID = ""
	r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec)
	require.NoError(t, err, "the zone ID may come from the argument alone")
	got, err := r.Weights(context.Background())
	require.NoError(t, err)
	assert.Equal(t, migration.AllBlue, got)
	_, err = dns.NewRouter(env, cloud.Route53(), "", spec)
	assert.ErrorContains(t, err, "records.zoneId: required")
}

func TestShiftAbsorbsPriorRequestNotComplete(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		fail     int
		attempts int
		wantErr  bool
	}{
		// The SDK retryer treats PriorRequestNotComplete as throttling:
		// the retries happen inside one client call.
		{name: "three refusals are retried by the SDK", fail: 3, attempts: 4},
		// Shift adds no retry of its own on top: after the SDK's
		// MaxAttempts the error comes back.
		{name: "no second retry layer", fail: awsx.MaxAttempts, attempts: awsx.MaxAttempts, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, zone, spec := setup(t)
			r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec)
			require.NoError(t, err)
			cloud.ResetCalls()
			cloud.Route53().FailNextChanges(tt.fail)
			_, err = r.Shift(ctx, migration.GreenPercent(10))
			assert.Equal(t, tt.attempts, cloud.Count(route53.ServiceID, "ChangeResourceRecordSets"))
			if tt.wantErr {
				require.Error(t, err)
				assert.Equal(t, "PriorRequestNotComplete", awsx.Code(err))
				assert.Equal(t, migration.AllBlue, weights(cloud, zone.ID, web))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, migration.GreenPercent(10), weights(cloud, zone.ID, web))
		})
	}
}

func TestConcurrentShiftsNeverMix(t *testing.T) {
	ctx := context.Background()
	for round := range 5 {
		env, cloud, zone, spec := setup(t)
		r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec)
		require.NoError(t, err)
		splits := make([]migration.Split, 8)
		for i := range splits {
			splits[i] = migration.Split{Blue: 200 - 10*i - round, Green: 3 + 17*i + round}
		}
		// Every state the zone passes through, taken after every write:
		// with one atomic batch per shift, each holds both records of
		// every name, on one split for all names.
		var (
			mu       sync.Mutex
			observed []map[string]migration.Split
		)
		cloud.OnWrite(func() {
			// One read of the zone, so the state is a true snapshot.
			state := map[string]migration.Split{web: {Blue: -1, Green: -1}, api: {Blue: -1, Green: -1}}
			for _, rr := range cloud.Route53().Records(zone.ID) {
				s, ok := state[aws.ToString(rr.Name)]
				if !ok || rr.Weight == nil {
					continue
				}
				switch aws.ToString(rr.SetIdentifier) {
				case dns.Blue:
					s.Blue = int(*rr.Weight)
				case dns.Green:
					s.Green = int(*rr.Weight)
				}
				state[aws.ToString(rr.Name)] = s
			}
			mu.Lock()
			observed = append(observed, state)
			mu.Unlock()
		})
		cloud.ResetCalls()
		var wg sync.WaitGroup
		errs := make([]error, len(splits))
		for i, s := range splits {
			wg.Go(func() { _, errs[i] = r.Shift(ctx, s) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		assert.Len(t, observed, len(splits), "one observed state per shift")
		for i, state := range observed {
			assert.Contains(t, splits, state[web], "state %d: web holds one of the requested splits, both records present", i)
			assert.Equal(t, state[web], state[api], "state %d: never a moment with the names on different splits", i)
		}
		assert.Equal(t, len(splits), cloud.Count(route53.ServiceID, "ChangeResourceRecordSets"), "one batch per shift")
		final := weights(cloud, zone.ID, web)
		assert.Contains(t, splits, final, "the final state is one of the requested splits")
		assert.Equal(t, final, weights(cloud, zone.ID, api), "every name holds the same split, never a mix")
		got, err := r.Weights(ctx)
		require.NoError(t, err)
		assert.Equal(t, final, got)
	}
}

func TestShiftSyncTimeout(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, spec := setup(t)
	report := &migration.Report{}
	env.Reporter = report
	// The fake keeps a change PENDING for 40 s; the Router waits 20 s.
	r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec, dns.WithSyncTimeout(20*time.Second))
	require.NoError(t, err)
	start := cloud.Clock().Now()
	applied, err := r.Shift(ctx, migration.GreenPercent(10))
	id := applied.ChangeID
	require.ErrorIs(t, err, awsx.ErrTimeout)
	assert.ErrorContains(t, err, "applied as change "+id+", not yet INSYNC")
	require.NotEmpty(t, id, "the change ID comes back with the error, to be followed up")
	waited := cloud.Clock().Now().Sub(start)
	assert.GreaterOrEqual(t, waited, 20*time.Second, "waited the whole timeout on the env clock")
	assert.Less(t, waited, 40*time.Second, "and no longer")
	ch, err := cloud.Route53().GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, types.ChangeStatusPending, ch.ChangeInfo.Status)
	assert.Equal(t, migration.GreenPercent(10), weights(cloud, zone.ID, web), "the batch itself was applied whole")
	assert.Equal(t, migration.GreenPercent(10), weights(cloud, zone.ID, api))
	assert.Empty(t, report.Changes(), "a shift not yet INSYNC is not reported as done")

	// The default timeout outlasts the fake's 40 s, and the shift is
	// reported once INSYNC.
	r, err = dns.NewRouter(env, cloud.Route53(), zone.ID, spec)
	require.NoError(t, err)
	_, err = r.Shift(ctx, migration.GreenPercent(25))
	require.NoError(t, err)
	require.Len(t, report.Changes(), 1)
	assert.Equal(t, dns.KindWeights, report.Changes()[0].Kind)
}

func TestWeightsErrors(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, spec := setup(t)
	r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec)
	require.NoError(t, err)

	// Someone moves one name by hand.
	green := record(cloud, zone.ID, api, dns.Green)
	green.Weight = aws.Int64(40)
	change(t, cloud, zone.ID, types.Change{Action: "UPSERT", ResourceRecordSet: green})
	_, err = r.Weights(ctx)
	require.ErrorContains(t, err, "the service names disagree")
	assert.ErrorContains(t, err, "api.corp.example.internal: blue 100 / green 40")
	assert.ErrorContains(t, err, "web.corp.example.internal: blue 100 / green 0")

	// A Shift repairs it.
	_, err = r.Shift(ctx, migration.AllBlue)
	require.NoError(t, err)
	got, err := r.Weights(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.AllBlue, got)

	// A look-alike record next to ours does not confuse the read: only
	// name, type and SetIdentifier matching exactly count.
	change(t, cloud, zone.ID,
		types.Change{Action: "CREATE", ResourceRecordSet: aRecord("blue."+api, "", 0, 60, "10.9.9.9")},
		types.Change{Action: "CREATE", ResourceRecordSet: aRecord("x"+api, dns.Green, 7, 60, "10.9.9.9")},
	)
	got, err = r.Weights(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.AllBlue, got)

	// A missing record is an error, not a zero weight.
	change(t, cloud, zone.ID, types.Change{Action: "DELETE", ResourceRecordSet: record(cloud, zone.ID, web, dns.Green)})
	_, err = r.Weights(ctx)
	assert.ErrorContains(t, err, "web.corp.example.internal. has no weighted A record green")
}

func TestShiftDryRunAndNotes(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, spec := setup(t)
	spec.Services[0].Green.HealthCheckID = "0f2b7c1e-1111-4222-8333-944455556666"
	report := &migration.Report{}
	env.Reporter, env.DryRun = report, true
	r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec, dns.AllowBothZero())
	require.NoError(t, err)
	cloud.ResetCalls()
	applied, err := r.Shift(ctx, migration.GreenPercent(100))
	require.NoError(t, err)
	assert.True(t, migration.IsPending(applied.ChangeID))
	assert.Equal(t, migration.GreenPercent(100), applied.Split)
	assert.Empty(t, cloud.Calls(), "a dry-run shift calls nothing")
	require.Len(t, report.Changes(), 1)
	c := report.Changes()[0]
	assert.Equal(t, migration.ActionUpdate, c.Action)
	assert.Equal(t, "blue 0 / green 100", c.Diff[0].To)
	assert.Contains(t, c.Note, "WARNING web: green is health-checked, so while it is unhealthy Route 53 answers with blue despite weight 0")

	_, err = r.Shift(ctx, migration.Split{})
	require.NoError(t, err)
	assert.Contains(t, report.Changes()[1].Note, "both weights zero: Route 53 answers with blue and green equally")
	assert.Equal(t, migration.AllBlue, weights(cloud, zone.ID, web))
}
