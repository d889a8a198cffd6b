package network_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

func describeVPN(t *testing.T, f *fx, id string) types.VpnConnection {
	t.Helper()
	out, err := f.cloud.EC2().DescribeVpnConnections(f.ctx, &ec2.DescribeVpnConnectionsInput{VpnConnectionIds: []string{id}})
	require.NoError(t, err)
	return out.VpnConnections[0]
}

func TestEnsureVPNConnection(t *testing.T) {
	prepare := func(f *fx) network.VPNConnectionSpec { return f.withKey().withVGW().vpnSpec() }
	var got network.VPNConnection
	run := func(f *fx, s network.VPNConnectionSpec) error {
		var err error
		got, err = network.EnsureVPNConnection(f.ctx, f.env, f.vpnClients(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.VPNConnectionSpec) { require.NoError(t, run(f, s)) }
	want := func(group, cgw, vpn migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{migration.KindLogGroup: {group}, network.KindCustomerGateway: {cgw}, network.KindVPNConnection: {vpn}}
	}
	runEnsure(t, prepare, run, []ensureCase[network.VPNConnectionSpec]{
		{
			name: "missing are created: tunnel logs, customer gateway, BGP connection with strong tunnels", want: want(create, create, create),
			wantWrites: map[string]int{"CreateLogGroup": 1, "PutRetentionPolicy": 1, "CreateCustomerGateway": 1, "CreateVpnConnection": 1},
			check: func(t *testing.T, f *fx) {
				v := describeVPN(t, f, got.ID)
				assert.Equal(t, types.VpnStateAvailable, v.State)
				assert.False(t, aws.ToBool(v.Options.StaticRoutesOnly), "dynamic (BGP) routing")
				keys := map[string]string{}
				for _, to := range v.Options.TunnelOptions {
					keys[aws.ToString(to.TunnelInsideCidr)] = aws.ToString(to.PreSharedKey)
					require.Len(t, to.IkeVersions, 1)
					assert.Equal(t, "ikev2", aws.ToString(to.IkeVersions[0].Value))
					for _, e := range to.Phase1EncryptionAlgorithms {
						assert.Contains(t, aws.ToString(e.Value), "AES256")
					}
					for _, d := range to.Phase1DHGroupNumbers {
						assert.GreaterOrEqual(t, aws.ToInt32(d.Value), int32(14))
					}
					cw := to.LogOptions.CloudWatchLogOptions
					assert.True(t, aws.ToBool(cw.LogEnabled))
					assert.Equal(t, got.LogGroupARN, aws.ToString(cw.LogGroupArn))
				}
				assert.Equal(t, map[string]string{"169.254.10.0/30": psk1, "169.254.11.0/30": psk2}, keys, "keys from the secrets")
				require.Len(t, got.Tunnels, 2)
				for _, tun := range got.Tunnels {
					assert.True(t, strings.HasSuffix(tun.AWSInsideIP, ".1") && strings.HasSuffix(tun.CustomerInsideIP, ".2"), tun)
				}
				cg, err := f.cloud.EC2().DescribeCustomerGateways(f.ctx, &ec2.DescribeCustomerGatewaysInput{CustomerGatewayIds: []string{got.CustomerGatewayID}})
				require.NoError(t, err)
				assert.Equal(t, "65010", aws.ToString(cg.CustomerGateways[0].BgpAsn))
				assert.Equal(t, "cgw-dev", aws.ToString(cg.CustomerGateways[0].DeviceName))
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(noop, noop, noop)},
		{
			name: "a private 4-byte customer ASN is sent as BgpAsnExtended", want: want(create, create, create),
			mod:        func(_ *fx, s *network.VPNConnectionSpec) { s.CustomerASN = 4200000001 },
			wantWrites: map[string]int{"CreateLogGroup": 1, "PutRetentionPolicy": 1, "CreateCustomerGateway": 1, "CreateVpnConnection": 1},
			check: func(t *testing.T, f *fx) {
				cg, err := f.cloud.EC2().DescribeCustomerGateways(f.ctx, &ec2.DescribeCustomerGatewaysInput{CustomerGatewayIds: []string{got.CustomerGatewayID}})
				require.NoError(t, err)
				assert.Equal(t, "4200000001", aws.ToString(cg.CustomerGateways[0].BgpAsnExtended))
			},
		},
		{
			name: "weakened tunnel options are modified back",
			setup: func(t *testing.T, f *fx, s network.VPNConnectionSpec) {
				ensureOnce(t, f, s)
				v := describeVPN(t, f, got.ID)
				_, err := f.cloud.EC2().ModifyVpnTunnelOptions(f.ctx, &ec2.ModifyVpnTunnelOptionsInput{
					VpnConnectionId: aws.String(got.ID), VpnTunnelOutsideIpAddress: v.Options.TunnelOptions[0].OutsideIpAddress,
					TunnelOptions: &types.ModifyVpnTunnelOptionsSpecification{
						IKEVersions:               []types.IKEVersionsRequestListValue{{Value: aws.String("ikev1")}, {Value: aws.String("ikev2")}},
						Phase1IntegrityAlgorithms: []types.Phase1IntegrityAlgorithmsRequestListValue{{Value: aws.String("SHA1")}},
						PreSharedKey:              aws.String("changed_by_hand_1"),
					},
				})
				require.NoError(t, err)
			},
			want: want(noop, noop, update), wantWrites: map[string]int{"ModifyVpnTunnelOptions": 1},
			check: func(t *testing.T, f *fx) {
				var fields []string
				for _, c := range f.report.Changes() {
					for _, d := range c.Diff {
						fields = append(fields, d.Field)
					}
				}
				assert.ElementsMatch(t, []string{"tunnel1.ikeVersions", "tunnel1.phase1Integrity", "tunnel1.preSharedKey"}, fields)
			},
		},
		{
			name: "a rotated key secret is applied to its tunnel only",
			setup: func(t *testing.T, f *fx, s network.VPNConnectionSpec) {
				ensureOnce(t, f, s)
				f.secrets.values[psk2ARN] = "rotated_key_0815"
			},
			want: want(noop, noop, update), wantWrites: map[string]int{"ModifyVpnTunnelOptions": 1},
			check: func(t *testing.T, f *fx) {
				for _, c := range f.report.Changes() {
					assert.NotContains(t, c.String(), "rotated_key_0815")
				}
				for _, to := range describeVPN(t, f, got.ID).Options.TunnelOptions {
					if aws.ToString(to.TunnelInsideCidr) == "169.254.11.0/30" {
						assert.Equal(t, "rotated_key_0815", aws.ToString(to.PreSharedKey))
					}
				}
			},
		},
		{
			name: "a changed customer gateway IP is refused", setup: ensureOnce,
			mod:     func(_ *fx, s *network.VPNConnectionSpec) { s.CustomerGatewayIP = "203.0.113.99" },
			wantErr: "customer gateway is immutable",
		},
		{
			name:    "a gateway whose ASN is not the spec's is refused before any write",
			mod:     func(_ *fx, s *network.VPNConnectionSpec) { s.AmazonSideASN = 64600 },
			wantErr: "vpn.amazonSideAsn: vgw-",
		},
		{
			name:    "a missing key secret fails before any write",
			setup:   func(t *testing.T, f *fx, s network.VPNConnectionSpec) { delete(f.secrets.values, psk1ARN) },
			wantErr: "vpn.tunnels[0].preSharedKeySecretArn",
		},
		{name: "dry run on a missing VPN writes nothing", dryRun: true, want: want(create, create, create)},
		{
			name: "dry run with a pending gateway reads nothing of it", dryRun: true, want: want(create, create, create),
			mod: func(_ *fx, s *network.VPNConnectionSpec) { s.VPNGatewayID = migration.Pending("vgw-dev") },
			check: func(t *testing.T, f *fx) {
				assert.Zero(t, f.cloud.Count("EC2", "DescribeVpnGateways"))
				assert.Zero(t, f.cloud.Count("EC2", "DescribeVpnConnections"))
			},
		},
	})
}

func TestEnsureVPNConnectionRefusesAnIdenticalForeignCustomerGateway(t *testing.T) {
	f := newFx(t).withKey().withVGW()
	spec := f.vpnSpec()
	// Someone else's gateway with the same type, IP, ASN and device name:
	// EC2 returns it instead of creating one.
	foreign, err := f.cloud.EC2().CreateCustomerGateway(f.ctx, &ec2.CreateCustomerGatewayInput{Type: types.GatewayTypeIpsec1, IpAddress: aws.String(spec.CustomerGatewayIP), BgpAsn: aws.Int32(int32(spec.CustomerASN)), DeviceName: aws.String("cgw-dev")})
	require.NoError(t, err)
	_, err = network.EnsureVPNConnection(f.ctx, f.env, f.vpnClients(), spec)
	require.ErrorContains(t, err, "EC2 returned the existing "+aws.ToString(foreign.CustomerGateway.CustomerGatewayId))
	assert.Empty(t, f.cloud.EC2().VpnConnections(), "no connection to a gateway this env does not own")
}
