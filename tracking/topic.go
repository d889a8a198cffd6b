package tracking

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// TopicAPI is the part of the SNS client EnsureTopic and DeleteTopic use.
type TopicAPI interface {
	CreateTopic(context.Context, *sns.CreateTopicInput, ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
	GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	SetTopicAttributes(context.Context, *sns.SetTopicAttributesInput, ...func(*sns.Options)) (*sns.SetTopicAttributesOutput, error)
	ListTagsForResource(context.Context, *sns.ListTagsForResourceInput, ...func(*sns.Options)) (*sns.ListTagsForResourceOutput, error)
	TagResource(context.Context, *sns.TagResourceInput, ...func(*sns.Options)) (*sns.TagResourceOutput, error)
	Subscribe(context.Context, *sns.SubscribeInput, ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	Unsubscribe(context.Context, *sns.UnsubscribeInput, ...func(*sns.Options)) (*sns.UnsubscribeOutput, error)
	DeleteTopic(context.Context, *sns.DeleteTopicInput, ...func(*sns.Options)) (*sns.DeleteTopicOutput, error)
}

// Change kinds of the notification topic.
const (
	KindTopic        = "sns-topic"
	KindSubscription = "sns-subscription"
)

// TopicName returns the env's topic name, "migration-notifications-<suffix>".
func TopicName(env migration.Env) string { return env.Name("migration-notifications") }

// TopicARN returns the ARN of the env's topic (SNS topic ARNs are
// derived from the name).
func TopicARN(env migration.Env) string {
	return "arn:aws:sns:" + env.Region + ":" + env.Account + ":" + TopicName(env)
}

// PublisherServices are the AWS services the topic policy lets publish,
// for this account only: CloudWatch alarm actions and EventBridge rules.
var PublisherServices = []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"}

// Subscription is one endpoint of the topic.
type Subscription struct {
	// Protocol is email, email-json, https, sqs or lambda. Plain http is
	// refused: notifications travel over TLS only.
	Protocol string
	// Endpoint is the address (email), URL (https) or ARN (sqs, lambda).
	// An sqs queue needs a queue policy letting the topic send, and a
	// Lambda function a permission for sns.amazonaws.com; their owners
	// grant those.
	Endpoint string
}

func (s Subscription) key() string { return s.Protocol + "|" + s.Endpoint }

// Name is how the subscription appears in Changes: an https URL shows
// only its scheme and host, because paths of webhook URLs (a pager's
// integration key) are secrets.
func (s Subscription) Name() string {
	if s.Protocol == "https" {
		if u, err := url.Parse(s.Endpoint); err == nil {
			return "https:" + u.Scheme + "://" + u.Host + "/…"
		}
		return "https:(unparsable URL)"
	}
	return s.Protocol + ":" + s.Endpoint
}

// TopicSpec describes the env's notification topic.
type TopicSpec struct {
	// KMSKeyARN is the env key (migration.Key.ARN); required. The key
	// policy must let the publisher services use it, which
	// migration.KeyPolicy does.
	KMSKeyARN string
	// DisplayName is the sender name of email notifications; "cutover
	// <suffix>" when empty. At most 100 characters.
	DisplayName string
	// Subscriptions are the topic's endpoints. The list is authoritative:
	// a confirmed subscription not in it is removed.
	Subscriptions []Subscription
}

// Validate checks the spec.
func (s TopicSpec) Validate() error {
	var errs []error
	if err := checkKeyARN("topic.kmsKeyArn", s.KMSKeyARN); err != nil {
		errs = append(errs, err)
	}
	if len(s.DisplayName) > 100 {
		errs = append(errs, errors.New("topic.displayName: at most 100 characters"))
	}
	seen := map[string]bool{}
	for i, sub := range s.Subscriptions {
		field := fmt.Sprintf("topic.subscriptions[%d]", i)
		if err := sub.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
			continue
		}
		if seen[sub.key()] {
			errs = append(errs, fmt.Errorf("%s: duplicate of %s", field, sub.Name()))
		}
		seen[sub.key()] = true
	}
	return errors.Join(errs...)
}

func (s Subscription) validate() error {
	switch s.Protocol {
	case "email", "email-json":
		if a, err := mail.ParseAddress(s.Endpoint); err != nil || a.Address != s.Endpoint {
			return fmt.Errorf("endpoint %q is not an email address", s.Endpoint)
		}
	case "https":
		u, err := url.Parse(s.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return errors.New("endpoint is not an https:// URL")
		}
	case "sqs":
		if !strings.HasPrefix(s.Endpoint, "arn:aws") || !strings.Contains(s.Endpoint, ":sqs:") {
			return fmt.Errorf("endpoint %q is not an SQS queue ARN", s.Endpoint)
		}
	case "lambda":
		if !strings.HasPrefix(s.Endpoint, "arn:aws") || !strings.Contains(s.Endpoint, ":lambda:") {
			return fmt.Errorf("endpoint %q is not a Lambda function ARN", s.Endpoint)
		}
	case "http":
		return errors.New("protocol http is refused: notifications travel over TLS only; use https")
	default:
		return fmt.Errorf("protocol %q: use email, email-json, https, sqs or lambda", s.Protocol)
	}
	return nil
}

func (s TopicSpec) displayName(env migration.Env) string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return "cutover " + env.Suffix
}

// TopicPolicy returns the topic's access policy:
//
//   - the account may publish (its IAM policies decide who in it);
//   - CloudWatch (alarm actions) and EventBridge may publish, only on
//     behalf of this account (aws:SourceAccount), against the confused
//     deputy;
//   - anyone publishing without TLS is denied (aws:SecureTransport).
func TopicPolicy(env migration.Env, topicARN string) migration.PolicyDocument {
	return migration.NewPolicy(
		migration.Statement{Sid: "AllowAccountPublish", Effect: "Allow", Principal: migration.AWSPrincipal("arn:aws:iam::" + env.Account + ":root"),
			Action: migration.Strings{"SNS:Publish"}, Resource: migration.Strings{topicARN}},
		migration.Statement{Sid: "AllowServicePublish", Effect: "Allow", Principal: migration.ServicePrincipal(PublisherServices...),
			Action: migration.Strings{"SNS:Publish"}, Resource: migration.Strings{topicARN},
			Condition: migration.Condition{"StringEquals": {"aws:SourceAccount": {env.Account}}}},
		migration.Statement{Sid: "AllowPublishThroughSSLOnly", Effect: "Deny", Principal: &migration.Principal{Any: true},
			Action: migration.Strings{"SNS:Publish"}, Resource: migration.Strings{topicARN},
			Condition: migration.Condition{"Bool": {"aws:SecureTransport": {"false"}}}},
	)
}

// Topic is an ensured topic.
type Topic struct {
	Name string
	ARN  string
}

// EnsureTopic makes the env's notification topic exist and converge:
// encrypted with the spec's key, TopicPolicy, the display name, the env's
// tags, and exactly the spec's subscriptions.
//
// The topic is found by its ARN (derived from its name). A topic of that
// name without the env's ownership tag is refused. Creating is idempotent
// in SNS for the same name and attributes, so a create whose response was
// lost is harmless. Subscriptions are ensured one by one, idempotently:
// a missing one is subscribed (email and https ones then wait for the
// recipient to confirm, reported as pending), a confirmed one not in the
// spec is unsubscribed, an unconfirmed one not in the spec is left to
// expire (SNS cannot delete it). Every subscription is one Change. A
// converged topic costs reads only; dry run reads only; a pending key
// reports creates without any call.
func EnsureTopic(ctx context.Context, env migration.Env, api TopicAPI, spec TopicSpec) (Topic, error) {
	name := TopicName(env)
	if err := migration.Validate(env, spec); err != nil {
		return Topic{}, fmt.Errorf("ensure topic %q: %w", name, err)
	}
	t, err := ensureTopic(ctx, env, api, spec, name)
	if err != nil {
		return Topic{}, fmt.Errorf("ensure topic %q: %w", name, err)
	}
	return t, nil
}

func ensureTopic(ctx context.Context, env migration.Env, api TopicAPI, spec TopicSpec, name string) (Topic, error) {
	arn := TopicARN(env)
	policy := TopicPolicy(env, arn)
	reportCreate := func(id string) {
		env.Report(migration.Change{Kind: KindTopic, Name: name, ID: id, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "kmsKey", To: spec.KMSKeyARN}}})
		for _, sub := range spec.Subscriptions {
			env.Report(migration.Change{Kind: KindSubscription, Name: sub.Name(), ID: migration.Pending(sub.Name()), Action: migration.ActionCreate})
		}
	}
	if migration.IsPending(spec.KMSKeyARN) {
		reportCreate(migration.Pending(name))
		return Topic{Name: name, ARN: migration.Pending(name)}, nil
	}
	attrs, err := api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil && !awsx.IsNotFound(err) {
		return Topic{}, fmt.Errorf("get attributes: %w", err)
	}
	if err != nil { // not found
		if env.DryRun {
			reportCreate(migration.Pending(name))
			return Topic{Name: name, ARN: migration.Pending(name)}, nil
		}
		out, err := api.CreateTopic(ctx, &sns.CreateTopicInput{
			Name: aws.String(name),
			Attributes: map[string]string{
				"KmsMasterKeyId": spec.KMSKeyARN,
				"Policy":         policy.JSON(),
				"DisplayName":    spec.displayName(env),
			},
			Tags: snsTags(env.NameTags(name)),
		})
		if err != nil {
			return Topic{}, fmt.Errorf("create: %w", err)
		}
		arn = aws.ToString(out.TopicArn)
		env.Report(migration.Change{Kind: KindTopic, Name: name, ID: arn, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "kmsKey", To: spec.KMSKeyARN}}})
		if err := ensureSubscriptions(ctx, env, api, spec, arn, true); err != nil {
			return Topic{}, err
		}
		return Topic{Name: name, ARN: arn}, nil
	}

	tags, err := api.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return Topic{}, fmt.Errorf("list tags: %w", err)
	}
	have := fromSNSTags(tags.Tags)
	if !env.Owns(have) {
		return Topic{}, fmt.Errorf("topic exists without the ownership tag %s=%s; refusing to adopt it", migration.OwnerTag, env.Suffix)
	}
	var c migration.Converge
	set := func(attr, value string) func() error {
		return func() error {
			if _, err := api.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String(attr), AttributeValue: aws.String(value)}); err != nil {
				return fmt.Errorf("set %s: %w", attr, err)
			}
			return nil
		}
	}
	if k := attrs.Attributes["KmsMasterKeyId"]; k != spec.KMSKeyARN {
		from := k
		if from == "" {
			from = "(unencrypted)"
		}
		c.Fix("kmsKey", from, spec.KMSKeyARN, set("KmsMasterKeyId", spec.KMSKeyARN))
	}
	if !migration.PolicyEqual(attrs.Attributes["Policy"], policy.JSON()) {
		c.Fix("policy", "(differs)", "TopicPolicy(env)", set("Policy", policy.JSON()))
	}
	if d := attrs.Attributes["DisplayName"]; d != spec.displayName(env) {
		c.Fix("displayName", d, spec.displayName(env), set("DisplayName", spec.displayName(env)))
	}
	c.Tags(have, env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: snsTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	})
	if err := c.Apply(env, migration.Change{Kind: KindTopic, Name: name, ID: arn}); err != nil {
		return Topic{}, err
	}
	if err := ensureSubscriptions(ctx, env, api, spec, arn, false); err != nil {
		return Topic{}, err
	}
	return Topic{Name: name, ARN: arn}, nil
}

// ensureSubscriptions converges the topic's subscriptions on the spec's.
func ensureSubscriptions(ctx context.Context, env migration.Env, api TopicAPI, spec TopicSpec, arn string, fresh bool) error {
	type existing struct {
		arn     string
		pending bool
	}
	have := map[string][]existing{}
	var order []Subscription
	if !fresh {
		p := sns.NewListSubscriptionsByTopicPaginator(api, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list subscriptions: %w", err)
			}
			for _, s := range page.Subscriptions {
				sub := Subscription{Protocol: aws.ToString(s.Protocol), Endpoint: aws.ToString(s.Endpoint)}
				subARN := aws.ToString(s.SubscriptionArn)
				if _, seen := have[sub.key()]; !seen {
					order = append(order, sub)
				}
				have[sub.key()] = append(have[sub.key()], existing{arn: subARN, pending: !strings.HasPrefix(subARN, "arn:")})
			}
		}
	}
	want := map[string]bool{}
	for _, sub := range spec.Subscriptions {
		want[sub.key()] = true
		if ex := have[sub.key()]; len(ex) > 0 {
			c := migration.Change{Kind: KindSubscription, Name: sub.Name(), ID: ex[0].arn, Action: migration.ActionNoop}
			if ex[0].pending {
				c.ID, c.Note = "", "pending confirmation by the recipient"
			}
			env.Report(c)
			continue
		}
		if env.DryRun {
			env.Report(migration.Change{Kind: KindSubscription, Name: sub.Name(), ID: migration.Pending(sub.Name()), Action: migration.ActionCreate})
			continue
		}
		var out *sns.SubscribeOutput
		err := env.Retry(ctx, []string{"NotFound"}, func(ctx context.Context) error {
			var err error
			out, err = api.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String(sub.Protocol), Endpoint: aws.String(sub.Endpoint), ReturnSubscriptionArn: true})
			return err
		})
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", sub.Name(), err)
		}
		c := migration.Change{Kind: KindSubscription, Name: sub.Name(), ID: aws.ToString(out.SubscriptionArn), Action: migration.ActionCreate}
		if sub.Protocol == "email" || sub.Protocol == "email-json" || sub.Protocol == "https" {
			c.Note = "pending confirmation by the recipient"
		}
		env.Report(c)
	}
	for _, sub := range order {
		if want[sub.key()] {
			continue
		}
		for _, ex := range have[sub.key()] {
			if ex.pending {
				env.Report(migration.Change{Kind: KindSubscription, Name: sub.Name(), Action: migration.ActionNoop, Note: "not in the spec, unconfirmed: SNS lets it expire"})
				continue
			}
			if !env.DryRun {
				if _, err := api.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(ex.arn)}); err != nil && !awsx.IsNotFound(err) {
					return fmt.Errorf("unsubscribe %s: %w", sub.Name(), err)
				}
			}
			env.Report(migration.Change{Kind: KindSubscription, Name: sub.Name(), ID: ex.arn, Action: migration.ActionDelete, Note: "not in the spec"})
		}
	}
	return nil
}

// DeleteTopic deletes the env's topic and, with it, its subscriptions.
// It touches only a topic carrying the env's ownership tag and is a no-op
// when the topic is gone.
func DeleteTopic(ctx context.Context, env migration.Env, api TopicAPI, spec TopicSpec) error {
	name := TopicName(env)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete topic %q: %w", name, err)
	}
	arn := TopicARN(env)
	_, err := api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if awsx.IsNotFound(err) {
		env.ReportGone(KindTopic, name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete topic %q: get attributes: %w", name, err)
	}
	tags, err := api.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("delete topic %q: list tags: %w", name, err)
	}
	if !env.Owns(fromSNSTags(tags.Tags)) {
		env.ReportNotOwned(KindTopic, name, arn)
		return nil
	}
	if !env.DryRun {
		if _, err := api.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete topic %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindTopic, Name: name, ID: arn, Action: migration.ActionDelete, Note: "with its subscriptions"})
	return nil
}

func snsTags(m map[string]string) []snstypes.Tag {
	return awsx.Tags(m, func(k, v *string) snstypes.Tag { return snstypes.Tag{Key: k, Value: v} })
}

func fromSNSTags(tags []snstypes.Tag) map[string]string {
	return awsx.TagMap(tags, func(t snstypes.Tag) (*string, *string) { return t.Key, t.Value })
}
