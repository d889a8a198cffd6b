package network_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/network"
)

func TestPlanBGP(t *testing.T) {
	tests := []struct {
		name     string
		spec     network.BGPPlanSpec
		vpn, dx  []string
		learnDX  []string
		localPri network.Path
		wantErr  string
	}{
		{
			name: "VPN primary: the VPN carries the halves, DX the aggregate",
			spec: network.BGPPlanSpec{OnPremPrefixes: []string{onPrem}, VPCCIDR: vpcBlock, Primary: network.PathVPN},
			vpn:  []string{"192.168.0.0/17", "192.168.128.0/17"}, dx: []string{onPrem}, learnDX: []string{vpcBlock}, localPri: network.PathVPN,
		},
		{
			name: "DX primary: the same prefixes on both paths",
			spec: network.BGPPlanSpec{OnPremPrefixes: []string{onPrem, "172.16.0.0/12"}, VPCCIDR: vpcBlock, Primary: network.PathDirectConnect},
			vpn:  []string{"172.16.0.0/12", onPrem}, dx: []string{"172.16.0.0/12", onPrem}, learnDX: []string{vpcBlock}, localPri: network.PathDirectConnect,
		},
		{
			name: "VPN primary with a nested more specific prefix stays more specific on the VPN",
			spec: network.BGPPlanSpec{OnPremPrefixes: []string{"192.168.1.0/24", onPrem}, VPCCIDR: vpcBlock, Primary: network.PathVPN, DXAllowedPrefixes: []string{"10.0.0.0/15"}},
			vpn:  []string{"192.168.0.0/17", "192.168.128.0/17", "192.168.1.0/25", "192.168.1.128/25"}, dx: []string{onPrem, "192.168.1.0/24"},
			learnDX: []string{"10.0.0.0/15"}, localPri: network.PathVPN,
		},
		{
			name: "DX primary with the VPC CIDR among wider allowed prefixes",
			spec: network.BGPPlanSpec{OnPremPrefixes: []string{onPrem}, VPCCIDR: vpcBlock, Primary: network.PathDirectConnect, DXAllowedPrefixes: []string{"10.0.0.0/8", vpcBlock}},
			vpn:  []string{onPrem}, dx: []string{onPrem}, learnDX: []string{"10.0.0.0/8", vpcBlock}, localPri: network.PathDirectConnect,
		},
		{
			name:    "DX primary with only a wider allowed prefix would lose to the VPN's VPC CIDR",
			spec:    network.BGPPlanSpec{OnPremPrefixes: []string{onPrem}, VPCCIDR: vpcBlock, Primary: network.PathDirectConnect, DXAllowedPrefixes: []string{"10.0.0.0/15"}},
			wantErr: "bgp.dxAllowedPrefixes: 10.0.0.0/15 are wider than the VPC's 10.0.0.0/16",
		},
		{
			name:    "VPN primary with an allowed prefix more specific than the VPC would lose to Direct Connect",
			spec:    network.BGPPlanSpec{OnPremPrefixes: []string{onPrem}, VPCCIDR: vpcBlock, Primary: network.PathVPN, DXAllowedPrefixes: []string{vpcBlock, "10.0.0.0/17"}},
			wantErr: "bgp.dxAllowedPrefixes[1]: 10.0.0.0/17 is more specific than the VPC's 10.0.0.0/16",
		},
		{
			name:    "allowed prefixes that miss the VPC",
			spec:    network.BGPPlanSpec{OnPremPrefixes: []string{onPrem}, VPCCIDR: vpcBlock, Primary: network.PathVPN, DXAllowedPrefixes: []string{"10.1.0.0/16"}},
			wantErr: "bgp.dxAllowedPrefixes: none covers the VPC's 10.0.0.0/16",
		},
		{
			name:    "an allowed prefix that is not a CIDR",
			spec:    network.BGPPlanSpec{OnPremPrefixes: []string{onPrem}, VPCCIDR: vpcBlock, Primary: network.PathVPN, DXAllowedPrefixes: []string{"ten"}},
			wantErr: "bgp.dxAllowedPrefixes[0]: \"ten\" is not a CIDR block",
		},
		{
			name:    "an on-premises prefix given twice",
			spec:    network.BGPPlanSpec{OnPremPrefixes: []string{onPrem, "172.16.0.0/12", onPrem}, VPCCIDR: vpcBlock, Primary: network.PathVPN},
			wantErr: "bgp.onPremPrefixes[2]: 192.168.0.0/16 appears twice",
		},
		{name: "a /32 cannot be split for the VPN", spec: network.BGPPlanSpec{OnPremPrefixes: []string{"192.168.1.1/32"}, VPCCIDR: vpcBlock, Primary: network.PathVPN}, wantErr: "bgp.onPremPrefixes[0]: 192.168.1.1/32 cannot be split"},
		{name: "an on-premises prefix overlapping the VPC", spec: network.BGPPlanSpec{OnPremPrefixes: []string{"10.0.0.0/8"}, VPCCIDR: vpcBlock, Primary: network.PathVPN}, wantErr: "bgp.onPremPrefixes[0]: 10.0.0.0/8 overlaps the VPC's 10.0.0.0/16"},
		{name: "no prefixes", spec: network.BGPPlanSpec{VPCCIDR: vpcBlock, Primary: network.PathVPN}, wantErr: "bgp.onPremPrefixes: at least one prefix required"},
		{name: "unknown primary", spec: network.BGPPlanSpec{OnPremPrefixes: []string{onPrem}, VPCCIDR: vpcBlock, Primary: "satellite"}, wantErr: "bgp.primary"},
		{name: "over the VPN route limit", spec: network.BGPPlanSpec{OnPremPrefixes: manyPrefixes(51), VPCCIDR: vpcBlock, Primary: network.PathVPN}, wantErr: "advertises 102 routes over the VPN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := network.PlanBGP(tt.spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.vpn, plan.AdvertiseOverVPN)
			assert.Equal(t, tt.dx, plan.AdvertiseOverDX)
			assert.Equal(t, []string{vpcBlock}, plan.LearnOverVPN)
			assert.Equal(t, tt.learnDX, plan.LearnOverDX)
			assert.Equal(t, tt.localPri, plan.Primary)
			assert.Greater(t, plan.LocalPreference[plan.Primary], plan.LocalPreference[plan.Backup])
			for _, p := range append(plan.AdvertiseOverVPN, plan.AdvertiseOverDX...) {
				assert.Contains(t, plan.Text, p)
			}
			// The text tells the engineer which path to prefer and why.
			primary, backup := "Site-to-Site VPN", "Direct Connect"
			if tt.localPri == network.PathDirectConnect {
				primary, backup = backup, primary
			}
			assert.Contains(t, plan.Text, "BGP plan: primary path "+primary+", backup "+backup)
			assert.Contains(t, plan.Text, "set local-preference 200 on routes learned over "+primary)
			assert.Contains(t, plan.Text, "set local-preference 100 on routes learned over "+backup)
			assert.Contains(t, plan.Text, "it prefers Direct Connect over VPN")
		})
	}
}

// manyPrefixes returns n distinct /24s in 172.16.0.0/12.
func manyPrefixes(n int) []string {
	var out []string
	for i := range n {
		out = append(out, "172.16."+itoa(int32(i))+".0/24")
	}
	return out
}
