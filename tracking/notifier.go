package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/cutoverkit/cutover/migration"
)

// PublishAPI is the part of the SNS client the Notifier uses.
type PublishAPI interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Notifier publishes the migration's notifications — transitions, errors,
// holds, completions — to the env's topic: the message is the
// migration.Notification as JSON, the Subject a readable one-liner, and
// the message attributes "env" and "severity" let a subscription filter
// (a pager subscribed to critical only).
type Notifier struct {
	env      migration.Env
	api      PublishAPI
	topicARN string
}

// NewNotifier returns a Notifier publishing to topicARN (Topic.ARN). A
// pending topic (dry run) makes a Notifier that publishes nothing.
func NewNotifier(env migration.Env, api PublishAPI, topicARN string) (*Notifier, error) {
	if err := env.Validate(); err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	if api == nil {
		return nil, errors.New("notifier: nil SNS client")
	}
	if !migration.IsPending(topicARN) && !strings.HasPrefix(topicARN, "arn:aws") {
		return nil, fmt.Errorf("notifier: %q is not an SNS topic ARN", topicARN)
	}
	return &Notifier{env: env, api: api, topicARN: topicARN}, nil
}

// maxSubject is SNS's subject limit.
const maxSubject = 100

// Subject returns the subject SNS will accept for m: m.Subject, or one
// built from the env and the phases, reduced to printable ASCII ("→"
// becomes "->"), whitespace collapsed, and cut to 100 characters.
func Subject(m migration.Notification) string {
	s := m.Subject
	if s == "" {
		env := m.Env
		switch {
		case m.From != "" && m.To != "":
			s = fmt.Sprintf("[cutover %s] %s -> %s", env, m.From, m.To)
		case m.To != "":
			s = fmt.Sprintf("[cutover %s] %s", env, m.To)
		default:
			s = fmt.Sprintf("[cutover %s] %s", env, m.Severity)
		}
	}
	s = strings.ReplaceAll(s, "→", "->")
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		case r < 0x20 || r > 0x7e:
			r = '?'
		}
		space = false
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if len(out) > maxSubject {
		out = out[:maxSubject-3] + "..."
	}
	if out == "" {
		out = "cutover notification"
	}
	return out
}

// Notify publishes m. Env defaults to the env's suffix, Time to the env
// clock's now, Severity to info. The message is the JSON of m; nothing in
// it is secret (Notification never carries secrets). Notify refuses a
// message over SNS's 256 KB and returns SNS's error otherwise; a pending
// topic publishes nothing.
func (n *Notifier) Notify(ctx context.Context, m migration.Notification) error {
	if m.Env == "" {
		m.Env = n.env.Suffix
	}
	if m.Time.IsZero() {
		m.Time = n.env.Now()
	}
	m.Time = m.Time.UTC()
	if m.Severity == "" {
		m.Severity = migration.SeverityInfo
	}
	m.Subject = Subject(m)
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify %q: %w", m.Subject, err)
	}
	if len(body) > 256*1024 {
		return fmt.Errorf("notify %q: message is %d bytes; SNS takes at most 256 KB", m.Subject, len(body))
	}
	if migration.IsPending(n.topicARN) {
		n.env.Log().Info("notification not sent: topic pending", "subject", m.Subject)
		return nil
	}
	_, err = n.api.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(n.topicARN),
		Subject:  aws.String(m.Subject),
		Message:  aws.String(string(body)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"env":      {DataType: aws.String("String"), StringValue: aws.String(m.Env)},
			"severity": {DataType: aws.String("String"), StringValue: aws.String(string(m.Severity))},
		},
	})
	if err != nil {
		return fmt.Errorf("notify %q: %w", m.Subject, err)
	}
	return nil
}
