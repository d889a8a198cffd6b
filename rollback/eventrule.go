package rollback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// EventsAPI is the part of the EventBridge client EnsureAlarmRule and
// DeleteAlarmRule use.
type EventsAPI interface {
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	DeleteRule(context.Context, *eventbridge.DeleteRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error)
	TagResource(context.Context, *eventbridge.TagResourceInput, ...func(*eventbridge.Options)) (*eventbridge.TagResourceOutput, error)
	ListTagsForResource(context.Context, *eventbridge.ListTagsForResourceInput, ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error)
}

// KindEventRule is the Change kind of the EventBridge rule.
const KindEventRule = "eventbridge-rule"

// AlarmRuleTargetID is the ID of the rule's one target, the rollback
// Lambda. Targets with other IDs are not this package's.
const AlarmRuleTargetID = "rollback-lambda"

// The event an alarm rule matches: CloudWatch alarm state changes.
const (
	alarmEventSource     = "aws.cloudwatch"
	alarmEventDetailType = "CloudWatch Alarm State Change"
)

// AlarmRuleName returns the rule's name, "migration-rollback-alarms-<suffix>".
func AlarmRuleName(env migration.Env) string { return env.Name("migration-rollback-alarms") }

// AlarmRuleARN returns the ARN the rule has on the default event bus of
// env's account and Region, as the Lambda's resource policy needs it
// before the rule exists (FunctionSpec.RuleARNs).
func AlarmRuleARN(env migration.Env) string {
	return "arn:aws:events:" + env.Region + ":" + env.Account + ":rule/" + AlarmRuleName(env)
}

// AlarmRuleSpec describes the EventBridge rule that delivers alarm state
// changes to the rollback Lambda, a second path next to the composite
// alarm's own Lambda action.
type AlarmRuleSpec struct {
	// AlarmARNs are the alarms whose transitions to ALARM the rule
	// matches (PolicyAlarms.Composite.ARN): CloudWatch alarm ARNs of the
	// env's Region and account. The pattern lists them sorted.
	AlarmARNs []string
	// FunctionARN is the rollback Lambda the rule invokes
	// (Function.ARN); its resource policy must allow the rule
	// (FunctionSpec.RuleARNs).
	FunctionARN string
}

var (
	alarmARNPartsRe = regexp.MustCompile(`^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):([0-9]{12}):alarm:.+$`)
	functionARNRe   = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:([a-z0-9-]+):([0-9]{12}):function:[A-Za-z0-9_-]{1,64}$`)
)

// Validate checks the spec's fields on their own: at least one alarm
// ARN, each a CloudWatch alarm ARN listed once, and a Lambda function ARN
// (pending IDs of a dry run are accepted). EnsureAlarmRule and
// DeleteAlarmRule also require the ARNs to be of the env's Region and
// account.
func (s AlarmRuleSpec) Validate() error { return s.check("", "") }

// check validates the spec; non-empty region and account must match
// every ARN's.
func (s AlarmRuleSpec) check(region, account string) error {
	var errs []error
	if len(s.AlarmARNs) == 0 {
		errs = append(errs, errors.New("rule.alarmArns: at least one alarm ARN is required"))
	}
	if len(s.AlarmARNs) > 100 {
		errs = append(errs, fmt.Errorf("rule.alarmArns: %d alarms; at most 100 fit one pattern", len(s.AlarmARNs)))
	}
	seen := map[string]bool{}
	for _, a := range s.AlarmARNs {
		if seen[a] {
			errs = append(errs, fmt.Errorf("rule.alarmArns: %q listed twice", a))
			continue
		}
		seen[a] = true
		if migration.IsPending(a) {
			continue
		}
		m := alarmARNPartsRe.FindStringSubmatch(a)
		if m == nil {
			errs = append(errs, fmt.Errorf("rule.alarmArns: %q is not a CloudWatch alarm ARN", a))
			continue
		}
		errs = append(errs, checkPlace("rule.alarmArns", a, m[1], m[2], region, account))
	}
	switch m := functionARNRe.FindStringSubmatch(s.FunctionARN); {
	case migration.IsPending(s.FunctionARN):
	case m == nil:
		errs = append(errs, fmt.Errorf("rule.functionArn: %q is not a Lambda function ARN (required)", s.FunctionARN))
	default:
		errs = append(errs, checkPlace("rule.functionArn", s.FunctionARN, m[1], m[2], region, account))
	}
	return errors.Join(errs...)
}

// checkPlace refuses an ARN of another Region or account than the env's
// (when those are given): EventBridge rules match events of their own
// Region and account only.
func checkPlace(field, arn, arnRegion, arnAccount, region, account string) error {
	if region != "" && arnRegion != region {
		return fmt.Errorf("%s: %q is in Region %s, not the env's %s", field, arn, arnRegion, region)
	}
	if account != "" && arnAccount != account {
		return fmt.Errorf("%s: %q is in account %s, not the env's %s", field, arn, arnAccount, account)
	}
	return nil
}

// envRuleSpec validates a spec against an env's Region and account.
type envRuleSpec struct {
	spec AlarmRuleSpec
	env  migration.Env
}

func (s envRuleSpec) Validate() error { return s.spec.check(s.env.Region, s.env.Account) }

// AlarmRule is the ensured rule.
type AlarmRule struct {
	Name string
	// ARN is the rule's ARN, or a pending ID in a dry run that would
	// create it.
	ARN string
}

// AlarmRulePattern returns the rule's event pattern: CloudWatch alarm
// state changes to ALARM of the given alarms (sorted, so the same spec
// always gives the same pattern).
func AlarmRulePattern(alarmARNs []string) string {
	var p struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Resources  []string `json:"resources"`
		Detail     struct {
			State struct {
				Value []string `json:"value"`
			} `json:"state"`
		} `json:"detail"`
	}
	p.Source, p.DetailType, p.Resources = []string{alarmEventSource}, []string{alarmEventDetailType}, slices.Sorted(slices.Values(alarmARNs))
	p.Detail.State.Value = []string{stateAlarm}
	b, _ := json.Marshal(p) // strings only: cannot fail
	return string(b)
}

// stateAlarm is the alarm state that calls for a rollback.
const stateAlarm = "ALARM"

// samePattern reports whether two event patterns are the same JSON,
// whatever their spacing and key order.
func samePattern(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}

func alarmRuleDescription(env migration.Env) string {
	return "Invokes the rollback Lambda of cutover env " + env.Suffix + " when its rollback alarm goes to ALARM"
}

func ebTags(m map[string]string) []ebtypes.Tag {
	return awsx.Tags(m, func(k, v *string) ebtypes.Tag { return ebtypes.Tag{Key: k, Value: v} })
}

// ruleTags returns a rule's tags.
func ruleTags(ctx context.Context, api EventsAPI, arn string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return awsx.TagMap(out.Tags, func(t ebtypes.Tag) (*string, *string) { return t.Key, t.Value }), nil
}

// describeRule returns the rule named name on the default bus, or nil
// when there is none.
func describeRule(ctx context.Context, api EventsAPI, name string) (*eventbridge.DescribeRuleOutput, error) {
	out, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	if awsx.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	return out, nil
}

// ruleTargets lists every target of the rule, all pages.
func ruleTargets(ctx context.Context, api EventsAPI, name string) ([]ebtypes.Target, error) {
	var out []ebtypes.Target
	in := &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)}
	for {
		page, err := api.ListTargetsByRule(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list targets: %w", err)
		}
		out = append(out, page.Targets...)
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// EnsureAlarmRule makes the EventBridge rule that delivers the alarms'
// state changes to the rollback Lambda exist and converge: the rule
// AlarmRuleName on the default event bus, ENABLED, with the pattern
// AlarmRulePattern of spec.AlarmARNs, the description, the env's tags,
// and the target AlarmRuleTargetID invoking spec.FunctionARN with the
// event as it is. Targets with other IDs are left alone; someone else
// added them.
//
// It validates first (spec and the ARNs' Region and account), finds the
// rule by name and refuses to adopt one without the env's ownership tag.
// PutRule replaces a rule's pattern, state and description at once, so
// any drift of those is one PutRule; a drifted target is one PutTargets;
// missing tags one TagResource. A converged rule costs reads only. Dry
// run: reads only; a missing rule (or one whose alarms or function are
// pending) is reported as a create and returned with a pending ARN.
func EnsureAlarmRule(ctx context.Context, env migration.Env, api EventsAPI, spec AlarmRuleSpec) (AlarmRule, error) {
	name := AlarmRuleName(env)
	if err := migration.Validate(env, envRuleSpec{spec: spec, env: env}); err != nil {
		return AlarmRule{}, fmt.Errorf("ensure rule %q: %w", name, err)
	}
	r, err := ensureAlarmRule(ctx, env, api, spec, name)
	if err != nil {
		return AlarmRule{}, fmt.Errorf("ensure rule %q: %w", name, err)
	}
	return r, nil
}

func ensureAlarmRule(ctx context.Context, env migration.Env, api EventsAPI, spec AlarmRuleSpec, name string) (AlarmRule, error) {
	pending := AlarmRule{Name: name, ARN: migration.Pending(name)}
	if migration.AnyPending(append(slices.Clone(spec.AlarmARNs), spec.FunctionARN)...) {
		if !env.DryRun {
			return AlarmRule{}, errors.New("its alarms or function are pending: ensure them first")
		}
		env.Report(migration.Change{Kind: KindEventRule, Name: name, ID: pending.ARN, Action: migration.ActionCreate, Note: "its alarms or function are not created yet"})
		return pending, nil
	}
	pattern, desc := AlarmRulePattern(spec.AlarmARNs), alarmRuleDescription(env)
	putRule := func(tags map[string]string) (string, error) {
		out, err := api.PutRule(ctx, &eventbridge.PutRuleInput{
			Name: aws.String(name), Description: aws.String(desc), EventPattern: aws.String(pattern),
			State: ebtypes.RuleStateEnabled, Tags: ebTags(tags),
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.RuleArn), nil
	}
	target := ebtypes.Target{Id: aws.String(AlarmRuleTargetID), Arn: aws.String(spec.FunctionARN)}
	putTarget := func() error {
		out, err := api.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{target}})
		if err != nil {
			return fmt.Errorf("put target %s: %w", AlarmRuleTargetID, err)
		}
		if out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
			f := out.FailedEntries[0]
			return fmt.Errorf("put target %s: %s: %s", AlarmRuleTargetID, aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
		}
		return nil
	}

	got, err := describeRule(ctx, api, name)
	if err != nil {
		return AlarmRule{}, err
	}
	if got == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindEventRule, Name: name, ID: pending.ARN, Action: migration.ActionCreate})
			return pending, nil
		}
		// PutRule creates or replaces by name: a crash after it leaves a
		// rule the next run finds and converges, never a second one.
		arn, err := putRule(env.NameTags(name))
		if err != nil {
			return AlarmRule{}, fmt.Errorf("create: %w", err)
		}
		if err := putTarget(); err != nil {
			return AlarmRule{}, err
		}
		env.Report(migration.Change{Kind: KindEventRule, Name: name, ID: arn, Action: migration.ActionCreate})
		return AlarmRule{Name: name, ARN: arn}, nil
	}

	arn := aws.ToString(got.Arn)
	tags, err := ruleTags(ctx, api, arn)
	if err != nil {
		return AlarmRule{}, err
	}
	if !env.Owns(tags) {
		return AlarmRule{}, fmt.Errorf("rule %s exists without the ownership tag %s=%s; refusing to adopt it", arn, migration.OwnerTag, env.Suffix)
	}
	var diff []migration.FieldDiff
	if have := aws.ToString(got.EventPattern); !samePattern(have, pattern) {
		diff = append(diff, migration.FieldDiff{Field: "eventPattern", From: have, To: pattern})
	}
	if got.State != ebtypes.RuleStateEnabled {
		diff = append(diff, migration.FieldDiff{Field: "state", From: string(got.State), To: string(ebtypes.RuleStateEnabled)})
	}
	if have := aws.ToString(got.Description); have != desc {
		diff = append(diff, migration.FieldDiff{Field: "description", From: have, To: desc})
	}
	if aws.ToString(got.ScheduleExpression) != "" {
		diff = append(diff, migration.FieldDiff{Field: "scheduleExpression", From: aws.ToString(got.ScheduleExpression), To: ""})
	}
	var c migration.Converge
	c.FixAll(diff, func() error {
		if _, err := putRule(nil); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		return nil
	})
	targets, err := ruleTargets(ctx, api, name)
	if err != nil {
		return AlarmRule{}, err
	}
	haveTarget := "(missing)"
	if i := slices.IndexFunc(targets, func(t ebtypes.Target) bool { return aws.ToString(t.Id) == AlarmRuleTargetID }); i >= 0 {
		haveTarget = aws.ToString(targets[i].Arn)
		if !sameTarget(targets[i], target) {
			haveTarget += " (with other settings)"
		}
	}
	if haveTarget != spec.FunctionARN {
		c.Fix("target "+AlarmRuleTargetID, haveTarget, spec.FunctionARN, putTarget)
	}
	c.Tags(tags, env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String(arn), Tags: ebTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	})
	if err := c.Apply(env, migration.Change{Kind: KindEventRule, Name: name, ID: arn}); err != nil {
		return AlarmRule{}, err
	}
	return AlarmRule{Name: name, ARN: arn}, nil
}

// sameTarget reports whether have is want: the same function, invoked
// with the event as it is (no input, input path or transformer, no role,
// dead-letter queue or retry policy of its own).
func sameTarget(have, want ebtypes.Target) bool {
	return aws.ToString(have.Arn) == aws.ToString(want.Arn) && have.Input == nil && have.InputPath == nil &&
		have.InputTransformer == nil && have.RoleArn == nil && have.DeadLetterConfig == nil && have.RetryPolicy == nil
}

// DeleteAlarmRule deletes the rule: first every target (EventBridge
// refuses to delete a rule that has targets), then the rule — only when
// the rule carries the env's ownership tag; a rule without it is left in
// place and reported. A missing rule is a no-op. Dry run: reads only.
func DeleteAlarmRule(ctx context.Context, env migration.Env, api EventsAPI, spec AlarmRuleSpec) error {
	name := AlarmRuleName(env)
	if err := migration.Validate(env, envRuleSpec{spec: spec, env: env}); err != nil {
		return fmt.Errorf("delete rule %q: %w", name, err)
	}
	if err := deleteAlarmRule(ctx, env, api, name); err != nil {
		return fmt.Errorf("delete rule %q: %w", name, err)
	}
	return nil
}

func deleteAlarmRule(ctx context.Context, env migration.Env, api EventsAPI, name string) error {
	got, err := describeRule(ctx, api, name)
	if err != nil {
		return err
	}
	if got == nil {
		env.ReportGone(KindEventRule, name)
		return nil
	}
	arn := aws.ToString(got.Arn)
	tags, err := ruleTags(ctx, api, arn)
	if err != nil {
		return err
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindEventRule, name, arn)
		return nil
	}
	if !env.DryRun {
		targets, err := ruleTargets(ctx, api, name)
		if err != nil {
			return err
		}
		if err := removeTargets(ctx, api, name, targets); err != nil {
			return err
		}
		if _, err := api.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete: %w", err)
		}
	}
	env.Report(migration.Change{Kind: KindEventRule, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}

// removeTargets removes targets from the rule, at most 100 per call as
// EventBridge allows, failing on any entry EventBridge could not remove.
func removeTargets(ctx context.Context, api EventsAPI, name string, targets []ebtypes.Target) error {
	for batch := range slices.Chunk(targets, 100) {
		ids := make([]string, 0, len(batch))
		for _, t := range batch {
			ids = append(ids, aws.ToString(t.Id))
		}
		out, err := api.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: ids})
		if err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("remove targets: %w", err)
		}
		if err == nil && out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
			f := out.FailedEntries[0]
			return fmt.Errorf("remove target %s: %s: %s", aws.ToString(f.TargetId), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
		}
	}
	return nil
}
