package fakecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// EventBridge is the fake EventBridge client, rules on the default event
// bus as a reconciler and an alarm consumer meet them:
//
//   - PutRule creates or replaces a rule by name: it validates the name
//     (1..64 of letters, digits, . - _), needs an event pattern or a
//     schedule expression, and parses the pattern (InvalidEventPatternException
//     for what EventBridge refuses; the fake matches literal values,
//     prefix, exists and anything-but). Omitted State is ENABLED; Tags
//     apply on create only (TagResource afterwards), as the fake does for
//     CloudWatch alarms.
//   - PutTargets and RemoveTargets keep at most five targets per rule,
//     each ID 1..64 of letters, digits, . - _; DeleteRule refuses a rule
//     that still has targets (ValidationException) and succeeds on a rule
//     that is gone, as EventBridge does.
//   - Any bus other than the default one is ResourceNotFoundException.
//   - Delivery: every CloudWatch alarm state change (publishEvent hook,
//     from cloudwatch_alarms.go) is a "CloudWatch Alarm State Change"
//     event; each ENABLED rule whose pattern matches it invokes its Lambda
//     targets through the invokeLambdaAs hook as events.amazonaws.com with
//     the rule as the source, so the function's resource policy must
//     allow that rule. Every delivery is kept for assertions
//     (EventDeliveries).
//
// Get it with Cloud.EventBridge.
type EventBridge struct{ c *Cloud }

// EventBridge returns the EventBridge client of the cloud.
func (c *Cloud) EventBridge() *EventBridge { return &EventBridge{c: c} }

func init() {
	register("eventbridge", func() any { return &eventsState{} })
	publishEvent = func(c *Cloud, event []byte) { c.EventBridge().publish(event) }
}

// EventBridge limits.
const (
	eventsMaxTargets = 5
	eventsMaxTags    = 50
)

type eventsState struct {
	Rules      map[string]*eventRule `json:"rules"` // by name, default bus
	Deliveries []EventDelivery       `json:"deliveries,omitempty"`
}

type eventRule struct {
	Name        string            `json:"name"`
	ARN         string            `json:"arn"`
	Description string            `json:"description,omitempty"`
	Pattern     string            `json:"eventPattern,omitempty"`
	Schedule    string            `json:"scheduleExpression,omitempty"`
	State       string            `json:"state"`
	RoleARN     string            `json:"roleArn,omitempty"`
	Targets     []eventTarget     `json:"targets,omitempty"`
	Tags        map[string]string `json:"tags"`
}

type eventTarget struct {
	ID    string `json:"id"`
	ARN   string `json:"arn"`
	Input string `json:"input,omitempty"`
}

// EventDelivery is one event the fake delivered (or failed to deliver)
// to a rule's target.
type EventDelivery struct {
	Time       time.Time `json:"time"`
	EventID    string    `json:"eventId"`
	DetailType string    `json:"detailType"`
	Rule       string    `json:"rule"`
	TargetID   string    `json:"targetId"`
	Target     string    `json:"target"`
	Delivered  bool      `json:"delivered"`
	Err        string    `json:"error,omitempty"`
}

var (
	eventsNameRe  = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)
	eventsTargRe  = regexp.MustCompile(`^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}):(.+)$`)
	eventsStates  = []string{string(types.RuleStateEnabled), string(types.RuleStateDisabled)}
	lambdaFuncARN = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$`)
)

func (f *EventBridge) st() *eventsState {
	s := state[eventsState](f.c, "eventbridge")
	if s.Rules == nil {
		s.Rules = map[string]*eventRule{}
	}
	return s
}

func (f *EventBridge) ruleARN(name string) string { return f.c.arn("events", "rule/"+name) }

// checkBus accepts the default bus by name or ARN (or none).
func (f *EventBridge) checkBus(bus *string) error {
	switch b := aws.ToString(bus); b {
	case "", "default", f.c.arn("events", "event-bus/default"):
		return nil
	default:
		return notFound("ResourceNotFoundException", "Event bus %s does not exist.", b)
	}
}

// rule returns a rule of the default bus; a read (read) does not see a
// rule created within Faults.NotFoundReads reads. Call with mu held.
func (f *EventBridge) rule(bus, name *string, read bool) (*eventRule, error) {
	if err := f.checkBus(bus); err != nil {
		return nil, err
	}
	n := aws.ToString(name)
	r, ok := f.st().Rules[n]
	if !ok || (read && f.c.hidden("rule/"+n)) {
		return nil, notFound("ResourceNotFoundException", "Rule %s does not exist on EventBus default.", n)
	}
	return r, nil
}

func checkRuleName(name string) error {
	if !eventsNameRe.MatchString(name) {
		return apiError("ValidationException", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64", name)
	}
	return nil
}

// PutRule creates or replaces a rule (see the type comment).
func (f *EventBridge) PutRule(ctx context.Context, in *eventbridge.PutRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error) {
	var out *eventbridge.PutRuleOutput
	err := f.c.call(ctx, eventbridge.ServiceID, "PutRule", true, func() error {
		name := aws.ToString(in.Name)
		if err := checkRuleName(name); err != nil {
			return err
		}
		if err := f.checkBus(in.EventBusName); err != nil {
			return err
		}
		pattern, schedule := aws.ToString(in.EventPattern), aws.ToString(in.ScheduleExpression)
		if pattern == "" && schedule == "" {
			return apiError("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
		}
		if pattern != "" {
			if _, err := parseEventPattern(pattern); err != nil {
				return err
			}
		}
		if len(aws.ToString(in.Description)) > 512 {
			return apiError("ValidationException", "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 512")
		}
		st := string(in.State)
		if st == "" {
			st = string(types.RuleStateEnabled)
		}
		if !slices.Contains(eventsStates, st) {
			return apiError("ValidationException", "1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: %v", st, eventsStates)
		}
		s := f.st()
		r, ok := s.Rules[name]
		if !ok {
			if len(in.Tags) > eventsMaxTags {
				return apiError("ValidationException", "a rule can have at most %d tags", eventsMaxTags)
			}
			r = &eventRule{Name: name, ARN: f.ruleARN(name), Tags: map[string]string{}}
			for _, t := range in.Tags {
				r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			s.Rules[name] = r
			f.c.created("rule/" + name)
		}
		r.Description, r.Pattern, r.Schedule, r.State, r.RoleARN = aws.ToString(in.Description), pattern, schedule, st, aws.ToString(in.RoleArn)
		out = &eventbridge.PutRuleOutput{RuleArn: aws.String(r.ARN)}
		return nil
	})
	return out, err
}

// DescribeRule describes a rule of the default bus.
func (f *EventBridge) DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	var out *eventbridge.DescribeRuleOutput
	err := f.c.call(ctx, eventbridge.ServiceID, "DescribeRule", false, func() error {
		r, err := f.rule(in.EventBusName, in.Name, true)
		if err != nil {
			return err
		}
		out = &eventbridge.DescribeRuleOutput{
			Name: aws.String(r.Name), Arn: aws.String(r.ARN), EventBusName: aws.String("default"),
			State: types.RuleState(r.State), CreatedBy: aws.String(f.c.account),
		}
		if r.Description != "" {
			out.Description = aws.String(r.Description)
		}
		if r.Pattern != "" {
			out.EventPattern = aws.String(r.Pattern)
		}
		if r.Schedule != "" {
			out.ScheduleExpression = aws.String(r.Schedule)
		}
		if r.RoleARN != "" {
			out.RoleArn = aws.String(r.RoleARN)
		}
		return nil
	})
	return out, err
}

// checkTarget validates one target the way PutTargets does: an ID of
// 1..64 of letters, digits, . - _ and an ARN.
func checkTarget(t types.Target) error {
	id := aws.ToString(t.Id)
	if !eventsNameRe.MatchString(id) {
		return apiError("ValidationException", "1 validation error detected: Value '%s' at 'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64", id)
	}
	if !eventsTargRe.MatchString(aws.ToString(t.Arn)) {
		return apiError("ValidationException", "Parameter %s is not valid.", aws.ToString(t.Arn))
	}
	if t.Input != nil && !json.Valid([]byte(*t.Input)) {
		return apiError("ValidationException", "Target %s: Input is not valid JSON.", id)
	}
	return nil
}

// PutTargets adds or replaces targets of a rule by ID, at most five per
// rule.
func (f *EventBridge) PutTargets(ctx context.Context, in *eventbridge.PutTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error) {
	var out *eventbridge.PutTargetsOutput
	err := f.c.call(ctx, eventbridge.ServiceID, "PutTargets", true, func() error {
		if len(in.Targets) == 0 || len(in.Targets) > 10 {
			return apiError("ValidationException", "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10")
		}
		r, err := f.rule(in.EventBusName, in.Rule, false)
		if err != nil {
			return err
		}
		ids := map[string]bool{}
		for _, t := range r.Targets {
			ids[t.ID] = true
		}
		for _, t := range in.Targets {
			if err := checkTarget(t); err != nil {
				return err
			}
			ids[aws.ToString(t.Id)] = true
		}
		if len(ids) > eventsMaxTargets {
			return apiError("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
		}
		for _, t := range in.Targets {
			nt := eventTarget{ID: aws.ToString(t.Id), ARN: aws.ToString(t.Arn), Input: aws.ToString(t.Input)}
			if i := slices.IndexFunc(r.Targets, func(x eventTarget) bool { return x.ID == nt.ID }); i >= 0 {
				r.Targets[i] = nt
			} else {
				r.Targets = append(r.Targets, nt)
			}
		}
		slices.SortFunc(r.Targets, func(a, b eventTarget) int { return strings.Compare(a.ID, b.ID) })
		out = &eventbridge.PutTargetsOutput{FailedEntries: []types.PutTargetsResultEntry{}}
		return nil
	})
	return out, err
}

// ListTargetsByRule lists a rule's targets by ID, paginated (Limit
// 1..100, default 100).
func (f *EventBridge) ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	var out *eventbridge.ListTargetsByRuleOutput
	err := f.c.call(ctx, eventbridge.ServiceID, "ListTargetsByRule", false, func() error {
		r, err := f.rule(in.EventBusName, in.Rule, true)
		if err != nil {
			return err
		}
		size := 100
		if in.Limit != nil {
			if *in.Limit < 1 || *in.Limit > 100 {
				return apiError("ValidationException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
			}
			size = int(*in.Limit)
		}
		items, next, err := page(r.Targets, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &eventbridge.ListTargetsByRuleOutput{NextToken: next, Targets: []types.Target{}}
		for _, t := range items {
			tt := types.Target{Id: aws.String(t.ID), Arn: aws.String(t.ARN)}
			if t.Input != "" {
				tt.Input = aws.String(t.Input)
			}
			out.Targets = append(out.Targets, tt)
		}
		return nil
	})
	return out, err
}

// RemoveTargets removes targets of a rule by ID; an ID the rule does not
// have is ignored.
func (f *EventBridge) RemoveTargets(ctx context.Context, in *eventbridge.RemoveTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error) {
	var out *eventbridge.RemoveTargetsOutput
	err := f.c.call(ctx, eventbridge.ServiceID, "RemoveTargets", true, func() error {
		if len(in.Ids) == 0 || len(in.Ids) > 100 {
			return apiError("ValidationException", "1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100")
		}
		r, err := f.rule(in.EventBusName, in.Rule, false)
		if err != nil {
			return err
		}
		r.Targets = slices.DeleteFunc(r.Targets, func(t eventTarget) bool { return slices.Contains(in.Ids, t.ID) })
		out = &eventbridge.RemoveTargetsOutput{FailedEntries: []types.RemoveTargetsResultEntry{}}
		return nil
	})
	return out, err
}

// DeleteRule deletes a rule without targets; deleting a rule that does
// not exist succeeds.
func (f *EventBridge) DeleteRule(ctx context.Context, in *eventbridge.DeleteRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error) {
	err := f.c.call(ctx, eventbridge.ServiceID, "DeleteRule", true, func() error {
		name := aws.ToString(in.Name)
		if err := checkRuleName(name); err != nil {
			return err
		}
		if err := f.checkBus(in.EventBusName); err != nil {
			return err
		}
		s := f.st()
		r, ok := s.Rules[name]
		if !ok {
			return nil
		}
		if len(r.Targets) > 0 && !in.Force {
			return apiError("ValidationException", "Rule can't be deleted since it has targets.")
		}
		delete(s.Rules, name)
		return nil
	})
	return &eventbridge.DeleteRuleOutput{}, err
}

// taggedRule resolves a rule ARN of the default bus. Call with mu held.
func (f *EventBridge) taggedRule(arn string, read bool) (*eventRule, error) {
	name, ok := strings.CutPrefix(arn, f.ruleARN(""))
	if !ok || strings.Contains(name, "/") {
		return nil, notFound("ResourceNotFoundException", "Resource %s not found (the fake tags rules of the default bus only)", arn)
	}
	r, err := f.rule(nil, &name, read)
	if err != nil {
		return nil, err
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	return r, nil
}

// TagResource adds or overwrites tags of a rule (by ARN), at most 50.
func (f *EventBridge) TagResource(ctx context.Context, in *eventbridge.TagResourceInput, _ ...func(*eventbridge.Options)) (*eventbridge.TagResourceOutput, error) {
	err := f.c.call(ctx, eventbridge.ServiceID, "TagResource", true, func() error {
		r, err := f.taggedRule(aws.ToString(in.ResourceARN), false)
		if err != nil {
			return err
		}
		n := len(r.Tags)
		for _, t := range in.Tags {
			if _, ok := r.Tags[aws.ToString(t.Key)]; !ok {
				n++
			}
		}
		if n > eventsMaxTags {
			return apiError("LimitExceededException", "a rule can have at most %d tags", eventsMaxTags)
		}
		for _, t := range in.Tags {
			r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return nil
	})
	return &eventbridge.TagResourceOutput{}, err
}

// ListTagsForResource lists the tags of a rule (by ARN), sorted by key.
func (f *EventBridge) ListTagsForResource(ctx context.Context, in *eventbridge.ListTagsForResourceInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error) {
	var out *eventbridge.ListTagsForResourceOutput
	err := f.c.call(ctx, eventbridge.ServiceID, "ListTagsForResource", false, func() error {
		r, err := f.taggedRule(aws.ToString(in.ResourceARN), true)
		if err != nil {
			return err
		}
		out = &eventbridge.ListTagsForResourceOutput{Tags: []types.Tag{}}
		for _, k := range sortedKeys(r.Tags) {
			out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(r.Tags[k])})
		}
		return nil
	})
	return out, err
}

// eventDelivery is one target to invoke once the lock is released.
type eventDelivery struct {
	rule, ruleARN, targetID, target string
	payload                         []byte
}

// publish is the publishEvent hook: it matches event against the rules
// and delivers it to their targets, outside the lock. A cloud whose
// EventBridge was never used has no rules and keeps no state for it.
func (f *EventBridge) publish(event []byte) {
	var ev map[string]any
	if json.Unmarshal(event, &ev) != nil {
		return
	}
	id, _ := ev["id"].(string)
	detailType, _ := ev["detail-type"].(string)
	f.c.mu.Lock()
	if _, used := f.c.services["eventbridge"]; !used {
		f.c.mu.Unlock()
		return
	}
	s := f.st()
	var ds []eventDelivery
	for _, name := range sortedKeys(s.Rules) {
		r := s.Rules[name]
		if r.State != string(types.RuleStateEnabled) || r.Pattern == "" {
			continue
		}
		p, err := parseEventPattern(r.Pattern)
		if err != nil || !p.matches(ev) {
			continue
		}
		for _, t := range r.Targets {
			payload := event
			if t.Input != "" {
				payload = []byte(t.Input)
			}
			ds = append(ds, eventDelivery{rule: r.Name, ruleARN: r.ARN, targetID: t.ID, target: t.ARN, payload: payload})
		}
	}
	f.c.mu.Unlock()
	for _, d := range ds {
		var err error
		switch {
		case !lambdaFuncARN.MatchString(d.target):
			err = fmt.Errorf("the fake delivers to Lambda function targets only, not %s", d.target)
		case invokeLambdaAs == nil:
			err = fmt.Errorf("no Lambda service in this cloud")
		default:
			err = invokeLambdaAs(f.c, d.target, "events.amazonaws.com", d.ruleARN, "eventbridge", d.payload)
		}
		rec := EventDelivery{Time: f.c.now(), EventID: id, DetailType: detailType, Rule: d.rule, TargetID: d.targetID, Target: d.target, Delivered: err == nil}
		if err != nil {
			rec.Err = err.Error()
		}
		f.c.mu.Lock()
		s := f.st()
		s.Deliveries = append(s.Deliveries, rec)
		if len(s.Deliveries) > maxDeliveries {
			s.Deliveries = slices.Clone(s.Deliveries[len(s.Deliveries)-maxDeliveries:])
		}
		f.c.mu.Unlock()
	}
}

// EventDeliveries returns the deliveries to rule targets so far, oldest
// first.
func (f *EventBridge) EventDeliveries() []EventDelivery {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if _, used := f.c.services["eventbridge"]; !used {
		return nil
	}
	return slices.Clone(f.st().Deliveries)
}

// RuleNames returns the names of every rule, for assertions.
func (f *EventBridge) RuleNames() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if _, used := f.c.services["eventbridge"]; !used {
		return nil
	}
	return sortedKeys(f.st().Rules)
}

// ---- event patterns ----

// eventPattern is a parsed event pattern: per field, either a nested
// pattern or the values (and content filters) the field may match.
type eventPattern struct {
	fields map[string]*eventPattern
	values []patternValue
}

// patternValue is one entry of a pattern's array: a literal, or one of
// the content filters the fake supports.
type patternValue struct {
	literal     any
	prefix      *string
	exists      *bool
	anythingBut []any
}

func invalidPattern(format string, args ...any) error {
	return apiError("InvalidEventPatternException", "Event pattern is not valid. Reason: "+format, args...)
}

// parseEventPattern parses and validates an event pattern the way
// PutRule does.
func parseEventPattern(s string) (*eventPattern, error) {
	if len(s) > 4096 {
		return nil, invalidPattern("the pattern is longer than 4096 characters")
	}
	var root any
	if err := json.Unmarshal([]byte(s), &root); err != nil {
		return nil, invalidPattern("%v", err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, invalidPattern("the pattern must be a JSON object")
	}
	return parsePatternObject("", obj)
}

func parsePatternObject(path string, obj map[string]any) (*eventPattern, error) {
	if len(obj) == 0 {
		return nil, invalidPattern("empty object at %q", cmpOrRoot(path))
	}
	p := &eventPattern{fields: map[string]*eventPattern{}}
	for k, v := range obj {
		at := strings.TrimPrefix(path+"."+k, ".")
		switch x := v.(type) {
		case map[string]any:
			child, err := parsePatternObject(at, x)
			if err != nil {
				return nil, err
			}
			p.fields[k] = child
		case []any:
			if len(x) == 0 {
				return nil, invalidPattern("Empty arrays are not allowed at %q", at)
			}
			leaf := &eventPattern{}
			for _, e := range x {
				pv, err := parsePatternValue(at, e)
				if err != nil {
					return nil, err
				}
				leaf.values = append(leaf.values, pv)
			}
			p.fields[k] = leaf
		default:
			return nil, invalidPattern("Match value must be an array or an object at %q", at)
		}
	}
	return p, nil
}

func cmpOrRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func parsePatternValue(at string, e any) (patternValue, error) {
	m, ok := e.(map[string]any)
	if !ok {
		return patternValue{literal: e}, nil
	}
	if len(m) != 1 {
		return patternValue{}, invalidPattern("a content filter at %q must have exactly one key", at)
	}
	for k, v := range m {
		switch k {
		case "prefix":
			s, ok := v.(string)
			if !ok {
				return patternValue{}, invalidPattern("prefix match pattern must be a string at %q", at)
			}
			return patternValue{prefix: &s}, nil
		case "exists":
			b, ok := v.(bool)
			if !ok {
				return patternValue{}, invalidPattern("exists match pattern must be either true or false at %q", at)
			}
			return patternValue{exists: &b}, nil
		case "anything-but":
			if list, ok := v.([]any); ok {
				return patternValue{anythingBut: list}, nil
			}
			if _, ok := v.(map[string]any); ok {
				return patternValue{}, invalidPattern("the fake does not support nested anything-but filters at %q", at)
			}
			return patternValue{anythingBut: []any{v}}, nil
		}
		return patternValue{}, invalidPattern("the fake does not support the %q filter at %q (literal values, prefix, exists and anything-but only)", k, at)
	}
	return patternValue{}, nil
}

// matches reports whether an event (decoded JSON) matches the pattern:
// every field of the pattern must match, a nested pattern against an
// object, values against a scalar or any element of an array.
func (p *eventPattern) matches(ev map[string]any) bool {
	for k, child := range p.fields {
		v, present := ev[k]
		if child.fields != nil {
			obj, ok := v.(map[string]any)
			if !ok || !child.matches(obj) {
				return false
			}
			continue
		}
		if !child.matchesValue(v, present) {
			return false
		}
	}
	return true
}

func (p *eventPattern) matchesValue(v any, present bool) bool {
	candidates := []any{v}
	if list, ok := v.([]any); ok {
		candidates = list
	}
	for _, pv := range p.values {
		if pv.exists != nil {
			if *pv.exists == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		for _, c := range candidates {
			if pv.match(c) {
				return true
			}
		}
	}
	return false
}

func (pv patternValue) match(v any) bool {
	switch {
	case pv.prefix != nil:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, *pv.prefix)
	case pv.anythingBut != nil:
		return !slices.ContainsFunc(pv.anythingBut, func(x any) bool { return jsonEqual(x, v) })
	}
	return jsonEqual(pv.literal, v)
}

// jsonEqual compares two decoded JSON scalars.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}
