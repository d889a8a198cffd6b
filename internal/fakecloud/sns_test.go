package fakecloud_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func TestSNSTopicsAndSubscriptions(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	api := cloud.SNS()
	attrs := map[string]string{"DisplayName": "cutover"}
	tags := []snstypes.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}}

	out, err := api.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("topic-dev"), Attributes: attrs, Tags: tags})
	require.NoError(t, err)
	arn := aws.ToString(out.TopicArn)
	assert.Equal(t, "arn:aws:sns:us-east-1:123456789012:topic-dev", arn)

	again, err := api.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("topic-dev"), Attributes: attrs, Tags: tags})
	require.NoError(t, err, "same name and attributes: idempotent")
	assert.Equal(t, arn, aws.ToString(again.TopicArn))
	_, err = api.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("topic-dev"), Attributes: map[string]string{"DisplayName": "other"}})
	require.ErrorContains(t, err, "Topic already exists with different attributes")
	_, err = api.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bad name")})
	assert.Equal(t, "InvalidParameter", awsx.Code(err))

	got, err := api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	require.NoError(t, err)
	assert.Contains(t, got.Attributes["Policy"], "AWS:SourceOwner", "a new topic has the default policy")

	sub := func(protocol, endpoint string) string {
		out, err := api.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String(protocol), Endpoint: aws.String(endpoint)})
		require.NoError(t, err)
		return aws.ToString(out.SubscriptionArn)
	}
	assert.Equal(t, "pending confirmation", sub("email", "ops@example.com"))
	assert.Equal(t, "pending confirmation", sub("email", "ops@example.com"), "idempotent by protocol and endpoint")
	q := sub("sqs", "arn:aws:sqs:us-east-1:123456789012:q")
	assert.True(t, strings.HasPrefix(q, arn+":"))
	assert.Equal(t, q, sub("sqs", "arn:aws:sqs:us-east-1:123456789012:q"))
	_, err = api.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("https"), Endpoint: aws.String("http://insecure.example.com")})
	assert.Equal(t, "InvalidParameter", awsx.Code(err))

	list, err := api.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	require.NoError(t, err)
	require.Len(t, list.Subscriptions, 2)
	pending := 0
	for _, s := range list.Subscriptions {
		if aws.ToString(s.SubscriptionArn) == "PendingConfirmation" {
			pending++
			assert.Equal(t, "ops@example.com", aws.ToString(s.Endpoint))
		}
	}
	assert.Equal(t, 1, pending)
	assert.True(t, api.ConfirmPending(arn, "ops@example.com"))
	assert.False(t, api.ConfirmPending(arn, "ops@example.com"), "already confirmed")

	_, err = api.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(q)})
	require.NoError(t, err)
	_, err = api.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(q)})
	assert.True(t, awsx.IsNotFound(err))

	tl, err := api.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	require.NoError(t, err)
	assert.Equal(t, []snstypes.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}}, tl.Tags)

	_, err = api.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(arn)})
	require.NoError(t, err)
	_, err = api.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(arn)})
	require.NoError(t, err, "deleting a missing topic succeeds, as in SNS")
	_, err = api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	assert.True(t, awsx.IsNotFound(err))
}

func TestSNSPublishValidation(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	api := cloud.SNS()
	key, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	out, err := api.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t"), Attributes: map[string]string{"KmsMasterKeyId": aws.ToString(key.KeyMetadata.Arn)}})
	require.NoError(t, err)
	arn := out.TopicArn

	tests := []struct {
		name    string
		subject *string
		message string
		code    string
	}{
		{"ok", aws.String("[cutover dev] validated -> cutting-over"), `{"phase":"cutting-over"}`, ""},
		{"no subject", nil, "m", ""},
		{"subject of 101 characters", aws.String(strings.Repeat("s", 101)), "m", "InvalidParameter"},
		{"subject with a line break", aws.String("a\nb"), "m", "InvalidParameter"},
		{"subject not ASCII", aws.String("validated → cutting-over"), "m", "InvalidParameter"},
		{"empty message", nil, "", "InvalidParameter"},
		{"message over 256 KB", nil, strings.Repeat("x", 256*1024+1), "InvalidParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(api.Published(*arn))
			_, err := api.Publish(ctx, &sns.PublishInput{TopicArn: arn, Subject: tt.subject, Message: aws.String(tt.message)})
			if tt.code != "" {
				assert.Equal(t, tt.code, awsx.Code(err))
				assert.Len(t, api.Published(*arn), before, "a refused message is not recorded")
				return
			}
			require.NoError(t, err)
			msgs := api.Published(*arn)
			require.Len(t, msgs, before+1)
			assert.Equal(t, tt.message, msgs[len(msgs)-1].Message)
		})
	}

	_, err = cloud.KMS().DisableKey(ctx, &kms.DisableKeyInput{KeyId: key.KeyMetadata.KeyId})
	require.NoError(t, err)
	_, err = api.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m")})
	assert.Equal(t, "KMSDisabled", awsx.Code(err), "a topic whose key is disabled loses messages: the publisher must know")
}

// TestSNSAlarmDelivery drives the publishSNS hook through a CloudWatch
// alarm action: the topic policy and the key policy decide.
func TestSNSAlarmDelivery(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		policy    string
		keyPolicy string
		delivered bool
	}{
		{name: "default topic policy, no key", delivered: true},
		{name: "policy allowing cloudwatch with the source account",
			policy:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["cloudwatch.amazonaws.com"]},"Action":["sns:Publish"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":["123456789012"]}}},{"Effect":"Deny","Principal":"*","Action":"SNS:Publish","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":["false"]}}}]}`,
			delivered: true},
		{name: "policy without cloudwatch",
			policy:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sns:Publish","Resource":"*"}]}`,
			delivered: false},
		{name: "policy for another source account",
			policy:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"999999999999"}}}]}`,
			delivered: false},
		{name: "encrypted topic whose key policy lets cloudwatch in",
			keyPolicy: `{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},{"Effect":"Allow","Principal":{"Service":["cloudwatch.amazonaws.com","events.amazonaws.com"]},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*"}]}`,
			delivered: true},
		{name: "encrypted topic with the default key policy",
			keyPolicy: "default",
			delivered: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			attrs := map[string]string{}
			if tt.policy != "" {
				attrs["Policy"] = tt.policy
			}
			if tt.keyPolicy != "" {
				in := &kms.CreateKeyInput{}
				if tt.keyPolicy != "default" {
					in.Policy = aws.String(tt.keyPolicy)
				}
				k, err := cloud.KMS().CreateKey(ctx, in)
				require.NoError(t, err)
				attrs["KmsMasterKeyId"] = aws.ToString(k.KeyMetadata.Arn)
			}
			topic, err := cloud.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alarms"), Attributes: attrs})
			require.NoError(t, err)
			_, err = cloud.CloudWatch().PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
				AlarmName: aws.String("a"), Namespace: aws.String("Cutover"), MetricName: aws.String("m"), Statistic: cwtypes.StatisticAverage,
				Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
				AlarmActions: []string{aws.ToString(topic.TopicArn)},
			})
			require.NoError(t, err)
			_, err = cloud.CloudWatch().SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")})
			require.NoError(t, err)
			ds := cloud.CloudWatch().AlarmDeliveries()
			require.Len(t, ds, 1)
			assert.Equal(t, tt.delivered, ds[0].Delivered, ds[0].Err)
			msgs := cloud.SNS().Published(aws.ToString(topic.TopicArn))
			if tt.delivered {
				require.Len(t, msgs, 1)
				assert.Equal(t, "cloudwatch.amazonaws.com", msgs[0].Publisher)
				assert.Contains(t, msgs[0].Message, `"NewStateValue":"ALARM"`)
			} else {
				assert.Empty(t, msgs)
			}
		})
	}
}

// TestSNSDeliversToLambda subscribes a function and publishes: the
// function receives the SNS event when its resource policy lets SNS
// invoke it for that topic, and the failure is recorded when it does not.
func TestSNSDeliversToLambda(t *testing.T) {
	ctx := context.Background()
	for _, allowed := range []bool{true, false} {
		cloud := fakecloud.New()
		role, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn-role"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
		require.NoError(t, err)
		cloud.Clock().Advance(time.Minute)
		var zipped bytes.Buffer
		zw := zip.NewWriter(&zipped)
		w, err := zw.Create("bootstrap")
		require.NoError(t, err)
		_, err = w.Write([]byte("binary"))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		fn, err := cloud.Lambda().CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("rollback"), Role: role.Role.Arn,
			Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
			Code: &lambdatypes.FunctionCode{ZipFile: zipped.Bytes()}})
		require.NoError(t, err)
		cloud.Clock().Advance(time.Minute)
		var mu sync.Mutex
		var got []events.SNSEvent
		cloud.Lambda().SetHandler("rollback", func(_ context.Context, payload []byte) ([]byte, error) {
			var ev events.SNSEvent
			if err := json.Unmarshal(payload, &ev); err != nil {
				return nil, err
			}
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
			return nil, nil
		})
		topic, err := cloud.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("notifications")})
		require.NoError(t, err)
		if allowed {
			_, err = cloud.Lambda().AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("rollback"), StatementId: aws.String("sns"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com"), SourceArn: topic.TopicArn})
			require.NoError(t, err)
		}
		_, err = cloud.SNS().Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: fn.FunctionArn})
		require.NoError(t, err)
		_, err = cloud.SNS().Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("rollback"), Message: aws.String(`{"to":"rolled-back"}`)})
		require.NoError(t, err, "publishing succeeds either way: delivery is asynchronous")

		msgs := cloud.SNS().Published(aws.ToString(topic.TopicArn))
		require.Len(t, msgs, 1)
		mu.Lock()
		if allowed {
			require.Len(t, got, 1)
			rec := got[0].Records[0]
			assert.Equal(t, "aws:sns", rec.EventSource)
			assert.Equal(t, aws.ToString(topic.TopicArn), rec.SNS.TopicArn)
			assert.Equal(t, `{"to":"rolled-back"}`, rec.SNS.Message)
			assert.Equal(t, "rollback", rec.SNS.Subject)
			assert.Equal(t, []string{"lambda:" + aws.ToString(fn.FunctionArn)}, msgs[0].Delivered)
		} else {
			assert.Empty(t, got)
			assert.Contains(t, msgs[0].Failed["lambda:"+aws.ToString(fn.FunctionArn)], "AccessDeniedException")
		}
		mu.Unlock()
	}
}
