package network_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// newEnv returns an env on a fresh fake cloud, collecting its changes.
func newEnv(t *testing.T) (migration.Env, *fakecloud.Cloud, *migration.Report) {
	t.Helper()
	cloud := fakecloud.New()
	report := &migration.Report{}
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}
	return env, cloud, report
}

var spec = network.VPCSpec{CIDR: "10.0.0.0/16"}

func actions(r *migration.Report) []migration.Action {
	var out []migration.Action
	for _, c := range r.Changes() {
		out = append(out, c.Action)
	}
	return out
}

func TestEnsureVPC(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) // runs before the call log is reset
		dryRun     bool
		spec       network.VPCSpec
		wantAction migration.Action
		wantWrites []string // write operations, in order
		wantErr    string
	}{
		{
			name:       "missing is created with DNS on",
			spec:       spec,
			wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateVpc", "ModifyVpcAttribute", "ModifyVpcAttribute"},
		},
		{
			name: "converged makes no write",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				_, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
				require.NoError(t, err)
			},
			spec:       spec,
			wantAction: migration.ActionNoop,
		},
		{
			name: "drifted DNS hostnames and a removed tag converge",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				v, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
				require.NoError(t, err)
				_, err = cloud.EC2().ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(v.ID), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
				require.NoError(t, err)
				_, err = cloud.EC2().DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{v.ID}, Tags: []types.Tag{{Key: aws.String("Project")}}})
				require.NoError(t, err)
			},
			spec:       spec,
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"ModifyVpcAttribute", "CreateTags"},
		},
		{
			name: "CIDR change is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				_, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
				require.NoError(t, err)
			},
			spec:    network.VPCSpec{CIDR: "10.1.0.0/16"},
			wantErr: "cidr is immutable",
		},
		{
			name:       "dry run on an empty cloud reports create and writes nothing",
			dryRun:     true,
			spec:       spec,
			wantAction: migration.ActionCreate,
		},
		{
			name: "dry run reports drift and writes nothing",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				v, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
				require.NoError(t, err)
				_, err = cloud.EC2().ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(v.ID), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
				require.NoError(t, err)
			},
			dryRun:     true,
			spec:       spec,
			wantAction: migration.ActionUpdate,
		},
		{
			name: "a look-alike without the ownership tag is not adopted",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				plantDecoy(t, cloud, env.Name("vpc"))
			},
			spec:       spec,
			wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateVpc", "ModifyVpcAttribute", "ModifyVpcAttribute"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter = report
			env.DryRun = tt.dryRun

			v, err := network.EnsureVPC(ctx, env, cloud.EC2(), tt.spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure vpc "vpc-dev"`)
				assert.Empty(t, cloud.Writes(), "a refused change writes nothing")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(report))
			var writes []string
			for _, c := range cloud.Writes() {
				writes = append(writes, c.Op)
			}
			assert.Equal(t, tt.wantWrites, writes)
			if tt.dryRun {
				if tt.wantAction == migration.ActionCreate {
					assert.True(t, migration.IsPending(v.ID))
				}
				return
			}
			// The state: one owned, available VPC with DNS on and every env tag.
			out, err := cloud.EC2().DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{v.ID}})
			require.NoError(t, err)
			require.Len(t, out.Vpcs, 1)
			assert.Equal(t, "10.0.0.0/16", aws.ToString(out.Vpcs[0].CidrBlock))
			tags := cloud.EC2().VpcTags(v.ID)
			for k, want := range env.NameTags("vpc-dev") {
				assert.Equal(t, want, tags[k], "tag %s", k)
			}
			for _, attr := range []types.VpcAttributeName{types.VpcAttributeNameEnableDnsSupport, types.VpcAttributeNameEnableDnsHostnames} {
				a, err := cloud.EC2().DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(v.ID), Attribute: attr})
				require.NoError(t, err)
				val := a.EnableDnsSupport
				if val == nil {
					val = a.EnableDnsHostnames
				}
				assert.True(t, aws.ToBool(val.Value), "%s", attr)
			}
		})
	}
}

// plantDecoy creates a VPC with the env's Name tag but no ownership tag.
func plantDecoy(t *testing.T, cloud *fakecloud.Cloud, name string) string {
	t.Helper()
	out, err := cloud.EC2().CreateVpc(context.Background(), &ec2.CreateVpcInput{
		CidrBlock: aws.String("10.0.0.0/16"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{
			{Key: aws.String("Name"), Value: aws.String(name)},
			{Key: aws.String("ManagedBy"), Value: aws.String("cutover")},
		}}},
	})
	require.NoError(t, err)
	return aws.ToString(out.Vpc.VpcId)
}

func TestDeleteVPC(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	decoy := plantDecoy(t, cloud, env.Name("vpc"))
	v, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
	require.NoError(t, err)

	report := &migration.Report{}
	env.Reporter = report
	require.NoError(t, network.DeleteVPC(ctx, env, cloud.EC2(), spec))
	assert.Equal(t, []string{decoy}, cloud.EC2().Vpcs(), "only the owned VPC is deleted")
	assert.Equal(t, []migration.Action{migration.ActionDelete}, actions(report))
	assert.Equal(t, v.ID, report.Changes()[0].ID)

	// Gone: a no-op without writes.
	cloud.ResetCalls()
	require.NoError(t, network.DeleteVPC(ctx, env, cloud.EC2(), spec))
	assert.Empty(t, cloud.Writes())
}

func TestDeleteVPCDryRun(t *testing.T) {
	ctx := context.Background()
	env, cloud, report := newEnv(t)
	_, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
	require.NoError(t, err)
	cloud.ResetCalls()
	env.DryRun = true
	require.NoError(t, network.DeleteVPC(ctx, env, cloud.EC2(), spec))
	assert.Empty(t, cloud.Writes())
	assert.Len(t, cloud.EC2().Vpcs(), 1)
	assert.Equal(t, migration.ActionDelete, report.Changes()[len(report.Changes())-1].Action)
}

func TestEnsureVPCConvergesUnderFaults(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	// Half the calls throttled, every new VPC invisible to its first
	// two reads: the SDK retryer absorbs the throttling, EnsureVPC the
	// eventual consistency.
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.5, NotFoundReads: 2})
	v, err := network.EnsureVPC(ctx, env, cloud.EC2(), spec)
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	assert.Equal(t, []string{v.ID}, cloud.EC2().Vpcs())
	throttled := 0
	for _, c := range cloud.Calls() {
		if c.Code == "RequestLimitExceeded" {
			throttled++
		}
	}
	assert.Positive(t, throttled, "the fault must have fired")
	// And it converged: a second run is a no-op.
	cloud.ResetCalls()
	_, err = network.EnsureVPC(ctx, env, cloud.EC2(), spec)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
}

func TestVPCSpecValidate(t *testing.T) {
	tests := []struct {
		cidr, want string
	}{
		{"", "vpc.cidr: \"\" is not a CIDR block"},
		{"10.0.0.0", "is not a CIDR block"},
		{"10.0.0.1/16", "has host bits set; did you mean 10.0.0.0/16?"},
		{"10.0.0.0/8", "prefix /8 outside the /16../28"},
		{"10.0.0.0/29", "prefix /29 outside"},
		{"fd00::/56", "is not IPv4"},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			_, err := network.EnsureVPC(context.Background(), env, cloud.EC2(), network.VPCSpec{CIDR: tt.cidr})
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, cloud.Calls(), "validation happens before any call")
		})
	}
}
