package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// AlarmsAPI is the part of the CloudWatch client the alarm functions use.
type AlarmsAPI interface {
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	PutCompositeAlarm(context.Context, *cloudwatch.PutCompositeAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutCompositeAlarmOutput, error)
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	DeleteAlarms(context.Context, *cloudwatch.DeleteAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
	ListTagsForResource(context.Context, *cloudwatch.ListTagsForResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatch.TagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error)
}

// The Change kinds of alarms.
const (
	KindAlarm          = "cloudwatch-alarm"
	KindCompositeAlarm = "cloudwatch-composite-alarm"
)

// AlarmName returns the name of a rule's alarm: "alarm-<rule>-<suffix>".
func AlarmName(env migration.Env, rule string) string { return env.Name("alarm-" + rule) }

// CompositeAlarmName returns the name of the policy's composite rollback
// alarm: "alarm-rollback-<suffix>".
func CompositeAlarmName(env migration.Env) string { return env.Name("alarm-rollback") }

// AlarmARN returns the ARN an alarm of env has, as a Lambda resource
// policy needs it before the alarm exists.
func AlarmARN(env migration.Env, name string) string {
	return "arn:aws:cloudwatch:" + env.Region + ":" + env.Account + ":alarm:" + name
}

var actionARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:(sns|lambda):[a-z0-9-]+:[0-9]{12}:.+$`)

func checkActions(field string, arns []string) error {
	if len(arns) > 5 {
		return fmt.Errorf("%s: at most 5 actions per state, got %d", field, len(arns))
	}
	for _, a := range arns {
		if !migration.IsPending(a) && !actionARNRe.MatchString(a) {
			return fmt.Errorf("%s: %q is not an SNS topic or Lambda function ARN", field, a)
		}
	}
	return nil
}

// AlarmSpec describes the alarm of one rule.
type AlarmSpec struct {
	Rule Rule
	// NotifyARNs are notified of every state change (the SNS topic).
	NotifyARNs []string
	// RollbackARNs are invoked when the alarm goes to ALARM (the rollback
	// Lambda). A DryRun rule's alarm never gets them.
	RollbackARNs []string
}

// Validate checks the rule (everything CloudWatch would refuse) and the
// action ARNs.
func (s AlarmSpec) Validate() error {
	var errs []error
	if err := s.Rule.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := checkActions("alarm.notifyArns", s.NotifyARNs); err != nil {
		errs = append(errs, err)
	}
	if err := checkActions("alarm.rollbackArns", append(slices.Clone(s.NotifyARNs), s.RollbackARNs...)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Alarm is an ensured alarm.
type Alarm struct {
	Name string
	ARN  string
}

// metricAlarmInput builds the PutMetricAlarm input of spec.
func metricAlarmInput(env migration.Env, spec AlarmSpec) *cloudwatch.PutMetricAlarmInput {
	r := spec.Rule
	desc := r.Description
	if desc != "" {
		desc += ". "
	}
	desc += fmt.Sprintf("Rollback rule %s of cutover env %s", r.Name, env.Suffix)
	if r.DryRun {
		desc += " (dry run: notifies only)"
	}
	alarmActions := slices.Clone(spec.NotifyARNs)
	if !r.DryRun {
		alarmActions = append(alarmActions, spec.RollbackARNs...)
	}
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:               aws.String(AlarmName(env, r.Name)),
		AlarmDescription:        aws.String(desc),
		ActionsEnabled:          aws.Bool(true),
		AlarmActions:            alarmActions,
		OKActions:               slices.Clone(spec.NotifyARNs),
		InsufficientDataActions: slices.Clone(spec.NotifyARNs),
		ComparisonOperator:      types.ComparisonOperator(r.Comparator),
		Threshold:               aws.Float64(r.Threshold),
		EvaluationPeriods:       aws.Int32(int32(r.EvaluationPeriods)),
		DatapointsToAlarm:       aws.Int32(int32(r.m())),
		TreatMissingData:        aws.String(string(r.missing())),
		Tags:                    cwTags(env.NameTags(AlarmName(env, r.Name))),
	}
	am := r.alarmMetrics()
	if am.single != nil {
		in.Namespace, in.MetricName, in.Dimensions, in.Period = am.single.Metric.Namespace, am.single.Metric.MetricName, am.single.Metric.Dimensions, am.single.Period
		stat := aws.ToString(am.single.Stat)
		if strings.HasPrefix(stat, "p") {
			in.ExtendedStatistic = aws.String(stat)
		} else {
			in.Statistic = types.Statistic(stat)
		}
	} else {
		in.Metrics = am.metrics
	}
	return in
}

func cwTags(m map[string]string) []types.Tag {
	return awsx.Tags(m, func(k, v *string) types.Tag { return types.Tag{Key: k, Value: v} })
}

// alarmConfig is the comparable configuration of a metric alarm.
type alarmConfig map[string]string

func sortedJoin(s []string) string {
	c := slices.Clone(s)
	slices.Sort(c)
	return strings.Join(c, ",")
}

func dimsString(ds []types.Dimension) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func metricsString(qs []types.MetricDataQuery) string {
	type q struct {
		ID, Expr, Label, Metric, Stat string
		Period                        int32
		Return                        bool
	}
	var out []q
	for _, m := range qs {
		x := q{ID: aws.ToString(m.Id), Expr: aws.ToString(m.Expression), Return: m.ReturnData == nil || *m.ReturnData}
		if m.MetricStat != nil && m.MetricStat.Metric != nil {
			x.Metric = aws.ToString(m.MetricStat.Metric.Namespace) + "/" + aws.ToString(m.MetricStat.Metric.MetricName) + "{" + dimsString(m.MetricStat.Metric.Dimensions) + "}"
			x.Stat, x.Period = aws.ToString(m.MetricStat.Stat), aws.ToInt32(m.MetricStat.Period)
		}
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b q) int { return strings.Compare(a.ID, b.ID) })
	b, _ := json.Marshal(out)
	return string(b)
}

func configOfInput(in *cloudwatch.PutMetricAlarmInput) alarmConfig {
	c := alarmConfig{
		"description": aws.ToString(in.AlarmDescription), "actionsEnabled": strconv.FormatBool(aws.ToBool(in.ActionsEnabled)),
		"alarmActions": sortedJoin(in.AlarmActions), "okActions": sortedJoin(in.OKActions), "insufficientDataActions": sortedJoin(in.InsufficientDataActions),
		"comparison": string(in.ComparisonOperator), "threshold": formatFloat(aws.ToFloat64(in.Threshold)),
		"evaluationPeriods": fmt.Sprint(aws.ToInt32(in.EvaluationPeriods)), "datapointsToAlarm": fmt.Sprint(aws.ToInt32(in.DatapointsToAlarm)),
		"treatMissingData": aws.ToString(in.TreatMissingData),
	}
	if in.MetricName != nil {
		c["metric"] = aws.ToString(in.Namespace) + "/" + aws.ToString(in.MetricName) + "{" + dimsString(in.Dimensions) + "}"
		c["statistic"] = string(in.Statistic) + aws.ToString(in.ExtendedStatistic)
		c["period"] = fmt.Sprint(aws.ToInt32(in.Period))
	} else {
		c["metrics"] = metricsString(in.Metrics)
	}
	return c
}

func configOfAlarm(a types.MetricAlarm) alarmConfig {
	dp := aws.ToInt32(a.DatapointsToAlarm)
	if a.DatapointsToAlarm == nil {
		dp = aws.ToInt32(a.EvaluationPeriods)
	}
	tmd := aws.ToString(a.TreatMissingData)
	if tmd == "" {
		tmd = string(MissingInconclusive)
	}
	c := alarmConfig{
		"description": aws.ToString(a.AlarmDescription), "actionsEnabled": strconv.FormatBool(a.ActionsEnabled == nil || *a.ActionsEnabled),
		"alarmActions": sortedJoin(a.AlarmActions), "okActions": sortedJoin(a.OKActions), "insufficientDataActions": sortedJoin(a.InsufficientDataActions),
		"comparison": string(a.ComparisonOperator), "threshold": formatFloat(aws.ToFloat64(a.Threshold)),
		"evaluationPeriods": fmt.Sprint(aws.ToInt32(a.EvaluationPeriods)), "datapointsToAlarm": fmt.Sprint(dp),
		"treatMissingData": tmd,
	}
	if a.MetricName != nil {
		c["metric"] = aws.ToString(a.Namespace) + "/" + aws.ToString(a.MetricName) + "{" + dimsString(a.Dimensions) + "}"
		c["statistic"] = string(a.Statistic) + aws.ToString(a.ExtendedStatistic)
		c["period"] = fmt.Sprint(aws.ToInt32(a.Period))
	} else {
		c["metrics"] = metricsString(a.Metrics)
	}
	return c
}

// diffConfigs lists the fields where have differs from want.
func diffConfigs(have, want alarmConfig) []migration.FieldDiff {
	var diff []migration.FieldDiff
	keys := map[string]bool{}
	for k := range have {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		if have[k] != want[k] {
			from, to := have[k], want[k]
			if k == "metrics" {
				from, to = "(differs)", "spec"
			}
			diff = append(diff, migration.FieldDiff{Field: k, From: from, To: to})
		}
	}
	return diff
}

// findAlarm describes one alarm by exact name (metric or composite).
func findAlarm(ctx context.Context, api AlarmsAPI, name string) (*types.MetricAlarm, *types.CompositeAlarm, error) {
	out, err := api.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{name}, AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("describe: %w", err)
	}
	for _, a := range out.MetricAlarms {
		if aws.ToString(a.AlarmName) == name {
			return &a, nil, nil
		}
	}
	for _, a := range out.CompositeAlarms {
		if aws.ToString(a.AlarmName) == name {
			return nil, &a, nil
		}
	}
	return nil, nil, nil
}

// alarmTags returns an alarm's tags.
func alarmTags(ctx context.Context, api AlarmsAPI, arn string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return awsx.TagMap(out.Tags, func(t types.Tag) (*string, *string) { return t.Key, t.Value }), nil
}

// ownedTags returns the tags of an existing alarm, after checking it
// carries the env's ownership tag.
func ownedTags(ctx context.Context, env migration.Env, api AlarmsAPI, arn string) (map[string]string, error) {
	have, err := alarmTags(ctx, api, arn)
	if err != nil {
		return nil, err
	}
	if !env.Owns(have) {
		return nil, fmt.Errorf("alarm %s exists without the ownership tag %s=%s; refusing to adopt it", arn, migration.OwnerTag, env.Suffix)
	}
	return have, nil
}

// tagAlarm returns the write that adds missing tags to the alarm arn.
func tagAlarm(ctx context.Context, api AlarmsAPI, arn string) func(missing map[string]string) error {
	return func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(arn), Tags: cwTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	}
}

// EnsureAlarm makes the alarm of a rule exist and converge: the rule's
// query (a single metric, or the metric-math alarm for expressions and
// minimum sample counts), comparator, threshold, M of N, missing-data
// treatment, the notify actions on every state and the rollback actions
// on ALARM (never for a DryRun rule), and the env's tags.
//
// It finds the alarm by its name and refuses to adopt one without the
// env's ownership tag. PutMetricAlarm overwrites a whole alarm, so any
// drift is converged by one PutMetricAlarm (which keeps the alarm's
// state); missing tags by TagResource. Idempotent: a converged alarm costs
// reads only. Dry run: reads only, a missing alarm gets a Pending ID.
func EnsureAlarm(ctx context.Context, env migration.Env, api AlarmsAPI, spec AlarmSpec) (Alarm, error) {
	name := AlarmName(env, spec.Rule.Name)
	if err := migration.Validate(env, spec); err != nil {
		return Alarm{}, fmt.Errorf("ensure alarm %q: %w", name, err)
	}
	a, err := ensureAlarm(ctx, env, api, spec, name)
	if err != nil {
		return Alarm{}, fmt.Errorf("ensure alarm %q: %w", name, err)
	}
	return a, nil
}

func ensureAlarm(ctx context.Context, env migration.Env, api AlarmsAPI, spec AlarmSpec, name string) (Alarm, error) {
	want := metricAlarmInput(env, spec)
	arn := AlarmARN(env, name)
	pending := migration.AnyPending(append(slices.Clone(spec.NotifyARNs), spec.RollbackARNs...)...)
	if pending && env.DryRun {
		env.Report(migration.Change{Kind: KindAlarm, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate, Note: "its actions are not created yet"})
		return Alarm{Name: name, ARN: arn}, nil
	}
	metric, composite, err := findAlarm(ctx, api, name)
	if err != nil {
		return Alarm{}, err
	}
	if composite != nil {
		return Alarm{}, fmt.Errorf("a composite alarm has this name; refusing to replace it with a metric alarm")
	}
	if metric == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindAlarm, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate})
			return Alarm{Name: name, ARN: arn}, nil
		}
		if _, err := api.PutMetricAlarm(ctx, want); err != nil {
			return Alarm{}, fmt.Errorf("create: %w", err)
		}
		env.Report(migration.Change{Kind: KindAlarm, Name: name, ID: arn, Action: migration.ActionCreate})
		return Alarm{Name: name, ARN: arn}, nil
	}
	arn = aws.ToString(metric.AlarmArn)
	tags, err := ownedTags(ctx, env, api, arn)
	if err != nil {
		return Alarm{}, err
	}
	var c migration.Converge
	c.FixAll(diffConfigs(configOfAlarm(*metric), configOfInput(want)), func() error {
		if _, err := api.PutMetricAlarm(ctx, want); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		return nil
	})
	c.Tags(tags, env.NameTags(name), tagAlarm(ctx, api, arn))
	if err := c.Apply(env, migration.Change{Kind: KindAlarm, Name: name, ID: arn}); err != nil {
		return Alarm{}, err
	}
	return Alarm{Name: name, ARN: arn}, nil
}

// CompositeAlarmSpec describes the policy's composite rollback alarm: it
// is in ALARM when any deciding (not DryRun) rule's alarm is.
type CompositeAlarmSpec struct {
	Policy       Policy
	NotifyARNs   []string
	RollbackARNs []string
}

// Validate checks the policy, that it has a deciding rule, and the
// action ARNs.
func (s CompositeAlarmSpec) Validate() error {
	var errs []error
	if err := s.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !slices.ContainsFunc(s.Policy.Rules, func(r Rule) bool { return !r.DryRun }) {
		errs = append(errs, errors.New("composite.policy: every rule is a dry run; a rollback alarm needs at least one deciding rule"))
	}
	if err := checkActions("composite.actions", append(slices.Clone(s.NotifyARNs), s.RollbackARNs...)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CompositeRule returns the AlarmRule of the policy's composite alarm:
// ALARM("<rule alarm>") OR ... over the deciding rules.
func CompositeRule(env migration.Env, p Policy) string {
	var parts []string
	for _, r := range p.Rules {
		if !r.DryRun {
			parts = append(parts, `ALARM("`+AlarmName(env, r.Name)+`")`)
		}
	}
	return strings.Join(parts, " OR ")
}

// EnsureCompositeAlarm makes the composite rollback alarm exist and
// converge: rule CompositeRule, the rollback and notify actions on ALARM,
// the notify actions on OK, the env's tags. The rule alarms must exist
// first (EnsureAlarm); CloudWatch refuses a rule naming missing alarms.
// Same contract as EnsureAlarm.
func EnsureCompositeAlarm(ctx context.Context, env migration.Env, api AlarmsAPI, spec CompositeAlarmSpec) (Alarm, error) {
	name := CompositeAlarmName(env)
	if err := migration.Validate(env, spec); err != nil {
		return Alarm{}, fmt.Errorf("ensure composite alarm %q: %w", name, err)
	}
	a, err := ensureComposite(ctx, env, api, spec, name)
	if err != nil {
		return Alarm{}, fmt.Errorf("ensure composite alarm %q: %w", name, err)
	}
	return a, nil
}

func ensureComposite(ctx context.Context, env migration.Env, api AlarmsAPI, spec CompositeAlarmSpec, name string) (Alarm, error) {
	want := &cloudwatch.PutCompositeAlarmInput{
		AlarmName:        aws.String(name),
		AlarmRule:        aws.String(CompositeRule(env, spec.Policy)),
		AlarmDescription: aws.String("Rollback trigger of cutover env " + env.Suffix + ": any deciding rule in ALARM"),
		ActionsEnabled:   aws.Bool(true),
		AlarmActions:     append(slices.Clone(spec.NotifyARNs), spec.RollbackARNs...),
		OKActions:        slices.Clone(spec.NotifyARNs),
		Tags:             cwTags(env.NameTags(name)),
	}
	arn := AlarmARN(env, name)
	if env.DryRun && migration.AnyPending(append(slices.Clone(spec.NotifyARNs), spec.RollbackARNs...)...) {
		env.Report(migration.Change{Kind: KindCompositeAlarm, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate, Note: "its actions are not created yet"})
		return Alarm{Name: name, ARN: arn}, nil
	}
	metric, composite, err := findAlarm(ctx, api, name)
	if err != nil {
		return Alarm{}, err
	}
	if metric != nil {
		return Alarm{}, fmt.Errorf("a metric alarm has this name; refusing to replace it with a composite alarm")
	}
	if composite == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindCompositeAlarm, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate})
			return Alarm{Name: name, ARN: arn}, nil
		}
		if _, err := api.PutCompositeAlarm(ctx, want); err != nil {
			return Alarm{}, fmt.Errorf("create: %w", err)
		}
		env.Report(migration.Change{Kind: KindCompositeAlarm, Name: name, ID: arn, Action: migration.ActionCreate})
		return Alarm{Name: name, ARN: arn}, nil
	}
	arn = aws.ToString(composite.AlarmArn)
	tags, err := ownedTags(ctx, env, api, arn)
	if err != nil {
		return Alarm{}, err
	}
	have := alarmConfig{
		"rule": aws.ToString(composite.AlarmRule), "description": aws.ToString(composite.AlarmDescription),
		"actionsEnabled": strconv.FormatBool(composite.ActionsEnabled == nil || *composite.ActionsEnabled),
		"alarmActions":   sortedJoin(composite.AlarmActions), "okActions": sortedJoin(composite.OKActions), "insufficientDataActions": sortedJoin(composite.InsufficientDataActions),
	}
	wantCfg := alarmConfig{
		"rule": aws.ToString(want.AlarmRule), "description": aws.ToString(want.AlarmDescription), "actionsEnabled": "true",
		"alarmActions": sortedJoin(want.AlarmActions), "okActions": sortedJoin(want.OKActions), "insufficientDataActions": "",
	}
	var c migration.Converge
	c.FixAll(diffConfigs(have, wantCfg), func() error {
		if _, err := api.PutCompositeAlarm(ctx, want); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		return nil
	})
	c.Tags(tags, env.NameTags(name), tagAlarm(ctx, api, arn))
	if err := c.Apply(env, migration.Change{Kind: KindCompositeAlarm, Name: name, ID: arn}); err != nil {
		return Alarm{}, err
	}
	return Alarm{Name: name, ARN: arn}, nil
}

// PolicyAlarms are the alarms of a policy.
type PolicyAlarms struct {
	// Rules are the rule alarms by rule name.
	Rules map[string]Alarm
	// Composite is the composite rollback alarm: the one that invokes the
	// rollback Lambda (its ARN goes to FunctionSpec.AlarmARNs).
	Composite Alarm
}

// EnsurePolicyAlarms ensures the alarm of every rule — notifying only, so
// an operator sees which rule fired — and then the composite rollback
// alarm, which notifies and invokes rollbackARNs. Then it deletes the
// env's rule alarms that the policy no longer has (a rule removed or
// renamed), once the composite no longer refers to them; alarms without
// the env's ownership tag are never touched. It reports one Change per
// alarm.
func EnsurePolicyAlarms(ctx context.Context, env migration.Env, api AlarmsAPI, p Policy, notifyARNs, rollbackARNs []string) (PolicyAlarms, error) {
	out := PolicyAlarms{Rules: map[string]Alarm{}}
	if err := migration.Validate(env, p); err != nil {
		return out, fmt.Errorf("ensure policy alarms: %w", err)
	}
	for _, r := range p.Rules {
		a, err := EnsureAlarm(ctx, env, api, AlarmSpec{Rule: r, NotifyARNs: notifyARNs})
		if err != nil {
			return out, err
		}
		out.Rules[r.Name] = a
	}
	c, err := EnsureCompositeAlarm(ctx, env, api, CompositeAlarmSpec{Policy: p, NotifyARNs: notifyARNs, RollbackARNs: rollbackARNs})
	if err != nil {
		return out, err
	}
	out.Composite = c
	if err := pruneRuleAlarms(ctx, env, api, p); err != nil {
		return out, fmt.Errorf("ensure policy alarms: %w", err)
	}
	return out, nil
}

// pruneRuleAlarms deletes the env's metric alarms named like rule alarms
// ("alarm-<rule>-<suffix>") that p has no rule for. Only alarms with the
// env's ownership tag are candidates, so another env whose suffix ends
// like this one's keeps its alarms.
func pruneRuleAlarms(ctx context.Context, env migration.Env, api AlarmsAPI, p Policy) error {
	keep := map[string]bool{}
	for _, r := range p.Rules {
		keep[AlarmName(env, r.Name)] = true
	}
	pages := cloudwatch.NewDescribeAlarmsPaginator(api, &cloudwatch.DescribeAlarmsInput{
		AlarmNamePrefix: aws.String("alarm-"), AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm},
	})
	var stale []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list alarms: %w", err)
		}
		for _, a := range page.MetricAlarms {
			name := aws.ToString(a.AlarmName)
			if !strings.HasSuffix(name, "-"+env.Suffix) || keep[name] {
				continue
			}
			// Only the env's own: alarms of other envs or of no env are
			// not this policy's business, not even as a plan line.
			tags, err := alarmTags(ctx, api, aws.ToString(a.AlarmArn))
			if err != nil {
				return err
			}
			if env.Owns(tags) {
				stale = append(stale, name)
			}
		}
	}
	for _, name := range stale {
		if err := deleteAlarm(ctx, env, api, KindAlarm, name); err != nil {
			return fmt.Errorf("delete alarm %q of a rule the policy no longer has: %w", name, err)
		}
	}
	return nil
}

// DeletePolicyAlarms deletes the composite alarm and then every rule
// alarm of the policy that carries the env's ownership tag, and the env's
// rule alarms of rules the policy no longer has. A missing alarm is a
// no-op; an alarm without the tag is left in place.
func DeletePolicyAlarms(ctx context.Context, env migration.Env, api AlarmsAPI, p Policy) error {
	if err := migration.Validate(env, p); err != nil {
		return fmt.Errorf("delete policy alarms: %w", err)
	}
	names := []string{CompositeAlarmName(env)}
	kinds := []string{KindCompositeAlarm}
	for _, r := range p.Rules {
		names = append(names, AlarmName(env, r.Name))
		kinds = append(kinds, KindAlarm)
	}
	for i, name := range names {
		if err := deleteAlarm(ctx, env, api, kinds[i], name); err != nil {
			return fmt.Errorf("delete alarm %q: %w", name, err)
		}
	}
	if err := pruneRuleAlarms(ctx, env, api, p); err != nil {
		return fmt.Errorf("delete policy alarms: %w", err)
	}
	return nil
}

func deleteAlarm(ctx context.Context, env migration.Env, api AlarmsAPI, kind, name string) error {
	metric, composite, err := findAlarm(ctx, api, name)
	if err != nil {
		return err
	}
	var arn string
	switch {
	case metric != nil:
		arn = aws.ToString(metric.AlarmArn)
	case composite != nil:
		arn = aws.ToString(composite.AlarmArn)
	default:
		env.ReportGone(kind, name)
		return nil
	}
	have, err := alarmTags(ctx, api, arn)
	if err != nil {
		return err
	}
	if !env.Owns(have) {
		env.ReportNotOwned(kind, name, arn)
		return nil
	}
	if !env.DryRun {
		if _, err := api.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}}); err != nil && !awsx.IsNotFound(err) {
			return err
		}
	}
	env.Report(migration.Change{Kind: kind, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}
