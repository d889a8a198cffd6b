package dns_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// plantZone creates a private zone of the same name that is not the
// env's: no ownership tag, someone else's CallerReference.
func plantZone(t *testing.T, cloud *fakecloud.Cloud, vpc string) string {
	t.Helper()
	out, err := cloud.Route53().CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{
		Name: aws.String(zoneName), CallerReference: aws.String("console-2026-11-01"),
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true},
		VPC:              &types.VPC{VPCId: aws.String(vpc), VPCRegion: "us-east-1"},
	})
	require.NoError(t, err)
	id := aws.ToString(out.HostedZone.Id)[len("/hostedzone/"):]
	_, err = cloud.Route53().ChangeTagsForResource(context.Background(), &route53.ChangeTagsForResourceInput{ResourceId: aws.String(id), ResourceType: "hostedzone", AddTags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("phz-dev")}, {Key: aws.String("ManagedBy"), Value: aws.String("cutover")}}})
	require.NoError(t, err)
	return id
}

func TestEnsureZone(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, vpc string) // runs before the call log is reset
		env        func(env *migration.Env)
		spec       func(vpc string) dns.ZoneSpec
		wantAction migration.Action
		wantWrites []string
		wantCalls  int // -1: don't check
		wantErr    string
	}{
		{
			name:       "missing is created, tagged and waited for",
			wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateHostedZone", "ChangeTagsForResource"},
			wantCalls:  -1,
		},
		{
			name: "converged makes no write",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, vpc string) {
				_, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: vpc})
				require.NoError(t, err)
			},
			wantAction: migration.ActionNoop,
			wantCalls:  -1,
		},
		{
			name: "a removed tag converges",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, vpc string) {
				z, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: vpc})
				require.NoError(t, err)
				_, err = cloud.Route53().ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceId: aws.String(z.ID), ResourceType: "hostedzone", RemoveTagKeys: []string{"Project"}})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"ChangeTagsForResource"},
			wantCalls:  -1,
		},
		{
			name: "more than ten tags are added ten per call",
			env: func(env *migration.Env) {
				env.UserTags = map[string]string{}
				for i := range 8 {
					env.UserTags[fmt.Sprintf("cost-center-%d", i)] = "x"
				}
			},
			wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateHostedZone", "ChangeTagsForResource", "ChangeTagsForResource"},
			wantCalls:  -1,
		},
		{
			name: "another VPC is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, vpc string) {
				_, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: newVPC(t, cloud)})
				require.NoError(t, err)
			},
			wantErr:   "vpc cannot change",
			wantCalls: -1,
		},
		{
			name:       "dry run on an empty cloud reports create and writes nothing",
			env:        func(env *migration.Env) { env.DryRun = true },
			wantAction: migration.ActionCreate,
			wantCalls:  -1,
		},
		{
			name:       "dry run with a pending VPC calls nothing",
			env:        func(env *migration.Env) { env.DryRun = true },
			spec:       func(string) dns.ZoneSpec { return dns.ZoneSpec{Name: zoneName, VPCID: migration.Pending("vpc-dev")} },
			wantAction: migration.ActionCreate,
			wantCalls:  0,
		},
		{
			name:      "a pending VPC outside a dry run is an error",
			spec:      func(string) dns.ZoneSpec { return dns.ZoneSpec{Name: zoneName, VPCID: migration.Pending("vpc-dev")} },
			wantErr:   "pending outside a dry run",
			wantCalls: 0,
		},
		{
			name: "a look-alike in another VPC is not adopted",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, vpc string) {
				plantZone(t, cloud, newVPC(t, cloud))
			},
			wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateHostedZone", "ChangeTagsForResource"},
			wantCalls:  -1,
		},
		{
			name: "two zones of the env are an error, not a guess",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, vpc string) {
				_, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: vpc})
				require.NoError(t, err)
				// A second zone of the name carrying the env's ownership tags
				// (made by hand, or by a copy of the env elsewhere).
				id := plantZone(t, cloud, newVPC(t, cloud))
				var tags []types.Tag
				for k, v := range env.NameTags("phz-dev") {
					tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
				}
				_, err = cloud.Route53().ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceId: aws.String(id), ResourceType: "hostedzone", AddTags: tags})
				require.NoError(t, err)
			},
			wantErr:   "2 private zones named corp.example.internal belong to env dev",
			wantCalls: -1,
		},
		{
			name: "a look-alike in the same VPC is reported, not adopted",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, vpc string) {
				plantZone(t, cloud, vpc)
			},
			wantErr:   "that this env does not own",
			wantCalls: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			vpc := newVPC(t, cloud)
			if tt.env != nil {
				tt.env(&env)
			}
			if tt.setup != nil {
				setupEnv := env
				setupEnv.DryRun = false
				tt.setup(t, setupEnv, cloud, vpc)
			}
			spec := dns.ZoneSpec{Name: zoneName, VPCID: vpc}
			if tt.spec != nil {
				spec = tt.spec(vpc)
			}
			zonesBefore := cloud.Route53().Zones()
			start := cloud.Clock().Now()
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter = report

			z, err := dns.EnsureZone(ctx, env, cloud.Route53(), spec)
			if tt.wantCalls >= 0 {
				assert.Len(t, cloud.Calls(), tt.wantCalls)
			}
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure zone "corp.example.internal"`)
				for _, w := range cloud.Writes() {
					assert.NotEmpty(t, w.Code, "a refused change makes no successful write (%s)", w.Op)
				}
				assert.Equal(t, zonesBefore, cloud.Route53().Zones())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(report))
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if env.DryRun {
				assert.True(t, migration.IsPending(z.ID))
				assert.Equal(t, zonesBefore, cloud.Route53().Zones())
				return
			}
			assert.Equal(t, "corp.example.internal", z.Name)
			assert.Equal(t, vpc, z.VPCID)
			got, err := cloud.Route53().GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(z.ID)})
			require.NoError(t, err)
			assert.True(t, got.HostedZone.Config.PrivateZone)
			assert.Equal(t, []types.VPC{{VPCId: aws.String(vpc), VPCRegion: "us-east-1"}}, got.VPCs)
			assert.Equal(t, "cutover/dev/corp.example.internal", aws.ToString(got.HostedZone.CallerReference))
			tags := cloud.Route53().ZoneTags(z.ID)
			for k, v := range env.NameTags("phz-dev") {
				assert.Equal(t, v, tags[k], "tag %s", k)
			}
			if tt.wantAction == migration.ActionCreate {
				assert.GreaterOrEqual(t, cloud.Count(route53.ServiceID, "GetChange"), 2, "the create is polled until INSYNC")
				assert.GreaterOrEqual(t, cloud.Clock().Now().Sub(start), 40*time.Second, "on the env clock, past the 40 s the fake keeps a change PENDING")
			}
		})
	}
}

func TestEnsureZoneSurvivesALostCreateResponse(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	vpc := newVPC(t, cloud)
	spec := dns.ZoneSpec{Name: zoneName, VPCID: vpc}
	// The create happens, its response is lost (the process dies before
	// tagging), and the new zone stays unlisted for a few reads.
	cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 1, CrashAfter: true, NotFoundReads: 2})
	_, err := dns.EnsureZone(ctx, env, cloud.Route53(), spec)
	require.ErrorIs(t, err, fakecloud.ErrCrash)
	require.Len(t, cloud.Route53().Zones(), 1)
	cloud.Restart()

	report := &migration.Report{}
	env.Reporter = report
	cloud.ResetCalls()
	z, err := dns.EnsureZone(ctx, env, cloud.Route53(), spec)
	require.NoError(t, err)
	assert.Equal(t, cloud.Route53().Zones(), []string{z.ID}, "no second zone")
	assert.Equal(t, []string{"CreateHostedZone", "ChangeTagsForResource"}, writeOps(cloud), "the retried create is refused, the zone found again and tagged")
	assert.Equal(t, "HostedZoneAlreadyExists", cloud.Writes()[0].Code)
	assert.True(t, env.Owns(cloud.Route53().ZoneTags(z.ID)))
	assert.Equal(t, []migration.Action{migration.ActionUpdate}, actions(report))
}

func TestEnsureZoneAfterDestroyTakesTheNextCallerReference(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	spec := dns.ZoneSpec{Name: zoneName, VPCID: newVPC(t, cloud)}
	for cycle := 1; cycle <= 3; cycle++ {
		z, err := dns.EnsureZone(ctx, env, cloud.Route53(), spec)
		require.NoError(t, err)
		got, err := cloud.Route53().GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(z.ID)})
		require.NoError(t, err)
		want := "cutover/dev/corp.example.internal"
		if cycle > 1 {
			want += fmt.Sprintf("/%d", cycle)
		}
		assert.Equal(t, want, aws.ToString(got.HostedZone.CallerReference))
		require.NoError(t, dns.DeleteZone(ctx, env, cloud.Route53(), spec))
		assert.Empty(t, cloud.Route53().Zones())
	}
	assert.Equal(t, 1+2+3, cloud.Count(route53.ServiceID, "CreateHostedZone"), "each cycle probes the used references once")
}

func TestEnsureZoneConvergesUnderFaults(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	vpc := newVPC(t, cloud)
	// Half the calls throttled, every new zone invisible to its first two
	// reads: the SDK retryer absorbs the throttling, the package the
	// eventual consistency.
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.5, NotFoundReads: 2, Services: []string{route53.ServiceID}})
	z, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: vpc})
	require.NoError(t, err)
	_, err = dns.EnsureRecords(ctx, env, cloud.Route53(), recordsSpec(z.ID))
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	throttled, hidden := 0, 0
	for _, c := range cloud.Calls() {
		switch c.Code {
		case "Throttling":
			throttled++
		case "NoSuchHostedZone":
			hidden++
		}
	}
	assert.Positive(t, throttled, "the throttling fault must have fired")
	assert.Positive(t, hidden, "the eventual-consistency fault must have fired")
	assert.Equal(t, []string{z.ID}, cloud.Route53().Zones())
	assert.Equal(t, migration.Split{Blue: 100, Green: 0}, weights(cloud, z.ID, "web.corp.example.internal."))

	cloud.ResetCalls()
	_, err = dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: vpc})
	require.NoError(t, err)
	_, err = dns.EnsureRecords(ctx, env, cloud.Route53(), recordsSpec(z.ID))
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes(), "converged: a second run writes nothing")
}

func TestDeleteZone(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, _ := setup(t)
	decoy := plantZone(t, cloud, newVPC(t, cloud))
	spec := dns.ZoneSpec{Name: zoneName, VPCID: zone.VPCID}

	report := &migration.Report{}
	env.Reporter = report
	cloud.ResetCalls()
	require.NoError(t, dns.DeleteZone(ctx, env, cloud.Route53(), spec))
	assert.Equal(t, []string{decoy}, cloud.Route53().Zones(), "only the owned zone is deleted")
	assert.Equal(t, []string{"ChangeResourceRecordSets", "DeleteHostedZone"}, writeOps(cloud), "the records go in one batch, then the zone")
	assert.Equal(t, []migration.Action{migration.ActionDelete, migration.ActionDelete, migration.ActionDelete}, actions(report))
	var kinds []string
	for _, c := range report.Changes() {
		kinds = append(kinds, c.Kind+" "+c.Name)
	}
	assert.ElementsMatch(t, []string{"dns-records api.corp.example.internal", "dns-records web.corp.example.internal", "dns-zone corp.example.internal"}, kinds)

	// Gone: a no-op without writes.
	cloud.ResetCalls()
	require.NoError(t, dns.DeleteZone(ctx, env, cloud.Route53(), spec))
	assert.Empty(t, cloud.Writes())
}

func TestDeleteZoneLeavesForeignRecords(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, _ := setup(t)
	// A record someone else added to the env's zone, and a weighted pair
	// under another env's marker.
	change(t, cloud, zone.ID,
		types.Change{Action: "CREATE", ResourceRecordSet: aRecord("legacy.corp.example.internal", "", 0, 300, "192.168.1.1")},
		types.Change{Action: "CREATE", ResourceRecordSet: aRecord("mail.corp.example.internal", "blue", 1, 60, "192.168.1.2")},
		types.Change{Action: "CREATE", ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("_cutover.mail.corp.example.internal"), Type: "TXT", TTL: aws.Int64(300), ResourceRecords: []types.ResourceRecord{{Value: aws.String(`"cutover:env=prod"`)}}}},
	)
	before := cloud.Route53().Records(zone.ID)
	cloud.ResetCalls()
	err := dns.DeleteZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: zone.VPCID})
	require.ErrorContains(t, err, "holds records this env does not own")
	assert.ErrorContains(t, err, "legacy.corp.example.internal. A")
	assert.ErrorContains(t, err, "mail.corp.example.internal. A (blue)")
	assert.ErrorContains(t, err, "_cutover.mail.corp.example.internal. TXT")
	assert.Empty(t, cloud.Writes(), "nothing is deleted while foreign records remain")
	assert.Equal(t, before, cloud.Route53().Records(zone.ID))
}

func TestDeleteZoneDryRun(t *testing.T) {
	ctx := context.Background()
	env, cloud, zone, _ := setup(t)
	before := cloud.Route53().Records(zone.ID)
	cloud.ResetCalls()
	report := &migration.Report{}
	env.Reporter, env.DryRun = report, true
	require.NoError(t, dns.DeleteZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: zone.VPCID}))
	assert.Empty(t, cloud.Writes())
	assert.Equal(t, before, cloud.Route53().Records(zone.ID))
	assert.Equal(t, []migration.Action{migration.ActionDelete, migration.ActionDelete, migration.ActionDelete}, actions(report))
}

func TestZoneSpecValidate(t *testing.T) {
	tests := []struct {
		spec dns.ZoneSpec
		want string
	}{
		{dns.ZoneSpec{VPCID: "vpc-0123456789abcdef0"}, "zone.name: required"},
		{dns.ZoneSpec{Name: "internal", VPCID: "vpc-0123456789abcdef0"}, "zone.name: \"internal\" is a single label"},
		{dns.ZoneSpec{Name: "corp_x.internal", VPCID: "vpc-0123456789abcdef0"}, "zone.name: \"corp_x.internal\" has the label \"corp_x\""},
		{dns.ZoneSpec{Name: "-corp.internal", VPCID: "vpc-0123456789abcdef0"}, "has the label \"-corp\""},
		{dns.ZoneSpec{Name: zoneName}, "zone.vpcId: \"\" is not a VPC ID"},
		{dns.ZoneSpec{Name: zoneName, VPCID: "vpc-xyz"}, "zone.vpcId"},
		{dns.ZoneSpec{Name: zoneName, VPCID: "vpc-0123456789abcdef0", VPCRegion: "Virginia"}, "zone.vpcRegion"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			_, err := dns.EnsureZone(context.Background(), env, cloud.Route53(), tt.spec)
			require.ErrorContains(t, err, tt.want)
			err = dns.DeleteZone(context.Background(), env, cloud.Route53(), tt.spec)
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, cloud.Calls(), "validation happens before any call")
		})
	}
}
