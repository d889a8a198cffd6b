package fakecloud_test

import (
	"bytes"
	"context"
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

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// netCloud is a cloud with a VPC and one subnet in each of two zones.
type netCloud struct {
	t      *testing.T
	ctx    context.Context
	cloud  *fakecloud.Cloud
	e      *fakecloud.EC2
	vpc    string
	sa, sb string
}

func newNetCloud(t *testing.T) *netCloud {
	t.Helper()
	n := &netCloud{t: t, ctx: context.Background(), cloud: fakecloud.New()}
	n.e = n.cloud.EC2()
	v, err := n.e.CreateVpc(n.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	n.vpc = aws.ToString(v.Vpc.VpcId)
	n.sa = n.subnet("10.0.1.0/24", "us-east-1a")
	n.sb = n.subnet("10.0.2.0/24", "us-east-1b")
	return n
}

func (n *netCloud) subnet(cidr, az string) string {
	n.t.Helper()
	out, err := n.e.CreateSubnet(n.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(n.vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
	require.NoError(n.t, err)
	return aws.ToString(out.Subnet.SubnetId)
}

func (n *netCloud) nat(subnet, token string) (natID, allocID string) {
	n.t.Helper()
	a, err := n.e.AllocateAddress(n.ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	require.NoError(n.t, err)
	out, err := n.e.CreateNatGateway(n.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: a.AllocationId, ClientToken: aws.String(token)})
	require.NoError(n.t, err)
	return aws.ToString(out.NatGateway.NatGatewayId), aws.ToString(a.AllocationId)
}

func TestFakeVPCComesWithMainRouteTableAndDefaultGroup(t *testing.T) {
	n := newNetCloud(t)
	rts, err := n.e.DescribeRouteTables(n.ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{awsx.Filter("vpc-id", n.vpc), awsx.Filter("association.main", "true")}})
	require.NoError(t, err)
	require.Len(t, rts.RouteTables, 1)
	assert.Equal(t, "local", aws.ToString(rts.RouteTables[0].Routes[0].GatewayId))
	sgs, err := n.e.DescribeSecurityGroups(n.ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{awsx.Filter("vpc-id", n.vpc), awsx.Filter("group-name", "default")}})
	require.NoError(t, err)
	require.Len(t, sgs.SecurityGroups, 1)
	_, err = n.e.DeleteSecurityGroup(n.ctx, &ec2.DeleteSecurityGroupInput{GroupId: sgs.SecurityGroups[0].GroupId})
	assert.Equal(t, "CannotDelete", awsx.Code(err))

	// Subnets hold the VPC; once they are gone it goes with its main
	// table and default group.
	_, err = n.e.DeleteVpc(n.ctx, &ec2.DeleteVpcInput{VpcId: aws.String(n.vpc)})
	require.True(t, awsx.IsDependencyViolation(err), "%v", err)
	for _, s := range []string{n.sa, n.sb} {
		_, err := n.e.DeleteSubnet(n.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)})
		require.NoError(t, err)
	}
	_, err = n.e.DeleteVpc(n.ctx, &ec2.DeleteVpcInput{VpcId: aws.String(n.vpc)})
	require.NoError(t, err)
	assert.Empty(t, n.e.RouteTables())
	assert.Empty(t, n.e.SecurityGroups())
}

func TestFakeSubnetRules(t *testing.T) {
	n := newNetCloud(t)
	for _, tc := range []struct{ cidr, az, code string }{
		{"10.0.1.128/25", "us-east-1a", "InvalidSubnet.Conflict"},
		{"10.1.0.0/24", "us-east-1a", "InvalidSubnet.Range"},
		{"10.0.9.0/24", "us-east-1z", "InvalidParameterValue"},
	} {
		_, err := n.e.CreateSubnet(n.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(n.vpc), CidrBlock: aws.String(tc.cidr), AvailabilityZone: aws.String(tc.az)})
		assert.Equal(t, tc.code, awsx.Code(err), tc.cidr)
	}
}

func TestFakeNATGatewayLifecycle(t *testing.T) {
	n := newNetCloud(t)
	id, alloc := n.nat(n.sa, "token-1")
	assert.Equal(t, "pending", n.e.NatGatewayStates()[id])
	n.cloud.Clock().Advance(2 * time.Minute)
	assert.Equal(t, "available", n.e.NatGatewayStates()[id])

	// The same client token returns the same gateway; other parameters
	// with it are a mismatch.
	again, err := n.e.CreateNatGateway(n.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(n.sa), AllocationId: aws.String(alloc), ClientToken: aws.String("token-1")})
	require.NoError(t, err)
	assert.Equal(t, id, aws.ToString(again.NatGateway.NatGatewayId))
	_, err = n.e.CreateNatGateway(n.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(n.sb), AllocationId: aws.String(alloc), ClientToken: aws.String("token-1")})
	assert.Equal(t, "IdempotentParameterMismatch", awsx.Code(err))

	// A subnet with a NAT gateway cannot go; a mapped address blocks the
	// internet gateway's detach; an address in use cannot be released.
	_, err = n.e.DeleteSubnet(n.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(n.sa)})
	assert.True(t, awsx.IsDependencyViolation(err))
	igw, err := n.e.CreateInternetGateway(n.ctx, &ec2.CreateInternetGatewayInput{})
	require.NoError(t, err)
	_, err = n.e.AttachInternetGateway(n.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(n.vpc)})
	require.NoError(t, err)
	_, err = n.e.DeleteInternetGateway(n.ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId})
	assert.True(t, awsx.IsDependencyViolation(err), "attached")
	_, err = n.e.DetachInternetGateway(n.ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(n.vpc)})
	assert.True(t, awsx.IsDependencyViolation(err), "mapped address")
	_, err = n.e.ReleaseAddress(n.ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(alloc)})
	assert.Equal(t, "InvalidIPAddress.InUse", awsx.Code(err))

	// Deleting: deleting, then deleted (still listed), and the address is
	// free again.
	_, err = n.e.DeleteNatGateway(n.ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, "deleting", n.e.NatGatewayStates()[id])
	n.cloud.Clock().Advance(time.Minute)
	assert.Equal(t, "deleted", n.e.NatGatewayStates()[id])
	_, err = n.e.DetachInternetGateway(n.ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(n.vpc)})
	require.NoError(t, err)
	_, err = n.e.ReleaseAddress(n.ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(alloc)})
	require.NoError(t, err)
	_, err = n.e.DescribeNatGateways(n.ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{"nat-0000000000000000"}})
	assert.True(t, awsx.IsNotFound(err), "NatGatewayNotFound is a NotFound")
}

func TestFakeNATGatewayFailure(t *testing.T) {
	n := newNetCloud(t)
	n.e.FailNextNatGateways(1)
	id, alloc := n.nat(n.sa, "t")
	n.cloud.Clock().Advance(time.Minute)
	out, err := n.e.DescribeNatGateways(n.ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
	require.NoError(t, err)
	assert.Equal(t, types.NatGatewayStateFailed, out.NatGateways[0].State)
	assert.NotEmpty(t, aws.ToString(out.NatGateways[0].FailureMessage))
	// A failed gateway holds no address and blocks no subnet.
	_, err = n.e.ReleaseAddress(n.ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(alloc)})
	require.NoError(t, err)
	_, err = n.e.DeleteSubnet(n.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(n.sa)})
	require.NoError(t, err)
}

func TestFakeSecurityGroupRules(t *testing.T) {
	n := newNetCloud(t)
	mk := func(name string) string {
		out, err := n.e.CreateSecurityGroup(n.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(n.vpc), GroupName: aws.String(name), Description: aws.String("d")})
		require.NoError(t, err)
		return aws.ToString(out.GroupId)
	}
	_, err := n.e.CreateSecurityGroup(n.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(n.vpc), GroupName: aws.String("sg-web"), Description: aws.String("d")})
	assert.Equal(t, "InvalidParameterValue", awsx.Code(err), "names may not start with sg-")
	app, db := mk("app"), mk("db")
	_, err = n.e.CreateSecurityGroup(n.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(n.vpc), GroupName: aws.String("app"), Description: aws.String("d")})
	assert.Equal(t, "InvalidGroup.Duplicate", awsx.Code(err))
	perm := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(app)}}}}
	_, err = n.e.AuthorizeSecurityGroupIngress(n.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: perm})
	require.NoError(t, err)
	_, err = n.e.AuthorizeSecurityGroupIngress(n.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: perm})
	assert.Equal(t, "InvalidPermission.Duplicate", awsx.Code(err))
	_, err = n.e.DeleteSecurityGroup(n.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(app)})
	assert.True(t, awsx.IsDependencyViolation(err), "referenced by db's rule")
	_, err = n.e.RevokeSecurityGroupIngress(n.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: perm})
	require.NoError(t, err)
	_, err = n.e.RevokeSecurityGroupIngress(n.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: perm})
	assert.Equal(t, "InvalidPermission.NotFound", awsx.Code(err))
	_, err = n.e.DeleteSecurityGroup(n.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(app)})
	require.NoError(t, err)
}

// vpnGateway returns an attached, available VGW.
func (n *netCloud) vpnGateway() string {
	n.t.Helper()
	g, err := n.e.CreateVpnGateway(n.ctx, &ec2.CreateVpnGatewayInput{Type: types.GatewayTypeIpsec1, AmazonSideAsn: aws.Int64(64512)})
	require.NoError(n.t, err)
	id := aws.ToString(g.VpnGateway.VpnGatewayId)
	n.cloud.Clock().Advance(time.Minute)
	_, err = n.e.AttachVpnGateway(n.ctx, &ec2.AttachVpnGatewayInput{VpnGatewayId: aws.String(id), VpcId: aws.String(n.vpc)})
	require.NoError(n.t, err)
	n.cloud.Clock().Advance(time.Minute)
	return id
}

func TestFakeVPN(t *testing.T) {
	n := newNetCloud(t)
	vgw := n.vpnGateway()
	cgwIn := &ec2.CreateCustomerGatewayInput{Type: types.GatewayTypeIpsec1, IpAddress: aws.String("203.0.113.10"), BgpAsn: aws.Int32(65010)}
	c1, err := n.e.CreateCustomerGateway(n.ctx, cgwIn)
	require.NoError(t, err)
	c2, err := n.e.CreateCustomerGateway(n.ctx, cgwIn)
	require.NoError(t, err)
	assert.Equal(t, c1.CustomerGateway.CustomerGatewayId, c2.CustomerGateway.CustomerGatewayId, "an identical request returns the existing gateway")
	cgwIn.DeviceName = aws.String("other")
	c3, err := n.e.CreateCustomerGateway(n.ctx, cgwIn)
	require.NoError(t, err)
	assert.NotEqual(t, c1.CustomerGateway.CustomerGatewayId, c3.CustomerGateway.CustomerGatewayId, "a distinct device name makes a new one")
	_, err = n.e.CreateCustomerGateway(n.ctx, &ec2.CreateCustomerGatewayInput{Type: types.GatewayTypeIpsec1, IpAddress: aws.String("203.0.113.11"), BgpAsn: aws.Int32(7224)})
	assert.Equal(t, "InvalidParameterValue", awsx.Code(err), "7224 is reserved in us-east-1")
	for _, tc := range []struct {
		region string
		asn    int32
		code   string
	}{{"eu-west-1", 7224, "InvalidParameterValue"}, {"eu-west-1", 9059, "InvalidParameterValue"}, {"us-east-1", 9059, ""}} {
		other := fakecloud.New(fakecloud.WithRegion(tc.region)).EC2()
		_, err := other.CreateCustomerGateway(n.ctx, &ec2.CreateCustomerGatewayInput{Type: types.GatewayTypeIpsec1, IpAddress: aws.String("203.0.113.12"), BgpAsn: aws.Int32(tc.asn)})
		assert.Equal(t, tc.code, awsx.Code(err), "ASN %d in %s", tc.asn, tc.region)
	}
	ext, err := n.e.CreateCustomerGateway(n.ctx, &ec2.CreateCustomerGatewayInput{Type: types.GatewayTypeIpsec1, IpAddress: aws.String("203.0.113.13"), BgpAsnExtended: aws.Int64(4200000001)})
	require.NoError(t, err, "a private 4-byte ASN goes in BgpAsnExtended")
	assert.Equal(t, "4200000001", aws.ToString(ext.CustomerGateway.BgpAsnExtended))

	create := func(inside string) (*ec2.CreateVpnConnectionOutput, error) {
		return n.e.CreateVpnConnection(n.ctx, &ec2.CreateVpnConnectionInput{Type: aws.String("ipsec.1"), CustomerGatewayId: c1.CustomerGateway.CustomerGatewayId, VpnGatewayId: aws.String(vgw),
			Options: &types.VpnConnectionOptionsSpecification{TunnelOptions: []types.VpnTunnelOptionsSpecification{{TunnelInsideCidr: aws.String(inside)}}}})
	}
	_, err = create("169.254.169.252/30")
	assert.Equal(t, "InvalidParameterValue", awsx.Code(err), "reserved inside CIDR")
	v, err := create("169.254.10.0/30")
	require.NoError(t, err)
	_, err = create("169.254.10.0/30")
	assert.Equal(t, "InvalidParameterValue", awsx.Code(err), "inside CIDR unique per gateway")
	id := aws.ToString(v.VpnConnection.VpnConnectionId)
	assert.Equal(t, types.VpnStatePending, v.VpnConnection.State)
	n.cloud.Clock().Advance(5 * time.Minute)
	out, err := n.e.DescribeVpnConnections(n.ctx, &ec2.DescribeVpnConnectionsInput{VpnConnectionIds: []string{id}})
	require.NoError(t, err)
	assert.Equal(t, types.VpnStateAvailable, out.VpnConnections[0].State)
	tun := out.VpnConnections[0].Options.TunnelOptions
	require.Len(t, tun, 2)
	assert.NotEmpty(t, aws.ToString(tun[1].PreSharedKey), "AWS generates keys left out")

	mod := func() error {
		_, err := n.e.ModifyVpnTunnelOptions(n.ctx, &ec2.ModifyVpnTunnelOptionsInput{VpnConnectionId: aws.String(id), VpnTunnelOutsideIpAddress: tun[0].OutsideIpAddress,
			TunnelOptions: &types.ModifyVpnTunnelOptionsSpecification{DPDTimeoutSeconds: aws.Int32(40)}})
		return err
	}
	require.NoError(t, mod())
	assert.Equal(t, "IncorrectState", awsx.Code(mod()), "one modification at a time")

	// The gateway cannot go while the connection lives; the customer
	// gateway neither.
	_, err = n.e.DetachVpnGateway(n.ctx, &ec2.DetachVpnGatewayInput{VpnGatewayId: aws.String(vgw), VpcId: aws.String(n.vpc)})
	require.NoError(t, err)
	n.cloud.Clock().Advance(2 * time.Minute)
	_, err = n.e.DeleteVpnGateway(n.ctx, &ec2.DeleteVpnGatewayInput{VpnGatewayId: aws.String(vgw)})
	assert.True(t, awsx.IsDependencyViolation(err))
	_, err = n.e.DeleteCustomerGateway(n.ctx, &ec2.DeleteCustomerGatewayInput{CustomerGatewayId: c1.CustomerGateway.CustomerGatewayId})
	assert.Equal(t, "IncorrectState", awsx.Code(err))
	_, err = n.e.DeleteVpnConnection(n.ctx, &ec2.DeleteVpnConnectionInput{VpnConnectionId: aws.String(id)})
	require.NoError(t, err)
	n.cloud.Clock().Advance(time.Minute)
	_, err = n.e.DeleteVpnGateway(n.ctx, &ec2.DeleteVpnGatewayInput{VpnGatewayId: aws.String(vgw)})
	require.NoError(t, err)
}

func TestFakeDirectConnect(t *testing.T) {
	n := newNetCloud(t)
	dx := n.cloud.DirectConnect()
	gw, err := dx.CreateDirectConnectGateway(n.ctx, &directconnect.CreateDirectConnectGatewayInput{DirectConnectGatewayName: aws.String("dxgw"), AmazonSideAsn: aws.Int64(64513)})
	require.NoError(t, err)
	gwID := gw.DirectConnectGateway.DirectConnectGatewayId
	n.cloud.Clock().Advance(time.Minute)
	// A detached VGW cannot be associated.
	vgw, err := n.e.CreateVpnGateway(n.ctx, &ec2.CreateVpnGatewayInput{Type: types.GatewayTypeIpsec1})
	require.NoError(t, err)
	_, err = dx.CreateDirectConnectGatewayAssociation(n.ctx, &directconnect.CreateDirectConnectGatewayAssociationInput{DirectConnectGatewayId: gwID, VirtualGatewayId: vgw.VpnGateway.VpnGatewayId})
	assert.Equal(t, "DirectConnectClientException", awsx.Code(err))
	attached := n.vpnGateway()
	prefixes := func(cidrs ...string) []dxtypes.RouteFilterPrefix {
		var out []dxtypes.RouteFilterPrefix
		for _, c := range cidrs {
			out = append(out, dxtypes.RouteFilterPrefix{Cidr: aws.String(c)})
		}
		return out
	}
	_, err = dx.CreateDirectConnectGatewayAssociation(n.ctx, &directconnect.CreateDirectConnectGatewayAssociationInput{DirectConnectGatewayId: gwID, VirtualGatewayId: aws.String(attached), AddAllowedPrefixesToDirectConnectGateway: prefixes("10.1.0.0/16")})
	assert.ErrorContains(t, err, "do not cover the VPC CIDR", "allowed prefixes must cover the VPC")
	a, err := dx.CreateDirectConnectGatewayAssociation(n.ctx, &directconnect.CreateDirectConnectGatewayAssociationInput{DirectConnectGatewayId: gwID, VirtualGatewayId: aws.String(attached), AddAllowedPrefixesToDirectConnectGateway: prefixes("10.0.0.0/16")})
	require.NoError(t, err)
	assert.Equal(t, dxtypes.DirectConnectGatewayAssociationStateAssociating, a.DirectConnectGatewayAssociation.AssociationState)

	// A VIF needs an available connection and a free VLAN.
	down := dx.AddConnection("c1", "EqDC2", "down")
	newVIF := func(conn string, vlan int32) error {
		_, err := dx.CreatePrivateVirtualInterface(n.ctx, &directconnect.CreatePrivateVirtualInterfaceInput{ConnectionId: aws.String(conn), NewPrivateVirtualInterface: &dxtypes.NewPrivateVirtualInterface{
			VirtualInterfaceName: aws.String("vif"), Vlan: vlan, AsnLong: aws.Int64(65010), AuthKey: aws.String("secret-key"), DirectConnectGatewayId: gwID,
		}})
		return err
	}
	assert.ErrorContains(t, newVIF(down, 100), "is in state down")
	up := dx.AddConnection("c2", "EqDC2", "available")
	require.NoError(t, newVIF(up, 100))
	assert.ErrorContains(t, newVIF(up, 100), "VLAN 100 is already in use")

	// The gateway cannot go with an association or a VIF; the VGW cannot
	// go while associated.
	_, err = dx.DeleteDirectConnectGateway(n.ctx, &directconnect.DeleteDirectConnectGatewayInput{DirectConnectGatewayId: gwID})
	assert.ErrorContains(t, err, "has associations")
	_, err = n.e.DetachVpnGateway(n.ctx, &ec2.DetachVpnGatewayInput{VpnGatewayId: aws.String(attached), VpcId: aws.String(n.vpc)})
	require.NoError(t, err)
	n.cloud.Clock().Advance(2 * time.Minute)
	_, err = n.e.DeleteVpnGateway(n.ctx, &ec2.DeleteVpnGatewayInput{VpnGatewayId: aws.String(attached)})
	assert.True(t, awsx.IsDependencyViolation(err), "associated with a DX gateway")
}

func TestFakeResolverEndpoint(t *testing.T) {
	n := newNetCloud(t)
	sg, err := n.e.CreateSecurityGroup(n.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(n.vpc), GroupName: aws.String("dns"), Description: aws.String("d")})
	require.NoError(t, err)
	r := n.cloud.Resolver()
	in := &route53resolver.CreateResolverEndpointInput{CreatorRequestId: aws.String("req-1"), Direction: r53rtypes.ResolverEndpointDirectionInbound, SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
		IpAddresses: []r53rtypes.IpAddressRequest{{SubnetId: aws.String(n.sa)}}}
	_, err = r.CreateResolverEndpoint(n.ctx, in)
	assert.Equal(t, "InvalidRequestException", awsx.Code(err), "two addresses at least")
	in.IpAddresses = append(in.IpAddresses, r53rtypes.IpAddressRequest{SubnetId: aws.String(n.sb)})
	ep, err := r.CreateResolverEndpoint(n.ctx, in)
	require.NoError(t, err)
	_, err = r.CreateResolverEndpoint(n.ctx, in)
	assert.True(t, awsx.IsAlreadyExists(err), "a reused CreatorRequestId")
	id := ep.ResolverEndpoint.Id
	assert.Equal(t, r53rtypes.ResolverEndpointStatusCreating, ep.ResolverEndpoint.Status)
	n.cloud.Clock().Advance(2 * time.Minute)
	_, err = r.DisassociateResolverEndpointIpAddress(n.ctx, &route53resolver.DisassociateResolverEndpointIpAddressInput{ResolverEndpointId: id, IpAddress: &r53rtypes.IpAddressUpdate{SubnetId: aws.String(n.sa), Ip: aws.String("10.0.1.204")}})
	assert.Equal(t, "InvalidRequestException", awsx.Code(err), "never below two addresses")
	// Its interfaces hold the subnets and the group.
	_, err = n.e.DeleteSubnet(n.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(n.sa)})
	assert.True(t, awsx.IsDependencyViolation(err))
	_, err = n.e.DeleteSecurityGroup(n.ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	assert.True(t, awsx.IsDependencyViolation(err))
	_, err = r.DeleteResolverEndpoint(n.ctx, &route53resolver.DeleteResolverEndpointInput{ResolverEndpointId: id})
	require.NoError(t, err)
	n.cloud.Clock().Advance(time.Minute)
	_, err = r.GetResolverEndpoint(n.ctx, &route53resolver.GetResolverEndpointInput{ResolverEndpointId: id})
	assert.True(t, awsx.IsNotFound(err))
	_, err = n.e.DeleteSecurityGroup(n.ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	require.NoError(t, err)
}

func TestFakeNetworkStateSurvivesSaveAndLoad(t *testing.T) {
	n := newNetCloud(t)
	natID, _ := n.nat(n.sa, "t")
	n.vpnGateway()
	n.cloud.DirectConnect().AddConnection("c", "EqDC2", "available")
	var buf bytes.Buffer
	require.NoError(t, n.cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	assert.Equal(t, n.e.Subnets(), loaded.EC2().Subnets())
	assert.Equal(t, n.e.VpnGateways(), loaded.EC2().VpnGateways())
	assert.Equal(t, n.e.RouteTables(), loaded.EC2().RouteTables())
	assert.Equal(t, n.e.NatGatewayStates()[natID], loaded.EC2().NatGatewayStates()[natID])
	// The client token is remembered too.
	out, err := loaded.EC2().DescribeNatGateways(n.ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{natID}})
	require.NoError(t, err)
	again, err := loaded.EC2().CreateNatGateway(n.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(n.sa), AllocationId: out.NatGateways[0].NatGatewayAddresses[0].AllocationId, ClientToken: aws.String("t")})
	require.NoError(t, err)
	assert.Equal(t, natID, aws.ToString(again.NatGateway.NatGatewayId))
}
