package network_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// TestSpecValidation: every bad spec is rejected before any API call, with
// an error naming the field.
func TestSpecValidation(t *testing.T) {
	vpc := "vpc-0123456789abcdef0"
	sn := func(id, az string) network.Subnet { return network.Subnet{ID: id, AZ: az} }
	subnets := func(m func(*network.SubnetsSpec)) func(*fx) error {
		s := network.SubnetsSpec{VPCID: vpc, VPCCIDR: vpcBlock, AZCount: 3, PublicPrefix: 24, PrivatePrefix: 20}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureSubnets(f.ctx, f.env, f.cloud.EC2(), s); return err }
	}
	nat := func(m func(*network.NATGatewaysSpec)) func(*fx) error {
		s := network.NATGatewaysSpec{PublicSubnets: []network.Subnet{sn("subnet-a", "us-east-1a"), sn("subnet-b", "us-east-1b")}}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureNATGateways(f.ctx, f.env, f.cloud.EC2(), s); return err }
	}
	routes := func(m func(*network.RouteTablesSpec)) func(*fx) error {
		s := network.RouteTablesSpec{VPCID: vpc, InternetGatewayID: "igw-1", PublicSubnets: []network.Subnet{sn("subnet-a", "us-east-1a")}, PrivateSubnets: []network.Subnet{sn("subnet-b", "us-east-1a")}, NATGatewayIDs: map[string]string{"us-east-1a": "nat-1"}}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureRouteTables(f.ctx, f.env, f.cloud.EC2(), s); return err }
	}
	sgs := func(m func(*network.SecurityGroupsSpec)) func(*fx) error {
		s := network.SecurityGroupsSpec{VPCID: vpc, OnPremCIDR: onPrem, WebPort: 443, AppPort: 8080, DBPort: 5432, OnPremDBPort: 5432}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureSecurityGroups(f.ctx, f.env, f.cloud.EC2(), s); return err }
	}
	flow := func(m func(*network.FlowLogsSpec)) func(*fx) error {
		s := network.FlowLogsSpec{VPCID: vpc, KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/k", RetentionDays: 90}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureFlowLogs(f.ctx, f.env, f.flowClients(), s); return err }
	}
	vgw := func(m func(*network.VPNGatewaySpec)) func(*fx) error {
		s := network.VPNGatewaySpec{VPCID: vpc, AmazonSideASN: 64512}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureVPNGateway(f.ctx, f.env, f.cloud.EC2(), s); return err }
	}
	vpn := func(m func(*network.VPNConnectionSpec)) func(*fx) error {
		s := network.VPNConnectionSpec{
			VPNGatewayID: "vgw-1", AmazonSideASN: 64512, CustomerGatewayIP: "203.0.113.10", CustomerASN: 65010, OnPremCIDR: onPrem, VPCCIDR: vpcBlock,
			KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/k", LogRetentionDays: 90,
			Tunnels: [2]network.TunnelSpec{{InsideCIDR: "169.254.10.0/30"}, {InsideCIDR: "169.254.11.0/30"}},
		}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureVPNConnection(f.ctx, f.env, f.vpnClients(), s); return err }
	}
	crypto := func(m func(*network.TunnelCrypto)) func(*fx) error {
		return vpn(func(s *network.VPNConnectionSpec) { s.Crypto = network.DefaultTunnelCrypto(); m(&s.Crypto) })
	}
	dx := func(m func(*network.DirectConnectSpec)) func(*fx) error {
		s := network.DirectConnectSpec{AmazonSideASN: 64513, VPNGatewayID: "vgw-1", VPCCIDR: vpcBlock}
		m(&s)
		return func(f *fx) error { _, err := network.EnsureDirectConnect(f.ctx, f.env, f.dxClients(), s); return err }
	}
	vif := func(m func(*network.DirectConnectSpec)) func(*fx) error {
		return dx(func(s *network.DirectConnectSpec) {
			s.ConnectionID, s.VLAN, s.CustomerASN, s.AuthKeySecretARN = "dxcon-ffabc123", 101, 65010, bgpARN
			m(s)
		})
	}
	resolver := func(m func(*network.ResolverEndpointSpec)) func(*fx) error {
		s := network.ResolverEndpointSpec{VPCID: vpc, OnPremCIDR: onPrem, Subnets: []network.Subnet{sn("subnet-a", "us-east-1a"), sn("subnet-b", "us-east-1b")}}
		m(&s)
		return func(f *fx) error {
			_, err := network.EnsureResolverEndpoint(f.ctx, f.env, f.resolverClients(), s)
			return err
		}
	}
	tests := []struct {
		name string
		call func(*fx) error
		want string
	}{
		{"one zone", subnets(func(s *network.SubnetsSpec) { s.AZCount = 1 }), "subnets.azCount: 1 outside 2..6"},
		{"public prefix not inside the VPC", subnets(func(s *network.SubnetsSpec) { s.PublicPrefix = 16 }), "subnets.publicPrefix: /16 must be longer"},
		{"private prefix too long", subnets(func(s *network.SubnetsSpec) { s.PrivatePrefix = 29 }), "subnets.privatePrefix: /29"},
		{"subnets exhaust the VPC", subnets(func(s *network.SubnetsSpec) { s.PrivatePrefix, s.PublicPrefix = 17, 17 }), "do not fit in 10.0.0.0/16"},
		{"VPC CIDR with host bits", subnets(func(s *network.SubnetsSpec) { s.VPCCIDR = "10.0.0.1/16" }), "subnets.vpcCidr: \"10.0.0.1/16\" has host bits set"},
		{"VPC ID of another kind", subnets(func(s *network.SubnetsSpec) { s.VPCID = "subnet-0123" }), "subnets.vpcId: \"subnet-0123\" is not an ID of the form vpc-"},
		{"VPC ID missing", subnets(func(s *network.SubnetsSpec) { s.VPCID = "" }), "subnets.vpcId: required"},
		{"unknown NAT mode", nat(func(s *network.NATGatewaysSpec) { s.Mode = "many" }), "natGateways.mode: \"many\""},
		{"NAT subnet without a zone", nat(func(s *network.NATGatewaysSpec) { s.PublicSubnets[1].AZ = "" }), "natGateways.publicSubnets[1].az: required"},
		{"two NAT subnets in one zone", nat(func(s *network.NATGatewaysSpec) { s.PublicSubnets[1].AZ = "us-east-1a" }), "natGateways.publicSubnets[1].az: us-east-1a appears twice"},
		{"no NAT subnets", nat(func(s *network.NATGatewaysSpec) { s.PublicSubnets = nil }), "natGateways.publicSubnets: required"},
		{"IGW ID of another kind", routes(func(s *network.RouteTablesSpec) { s.InternetGatewayID = "nat-1" }), "routeTables.internetGatewayId"},
		{"private zone without a NAT gateway", routes(func(s *network.RouteTablesSpec) { s.PrivateSubnets[0].AZ = "us-east-1b" }), "routeTables.natGatewayIds: no NAT gateway for zone us-east-1b"},
		{"on-premises CIDR is everything", sgs(func(s *network.SecurityGroupsSpec) { s.OnPremCIDR = "0.0.0.0/0" }), "securityGroups.onPremCidr: 0.0.0.0/0 is not an on-premises network"},
		{"app port zero", sgs(func(s *network.SecurityGroupsSpec) { s.AppPort = 0 }), "securityGroups.appPort: 0 outside 1..65535"},
		{"bad public listener CIDR", sgs(func(s *network.SecurityGroupsSpec) { s.PublicWebCIDRs = []string{"everyone"} }), "securityGroups.publicWebCidrs[0]"},
		{"DNS server not an address", sgs(func(s *network.SecurityGroupsSpec) { s.DNSServers = []string{"ns1.corp"} }), `securityGroups.dnsServers[0]: "ns1.corp" is not an IPv4 address`},
		{"DNS server outside on-premises", sgs(func(s *network.SecurityGroupsSpec) { s.DNSServers = []string{"8.8.8.8"} }), "securityGroups.dnsServers[0]: 8.8.8.8 is outside the on-premises network"},
		{"DNS server twice", sgs(func(s *network.SecurityGroupsSpec) { s.DNSServers = []string{"192.168.0.53", "192.168.0.53"} }), "securityGroups.dnsServers[1]: 192.168.0.53 listed twice"},
		{"flow log retention not offered by CloudWatch", flow(func(s *network.FlowLogsSpec) { s.RetentionDays = 42 }), "flowLogs.retentionDays: 42"},
		{"flow log key not an ARN", flow(func(s *network.FlowLogsSpec) { s.KMSKeyARN = "alias/migration-dev" }), "flowLogs.kmsKeyArn"},
		{"flow log traffic type", flow(func(s *network.FlowLogsSpec) { s.TrafficType = "SOME" }), "flowLogs.trafficType"},
		{"flow log aggregation", flow(func(s *network.FlowLogsSpec) { s.MaxAggregationSeconds = 120 }), "flowLogs.maxAggregationSeconds"},
		{"public Amazon-side ASN", vgw(func(s *network.VPNGatewaySpec) { s.AmazonSideASN = 7224 }), "vpnGateway.amazonSideAsn: 7224 is not a private ASN"},
		{"propagation to a non-table", vgw(func(s *network.VPNGatewaySpec) { s.RouteTableIDs = []string{"subnet-1"} }), "vpnGateway.routeTableIds[0]"},
		{"customer ASN is Amazon's", vpn(func(s *network.VPNConnectionSpec) { s.CustomerASN = 7224 }), "vpn.customerAsn: 7224 is Amazon's own ASN"},
		{"customer ASN is AS_TRANS", vpn(func(s *network.VPNConnectionSpec) { s.CustomerASN = 23456 }), "vpn.customerAsn: 23456 is AS_TRANS"},
		{"customer ASN for documentation", vpn(func(s *network.VPNConnectionSpec) { s.CustomerASN = 64500 }), "vpn.customerAsn: 64500 is reserved for documentation"},
		{"customer ASN beyond 4 bytes", vpn(func(s *network.VPNConnectionSpec) { s.CustomerASN = 4294967295 }), "vpn.customerAsn: 4294967295 outside 1-4294967294"},
		{"same ASN on both sides", vpn(func(s *network.VPNConnectionSpec) { s.CustomerASN = 64512 }), "vpn.customerAsn: 64512 equals the Amazon side ASN"},
		{"on-premises overlaps the VPC", vpn(func(s *network.VPNConnectionSpec) { s.OnPremCIDR = "10.0.0.0/8" }), "vpn.onPremCidr: 10.0.0.0/8 overlaps the VPC's 10.0.0.0/16"},
		{"private customer gateway IP", vpn(func(s *network.VPNConnectionSpec) { s.CustomerGatewayIP = "192.168.1.1" }), "vpn.customerGatewayIp: 192.168.1.1 is not a public address"},
		{"reserved tunnel inside CIDR", vpn(func(s *network.VPNConnectionSpec) { s.Tunnels[0].InsideCIDR = "169.254.5.0/30" }), "vpn.tunnels[0].insideCidr: 169.254.5.0/30 is reserved"},
		{"reserved metadata tunnel CIDR", vpn(func(s *network.VPNConnectionSpec) { s.Tunnels[1].InsideCIDR = "169.254.169.252/30" }), "vpn.tunnels[1].insideCidr: 169.254.169.252/30 is reserved"},
		{"tunnel CIDR not a /30", vpn(func(s *network.VPNConnectionSpec) { s.Tunnels[1].InsideCIDR = "169.254.20.0/29" }), "vpn.tunnels[1].insideCidr: 169.254.20.0/29 is not a /30"},
		{"tunnel CIDR outside link-local", vpn(func(s *network.VPNConnectionSpec) { s.Tunnels[0].InsideCIDR = "10.9.9.0/30" }), "vpn.tunnels[0].insideCidr: 10.9.9.0/30 is not a /30 inside 169.254.0.0/16"},
		{"both tunnels one CIDR", vpn(func(s *network.VPNConnectionSpec) { s.Tunnels[1].InsideCIDR = "169.254.10.0/30" }), "vpn.tunnels[1].insideCidr: 169.254.10.0/30 is also tunnel 0's"},
		{"pre-shared key pasted instead of an ARN", vpn(func(s *network.VPNConnectionSpec) { s.Tunnels[0].PreSharedKeySecretARN = psk1 }), "vpn.tunnels[0].preSharedKeySecretArn: not a Secrets Manager secret ARN"},
		{"IKEv1", crypto(func(c *network.TunnelCrypto) { c.IKEVersions = []string{"ikev1", "ikev2"} }), "vpn.crypto.ikeVersions: \"ikev1\" is not allowed"},
		{"AES-128", crypto(func(c *network.TunnelCrypto) { c.Phase1Encryption = []string{"AES128"} }), "vpn.crypto.phase1Encryption: \"AES128\""},
		{"SHA-1", crypto(func(c *network.TunnelCrypto) { c.Phase2Integrity = []string{"SHA1"} }), "vpn.crypto.phase2Integrity: \"SHA1\""},
		{"DH group 2", crypto(func(c *network.TunnelCrypto) { c.Phase2DHGroups = []int32{2, 14} }), "vpn.crypto.phase2DhGroups: group 2"},
		{"phase 2 outlives phase 1", crypto(func(c *network.TunnelCrypto) { c.Phase1Lifetime, c.Phase2Lifetime = 1800*time.Second, 3600*time.Second }), "vpn.crypto.phase2Lifetime"},
		{"DPD under 30s", crypto(func(c *network.TunnelCrypto) { c.DPDTimeout = 10 * time.Second }), "vpn.crypto.dpdTimeout"},
		{"tunnel logs retention", vpn(func(s *network.VPNConnectionSpec) { s.LogRetentionDays = 0 }), "vpn.logRetentionDays"},
		{"allowed prefixes miss the VPC", dx(func(s *network.DirectConnectSpec) { s.AllowedPrefixes = []string{"10.1.0.0/16"} }), "directConnect.allowedPrefixes: none covers the VPC's 10.0.0.0/16"},
		{"DX gateway ASN public", dx(func(s *network.DirectConnectSpec) { s.AmazonSideASN = 16509 }), "directConnect.amazonSideAsn: 16509"},
		{"VLAN out of range", vif(func(s *network.DirectConnectSpec) { s.VLAN = 5000 }), "directConnect.vlan: 5000 outside 1..4094"},
		{"VIF without a BGP key", vif(func(s *network.DirectConnectSpec) { s.AuthKeySecretARN = "" }), "directConnect.authKeySecretArn: required"},
		{"connection ID of another kind", vif(func(s *network.DirectConnectSpec) { s.ConnectionID = "vgw-123" }), "directConnect.connectionId"},
		{"one peer address", vif(func(s *network.DirectConnectSpec) { s.AmazonAddress = "169.254.255.1/30" }), "directConnect.amazonAddress, directConnect.customerAddress: give both or neither"},
		{"peers in different subnets", vif(func(s *network.DirectConnectSpec) {
			s.AmazonAddress, s.CustomerAddress = "169.254.255.1/30", "169.254.254.2/30"
		}), "directConnect.customerAddress: 169.254.254.2/30 and amazonAddress"},
		{"jumbo MTU not offered", vif(func(s *network.DirectConnectSpec) { s.MTU = 9000 }), "directConnect.mtu: 9000"},
		{"resolver in one zone", resolver(func(s *network.ResolverEndpointSpec) { s.Subnets[1].AZ = "us-east-1a" }), "resolver.subnets: 2 subnets in 1 zones"},
		{"resolver open to everyone", resolver(func(s *network.ResolverEndpointSpec) { s.OnPremCIDR = "0.0.0.0/0" }), "resolver.onPremCidr: 0.0.0.0/0 would open DNS to everyone"},
		{"bad env suffix", func(f *fx) error {
			env := f.env
			env.Suffix = "Dev Env!"
			_, err := network.EnsureInternetGateway(f.ctx, env, f.cloud.EC2(), network.InternetGatewaySpec{VPCID: vpc})
			return err
		}, "env.suffix"},
		{"pending ID in a real run", func(f *fx) error {
			_, err := network.EnsureInternetGateway(f.ctx, f.env, f.cloud.EC2(), network.InternetGatewaySpec{VPCID: migration.Pending("vpc-dev")})
			return err
		}, "internetGateway.vpcId: \"pending:vpc-dev\" is a dry-run placeholder"},
	}
	require.GreaterOrEqual(t, len(tests), 20)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			err := tt.call(f)
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, f.cloud.Calls(), "rejected before any call")
			assert.Zero(t, f.secrets.reads, "no secret read either")
			assertNoSecrets(t, err.Error())
		})
	}
}

// TestDeleteValidatesToo: Delete functions validate the spec first as well.
func TestDeleteValidatesToo(t *testing.T) {
	f := newFx(t)
	err := network.DeleteVPNConnection(context.Background(), f.env, f.vpnClients(), network.VPNConnectionSpec{AmazonSideASN: 1})
	require.ErrorContains(t, err, "vpn.amazonSideAsn")
	assert.Empty(t, f.cloud.Calls())
}
