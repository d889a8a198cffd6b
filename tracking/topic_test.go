package tracking_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

const topicARN = "arn:aws:sns:us-east-1:123456789012:migration-notifications-dev"

var (
	email  = tracking.Subscription{Protocol: "email", Endpoint: "oncall@bank.example"}
	lambda = tracking.Subscription{Protocol: "lambda", Endpoint: "arn:aws:lambda:us-east-1:123456789012:function:migration-rollback-dev"}
	pager  = tracking.Subscription{Protocol: "https", Endpoint: "https://events.pager.example/integration/SECRETKEY/enqueue"}
	queue  = tracking.Subscription{Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:audit"}
)

func TestEnsureTopic(t *testing.T) {
	ctx := context.Background()
	type setup func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string)
	ensured := func(subs ...tracking.Subscription) setup {
		return func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
			_, err := tracking.EnsureTopic(ctx, env, cloud.SNS(), tracking.TopicSpec{KMSKeyARN: key, Subscriptions: subs})
			require.NoError(t, err)
		}
	}
	tests := []struct {
		name        string
		setup       setup
		subs        []tracking.Subscription
		dryRun      bool
		pendingKey  bool
		wantWrites  []string
		wantChanges []string // "action kind name"
		wantErr     string
	}{
		{
			name:       "missing topic and subscriptions are created",
			subs:       []tracking.Subscription{email, lambda},
			wantWrites: []string{"CreateTopic", "Subscribe", "Subscribe"},
			wantChanges: []string{"create sns-subscription email:oncall@bank.example", "create sns-subscription lambda:" + lambda.Endpoint,
				"create sns-topic migration-notifications-dev"},
		},
		{
			name:        "converged makes no write; the unconfirmed email stays pending",
			setup:       ensured(email, lambda),
			subs:        []tracking.Subscription{email, lambda},
			wantChanges: []string{"noop sns-subscription email:oncall@bank.example", "noop sns-subscription lambda:" + lambda.Endpoint, "noop sns-topic migration-notifications-dev"},
		},
		{
			name: "drifted key, policy, display name and tags converge",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				ensured()(t, env, cloud, key)
				for k, v := range map[string]string{"KmsMasterKeyId": "", "Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"SNS:Publish","Resource":"*"}]}`, "DisplayName": "hacked"} {
					_, err := cloud.SNS().SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(topicARN), AttributeName: aws.String(k), AttributeValue: aws.String(v)})
					require.NoError(t, err)
				}
				_, err := cloud.SNS().UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: aws.String(topicARN), TagKeys: []string{"Environment"}})
				require.NoError(t, err)
			},
			wantWrites:  []string{"SetTopicAttributes", "SetTopicAttributes", "SetTopicAttributes", "TagResource"},
			wantChanges: []string{"update sns-topic migration-notifications-dev"},
		},
		{
			name:       "the spec is authoritative: a confirmed extra is removed, an unconfirmed one left to expire",
			setup:      ensured(email, queue, lambda),
			subs:       []tracking.Subscription{lambda, pager},
			wantWrites: []string{"Subscribe", "Unsubscribe"},
			wantChanges: []string{"create sns-subscription https:https://events.pager.example/…", "delete sns-subscription sqs:" + queue.Endpoint,
				"noop sns-subscription email:oncall@bank.example", "noop sns-subscription lambda:" + lambda.Endpoint, "noop sns-topic migration-notifications-dev"},
		},
		{
			name:        "dry run on an empty cloud reports creates and writes nothing",
			subs:        []tracking.Subscription{email},
			dryRun:      true,
			wantChanges: []string{"create sns-subscription email:oncall@bank.example", "create sns-topic migration-notifications-dev"},
		},
		{
			name:        "a pending key reports creates without any call",
			subs:        []tracking.Subscription{email},
			dryRun:      true,
			pendingKey:  true,
			wantChanges: []string{"create sns-subscription email:oncall@bank.example", "create sns-topic migration-notifications-dev"},
		},
		{
			name: "a topic of that name without the ownership tag is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
				_, err := cloud.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("migration-notifications-dev"), Tags: []snstypes.Tag{{Key: aws.String("Name"), Value: aws.String("migration-notifications-dev")}}})
				require.NoError(t, err)
			},
			wantErr: "refusing to adopt",
		},
		{
			name:    "plain http is refused before any call",
			subs:    []tracking.Subscription{{Protocol: "http", Endpoint: "http://hooks.example/x"}},
			wantErr: "topic.subscriptions[0]: protocol http is refused",
		},
		{
			name:    "duplicates are refused",
			subs:    []tracking.Subscription{email, email},
			wantErr: "topic.subscriptions[1]: duplicate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _, key := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud, key)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter = report
			env.DryRun = tt.dryRun
			spec := tracking.TopicSpec{KMSKeyARN: key, Subscriptions: tt.subs}
			if tt.pendingKey {
				spec.KMSKeyARN = migration.Pending("alias/migration-dev")
			}
			topic, err := tracking.EnsureTopic(ctx, env, cloud.SNS(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure topic "migration-notifications-dev"`)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			var changes []string
			for _, c := range report.Changes() {
				changes = append(changes, string(c.Action)+" "+c.Kind+" "+c.Name)
				assert.NotContains(t, c.String(), "SECRETKEY", "webhook paths are secrets")
			}
			assert.Equal(t, tt.wantChanges, changes)
			if tt.pendingKey {
				assert.Empty(t, cloud.Calls())
			}
			if tt.dryRun {
				assert.True(t, migration.IsPending(topic.ARN))
				assert.Empty(t, cloud.SNS().Topics())
				return
			}
			assert.Equal(t, topicARN, topic.ARN)
			attrs, err := cloud.SNS().GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topicARN)})
			require.NoError(t, err)
			assert.Equal(t, key, attrs.Attributes["KmsMasterKeyId"])
			assert.Equal(t, "cutover dev", attrs.Attributes["DisplayName"])
			assert.True(t, migration.PolicyEqual(tracking.TopicPolicy(env, topicARN).JSON(), attrs.Attributes["Policy"]))
			cloud.ResetCalls()
			_, err = tracking.EnsureTopic(ctx, env, cloud.SNS(), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes(), "converged")
		})
	}
}

func TestTopicPolicy(t *testing.T) {
	env, _, _, _ := newEnv(t)
	var doc struct {
		Statement []struct {
			Sid       string
			Effect    string
			Principal json.RawMessage
			Action    []string
			Resource  []string
			Condition map[string]map[string][]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(tracking.TopicPolicy(env, topicARN).JSON()), &doc))
	require.Len(t, doc.Statement, 3)
	for _, s := range doc.Statement {
		assert.Equal(t, []string{topicARN}, s.Resource, "%s names the topic", s.Sid)
		assert.Equal(t, []string{"SNS:Publish"}, s.Action, "%s: publish only", s.Sid)
	}
	deny := doc.Statement[2]
	assert.Equal(t, "Deny", deny.Effect)
	assert.JSONEq(t, `"*"`, string(deny.Principal))
	assert.Equal(t, []string{"false"}, deny.Condition["Bool"]["aws:SecureTransport"])
	svc := doc.Statement[1]
	assert.JSONEq(t, `{"Service":["cloudwatch.amazonaws.com","events.amazonaws.com"]}`, string(svc.Principal))
	assert.Equal(t, []string{"123456789012"}, svc.Condition["StringEquals"]["aws:SourceAccount"])
	assert.JSONEq(t, `{"AWS":["arn:aws:iam::123456789012:root"]}`, string(doc.Statement[0].Principal))
}

// TestAlarmCanPublishToTheTopic checks the policies together: a
// CloudWatch alarm action reaches the encrypted topic through the topic
// policy and the env key's policy, while a topic with the default key
// policy would lose it.
func TestAlarmCanPublishToTheTopic(t *testing.T) {
	ctx := context.Background()
	env, cloud, _, key := newEnv(t)
	topic, err := tracking.EnsureTopic(ctx, env, cloud.SNS(), tracking.TopicSpec{KMSKeyARN: key})
	require.NoError(t, err)
	_, err = cloud.CloudWatch().PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("alarm-green-5xx-rate-dev"), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{topic.ARN},
	})
	require.NoError(t, err)
	_, err = cloud.CloudWatch().SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("alarm-green-5xx-rate-dev"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")})
	require.NoError(t, err)
	ds := cloud.CloudWatch().AlarmDeliveries()
	require.Len(t, ds, 1)
	assert.True(t, ds[0].Delivered, ds[0].Err)
	require.Len(t, cloud.SNS().Published(topic.ARN), 1)

	// The same with a key whose policy only has the account root.
	bare, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	_, err = cloud.SNS().SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(topic.ARN), AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: bare.KeyMetadata.Arn})
	require.NoError(t, err)
	_, err = cloud.CloudWatch().SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("alarm-green-5xx-rate-dev"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("test")})
	require.NoError(t, err)
	ds = cloud.CloudWatch().AlarmDeliveries()
	require.Len(t, ds, 1, "OK has no action")
	_, err = cloud.CloudWatch().SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("alarm-green-5xx-rate-dev"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")})
	require.NoError(t, err)
	ds = cloud.CloudWatch().AlarmDeliveries()
	require.Len(t, ds, 2)
	assert.False(t, ds[1].Delivered)
	assert.Contains(t, ds[1].Err, "KMSAccessDenied")
}

func TestDeleteTopic(t *testing.T) {
	ctx := context.Background()
	env, cloud, report, key := newEnv(t)
	spec := tracking.TopicSpec{KMSKeyARN: key, Subscriptions: []tracking.Subscription{queue}}
	_, err := tracking.EnsureTopic(ctx, env, cloud.SNS(), spec)
	require.NoError(t, err)

	dry := env
	dry.DryRun = true
	cloud.ResetCalls()
	require.NoError(t, tracking.DeleteTopic(ctx, dry, cloud.SNS(), spec))
	assert.Empty(t, cloud.Writes())
	assert.Len(t, cloud.SNS().Topics(), 1)

	*report = migration.Report{}
	require.NoError(t, tracking.DeleteTopic(ctx, env, cloud.SNS(), spec))
	assert.Equal(t, []string{"DeleteTopic"}, writeOps(cloud))
	assert.Empty(t, cloud.SNS().Topics())
	assert.Equal(t, []migration.Action{migration.ActionDelete}, actions(report))

	cloud.ResetCalls()
	require.NoError(t, tracking.DeleteTopic(ctx, env, cloud.SNS(), spec))
	assert.Empty(t, cloud.Writes(), "gone: a no-op")

	// A look-alike without the ownership tag is left alone.
	_, err = cloud.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("migration-notifications-dev")})
	require.NoError(t, err)
	cloud.ResetCalls()
	*report = migration.Report{}
	require.NoError(t, tracking.DeleteTopic(ctx, env, cloud.SNS(), spec))
	assert.Empty(t, cloud.Writes())
	assert.Contains(t, report.Changes()[0].Note, "not owned")
	assert.Len(t, cloud.SNS().Topics(), 1)
}

func TestSubject(t *testing.T) {
	tests := []struct {
		in   migration.Notification
		want string
	}{
		{migration.Notification{Env: "dev", From: migration.PhaseValidated, To: migration.PhaseCuttingOver}, "[cutover dev] validated -> cutting-over"},
		{migration.Notification{Env: "dev", Subject: "rollback → blue\nnow"}, "rollback -> blue now"},
		{migration.Notification{Env: "dev", Subject: "café"}, "caf?"},
		{migration.Notification{Env: "dev", Severity: migration.SeverityCritical}, "[cutover dev] critical"},
		{migration.Notification{Subject: strings.Repeat("x", 150)}, strings.Repeat("x", 97) + "..."},
	}
	for _, tt := range tests {
		got := tracking.Subject(tt.in)
		assert.Equal(t, tt.want, got)
		assert.LessOrEqual(t, len(got), 100)
	}
}

func TestNotifierOnTransition(t *testing.T) {
	ctx := context.Background()
	env, cloud, _, key := newEnv(t)
	topic, err := tracking.EnsureTopic(ctx, env, cloud.SNS(), tracking.TopicSpec{KMSKeyARN: key})
	require.NoError(t, err)
	_, err = tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
	require.NoError(t, err)
	n, err := tracking.NewNotifier(env, cloud.SNS(), topic.ARN)
	require.NoError(t, err)
	s, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{Notifier: n, Actor: "operator alice"})
	require.NoError(t, err)

	require.NoError(t, s.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "apply finished"))
	require.ErrorIs(t, s.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "again"), tracking.ErrConflict)
	msgs := cloud.SNS().Published(topic.ARN)
	require.Len(t, msgs, 1, "a lost transition notifies nothing")
	assert.Equal(t, "[cutover dev] planned -> provisioned", msgs[0].Subject)
	assert.Equal(t, map[string]string{"env": "dev", "severity": "info"}, msgs[0].Attrs)
	var m migration.Notification
	require.NoError(t, json.Unmarshal([]byte(msgs[0].Message), &m))
	assert.Equal(t, migration.PhasePlanned, m.From)
	assert.Equal(t, migration.PhaseProvisioned, m.To)
	assert.Equal(t, "apply finished", m.Reason)
	assert.Equal(t, "operator alice", m.Details["actor"])
	assert.Equal(t, cloud.Clock().Now().UTC(), m.Time)

	// Any notification: an error, with defaults filled in.
	cloud.Clock().Advance(time.Minute)
	require.NoError(t, n.Notify(ctx, migration.Notification{Severity: migration.SeverityCritical, Subject: "DMS task failed", Details: map[string]string{"task": "forward"}}))
	msgs = cloud.SNS().Published(topic.ARN)
	require.Len(t, msgs, 2)
	assert.Equal(t, "critical", msgs[1].Attrs["severity"])
	assert.Contains(t, msgs[1].Message, `"env":"dev"`)

	_, err = tracking.NewNotifier(env, cloud.SNS(), "migration-notifications-dev")
	require.ErrorContains(t, err, "not an SNS topic ARN")
}

func TestEnsureTopicUnderFaults(t *testing.T) {
	ctx := context.Background()
	env, cloud, _, key := newEnv(t)
	// Throttling, and a new topic invisible to its first reads: Subscribe
	// right after CreateTopic must wait it out, and a rerun converges
	// without a second topic or a duplicate subscription.
	cloud.ResetCalls()
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.5, NotFoundReads: 2})
	spec := tracking.TopicSpec{KMSKeyARN: key, Subscriptions: []tracking.Subscription{queue, lambda}}
	_, err := tracking.EnsureTopic(ctx, env, cloud.SNS(), spec)
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	throttled := 0
	for _, c := range cloud.Calls() {
		if c.Code == "Throttling" {
			throttled++
		}
	}
	assert.Positive(t, throttled, "the fault fired")
	cloud.ResetCalls()
	_, err = tracking.EnsureTopic(ctx, env, cloud.SNS(), spec)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
	assert.Len(t, cloud.SNS().Topics(), 1)
	subs, err := cloud.SNS().ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	require.NoError(t, err)
	assert.Len(t, subs.Subscriptions, 2)
}
