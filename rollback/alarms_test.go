package rollback_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

const (
	testTopicARN = "arn:aws:sns:us-east-1:123456789012:migration-notifications-dev"
	testLB       = "app/green/0123456789abcdef"
	testVPN      = "vpn-0123456789abcdef0"
	testTaskID   = "FWDTASKRESOURCEID"
)

func cloudEnv(t *testing.T) (migration.Env, *fakecloud.Cloud, *migration.Report) {
	t.Helper()
	cloud := fakecloud.New()
	report := &migration.Report{}
	return migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}, cloud, report
}

func defaultPolicy(t *testing.T, env migration.Env) rollback.Policy {
	t.Helper()
	p, err := rollback.DefaultPolicy(env, rollback.DefaultRulesSpec{LoadBalancer: testLB, DMSInstance: "dms-instance-dev", ForwardTaskID: testTaskID, VPNID: testVPN})
	require.NoError(t, err)
	return p
}

func writeOps(cloud *fakecloud.Cloud) []string {
	var ops []string
	for _, c := range cloud.Writes() {
		ops = append(ops, c.Op)
	}
	return ops
}

func actions(r *migration.Report) map[migration.Action]int {
	return r.Counts()
}

func describe(t *testing.T, cloud *fakecloud.Cloud, name string) (*types.MetricAlarm, *types.CompositeAlarm) {
	t.Helper()
	out, err := cloud.CloudWatch().DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}, AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm}})
	require.NoError(t, err)
	if len(out.MetricAlarms) == 1 {
		return &out.MetricAlarms[0], nil
	}
	require.Len(t, out.CompositeAlarms, 1, "alarm %s", name)
	return nil, &out.CompositeAlarms[0]
}

func TestEnsurePolicyAlarms(t *testing.T) {
	ctx := context.Background()
	env, cloud, report := cloudEnv(t)
	p := defaultPolicy(t, env)
	fnARN := rollback.FunctionARN(env)

	alarms, err := rollback.EnsurePolicyAlarms(ctx, env, cloud.CloudWatch(), p, []string{testTopicARN}, []string{fnARN})
	require.NoError(t, err)
	assert.Equal(t, map[migration.Action]int{migration.ActionCreate: 6}, actions(report))
	assert.Equal(t, []string{"PutMetricAlarm", "PutMetricAlarm", "PutMetricAlarm", "PutMetricAlarm", "PutMetricAlarm", "PutCompositeAlarm"}, writeOps(cloud))
	assert.Equal(t, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-rollback-dev", alarms.Composite.ARN)

	// The 5xx rate: metric math with the sample-count guard, notify only.
	rate, _ := describe(t, cloud, "alarm-green-5xx-rate-dev")
	require.NotNil(t, rate)
	assert.Equal(t, int32(3), aws.ToInt32(rate.EvaluationPeriods))
	assert.Equal(t, int32(2), aws.ToInt32(rate.DatapointsToAlarm))
	assert.Equal(t, 1.0, aws.ToFloat64(rate.Threshold))
	assert.Equal(t, "missing", aws.ToString(rate.TreatMissingData))
	assert.Equal(t, []string{testTopicARN}, rate.AlarmActions, "rule alarms notify; the composite invokes the Lambda")
	assert.Equal(t, []string{testTopicARN}, rate.OKActions)
	exprs := map[string]string{}
	for _, q := range rate.Metrics {
		if q.Expression != nil {
			exprs[aws.ToString(q.Id)] = aws.ToString(q.Expression)
			continue
		}
		assert.False(t, aws.ToBool(q.ReturnData), "metric %s is an input", aws.ToString(q.Id))
	}
	assert.Equal(t, map[string]string{"v": "100 * (FILL(m_t5xx, 0) + FILL(m_elb5xx, 0)) / m_requests", "r": "IF(m_requests >= 50, v)"}, exprs)

	// The p99: the percentile guarded by the request count.
	p99, _ := describe(t, cloud, "alarm-green-p99-latency-dev")
	require.Len(t, p99.Metrics, 3)
	assert.Equal(t, "p99", aws.ToString(p99.Metrics[0].MetricStat.Stat))
	assert.Equal(t, "RequestCount", aws.ToString(p99.Metrics[1].MetricStat.Metric.MetricName))
	assert.Equal(t, "IF(n >= 100, m)", aws.ToString(p99.Metrics[2].Expression))

	// The VPN: a plain single-metric alarm where missing data breaches.
	vpn, _ := describe(t, cloud, "alarm-vpn-tunnels-down-dev")
	assert.Equal(t, "TunnelState", aws.ToString(vpn.MetricName))
	assert.Equal(t, types.StatisticMaximum, vpn.Statistic)
	assert.Equal(t, types.ComparisonOperatorLessThanOrEqualToThreshold, vpn.ComparisonOperator)
	assert.Equal(t, "breaching", aws.ToString(vpn.TreatMissingData))
	assert.Equal(t, int32(60), aws.ToInt32(vpn.Period))

	// The composite: any deciding rule; the dry-run rule is not in it.
	_, comp := describe(t, cloud, "alarm-rollback-dev")
	assert.Equal(t, `ALARM("alarm-green-5xx-rate-dev") OR ALARM("alarm-green-p99-latency-dev") OR ALARM("alarm-dms-cdc-latency-dev") OR ALARM("alarm-vpn-tunnels-down-dev")`, aws.ToString(comp.AlarmRule))
	assert.Equal(t, []string{testTopicARN, fnARN}, comp.AlarmActions)
	tags, err := cloud.CloudWatch().ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: comp.AlarmArn})
	require.NoError(t, err)
	assert.Contains(t, tags.Tags, types.Tag{Key: aws.String("cutover:env"), Value: aws.String("dev")})

	// Converged: reads only.
	cloud.ResetCalls()
	report2 := &migration.Report{}
	env.Reporter = report2
	_, err = rollback.EnsurePolicyAlarms(ctx, env, cloud.CloudWatch(), p, []string{testTopicARN}, []string{fnARN})
	require.NoError(t, err)
	assert.Equal(t, map[migration.Action]int{migration.ActionNoop: 6}, actions(report2))
	assert.Empty(t, cloud.Writes())
}

func TestEnsureAlarmConverges(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmSpec)
		edit       func(spec *rollback.AlarmSpec)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantDiff   []string
		wantErr    string
	}{
		{name: "missing is created", wantAction: migration.ActionCreate, wantWrites: []string{"PutMetricAlarm"}},
		{name: "dry run creates nothing", dryRun: true, wantAction: migration.ActionCreate},
		{name: "a threshold changed by hand is put back", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmSpec) {
			mustEnsureAlarm(t, env, cloud, spec)
			a, _ := describe(t, cloud, "alarm-errors-dev")
			in := &cloudwatch.PutMetricAlarmInput{AlarmName: a.AlarmName, Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions, Statistic: a.Statistic,
				Period: a.Period, EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm, Threshold: aws.Float64(99),
				ComparisonOperator: a.ComparisonOperator, TreatMissingData: a.TreatMissingData, AlarmDescription: a.AlarmDescription,
				AlarmActions: a.AlarmActions, OKActions: a.OKActions, InsufficientDataActions: a.InsufficientDataActions}
			_, err := cloud.CloudWatch().PutMetricAlarm(ctx, in)
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"PutMetricAlarm"}, wantDiff: []string{"threshold"}},
		{name: "a new threshold and period in the spec converge", setup: mustEnsureAlarmSetup,
			edit:       func(s *rollback.AlarmSpec) { s.Rule.Threshold, s.Rule.Query.Period = 7, 5*time.Minute },
			wantAction: migration.ActionUpdate, wantWrites: []string{"PutMetricAlarm"}, wantDiff: []string{"period", "threshold"}},
		{name: "a new action converges", setup: mustEnsureAlarmSetup,
			edit: func(s *rollback.AlarmSpec) {
				s.RollbackARNs = []string{"arn:aws:lambda:us-east-1:123456789012:function:migration-rollback-dev"}
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"PutMetricAlarm"}, wantDiff: []string{"alarmActions"}},
		{name: "a removed tag is added back without rewriting the alarm", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmSpec) {
			mustEnsureAlarm(t, env, cloud, spec)
			_, err := cloud.CloudWatch().UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: aws.String(rollback.AlarmARN(env, "alarm-errors-dev")), TagKeys: []string{"Project"}})
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"TagResource"}, wantDiff: []string{"tags"}},
		{name: "an alarm of that name without the ownership tag is refused", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmSpec) {
			_, err := cloud.CloudWatch().PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("alarm-errors-dev"), Namespace: aws.String("X"), MetricName: aws.String("Y"),
				Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold})
			require.NoError(t, err)
		}, wantErr: "refusing to adopt"},
		{name: "a rule CloudWatch cannot alarm on is refused before any call", edit: func(s *rollback.AlarmSpec) { s.Rule.Query.Period = 45 * time.Second }, wantErr: "query.period"},
		{name: "an action that is not SNS or Lambda is refused", edit: func(s *rollback.AlarmSpec) { s.NotifyARNs = []string{"arn:aws:sqs:us-east-1:123456789012:q"} }, wantErr: "not an SNS topic or Lambda function ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			spec := rollback.AlarmSpec{Rule: baseRule(), NotifyARNs: []string{testTopicARN}}
			if tt.setup != nil {
				tt.setup(t, env, cloud, spec)
			}
			if tt.edit != nil {
				tt.edit(&spec)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			a, err := rollback.EnsureAlarm(ctx, env, cloud.CloudWatch(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure alarm "alarm-errors-dev"`)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			c := report.Changes()[0]
			assert.Equal(t, tt.wantAction, c.Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			var fields []string
			for _, d := range c.Diff {
				fields = append(fields, d.Field)
			}
			assert.Equal(t, tt.wantDiff, fields)
			if tt.dryRun {
				assert.True(t, migration.IsPending(c.ID))
				assert.Empty(t, cloud.CloudWatch().AlarmNames())
				return
			}
			assert.Equal(t, "alarm-errors-dev", a.Name)
			// Converged now: a second Ensure writes nothing.
			cloud.ResetCalls()
			_, err = rollback.EnsureAlarm(ctx, env, cloud.CloudWatch(), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes())
		})
	}
}

func mustEnsureAlarm(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmSpec) {
	t.Helper()
	_, err := rollback.EnsureAlarm(context.Background(), env, cloud.CloudWatch(), spec)
	require.NoError(t, err)
}

func mustEnsureAlarmSetup(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmSpec) {
	mustEnsureAlarm(t, env, cloud, spec)
}

func TestDeletePolicyAlarms(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	p := defaultPolicy(t, env)
	_, err := rollback.EnsurePolicyAlarms(ctx, env, cloud.CloudWatch(), p, []string{testTopicARN}, []string{rollback.FunctionARN(env)})
	require.NoError(t, err)
	// A look-alike of another env's making, without the ownership tag.
	_, err = cloud.CloudWatch().DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"alarm-rollback-dev"}})
	require.NoError(t, err)
	_, err = cloud.CloudWatch().PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("alarm-rollback-dev"), AlarmRule: aws.String("FALSE")})
	require.NoError(t, err)

	cloud.ResetCalls()
	report := &migration.Report{}
	env.Reporter = report
	require.NoError(t, rollback.DeletePolicyAlarms(ctx, env, cloud.CloudWatch(), p))
	assert.Equal(t, []string{"alarm-rollback-dev"}, cloud.CloudWatch().AlarmNames(), "only owned alarms are deleted")
	assert.Equal(t, map[migration.Action]int{migration.ActionDelete: 5, migration.ActionNoop: 1}, actions(report))
	assert.Equal(t, 5, cloud.Count("CloudWatch", "DeleteAlarms"))

	cloud.ResetCalls()
	require.NoError(t, rollback.DeletePolicyAlarms(ctx, env, cloud.CloudWatch(), p))
	assert.Empty(t, cloud.Writes(), "gone: a no-op")
}

// metricScript is what the default policy's metrics report each minute;
// a nil field reports nothing.
type metricScript struct {
	requests, target5xx, elb5xx, p99, cdcSeconds, tunnelState, stalled *float64
}

func f64(v float64) *float64 { return &v }

func healthy() metricScript {
	return metricScript{requests: f64(1000), target5xx: f64(2), p99: f64(0.3), cdcSeconds: f64(4), tunnelState: f64(1), stalled: f64(0)}
}

func (m metricScript) install(cloud *fakecloud.Cloud, env migration.Env) {
	cw := cloud.CloudWatch()
	alb := map[string]string{"LoadBalancer": testLB}
	set := func(ns, name string, dims map[string]string, v *float64) {
		cw.SetMetricFunc(ns, name, dims, func(time.Time) (float64, bool) {
			if v == nil {
				return 0, false
			}
			return *v, true
		})
	}
	set("AWS/ApplicationELB", "RequestCount", alb, m.requests)
	set("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, m.target5xx)
	set("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb, m.elb5xx)
	set("AWS/ApplicationELB", "TargetResponseTime", alb, m.p99)
	set("AWS/DMS", "CDCLatencyTarget", map[string]string{"ReplicationInstanceIdentifier": "dms-instance-dev", "ReplicationTaskIdentifier": testTaskID}, m.cdcSeconds)
	set("AWS/VPN", "TunnelState", map[string]string{"VpnId": testVPN}, m.tunnelState)
	set("Cutover", "StalledServers", map[string]string{"env": env.Suffix}, m.stalled)
}

// TestAlarmsAgreeWithTheEngine runs CloudWatch's evaluation (the fake's
// alarms, made by EnsurePolicyAlarms) and the engine (Source + Evaluate)
// over the same scripted metrics: every rule's alarm state matches the
// engine's status — ALARM is breaching, OK is ok, INSUFFICIENT_DATA is
// inconclusive.
func TestAlarmsAgreeWithTheEngine(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		script func(m *metricScript)
		want   map[string]string // rule → alarm state; rules not named are OK
	}{
		{name: "healthy", script: func(*metricScript) {}, want: map[string]string{}},
		{name: "5xx spike", script: func(m *metricScript) { m.target5xx = f64(80) }, want: map[string]string{rollback.RuleGreen5xxRate: "ALARM"}},
		{name: "ELB 5xx count too (no healthy target)", script: func(m *metricScript) { m.target5xx, m.elb5xx = nil, f64(300) }, want: map[string]string{rollback.RuleGreen5xxRate: "ALARM"}},
		{name: "no 5xx datapoints at all is a 0 % rate", script: func(m *metricScript) { m.target5xx = nil }, want: map[string]string{}},
		{name: "no traffic is insufficient data", script: func(m *metricScript) { m.requests, m.p99 = nil, nil },
			want: map[string]string{rollback.RuleGreen5xxRate: "INSUFFICIENT_DATA", rollback.RuleGreenP99Latency: "INSUFFICIENT_DATA"}},
		{name: "too little traffic to judge", script: func(m *metricScript) { m.requests, m.target5xx = f64(20), f64(20) },
			want: map[string]string{rollback.RuleGreen5xxRate: "INSUFFICIENT_DATA", rollback.RuleGreenP99Latency: "INSUFFICIENT_DATA"}},
		{name: "slow green", script: func(m *metricScript) { m.p99 = f64(2.5) }, want: map[string]string{rollback.RuleGreenP99Latency: "ALARM"}},
		{name: "forward CDC behind", script: func(m *metricScript) { m.cdcSeconds = f64(900) }, want: map[string]string{rollback.RuleDMSCDCLatency: "ALARM"}},
		{name: "both tunnels down", script: func(m *metricScript) { m.tunnelState = f64(0) }, want: map[string]string{rollback.RuleVPNTunnelsDown: "ALARM"}},
		{name: "one tunnel down is fine", script: func(m *metricScript) { m.tunnelState = f64(0.5) }, want: map[string]string{}},
		{name: "VPN metrics gone counts as down", script: func(m *metricScript) { m.tunnelState = nil }, want: map[string]string{rollback.RuleVPNTunnelsDown: "ALARM"}},
		{name: "stalled replication (dry run)", script: func(m *metricScript) { m.stalled = f64(2) }, want: map[string]string{rollback.RuleReplicationStalls: "ALARM"}},
		{name: "stalled metric absent is fine", script: func(m *metricScript) { m.stalled = nil }, want: map[string]string{}},
	}
	stateOf := map[rollback.RuleStatus]string{rollback.StatusBreaching: "ALARM", rollback.StatusOK: "OK", rollback.StatusInconclusive: "INSUFFICIENT_DATA"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			p := defaultPolicy(t, env)
			m := healthy()
			tt.script(&m)
			m.install(cloud, env)
			_, err := rollback.EnsurePolicyAlarms(ctx, env, cloud.CloudWatch(), p, []string{testTopicARN}, nil)
			require.NoError(t, err)
			cloud.Clock().Advance(20 * time.Minute)
			_, err = cloud.CloudWatch().EvaluateAlarms(ctx)
			require.NoError(t, err)

			series, err := rollback.Source{API: cloud.CloudWatch()}.Fetch(ctx, p, cloud.Clock().Now())
			require.NoError(t, err)
			d := rollback.Evaluate(p, rollback.Observations{At: cloud.Clock().Now(), Series: series, ReverseLag: okLag()})
			for _, r := range d.Rules {
				alarm, ok := cloud.CloudWatch().AlarmState(rollback.AlarmName(env, r.Rule))
				require.True(t, ok)
				want := tt.want[r.Rule]
				if want == "" {
					want = "OK"
				}
				assert.Equal(t, want, alarm, "CloudWatch's state of %s", r.Rule)
				assert.Equal(t, want, stateOf[r.Status], "the engine's status of %s: %s", r.Rule, r.Why)
			}
			composite, _ := cloud.CloudWatch().AlarmState(rollback.CompositeAlarmName(env))
			wantComposite := "OK"
			if d.Verdict == rollback.Rollback {
				wantComposite = "ALARM"
			}
			assert.Equal(t, wantComposite, composite, "the composite alarm fires exactly when the engine rolls back (verdict %s)", d.Verdict)
		})
	}
}

func TestSourceBatchesAndErrors(t *testing.T) {
	ctx := context.Background()
	_, cloud, _ := cloudEnv(t)
	// 101 rules are more than a composite alarm can watch; 100 rules of two
	// queries each (value and sample count) fit in one GetMetricData call.
	var p rollback.Policy
	p.DataLossBudget = time.Minute
	for i := range 101 {
		name := fmt.Sprintf("r%03d", i)
		m := rollback.Metric{Namespace: "App", Name: "Latency", Dimensions: map[string]string{"Node": name}, Stat: "Average"}
		p.Rules = append(p.Rules, rollback.Rule{Name: name, Query: rollback.Query{Metric: &m, Period: time.Minute},
			Comparator: rollback.GreaterThan, Threshold: 1, EvaluationPeriods: 2, MinSamples: 1})
		v := float64(i)
		cloud.CloudWatch().SetMetricFunc("App", "Latency", m.Dimensions, func(time.Time) (float64, bool) { return v, true })
	}
	require.Error(t, p.Validate(), "a policy over 100 rules is refused")
	p.Rules = p.Rules[:100]
	big := p
	cloud.Clock().Advance(10 * time.Minute)
	series, err := rollback.Source{API: cloud.CloudWatch()}.Fetch(ctx, big, cloud.Clock().Now())
	require.NoError(t, err)
	assert.Equal(t, 1, cloud.Count("CloudWatch", "GetMetricData"), "100 rules, 200 queries: one call")
	require.Len(t, series, 100)
	s := series["r042"]
	require.NoError(t, s.Err)
	require.NotEmpty(t, s.Points)
	assert.Equal(t, 42.0, s.Points[0].Value)
	assert.Equal(t, 1.0, s.Samples[0].Value, "the sample count comes with it")

	// A CloudWatch that keeps failing: no error from Fetch, an error per rule.
	cloud.SetFaults(fakecloud.Faults{ServerErrorRate: 1, Services: []string{"CloudWatch"}})
	series, err = rollback.Source{API: cloud.CloudWatch()}.Fetch(ctx, big, cloud.Clock().Now())
	require.NoError(t, err)
	assert.ErrorContains(t, series["r001"].Err, "InternalError")
	d := rollback.Evaluate(big, rollback.Observations{At: cloud.Clock().Now(), Series: series, ReverseLag: okLag()})
	assert.Equal(t, rollback.Hold, d.Verdict, "errors beyond the limit (0) hold")
}

// TestSourceManyCalls checks the 500-query split with rules whose queries
// add up past one call: 99 expression rules of 6 queries each.
func TestSourceManyCalls(t *testing.T) {
	ctx := context.Background()
	_, cloud, _ := cloudEnv(t)
	var p rollback.Policy
	p.DataLossBudget = time.Minute
	for i := range 99 {
		name := fmt.Sprintf("x%02d", i)
		ms := map[string]rollback.Metric{}
		for _, id := range []string{"a", "b", "c", "d", "e"} {
			ms[id] = rollback.Metric{Namespace: "App", Name: "M", Dimensions: map[string]string{"Rule": name, "Part": id}, Stat: "Sum"}
			cloud.CloudWatch().SetMetricFunc("App", "M", ms[id].Dimensions, func(time.Time) (float64, bool) { return 1, true })
		}
		p.Rules = append(p.Rules, rollback.Rule{Name: name, Query: rollback.Query{Expression: "a + b + c + d + e", Metrics: ms, Period: time.Minute},
			Comparator: rollback.GreaterThan, Threshold: 10, EvaluationPeriods: 1})
	}
	cloud.Clock().Advance(5 * time.Minute)
	series, err := rollback.Source{API: cloud.CloudWatch()}.Fetch(ctx, p, cloud.Clock().Now())
	require.NoError(t, err)
	assert.Equal(t, 2, cloud.Count("CloudWatch", "GetMetricData"), "594 queries: two calls, no rule split across them")
	for name, s := range series {
		require.NoError(t, s.Err, name)
		require.NotEmpty(t, s.Points, name)
		assert.Equal(t, 5.0, s.Points[len(s.Points)-1].Value, name)
	}
}

// TestSourcePaginates reads a policy whose data is more than one
// GetMetricData response holds (100,800 datapoints): 100 rules of a day
// of minutes each, with sample counts — 200 queries in one request,
// 288,000 datapoints over three pages, merged back per rule.
func TestSourcePaginates(t *testing.T) {
	ctx := context.Background()
	_, cloud, _ := cloudEnv(t)
	p := rollback.Policy{DataLossBudget: time.Minute}
	for i := range 100 {
		name := fmt.Sprintf("r%03d", i)
		m := rollback.Metric{Namespace: "App", Name: "Latency", Dimensions: map[string]string{"Node": name}, Stat: "Average"}
		p.Rules = append(p.Rules, rollback.Rule{Name: name, Query: rollback.Query{Metric: &m, Period: time.Minute},
			Comparator: rollback.GreaterThan, Threshold: 1000, EvaluationPeriods: 1440, DatapointsToAlarm: 1, MinSamples: 1})
		v := float64(i)
		cloud.CloudWatch().SetMetricFunc("App", "Latency", m.Dimensions, func(time.Time) (float64, bool) { return v, true })
	}
	require.NoError(t, p.Validate())
	now := cloud.Clock().Now()
	series, err := rollback.Source{API: cloud.CloudWatch()}.Fetch(ctx, p, now)
	require.NoError(t, err)
	assert.Equal(t, 3, cloud.Count("CloudWatch", "GetMetricData"), "one request, three pages")
	require.Len(t, series, 100)
	for i, r := range p.Rules {
		s := series[r.Name]
		require.NoError(t, s.Err, r.Name)
		require.GreaterOrEqual(t, len(s.Points), 1440, r.Name)
		require.GreaterOrEqual(t, len(s.Samples), 1440, r.Name)
		for _, pt := range s.Points {
			require.Equal(t, float64(i), pt.Value, "%s: no page mixed up another rule's data", r.Name)
		}
	}
	d := rollback.Evaluate(p, rollback.Observations{At: now, Series: series, ReverseLag: okLag()})
	assert.Equal(t, rollback.Continue, d.Verdict, d.Reason)
	for _, r := range d.Rules {
		require.Equal(t, 1440, r.Evaluated, r.Rule)
		require.Zero(t, r.Missing, "%s: every period of the day arrived", r.Rule)
	}
}

// A rule dropped from the policy loses its alarm on the next ensure, after
// the composite stops referring to it; another env's alarm whose name ends
// like this env's, and an untagged look-alike, are left alone.
func TestEnsurePolicyAlarmsPrunesDroppedRules(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	p := defaultPolicy(t, env)
	ensure := func(env migration.Env, p rollback.Policy) *migration.Report {
		t.Helper()
		report := &migration.Report{}
		env.Reporter = report
		_, err := rollback.EnsurePolicyAlarms(ctx, env, cloud.CloudWatch(), p, []string{testTopicARN}, []string{rollback.FunctionARN(env)})
		require.NoError(t, err)
		return report
	}
	ensure(env, p)
	other := env
	other.Suffix = "x-dev"
	ensure(other, p) // alarm-green-5xx-rate-x-dev ends in "-dev" too
	_, err := cloud.CloudWatch().PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("alarm-legacy-dev"), Namespace: aws.String("Team"), MetricName: aws.String("Errors"),
		Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold})
	require.NoError(t, err)

	dropped := p
	dropped.Rules = slices.DeleteFunc(slices.Clone(p.Rules), func(r rollback.Rule) bool { return r.Name == rollback.RuleVPNTunnelsDown })
	dry := env
	dry.DryRun = true
	cloud.ResetCalls()
	report := ensure(dry, dropped)
	assert.Empty(t, cloud.Writes(), "a dry run lists and reports only")
	assert.Equal(t, 1, report.Counts()[migration.ActionDelete])

	cloud.ResetCalls()
	report = ensure(env, dropped)
	assert.Equal(t, map[migration.Action]int{migration.ActionNoop: 4, migration.ActionUpdate: 1, migration.ActionDelete: 1}, report.Counts())
	assert.Equal(t, []string{"PutCompositeAlarm", "DeleteAlarms"}, writeOps(cloud), "the composite lets go of the rule before its alarm goes")
	names := cloud.CloudWatch().AlarmNames()
	assert.NotContains(t, names, "alarm-vpn-tunnels-down-dev")
	assert.Contains(t, names, "alarm-vpn-tunnels-down-x-dev", "another env's alarm")
	assert.Contains(t, names, "alarm-legacy-dev", "not owned: left in place")

	cloud.ResetCalls()
	ensure(env, dropped)
	assert.Empty(t, cloud.Writes(), "converged")
}
