package fakecloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/rollback"
)

const (
	alarmPattern  = `{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],"resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:rollback"],"detail":{"state":{"value":["ALARM"]}}}`
	ruleARNPrefix = "arn:aws:events:us-east-1:123456789012:rule/"
)

func putRule(t *testing.T, cloud *fakecloud.Cloud, name, pattern string, state types.RuleState) {
	t.Helper()
	_, err := cloud.EventBridge().PutRule(context.Background(), &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern), State: state,
		Tags: []types.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}}})
	require.NoError(t, err)
}

func TestEventBridgeValidation(t *testing.T) {
	ctx := context.Background()
	target := func(id, arn string) []types.Target { return []types.Target{{Id: aws.String(id), Arn: aws.String(arn)}} }
	fn := "arn:aws:lambda:us-east-1:123456789012:function:rollback"
	tests := []struct {
		name     string
		call     func(eb *fakecloud.EventBridge) error
		wantCode string // "" = accepted
		wantMsg  string
	}{
		{"a valid rule", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r-2.x_y"), EventPattern: aws.String(alarmPattern)})
			return err
		}, "", ""},
		{"a name with a space", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("a b"), EventPattern: aws.String(alarmPattern)})
			return err
		}, "ValidationException", "at 'name' failed to satisfy constraint"},
		{"neither pattern nor schedule", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r")})
			return err
		}, "ValidationException", "EventPattern or ScheduleExpression must be specified"},
		{"a pattern that is not JSON", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":`)})
			return err
		}, "InvalidEventPatternException", "Event pattern is not valid"},
		{"a leaf that is not an array", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":"aws.cloudwatch"}`)})
			return err
		}, "InvalidEventPatternException", `Match value must be an array or an object at "source"`},
		{"an empty array", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"detail":{"state":{"value":[]}}}`)})
			return err
		}, "InvalidEventPatternException", `Empty arrays are not allowed at "detail.state.value"`},
		{"a filter the fake does not know", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"detail":{"n":[{"numeric":[">",0]}]}}`)})
			return err
		}, "InvalidEventPatternException", `"numeric" filter`},
		{"an unknown state", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(alarmPattern), State: "ON"})
			return err
		}, "ValidationException", "at 'state'"},
		{"another event bus", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(alarmPattern), EventBusName: aws.String("custom")})
			return err
		}, "ResourceNotFoundException", "Event bus custom does not exist."},
		{"describe a missing rule", func(eb *fakecloud.EventBridge) error {
			_, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("none")})
			return err
		}, "ResourceNotFoundException", "Rule none does not exist on EventBus default."},
		{"targets of a missing rule", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("none"), Targets: target("t", fn)})
			return err
		}, "ResourceNotFoundException", "Rule none does not exist"},
		{"a target ID with a slash", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("existing"), Targets: target("a/b", fn)})
			return err
		}, "ValidationException", "at 'targets.1.member.id'"},
		{"a target that is no ARN", func(eb *fakecloud.EventBridge) error {
			_, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("existing"), Targets: target("t", "rollback")})
			return err
		}, "ValidationException", "Parameter rollback is not valid."},
		{"a sixth target", func(eb *fakecloud.EventBridge) error {
			var ts []types.Target
			for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
				ts = append(ts, target(id, fn)...)
			}
			_, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("existing"), Targets: ts})
			return err
		}, "LimitExceededException", "exceeds the maximum number allowed"},
		{"a rule that has targets cannot be deleted", func(eb *fakecloud.EventBridge) error {
			if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("existing"), Targets: target("t", fn)}); err != nil {
				return err
			}
			_, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("existing")})
			return err
		}, "ValidationException", "Rule can't be deleted since it has targets."},
		{"deleting a missing rule succeeds", func(eb *fakecloud.EventBridge) error {
			_, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("none")})
			return err
		}, "", ""},
		{"tags of a missing rule", func(eb *fakecloud.EventBridge) error {
			_, err := eb.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(ruleARNPrefix + "none")})
			return err
		}, "ResourceNotFoundException", "Rule none does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			putRule(t, cloud, "existing", alarmPattern, "")
			cloud.ResetCalls()
			err := tt.call(cloud.EventBridge())
			if tt.wantCode == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, awsx.Code(err))
			assert.Contains(t, err.Error(), tt.wantMsg)
			calls := cloud.Calls()
			require.NotEmpty(t, calls)
			last := calls[len(calls)-1]
			assert.Equal(t, "EventBridge", last.Service)
			assert.Equal(t, tt.wantCode, last.Code, "the call log records the error code")
		})
	}
}

func TestEventBridgeLifecycle(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	eb := cloud.EventBridge()
	fn := "arn:aws:lambda:us-east-1:123456789012:function:rollback"

	out, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(alarmPattern), Description: aws.String("d"),
		Tags: []types.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}, {Key: aws.String("Name"), Value: aws.String("r")}}})
	require.NoError(t, err)
	arn := aws.ToString(out.RuleArn)
	assert.Equal(t, ruleARNPrefix+"r", arn)

	got, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("r"), EventBusName: aws.String("default")})
	require.NoError(t, err)
	assert.Equal(t, types.RuleStateEnabled, got.State, "omitted state is ENABLED")
	assert.Equal(t, alarmPattern, aws.ToString(got.EventPattern))
	assert.Equal(t, "d", aws.ToString(got.Description))

	// An update replaces pattern, state and description, and keeps tags.
	_, err = eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["aws.cloudwatch"]}`), State: types.RuleStateDisabled,
		Tags: []types.Tag{{Key: aws.String("ignored"), Value: aws.String("on update")}}})
	require.NoError(t, err)
	got, err = eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("r")})
	require.NoError(t, err)
	assert.Equal(t, types.RuleStateDisabled, got.State)
	assert.Nil(t, got.Description, "an omitted description is not kept")
	_, err = eb.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{{Key: aws.String("Owner"), Value: aws.String("ops")}}})
	require.NoError(t, err)
	tags, err := eb.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	require.NoError(t, err)
	var keys []string
	for _, tg := range tags.Tags {
		keys = append(keys, aws.ToString(tg.Key))
	}
	assert.Equal(t, []string{"Name", "Owner", "cutover:env"}, keys, "create-time tags and TagResource's, sorted")

	// Targets: put by ID (replace), listed by ID, paginated.
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("b"), Arn: aws.String(fn)}, {Id: aws.String("a"), Arn: aws.String(fn)}}})
	require.NoError(t, err)
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("a"), Arn: aws.String(fn + "2"), Input: aws.String(`{"x":1}`)}}})
	require.NoError(t, err)
	page1, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r"), Limit: aws.Int32(1)})
	require.NoError(t, err)
	require.Len(t, page1.Targets, 1)
	assert.Equal(t, "a", aws.ToString(page1.Targets[0].Id))
	assert.Equal(t, fn+"2", aws.ToString(page1.Targets[0].Arn))
	assert.Equal(t, `{"x":1}`, aws.ToString(page1.Targets[0].Input))
	page2, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r"), Limit: aws.Int32(1), NextToken: page1.NextToken})
	require.NoError(t, err)
	require.Len(t, page2.Targets, 1)
	assert.Equal(t, "b", aws.ToString(page2.Targets[0].Id))
	assert.Nil(t, page2.NextToken)

	// The inventory lists the rule by its ownership tag; the state saves.
	owned, err := cloud.TaggedWith("cutover:env", "dev")
	require.NoError(t, err)
	require.Len(t, owned, 1)
	assert.Equal(t, "eventbridge/rules "+arn+" (DISABLED)", owned[0].String())
	var buf bytes.Buffer
	require.NoError(t, cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"r"}, loaded.EventBridge().RuleNames())
	lt, err := loaded.EventBridge().ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r")})
	require.NoError(t, err)
	assert.Len(t, lt.Targets, 2)

	// Delete: targets first, then the rule.
	_, err = eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("r"), Ids: []string{"a", "b", "never-there"}})
	require.NoError(t, err)
	_, err = eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("r")})
	require.NoError(t, err)
	assert.Empty(t, eb.RuleNames())
	assert.Equal(t, 3, cloud.Count("EventBridge", "PutRule")+cloud.Count("EventBridge", "DeleteRule"))
	assert.Equal(t, 2, cloud.Count("EventBridge", "PutTargets"))
	assert.Len(t, cloud.Writes(), 7, "PutRule ×2, TagResource, PutTargets ×2, RemoveTargets, DeleteRule")

	// A cloud that never used EventBridge saves no state for it.
	var empty bytes.Buffer
	require.NoError(t, fakecloud.New().Save(&empty))
	assert.NotContains(t, empty.String(), "eventbridge")
}

// TestEventBridgeAlarmDelivery drives alarm state changes through rules
// to a Lambda function: what matches, what the function must allow, and
// the event's shape as rollback.DecodeAlarmEvents reads it.
func TestEventBridgeAlarmDelivery(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		pattern    string
		state      types.RuleState
		permission string // the SourceArn the function allows events.amazonaws.com for; "" = none
		composite  bool   // the alarm is a composite (else a metric alarm)
		noActions  bool   // the alarm's actions are disabled
		to         cwtypes.StateValue
		wantInvoke bool
		wantErr    string // of the delivery
	}{
		{name: "a composite alarm to ALARM is delivered", pattern: alarmPattern, composite: true, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r", wantInvoke: true},
		{name: "a metric alarm to ALARM is delivered", pattern: alarmPattern, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r", wantInvoke: true},
		{name: "delivered whether the alarm's actions are enabled or not", pattern: alarmPattern, composite: true, noActions: true, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r", wantInvoke: true},
		{name: "to OK does not match the pattern", pattern: alarmPattern, composite: true, to: cwtypes.StateValueOk, permission: ruleARNPrefix + "r"},
		{name: "another alarm does not match", pattern: `{"resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:other"]}`, composite: true, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r"},
		{name: "a disabled rule delivers nothing", pattern: alarmPattern, state: types.RuleStateDisabled, composite: true, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r"},
		{name: "prefix filter", pattern: `{"detail":{"alarmName":[{"prefix":"roll"}]}}`, composite: true, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r", wantInvoke: true},
		{name: "anything-but filter", pattern: `{"detail":{"state":{"value":[{"anything-but":["OK","INSUFFICIENT_DATA"]}]}}}`, composite: true, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r", wantInvoke: true},
		{name: "exists filter", pattern: `{"detail":{"configuration":{"alarmRule":[{"exists":true}]}}}`, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "r"},
		{name: "without the permission the delivery is refused", pattern: alarmPattern, composite: true, to: cwtypes.StateValueAlarm, wantErr: "events.amazonaws.com is not authorized"},
		{name: "a permission for another rule is not this one's", pattern: alarmPattern, composite: true, to: cwtypes.StateValueAlarm, permission: ruleARNPrefix + "other", wantErr: "not authorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			cw := cloud.CloudWatch()
			fnARN := createFunction(t, cloud, "rollback")
			var payloads [][]byte
			cloud.Lambda().SetHandler("rollback", func(_ context.Context, p []byte) ([]byte, error) {
				payloads = append(payloads, p)
				return nil, nil
			})
			if tt.permission != "" {
				_, err := cloud.Lambda().AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("rollback"), StatementId: aws.String("events"),
					Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String(tt.permission)})
				require.NoError(t, err)
			}
			_, err := cw.PutMetricAlarm(ctx, alarmInput("rate", func(in *cloudwatch.PutMetricAlarmInput) { in.AlarmActions = nil }))
			require.NoError(t, err)
			name := "rate"
			if tt.composite {
				name = "rollback"
				_, err = cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String(name), AlarmRule: aws.String(`ALARM("rate")`), ActionsEnabled: aws.Bool(!tt.noActions)})
				require.NoError(t, err)
			}
			pattern := tt.pattern
			if !tt.composite {
				pattern = strings.ReplaceAll(pattern, "alarm:rollback", "alarm:rate")
			}
			putRule(t, cloud, "r", pattern, tt.state)
			_, err = cloud.EventBridge().PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("rollback-lambda"), Arn: aws.String(fnARN)}}})
			require.NoError(t, err)
			_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: tt.to, StateReason: aws.String("test")})
			require.NoError(t, err)

			deliveries := cloud.EventBridge().EventDeliveries()
			matched := tt.wantInvoke || tt.wantErr != ""
			if !matched {
				assert.Empty(t, deliveries)
				assert.Empty(t, payloads)
				return
			}
			require.Len(t, deliveries, 1)
			d := deliveries[0]
			assert.Equal(t, "r", d.Rule)
			assert.Equal(t, "rollback-lambda", d.TargetID)
			assert.Equal(t, fnARN, d.Target)
			assert.Equal(t, "CloudWatch Alarm State Change", d.DetailType)
			if tt.wantErr != "" {
				assert.False(t, d.Delivered)
				assert.Contains(t, d.Err, tt.wantErr)
				assert.Empty(t, payloads)
				return
			}
			assert.True(t, d.Delivered, d.Err)
			require.Len(t, payloads, 1)
			inv := cloud.Lambda().Invocations()
			require.Len(t, inv, 1)
			assert.Equal(t, "eventbridge", inv[0].Type)

			// The event has EventBridge's shape ...
			var ev map[string]any
			require.NoError(t, json.Unmarshal(payloads[0], &ev))
			for _, k := range []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} {
				assert.Contains(t, ev, k)
			}
			assert.Equal(t, "0", ev["version"])
			assert.Equal(t, d.EventID, ev["id"])
			assert.Equal(t, "aws.cloudwatch", ev["source"])
			assert.Equal(t, "123456789012", ev["account"])
			assert.Equal(t, "us-east-1", ev["region"])
			assert.Equal(t, cloud.Clock().Now().UTC().Format(time.RFC3339), ev["time"])
			detail := ev["detail"].(map[string]any)
			for _, k := range []string{"alarmName", "state", "previousState", "configuration"} {
				assert.Contains(t, detail, k)
			}
			for _, k := range []string{"value", "reason", "timestamp"} {
				assert.Contains(t, detail["state"], k)
				assert.Contains(t, detail["previousState"], k)
			}
			// ... and the rollback handler reads it as an EventBridge delivery.
			events, err := rollback.DecodeAlarmEvents(payloads[0])
			require.NoError(t, err)
			require.Len(t, events, 1)
			e := events[0]
			assert.Equal(t, "eventbridge", e.Via)
			assert.Equal(t, name, e.AlarmName)
			assert.Equal(t, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"+name, e.AlarmARN)
			assert.Equal(t, string(tt.to), e.State)
			assert.Equal(t, "INSUFFICIENT_DATA", e.Previous)
			assert.Equal(t, "test", e.Reason)
			assert.Equal(t, cloud.Clock().Now(), e.Time)
		})
	}
}
