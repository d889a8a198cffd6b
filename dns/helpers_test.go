package dns_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

const zoneName = "corp.example.internal"

// newEnv returns an env on a fresh fake cloud, collecting its changes.
func newEnv(t *testing.T) (migration.Env, *fakecloud.Cloud, *migration.Report) {
	t.Helper()
	cloud := fakecloud.New()
	report := &migration.Report{}
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}
	return env, cloud, report
}

// newVPC creates a VPC in the fake cloud, as the network package would.
func newVPC(t *testing.T, cloud *fakecloud.Cloud) string {
	t.Helper()
	out, err := cloud.EC2().CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	return aws.ToString(out.Vpc.VpcId)
}

// albZone is the canonical hosted zone ID of ALBs in us-east-1.
const albZone = "Z35SXDOTRQ7X7K"

// recordsSpec is the reference cutover: web moves from two on-premises
// IPs to an internal ALB, api from one IP to two instances.
func recordsSpec(zoneID string) dns.RecordsSpec {
	return dns.RecordsSpec{
		ZoneID:   zoneID,
		ZoneName: zoneName,
		TTL:      60,
		Services: []dns.Service{
			{Name: "web", Blue: dns.Target{IPs: []string{"192.168.10.11", "192.168.10.10"}}, Green: dns.Target{Alias: &dns.Alias{DNSName: "internal-web-123.us-east-1.elb.amazonaws.com", HostedZoneID: albZone}}},
			{Name: "api", Blue: dns.Target{IPs: []string{"192.168.20.10"}}, Green: dns.Target{IPs: []string{"10.0.1.10", "10.0.2.10"}}},
		},
	}
}

// setup returns an env with a VPC, the env's zone and its records.
func setup(t *testing.T) (migration.Env, *fakecloud.Cloud, dns.Zone, dns.RecordsSpec) {
	t.Helper()
	env, cloud, _ := newEnv(t)
	zone, err := dns.EnsureZone(context.Background(), env, cloud.Route53(), dns.ZoneSpec{Name: zoneName, VPCID: newVPC(t, cloud)})
	require.NoError(t, err)
	spec := recordsSpec(zone.ID)
	_, err = dns.EnsureRecords(context.Background(), env, cloud.Route53(), spec)
	require.NoError(t, err)
	return env, cloud, zone, spec
}

func actions(r *migration.Report) []migration.Action {
	var out []migration.Action
	for _, c := range r.Changes() {
		out = append(out, c.Action)
	}
	return out
}

func writeOps(cloud *fakecloud.Cloud) []string {
	var out []string
	for _, c := range cloud.Writes() {
		out = append(out, c.Op)
	}
	return out
}

// change applies one batch directly, as an operator or another tool would.
func change(t *testing.T, cloud *fakecloud.Cloud, zoneID string, changes ...types.Change) {
	t.Helper()
	_, err := cloud.Route53().ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: &types.ChangeBatch{Changes: changes}})
	require.NoError(t, err)
}

// record returns the record of a name and SetIdentifier (any type), or nil.
func record(cloud *fakecloud.Cloud, zoneID, name, set string) *types.ResourceRecordSet {
	for _, rr := range cloud.Route53().Records(zoneID) {
		if aws.ToString(rr.Name) == name && aws.ToString(rr.SetIdentifier) == set {
			return &rr
		}
	}
	return nil
}

// weights returns "blue/green" weights of a name as the fake holds them.
func weights(cloud *fakecloud.Cloud, zoneID, name string) migration.Split {
	b, g := record(cloud, zoneID, name, dns.Blue), record(cloud, zoneID, name, dns.Green)
	s := migration.Split{Blue: -1, Green: -1}
	if b != nil {
		s.Blue = int(aws.ToInt64(b.Weight))
	}
	if g != nil {
		s.Green = int(aws.ToInt64(g.Weight))
	}
	return s
}

func aRecord(name, set string, weight, ttl int64, ips ...string) *types.ResourceRecordSet {
	rr := &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(ttl)}
	if set != "" {
		rr.SetIdentifier, rr.Weight = aws.String(set), aws.Int64(weight)
	}
	for _, ip := range ips {
		rr.ResourceRecords = append(rr.ResourceRecords, types.ResourceRecord{Value: aws.String(ip)})
	}
	return rr
}
