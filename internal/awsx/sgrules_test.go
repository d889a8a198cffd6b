package awsx_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// noRetry calls fn once.
func noRetry(ctx context.Context, _ []string, fn func(context.Context) error) error { return fn(ctx) }

// TestApplySGRules: EC2 refuses a whole batch when one rule of it is
// already there (or already gone); the rules are then applied one by one,
// so the others still land.
func TestApplySGRules(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	e := cloud.EC2()
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("g"), Description: aws.String("g")})
	require.NoError(t, err)
	id := aws.ToString(sg.GroupId)
	rules := func() []string {
		out, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		require.NoError(t, err)
		var keys []string
		for _, r := range append(awsx.SplitPermissions(out.SecurityGroups[0].IpPermissions, false), awsx.SplitPermissions(out.SecurityGroups[0].IpPermissionsEgress, true)...) {
			keys = append(keys, r.String())
		}
		return keys
	}
	pg := awsx.SGRule{Proto: "tcp", From: 5432, To: 5432, Peer: "192.168.0.0/16", Desc: "PostgreSQL"}
	https := awsx.SGRule{Egress: true, Proto: "tcp", From: 443, To: 443, Peer: "0.0.0.0/0"}
	dns := awsx.SGRule{Proto: "udp", From: 53, To: 53, Peer: "192.168.0.53/32"}

	require.NoError(t, awsx.ApplySGRules(ctx, noRetry, e, id, []awsx.SGRule{pg}, nil))
	// pg is there already: the ingress batch fails whole, then lands rule by rule.
	require.NoError(t, awsx.ApplySGRules(ctx, noRetry, e, id, []awsx.SGRule{pg, dns, https}, []awsx.SGRule{{Egress: true, Proto: "-1", Peer: "0.0.0.0/0"}}))
	assert.ElementsMatch(t, []string{"in tcp/5432 192.168.0.0/16", "in udp/53 192.168.0.53/32", "out tcp/443 0.0.0.0/0"}, rules())
	// dns is revoked; the other rule of the batch was never there.
	require.NoError(t, awsx.ApplySGRules(ctx, noRetry, e, id, nil, []awsx.SGRule{dns, {Proto: "tcp", From: 22, To: 22, Peer: "10.0.0.0/8"}}))
	assert.ElementsMatch(t, []string{"in tcp/5432 192.168.0.0/16", "out tcp/443 0.0.0.0/0"}, rules())

	// Keys ignore descriptions; SGPermissions keeps them.
	assert.Equal(t, pg.Key(), awsx.SGRule{Proto: "tcp", From: 5432, To: 5432, Peer: "192.168.0.0/16"}.Key())
	p := awsx.SGPermissions([]awsx.SGRule{pg, {Proto: "tcp", From: 80, To: 80, Peer: "sg-0123456789abcdef0"}, {Proto: "tcp", From: 443, To: 443, Peer: "pl-0123abcd"}, {Proto: "-1", Peer: "::/0"}})
	assert.Equal(t, "PostgreSQL", aws.ToString(p[0].IpRanges[0].Description))
	assert.Equal(t, "sg-0123456789abcdef0", aws.ToString(p[1].UserIdGroupPairs[0].GroupId))
	assert.Equal(t, "pl-0123abcd", aws.ToString(p[2].PrefixListIds[0].PrefixListId))
	assert.Equal(t, "::/0", aws.ToString(p[3].Ipv6Ranges[0].CidrIpv6))
	assert.Nil(t, p[3].FromPort, "all protocols take no ports")
}
