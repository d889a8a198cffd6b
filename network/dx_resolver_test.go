package network_test

import (
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/directconnect"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

func noteOf(r *migration.Report, kind string) string {
	for _, c := range r.Changes() {
		if c.Kind == kind {
			return c.Note
		}
	}
	return ""
}

func TestEnsureDirectConnect(t *testing.T) {
	prepare := func(f *fx) network.DirectConnectSpec { return f.withVGW().dxSpec() }
	var got network.DirectConnect
	run := func(f *fx, s network.DirectConnectSpec) error {
		var err error
		got, err = network.EnsureDirectConnect(f.ctx, f.env, f.dxClients(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.DirectConnectSpec) { require.NoError(t, run(f, s)) }
	want := func(gw, assoc, vif migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{network.KindDXGateway: {gw}, network.KindDXAssociation: {assoc}, network.KindPrivateVIF: {vif}}
	}
	runEnsure(t, prepare, run, []ensureCase[network.DirectConnectSpec]{
		{
			name: "without a connection the gateway and association are made and the VIF waits", want: want(create, create, noop),
			wantWrites: map[string]int{"CreateDirectConnectGateway": 1, "CreateDirectConnectGatewayAssociation": 1},
			check: func(t *testing.T, f *fx) {
				assert.Contains(t, noteOf(f.report, network.KindPrivateVIF), "waits for a Direct Connect connection")
				assert.Equal(t, []string{vpcBlock}, f.cloud.DirectConnect().AssociationPrefixes(f.vgw.ID))
				assert.Nil(t, got.VIF)
				assert.Empty(t, f.cloud.DirectConnect().VirtualInterfaces())
			},
		},
		{
			name: "with an available connection the private VIF is made on the gateway", want: want(create, create, create), mod: withConnection("available"),
			wantWrites: map[string]int{"CreateDirectConnectGateway": 1, "CreateDirectConnectGatewayAssociation": 1, "CreatePrivateVirtualInterface": 1},
			check: func(t *testing.T, f *fx) {
				require.NotNil(t, got.VIF)
				vifs := f.cloud.DirectConnect().VirtualInterfaces()
				require.Len(t, vifs, 1)
				assert.Equal(t, got.VIF.ID, vifs[0])
				assert.Equal(t, 101, got.VIF.VLAN)
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(noop, noop, noop)},
		{
			name: "a converged VIF makes no write", want: want(noop, noop, noop), mod: withConnection("available"),
			setup: func(t *testing.T, f *fx, s network.DirectConnectSpec) {
				withConnection("available")(f, &s)
				ensureOnce(t, f, s)
			},
		},
		{
			name: "a changed VIF VLAN is refused", mod: withConnection("available"),
			setup: func(t *testing.T, f *fx, s network.DirectConnectSpec) {
				withConnection("available")(f, &s)
				s.VLAN = 202
				ensureOnce(t, f, s)
			},
			wantErr: "vlan is 202, the spec wants 101",
		},
		{
			name: "changed allowed prefixes are updated on the association", setup: ensureOnce,
			mod:  func(_ *fx, s *network.DirectConnectSpec) { s.AllowedPrefixes = []string{"10.0.0.0/15"} },
			want: want(noop, update, noop), wantWrites: map[string]int{"UpdateDirectConnectGatewayAssociation": 1},
			check: func(t *testing.T, f *fx) {
				assert.Equal(t, []string{"10.0.0.0/15"}, f.cloud.DirectConnect().AssociationPrefixes(f.vgw.ID))
			},
		},
		{
			name: "a removed gateway tag converges",
			setup: func(t *testing.T, f *fx, s network.DirectConnectSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.DirectConnect().UntagResource(f.ctx, &directconnect.UntagResourceInput{ResourceArn: aws.String("arn:aws:directconnect::123456789012:dx-gateway/" + got.GatewayID), TagKeys: []string{"Project"}})
				require.NoError(t, err)
			},
			want: want(update, noop, noop), wantWrites: map[string]int{"TagResource": 1},
		},
		{
			name: "a changed gateway ASN is refused", setup: ensureOnce,
			mod:     func(_ *fx, s *network.DirectConnectSpec) { s.AmazonSideASN = 64600 },
			wantErr: "amazonSideAsn is immutable",
		},
		{name: "dry run on a missing gateway writes nothing", dryRun: true, want: want(create, create, noop)},
		{
			name: "dry run with an available connection plans the VIF and writes nothing", dryRun: true, want: want(create, create, create), mod: withConnection("available"),
			check: func(t *testing.T, f *fx) {
				require.NotNil(t, got.VIF)
				assert.True(t, migration.IsPending(got.VIF.ID), got.VIF.ID)
				assert.Empty(t, f.cloud.DirectConnect().VirtualInterfaces())
			},
		},
		{
			name: "dry run with a pending VGW reads no association", dryRun: true, want: want(create, create, noop),
			mod: func(_ *fx, s *network.DirectConnectSpec) { s.VPNGatewayID = migration.Pending("vgw-dev") },
			check: func(t *testing.T, f *fx) {
				assert.Zero(t, f.cloud.Count("Direct Connect", "DescribeDirectConnectGatewayAssociations"))
			},
		},
	})
}

// withConnection returns a spec edit that names a connection in state,
// with the VIF's VLAN, ASN and key secret. The first call on a fixture
// adds the connection; later ones name the same.
func withConnection(state string) func(*fx, *network.DirectConnectSpec) {
	return func(f *fx, s *network.DirectConnectSpec) {
		if f.dxConn == "" {
			f.dxConn = f.cloud.DirectConnect().AddConnection("dc-virginia-1", "EqDC2", state)
		}
		s.ConnectionID, s.VLAN, s.CustomerASN, s.AuthKeySecretARN = f.dxConn, 101, 65010, bgpARN
	}
}

// dxWithVIF returns a fixture with the gateway, the association and a VIF
// on an available connection.
func dxWithVIF(t *testing.T) (*fx, network.DirectConnectSpec, network.DirectConnect) {
	f := newFx(t).withVGW()
	s := f.dxSpec()
	s.ConnectionID = f.cloud.DirectConnect().AddConnection("dc-virginia-1", "EqDC2", "available")
	s.VLAN, s.CustomerASN, s.AuthKeySecretARN = 101, 65010, bgpARN
	got, err := network.EnsureDirectConnect(f.ctx, f.env, f.dxClients(), s)
	require.NoError(t, err)
	return f, s, got
}

func TestEnsureDirectConnectPrivateVIF(t *testing.T) {
	f, s, got := dxWithVIF(t)
	require.NotNil(t, got.VIF)
	out, err := f.cloud.DirectConnect().DescribeVirtualInterfaces(f.ctx, &directconnect.DescribeVirtualInterfacesInput{VirtualInterfaceId: aws.String(got.VIF.ID)})
	require.NoError(t, err)
	v := out.VirtualInterfaces[0]
	assert.Equal(t, bgpKey, aws.ToString(v.AuthKey), "the key from the secret")
	assert.EqualValues(t, 101, v.Vlan)
	assert.Equal(t, got.GatewayID, aws.ToString(v.DirectConnectGatewayId))
	assert.Equal(t, "vif-private-dev", aws.ToString(v.VirtualInterfaceName))
	for _, c := range f.report.Changes() {
		assertNoSecrets(t, c.String())
	}

	// Converged: no write.
	f.reset(false)
	_, err = network.EnsureDirectConnect(f.ctx, f.env, f.dxClients(), s)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.Contains(t, noteOf(f.report, network.KindPrivateVIF), "BGP is down until the on-premises router peers")

	// The MTU converges.
	s.MTU = 9001
	f.reset(false)
	_, err = network.EnsureDirectConnect(f.ctx, f.env, f.dxClients(), s)
	require.NoError(t, err)
	assert.Equal(t, []string{"UpdateVirtualInterfaceAttributes"}, writeOps(f.cloud))

	// VLAN and key cannot change in place; the error never shows the key.
	for _, tc := range []struct {
		name string
		edit func(*network.DirectConnectSpec)
		want string
	}{
		{"vlan", func(s *network.DirectConnectSpec) { s.VLAN = 202 }, "vlan is 101, the spec wants 202"},
		{"key", func(*network.DirectConnectSpec) { f.secrets.values[bgpARN] = "another-key-42" }, "the BGP key differs from the secret " + bgpARN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s2 := s
			tc.edit(&s2)
			f.reset(false)
			_, err := network.EnsureDirectConnect(f.ctx, f.env, f.dxClients(), s2)
			require.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "another-key-42")
			assertNoSecrets(t, err.Error())
			assert.Empty(t, f.cloud.Writes())
			f.secrets.values[bgpARN] = bgpKey
		})
	}
}

func TestEnsureDirectConnectWaitsForADownConnection(t *testing.T) {
	f := newFx(t).withVGW()
	s := f.dxSpec()
	s.ConnectionID = f.cloud.DirectConnect().AddConnection("dc-virginia-1", "EqDC2", "ordering")
	s.VLAN, s.CustomerASN, s.AuthKeySecretARN = 101, 65010, bgpARN
	got, err := network.EnsureDirectConnect(f.ctx, f.env, f.dxClients(), s)
	require.NoError(t, err)
	assert.Nil(t, got.VIF)
	assert.Contains(t, noteOf(f.report, network.KindPrivateVIF), "which is ordering")
	assert.Zero(t, f.cloud.Count("Direct Connect", "CreatePrivateVirtualInterface"))
}

func TestEnsureResolverEndpoint(t *testing.T) {
	prepare := func(f *fx) network.ResolverEndpointSpec { return f.withSubnets().resolverSpec() }
	var got network.ResolverEndpoint
	run := func(f *fx, s network.ResolverEndpointSpec) error {
		var err error
		got, err = network.EnsureResolverEndpoint(f.ctx, f.env, f.resolverClients(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.ResolverEndpointSpec) { require.NoError(t, run(f, s)) }
	want := func(sg, ep migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{network.KindSecurityGroup: {sg}, network.KindResolverEndpoint: {ep}}
	}
	runEnsure(t, prepare, run, []ensureCase[network.ResolverEndpointSpec]{
		{
			name: "missing are created: DNS-only group and an endpoint in two zones", want: want(create, create),
			wantWrites: map[string]int{"CreateSecurityGroup": 1, "AuthorizeSecurityGroupIngress": 1, "RevokeSecurityGroupEgress": 1, "CreateResolverEndpoint": 1},
			check: func(t *testing.T, f *fx) {
				require.Len(t, got.IPs, 2)
				for i, ip := range got.IPs {
					assert.True(t, prefixContains(f.subnets.Private[i].CIDR, ip), "%s in %s", ip, f.subnets.Private[i].CIDR)
				}
				assert.ElementsMatch(t, []string{"in tcp/53 " + onPrem, "in udp/53 " + onPrem}, rulesOf(t, f, got.SecurityGroupID))
				e, err := f.cloud.Resolver().GetResolverEndpoint(f.ctx, &route53resolver.GetResolverEndpointInput{ResolverEndpointId: aws.String(got.ID)})
				require.NoError(t, err)
				assert.Equal(t, "INBOUND", string(e.ResolverEndpoint.Direction))
				assert.Equal(t, "OPERATIONAL", string(e.ResolverEndpoint.Status))
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(noop, noop)},
		{
			name: "a moved subnet converges: address added first, then removed", setup: ensureOnce,
			mod: func(f *fx, s *network.ResolverEndpointSpec) {
				s.Subnets = []network.Subnet{f.subnets.Private[1], f.subnets.Private[2]}
			},
			want: want(noop, update), wantWrites: map[string]int{"AssociateResolverEndpointIpAddress": 1, "DisassociateResolverEndpointIpAddress": 1},
		},
		{
			name: "a removed tag converges",
			setup: func(t *testing.T, f *fx, s network.ResolverEndpointSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.Resolver().UntagResource(f.ctx, &route53resolver.UntagResourceInput{ResourceArn: aws.String(got.ARN), TagKeys: []string{"ManagedBy"}})
				require.NoError(t, err)
			},
			want: want(noop, update), wantWrites: map[string]int{"TagResource": 1},
		},
		{
			name: "an endpoint in another VPC is refused", setup: ensureOnce,
			mod:     func(_ *fx, s *network.ResolverEndpointSpec) { s.VPCID = "vpc-0ffffffffffffffff" },
			wantErr: "vpc is immutable",
		},
		{name: "dry run on a missing endpoint writes nothing", dryRun: true, want: want(create, create)},
		{
			name: "dry run with a pending VPC calls nothing", dryRun: true, want: want(create, create),
			mod: func(_ *fx, s *network.ResolverEndpointSpec) {
				s.VPCID = migration.Pending("vpc-dev")
				for i := range s.Subnets {
					s.Subnets[i].ID = migration.Pending(s.Subnets[i].Name)
				}
			},
			check: func(t *testing.T, f *fx) { assert.Empty(t, f.cloud.Calls()) },
		},
	})
}

func prefixContains(cidr, ip string) bool {
	return netip.MustParsePrefix(cidr).Contains(netip.MustParseAddr(ip))
}
