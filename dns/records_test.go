package dns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

const (
	web = "web.corp.example.internal."
	api = "api.corp.example.internal."
)

func TestEnsureRecords(t *testing.T) {
	ctx := context.Background()
	type fixture struct {
		env   migration.Env
		cloud *fakecloud.Cloud
		zone  dns.Zone
	}
	ensure := func(t *testing.T, f fixture, spec dns.RecordsSpec) {
		t.Helper()
		_, err := dns.EnsureRecords(ctx, f.env, f.cloud.Route53(), spec)
		require.NoError(t, err)
	}
	tests := []struct {
		name        string
		setup       func(t *testing.T, f fixture) // runs before the call log is reset
		dryRun      bool
		spec        func(s dns.RecordsSpec) dns.RecordsSpec
		wantActions []migration.Action // in spec order: web, api
		wantWrites  []string
		wantWeights migration.Split // of both names afterwards
		wantErr     string
		check       func(t *testing.T, f fixture)
	}{
		{
			name:        "missing records are created all blue in one batch",
			wantActions: []migration.Action{migration.ActionCreate, migration.ActionCreate},
			wantWrites:  []string{"ChangeResourceRecordSets"},
			wantWeights: migration.AllBlue,
			check: func(t *testing.T, f fixture) {
				blue := record(f.cloud, f.zone.ID, web, dns.Blue)
				require.NotNil(t, blue)
				assert.Equal(t, int64(60), aws.ToInt64(blue.TTL))
				assert.Len(t, blue.ResourceRecords, 2)
				green := record(f.cloud, f.zone.ID, web, dns.Green)
				require.NotNil(t, green)
				assert.Equal(t, "internal-web-123.us-east-1.elb.amazonaws.com.", aws.ToString(green.AliasTarget.DNSName))
				assert.Nil(t, green.TTL, "an alias takes the target's TTL")
				marker := record(f.cloud, f.zone.ID, "_cutover."+web, "")
				require.NotNil(t, marker)
				assert.Equal(t, `"cutover:env=dev"`, aws.ToString(marker.ResourceRecords[0].Value))
			},
		},
		{
			name:        "an initial split from the spec",
			spec:        func(s dns.RecordsSpec) dns.RecordsSpec { s.Initial = &migration.Split{Blue: 90, Green: 10}; return s },
			wantActions: []migration.Action{migration.ActionCreate, migration.ActionCreate},
			wantWrites:  []string{"ChangeResourceRecordSets"},
			wantWeights: migration.Split{Blue: 90, Green: 10},
		},
		{
			name:        "converged makes no write",
			setup:       func(t *testing.T, f fixture) { ensure(t, f, recordsSpec(f.zone.ID)) },
			wantActions: []migration.Action{migration.ActionNoop, migration.ActionNoop},
			wantWeights: migration.AllBlue,
		},
		{
			name: "shifted weights are kept, not reset",
			setup: func(t *testing.T, f fixture) {
				ensure(t, f, recordsSpec(f.zone.ID))
				r, err := dns.NewRouter(f.env, f.cloud.Route53(), f.zone.ID, recordsSpec(f.zone.ID))
				require.NoError(t, err)
				_, err = r.Shift(ctx, migration.GreenPercent(25))
				require.NoError(t, err)
			},
			spec:        func(s dns.RecordsSpec) dns.RecordsSpec { s.Initial = &migration.AllBlue; return s },
			wantActions: []migration.Action{migration.ActionNoop, migration.ActionNoop},
			wantWeights: migration.Split{Blue: 75, Green: 25},
		},
		{
			name:  "a changed blue IP converges, keeping the weights",
			setup: func(t *testing.T, f fixture) { ensure(t, f, recordsSpec(f.zone.ID)) },
			spec: func(s dns.RecordsSpec) dns.RecordsSpec {
				s.Services[1].Blue.IPs = []string{"192.168.20.99"}
				return s
			},
			wantActions: []migration.Action{migration.ActionNoop, migration.ActionUpdate},
			wantWrites:  []string{"ChangeResourceRecordSets"},
			wantWeights: migration.AllBlue,
			check: func(t *testing.T, f fixture) {
				assert.Equal(t, "192.168.20.99", aws.ToString(record(f.cloud, f.zone.ID, api, dns.Blue).ResourceRecords[0].Value))
			},
		},
		{
			name:        "a TTL change rewrites both records of a name together",
			setup:       func(t *testing.T, f fixture) { ensure(t, f, recordsSpec(f.zone.ID)) },
			spec:        func(s dns.RecordsSpec) dns.RecordsSpec { s.TTL = 30; return s },
			wantActions: []migration.Action{migration.ActionUpdate, migration.ActionUpdate},
			wantWrites:  []string{"ChangeResourceRecordSets"},
			wantWeights: migration.AllBlue,
			check: func(t *testing.T, f fixture) {
				assert.Equal(t, int64(30), aws.ToInt64(record(f.cloud, f.zone.ID, api, dns.Blue).TTL))
				assert.Equal(t, int64(30), aws.ToInt64(record(f.cloud, f.zone.ID, api, dns.Green).TTL))
			},
		},
		{
			name: "records deleted by hand under the env's marker are recreated",
			setup: func(t *testing.T, f fixture) {
				ensure(t, f, recordsSpec(f.zone.ID))
				change(t, f.cloud, f.zone.ID,
					types.Change{Action: "DELETE", ResourceRecordSet: record(f.cloud, f.zone.ID, api, dns.Blue)},
					types.Change{Action: "DELETE", ResourceRecordSet: record(f.cloud, f.zone.ID, api, dns.Green)})
			},
			wantActions: []migration.Action{migration.ActionNoop, migration.ActionCreate},
			wantWrites:  []string{"ChangeResourceRecordSets"},
			wantWeights: migration.AllBlue,
		},
		{
			name:  "a record type change is refused",
			setup: func(t *testing.T, f fixture) { ensure(t, f, recordsSpec(f.zone.ID)) },
			spec: func(s dns.RecordsSpec) dns.RecordsSpec {
				s.Services[1].Blue = dns.Target{Host: "api.onprem.bank"}
				s.Services[1].Green = dns.Target{Host: "api-alb.aws.bank"}
				return s
			},
			wantErr: "the record type cannot change",
		},
		{
			name: "one record of a pair missing is refused",
			setup: func(t *testing.T, f fixture) {
				ensure(t, f, recordsSpec(f.zone.ID))
				change(t, f.cloud, f.zone.ID, types.Change{Action: "DELETE", ResourceRecordSet: record(f.cloud, f.zone.ID, api, dns.Green)})
			},
			wantErr: "the green record is missing",
		},
		{
			name: "records without the env's marker are not adopted",
			setup: func(t *testing.T, f fixture) {
				change(t, f.cloud, f.zone.ID,
					types.Change{Action: "CREATE", ResourceRecordSet: aRecord(api, dns.Blue, 100, 60, "192.168.20.10")},
					types.Change{Action: "CREATE", ResourceRecordSet: aRecord(api, dns.Green, 0, 60, "10.0.1.10")})
			},
			wantErr: "but no ownership marker _cutover.api.corp.example.internal. of env dev",
		},
		{
			name: "another env's records are not touched",
			setup: func(t *testing.T, f fixture) {
				other := f.env
				other.Suffix = "prod"
				ensure(t, fixture{other, f.cloud, f.zone}, recordsSpec(f.zone.ID))
			},
			wantErr: `belongs to another owner: its marker _cutover.web.corp.example.internal. holds TXT "cutover:env=prod"`,
		},
		{
			name: "a simple record at the name is not mixed with the weighted pair",
			setup: func(t *testing.T, f fixture) {
				change(t, f.cloud, f.zone.ID, types.Change{Action: "CREATE", ResourceRecordSet: aRecord(web, "", 0, 300, "192.168.10.10")})
			},
			wantErr: "that Route 53 cannot combine with weighted A records blue and green: A (simple)",
		},
		{
			name:    "a zone of another name is refused",
			spec:    func(s dns.RecordsSpec) dns.RecordsSpec { s.ZoneName = "other.internal"; return s },
			wantErr: "the spec says other.internal",
		},
		{
			name:        "dry run reports creates and writes nothing",
			dryRun:      true,
			wantActions: []migration.Action{migration.ActionCreate, migration.ActionCreate},
		},
		{
			name:        "dry run reports drift and writes nothing",
			setup:       func(t *testing.T, f fixture) { ensure(t, f, recordsSpec(f.zone.ID)) },
			dryRun:      true,
			spec:        func(s dns.RecordsSpec) dns.RecordsSpec { s.TTL = 30; return s },
			wantActions: []migration.Action{migration.ActionUpdate, migration.ActionUpdate},
			wantWeights: migration.AllBlue,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			zone, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: newVPC(t, cloud)})
			require.NoError(t, err)
			f := fixture{env, cloud, zone}
			if tt.setup != nil {
				tt.setup(t, f)
			}
			spec := recordsSpec(zone.ID)
			if tt.spec != nil {
				spec = tt.spec(spec)
			}
			before := cloud.Route53().Records(zone.ID)
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun

			got, err := dns.EnsureRecords(ctx, env, cloud.Route53(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), fmt.Sprintf("ensure records in %q", spec.ZoneName))
				assert.Empty(t, cloud.Writes(), "a refused change writes nothing")
				assert.Equal(t, before, cloud.Route53().Records(zone.ID))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"web.corp.example.internal", "api.corp.example.internal"}, got.Names)
			var acts []migration.Action
			for _, name := range got.Names { // in spec order
				for _, c := range report.Changes() {
					if c.Name == name {
						acts = append(acts, c.Action)
					}
				}
			}
			assert.Equal(t, tt.wantActions, acts)
			assert.Len(t, report.Changes(), len(spec.Services), "one Change per service name")
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.dryRun {
				assert.Equal(t, before, cloud.Route53().Records(zone.ID))
				assert.Empty(t, got.ChangeID)
			}
			if tt.wantWeights != (migration.Split{}) {
				assert.Equal(t, tt.wantWeights, weights(cloud, zone.ID, web))
				assert.Equal(t, tt.wantWeights, weights(cloud, zone.ID, api))
			}
			if len(tt.wantWrites) > 0 {
				assert.NotEmpty(t, got.ChangeID)
				ch, err := cloud.Route53().GetChange(ctx, &route53.GetChangeInput{Id: aws.String(got.ChangeID)})
				require.NoError(t, err)
				assert.Equal(t, types.ChangeStatusInsync, ch.ChangeInfo.Status, "EnsureRecords returns once INSYNC")
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestEnsureRecordsPendingZone(t *testing.T) {
	env, cloud, report := newEnv(t)
	env.DryRun = true
	r, err := dns.EnsureRecords(context.Background(), env, cloud.Route53(), recordsSpec(migration.Pending(zoneName)))
	require.NoError(t, err)
	assert.Empty(t, cloud.Calls(), "a pending zone: nothing to read")
	assert.Equal(t, []migration.Action{migration.ActionCreate, migration.ActionCreate}, actions(report))
	assert.Len(t, r.Names, 2)

	env.DryRun = false
	_, err = dns.EnsureRecords(context.Background(), env, cloud.Route53(), recordsSpec(migration.Pending(zoneName)))
	require.ErrorContains(t, err, "pending outside a dry run")
	assert.Empty(t, cloud.Calls())
}

// interleave is a Route 53 client that runs hook once, just before the
// first ChangeResourceRecordSets call: another writer between a read and
// a write.
type interleave struct {
	*fakecloud.Route53
	hook func()
}

func (i *interleave) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	if h := i.hook; h != nil {
		i.hook = nil
		h()
	}
	return i.Route53.ChangeResourceRecordSets(ctx, in, opts...)
}

func TestEnsureRecordsNeverUndoesAConcurrentShift(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, spec := setup(t)
	r, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec)
	require.NoError(t, err)
	// EnsureRecords reads the records all blue, then a shift to 50 %
	// lands before its write of a new TTL.
	client := &interleave{Route53: cloud.Route53(), hook: func() {
		_, err := r.Shift(ctx, migration.GreenPercent(50))
		require.NoError(t, err)
	}}
	spec.TTL = 30
	cloud.ResetCalls()
	_, err = dns.EnsureRecords(ctx, env, client, spec)
	require.NoError(t, err)
	assert.Equal(t, migration.GreenPercent(50), weights(cloud, zone.ID, web), "the shift survives")
	assert.Equal(t, migration.GreenPercent(50), weights(cloud, zone.ID, api))
	assert.Equal(t, int64(30), aws.ToInt64(record(cloud, zone.ID, api, dns.Green).TTL), "and the TTL converged")
	var codes []string
	for _, c := range cloud.Writes() {
		codes = append(codes, c.Op+" "+c.Code)
	}
	assert.Equal(t, []string{"ChangeResourceRecordSets ", "ChangeResourceRecordSets InvalidChangeBatch", "ChangeResourceRecordSets "}, codes,
		"the shift, the stale batch rejected by Route 53, the batch made from a fresh read")
}

func TestEnsureRecordsNotes(t *testing.T) {
	ctx := context.Background()
	hc := "0f2b7c1e-1111-4222-8333-944455556666"
	tests := []struct {
		name string
		svc  dns.Service
		want []string
		not  []string
	}{
		{
			name: "no health checks, no warning",
			svc:  dns.Service{Name: "web", Blue: dns.Target{IPs: []string{"192.168.1.1"}}, Green: dns.Target{IPs: []string{"10.0.0.1"}}},
			not:  []string{"WARNING"},
		},
		{
			name: "a health-checked green can send traffic back to blue",
			svc:  dns.Service{Name: "web", Blue: dns.Target{IPs: []string{"192.168.1.1"}}, Green: dns.Target{IPs: []string{"10.0.0.1"}, HealthCheckID: hc}},
			want: []string{"WARNING green is health-checked", "back on-premises unasked"},
			not:  []string{"WARNING blue"},
		},
		{
			name: "an alias evaluating target health counts as a health check",
			svc:  dns.Service{Name: "web", Blue: dns.Target{IPs: []string{"192.168.1.1"}}, Green: dns.Target{Alias: &dns.Alias{DNSName: "lb.elb.amazonaws.com", HostedZoneID: albZone, EvaluateTargetHealth: true}}},
			want: []string{"WARNING green is health-checked", "load balancer's TTL"},
		},
		{
			name: "both health-checked fail open",
			svc:  dns.Service{Name: "web", Blue: dns.Target{IPs: []string{"192.168.1.1"}, HealthCheckID: hc}, Green: dns.Target{IPs: []string{"10.0.0.1"}, HealthCheckID: hc}},
			want: []string{"WARNING green", "WARNING blue is health-checked", "fail open"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			// The plan (a dry run before the zone exists) warns already.
			plan := &migration.Report{}
			planEnv := env
			planEnv.Reporter, planEnv.DryRun = plan, true
			_, err := dns.EnsureRecords(ctx, planEnv, cloud.Route53(), dns.RecordsSpec{ZoneID: migration.Pending(zoneName), ZoneName: zoneName, Services: []dns.Service{tt.svc}})
			require.NoError(t, err)
			zone, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: newVPC(t, cloud)})
			require.NoError(t, err)
			report := &migration.Report{}
			env.Reporter = report
			_, err = dns.EnsureRecords(ctx, env, cloud.Route53(), dns.RecordsSpec{ZoneID: zone.ID, ZoneName: zoneName, Services: []dns.Service{tt.svc}})
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			require.Len(t, plan.Changes(), 1)
			for _, note := range []string{plan.Changes()[0].Note, report.Changes()[0].Note} {
				for _, w := range tt.want {
					assert.Contains(t, note, w)
				}
				for _, w := range tt.not {
					assert.NotContains(t, note, w)
				}
			}
			if tt.svc.Green.HealthCheckID != "" {
				assert.Equal(t, hc, aws.ToString(record(cloud, zone.ID, web, dns.Green).HealthCheckId), "the health check is on the record")
			}
		})
	}
}

func TestDeleteRecords(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, spec := setup(t)
	// A look-alike pair at a name the spec also names, under no marker.
	spec.Services = append(spec.Services, dns.Service{Name: "legacy", Blue: dns.Target{IPs: []string{"192.168.30.10"}}, Green: dns.Target{IPs: []string{"10.0.3.10"}}})
	decoy := []types.Change{
		{Action: "CREATE", ResourceRecordSet: aRecord("legacy."+zoneName, dns.Blue, 1, 60, "192.168.30.10")},
		{Action: "CREATE", ResourceRecordSet: aRecord("legacy."+zoneName, dns.Green, 1, 60, "10.0.3.10")},
	}
	change(t, cloud, zone.ID, decoy...)

	report := &migration.Report{}
	env.Reporter = report
	cloud.ResetCalls()
	require.NoError(t, dns.DeleteRecords(ctx, env, cloud.Route53(), spec))
	assert.Equal(t, []string{"ChangeResourceRecordSets"}, writeOps(cloud), "one batch")
	var left []string
	for _, rr := range cloud.Route53().Records(zone.ID) {
		left = append(left, aws.ToString(rr.Name)+" "+string(rr.Type)+" "+aws.ToString(rr.SetIdentifier))
	}
	assert.Equal(t, []string{"corp.example.internal. NS ", "corp.example.internal. SOA ", "legacy.corp.example.internal. A blue", "legacy.corp.example.internal. A green"}, left, "the env's records and markers are gone, the look-alike stays")
	byName := map[string]migration.Change{}
	for _, c := range report.Changes() {
		byName[c.Name] = c
	}
	assert.Equal(t, migration.ActionDelete, byName["web.corp.example.internal"].Action)
	assert.Equal(t, migration.ActionDelete, byName["api.corp.example.internal"].Action)
	assert.Equal(t, migration.ActionNoop, byName["legacy.corp.example.internal"].Action)
	assert.Contains(t, byName["legacy.corp.example.internal"].Note, "not owned")

	// Gone: a no-op without writes; and the zone can go now.
	cloud.ResetCalls()
	require.NoError(t, dns.DeleteRecords(ctx, env, cloud.Route53(), spec))
	assert.Empty(t, cloud.Writes())
}

func TestDeleteRecordsDryRunAndGoneZone(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, spec := setup(t)
	before := cloud.Route53().Records(zone.ID)
	env.DryRun = true
	report := &migration.Report{}
	env.Reporter = report
	cloud.ResetCalls()
	require.NoError(t, dns.DeleteRecords(ctx, env, cloud.Route53(), spec))
	assert.Empty(t, cloud.Writes())
	assert.Equal(t, before, cloud.Route53().Records(zone.ID))
	assert.Equal(t, []migration.Action{migration.ActionDelete, migration.ActionDelete}, actions(report))

	env.DryRun = false
	require.NoError(t, dns.DeleteZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: zone.VPCID}))
	report = &migration.Report{}
	env.Reporter = report
	require.NoError(t, dns.DeleteRecords(ctx, env, cloud.Route53(), spec), "the zone is gone: nothing to do")
	assert.Equal(t, []migration.Action{migration.ActionNoop, migration.ActionNoop}, actions(report))
}

func TestRecordsSpecValidate(t *testing.T) {
	ok := recordsSpec("Z0123456789ABCDEF")
	tests := []struct {
		name string
		edit func(s *dns.RecordsSpec)
		want string
	}{
		{"zone id required", func(s *dns.RecordsSpec) { s.ZoneID = "" }, "records.zoneId: required"},
		{"zone id shape", func(s *dns.RecordsSpec) { s.ZoneID = "zone-1" }, "records.zoneId: \"zone-1\" is not a Route 53 hosted zone ID"},
		{"zone name", func(s *dns.RecordsSpec) { s.ZoneName = "bad..name" }, "records.zoneName"},
		{"negative TTL", func(s *dns.RecordsSpec) { s.TTL = -1 }, "records.ttl: -1 outside 1..3600"},
		{"TTL too long for a cutover", func(s *dns.RecordsSpec) { s.TTL = 86400 }, "records.ttl: 86400 outside"},
		{"initial weight above 255", func(s *dns.RecordsSpec) { s.Initial = &migration.Split{Blue: 256} }, "records.initial: split.blue: weight 256 outside 0..255"},
		{"initial weight below 0", func(s *dns.RecordsSpec) { s.Initial = &migration.Split{Blue: 10, Green: -1} }, "records.initial: split.green: weight -1"},
		{"initial both zero", func(s *dns.RecordsSpec) { s.Initial = &migration.Split{} }, "records.initial: split: both weights zero"},
		{"no services", func(s *dns.RecordsSpec) { s.Services = nil }, "records.services: at least one"},
		{"missing service name", func(s *dns.RecordsSpec) { s.Services[0].Name = "" }, "records.services[0].name: required"},
		{"bad service name", func(s *dns.RecordsSpec) { s.Services[0].Name = "web_1" }, "records.services[0].name: \"web_1\" has the label"},
		{"duplicate service name", func(s *dns.RecordsSpec) { s.Services[1].Name = "WEB" }, "records.services[1].name: \"web\" is also services[0]"},
		{"too long a name with its marker", func(s *dns.RecordsSpec) { s.Services[0].Name = strings.Repeat(strings.Repeat("a", 60)+".", 4)[:239] }, "makes the"},
		{"bad blue IP", func(s *dns.RecordsSpec) { s.Services[0].Blue.IPs = []string{"192.168.1.300"} }, "records.services[0].blue.ips[0]: \"192.168.1.300\" is not an IPv4 address"},
		{"IPv6 blue", func(s *dns.RecordsSpec) { s.Services[0].Blue.IPs = []string{"fd00::1"} }, "is not an IPv4 address"},
		{"duplicate IP", func(s *dns.RecordsSpec) { s.Services[1].Green.IPs = []string{"10.0.1.10", "10.0.1.10"} }, "records.services[1].green.ips[1]: 10.0.1.10 is listed twice"},
		{"blue without target", func(s *dns.RecordsSpec) { s.Services[0].Blue = dns.Target{} }, "records.services[0].blue: give exactly one of ips or host"},
		{"green with two targets", func(s *dns.RecordsSpec) { s.Services[1].Green.Host = "api.aws.bank" }, "records.services[1].green: give exactly one of ips, host or alias"},
		{"blue alias", func(s *dns.RecordsSpec) {
			s.Services[0].Blue = dns.Target{Alias: &dns.Alias{DNSName: "x.elb.amazonaws.com", HostedZoneID: albZone}}
		}, "blue is the on-premises side"},
		{"bad alias zone", func(s *dns.RecordsSpec) { s.Services[0].Green.Alias.HostedZoneID = "elb" }, "records.services[0].green.alias.hostedZoneId"},
		{"bad alias name", func(s *dns.RecordsSpec) { s.Services[0].Green.Alias.DNSName = "" }, "records.services[0].green.alias.dnsName: required"},
		{"bad host", func(s *dns.RecordsSpec) { s.Services[0].Blue = dns.Target{Host: "web..onprem"} }, "records.services[0].blue.host"},
		{"types differ", func(s *dns.RecordsSpec) { s.Services[0].Blue = dns.Target{Host: "web.onprem.bank"} }, "records.services[0]: blue makes a CNAME record and green a A record"},
		{"bad health check", func(s *dns.RecordsSpec) { s.Services[0].Green.HealthCheckID = "hc-1" }, "records.services[0].green.healthCheckId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			spec := recordsSpec(ok.ZoneID)
			tt.edit(&spec)
			_, err := dns.EnsureRecords(context.Background(), env, cloud.Route53(), spec)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, dns.DeleteRecords(context.Background(), env, cloud.Route53(), spec), tt.want)
			_, err = dns.NewRouter(env, cloud.Route53(), spec.ZoneID, spec)
			if spec.ZoneID != "" {
				require.ErrorContains(t, err, tt.want)
			}
			assert.Empty(t, cloud.Calls(), "validation happens before any call")
		})
	}
	require.NoError(t, ok.Validate())
	many := ok
	many.Services = nil
	for i := range 101 {
		many.Services = append(many.Services, dns.Service{Name: fmt.Sprintf("s%d", i), Blue: dns.Target{IPs: []string{"192.168.0.1"}}, Green: dns.Target{IPs: []string{"10.0.0.1"}}})
	}
	assert.ErrorContains(t, many.Validate(), "at most 100 fit one Route 53 change batch")
}
