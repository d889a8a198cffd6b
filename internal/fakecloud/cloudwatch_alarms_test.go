package fakecloud_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

const topicARN = "arn:aws:sns:us-east-1:123456789012:migration-notifications-dev"

// alarmInput is a valid single-metric alarm: Errors > 10 in 2 of 3 minutes.
func alarmInput(name string, mods ...func(*cloudwatch.PutMetricAlarmInput)) *cloudwatch.PutMetricAlarmInput {
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("App"), MetricName: aws.String("Errors"),
		Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("green")}},
		Statistic:  types.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(10), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
		AlarmActions: []string{topicARN}, Tags: []types.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}},
	}
	for _, m := range mods {
		m(in)
	}
	return in
}

func TestPutMetricAlarmValidation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		mod  func(*cloudwatch.PutMetricAlarmInput)
		want string // error substring; "" = accepted
	}{
		{"valid", func(*cloudwatch.PutMetricAlarmInput) {}, ""},
		{"period 45 is refused", func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(45) }, "Period must be 10, 20, 30 or a multiple of 60"},
		{"period 10 is a high-resolution alarm", func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(10) }, ""},
		{"more than a day of evaluation", func(in *cloudwatch.PutMetricAlarmInput) { in.EvaluationPeriods = aws.Int32(1441) }, "exceeds the maximum of 86400"},
		{"hourly periods may span seven days", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Period, in.EvaluationPeriods, in.DatapointsToAlarm = aws.Int32(3600), aws.Int32(168), aws.Int32(1)
		}, ""},
		{"M above N", func(in *cloudwatch.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(4) }, "DatapointsToAlarm (4) must be between 1 and EvaluationPeriods (3)"},
		{"statistic and extended statistic", func(in *cloudwatch.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p99") }, "Exactly one of Statistic and ExtendedStatistic"},
		{"metric and metrics", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Metrics = []types.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("1")}}
		}, "Exactly one of MetricName and Metrics"},
		{"unknown TreatMissingData", func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String("zero") }, "Invalid TreatMissingData"},
		{"action of another region", func(in *cloudwatch.PutMetricAlarmInput) {
			in.AlarmActions = []string{"arn:aws:sns:eu-west-1:123456789012:t"}
		}, "Invalid region eu-west-1"},
		{"six actions", func(in *cloudwatch.PutMetricAlarmInput) {
			in.AlarmActions = []string{topicARN, topicARN, topicARN, topicARN, topicARN, topicARN}
		}, "less than or equal to 5"},
		{"metrics without a returned expression", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Namespace, in.MetricName, in.Dimensions, in.Statistic, in.Period = nil, nil, nil, "", nil
			in.Metrics = []types.MetricDataQuery{{Id: aws.String("m"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
				Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Errors")}, Period: aws.Int32(60), Stat: aws.String("Sum")}}}
		}, "exactly one item must have ReturnData"},
		{"SEARCH in an alarm", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Namespace, in.MetricName, in.Dimensions, in.Statistic, in.Period = nil, nil, nil, "", nil
			in.Metrics = []types.MetricDataQuery{
				{Id: aws.String("m"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Errors")}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
				{Id: aws.String("e"), Expression: aws.String("SEARCH('{App} Errors', 'Sum', 60)")},
			}
		}, "SEARCH expressions cannot be used in alarms"},
		{"expression with an unknown ID", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Namespace, in.MetricName, in.Dimensions, in.Statistic, in.Period = nil, nil, nil, "", nil
			in.Metrics = []types.MetricDataQuery{
				{Id: aws.String("m"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Errors")}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
				{Id: aws.String("e"), Expression: aws.String("m / x")},
			}
		}, `unknown query id "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			_, err := cloud.CloudWatch().PutMetricAlarm(ctx, alarmInput("a", tt.mod))
			if tt.want != "" {
				require.Error(t, err)
				assert.Equal(t, "ValidationError", awsx.Code(err))
				assert.Contains(t, err.Error(), tt.want)
				assert.Empty(t, cloud.CloudWatch().AlarmNames())
				return
			}
			require.NoError(t, err)
			state, ok := cloud.CloudWatch().AlarmState("a")
			require.True(t, ok)
			assert.Equal(t, "INSUFFICIENT_DATA", state, "a new alarm starts with insufficient data")
		})
	}
}

func TestPutMetricAlarmUpdateKeepsStateAndTags(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cw := cloud.CloudWatch()
	_, err := cw.PutMetricAlarm(ctx, alarmInput("a"))
	require.NoError(t, err)
	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValueOk, StateReason: aws.String("test")})
	require.NoError(t, err)
	_, err = cw.PutMetricAlarm(ctx, alarmInput("a", func(in *cloudwatch.PutMetricAlarmInput) {
		in.Threshold = aws.Float64(20)
		in.Tags = []types.Tag{{Key: aws.String("other"), Value: aws.String("x")}}
	}))
	require.NoError(t, err)
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 1)
	assert.Equal(t, 20.0, aws.ToFloat64(out.MetricAlarms[0].Threshold), "the update overwrites the configuration")
	assert.Equal(t, types.StateValueOk, out.MetricAlarms[0].StateValue, "the update keeps the state")
	tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: out.MetricAlarms[0].AlarmArn})
	require.NoError(t, err)
	assert.Equal(t, []types.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}}, tags.Tags, "tags of an update are ignored")

	// DescribeAlarms without AlarmTypes returns metric alarms only.
	_, err = cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("c"), AlarmRule: aws.String("ALARM(a)")})
	require.NoError(t, err)
	all, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	require.NoError(t, err)
	assert.Len(t, all.MetricAlarms, 1)
	assert.Empty(t, all.CompositeAlarms)
	both, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm, types.AlarmTypeMetricAlarm}})
	require.NoError(t, err)
	assert.Len(t, both.CompositeAlarms, 1)

	// DeleteAlarms is all or nothing.
	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"c", "missing"}})
	assert.Equal(t, "ResourceNotFound", awsx.Code(err))
	assert.Equal(t, []string{"a", "c"}, cw.AlarmNames())
}

// TestEvaluateAlarms checks the CloudWatch evaluation: M of N over the
// last N complete periods and every TreatMissingData mode.
func TestEvaluateAlarms(t *testing.T) {
	ctx := context.Background()
	const X = -1.0 // no datapoint in that minute
	tests := []struct {
		name    string
		missing string
		values  []float64 // the three minutes before now, oldest first
		initial string    // state set before the evaluation
		want    string
	}{
		{"2 of 3 breaching", "missing", []float64{20, 1, 30}, "", "ALARM"},
		{"1 of 3 breaching", "missing", []float64{1, 1, 30}, "", "OK"},
		{"missing: all missing is insufficient data", "missing", []float64{X, X, X}, "", "INSUFFICIENT_DATA"},
		{"missing: present datapoints decide", "missing", []float64{X, X, 1}, "", "OK"},
		{"breaching: missing periods breach", "breaching", []float64{X, 1, X}, "", "ALARM"},
		{"notBreaching: missing periods are good", "notBreaching", []float64{X, X, X}, "", "OK"},
		{"ignore: all missing keeps ALARM", "ignore", []float64{X, X, X}, "ALARM", "ALARM"},
		{"ignore: all missing keeps OK", "ignore", []float64{X, X, X}, "OK", "OK"},
		{"ignore: data decides", "ignore", []float64{X, 50, 50}, "OK", "ALARM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			cw := cloud.CloudWatch()
			now := cloud.Clock().Now()
			for i, v := range tt.values {
				if v != X {
					cw.PutPoint("App", "Errors", map[string]string{"Service": "green"}, now.Truncate(time.Minute).Add(-time.Duration(3-i)*time.Minute), v)
				}
			}
			// A datapoint of the current, incomplete minute never counts.
			cw.PutPoint("App", "Errors", map[string]string{"Service": "green"}, now.Truncate(time.Minute), 1000)
			_, err := cw.PutMetricAlarm(ctx, alarmInput("a", func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String(tt.missing) }))
			require.NoError(t, err)
			if tt.initial != "" {
				_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValue(tt.initial), StateReason: aws.String("test")})
				require.NoError(t, err)
			}
			_, err = cw.EvaluateAlarms(ctx)
			require.NoError(t, err)
			state, _ := cw.AlarmState("a")
			assert.Equal(t, tt.want, state)
		})
	}
}

// TestAlarmActionsAndComposite wires a metric-math alarm into a composite
// alarm whose action is a Lambda: the Lambda runs only with the resource
// policy for lambda.alarms.cloudwatch.amazonaws.com and that alarm, gets
// the alarm-action payload, and runs once per state change.
func TestAlarmActionsAndComposite(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cw := cloud.CloudWatch()
	fnARN := createFunction(t, cloud, "rollback")
	var payloads []map[string]any
	cloud.Lambda().SetHandler("rollback", func(_ context.Context, p []byte) ([]byte, error) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(p, &m))
		payloads = append(payloads, m)
		return nil, nil
	})
	dims := map[string]string{"LoadBalancer": "app/green/0123456789abcdef"}
	spike := cloud.Clock().Now().Truncate(time.Minute).Add(3 * time.Minute)
	cw.SetMetricFunc("AWS/ApplicationELB", "RequestCount", dims, func(time.Time) (float64, bool) { return 1000, true })
	cw.SetMetricFunc("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, func(t time.Time) (float64, bool) {
		return 100, !t.Before(spike) // no datapoint at all before the spike: FILL makes it 0
	})
	metric := func(id, name string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(name), Dimensions: []types.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(dims["LoadBalancer"])}}},
			Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("rate"), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2), Threshold: aws.Float64(1),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
		Metrics: []types.MetricDataQuery{metric("e", "HTTPCode_Target_5XX_Count"), metric("req", "RequestCount"),
			{Id: aws.String("v"), Expression: aws.String("100 * FILL(e, 0) / req"), ReturnData: aws.Bool(false)},
			{Id: aws.String("r"), Expression: aws.String("IF(req >= 50, v)"), ReturnData: aws.Bool(true)}},
	})
	require.NoError(t, err)
	_, err = cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("bad"), AlarmRule: aws.String(`ALARM(nope)`)})
	assert.Contains(t, err.Error(), "do not exist", "a rule naming a missing alarm is refused")
	_, err = cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("rollback"), AlarmRule: aws.String(`ALARM("rate") AND NOT (FALSE)`),
		AlarmActions: []string{fnARN, topicARN}})
	require.NoError(t, err)

	cloud.Clock().Advance(3 * time.Minute)
	changed, err := cw.EvaluateAlarms(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"rate", "rollback"}, changed)
	for _, name := range []string{"rate", "rollback"} {
		s, _ := cw.AlarmState(name)
		assert.Equal(t, "OK", s, "0 %% errors before the spike (FILL) → %s OK", name)
	}

	// Two minutes of 10 % errors: the alarm and the composite go to ALARM,
	// but the function has no resource policy for the alarm yet.
	cloud.Clock().Advance(2 * time.Minute)
	_, err = cw.EvaluateAlarms(ctx)
	require.NoError(t, err)
	s, _ := cw.AlarmState("rollback")
	require.Equal(t, "ALARM", s)
	require.Empty(t, payloads, "no resource policy, no invocation")
	deliveries := cw.AlarmDeliveries()
	require.Len(t, deliveries, 2)
	assert.Equal(t, fnARN, deliveries[0].Action)
	assert.False(t, deliveries[0].Delivered)
	assert.Contains(t, deliveries[0].Err, "not authorized")
	assert.Equal(t, topicARN, deliveries[1].Action, "the SNS action is attempted too")

	// With the permission, the next transition to ALARM invokes it once.
	_, err = cloud.Lambda().AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("rollback"), StatementId: aws.String("alarm"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("lambda.alarms.cloudwatch.amazonaws.com"),
		SourceAccount: aws.String(cloud.Account()), SourceArn: aws.String("arn:aws:cloudwatch:us-east-1:123456789012:alarm:rollback")})
	require.NoError(t, err)
	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("rollback"), StateValue: types.StateValueOk, StateReason: aws.String("reset")})
	require.NoError(t, err)
	_, err = cw.EvaluateAlarms(ctx)
	require.NoError(t, err)
	_, err = cw.EvaluateAlarms(ctx) // no change: no second invocation
	require.NoError(t, err)
	require.Len(t, payloads, 1)
	p := payloads[0]
	assert.Equal(t, "aws.cloudwatch", p["source"])
	assert.Equal(t, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:rollback", p["alarmArn"])
	data := p["alarmData"].(map[string]any)
	assert.Equal(t, "rollback", data["alarmName"])
	assert.Equal(t, "ALARM", data["state"].(map[string]any)["value"])
	assert.Equal(t, "OK", data["previousState"].(map[string]any)["value"])
	assert.Equal(t, `ALARM("rate") AND NOT (FALSE)`, data["configuration"].(map[string]any)["alarmRule"])
	inv := cloud.Lambda().Invocations()
	require.Len(t, inv, 1)
	assert.Equal(t, "alarm", inv[0].Type)
}

// createFunction creates an Active function with a role Lambda can assume.
func createFunction(t *testing.T, cloud *fakecloud.Cloud, name string) string {
	t.Helper()
	ctx := context.Background()
	role := createLambdaRole(t, cloud, name+"-role")
	out, err := cloud.Lambda().CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(role), Runtime: "provided.al2023", Handler: aws.String("bootstrap"),
		Code: lambdaFunctionCode{}.code(t),
	})
	require.NoError(t, err)
	cloud.Clock().Advance(10 * time.Second) // Pending → Active
	return aws.ToString(out.FunctionArn)
}

func TestAlarmStateValidation(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cw := cloud.CloudWatch()
	_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("none"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")})
	assert.Equal(t, "ResourceNotFound", awsx.Code(err))
	_, err = cw.PutMetricAlarm(ctx, alarmInput("a"))
	require.NoError(t, err)
	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValueAlarm, StateReason: aws.String("x"), StateReasonData: aws.String("{not json")})
	assert.Equal(t, "InvalidFormat", awsx.Code(err))
	_, err = cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("c"), AlarmRule: aws.String("ALARM(a) AND")})
	assert.True(t, strings.Contains(err.Error(), "Invalid AlarmRule"), err)
}
