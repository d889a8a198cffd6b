package fakecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNS is the fake SNS client. It mimics what an Ensure and a notifier
// depend on:
//
//   - CreateTopic is idempotent by name: the same name with the same
//     attributes and tags returns the existing ARN; different ones are
//     InvalidParameter, as in SNS. Topics are encrypted with
//     KmsMasterKeyId (checked when a message is published: a missing or
//     disabled key fails the publish with KMSNotFound / KMSDisabled).
//   - Subscribe is idempotent by protocol and endpoint. Email, email-json,
//     http and https subscriptions wait for confirmation (ConfirmPending
//     confirms them in tests); sqs and lambda are confirmed at once.
//     ListSubscriptionsByTopic shows "PendingConfirmation" for the others.
//   - Publish validates the subject (at most 100 printable ASCII
//     characters, no line breaks) and the message (at most 256 KB), keeps
//     every message for assertions (Published) and delivers it to the
//     confirmed lambda subscriptions through the invokeLambda hook, in the
//     SNS event shape Lambda receives.
//   - The publishSNS hook (CloudWatch alarm actions) publishes as
//     cloudwatch.amazonaws.com: the topic policy must allow that service
//     (the default policy does, through AWS:SourceOwner) and, for an
//     encrypted topic, the key policy must let it use the key — otherwise
//     the delivery fails, as an alarm's does in AWS.
//
// Get it with Cloud.SNS.
type SNS struct{ c *Cloud }

// SNS returns the SNS client of the cloud.
func (c *Cloud) SNS() *SNS { return &SNS{c: c} }

func init() {
	register("sns", func() any { return &snsState{} })
	publishSNS = func(c *Cloud, topicARN, subject, message string) error {
		return c.SNS().publishAs("cloudwatch.amazonaws.com", topicARN, subject, message)
	}
}

// SNS limits.
const (
	snsMaxMessage = 256 * 1024
	snsMaxSubject = 100
)

type snsState struct {
	Topics    map[string]*snsTopic `json:"topics"`        // by ARN
	Subs      map[string]*snsSub   `json:"subscriptions"` // by subscription ARN
	Published []SNSMessage         `json:"published"`
}

type snsTopic struct {
	ARN        string            `json:"arn"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes"`
	Tags       map[string]string `json:"tags"`
}

type snsSub struct {
	ARN      string `json:"arn"`
	TopicARN string `json:"topicArn"`
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
	Pending  bool   `json:"pending"`
	Token    string `json:"token,omitempty"`
}

// SNSMessage is one published message as the fake keeps it.
type SNSMessage struct {
	ID       string            `json:"id"`
	TopicARN string            `json:"topicArn"`
	Subject  string            `json:"subject,omitempty"`
	Message  string            `json:"message"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Time     time.Time         `json:"time"`
	// Publisher is who published: "" for an API caller, or a service
	// principal (cloudwatch.amazonaws.com) for a hook delivery.
	Publisher string `json:"publisher,omitempty"`
	// Delivered lists the endpoints the message reached; Failed the ones
	// it did not, with the error.
	Delivered []string          `json:"delivered,omitempty"`
	Failed    map[string]string `json:"failed,omitempty"`
}

const snsPageSize = 100

func (f *SNS) st() *snsState {
	s := state[snsState](f.c, "sns")
	if s.Topics == nil {
		s.Topics = map[string]*snsTopic{}
	}
	if s.Subs == nil {
		s.Subs = map[string]*snsSub{}
	}
	return s
}

func (f *SNS) topic(arn string) (*snsTopic, error) {
	t, ok := f.st().Topics[arn]
	if !ok || f.c.hidden(arn) {
		return nil, notFound("NotFound", "Topic does not exist")
	}
	return t, nil
}

var snsTopicNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// snsTopicAttributes are the attributes CreateTopic and SetTopicAttributes
// accept.
var snsTopicAttributes = []string{"DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "SignatureVersion", "TracingConfig", "FifoTopic", "ContentBasedDeduplication", "ArchivePolicy", "DataProtectionPolicy"}

func (f *SNS) checkAttribute(name, value string) error {
	if !slices.Contains(snsTopicAttributes, name) {
		return apiError("InvalidParameter", "Invalid parameter: AttributeName")
	}
	switch name {
	case "Policy":
		if err := checkPolicyJSON("InvalidParameter", value); err != nil {
			return apiError("InvalidParameter", "Invalid parameter: Policy Error: %v", err)
		}
	case "DisplayName":
		if len(value) > 100 {
			return apiError("InvalidParameter", "Invalid parameter: DisplayName must be at most 100 characters")
		}
	case "SignatureVersion":
		if value != "1" && value != "2" {
			return apiError("InvalidParameter", "Invalid parameter: SignatureVersion")
		}
	}
	return nil
}

// defaultTopicPolicy is the policy SNS gives a new topic: the owner
// account may manage and publish.
func (f *SNS) defaultTopicPolicy(arn string) string {
	p := map[string]any{
		"Version": "2008-10-17", "Id": "__default_policy_ID",
		"Statement": []any{map[string]any{
			"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"},
			"Action":    []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
			"Resource":  arn,
			"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceOwner": f.c.account}},
		}},
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// CreateTopic creates a topic, or returns the existing one of that name
// when attributes and tags match.
func (f *SNS) CreateTopic(ctx context.Context, in *sns.CreateTopicInput, _ ...func(*sns.Options)) (*sns.CreateTopicOutput, error) {
	var out *sns.CreateTopicOutput
	err := f.c.call(ctx, sns.ServiceID, "CreateTopic", true, func() error {
		name := aws.ToString(in.Name)
		if !snsTopicNameRe.MatchString(name) {
			return apiError("InvalidParameter", "Invalid parameter: Topic Name")
		}
		for k, v := range in.Attributes {
			if err := f.checkAttribute(k, v); err != nil {
				return err
			}
		}
		if len(in.Tags) > 50 {
			return apiError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
		}
		arn := f.c.arn("sns", name)
		s := f.st()
		if t, ok := s.Topics[arn]; ok {
			for k, v := range in.Attributes {
				if t.Attributes[k] != v {
					return apiError("InvalidParameter", "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
				}
			}
			for _, tag := range in.Tags {
				if have, ok := t.Tags[aws.ToString(tag.Key)]; !ok || have != aws.ToString(tag.Value) {
					return apiError("InvalidParameter", "Invalid parameter: Tags Reason: Topic already exists with different tags")
				}
			}
			out = &sns.CreateTopicOutput{TopicArn: aws.String(arn)}
			return nil
		}
		t := &snsTopic{ARN: arn, Name: name, Attributes: map[string]string{}, Tags: map[string]string{}}
		for k, v := range in.Attributes {
			t.Attributes[k] = v
		}
		for _, tag := range in.Tags {
			t.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		s.Topics[arn] = t
		f.c.created(arn)
		out = &sns.CreateTopicOutput{TopicArn: aws.String(arn)}
		return nil
	})
	return out, err
}

// GetTopicAttributes returns a topic's attributes, with the computed ones
// (TopicArn, Owner, Policy default, subscription counts) SNS adds.
func (f *SNS) GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	var out *sns.GetTopicAttributesOutput
	err := f.c.call(ctx, sns.ServiceID, "GetTopicAttributes", false, func() error {
		t, err := f.topic(aws.ToString(in.TopicArn))
		if err != nil {
			return err
		}
		attrs := map[string]string{"TopicArn": t.ARN, "Owner": f.c.account, "DisplayName": "", "SubscriptionsDeleted": "0",
			"EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false}}`}
		for k, v := range t.Attributes {
			attrs[k] = v
		}
		if attrs["Policy"] == "" {
			attrs["Policy"] = f.defaultTopicPolicy(t.ARN)
		}
		confirmed, pending := 0, 0
		for _, sub := range f.st().Subs {
			if sub.TopicARN != t.ARN {
				continue
			}
			if sub.Pending {
				pending++
			} else {
				confirmed++
			}
		}
		attrs["SubscriptionsConfirmed"] = fmt.Sprint(confirmed)
		attrs["SubscriptionsPending"] = fmt.Sprint(pending)
		out = &sns.GetTopicAttributesOutput{Attributes: attrs}
		return nil
	})
	return out, err
}

// SetTopicAttributes sets one attribute of a topic.
func (f *SNS) SetTopicAttributes(ctx context.Context, in *sns.SetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.SetTopicAttributesOutput, error) {
	err := f.c.call(ctx, sns.ServiceID, "SetTopicAttributes", true, func() error {
		t, err := f.topic(aws.ToString(in.TopicArn))
		if err != nil {
			return err
		}
		name, value := aws.ToString(in.AttributeName), aws.ToString(in.AttributeValue)
		if err := f.checkAttribute(name, value); err != nil {
			return err
		}
		if value == "" {
			delete(t.Attributes, name)
		} else {
			t.Attributes[name] = value
		}
		return nil
	})
	return &sns.SetTopicAttributesOutput{}, err
}

// ListTopics lists topic ARNs, 100 per page.
func (f *SNS) ListTopics(ctx context.Context, in *sns.ListTopicsInput, _ ...func(*sns.Options)) (*sns.ListTopicsOutput, error) {
	var out *sns.ListTopicsOutput
	err := f.c.call(ctx, sns.ServiceID, "ListTopics", false, func() error {
		var all []types.Topic
		for _, arn := range sortedKeys(f.st().Topics) {
			all = append(all, types.Topic{TopicArn: aws.String(arn)})
		}
		items, next, err := page(all, in.NextToken, snsPageSize)
		if err != nil {
			return err
		}
		out = &sns.ListTopicsOutput{Topics: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteTopic deletes a topic and its subscriptions. Deleting a topic
// that does not exist succeeds, as in SNS.
func (f *SNS) DeleteTopic(ctx context.Context, in *sns.DeleteTopicInput, _ ...func(*sns.Options)) (*sns.DeleteTopicOutput, error) {
	err := f.c.call(ctx, sns.ServiceID, "DeleteTopic", true, func() error {
		arn := aws.ToString(in.TopicArn)
		if !strings.HasPrefix(arn, "arn:aws:sns:") {
			return apiError("InvalidParameter", "Invalid parameter: TopicArn")
		}
		s := f.st()
		delete(s.Topics, arn)
		for k, sub := range s.Subs {
			if sub.TopicARN == arn {
				delete(s.Subs, k)
			}
		}
		return nil
	})
	return &sns.DeleteTopicOutput{}, err
}

// validEndpoint checks an endpoint for its protocol the way Subscribe
// does.
func (f *SNS) validEndpoint(protocol, endpoint string) error {
	bad := apiError("InvalidParameter", "Invalid parameter: Endpoint")
	switch protocol {
	case "email", "email-json":
		if a, err := mail.ParseAddress(endpoint); err != nil || a.Address != endpoint {
			return bad
		}
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != protocol || u.Host == "" {
			return bad
		}
	case "sqs":
		if !strings.HasPrefix(endpoint, "arn:aws:sqs:") {
			return bad
		}
	case "lambda":
		if !strings.HasPrefix(endpoint, "arn:aws:lambda:") {
			return bad
		}
	case "sms", "application", "firehose":
		return apiError("InvalidParameter", "Invalid parameter: the fake does not simulate %s subscriptions", protocol)
	default:
		return apiError("InvalidParameter", "Invalid parameter: Protocol")
	}
	return nil
}

// Subscribe subscribes an endpoint; subscribing the same protocol and
// endpoint again returns the existing subscription.
func (f *SNS) Subscribe(ctx context.Context, in *sns.SubscribeInput, _ ...func(*sns.Options)) (*sns.SubscribeOutput, error) {
	var out *sns.SubscribeOutput
	err := f.c.call(ctx, sns.ServiceID, "Subscribe", true, func() error {
		t, err := f.topic(aws.ToString(in.TopicArn))
		if err != nil {
			return err
		}
		protocol, endpoint := aws.ToString(in.Protocol), aws.ToString(in.Endpoint)
		if err := f.validEndpoint(protocol, endpoint); err != nil {
			return err
		}
		s := f.st()
		var sub *snsSub
		for _, e := range s.Subs {
			if e.TopicARN == t.ARN && e.Protocol == protocol && e.Endpoint == endpoint {
				sub = e
			}
		}
		if sub == nil {
			sub = &snsSub{ARN: t.ARN + ":" + f.c.newUUID(), TopicARN: t.ARN, Protocol: protocol, Endpoint: endpoint}
			switch protocol {
			case "email", "email-json", "http", "https":
				sub.Pending = true
				sub.Token = fmt.Sprintf("%x", mix(f.c.seq+7))
			}
			s.Subs[sub.ARN] = sub
		}
		arn := sub.ARN
		if sub.Pending && !in.ReturnSubscriptionArn {
			arn = "pending confirmation"
		}
		out = &sns.SubscribeOutput{SubscriptionArn: aws.String(arn)}
		return nil
	})
	return out, err
}

// ConfirmSubscription confirms a pending subscription with its token.
func (f *SNS) ConfirmSubscription(ctx context.Context, in *sns.ConfirmSubscriptionInput, _ ...func(*sns.Options)) (*sns.ConfirmSubscriptionOutput, error) {
	var out *sns.ConfirmSubscriptionOutput
	err := f.c.call(ctx, sns.ServiceID, "ConfirmSubscription", true, func() error {
		if _, err := f.topic(aws.ToString(in.TopicArn)); err != nil {
			return err
		}
		for _, sub := range f.st().Subs {
			if sub.TopicARN == aws.ToString(in.TopicArn) && sub.Token != "" && sub.Token == aws.ToString(in.Token) {
				sub.Pending = false
				out = &sns.ConfirmSubscriptionOutput{SubscriptionArn: aws.String(sub.ARN)}
				return nil
			}
		}
		return apiError("InvalidParameter", "Invalid token")
	})
	return out, err
}

// ConfirmPending confirms the pending subscription of endpoint to a
// topic, as the recipient clicking the link would. It reports whether
// there was one.
func (f *SNS) ConfirmPending(topicARN, endpoint string) bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for _, sub := range f.st().Subs {
		if sub.TopicARN == topicARN && sub.Endpoint == endpoint && sub.Pending {
			sub.Pending = false
			return true
		}
	}
	return false
}

// ListSubscriptionsByTopic lists a topic's subscriptions, 100 per page;
// unconfirmed ones show SubscriptionArn "PendingConfirmation".
func (f *SNS) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	var out *sns.ListSubscriptionsByTopicOutput
	err := f.c.call(ctx, sns.ServiceID, "ListSubscriptionsByTopic", false, func() error {
		t, err := f.topic(aws.ToString(in.TopicArn))
		if err != nil {
			return err
		}
		s := f.st()
		var all []types.Subscription
		for _, k := range sortedKeys(s.Subs) {
			sub := s.Subs[k]
			if sub.TopicARN != t.ARN {
				continue
			}
			arn := sub.ARN
			if sub.Pending {
				arn = "PendingConfirmation"
			}
			all = append(all, types.Subscription{SubscriptionArn: aws.String(arn), TopicArn: aws.String(t.ARN), Protocol: aws.String(sub.Protocol), Endpoint: aws.String(sub.Endpoint), Owner: aws.String(f.c.account)})
		}
		items, next, err := page(all, in.NextToken, snsPageSize)
		if err != nil {
			return err
		}
		out = &sns.ListSubscriptionsByTopicOutput{Subscriptions: items, NextToken: next}
		return nil
	})
	return out, err
}

// Unsubscribe deletes a confirmed subscription by ARN.
func (f *SNS) Unsubscribe(ctx context.Context, in *sns.UnsubscribeInput, _ ...func(*sns.Options)) (*sns.UnsubscribeOutput, error) {
	err := f.c.call(ctx, sns.ServiceID, "Unsubscribe", true, func() error {
		arn := aws.ToString(in.SubscriptionArn)
		if !strings.HasPrefix(arn, "arn:aws:sns:") {
			return apiError("InvalidParameter", "Invalid parameter: SubscriptionArn")
		}
		s := f.st()
		if _, ok := s.Subs[arn]; !ok {
			return notFound("NotFound", "Subscription does not exist")
		}
		delete(s.Subs, arn)
		return nil
	})
	return &sns.UnsubscribeOutput{}, err
}

// checkSubject applies SNS's subject rules: at most 100 characters of
// printable ASCII, no line breaks, not empty when given.
func checkSubject(subject *string) error {
	if subject == nil {
		return nil
	}
	s := *subject
	if s == "" || len(s) > snsMaxSubject {
		return apiError("InvalidParameter", "Invalid parameter: Subject")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return apiError("InvalidParameter", "Invalid parameter: Subject")
		}
	}
	return nil
}

// delivery is a Lambda delivery to make once the lock is released.
type snsDelivery struct {
	endpoint string
	payload  []byte
}

// publish validates and records a message and returns the Lambda
// deliveries to make. Call with mu held.
func (f *SNS) publish(publisher, topicARN string, subject *string, message string, attrs map[string]types.MessageAttributeValue) (string, []snsDelivery, error) {
	t, err := f.topic(topicARN)
	if err != nil {
		return "", nil, err
	}
	if err := checkSubject(subject); err != nil {
		return "", nil, err
	}
	if message == "" {
		return "", nil, apiError("InvalidParameter", "Invalid parameter: Empty message")
	}
	size := len(message)
	for k, v := range attrs {
		size += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	if size > snsMaxMessage {
		return "", nil, apiError("InvalidParameter", "Invalid parameter: Message too long")
	}
	if key := t.Attributes["KmsMasterKeyId"]; key != "" {
		k, err := f.c.KMS().key(key)
		switch {
		case err != nil:
			return "", nil, apiError("KMSNotFound", "Invalid keyId %s", key)
		case k.State == string(kmstypes.KeyStateDisabled):
			return "", nil, apiError("KMSDisabled", "%s is disabled", k.ARN)
		case k.State != string(kmstypes.KeyStateEnabled):
			return "", nil, apiError("KMSInvalidState", "%s is %s", k.ARN, k.State)
		}
		if publisher != "" && !keyPolicyAllows(k.Policy, publisher, "kms:GenerateDataKey", "kms:Decrypt") {
			return "", nil, apiError("KMSAccessDenied", "%s is not allowed to use %s", publisher, k.ARN)
		}
	}
	if publisher != "" {
		pol := t.Attributes["Policy"]
		if pol == "" {
			pol = f.defaultTopicPolicy(t.ARN)
		}
		if !topicPolicyAllows(pol, publisher, f.c.account) {
			return "", nil, apiError("AuthorizationError", "%s is not authorized to publish to %s", publisher, t.ARN)
		}
	}
	id := f.c.newUUID()
	now := f.c.now()
	msg := SNSMessage{ID: id, TopicARN: t.ARN, Message: message, Time: now, Publisher: publisher}
	if subject != nil {
		msg.Subject = *subject
	}
	if len(attrs) > 0 {
		msg.Attrs = map[string]string{}
		for k, v := range attrs {
			msg.Attrs[k] = aws.ToString(v.StringValue)
		}
	}
	var out []snsDelivery
	s := f.st()
	for _, k := range sortedKeys(s.Subs) {
		sub := s.Subs[k]
		if sub.TopicARN != t.ARN || sub.Pending {
			continue
		}
		if sub.Protocol != "lambda" {
			msg.Delivered = append(msg.Delivered, sub.Protocol+":"+sub.Endpoint)
			continue
		}
		ev := events.SNSEvent{Records: []events.SNSEventRecord{{
			EventVersion: "1.0", EventSubscriptionArn: sub.ARN, EventSource: "aws:sns",
			SNS: events.SNSEntity{
				Type: "Notification", MessageID: id, TopicArn: t.ARN, Subject: msg.Subject, Message: message, Timestamp: now,
				SignatureVersion: "1", Signature: "fake", SigningCertURL: "https://sns." + f.c.region + ".amazonaws.com/fake.pem",
				UnsubscribeURL: "https://sns." + f.c.region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + sub.ARN, MessageAttributes: map[string]any{},
			},
		}}}
		for k, v := range attrs {
			ev.Records[0].SNS.MessageAttributes[k] = map[string]any{"Type": aws.ToString(v.DataType), "Value": aws.ToString(v.StringValue)}
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return "", nil, err
		}
		out = append(out, snsDelivery{endpoint: sub.Endpoint, payload: payload})
	}
	s.Published = append(s.Published, msg)
	return id, out, nil
}

// deliver runs the Lambda deliveries without the lock and records their
// outcome on the published message.
func (f *SNS) deliver(id string, ds []snsDelivery) {
	for _, d := range ds {
		var err error
		if invokeLambda == nil {
			err = fmt.Errorf("no Lambda service in this cloud")
		} else {
			err = invokeLambda(f.c, d.endpoint, d.payload)
		}
		f.c.mu.Lock()
		s := f.st()
		for i := range s.Published {
			if s.Published[i].ID != id {
				continue
			}
			if err == nil {
				s.Published[i].Delivered = append(s.Published[i].Delivered, "lambda:"+d.endpoint)
			} else {
				if s.Published[i].Failed == nil {
					s.Published[i].Failed = map[string]string{}
				}
				s.Published[i].Failed["lambda:"+d.endpoint] = err.Error()
			}
		}
		f.c.mu.Unlock()
	}
}

// Publish publishes a message to a topic (TopicArn or TargetArn).
func (f *SNS) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	var id string
	var ds []snsDelivery
	err := f.c.call(ctx, sns.ServiceID, "Publish", true, func() error {
		arn := aws.ToString(in.TopicArn)
		if arn == "" {
			arn = aws.ToString(in.TargetArn)
		}
		if in.PhoneNumber != nil {
			return apiError("InvalidParameter", "Invalid parameter: the fake does not send SMS")
		}
		if in.MessageStructure != nil && *in.MessageStructure != "json" {
			return apiError("InvalidParameter", "Invalid parameter: MessageStructure")
		}
		var err error
		id, ds, err = f.publish("", arn, in.Subject, aws.ToString(in.Message), in.MessageAttributes)
		return err
	})
	if err != nil {
		return nil, err
	}
	f.deliver(id, ds)
	return &sns.PublishOutput{MessageId: aws.String(id)}, nil
}

// publishAs publishes as an AWS service (the publishSNS hook): the topic
// policy and the key policy must let that service publish. It is a
// delivery inside AWS, not an API call of the library, so it is not in
// the call log and no fault applies to it.
func (f *SNS) publishAs(principal, topicARN, subject, message string) error {
	var sub *string
	if subject != "" {
		sub = aws.String(subject)
	}
	f.c.mu.Lock()
	id, ds, err := f.publish(principal, topicARN, sub, message, nil)
	f.c.mu.Unlock()
	if err != nil {
		return err
	}
	f.deliver(id, ds)
	return nil
}

// Published returns the messages published to a topic (every topic when
// topicARN is empty), oldest first.
func (f *SNS) Published(topicARN string) []SNSMessage {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []SNSMessage
	for _, m := range f.st().Published {
		if topicARN == "" || m.TopicARN == topicARN {
			out = append(out, m)
		}
	}
	return out
}

// Topics returns the ARNs of the topics of the account, in order.
func (f *SNS) Topics() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Topics)
}

// tagTopic resolves a tagging ARN to a topic.
func (f *SNS) tagTopic(arn string) (*snsTopic, error) {
	t, ok := f.st().Topics[arn]
	if !ok {
		return nil, notFound("ResourceNotFound", "Resource does not exist")
	}
	return t, nil
}

// TagResource adds or overwrites tags of a topic (at most 50).
func (f *SNS) TagResource(ctx context.Context, in *sns.TagResourceInput, _ ...func(*sns.Options)) (*sns.TagResourceOutput, error) {
	err := f.c.call(ctx, sns.ServiceID, "TagResource", true, func() error {
		t, err := f.tagTopic(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		keys := map[string]bool{}
		for k := range t.Tags {
			keys[k] = true
		}
		for _, tag := range in.Tags {
			keys[aws.ToString(tag.Key)] = true
		}
		if len(keys) > 50 {
			return apiError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
		}
		for _, tag := range in.Tags {
			t.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return nil
	})
	return &sns.TagResourceOutput{}, err
}

// UntagResource removes tags of a topic.
func (f *SNS) UntagResource(ctx context.Context, in *sns.UntagResourceInput, _ ...func(*sns.Options)) (*sns.UntagResourceOutput, error) {
	err := f.c.call(ctx, sns.ServiceID, "UntagResource", true, func() error {
		t, err := f.tagTopic(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(t.Tags, k)
		}
		return nil
	})
	return &sns.UntagResourceOutput{}, err
}

// ListTagsForResource lists a topic's tags.
func (f *SNS) ListTagsForResource(ctx context.Context, in *sns.ListTagsForResourceInput, _ ...func(*sns.Options)) (*sns.ListTagsForResourceOutput, error) {
	var out *sns.ListTagsForResourceOutput
	err := f.c.call(ctx, sns.ServiceID, "ListTagsForResource", false, func() error {
		t, err := f.tagTopic(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		out = &sns.ListTagsForResourceOutput{Tags: []types.Tag{}}
		for _, k := range sortedKeys(t.Tags) {
			out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(t.Tags[k])})
		}
		return nil
	})
	return out, err
}

// ---- a small policy evaluator for service publishers ----

type snsPolicy struct {
	Statement []struct {
		Effect    string          `json:"Effect"`
		Principal json.RawMessage `json:"Principal"`
		Action    json.RawMessage `json:"Action"`
		Condition map[string]map[string]json.RawMessage
	} `json:"Statement"`
}

// stringsOf reads a policy value that is a string or a list of strings.
func stringsOf(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// principalMatches reports whether a statement's principal covers the
// service principal.
func principalMatches(raw json.RawMessage, service string) bool {
	if slices.Contains(stringsOf(raw), "*") {
		return true
	}
	var p struct {
		AWS     json.RawMessage `json:"AWS"`
		Service json.RawMessage `json:"Service"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return false
	}
	return slices.Contains(stringsOf(p.Service), service) || (p.AWS != nil && slices.Contains(stringsOf(p.AWS), "*"))
}

// actionMatches reports whether a statement's actions cover want
// (case-insensitive, with "*" and "svc:*" wildcards, and "Prefix*").
func actionMatches(raw json.RawMessage, want string) bool {
	for _, a := range stringsOf(raw) {
		a = strings.ToLower(a)
		w := strings.ToLower(want)
		if a == "*" || a == w || (strings.HasSuffix(a, "*") && strings.HasPrefix(w, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

// conditionsHold evaluates the conditions a service delivery can be
// judged on: source account/owner equality and aws:SecureTransport (a
// delivery is always over TLS). Other keys are taken to hold.
func conditionsHold(cond map[string]map[string]json.RawMessage, account string) bool {
	for op, kv := range cond {
		for k, raw := range kv {
			vals := stringsOf(raw)
			switch strings.ToLower(k) {
			case "aws:sourceaccount", "aws:sourceowner":
				if (op == "StringEquals" || op == "StringLike") && !slices.Contains(vals, account) {
					return false
				}
			case "aws:securetransport":
				if op == "Bool" && !slices.Contains(vals, "true") {
					return false
				}
			}
		}
	}
	return true
}

// topicPolicyAllows reports whether a topic policy lets a service publish
// from this account: an Allow matches and no Deny does.
func topicPolicyAllows(policy, service, account string) bool {
	var p snsPolicy
	if json.Unmarshal([]byte(policy), &p) != nil {
		return false
	}
	allowed := false
	for _, s := range p.Statement {
		if !principalMatches(s.Principal, service) || !actionMatches(s.Action, "sns:Publish") || !conditionsHold(s.Condition, account) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		if s.Effect == "Allow" {
			allowed = true
		}
	}
	return allowed
}

// keyPolicyAllows reports whether a key policy lets a service principal
// use the key for every one of actions (statements naming the service;
// the account-root statement does not cover a service).
func keyPolicyAllows(policy, service string, actions ...string) bool {
	var p snsPolicy
	if json.Unmarshal([]byte(policy), &p) != nil {
		return false
	}
	for _, want := range actions {
		ok := false
		for _, s := range p.Statement {
			var pr struct {
				Service json.RawMessage `json:"Service"`
			}
			if s.Effect != "Allow" || json.Unmarshal(s.Principal, &pr) != nil || !slices.Contains(stringsOf(pr.Service), service) {
				continue
			}
			if actionMatches(s.Action, want) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
