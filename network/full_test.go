package network_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/directconnect"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/directconnect/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	r53rtypes "github.com/aws/aws-sdk-go-v2/service/route53resolver/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// applyAll ensures the whole network in dependency order, recording the
// outputs on f.
func applyAll(f *fx) error {
	ctx, env, ec2c := f.ctx, f.env, f.cloud.EC2()
	var err error
	if f.key, err = migration.EnsureKey(ctx, env, f.cloud.KMS(), migration.KeySpec{}); err != nil {
		return err
	}
	if f.vpc, err = network.EnsureVPC(ctx, env, ec2c, network.VPCSpec{CIDR: vpcBlock}); err != nil {
		return err
	}
	if f.subnets, err = network.EnsureSubnets(ctx, env, ec2c, f.subnetsSpec()); err != nil {
		return err
	}
	if f.igw, err = network.EnsureInternetGateway(ctx, env, ec2c, f.igwSpec()); err != nil {
		return err
	}
	if f.sgs, err = network.EnsureSecurityGroups(ctx, env, ec2c, f.sgSpec()); err != nil {
		return err
	}
	if _, err = network.EnsureFlowLogs(ctx, env, f.flowClients(), f.flowSpec()); err != nil {
		return err
	}
	if f.nats, err = network.EnsureNATGateways(ctx, env, ec2c, f.natSpec()); err != nil {
		return err
	}
	if _, err = network.EnsureResolverEndpoint(ctx, env, f.resolverClients(), f.resolverSpec()); err != nil {
		return err
	}
	if f.rts, err = network.EnsureRouteTables(ctx, env, ec2c, f.routesSpec()); err != nil {
		return err
	}
	if f.vgw, err = network.EnsureVPNGateway(ctx, env, ec2c, f.vgwSpec()); err != nil {
		return err
	}
	if _, err = network.EnsureVPNConnection(ctx, env, f.vpnClients(), f.vpnSpec()); err != nil {
		return err
	}
	_, err = network.EnsureDirectConnect(ctx, env, f.dxClients(), f.dxSpec())
	return err
}

// destroyAll deletes the whole network in the documented delete order,
// from the specs alone (as a destroy in a fresh process would: the IDs
// recorded by applyAll are not passed).
func destroyAll(ctx context.Context, env migration.Env, cloud *fakecloud.Cloud) error {
	ec2c := cloud.EC2()
	steps := []func() error{
		func() error {
			return network.DeleteVPNConnection(ctx, env, network.VPNConnectionClients{EC2: ec2c, Logs: cloud.Logs()}, network.VPNConnectionSpec{
				AmazonSideASN: 64512, CustomerASN: 65010, CustomerGatewayIP: "203.0.113.10", OnPremCIDR: onPrem, VPCCIDR: vpcBlock, LogRetentionDays: 90, KMSKeyARN: migration.Pending("key"),
			})
		},
		func() error {
			return network.DeleteDirectConnect(ctx, env, network.DirectConnectClients{DX: cloud.DirectConnect()}, network.DirectConnectSpec{AmazonSideASN: 64513, VPCCIDR: vpcBlock})
		},
		func() error {
			return network.DeleteVPNGateway(ctx, env, ec2c, network.VPNGatewaySpec{AmazonSideASN: 64512})
		},
		func() error { return network.DeleteRouteTables(ctx, env, ec2c, network.RouteTablesSpec{}) },
		func() error {
			return network.DeleteResolverEndpoint(ctx, env, network.ResolverClients{EC2: ec2c, Resolver: cloud.Resolver()}, network.ResolverEndpointSpec{OnPremCIDR: onPrem, Subnets: []network.Subnet{{ID: "subnet-1", AZ: "a"}, {ID: "subnet-2", AZ: "b"}}})
		},
		func() error { return network.DeleteNATGateways(ctx, env, ec2c, network.NATGatewaysSpec{}) },
		func() error { return network.DeleteInternetGateway(ctx, env, ec2c, network.InternetGatewaySpec{}) },
		func() error {
			return network.DeleteSecurityGroups(ctx, env, ec2c, network.SecurityGroupsSpec{OnPremCIDR: onPrem, WebPort: 443, AppPort: 8080, DBPort: 5432, OnPremDBPort: 5432})
		},
		func() error {
			return network.DeleteFlowLogs(ctx, env, network.FlowLogsClients{EC2: ec2c, Logs: cloud.Logs(), IAM: cloud.IAM()}, network.FlowLogsSpec{KMSKeyARN: migration.Pending("key"), RetentionDays: 90})
		},
		func() error {
			return network.DeleteSubnets(ctx, env, ec2c, network.SubnetsSpec{VPCCIDR: vpcBlock, AZCount: 3, PublicPrefix: 24, PrivatePrefix: 20})
		},
		func() error { return network.DeleteVPC(ctx, env, ec2c, network.VPCSpec{CIDR: vpcBlock}) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// decoys are look-alikes of the env's resources: the same Name, no
// ownership tag (or another env's).
type decoys struct {
	vpc, prodVPC, subnet, subnet2, sg, rtb, igw, eip, nat, flowLog, vgw, cgw, dxgw, vif, resolver string
}

func plantDecoys(t *testing.T, f *fx) decoys {
	t.Helper()
	ctx, e := f.ctx, f.cloud.EC2()
	named := func(rt types.ResourceType, name string, extra ...types.Tag) []types.TagSpecification {
		return []types.TagSpecification{{ResourceType: rt, Tags: append([]types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}, {Key: aws.String("ManagedBy"), Value: aws.String("cutover")}}, extra...)}}
	}
	var d decoys
	d.vpc = plantDecoy(t, f.cloud, "vpc-dev")
	prod, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(vpcBlock), TagSpecifications: named(types.ResourceTypeVpc, "vpc-dev", types.Tag{Key: aws.String(migration.OwnerTag), Value: aws.String("prod")})})
	require.NoError(t, err)
	d.prodVPC = aws.ToString(prod.Vpc.VpcId)
	f.cloud.Clock().Advance(5 * 1e9)
	sn, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(d.vpc), CidrBlock: aws.String("10.0.0.0/20"), AvailabilityZone: aws.String("us-east-1a"), TagSpecifications: named(types.ResourceTypeSubnet, "subnet-private-us-east-1a-dev")})
	require.NoError(t, err)
	d.subnet = aws.ToString(sn.Subnet.SubnetId)
	sn2, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(d.vpc), CidrBlock: aws.String("10.0.16.0/20"), AvailabilityZone: aws.String("us-east-1b"), TagSpecifications: named(types.ResourceTypeSubnet, "subnet-private-us-east-1b-dev")})
	require.NoError(t, err)
	d.subnet2 = aws.ToString(sn2.Subnet.SubnetId)
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(d.vpc), GroupName: aws.String("app"), Description: aws.String("look-alike"), TagSpecifications: named(types.ResourceTypeSecurityGroup, "sg-app-dev")})
	require.NoError(t, err)
	d.sg = aws.ToString(sg.GroupId)
	rt, err := e.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(d.vpc), TagSpecifications: named(types.ResourceTypeRouteTable, "rt-public-dev")})
	require.NoError(t, err)
	d.rtb = aws.ToString(rt.RouteTable.RouteTableId)
	igw, err := e.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{TagSpecifications: named(types.ResourceTypeInternetGateway, "igw-dev")})
	require.NoError(t, err)
	d.igw = aws.ToString(igw.InternetGateway.InternetGatewayId)
	_, err = e.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(d.igw), VpcId: aws.String(d.vpc)})
	require.NoError(t, err)
	eip, err := e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc, TagSpecifications: named(types.ResourceTypeElasticIp, "eip-nat-us-east-1a-dev")})
	require.NoError(t, err)
	d.eip = aws.ToString(eip.AllocationId)
	nat, err := e.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(d.subnet), AllocationId: eip.AllocationId, TagSpecifications: named(types.ResourceTypeNatgateway, "nat-us-east-1a-dev")})
	require.NoError(t, err)
	d.nat = aws.ToString(nat.NatGateway.NatGatewayId)
	fl, err := e.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
		ResourceIds: []string{d.vpc}, ResourceType: types.FlowLogsResourceTypeVpc, TrafficType: types.TrafficTypeAll,
		LogDestinationType: types.LogDestinationTypeCloudWatchLogs, LogDestination: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:someone-elses-flow-logs"),
		DeliverLogsPermissionArn: aws.String("arn:aws:iam::123456789012:role/someone-elses"), TagSpecifications: named(types.ResourceTypeVpcFlowLog, "vpc-flow-logs-dev"),
	})
	require.NoError(t, err)
	require.Len(t, fl.FlowLogIds, 1)
	d.flowLog = fl.FlowLogIds[0]
	vgw, err := e.CreateVpnGateway(ctx, &ec2.CreateVpnGatewayInput{Type: types.GatewayTypeIpsec1, AmazonSideAsn: aws.Int64(64512), TagSpecifications: named(types.ResourceTypeVpnGateway, "vgw-dev")})
	require.NoError(t, err)
	d.vgw = aws.ToString(vgw.VpnGateway.VpnGatewayId)
	cgw, err := e.CreateCustomerGateway(ctx, &ec2.CreateCustomerGatewayInput{Type: types.GatewayTypeIpsec1, IpAddress: aws.String("198.51.100.7"), BgpAsn: aws.Int32(65010), TagSpecifications: named(types.ResourceTypeCustomerGateway, "cgw-dev")})
	require.NoError(t, err)
	d.cgw = aws.ToString(cgw.CustomerGateway.CustomerGatewayId)
	gw, err := f.cloud.DirectConnect().CreateDirectConnectGateway(ctx, &directconnect.CreateDirectConnectGatewayInput{DirectConnectGatewayName: aws.String("dxgw-dev"), AmazonSideAsn: aws.Int64(64513)})
	require.NoError(t, err)
	d.dxgw = aws.ToString(gw.DirectConnectGateway.DirectConnectGatewayId)
	f.cloud.Clock().Advance(time.Minute) // the gateway becomes available
	vif, err := f.cloud.DirectConnect().CreatePrivateVirtualInterface(ctx, &directconnect.CreatePrivateVirtualInterfaceInput{
		ConnectionId: aws.String(f.cloud.DirectConnect().AddConnection("someone-elses", "EqDC2", "available")),
		NewPrivateVirtualInterface: &dxtypes.NewPrivateVirtualInterface{
			VirtualInterfaceName: aws.String("vif-private-dev"), Vlan: 300, AsnLong: aws.Int64(65010), AuthKey: aws.String("someone-elses-key"),
			DirectConnectGatewayId: gw.DirectConnectGateway.DirectConnectGatewayId, Tags: []dxtypes.Tag{{Key: aws.String("ManagedBy"), Value: aws.String("cutover")}},
		},
	})
	require.NoError(t, err)
	d.vif = aws.ToString(vif.VirtualInterfaceId)
	ep, err := f.cloud.Resolver().CreateResolverEndpoint(ctx, &route53resolver.CreateResolverEndpointInput{
		CreatorRequestId: aws.String("someone-else"), Name: aws.String("resolver-inbound-dev"), Direction: r53rtypes.ResolverEndpointDirectionInbound,
		SecurityGroupIds: []string{d.sg}, IpAddresses: []r53rtypes.IpAddressRequest{{SubnetId: aws.String(d.subnet)}, {SubnetId: aws.String(d.subnet2)}},
	})
	require.NoError(t, err)
	d.resolver = aws.ToString(ep.ResolverEndpoint.Id)
	return d
}

func TestApplyAdoptsNoDecoyAndDestroyLeavesThemAll(t *testing.T) {
	f := newFx(t)
	d := plantDecoys(t, f)
	require.NoError(t, applyAll(f))
	assert.NotEqual(t, d.vpc, f.vpc.ID)
	assert.NotEqual(t, d.igw, f.igw.ID)
	assert.NotEqual(t, d.vgw, f.vgw.ID)
	assert.NotContains(t, f.subnets.PrivateIDs(), d.subnet)

	f.reset(false)
	require.NoError(t, destroyAll(f.ctx, f.env, f.cloud))
	e := f.cloud.EC2()
	assert.ElementsMatch(t, []string{d.vpc, d.prodVPC}, e.Vpcs(), "only look-alike VPCs are left")
	assert.ElementsMatch(t, []string{d.subnet, d.subnet2}, e.Subnets())
	assert.Equal(t, []string{d.igw}, e.InternetGateways())
	assert.Equal(t, []string{d.eip}, e.Addresses())
	for id, state := range e.NatGatewayStates() {
		if id == d.nat {
			assert.Contains(t, []string{"pending", "available"}, state, "the look-alike NAT gateway lives")
		} else {
			assert.Equal(t, "deleted", state, "the env's NAT gateway %s", id)
		}
	}
	assert.Equal(t, []string{d.vgw}, e.VpnGateways())
	assert.Equal(t, []string{d.cgw}, e.CustomerGateways())
	assert.Empty(t, e.VpnConnections())
	assert.Equal(t, []string{d.flowLog}, e.FlowLogs())
	assert.Contains(t, e.SecurityGroups(), d.sg)
	assert.Contains(t, e.RouteTables(), d.rtb)
	assert.Equal(t, []string{d.dxgw}, f.cloud.DirectConnect().Gateways())
	assert.Equal(t, []string{d.vif}, f.cloud.DirectConnect().VirtualInterfaces())
	assert.Equal(t, []string{d.resolver}, f.cloud.Resolver().Endpoints())
	for _, id := range e.SecurityGroups() {
		assert.NotEqual(t, f.sgs.App, id)
	}
	assert.NotContains(t, f.cloud.IAM().Roles(), "vpc-flow-logs-dev")
	assert.Empty(t, f.cloud.Logs().LogGroups(), "the env's log groups are deleted")

	// The delete order: dependents before what they depend on.
	ops := writeOps(f.cloud)
	before := func(a, b string) {
		t.Helper()
		ia, ib := slices.Index(ops, a), lastIndex(ops, b)
		require.GreaterOrEqual(t, ia, 0, a)
		require.GreaterOrEqual(t, ib, 0, b)
		assert.Less(t, ia, ib, "%s before %s", a, b)
	}
	last := func(a, b string) {
		t.Helper()
		assert.Less(t, lastIndex(ops, a), slices.Index(ops, b), "every %s before %s", a, b)
	}
	last("DeleteVpnConnection", "DeleteCustomerGateway")
	last("DeleteVpnConnection", "DeleteVpnGateway")
	last("DeleteDirectConnectGatewayAssociation", "DeleteVpnGateway")
	last("DetachVpnGateway", "DeleteVpnGateway")
	before("DisassociateRouteTable", "DeleteRouteTable") // per table; the fake refuses a table with associations
	last("DeleteResolverEndpoint", "DeleteSubnet")
	last("DeleteNatGateway", "ReleaseAddress")
	last("DeleteNatGateway", "DetachInternetGateway")
	last("DeleteSecurityGroup", "DeleteVpc")
	last("DeleteSubnet", "DeleteVpc")
	before("DeleteFlowLogs", "DeleteVpc")

	// Destroy again: nothing left of the env, nothing written.
	f.reset(false)
	require.NoError(t, destroyAll(f.ctx, f.env, f.cloud))
	assert.Empty(t, f.cloud.Writes())
	for _, c := range f.report.Changes() {
		assert.Equal(t, migration.ActionNoop, c.Action, "%s %s", c.Kind, c.Name)
	}
}

func lastIndex(ops []string, op string) int {
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i] == op {
			return i
		}
	}
	return -1
}

func TestDestroyDryRunWritesNothing(t *testing.T) {
	f := newFx(t)
	require.NoError(t, applyAll(f))
	f.reset(true)
	require.NoError(t, destroyAll(f.ctx, f.env, f.cloud))
	assert.Empty(t, f.cloud.Writes())
	counts := f.report.Counts()
	assert.Zero(t, counts[migration.ActionCreate]+counts[migration.ActionUpdate])
	assert.GreaterOrEqual(t, counts[migration.ActionDelete], 30, "every resource is reported as a delete")
	assert.Len(t, f.cloud.EC2().Vpcs(), 1)
}

func TestNetworkConvergesUnderThrottlingAndEventualConsistency(t *testing.T) {
	f := newFx(t)
	f.cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.3, NotFoundReads: 2})
	require.NoError(t, applyAll(f))
	f.cloud.SetFaults(fakecloud.Faults{})
	throttled, notFound := map[string]int{}, map[string]int{}
	for _, c := range f.cloud.Calls() {
		switch {
		case c.Code == "RequestLimitExceeded" || c.Code == "ThrottlingException":
			throttled[c.Service]++
		case strings.Contains(c.Code, "NotFound") || c.Code == "DirectConnectClientException": // Direct Connect's one code for "does not exist"
			notFound[c.Service]++
		}
	}
	for _, svc := range []string{"EC2", "Direct Connect", "Route53Resolver"} {
		assert.Positive(t, throttled[svc], "throttling fired in %s", svc)
		assert.Positive(t, notFound[svc], "NotFound-after-create fired in %s", svc)
	}

	// Let the consistency window close (every new resource is read until
	// visible), then the same apply writes nothing: no duplicates were made.
	for range 3 {
		f.reset(true)
		require.NoError(t, applyAll(f))
	}
	f.reset(false)
	require.NoError(t, applyAll(f))
	assert.Empty(t, writeOps(f.cloud), "converged")
	e := f.cloud.EC2()
	assert.Len(t, e.Vpcs(), 1)
	assert.Len(t, e.Subnets(), 6)
	assert.Len(t, e.Addresses(), 3)
	assert.Len(t, e.NatGatewayStates(), 3)
	assert.Len(t, e.VpnConnections(), 1)
	assert.Len(t, e.FlowLogs(), 1)
	assert.Len(t, f.cloud.Resolver().Endpoints(), 1)
	assert.Len(t, f.cloud.DirectConnect().Gateways(), 1)
}

func TestCrashDuringNATCreateMakesNoDuplicate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash int // the write that crashes, its response lost
	}{{"after AllocateAddress", 1}, {"after CreateNatGateway", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t).withSubnets().withIGW()
			f.cloud.SetFaults(fakecloud.Faults{CrashAtWrite: tc.crash, CrashAfter: true})
			_, err := network.EnsureNATGateways(f.ctx, f.env, f.cloud.EC2(), f.natSpec())
			require.ErrorIs(t, err, fakecloud.ErrCrash)
			f.cloud.Restart()
			nats, err := network.EnsureNATGateways(f.ctx, f.env, f.cloud.EC2(), f.natSpec())
			require.NoError(t, err)
			assert.Len(t, nats.Gateways, 3)
			assert.Len(t, f.cloud.EC2().NatGatewayStates(), 3, "no duplicate gateway")
			assert.Len(t, f.cloud.EC2().Addresses(), 3, "no leaked address")
		})
	}
}

func TestResolverCreateWhoseResponseWasLostIsNotRepeated(t *testing.T) {
	faults := fakecloud.Faults{NotFoundReads: 2}
	// Find which write creates the endpoint under these faults...
	probe := newFx(t).withSubnets()
	probe.reset(false)
	probe.cloud.SetFaults(faults)
	_, err := network.EnsureResolverEndpoint(probe.ctx, probe.env, probe.resolverClients(), probe.resolverSpec())
	require.NoError(t, err)
	k := slices.Index(writeOps(probe.cloud), "CreateResolverEndpoint") + 1
	require.Positive(t, k)

	// ...then crash right after it, with the response lost, and the new
	// endpoint not listed yet when the next run looks for it.
	f := newFx(t).withSubnets()
	faults.CrashAtWrite, faults.CrashAfter = k, true
	f.cloud.SetFaults(faults)
	_, err = network.EnsureResolverEndpoint(f.ctx, f.env, f.resolverClients(), f.resolverSpec())
	require.ErrorIs(t, err, fakecloud.ErrCrash)
	f.cloud.Restart()
	f.reset(false)
	got, err := network.EnsureResolverEndpoint(f.ctx, f.env, f.resolverClients(), f.resolverSpec())
	require.NoError(t, err)
	assert.Equal(t, f.cloud.Resolver().Endpoints(), []string{got.ID}, "one endpoint: the reused request ID found the first")
	var codes []string
	for _, c := range f.cloud.Calls() {
		if c.Op == "CreateResolverEndpoint" {
			codes = append(codes, c.Code)
		}
	}
	assert.Equal(t, []string{"ResourceExistsException"}, codes, "the retry was refused as a reused request ID")
	assert.Len(t, got.IPs, 2)
}
