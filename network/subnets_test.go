package network_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

func TestEnsureSubnets(t *testing.T) {
	prepare := func(f *fx) network.SubnetsSpec { return f.withVPC().subnetsSpec() }
	run := func(f *fx, s network.SubnetsSpec) error {
		var err error
		f.subnets, err = network.EnsureSubnets(f.ctx, f.env, f.cloud.EC2(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.SubnetsSpec) { require.NoError(t, run(f, s)) }
	runEnsure(t, prepare, run, []ensureCase[network.SubnetsSpec]{
		{
			name: "missing are created from the layout in three zones", want: map[string][]migration.Action{network.KindSubnet: n(6, create)},
			wantWrites: map[string]int{"CreateSubnet": 6},
			check: func(t *testing.T, f *fx) {
				assert.Equal(t, []string{"us-east-1a", "us-east-1b", "us-east-1c"}, f.subnets.AZs)
				var priv, pub []string
				for _, s := range f.subnets.Private {
					priv = append(priv, s.CIDR)
				}
				for _, s := range f.subnets.Public {
					pub = append(pub, s.CIDR)
				}
				assert.Equal(t, []string{"10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"}, priv)
				assert.Equal(t, []string{"10.0.255.0/24", "10.0.254.0/24", "10.0.253.0/24"}, pub)
				assert.Equal(t, "subnet-private-us-east-1b-dev", f.subnets.Private[1].Name)
				out, err := f.cloud.EC2().DescribeSubnets(f.ctx, &ec2.DescribeSubnetsInput{SubnetIds: f.subnets.PublicIDs()})
				require.NoError(t, err)
				for _, s := range out.Subnets {
					assert.False(t, aws.ToBool(s.MapPublicIpOnLaunch))
					assert.Equal(t, "dev", tagValue(s.Tags, migration.OwnerTag))
				}
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: map[string][]migration.Action{network.KindSubnet: n(6, noop)}},
		{
			name: "drifted public IP mapping and a removed tag converge",
			setup: func(t *testing.T, f *fx, s network.SubnetsSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().ModifySubnetAttribute(f.ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(f.subnets.Public[0].ID), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
				require.NoError(t, err)
				_, err = f.cloud.EC2().DeleteTags(f.ctx, &ec2.DeleteTagsInput{Resources: []string{f.subnets.Private[2].ID}, Tags: []types.Tag{{Key: aws.String("Project")}}})
				require.NoError(t, err)
			},
			want:       map[string][]migration.Action{network.KindSubnet: append(n(2, update), n(4, noop)...)},
			wantWrites: map[string]int{"ModifySubnetAttribute": 1, "CreateTags": 1},
		},
		{
			name: "a changed prefix length is refused", setup: ensureOnce,
			mod:     func(_ *fx, s *network.SubnetsSpec) { s.PrivatePrefix = 21 },
			wantErr: "cidr is immutable",
		},
		{
			name: "dry run on missing subnets writes nothing", dryRun: true,
			want: map[string][]migration.Action{network.KindSubnet: n(6, create)},
			check: func(t *testing.T, f *fx) {
				for _, s := range append(f.subnets.Public, f.subnets.Private...) {
					assert.True(t, migration.IsPending(s.ID), s.Name)
				}
			},
		},
		{
			name: "dry run with a pending VPC reads only the zones", dryRun: true,
			mod:  func(_ *fx, s *network.SubnetsSpec) { s.VPCID = migration.Pending("vpc-dev") },
			want: map[string][]migration.Action{network.KindSubnet: n(6, create)},
			check: func(t *testing.T, f *fx) {
				for _, c := range f.cloud.Calls() {
					assert.Equal(t, "DescribeAvailabilityZones", c.Op)
				}
			},
		},
		{
			name: "a Region with fewer zones than azCount is an error",
			setup: func(t *testing.T, f *fx, s network.SubnetsSpec) {
				f.cloud.EC2().SetAvailabilityZones("us-east-1a", "us-east-1b")
			},
			wantErr: "subnets.azCount: Region us-east-1 has 2 available zones (us-east-1a, us-east-1b); the spec wants 3",
		},
		{
			name: "a planned CIDR overlapping a subnet the env does not own is refused",
			setup: func(t *testing.T, f *fx, s network.SubnetsSpec) {
				_, err := f.cloud.EC2().CreateSubnet(f.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(s.VPCID), CidrBlock: aws.String("10.0.16.0/24"), AvailabilityZone: aws.String("us-east-1b")})
				require.NoError(t, err)
			},
			wantErr: "planned 10.0.16.0/20 overlaps",
		},
		{
			name: "a look-alike without the ownership tag is not adopted",
			setup: func(t *testing.T, f *fx, s network.SubnetsSpec) {
				_, err := f.cloud.EC2().CreateSubnet(f.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(s.VPCID), CidrBlock: aws.String("10.0.100.0/24"), AvailabilityZone: aws.String("us-east-1a"),
					TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSubnet, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("subnet-private-us-east-1a-dev")}}}}})
				require.NoError(t, err)
			},
			want: map[string][]migration.Action{network.KindSubnet: n(6, create)}, wantWrites: map[string]int{"CreateSubnet": 6},
		},
	})
}

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func TestPlanSubnets(t *testing.T) {
	cidrs := func(subnets []network.Subnet) []string {
		var out []string
		for _, s := range subnets {
			out = append(out, s.CIDR)
		}
		return out
	}
	two, err := network.PlanSubnets("10.0.0.0/16", []string{"a", "b"}, 24, 20)
	require.NoError(t, err)
	three, err := network.PlanSubnets("10.0.0.0/16", []string{"a", "b", "c"}, 24, 20)
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.0/20", "10.0.255.0/24", "10.0.16.0/20", "10.0.254.0/24"}, cidrs(two))
	assert.Equal(t, cidrs(two), cidrs(three)[:4], "adding a zone moves no existing subnet")

	// A /24 VPC holds three /27 private and three /28 public subnets...
	_, err = network.PlanSubnets("10.0.0.0/24", []string{"a", "b", "c"}, 28, 27)
	require.NoError(t, err)
	// ...but not three /26 and three /27.
	_, err = network.PlanSubnets("10.0.0.0/24", []string{"a", "b", "c"}, 27, 26)
	require.ErrorContains(t, err, "do not fit in 10.0.0.0/24")
}
