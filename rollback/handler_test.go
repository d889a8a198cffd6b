package rollback_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

func TestDecodeAlarmEvents(t *testing.T) {
	snsMsg := func(name, state string) string {
		b, _ := json.Marshal(map[string]any{"AlarmName": name, "NewStateValue": state, "OldStateValue": "OK", "NewStateReason": "Threshold Crossed",
			"StateChangeTime": "2026-11-02T10:03:00.123+0000", "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + name})
		return string(b)
	}
	snsEvent, _ := json.Marshal(map[string]any{"Records": []map[string]any{
		{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": map[string]any{"Type": "Notification", "TopicArn": testTopicARN, "Message": snsMsg("a", "ALARM")}},
		{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": map[string]any{"Type": "Notification", "TopicArn": testTopicARN, "Message": snsMsg("b", "OK")}},
	}})
	tests := []struct {
		name    string
		payload string
		want    []rollback.AlarmEvent
		wantErr string
	}{
		{name: "Lambda alarm action", payload: `{"source":"aws.cloudwatch","alarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-rollback-dev","accountId":"123456789012",
			"time":"2026-11-02T10:03:00.000+0000","region":"us-east-1","alarmData":{"alarmName":"alarm-rollback-dev","state":{"value":"ALARM","reason":"rule true","timestamp":"2026-11-02T10:03:00.000+0000"},
			"previousState":{"value":"OK","reason":"x","timestamp":"2026-11-02T09:00:00.000+0000"},"configuration":{"alarmRule":"ALARM(a)"}}}`,
			want: []rollback.AlarmEvent{{AlarmName: "alarm-rollback-dev", AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-rollback-dev", State: "ALARM", Previous: "OK",
				Reason: "rule true", Time: time.Date(2026, 11, 2, 10, 3, 0, 0, time.UTC), Via: "alarm-action"}}},
		{name: "EventBridge alarm state change", payload: `{"version":"0","id":"c4c1c1c9-6542-e61b-6ef0-8c4d36933a92","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",
			"account":"123456789012","time":"2026-11-02T10:03:00Z","region":"us-east-1","resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"],
			"detail":{"alarmName":"a","state":{"value":"ALARM","reason":"r","timestamp":"2026-11-02T10:03:00.000+0000"},"previousState":{"value":"INSUFFICIENT_DATA"},"configuration":{}}}`,
			want: []rollback.AlarmEvent{{AlarmName: "a", AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a", State: "ALARM", Previous: "INSUFFICIENT_DATA", Reason: "r",
				Time: time.Date(2026, 11, 2, 10, 3, 0, 0, time.UTC), Via: "eventbridge"}}},
		{name: "SNS notifications, one event per record", payload: string(snsEvent),
			want: []rollback.AlarmEvent{
				{AlarmName: "a", AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a", State: "ALARM", Previous: "OK", Reason: "Threshold Crossed", Time: time.Date(2026, 11, 2, 10, 3, 0, 123e6, time.UTC), Via: "sns"},
				{AlarmName: "b", AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:b", State: "OK", Previous: "OK", Reason: "Threshold Crossed", Time: time.Date(2026, 11, 2, 10, 3, 0, 123e6, time.UTC), Via: "sns"},
			}},
		{name: "an SNS message that is not an alarm", payload: `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"hello"}}]}`, wantErr: "not a CloudWatch alarm notification"},
		{name: "another event source", payload: `{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`, wantErr: "not aws:sns"},
		{name: "another EventBridge event", payload: `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}`, wantErr: "neither"},
		{name: "not JSON", payload: `ALARM`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rollback.DecodeAlarmEvents([]byte(tt.payload))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// lambdaWorld is the rollback Lambda deployed on the fake cloud, its
// handler running in process, the alarms of the default policy pointing
// at it, and the cutover at 50 %.
type lambdaWorld struct {
	env      migration.Env
	cloud    *fakecloud.Cloud
	policy   rollback.Policy
	store    *fakeStore
	router   *fakeRouter
	notifier *fakeNotifier
	repl     *fakeReplication
	handler  *rollback.Handler
	spec     rollback.FunctionSpec
}

func newLambdaWorld(t *testing.T) *lambdaWorld {
	t.Helper()
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	env.Reporter = nil
	w := &lambdaWorld{env: env, cloud: cloud, policy: defaultPolicy(t, env), store: newStore(cloud.Clock(), migration.PhaseCuttingOver),
		router: newRouter(cloud.Clock()), notifier: &fakeNotifier{}, repl: newReplication()}
	w.router.split = migration.GreenPercent(50)
	alarms, err := rollback.EnsurePolicyAlarms(ctx, env, cloud.CloudWatch(), w.policy, []string{testTopicARN}, []string{rollback.FunctionARN(env)})
	require.NoError(t, err)
	spec := functionSpec(t, env, cloud, "v1")
	spec.AlarmARNs = []string{alarms.Composite.ARN}
	w.spec = spec
	fn, err := rollback.EnsureFunction(ctx, env, clients(cloud), spec)
	require.NoError(t, err)
	w.handler = &rollback.Handler{Env: env, Policy: w.policy, Metrics: rollback.Source{API: cloud.CloudWatch()},
		Router: w.router, Store: w.store, Notifier: w.notifier, Reverse: w.repl}
	cloud.Lambda().SetHandler(fn.Name, w.handler.Invoke)
	healthy().install(cloud, env)
	cloud.Clock().Advance(20 * time.Minute)
	_, err = cloud.CloudWatch().EvaluateAlarms(ctx)
	require.NoError(t, err)
	require.Empty(t, cloud.Lambda().Invocations(), "healthy: nothing fires")
	return w
}

// TestAlarmToLambdaToExecutor: green's 5xx rate spikes; CloudWatch's
// alarm and then the composite go to ALARM; the composite invokes the
// Lambda directly; the handler re-evaluates, confirms and rolls back.
// A second delivery of the same alarm is recognised.
func TestAlarmToLambdaToExecutor(t *testing.T) {
	ctx := context.Background()
	w := newLambdaWorld(t)
	bad := healthy()
	bad.target5xx = f64(100) // 10 %
	bad.install(w.cloud, w.env)
	w.cloud.Clock().Advance(3 * time.Minute)
	changed, err := w.cloud.CloudWatch().EvaluateAlarms(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"alarm-green-5xx-rate-dev", "alarm-rollback-dev"}, changed)

	inv := w.cloud.Lambda().Invocations()
	require.Len(t, inv, 1)
	assert.Empty(t, inv[0].Err)
	assert.Equal(t, "alarm", inv[0].Type, "invoked by the alarm action directly")
	assert.Equal(t, migration.PhaseRolledBack, w.store.current())
	assert.Equal(t, migration.AllBlue, w.router.split)
	assert.Equal(t, 1, w.repl.startCount())
	crit := w.notifier.bySeverity(migration.SeverityCritical)
	require.Len(t, crit, 1)
	assert.Equal(t, "lambda", crit[0].Details["actor"])
	rb := w.store.entries(rollback.EntryRollback)
	require.Len(t, rb, 1)
	assert.Equal(t, "lambda", rb[0].Actor)
	assert.Equal(t, "alarm-rollback-dev", rb[0].Details["alarm"])
	assert.Equal(t, "alarm-action", rb[0].Details["via"])
	assert.Contains(t, rb[0].Details["rule.green-5xx-rate"], "breaching")
	assert.Equal(t, w.router.lastShift().ChangeID, rb[0].Details["changeId"])
	alarmEntries := w.store.entries(rollback.EntryAlarm)
	require.Len(t, alarmEntries, 1)
	assert.Contains(t, alarmEntries[0].Summary, "re-evaluated: rollback")

	// The alarm fires again (reset by hand, still breaching): a duplicate.
	_, err = w.cloud.CloudWatch().SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("alarm-rollback-dev"), StateValue: types.StateValueOk, StateReason: aws.String("reset")})
	require.NoError(t, err)
	_, err = w.cloud.CloudWatch().EvaluateAlarms(ctx)
	require.NoError(t, err)
	require.Len(t, w.cloud.Lambda().Invocations(), 2)
	assert.Empty(t, w.cloud.Lambda().Invocations()[1].Err)
	assert.Equal(t, 1, w.store.transitionsTo(migration.PhaseRolledBack), "one transition")
	assert.Len(t, w.notifier.sent, 1, "one notification")
	assert.Len(t, w.store.entries(rollback.EntryDuplicate), 1)
	var delivered int
	for _, d := range w.cloud.CloudWatch().AlarmDeliveries() {
		if d.Action == rollback.FunctionARN(w.env) && d.Delivered {
			delivered++
		}
	}
	assert.Equal(t, 2, delivered)
}

// TestHandlerConcurrentDeliveries delivers one alarm event five times at
// once (SNS and the direct action both fire, Lambda retries): one
// rollback, one notification.
func TestHandlerConcurrentDeliveries(t *testing.T) {
	w := newLambdaWorld(t)
	bad := healthy()
	bad.target5xx = f64(100)
	bad.install(w.cloud, w.env)
	w.cloud.Clock().Advance(3 * time.Minute)
	payload := []byte(`{"source":"aws.cloudwatch","alarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-rollback-dev",
		"alarmData":{"alarmName":"alarm-rollback-dev","state":{"value":"ALARM","timestamp":"2026-11-02T09:23:00.000+0000"}}}`)
	var wg sync.WaitGroup
	results := make([][]rollback.HandlerResult, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := w.handler.Invoke(context.Background(), payload)
			assert.NoError(t, err)
			assert.NoError(t, json.Unmarshal(out, &results[i]))
		}()
	}
	wg.Wait()
	counts := map[rollback.Action]int{}
	for _, r := range results {
		require.Len(t, r, 1)
		counts[r[0].Action]++
	}
	assert.Equal(t, map[rollback.Action]int{rollback.ActionRolledBack: 1, rollback.ActionAlready: 4}, counts)
	assert.Equal(t, 1, w.store.transitionsTo(migration.PhaseRolledBack))
	assert.Len(t, w.notifier.sent, 1)
}

func TestHandlerDecisions(t *testing.T) {
	ctx := context.Background()
	alarm := func(state string) []byte {
		return []byte(`{"source":"aws.cloudwatch","alarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-rollback-dev",
			"alarmData":{"alarmName":"alarm-rollback-dev","state":{"value":"` + state + `"}}}`)
	}
	tests := []struct {
		name       string
		setup      func(w *lambdaWorld)
		payload    []byte
		want       rollback.Action
		wantPhase  migration.Phase
		wantNotify []migration.Severity
	}{
		{name: "an alarm the metrics do not confirm moves nothing", payload: alarm("ALARM"), want: rollback.ActionNotConfirmed,
			wantPhase: migration.PhaseCuttingOver, wantNotify: []migration.Severity{migration.SeverityWarning}},
		{name: "a breach with the reverse lag over budget freezes", setup: func(w *lambdaWorld) {
			bad := healthy()
			bad.target5xx = f64(100)
			bad.install(w.cloud, w.env)
			w.repl.set(func(f *fakeReplication) { f.reverse.Target = 10 * time.Minute })
		}, payload: alarm("ALARM"), want: rollback.ActionFrozen, wantPhase: migration.PhaseCuttingOver, wantNotify: []migration.Severity{migration.SeverityCritical}},
		{name: "metrics gone: held for a human", setup: func(w *lambdaWorld) {
			m := healthy()
			m.requests, m.p99 = nil, nil
			m.install(w.cloud, w.env)
		}, payload: alarm("ALARM"), want: rollback.ActionHeld, wantPhase: migration.PhaseCuttingOver, wantNotify: []migration.Severity{migration.SeverityWarning}},
		{name: "an OK state is ignored", payload: alarm("OK"), want: rollback.ActionIgnored, wantPhase: migration.PhaseCuttingOver},
		{name: "before the cutover there is nothing to roll back", setup: func(w *lambdaWorld) { w.store.phase = migration.PhaseValidated }, payload: alarm("ALARM"),
			want: rollback.ActionIgnored, wantPhase: migration.PhaseValidated},
		{name: "inside the rollback window after completion", setup: func(w *lambdaWorld) {
			w.store.phase = migration.PhaseComplete
			w.router.split = migration.GreenPercent(100)
			bad := healthy()
			bad.p99 = f64(4)
			bad.install(w.cloud, w.env)
		}, payload: alarm("ALARM"), want: rollback.ActionRolledBack, wantPhase: migration.PhaseRolledBack, wantNotify: []migration.Severity{migration.SeverityCritical}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newLambdaWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			w.cloud.Clock().Advance(5 * time.Minute)
			res, err := w.handler.Handle(ctx, tt.payload)
			require.NoError(t, err)
			require.Len(t, res, 1)
			assert.Equal(t, tt.want, res[0].Action, res[0].Message)
			assert.Equal(t, tt.wantPhase, w.store.current())
			var sev []migration.Severity
			for _, n := range w.notifier.sent {
				sev = append(sev, n.Severity)
			}
			assert.Equal(t, tt.wantNotify, sev)
			if tt.wantPhase != migration.PhaseRolledBack {
				assert.Empty(t, w.router.shifts, "traffic left in place")
			}
			assert.NotEmpty(t, w.store.entries(rollback.EntryAlarm), "every delivery is in the ledger")
		})
	}
}

func TestLambdaConfigFromEnv(t *testing.T) {
	env, _, _ := cloudEnv(t)
	cfg := lambdaConfig(t, env)
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.Less(t, len(b), 4096-len(rollback.ConfigEnvVar), "the default policy fits Lambda's environment")
	t.Setenv(rollback.ConfigEnvVar, string(b))
	got, err := rollback.LambdaConfigFromEnv()
	require.NoError(t, err)
	assert.Equal(t, cfg, got)
	assert.Equal(t, "dev", got.Env().Suffix)

	t.Setenv(rollback.ConfigEnvVar, "")
	_, err = rollback.LambdaConfigFromEnv()
	assert.ErrorContains(t, err, "is not set")
	cfg.TopicARN = ""
	b, _ = json.Marshal(cfg)
	t.Setenv(rollback.ConfigEnvVar, string(b))
	_, err = rollback.LambdaConfigFromEnv()
	assert.ErrorContains(t, err, "lambdaConfig.topicArn: required")
}

// TestAlarmToSNSToLambda: the Lambda subscribed to the notification topic
// as well (the SNS path). Every alarm of the policy notifies the topic;
// the first ALARM that reaches the handler rolls back, the others —
// the rule alarm and the composite, through SNS and directly — find it
// done; OK notifications are ignored.
func TestAlarmToSNSToLambda(t *testing.T) {
	ctx := context.Background()
	w := newLambdaWorld(t)
	topic, err := w.cloud.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("migration-notifications-dev")})
	require.NoError(t, err)
	require.Equal(t, testTopicARN, aws.ToString(topic.TopicArn))
	fnARN := rollback.FunctionARN(w.env)
	_, err = w.cloud.SNS().Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: aws.String(fnARN)})
	require.NoError(t, err)
	w.spec.TopicARNs = []string{testTopicARN}
	_, err = rollback.EnsureFunction(ctx, w.env, clients(w.cloud), w.spec) // the permission for sns.amazonaws.com
	require.NoError(t, err)

	bad := healthy()
	bad.target5xx = f64(100)
	bad.install(w.cloud, w.env)
	w.cloud.Clock().Advance(3 * time.Minute)
	_, err = w.cloud.CloudWatch().EvaluateAlarms(ctx)
	require.NoError(t, err)

	var via []string
	for _, inv := range w.cloud.Lambda().Invocations() {
		require.Empty(t, inv.Err)
		via = append(via, inv.Type)
	}
	assert.Equal(t, []string{"sns", "sns", "alarm"}, via, "the rule alarm through SNS, then the composite through SNS and directly")
	assert.Equal(t, migration.PhaseRolledBack, w.store.current())
	assert.Equal(t, 1, w.store.transitionsTo(migration.PhaseRolledBack))
	assert.Len(t, w.notifier.sent, 1)
	rb := w.store.entries(rollback.EntryRollback)
	require.Len(t, rb, 1)
	assert.Equal(t, "sns", rb[0].Details["via"])
	assert.Equal(t, "alarm-green-5xx-rate-dev", rb[0].Details["alarm"])
	assert.Len(t, w.store.entries(rollback.EntryDuplicate), 2)
}
