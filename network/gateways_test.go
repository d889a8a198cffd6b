package network_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

func TestEnsureInternetGateway(t *testing.T) {
	prepare := func(f *fx) network.InternetGatewaySpec { return f.withVPC().igwSpec() }
	run := func(f *fx, s network.InternetGatewaySpec) error {
		var err error
		f.igw, err = network.EnsureInternetGateway(f.ctx, f.env, f.cloud.EC2(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.InternetGatewaySpec) { require.NoError(t, run(f, s)) }
	want := func(a migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{network.KindInternetGateway: {a}}
	}
	runEnsure(t, prepare, run, []ensureCase[network.InternetGatewaySpec]{
		{
			name: "missing is created and attached", want: want(create), wantWrites: map[string]int{"CreateInternetGateway": 1, "AttachInternetGateway": 1},
			check: func(t *testing.T, f *fx) {
				out, err := f.cloud.EC2().DescribeInternetGateways(f.ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{f.igw.ID}})
				require.NoError(t, err)
				assert.Equal(t, f.vpc.ID, aws.ToString(out.InternetGateways[0].Attachments[0].VpcId))
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(noop)},
		{
			name: "a detached gateway with a removed tag converges",
			setup: func(t *testing.T, f *fx, s network.InternetGatewaySpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().DetachInternetGateway(f.ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(f.igw.ID), VpcId: aws.String(f.vpc.ID)})
				require.NoError(t, err)
				_, err = f.cloud.EC2().DeleteTags(f.ctx, &ec2.DeleteTagsInput{Resources: []string{f.igw.ID}, Tags: []types.Tag{{Key: aws.String("Environment")}}})
				require.NoError(t, err)
			},
			want: want(update), wantWrites: map[string]int{"AttachInternetGateway": 1, "CreateTags": 1},
		},
		{
			name: "a gateway attached to another VPC is refused",
			setup: func(t *testing.T, f *fx, s network.InternetGatewaySpec) {
				ensureOnce(t, f, s)
				other, err := f.cloud.EC2().CreateVpc(f.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
				require.NoError(t, err)
				_, err = f.cloud.EC2().DetachInternetGateway(f.ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(f.igw.ID), VpcId: aws.String(f.vpc.ID)})
				require.NoError(t, err)
				_, err = f.cloud.EC2().AttachInternetGateway(f.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(f.igw.ID), VpcId: other.Vpc.VpcId})
				require.NoError(t, err)
			},
			wantErr: "vpc attachment is immutable here",
		},
		{name: "dry run on a missing gateway writes nothing", dryRun: true, want: want(create)},
		{
			name: "dry run with a pending VPC calls nothing", dryRun: true, want: want(create),
			mod:   func(_ *fx, s *network.InternetGatewaySpec) { s.VPCID = migration.Pending("vpc-dev") },
			check: func(t *testing.T, f *fx) { assert.Empty(t, f.cloud.Calls()) },
		},
	})
}

func TestEnsureNATGateways(t *testing.T) {
	prepare := func(f *fx) network.NATGatewaysSpec { return f.withSubnets().withIGW().natSpec() }
	run := func(f *fx, s network.NATGatewaysSpec) error {
		var err error
		f.nats, err = network.EnsureNATGateways(f.ctx, f.env, f.cloud.EC2(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.NATGatewaysSpec) { require.NoError(t, run(f, s)) }
	want := func(eips, nats []migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{network.KindElasticIP: eips, network.KindNATGateway: nats}
	}
	runEnsure(t, prepare, run, []ensureCase[network.NATGatewaysSpec]{
		{
			name: "missing are created, one per zone, each with its own address", want: want(n(3, create), n(3, create)),
			wantWrites: map[string]int{"AllocateAddress": 3, "CreateNatGateway": 3},
			check: func(t *testing.T, f *fx) {
				require.Len(t, f.nats.Gateways, 3)
				for _, g := range f.nats.Gateways {
					assert.Equal(t, "available", f.cloud.EC2().NatGatewayStates()[g.ID])
					assert.Equal(t, g.ID, f.nats.ByAZ[g.AZ])
					assert.NotEmpty(t, g.PublicIP)
				}
				assert.Len(t, f.cloud.EC2().Addresses(), 3)
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(n(3, noop), n(3, noop))},
		{
			name: "a removed tag converges",
			setup: func(t *testing.T, f *fx, s network.NATGatewaysSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().DeleteTags(f.ctx, &ec2.DeleteTagsInput{Resources: []string{f.nats.Gateways[1].ID}, Tags: []types.Tag{{Key: aws.String("ManagedBy")}}})
				require.NoError(t, err)
			},
			want: want(n(3, noop), append([]migration.Action{update}, n(2, noop)...)), wantWrites: map[string]int{"CreateTags": 1},
		},
		{
			name: "a gateway deleted by hand is made again with its own address",
			setup: func(t *testing.T, f *fx, s network.NATGatewaysSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().DeleteNatGateway(f.ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(f.nats.Gateways[2].ID)})
				require.NoError(t, err)
				f.cloud.Clock().Advance(2 * time.Minute)
			},
			// The first create answers with the deleted gateway (EC2
			// remembers the token); the second, salted with its ID, makes one.
			want: want(n(3, noop), append([]migration.Action{create}, n(2, noop)...)), wantWrites: map[string]int{"CreateNatGateway": 2},
			check: func(t *testing.T, f *fx) {
				assert.Len(t, f.cloud.EC2().Addresses(), 3, "the freed address is reused, none leaks")
				live := 0
				for _, st := range f.cloud.EC2().NatGatewayStates() {
					if st == "available" {
						live++
					}
				}
				assert.Equal(t, 3, live)
			},
		},
		{name: "dry run on missing gateways writes nothing", dryRun: true, want: want(n(3, create), n(3, create))},
		{
			name: "dry run with pending subnets calls nothing", dryRun: true, want: want(n(3, create), n(3, create)),
			mod: func(_ *fx, s *network.NATGatewaysSpec) {
				for i := range s.PublicSubnets {
					s.PublicSubnets[i].ID = migration.Pending(s.PublicSubnets[i].Name)
				}
			},
			check: func(t *testing.T, f *fx) { assert.Empty(t, f.cloud.Calls()) },
		},
		{
			name: "single mode shares one gateway between the zones", want: want(n(1, create), n(1, create)),
			mod:        func(_ *fx, s *network.NATGatewaysSpec) { s.Mode = network.NATSingle },
			wantWrites: map[string]int{"AllocateAddress": 1, "CreateNatGateway": 1},
			check: func(t *testing.T, f *fx) {
				require.Len(t, f.nats.Gateways, 1)
				for _, az := range f.subnets.AZs {
					assert.Equal(t, f.nats.Gateways[0].ID, f.nats.ByAZ[az], az)
				}
			},
		},
		{
			name: "a failed gateway is treated as gone: deleted, its address released, both made again",
			setup: func(t *testing.T, f *fx, s network.NATGatewaysSpec) {
				f.cloud.EC2().FailNextNatGateways(1)
				require.ErrorContains(t, run(f, s), "failed (InsufficientFreeAddressesInSubnet")
			},
			want:       want(append(n(3, create), del), n(3, create)),
			wantWrites: map[string]int{"DeleteNatGateway": 1, "ReleaseAddress": 1, "AllocateAddress": 3, "CreateNatGateway": 3},
			check: func(t *testing.T, f *fx) {
				states := map[string]int{}
				for _, st := range f.cloud.EC2().NatGatewayStates() {
					states[st]++
				}
				assert.Equal(t, map[string]int{"available": 3, "deleted": 1}, states)
				assert.Len(t, f.cloud.EC2().Addresses(), 3, "the failed gateway's address is released, not leaked")
				for _, c := range f.report.Changes() {
					if c.Kind == network.KindNATGateway && c.Name == "nat-us-east-1a-dev" {
						assert.Contains(t, c.Note, "replaces failed")
					}
				}
			},
		},
	})
}

func TestEnsureNATGatewaysSubnetIsImmutable(t *testing.T) {
	// The table's immutable row needs the spec built after setup.
	f := newFx(t).withNATs()
	other, err := f.cloud.EC2().CreateSubnet(f.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(f.vpc.ID), CidrBlock: aws.String("10.0.100.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	require.NoError(t, err)
	spec := f.natSpec()
	spec.PublicSubnets[0].ID = aws.ToString(other.Subnet.SubnetId)
	f.reset(false)
	_, err = network.EnsureNATGateways(f.ctx, f.env, f.cloud.EC2(), spec)
	require.ErrorContains(t, err, `ensure nat gateway "nat-us-east-1a-dev": subnet is immutable`)
	assert.Empty(t, f.cloud.Writes())
}

func TestEnsureRouteTables(t *testing.T) {
	prepare := func(f *fx) network.RouteTablesSpec { return f.withNATs().routesSpec() }
	run := func(f *fx, s network.RouteTablesSpec) error {
		var err error
		f.rts, err = network.EnsureRouteTables(f.ctx, f.env, f.cloud.EC2(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.RouteTablesSpec) { require.NoError(t, run(f, s)) }
	want := func(a ...migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{network.KindRouteTable: a}
	}
	runEnsure(t, prepare, run, []ensureCase[network.RouteTablesSpec]{
		{
			name: "missing are created: one public, one private per zone", want: want(n(4, create)...),
			wantWrites: map[string]int{"CreateRouteTable": 4, "CreateRoute": 4, "AssociateRouteTable": 6},
			check: func(t *testing.T, f *fx) {
				assertDefaultRoute(t, f, f.rts.PublicID, f.igw.ID)
				for _, az := range f.subnets.AZs {
					assertDefaultRoute(t, f, f.rts.PrivateByAZ[az], f.nats.ByAZ[az])
				}
				assert.Len(t, f.rts.PrivateIDs, 3)
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(n(4, noop)...)},
		{
			name: "a hand-edited route and a dropped association converge",
			setup: func(t *testing.T, f *fx, s network.RouteTablesSpec) {
				ensureOnce(t, f, s)
				az := f.subnets.AZs[0]
				_, err := f.cloud.EC2().ReplaceRoute(f.ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(f.rts.PrivateByAZ[az]), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(f.nats.ByAZ[f.subnets.AZs[1]])})
				require.NoError(t, err)
				out, err := f.cloud.EC2().DescribeRouteTables(f.ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{f.rts.PublicID}})
				require.NoError(t, err)
				_, err = f.cloud.EC2().DisassociateRouteTable(f.ctx, &ec2.DisassociateRouteTableInput{AssociationId: out.RouteTables[0].Associations[0].RouteTableAssociationId})
				require.NoError(t, err)
			},
			want: want(update, update, noop, noop), wantWrites: map[string]int{"ReplaceRoute": 1, "AssociateRouteTable": 1},
		},
		{
			name: "a subnet moved to a foreign table is moved back",
			setup: func(t *testing.T, f *fx, s network.RouteTablesSpec) {
				ensureOnce(t, f, s)
				foreign, err := f.cloud.EC2().CreateRouteTable(f.ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(f.vpc.ID)})
				require.NoError(t, err)
				out, err := f.cloud.EC2().DescribeRouteTables(f.ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{f.rts.PrivateByAZ[f.subnets.AZs[2]]}})
				require.NoError(t, err)
				_, err = f.cloud.EC2().ReplaceRouteTableAssociation(f.ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: out.RouteTables[0].Associations[0].RouteTableAssociationId, RouteTableId: foreign.RouteTable.RouteTableId})
				require.NoError(t, err)
			},
			want: want(update, noop, noop, noop), wantWrites: map[string]int{"ReplaceRouteTableAssociation": 1},
		},
		{
			name: "a table deleted by hand is made again despite its remembered client token",
			setup: func(t *testing.T, f *fx, s network.RouteTablesSpec) {
				ensureOnce(t, f, s)
				id := f.rts.PrivateByAZ["us-east-1c"]
				out, err := f.cloud.EC2().DescribeRouteTables(f.ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
				require.NoError(t, err)
				_, err = f.cloud.EC2().DisassociateRouteTable(f.ctx, &ec2.DisassociateRouteTableInput{AssociationId: out.RouteTables[0].Associations[0].RouteTableAssociationId})
				require.NoError(t, err)
				_, err = f.cloud.EC2().DeleteRouteTable(f.ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(id)})
				require.NoError(t, err)
			},
			want:       want(create, noop, noop, noop),
			wantWrites: map[string]int{"CreateRouteTable": 2, "CreateRoute": 1, "AssociateRouteTable": 1},
			check: func(t *testing.T, f *fx) {
				assertDefaultRoute(t, f, f.rts.PrivateByAZ["us-east-1c"], f.nats.ByAZ["us-east-1c"])
			},
		},
		{
			name: "a new NAT gateway for a zone replaces its default route", setup: ensureOnce,
			mod: func(_ *fx, s *network.RouteTablesSpec) {
				s.NATGatewayIDs = map[string]string{"us-east-1a": s.NATGatewayIDs["us-east-1b"], "us-east-1b": s.NATGatewayIDs["us-east-1b"], "us-east-1c": s.NATGatewayIDs["us-east-1c"]}
			},
			want: want(update, noop, noop, noop), wantWrites: map[string]int{"ReplaceRoute": 1},
		},
		{
			name: "a table in another VPC is refused", setup: ensureOnce,
			mod: func(_ *fx, s *network.RouteTablesSpec) { s.VPCID = "vpc-0ffffffffffffffff" },
			// The VPC changed under the same names: the tables found are in the old one.
			wantErr: "vpc is immutable",
		},
		{name: "dry run on missing tables writes nothing", dryRun: true, want: want(n(4, create)...)},
		{
			name: "dry run with a pending VPC calls nothing", dryRun: true, want: want(n(4, create)...),
			mod:   func(_ *fx, s *network.RouteTablesSpec) { s.VPCID = migration.Pending("vpc-dev") },
			check: func(t *testing.T, f *fx) { assert.Empty(t, f.cloud.Calls()) },
		},
	})
}

func assertDefaultRoute(t *testing.T, f *fx, tableID, target string) {
	t.Helper()
	out, err := f.cloud.EC2().DescribeRouteTables(f.ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{tableID}})
	require.NoError(t, err)
	for _, r := range out.RouteTables[0].Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			assert.Equal(t, target, aws.ToString(r.GatewayId)+aws.ToString(r.NatGatewayId))
			assert.Equal(t, types.RouteStateActive, r.State)
			return
		}
	}
	t.Errorf("table %s has no default route", tableID)
}
