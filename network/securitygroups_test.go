package network_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// rulesOf renders a group's rules as "in tcp/5432 sg-..." lines.
func rulesOf(t *testing.T, f *fx, id string) []string {
	t.Helper()
	out, err := f.cloud.EC2().DescribeSecurityGroups(f.ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	require.NoError(t, err)
	var rules []string
	add := func(dir string, perms []types.IpPermission) {
		for _, p := range perms {
			port := aws.ToString(p.IpProtocol)
			if p.FromPort != nil {
				port += "/" + itoa(aws.ToInt32(p.FromPort))
			}
			for _, r := range p.IpRanges {
				rules = append(rules, dir+" "+port+" "+aws.ToString(r.CidrIp))
			}
			for _, g := range p.UserIdGroupPairs {
				rules = append(rules, dir+" "+port+" "+aws.ToString(g.GroupId))
			}
		}
	}
	add("in", out.SecurityGroups[0].IpPermissions)
	add("out", out.SecurityGroups[0].IpPermissionsEgress)
	return rules
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

func TestEnsureSecurityGroups(t *testing.T) {
	prepare := func(f *fx) network.SecurityGroupsSpec { return f.withVPC().sgSpec() }
	run := func(f *fx, s network.SecurityGroupsSpec) error {
		var err error
		f.sgs, err = network.EnsureSecurityGroups(f.ctx, f.env, f.cloud.EC2(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.SecurityGroupsSpec) { require.NoError(t, run(f, s)) }
	want := func(a ...migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{network.KindSecurityGroup: a}
	}
	runEnsure(t, prepare, run, []ensureCase[network.SecurityGroupsSpec]{
		{
			name: "missing are created with exactly the documented rules", want: want(n(5, create)...),
			wantWrites: map[string]int{"CreateSecurityGroup": 5, "AuthorizeSecurityGroupIngress": 4, "AuthorizeSecurityGroupEgress": 4, "RevokeSecurityGroupEgress": 5},
			check: func(t *testing.T, f *fx) {
				g := f.sgs
				assert.ElementsMatch(t, []string{"in tcp/443 " + onPrem, "out tcp/8080 " + g.App}, rulesOf(t, f, g.Web))
				assert.ElementsMatch(t, []string{"in tcp/8080 " + g.Web, "out tcp/5432 " + g.DB, "out tcp/443 0.0.0.0/0"}, rulesOf(t, f, g.App))
				assert.ElementsMatch(t, []string{"in tcp/5432 " + g.App, "in tcp/5432 " + g.DMS}, rulesOf(t, f, g.DB))
				assert.ElementsMatch(t, []string{"out tcp/5432 " + onPrem, "out tcp/5432 " + g.DB, "out tcp/443 0.0.0.0/0"}, rulesOf(t, f, g.DMS))
				assert.ElementsMatch(t, []string{"in tcp/1500 " + onPrem, "out tcp/443 0.0.0.0/0"}, rulesOf(t, f, g.Replication))
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(n(5, noop)...)},
		{
			name: "a hand-opened port is revoked and a removed rule restored",
			setup: func(t *testing.T, f *fx, s network.SecurityGroupsSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().AuthorizeSecurityGroupIngress(f.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(f.sgs.App), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
				require.NoError(t, err)
				_, err = f.cloud.EC2().RevokeSecurityGroupIngress(f.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(f.sgs.DB), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(f.sgs.DMS)}}}}})
				require.NoError(t, err)
			},
			want: want(update, update, noop, noop, noop), wantWrites: map[string]int{"RevokeSecurityGroupIngress": 1, "AuthorizeSecurityGroupIngress": 1},
		},
		{
			name: "an explicitly declared public listener opens the web port to the internet", setup: ensureOnce,
			mod:  func(_ *fx, s *network.SecurityGroupsSpec) { s.PublicWebCIDRs = []string{"0.0.0.0/0"} },
			want: want(update, noop, noop, noop, noop), wantWrites: map[string]int{"AuthorizeSecurityGroupIngress": 1},
			check: func(t *testing.T, f *fx) {
				assert.Contains(t, rulesOf(t, f, f.sgs.Web), "in tcp/443 0.0.0.0/0")
				assert.NotContains(t, rulesOf(t, f, f.sgs.App), "in tcp/8080 0.0.0.0/0")
			},
		},
		{
			name: "a file share opens NFS out from the application servers only", setup: ensureOnce,
			mod:  func(_ *fx, s *network.SecurityGroupsSpec) { s.FileShareCIDR = "10.0.0.0/16" },
			want: want(update, noop, noop, noop, noop), wantWrites: map[string]int{"AuthorizeSecurityGroupEgress": 1},
			check: func(t *testing.T, f *fx) {
				assert.Contains(t, rulesOf(t, f, f.sgs.App), "out tcp/2049 10.0.0.0/16")
				assert.NotContains(t, rulesOf(t, f, f.sgs.Web), "out tcp/2049 10.0.0.0/16")
			},
		},
		{
			name: "on-premises DNS servers open DNS out from the DMS group only", setup: ensureOnce,
			mod:  func(_ *fx, s *network.SecurityGroupsSpec) { s.DNSServers = []string{"192.168.0.53", "192.168.1.53"} },
			want: want(update, noop, noop, noop, noop), wantWrites: map[string]int{"AuthorizeSecurityGroupEgress": 1},
			check: func(t *testing.T, f *fx) {
				dms := rulesOf(t, f, f.sgs.DMS)
				for _, r := range []string{"out udp/53 192.168.0.53/32", "out tcp/53 192.168.0.53/32", "out udp/53 192.168.1.53/32", "out tcp/53 192.168.1.53/32"} {
					assert.Contains(t, dms, r)
				}
				assert.NotContains(t, rulesOf(t, f, f.sgs.App), "out udp/53 192.168.0.53/32")
			},
		},
		{
			name: "groups in another VPC are refused", setup: ensureOnce,
			mod:     func(_ *fx, s *network.SecurityGroupsSpec) { s.VPCID = "vpc-0ffffffffffffffff" },
			wantErr: "vpc is immutable",
		},
		{name: "dry run on missing groups writes nothing", dryRun: true, want: want(n(5, create)...)},
		{
			name: "dry run reports drift and writes nothing", dryRun: true,
			setup: func(t *testing.T, f *fx, s network.SecurityGroupsSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().AuthorizeSecurityGroupIngress(f.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(f.sgs.DB), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
				require.NoError(t, err)
			},
			want: want(update, noop, noop, noop, noop),
			check: func(t *testing.T, f *fx) {
				assert.Contains(t, rulesOf(t, f, f.sgs.DB), "in tcp/5432 0.0.0.0/0", "still there: a dry run")
				assert.Equal(t, "in tcp/5432 0.0.0.0/0", f.report.Changes()[0].Diff[0].From)
			},
		},
		{
			name: "dry run with a pending VPC calls nothing", dryRun: true, want: want(n(5, create)...),
			mod:   func(_ *fx, s *network.SecurityGroupsSpec) { s.VPCID = migration.Pending("vpc-dev") },
			check: func(t *testing.T, f *fx) { assert.Empty(t, f.cloud.Calls()) },
		},
	})
}

func TestEnsureSecurityGroupsRefusesAnUnownedGroupOfTheSameName(t *testing.T) {
	f := newFx(t).withVPC()
	_, err := f.cloud.EC2().CreateSecurityGroup(f.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(f.vpc.ID), GroupName: aws.String("cutover-sg-web-dev"), Description: aws.String("someone else's")})
	require.NoError(t, err)
	_, err = network.EnsureSecurityGroups(f.ctx, f.env, f.cloud.EC2(), f.sgSpec())
	require.ErrorContains(t, err, "without this env's tags; refusing to adopt it")
}

func TestEnsureFlowLogs(t *testing.T) {
	prepare := func(f *fx) network.FlowLogsSpec { return f.withKey().withVPC().flowSpec() }
	var got network.FlowLogs
	run := func(f *fx, s network.FlowLogsSpec) error {
		var err error
		got, err = network.EnsureFlowLogs(f.ctx, f.env, f.flowClients(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.FlowLogsSpec) { require.NoError(t, run(f, s)) }
	want := func(group, role, flow migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{migration.KindLogGroup: {group}, migration.KindRole: {role}, network.KindFlowLog: {flow}}
	}
	runEnsure(t, prepare, run, []ensureCase[network.FlowLogsSpec]{
		{
			name: "missing are created: encrypted group, scoped role, flow log", want: want(create, create, create),
			wantWrites: map[string]int{"CreateLogGroup": 1, "PutRetentionPolicy": 1, "CreateRole": 1, "PutRolePolicy": 1, "CreateFlowLogs": 1},
			check: func(t *testing.T, f *fx) {
				keyARN, retention, ok := f.cloud.Logs().LogGroupKey("/cutover/dev/vpc-flow-logs")
				require.True(t, ok)
				assert.Equal(t, f.key.ARN, keyARN)
				assert.EqualValues(t, 90, retention)
				role, err := f.cloud.IAM().GetRole(f.ctx, &iam.GetRoleInput{RoleName: aws.String("vpc-flow-logs-dev")})
				require.NoError(t, err)
				trust, err := migration.ParsePolicy(aws.ToString(role.Role.AssumeRolePolicyDocument))
				require.NoError(t, err)
				assert.Equal(t, migration.Strings{"123456789012"}, trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"])
				inline, err := migration.ParsePolicy(f.cloud.IAM().RoleInlinePolicies("vpc-flow-logs-dev")["deliver-flow-logs"])
				require.NoError(t, err)
				require.NoError(t, inline.CheckLeastPrivilege())
				assert.Equal(t, migration.Strings{got.LogGroupARN, got.LogGroupARN + ":log-stream:*"}, inline.Statement[0].Resource)
				out, err := f.cloud.EC2().DescribeFlowLogs(f.ctx, &ec2.DescribeFlowLogsInput{FlowLogIds: []string{got.ID}})
				require.NoError(t, err)
				fl := out.FlowLogs[0]
				assert.Equal(t, f.vpc.ID, aws.ToString(fl.ResourceId))
				assert.Equal(t, types.TrafficTypeAll, fl.TrafficType)
				assert.Equal(t, "SUCCESS", aws.ToString(fl.DeliverLogsStatus))
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(noop, noop, noop)},
		{
			name: "drifted retention and a removed tag converge",
			setup: func(t *testing.T, f *fx, s network.FlowLogsSpec) {
				ensureOnce(t, f, s)
				s.RetentionDays = 7
				require.NoError(t, run(f, s))
				_, err := f.cloud.EC2().DeleteTags(f.ctx, &ec2.DeleteTagsInput{Resources: []string{got.ID}, Tags: []types.Tag{{Key: aws.String("Project")}}})
				require.NoError(t, err)
			},
			want: want(update, noop, update), wantWrites: map[string]int{"PutRetentionPolicy": 1, "CreateTags": 1},
		},
		{
			name: "a flow log deleted by hand is made again despite its remembered client token",
			setup: func(t *testing.T, f *fx, s network.FlowLogsSpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().DeleteFlowLogs(f.ctx, &ec2.DeleteFlowLogsInput{FlowLogIds: []string{got.ID}})
				require.NoError(t, err)
			},
			want: want(noop, noop, create), wantWrites: map[string]int{"CreateFlowLogs": 2},
			check: func(t *testing.T, f *fx) { assert.Len(t, f.cloud.EC2().FlowLogs(), 1) },
		},
		{
			name: "a changed traffic type is refused", setup: ensureOnce,
			mod:     func(_ *fx, s *network.FlowLogsSpec) { s.TrafficType = "REJECT" },
			wantErr: "flow logs are immutable",
		},
		{name: "dry run on missing flow logs writes nothing", dryRun: true, want: want(create, create, create)},
		{
			name: "dry run with a pending VPC and key calls no EC2 API", dryRun: true, want: want(create, create, create),
			mod: func(_ *fx, s *network.FlowLogsSpec) {
				s.VPCID, s.KMSKeyARN = migration.Pending("vpc-dev"), migration.Pending("alias/migration-dev")
			},
			check: func(t *testing.T, f *fx) { assert.Zero(t, f.cloud.Count("EC2", "")) },
		},
	})
}

func TestEnsureVPNGateway(t *testing.T) {
	prepare := func(f *fx) network.VPNGatewaySpec { return f.withRoutes().vgwSpec() }
	run := func(f *fx, s network.VPNGatewaySpec) error {
		var err error
		f.vgw, err = network.EnsureVPNGateway(f.ctx, f.env, f.cloud.EC2(), s)
		return err
	}
	ensureOnce := func(t *testing.T, f *fx, s network.VPNGatewaySpec) { require.NoError(t, run(f, s)) }
	want := func(a migration.Action) map[string][]migration.Action {
		return map[string][]migration.Action{network.KindVPNGateway: {a}}
	}
	runEnsure(t, prepare, run, []ensureCase[network.VPNGatewaySpec]{
		{
			name: "missing is created, attached and propagating to every private table", want: want(create),
			wantWrites: map[string]int{"CreateVpnGateway": 1, "AttachVpnGateway": 1, "EnableVgwRoutePropagation": 3},
			check: func(t *testing.T, f *fx) {
				out, err := f.cloud.EC2().DescribeRouteTables(f.ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: f.rts.PrivateIDs})
				require.NoError(t, err)
				for _, rt := range out.RouteTables {
					require.Len(t, rt.PropagatingVgws, 1)
					assert.Equal(t, f.vgw.ID, aws.ToString(rt.PropagatingVgws[0].GatewayId))
				}
				g, err := f.cloud.EC2().DescribeVpnGateways(f.ctx, &ec2.DescribeVpnGatewaysInput{VpnGatewayIds: []string{f.vgw.ID}})
				require.NoError(t, err)
				assert.Equal(t, types.AttachmentStatusAttached, g.VpnGateways[0].VpcAttachments[0].State)
				assert.EqualValues(t, 64512, aws.ToInt64(g.VpnGateways[0].AmazonSideAsn))
			},
		},
		{name: "converged makes no write", setup: ensureOnce, want: want(noop)},
		{
			name: "turned-off propagation and a removed tag converge",
			setup: func(t *testing.T, f *fx, s network.VPNGatewaySpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().DisableVgwRoutePropagation(f.ctx, &ec2.DisableVgwRoutePropagationInput{GatewayId: aws.String(f.vgw.ID), RouteTableId: aws.String(f.rts.PrivateIDs[1])})
				require.NoError(t, err)
				_, err = f.cloud.EC2().DeleteTags(f.ctx, &ec2.DeleteTagsInput{Resources: []string{f.vgw.ID}, Tags: []types.Tag{{Key: aws.String("Project")}}})
				require.NoError(t, err)
			},
			want: want(update), wantWrites: map[string]int{"EnableVgwRoutePropagation": 1, "CreateTags": 1},
		},
		{
			name: "a gateway detached by hand is attached again",
			setup: func(t *testing.T, f *fx, s network.VPNGatewaySpec) {
				ensureOnce(t, f, s)
				_, err := f.cloud.EC2().DetachVpnGateway(f.ctx, &ec2.DetachVpnGatewayInput{VpnGatewayId: aws.String(f.vgw.ID), VpcId: aws.String(f.vpc.ID)})
				require.NoError(t, err)
				f.cloud.Clock().Advance(2 * time.Minute)
			},
			want: want(update), wantWrites: map[string]int{"AttachVpnGateway": 1, "EnableVgwRoutePropagation": 3},
		},
		{
			name: "a changed ASN is refused", setup: ensureOnce,
			mod:     func(_ *fx, s *network.VPNGatewaySpec) { s.AmazonSideASN = 64600 },
			wantErr: "amazonSideAsn is immutable",
		},
		{name: "dry run on a missing gateway writes nothing", dryRun: true, want: want(create)},
		{
			name: "dry run with a pending VPC calls nothing", dryRun: true, want: want(create),
			mod:   func(_ *fx, s *network.VPNGatewaySpec) { s.VPCID = migration.Pending("vpc-dev") },
			check: func(t *testing.T, f *fx) { assert.Empty(t, f.cloud.Calls()) },
		},
	})
}
