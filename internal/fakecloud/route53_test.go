package fakecloud_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func newVPC(t *testing.T, cloud *fakecloud.Cloud) string {
	t.Helper()
	out, err := cloud.EC2().CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	return aws.ToString(out.Vpc.VpcId)
}

func newZone(t *testing.T, cloud *fakecloud.Cloud, vpc, ref string) string {
	t.Helper()
	out, err := cloud.Route53().CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{
		Name: aws.String("corp.example.internal"), CallerReference: aws.String(ref),
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true},
		VPC:              &types.VPC{VPCId: aws.String(vpc), VPCRegion: types.VPCRegionUsEast1},
	})
	require.NoError(t, err)
	assert.Equal(t, "/hostedzone/", aws.ToString(out.HostedZone.Id)[:12], "responses carry the prefix")
	return aws.ToString(out.HostedZone.Id)
}

func a(name, set string, weight int64, ttl int64, ips ...string) *types.ResourceRecordSet {
	rr := &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(ttl)}
	if set != "" {
		rr.SetIdentifier = aws.String(set)
		rr.Weight = aws.Int64(weight)
	}
	for _, ip := range ips {
		rr.ResourceRecords = append(rr.ResourceRecords, types.ResourceRecord{Value: aws.String(ip)})
	}
	return rr
}

func change(action types.ChangeAction, rr *types.ResourceRecordSet) types.Change {
	return types.Change{Action: action, ResourceRecordSet: rr}
}

func TestRoute53CreateHostedZone(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	r53 := cloud.Route53()
	vpc := newVPC(t, cloud)
	id := newZone(t, cloud, vpc, "ref-1")

	got, err := r53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, "corp.example.internal.", aws.ToString(got.HostedZone.Name))
	assert.True(t, got.HostedZone.Config.PrivateZone)
	assert.Equal(t, vpc, aws.ToString(got.VPCs[0].VPCId))
	assert.Len(t, r53.Records(id), 2, "SOA and NS")

	tests := []struct {
		name string
		in   *route53.CreateHostedZoneInput
		code string
	}{
		{"caller reference reused", &route53.CreateHostedZoneInput{Name: aws.String("other.internal"), CallerReference: aws.String("ref-1"), VPC: &types.VPC{VPCId: aws.String(vpc), VPCRegion: "us-east-1"}}, "HostedZoneAlreadyExists"},
		{"same name in the same VPC", &route53.CreateHostedZoneInput{Name: aws.String("CORP.example.internal."), CallerReference: aws.String("ref-2"), VPC: &types.VPC{VPCId: aws.String(vpc), VPCRegion: "us-east-1"}}, "ConflictingDomainExists"},
		{"private zone without a VPC", &route53.CreateHostedZoneInput{Name: aws.String("x.internal"), CallerReference: aws.String("ref-3"), HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true}}, "InvalidInput"},
		{"unknown VPC", &route53.CreateHostedZoneInput{Name: aws.String("x.internal"), CallerReference: aws.String("ref-4"), VPC: &types.VPC{VPCId: aws.String("vpc-0000000000000000f"), VPCRegion: "us-east-1"}}, "InvalidVPCId"},
		{"VPC in another Region", &route53.CreateHostedZoneInput{Name: aws.String("x.internal"), CallerReference: aws.String("ref-5"), VPC: &types.VPC{VPCId: aws.String(vpc), VPCRegion: "eu-west-1"}}, "InvalidVPCId"},
		{"bad name", &route53.CreateHostedZoneInput{Name: aws.String("bad..name"), CallerReference: aws.String("ref-6"), VPC: &types.VPC{VPCId: aws.String(vpc), VPCRegion: "us-east-1"}}, "InvalidDomainName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r53.CreateHostedZone(ctx, tt.in)
			assert.Equal(t, tt.code, awsx.Code(err), "%v", err)
		})
	}

	// A reference stays used after its zone is deleted.
	_, err = r53.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	require.NoError(t, err)
	_, err = r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("corp.example.internal"), CallerReference: aws.String("ref-1"), VPC: &types.VPC{VPCId: aws.String(vpc), VPCRegion: "us-east-1"}})
	assert.Equal(t, "HostedZoneAlreadyExists", awsx.Code(err))
	assert.Empty(t, r53.Zones())
}

func TestRoute53ChangeResourceRecordSets(t *testing.T) {
	ctx := context.Background()
	const web = "web.corp.example.internal."
	blue := a(web, "blue", 100, 60, "192.168.1.10")
	green := a(web, "green", 0, 60, "10.0.1.10")
	tests := []struct {
		name    string
		before  []types.Change
		batch   []types.Change
		code    string
		want    []string // "name type set weight" of the non-apex records after the batch
		message string
	}{
		{
			name:  "a weighted pair is created",
			batch: []types.Change{change("CREATE", blue), change("CREATE", green)},
			want:  []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 0"},
		},
		{
			name:    "CREATE of an existing record fails",
			before:  []types.Change{change("CREATE", blue), change("CREATE", green)},
			batch:   []types.Change{change("CREATE", a(web, "blue", 5, 60, "192.168.1.10"))},
			code:    "InvalidChangeBatch",
			message: "but it already exists",
			want:    []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 0"},
		},
		{
			name:    "DELETE must match exactly",
			before:  []types.Change{change("CREATE", blue), change("CREATE", green)},
			batch:   []types.Change{change("DELETE", a(web, "blue", 99, 60, "192.168.1.10"))},
			code:    "InvalidChangeBatch",
			message: "do not match the current values",
			want:    []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 0"},
		},
		{
			name:    "DELETE of a missing record fails",
			batch:   []types.Change{change("DELETE", blue)},
			code:    "InvalidChangeBatch",
			message: "but it was not found",
		},
		{
			name:   "UPSERT replaces by name, type and SetIdentifier",
			before: []types.Change{change("CREATE", blue), change("CREATE", green)},
			batch:  []types.Change{change("UPSERT", a("WEB.corp.example.internal", "green", 10, 60, "10.0.1.11"))},
			want:   []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 10"},
		},
		{
			name:    "a batch is applied whole or not at all",
			before:  []types.Change{change("CREATE", blue), change("CREATE", green)},
			batch:   []types.Change{change("UPSERT", a(web, "green", 50, 60, "10.0.1.10")), change("CREATE", a(web, "blue", 50, 60, "192.168.1.10"))},
			code:    "InvalidChangeBatch",
			message: "already exists",
			want:    []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 0"},
		},
		{
			name:    "weighted records of one name share one TTL",
			before:  []types.Change{change("CREATE", blue), change("CREATE", green)},
			batch:   []types.Change{change("UPSERT", a(web, "green", 0, 300, "10.0.1.10"))},
			code:    "InvalidChangeBatch",
			message: "weighted sets must contain the same TTL",
			want:    []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 0"},
		},
		{
			name:   "a TTL change of the whole set in one batch is fine",
			before: []types.Change{change("CREATE", blue), change("CREATE", green)},
			batch:  []types.Change{change("UPSERT", a(web, "blue", 100, 30, "192.168.1.10")), change("UPSERT", a(web, "green", 0, 30, "10.0.1.10"))},
			want:   []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 0"},
		},
		{
			name:    "simple and weighted records of one name and type do not mix",
			before:  []types.Change{change("CREATE", blue)},
			batch:   []types.Change{change("CREATE", a(web, "", 0, 60, "10.0.0.1"))},
			code:    "InvalidChangeBatch",
			message: "other RRSets exist with the same name and type",
			want:    []string{"web.corp.example.internal. A blue 100"},
		},
		{
			name:    "a weight needs a SetIdentifier",
			batch:   []types.Change{change("CREATE", &types.ResourceRecordSet{Name: aws.String(web), Type: "A", TTL: aws.Int64(60), Weight: aws.Int64(1), ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.1")}}})},
			code:    "InvalidInput",
			message: "Missing field 'SetIdentifier'",
		},
		{
			name:    "a SetIdentifier needs a weight",
			before:  []types.Change{change("CREATE", blue)},
			batch:   []types.Change{change("CREATE", &types.ResourceRecordSet{Name: aws.String(web), Type: "A", TTL: aws.Int64(60), SetIdentifier: aws.String("green"), ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.1")}}})},
			code:    "InvalidInput",
			message: "Missing field 'Weight'",
			want:    []string{"web.corp.example.internal. A blue 100"},
		},
		{
			name:    "weights are 0..255",
			batch:   []types.Change{change("CREATE", a(web, "blue", 256, 60, "10.0.0.1"))},
			code:    "InvalidInput",
			message: "between 0 and 255",
		},
		{
			name:    "an alias takes no TTL",
			batch:   []types.Change{change("CREATE", &types.ResourceRecordSet{Name: aws.String(web), Type: "A", TTL: aws.Int64(60), SetIdentifier: aws.String("green"), Weight: aws.Int64(1), AliasTarget: &types.AliasTarget{DNSName: aws.String("lb.elb.amazonaws.com"), HostedZoneId: aws.String("Z35SXDOTRQ7X7K")}})},
			code:    "InvalidInput",
			message: "but found more than one",
		},
		{
			name:    "a weighted alias and a weighted A record share a name",
			before:  []types.Change{change("CREATE", blue)},
			batch:   []types.Change{change("CREATE", &types.ResourceRecordSet{Name: aws.String(web), Type: "A", SetIdentifier: aws.String("green"), Weight: aws.Int64(0), AliasTarget: &types.AliasTarget{DNSName: aws.String("LB.elb.amazonaws.com"), HostedZoneId: aws.String("Z35SXDOTRQ7X7K")}})},
			want:    []string{"web.corp.example.internal. A blue 100", "web.corp.example.internal. A green 0"},
			message: "",
		},
		{
			name:    "an IPv4 record holds IPv4 addresses",
			batch:   []types.Change{change("CREATE", a(web, "blue", 1, 60, "192.168.1.300"))},
			code:    "InvalidChangeBatch",
			message: "ARRDATAIllegalIPv4Address",
		},
		{
			name:    "a CNAME shares its name with nothing",
			before:  []types.Change{change("CREATE", blue)},
			batch:   []types.Change{change("CREATE", &types.ResourceRecordSet{Name: aws.String(web), Type: "CNAME", TTL: aws.Int64(60), SetIdentifier: aws.String("x"), Weight: aws.Int64(1), ResourceRecords: []types.ResourceRecord{{Value: aws.String("host.example.com")}}})},
			code:    "InvalidChangeBatch",
			message: "conflicts with other records",
			want:    []string{"web.corp.example.internal. A blue 100"},
		},
		{
			name:    "a record outside the zone is refused",
			batch:   []types.Change{change("CREATE", a("web.example.com", "", 0, 60, "10.0.0.1"))},
			code:    "InvalidChangeBatch",
			message: "is not permitted in zone",
		},
		{
			name:    "the apex SOA cannot be deleted",
			batch:   []types.Change{change("DELETE", &types.ResourceRecordSet{Name: aws.String("corp.example.internal."), Type: "SOA", TTL: aws.Int64(900), ResourceRecords: []types.ResourceRecord{{Value: aws.String("x")}}})},
			code:    "InvalidChangeBatch",
			message: "exactly one SOA",
		},
		{
			name:    "TXT values are quoted",
			batch:   []types.Change{change("CREATE", &types.ResourceRecordSet{Name: aws.String("_x." + web), Type: "TXT", TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String("unquoted")}}})},
			code:    "InvalidChangeBatch",
			message: "InvalidCharacterString",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			r53 := cloud.Route53()
			zone := newZone(t, cloud, newVPC(t, cloud), "ref")
			if tt.before != nil {
				_, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: tt.before}})
				require.NoError(t, err)
			}
			out, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: tt.batch}})
			if tt.code != "" {
				require.Error(t, err)
				assert.Equal(t, tt.code, awsx.Code(err), "%v", err)
				assert.Contains(t, err.Error(), tt.message)
			} else {
				require.NoError(t, err)
				assert.Equal(t, types.ChangeStatusPending, out.ChangeInfo.Status)
			}
			var got []string
			for _, rr := range r53.Records(zone) {
				if rr.Type == "SOA" || rr.Type == "NS" {
					continue
				}
				got = append(got, aws.ToString(rr.Name)+" "+string(rr.Type)+" "+aws.ToString(rr.SetIdentifier)+" "+itoa(rr.Weight))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func itoa(p *int64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatInt(*p, 10)
}

func TestRoute53ListResourceRecordSetsOrderAndPaging(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	r53 := cloud.Route53()
	zone := newZone(t, cloud, newVPC(t, cloud), "ref")
	// Names chosen so that Route 53's order (labels reversed, trailing
	// dot) differs from plain string order: "a-b" sorts before "a"
	// because '-' < '.'.
	var changes []types.Change
	for _, n := range []string{"b.corp.example.internal", "a.corp.example.internal", "a-b.corp.example.internal", "x.a.corp.example.internal"} {
		changes = append(changes, change("CREATE", a(n, "green", 1, 60, "10.0.0.1")), change("CREATE", a(n, "blue", 1, 60, "10.0.0.2")))
	}
	changes = append(changes, change("CREATE", &types.ResourceRecordSet{Name: aws.String("a.corp.example.internal"), Type: "TXT", TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String(`"v"`)}}}))
	_, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: changes}})
	require.NoError(t, err)

	var all []string
	p := route53.NewListResourceRecordSetsPaginator(r53, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), MaxItems: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, rr := range out.ResourceRecordSets {
			all = append(all, aws.ToString(rr.Name)+" "+string(rr.Type)+" "+aws.ToString(rr.SetIdentifier))
		}
	}
	assert.Equal(t, []string{
		"corp.example.internal. NS ",
		"corp.example.internal. SOA ",
		"a-b.corp.example.internal. A blue",
		"a-b.corp.example.internal. A green",
		"a.corp.example.internal. A blue",
		"a.corp.example.internal. A green",
		"a.corp.example.internal. TXT ",
		"x.a.corp.example.internal. A blue",
		"x.a.corp.example.internal. A green",
		"b.corp.example.internal. A blue",
		"b.corp.example.internal. A green",
	}, all)
	assert.Equal(t, 4, pages, "11 records, 3 a page")

	// A start point, with type and identifier.
	out, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String("a.corp.example.internal"), StartRecordType: "A", StartRecordIdentifier: aws.String("green"), MaxItems: aws.Int32(2)})
	require.NoError(t, err)
	require.Len(t, out.ResourceRecordSets, 2)
	assert.Equal(t, "green", aws.ToString(out.ResourceRecordSets[0].SetIdentifier))
	assert.Equal(t, types.RRTypeTxt, out.ResourceRecordSets[1].Type)
	assert.True(t, out.IsTruncated)
	assert.Equal(t, "x.a.corp.example.internal.", aws.ToString(out.NextRecordName))
	assert.Equal(t, "blue", aws.ToString(out.NextRecordIdentifier))

	_, err = r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordType: "A"})
	assert.Equal(t, "InvalidInput", awsx.Code(err), "a type needs a name")
}

func TestRoute53DeleteHostedZoneNotEmpty(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	r53 := cloud.Route53()
	zone := newZone(t, cloud, newVPC(t, cloud), "ref")
	rr := a("web.corp.example.internal", "", 0, 60, "10.0.0.1")
	_, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{change("CREATE", rr)}}})
	require.NoError(t, err)
	_, err = r53.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(zone)})
	assert.Equal(t, "HostedZoneNotEmpty", awsx.Code(err))
	assert.True(t, awsx.IsDependencyViolation(err))
	_, err = r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{change("DELETE", rr)}}})
	require.NoError(t, err)
	_, err = r53.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(zone)})
	require.NoError(t, err)
	_, err = r53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(zone)})
	assert.True(t, awsx.IsNotFound(err))
}

func TestRoute53GetChangeGoesInsync(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	r53 := cloud.Route53()
	zone := newZone(t, cloud, newVPC(t, cloud), "ref")
	out, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{change("CREATE", a("web.corp.example.internal", "", 0, 60, "10.0.0.1"))}}})
	require.NoError(t, err)
	id := aws.ToString(out.ChangeInfo.Id)
	get, err := r53.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, types.ChangeStatusPending, get.ChangeInfo.Status)
	cloud.Clock().Advance(time.Minute)
	get, err = r53.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id[len("/change/"):])})
	require.NoError(t, err)
	assert.Equal(t, types.ChangeStatusInsync, get.ChangeInfo.Status)
	_, err = r53.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("C0NOPE")})
	assert.Equal(t, "NoSuchChange", awsx.Code(err))
}

func TestRoute53PriorRequestNotCompleteIsRetriedLikeTheSDK(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		fail     int
		wantErr  bool
		attempts int
	}{
		{fail: 3, attempts: 4},
		{fail: awsx.MaxAttempts, wantErr: true, attempts: awsx.MaxAttempts},
	} {
		cloud := fakecloud.New()
		r53 := cloud.Route53()
		zone := newZone(t, cloud, newVPC(t, cloud), "ref")
		cloud.ResetCalls()
		r53.FailNextChanges(tt.fail)
		_, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{change("CREATE", a("web.corp.example.internal", "", 0, 60, "10.0.0.1"))}}})
		if tt.wantErr {
			assert.Equal(t, "PriorRequestNotComplete", awsx.Code(err))
			assert.True(t, awsx.IsThrottle(err), "the SDK retryer's throttle codes include it")
		} else {
			require.NoError(t, err)
		}
		assert.Equal(t, tt.attempts, cloud.Count(route53.ServiceID, "ChangeResourceRecordSets"))
	}
}

func TestRoute53Tags(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	r53 := cloud.Route53()
	zone := newZone(t, cloud, newVPC(t, cloud), "ref")
	bare := zone[len("/hostedzone/"):]
	var eleven []types.Tag
	for i := range 11 {
		eleven = append(eleven, types.Tag{Key: aws.String(string(rune('a' + i))), Value: aws.String("v")})
	}
	_, err := r53.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceId: aws.String(bare), ResourceType: "hostedzone", AddTags: eleven})
	assert.Equal(t, "InvalidInput", awsx.Code(err), "at most 10 tags per call")
	_, err = r53.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceId: aws.String(zone), ResourceType: "hostedzone", AddTags: eleven[:1]})
	assert.Equal(t, "InvalidInput", awsx.Code(err), "the tagging calls take the bare ID")
	_, err = r53.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceId: aws.String(bare), ResourceType: "hostedzone", AddTags: eleven[:10]})
	require.NoError(t, err)
	_, err = r53.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceId: aws.String(bare), ResourceType: "hostedzone", RemoveTagKeys: []string{"a"}})
	require.NoError(t, err)
	out, err := r53.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceId: aws.String(bare), ResourceType: "hostedzone"})
	require.NoError(t, err)
	assert.Len(t, out.ResourceTagSet.Tags, 9)
	assert.Equal(t, "b", aws.ToString(out.ResourceTagSet.Tags[0].Key))
}

func TestRoute53ListHostedZonesByName(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	r53 := cloud.Route53()
	vpc := newVPC(t, cloud)
	for i, n := range []string{"b.internal", "a.internal", "corp.example.internal"} {
		_, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(n), CallerReference: aws.String(n + string(rune('0'+i))), VPC: &types.VPC{VPCId: aws.String(vpc), VPCRegion: "us-east-1"}})
		require.NoError(t, err)
	}
	out, err := r53.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("b.internal"), MaxItems: aws.Int32(1)})
	require.NoError(t, err)
	require.Len(t, out.HostedZones, 1)
	assert.Equal(t, "b.internal.", aws.ToString(out.HostedZones[0].Name))
	assert.True(t, out.IsTruncated)
	assert.Equal(t, "corp.example.internal.", aws.ToString(out.NextDNSName), "internal.b < internal.example.corp")
	out, err = r53.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId})
	require.NoError(t, err)
	require.Len(t, out.HostedZones, 1)
	assert.False(t, out.IsTruncated)
}

func TestRoute53SaveLoad(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	zone := newZone(t, cloud, newVPC(t, cloud), "ref")
	_, err := cloud.Route53().ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{change("CREATE", a("web.corp.example.internal", "blue", 7, 60, "10.0.0.1"))}}})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	assert.Equal(t, cloud.Route53().Records(zone), loaded.Route53().Records(zone))
	_, err = loaded.Route53().CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("y.internal"), CallerReference: aws.String("ref")})
	assert.Equal(t, "HostedZoneAlreadyExists", awsx.Code(err), "used references survive a reload")
}
