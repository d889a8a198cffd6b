package tracking_test

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

var dashSpec = tracking.DashboardSpec{
	DMSInstanceID: "dms-instance-dev",
	DMSTasks: []tracking.DMSTask{
		{Label: "forward", ARN: "arn:aws:dms:us-east-1:123456789012:task:FWDTASKRESOURCEID0000000001"},
		{Label: "reverse", ARN: "arn:aws:dms:us-east-1:123456789012:task:REVTASKRESOURCEID0000000002"},
	},
	VPNConnectionID: "vpn-0123456789abcdef0",
	VPNTunnelIPs:    []string{"52.0.0.1", "52.0.0.2"},
	DXConnectionID:  "dxcon-fgabc123",
	AlarmARNs:       []string{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-green-5xx-rate-dev"},
	RunbookSteps:    []string{"network", "dms", "replicate", "validate", "cutover"},
}

// awsMetrics is what the AWS services publish: metric name → the
// dimension sets (sorted names) it is published with. From the services'
// documentation (AWS-FACTS §1, §3, §4).
var awsMetrics = map[string]map[string][][]string{
	"AWS/DMS": {
		"CDCLatencySource":        {{"ReplicationInstanceIdentifier", "ReplicationTaskIdentifier"}},
		"CDCLatencyTarget":        {{"ReplicationInstanceIdentifier", "ReplicationTaskIdentifier"}},
		"CDCThroughputRowsSource": {{"ReplicationInstanceIdentifier", "ReplicationTaskIdentifier"}},
		"CDCThroughputRowsTarget": {{"ReplicationInstanceIdentifier", "ReplicationTaskIdentifier"}},
		"CPUUtilization":          {{"ReplicationInstanceIdentifier"}},
		"FreeableMemory":          {{"ReplicationInstanceIdentifier"}},
	},
	// Per connection or per tunnel, never both dimensions together
	// (AWS-FACTS §3; Netflix-Skunkworks/iep-apps#318 found the combined
	// set empty).
	"AWS/VPN": {
		"TunnelState":   {{"VpnId"}, {"TunnelIpAddress"}},
		"TunnelDataIn":  {{"VpnId"}, {"TunnelIpAddress"}},
		"TunnelDataOut": {{"VpnId"}, {"TunnelIpAddress"}},
	},
	"AWS/DX": {
		"ConnectionState": {{"ConnectionId"}},
	},
}

func TestDashboardBody(t *testing.T) {
	ctx := context.Background()
	env, cloud, _, _ := newEnv(t)
	body := tracking.BuildDashboard(env, dashSpec)
	require.NoError(t, body.Validate())
	text, err := body.JSON()
	require.NoError(t, err)
	require.True(t, json.Valid([]byte(text)))

	// CloudWatch (the fake checks the body rules) accepts it.
	_, err = cloud.CloudWatch().PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("check"), DashboardBody: aws.String(text)})
	require.NoError(t, err)

	// What PublishProgress puts, as CloudWatch lists it.
	require.NoError(t, tracking.PublishProgress(ctx, env, cloud.CloudWatch(), tracking.Status{Phase: tracking.PhaseState{Phase: migration.PhaseReplicating}}))
	custom := map[string][]string{}
	p := cloudwatch.NewListMetricsPaginator(cloud.CloudWatch(), &cloudwatch.ListMetricsInput{Namespace: aws.String(tracking.MetricsNamespace)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, m := range page.Metrics {
			var dims []string
			for _, d := range m.Dimensions {
				dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
			}
			custom[aws.ToString(m.MetricName)] = dims
		}
	}
	require.NotEmpty(t, custom)
	// The rollback policy's server-replication-stalled rule watches
	// Cutover/StalledServers with dimension env (rollback.DefaultPolicy).
	assert.Equal(t, []string{"env=dev"}, custom[tracking.MetricStalledServers])

	seen := map[string]bool{}
	for _, m := range body.Metrics() {
		var names []string
		for _, d := range m.Dimensions {
			names = append(names, d.Name)
		}
		sort.Strings(names)
		seen[m.Namespace+"/"+m.Name] = true
		if m.Namespace == tracking.MetricsNamespace {
			dims, ok := custom[m.Name]
			require.True(t, ok, "the dashboard graphs %s, which PublishProgress does not publish", m.Name)
			assert.Equal(t, []string{"env=dev"}, dims, m.Name)
			require.Len(t, m.Dimensions, 1)
			assert.Equal(t, "env=dev", m.Dimensions[0].Name+"="+m.Dimensions[0].Value)
			continue
		}
		known, ok := awsMetrics[m.Namespace][m.Name]
		require.True(t, ok, "%s %s is not a metric AWS publishes", m.Namespace, m.Name)
		assert.True(t, slices.ContainsFunc(known, func(k []string) bool { return slices.Equal(k, names) }), "%s %s with dimensions %v", m.Namespace, m.Name, names)
	}
	for _, want := range []string{"AWS/DMS/CDCLatencySource", "AWS/DMS/CDCLatencyTarget", "AWS/DMS/CDCThroughputRowsSource", "AWS/DMS/CPUUtilization", "AWS/DMS/FreeableMemory",
		"AWS/VPN/TunnelState", "AWS/VPN/TunnelDataIn", "AWS/VPN/TunnelDataOut", "AWS/DX/ConnectionState",
		"Cutover/Phase", "Cutover/ServersReplicated", "Cutover/ServersReady", "Cutover/ServersCutOver", "Cutover/TrafficWeightGreen", "Cutover/Progress"} {
		assert.True(t, seen[want], "the dashboard shows %s", want)
	}

	// The DMS task dimension is the ARN's resource ID, not the label.
	assert.Contains(t, text, `"ReplicationTaskIdentifier","FWDTASKRESOURCEID0000000001"`)
	assert.NotContains(t, text, "arn:aws:dms")
	// Tunnel state per outside IP.
	assert.Contains(t, text, `"TunnelIpAddress","52.0.0.2"`)
	// The text widget lists the steps and carries the ownership marker;
	// the alarm widget the alarms.
	var raw struct {
		Widgets []struct {
			Type       string
			X, Width   int
			Properties map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(text), &raw))
	assert.Equal(t, "text", raw.Widgets[0].Type)
	md := raw.Widgets[0].Properties["markdown"].(string)
	assert.Contains(t, md, "1. network\n2. dms\n3. replicate\n4. validate\n5. cutover")
	assert.Contains(t, md, "`cutover:env=dev`")
	last := raw.Widgets[len(raw.Widgets)-1]
	assert.Equal(t, "alarm", last.Type)
	assert.Equal(t, []any{dashSpec.AlarmARNs[0]}, last.Properties["alarms"])
	for _, w := range raw.Widgets {
		assert.LessOrEqual(t, w.X+w.Width, 24)
	}
}

func TestDashboardBodyValidate(t *testing.T) {
	env, _, _, _ := newEnv(t)
	body := tracking.BuildDashboard(env, tracking.DashboardSpec{})
	require.NoError(t, body.Validate(), "an empty spec still makes a valid dashboard (text and progress)")
	assert.Len(t, body.Widgets, 4)

	bad := tracking.BuildDashboard(env, dashSpec)
	bad.Widgets[1].X = 20
	bad.Widgets[2].Properties.(*tracking.MetricProperties).Period = 90
	bad.Widgets[3].Properties.(*tracking.MetricProperties).Metrics[0].Dimensions[0].Value = ""
	err := bad.Validate()
	require.Error(t, err)
	assert.ErrorContains(t, err, "widgets[1] (metric): width 12 at x 20 leaves the 24-column grid")
	assert.ErrorContains(t, err, "widgets[2] (metric): period 90 is not a positive multiple of 60")
	assert.ErrorContains(t, err, "widgets[3] (metric): metrics[0]: dimension \"env\" has an empty name or value")
}

func TestDashboardSpecValidate(t *testing.T) {
	tests := []struct {
		spec tracking.DashboardSpec
		want string
	}{
		{tracking.DashboardSpec{DMSTasks: dashSpec.DMSTasks}, "dashboard.dmsInstanceId: required with dmsTasks"},
		{tracking.DashboardSpec{DMSInstanceID: "d", DMSTasks: []tracking.DMSTask{{Label: "f", ARN: "forward"}}}, "dashboard.dmsTasks[0].arn"},
		{tracking.DashboardSpec{VPNTunnelIPs: []string{"1.2.3.4"}}, "dashboard.vpnConnectionId: required"},
		{tracking.DashboardSpec{VPNConnectionID: "vpn-1", VPNTunnelIPs: []string{"1.2.3"}}, "dashboard.vpnTunnelIps[0]"},
		{tracking.DashboardSpec{DXConnectionID: "dxvif-1"}, "dashboard.dxConnectionId"},
		{tracking.DashboardSpec{AlarmARNs: []string{"arn:aws:sns:us-east-1:123456789012:t"}}, "dashboard.alarmArns[0]"},
		{tracking.DashboardSpec{PeriodSeconds: 90}, "dashboard.periodSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			env, cloud, _, _ := newEnv(t)
			cloud.ResetCalls()
			_, err := tracking.EnsureDashboard(context.Background(), env, cloud.CloudWatch(), tt.spec)
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, cloud.Calls())
		})
	}
}

func TestEnsureDashboard(t *testing.T) {
	ctx := context.Background()
	ensured := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
		_, err := tracking.EnsureDashboard(ctx, env, cloud.CloudWatch(), dashSpec)
		require.NoError(t, err)
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud)
		spec       tracking.DashboardSpec
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantErr    string
	}{
		{name: "missing is created", spec: dashSpec, wantAction: migration.ActionCreate, wantWrites: []string{"PutDashboard"}},
		{name: "converged makes no write", setup: ensured, spec: dashSpec, wantAction: migration.ActionNoop},
		{name: "a spec change rewrites the body", setup: ensured, spec: func() tracking.DashboardSpec {
			s := dashSpec
			s.RunbookSteps = append(slices.Clone(s.RunbookSteps), "decommission")
			return s
		}(), wantAction: migration.ActionUpdate, wantWrites: []string{"PutDashboard"}},
		{name: "a reformatted but equal body is not rewritten", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
			ensured(t, env, cloud)
			text, err := tracking.BuildDashboard(env, dashSpec).JSON()
			require.NoError(t, err)
			var v any
			require.NoError(t, json.Unmarshal([]byte(text), &v))
			pretty, err := json.MarshalIndent(v, "", "  ")
			require.NoError(t, err)
			_, err = cloud.CloudWatch().PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("migration-dev"), DashboardBody: aws.String(string(pretty))})
			require.NoError(t, err)
		}, spec: dashSpec, wantAction: migration.ActionNoop},
		{name: "a removed tag is put back", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
			ensured(t, env, cloud)
			_, err := cloud.CloudWatch().UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch::123456789012:dashboard/migration-dev"), TagKeys: []string{"Project"}})
			require.NoError(t, err)
		}, spec: dashSpec, wantAction: migration.ActionUpdate, wantWrites: []string{"TagResource"}},
		{name: "dry run reports create and writes nothing", spec: dashSpec, dryRun: true, wantAction: migration.ActionCreate},
		{name: "dry run reports the update and writes nothing", setup: ensured, spec: tracking.DashboardSpec{}, dryRun: true, wantAction: migration.ActionUpdate},
		{name: "someone else's dashboard of that name is refused", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
			_, err := cloud.CloudWatch().PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("migration-dev"), DashboardBody: aws.String(`{"widgets":[{"type":"text","properties":{"markdown":"team dashboard"}}]}`)})
			require.NoError(t, err)
		}, spec: dashSpec, wantErr: "refusing to overwrite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _, _ := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter = report
			env.DryRun = tt.dryRun
			d, err := tracking.EnsureDashboard(ctx, env, cloud.CloudWatch(), tt.spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(report))
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.dryRun {
				return
			}
			assert.Equal(t, "arn:aws:cloudwatch::123456789012:dashboard/migration-dev", d.ARN)
			got, err := cloud.CloudWatch().GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("migration-dev")})
			require.NoError(t, err)
			want, err := tracking.BuildDashboard(env, tt.spec).JSON()
			require.NoError(t, err)
			assert.JSONEq(t, want, aws.ToString(got.DashboardBody))
			if tt.wantAction == migration.ActionCreate {
				tags, ok := cloud.CloudWatch().DashboardTags("migration-dev")
				require.True(t, ok)
				assert.Equal(t, "dev", tags[migration.OwnerTag])
			}
		})
	}
}

func TestDeleteDashboard(t *testing.T) {
	ctx := context.Background()
	env, cloud, report, _ := newEnv(t)
	_, err := tracking.EnsureDashboard(ctx, env, cloud.CloudWatch(), dashSpec)
	require.NoError(t, err)
	*report = migration.Report{}
	require.NoError(t, tracking.DeleteDashboard(ctx, env, cloud.CloudWatch(), dashSpec))
	assert.Empty(t, cloud.CloudWatch().DashboardNames())
	assert.Equal(t, []migration.Action{migration.ActionDelete}, actions(report))
	cloud.ResetCalls()
	require.NoError(t, tracking.DeleteDashboard(ctx, env, cloud.CloudWatch(), dashSpec))
	assert.Empty(t, cloud.Writes(), "gone: a no-op")

	// Another team's dashboard of the same name stays.
	_, err = cloud.CloudWatch().PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("migration-dev"), DashboardBody: aws.String(`{"widgets":[]}`)})
	require.NoError(t, err)
	cloud.ResetCalls()
	*report = migration.Report{}
	require.NoError(t, tracking.DeleteDashboard(ctx, env, cloud.CloudWatch(), dashSpec))
	assert.Empty(t, cloud.Writes())
	assert.Equal(t, []string{"migration-dev"}, cloud.CloudWatch().DashboardNames())
	assert.Contains(t, report.Changes()[0].Note, "not owned")

	// A body marked for env "dev2" under this name is not env "dev"'s:
	// the marker does not match by prefix.
	env2 := env
	env2.Suffix = "dev2"
	text, err := tracking.BuildDashboard(env2, tracking.DashboardSpec{}).JSON()
	require.NoError(t, err)
	_, err = cloud.CloudWatch().PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("migration-dev"), DashboardBody: aws.String(text)})
	require.NoError(t, err)
	cloud.ResetCalls()
	require.NoError(t, tracking.DeleteDashboard(ctx, env, cloud.CloudWatch(), dashSpec))
	assert.Empty(t, cloud.Writes())
	assert.Equal(t, []string{"migration-dev"}, cloud.CloudWatch().DashboardNames())
}

func TestPublishProgress(t *testing.T) {
	ctx := context.Background()
	env, cloud, _, _ := newEnv(t)
	st := tracking.Status{
		Phase: tracking.PhaseState{Phase: migration.PhaseCuttingOver},
		Servers: []migration.ServerStatus{
			{Name: "a", State: "CUTOVER", Replication: "CONTINUOUS", Percent: 100},
			{Name: "b", State: "READY_FOR_CUTOVER", Replication: "CONTINUOUS", Percent: 100},
			{Name: "c", State: "NOT_READY", Replication: "INITIAL_SYNC", Percent: 40},
		},
		Split: &tracking.SplitState{Split: migration.GreenPercent(25)},
	}
	p := st.Progress()
	assert.Equal(t, tracking.Progress{Phase: migration.PhaseCuttingOver, PhaseIndex: 4, Servers: 3, Replicated: 2, Ready: 2, CutOver: 1, GreenPercent: 25, Percent: 70}, p)

	cloud.ResetCalls()
	require.NoError(t, tracking.PublishProgress(ctx, env, cloud.CloudWatch(), st))
	assert.Equal(t, []string{"PutMetricData"}, writeOps(cloud), "one call")
	dims := map[string]string{"env": "dev"}
	for name, want := range map[string]float64{"Phase": 4, "ServersTotal": 3, "ServersReplicated": 2, "ServersReady": 2, "ServersCutOver": 1, "TrafficWeightGreen": 25, "Progress": 70} {
		pts := cloud.CloudWatch().MetricPoints("Cutover", name, dims)
		require.Len(t, pts, 1, name)
		assert.Equal(t, []float64{want}, pts[0].Values, name)
		assert.Equal(t, cloud.Clock().Now(), pts[0].Times[0], name)
	}

	dry := env
	dry.DryRun = true
	cloud.ResetCalls()
	require.NoError(t, tracking.PublishProgress(ctx, dry, cloud.CloudWatch(), st))
	assert.Empty(t, cloud.Calls())

	for phase, want := range map[migration.Phase]float64{migration.PhasePlanned: 0, migration.PhaseProvisioned: 10, migration.PhaseValidated: 60, migration.PhaseComplete: 100, migration.PhaseRolledBack: 60} {
		assert.Equal(t, want, tracking.Status{Phase: tracking.PhaseState{Phase: phase}}.Progress().Percent, phase)
	}
	rep := tracking.Status{Phase: tracking.PhaseState{Phase: migration.PhaseReplicating}, Servers: st.Servers,
		Transfers: []migration.TransferStatus{{Task: "files", BytesDone: 1, BytesTotal: 4}}}
	assert.InDelta(t, 10+50*(1+1+0.4+0.25)/4, rep.Progress().Percent, 1e-9)
}

// TestDashboardMatchesDMSMetrics checks the DMS lines against the series
// the DMS fake publishes for a real task (the same series dms.Lag reads):
// the dashboard must graph exactly those, dimension for dimension, or
// its CDC latency graphs stay empty.
func TestDashboardMatchesDMSMetrics(t *testing.T) {
	ctx := context.Background()
	env, cloud, _, _ := newEnv(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"dms.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	_, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dms-vpc-role"), AssumeRolePolicyDocument: aws.String(trust)})
	require.NoError(t, err)
	_, err = cloud.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("dms-vpc-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole")})
	require.NoError(t, err)
	d := cloud.DMS()
	d.AddSubnet("subnet-a", "vpc-1", "us-east-1a")
	d.AddSubnet("subnet-b", "vpc-1", "us-east-1b")
	cloud.Clock().Advance(time.Minute) // the role has propagated
	_, err = d.CreateReplicationSubnetGroup(ctx, &dms.CreateReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String("dms-subnets-dev"),
		ReplicationSubnetGroupDescription: aws.String("dev"), SubnetIds: []string{"subnet-a", "subnet-b"}})
	require.NoError(t, err)
	ri, err := d.CreateReplicationInstance(ctx, &dms.CreateReplicationInstanceInput{ReplicationInstanceIdentifier: aws.String("dms-instance-dev"),
		ReplicationInstanceClass: aws.String("dms.r6i.large"), ReplicationSubnetGroupIdentifier: aws.String("dms-subnets-dev"), MultiAZ: aws.Bool(true)})
	require.NoError(t, err)
	cloud.Clock().Advance(15 * time.Minute) // available
	endpoint := func(id string, typ dmstypes.ReplicationEndpointTypeValue) *string {
		out, err := d.CreateEndpoint(ctx, &dms.CreateEndpointInput{EndpointIdentifier: aws.String(id), EndpointType: typ, EngineName: aws.String("postgres"), SslMode: dmstypes.DmsSslModeValueRequire})
		require.NoError(t, err)
		return out.Endpoint.EndpointArn
	}
	src, tgt := endpoint("source-dev", dmstypes.ReplicationEndpointTypeValueSource), endpoint("target-dev", dmstypes.ReplicationEndpointTypeValueTarget)
	task, err := d.CreateReplicationTask(ctx, &dms.CreateReplicationTaskInput{ReplicationTaskIdentifier: aws.String("dms-forward-dev"),
		MigrationType: dmstypes.MigrationTypeValueFullLoadAndCdc, ReplicationInstanceArn: ri.ReplicationInstance.ReplicationInstanceArn,
		SourceEndpointArn: src, TargetEndpointArn: tgt,
		TableMappings: aws.String(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"}]}`)})
	require.NoError(t, err)
	taskARN := aws.ToString(task.ReplicationTask.ReplicationTaskArn)
	cloud.Clock().Advance(2 * time.Minute) // ready
	_, err = d.StartReplicationTask(ctx, &dms.StartReplicationTaskInput{ReplicationTaskArn: aws.String(taskARN), StartReplicationTaskType: dmstypes.StartReplicationTaskTypeValueStartReplication})
	require.NoError(t, err)
	cloud.Clock().Advance(time.Hour)
	_, err = d.DescribeReplicationTasks(ctx, &dms.DescribeReplicationTasksInput{})
	require.NoError(t, err)

	published := map[string]map[string]string{}
	out, err := cloud.CloudWatch().ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/DMS")})
	require.NoError(t, err)
	for _, m := range out.Metrics {
		dims := map[string]string{}
		for _, d := range m.Dimensions {
			dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
		published[aws.ToString(m.MetricName)] = dims
	}
	require.Contains(t, published, "CDCLatencySource", "the fake publishes the task's latency")

	body := tracking.BuildDashboard(env, tracking.DashboardSpec{DMSInstanceID: "dms-instance-dev", DMSTasks: []tracking.DMSTask{{Label: "forward", ARN: taskARN}}})
	checked := 0
	for _, m := range body.Metrics() {
		want, ok := published[m.Name]
		if m.Namespace != "AWS/DMS" || !ok {
			continue
		}
		got := map[string]string{}
		for _, d := range m.Dimensions {
			got[d.Name] = d.Value
		}
		assert.Equal(t, want, got, "%s: the dashboard's dimensions are the published ones", m.Name)
		checked++
	}
	assert.Equal(t, 2, checked, "CDCLatencySource and CDCLatencyTarget")
}
