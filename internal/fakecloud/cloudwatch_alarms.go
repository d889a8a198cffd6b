package fakecloud

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatch alarms, as a reconciler and a rollback controller meet them:
//
//   - PutMetricAlarm validates the way CloudWatch does (one of MetricName
//     or Metrics; a statistic xor an extended statistic; periods of 10,
//     20, 30 or a multiple of 60; Period × EvaluationPeriods at most one
//     day, seven for periods of an hour or more; DatapointsToAlarm at most
//     EvaluationPeriods; exactly one returned expression among at most 10
//     metrics, no SEARCH; action ARNs of SNS topics or Lambda functions of
//     the Region, at most 5 per state). A new alarm starts in
//     INSUFFICIENT_DATA; an update keeps the state and overwrites the whole
//     configuration; Tags apply on create only (TagResource afterwards).
//   - PutCompositeAlarm parses AlarmRule (ALARM/OK/INSUFFICIENT_DATA of an
//     alarm name or ARN, TRUE, FALSE, AND, OR, NOT, parentheses) and
//     refuses rules naming alarms that do not exist or itself.
//   - EvaluateAlarms evaluates every alarm at the fake clock's time, the
//     CloudWatch way (see evaluateMetricAlarm), then the composites; every
//     state change fires the actions of the new state, when actions are
//     enabled, outside the cloud's lock: an SNS topic ARN through the
//     publishSNS hook (the alarm's SNS message), a Lambda ARN through the
//     invokeLambda hook (the Lambda alarm-action payload); and every state
//     change, actions enabled or not, is put on the default event bus as
//     a "CloudWatch Alarm State Change" event (publishEvent hook), which
//     the matching EventBridge rules deliver. SetAlarmState
//     changes a state and fires actions the same way. Nothing evaluates in
//     the background: tests and the example's -sim loop call
//     EvaluateAlarms.
//   - Every delivery is kept for assertions (AlarmDeliveries).
func init() { register("cloudwatch-alarms", func() any { return &alarmsState{} }) }

type alarmsState struct {
	Alarms     map[string]*fakeAlarm `json:"alarms"`
	Deliveries []AlarmDelivery       `json:"deliveries,omitempty"`
}

type fakeAlarm struct {
	Name              string            `json:"name"`
	ARN               string            `json:"arn"`
	Description       string            `json:"description,omitempty"`
	Composite         bool              `json:"composite,omitempty"`
	Rule              string            `json:"rule,omitempty"`
	Namespace         string            `json:"namespace,omitempty"`
	MetricName        string            `json:"metricName,omitempty"`
	Dims              map[string]string `json:"dims,omitempty"`
	Statistic         string            `json:"statistic,omitempty"`
	ExtendedStatistic string            `json:"extendedStatistic,omitempty"`
	Period            int32             `json:"period,omitempty"`
	Unit              string            `json:"unit,omitempty"`
	Metrics           []alarmQuery      `json:"metrics,omitempty"`
	EvaluationPeriods int32             `json:"evaluationPeriods,omitempty"`
	DatapointsToAlarm int32             `json:"datapointsToAlarm,omitempty"`
	Threshold         float64           `json:"threshold,omitempty"`
	Comparison        string            `json:"comparison,omitempty"`
	TreatMissingData  string            `json:"treatMissingData,omitempty"`
	LowSampleCount    string            `json:"lowSampleCount,omitempty"`
	ActionsEnabled    bool              `json:"actionsEnabled"`
	AlarmActions      []string          `json:"alarmActions,omitempty"`
	OKActions         []string          `json:"okActions,omitempty"`
	InsufficientData  []string          `json:"insufficientDataActions,omitempty"`
	State             string            `json:"state"`
	StateReason       string            `json:"stateReason"`
	StateReasonData   string            `json:"stateReasonData,omitempty"`
	StateUpdated      time.Time         `json:"stateUpdated"`
	StateTransitioned time.Time         `json:"stateTransitioned"`
	ConfigUpdated     time.Time         `json:"configUpdated"`
	Tags              map[string]string `json:"tags"`
}

type alarmQuery struct {
	ID         string            `json:"id"`
	Expression string            `json:"expression,omitempty"`
	Label      string            `json:"label,omitempty"`
	ReturnData bool              `json:"returnData"`
	Namespace  string            `json:"namespace,omitempty"`
	MetricName string            `json:"metricName,omitempty"`
	Dims       map[string]string `json:"dims,omitempty"`
	Stat       string            `json:"stat,omitempty"`
	Period     int32             `json:"period,omitempty"`
}

// AlarmDelivery is one alarm action the fake fired: which alarm, in which
// new state, to which action ARN, and whether the target accepted it.
type AlarmDelivery struct {
	Time      time.Time `json:"time"`
	Alarm     string    `json:"alarm"`
	State     string    `json:"state"`
	Action    string    `json:"action"`
	Delivered bool      `json:"delivered"`
	Err       string    `json:"error,omitempty"`
}

// maxDeliveries bounds the deliveries kept in the state.
const maxDeliveries = 1000

const (
	stateOK           = string(types.StateValueOk)
	stateAlarm        = string(types.StateValueAlarm)
	stateInsufficient = string(types.StateValueInsufficientData)
)

func (f *CloudWatch) alarms() *alarmsState {
	s := state[alarmsState](f.c, "cloudwatch-alarms")
	if s.Alarms == nil {
		s.Alarms = map[string]*fakeAlarm{}
	}
	return s
}

func (f *CloudWatch) alarmARN(name string) string { return f.c.arn("cloudwatch", "alarm:"+name) }

var (
	alarmActionRe = regexp.MustCompile(`^arn:aws[a-z-]*:(sns|lambda):([a-z0-9-]+):([0-9]{12}):(.+)$`)
	queryIDRe     = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)
)

var comparisonOps = []string{
	string(types.ComparisonOperatorGreaterThanThreshold), string(types.ComparisonOperatorGreaterThanOrEqualToThreshold),
	string(types.ComparisonOperatorLessThanThreshold), string(types.ComparisonOperatorLessThanOrEqualToThreshold),
}

var treatMissing = []string{"breaching", "notBreaching", "ignore", "missing"}

var statisticNames = []string{"Average", "Sum", "Minimum", "Maximum", "SampleCount"}

var percentileRe = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?|100)$`)

// checkAlarmName applies CloudWatch's alarm name rule.
func checkAlarmName(name string) error {
	if name == "" || len(name) > 255 {
		return apiError("ValidationError", "1 validation error detected: Value '%s' at 'alarmName' failed to satisfy constraint: Member must have length between 1 and 255", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return apiError("ValidationError", "The alarm name must not contain ASCII control characters.")
		}
	}
	return nil
}

// checkActions validates action ARNs: SNS topics and Lambda functions of
// this Region and account, at most five per state.
func (f *CloudWatch) checkActions(field string, actions []string) error {
	if len(actions) > 5 {
		return apiError("ValidationError", "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 5", field)
	}
	for _, a := range actions {
		m := alarmActionRe.FindStringSubmatch(a)
		if m == nil {
			return apiError("ValidationError", "Invalid %s: %s is not a supported action ARN (the fake supports SNS topics and Lambda functions)", field, a)
		}
		if m[2] != f.c.region {
			return apiError("ValidationError", "Invalid region %s specified. Only %s is supported.", m[2], f.c.region)
		}
		if m[1] == "lambda" && !strings.HasPrefix(m[4], "function:") {
			return apiError("ValidationError", "Invalid Lambda action ARN %s", a)
		}
	}
	return nil
}

func validPeriod(p int32) bool {
	return p == 10 || p == 20 || p == 30 || (p >= 60 && p%60 == 0)
}

func validStat(s string) bool {
	return slices.Contains(statisticNames, s) || percentileRe.MatchString(s)
}

// checkSpan applies the evaluation range limit: period × evaluation
// periods at most one day, or seven days for periods of an hour or more.
func checkSpan(period, n int32) error {
	limit := int64(86400)
	if period >= 3600 {
		limit = 604800
	}
	if int64(period)*int64(n) > limit {
		return apiError("ValidationError", "The evaluation period (%d s × %d = %d s) exceeds the maximum of %d seconds.", period, n, int64(period)*int64(n), limit)
	}
	return nil
}

// PutMetricAlarm creates or overwrites a metric alarm (see the file
// comment for what it validates).
func (f *CloudWatch) PutMetricAlarm(ctx context.Context, in *cloudwatch.PutMetricAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "PutMetricAlarm", true, func() error {
		a, err := f.metricAlarmFromInput(in)
		if err != nil {
			return err
		}
		s := f.alarms()
		if old, ok := s.Alarms[a.Name]; ok {
			if old.Composite {
				return apiError("ValidationError", "An alarm named %s already exists as a composite alarm.", a.Name)
			}
			a.State, a.StateReason, a.StateReasonData = old.State, old.StateReason, old.StateReasonData
			a.StateUpdated, a.StateTransitioned, a.Tags = old.StateUpdated, old.StateTransitioned, old.Tags
		} else {
			a.State, a.StateReason = stateInsufficient, "Unchecked: Initial alarm creation"
			a.StateUpdated, a.StateTransitioned = f.c.now(), f.c.now()
			a.Tags = map[string]string{}
			for _, t := range in.Tags {
				a.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			f.c.created("alarm:" + a.Name)
		}
		a.ConfigUpdated = f.c.now()
		s.Alarms[a.Name] = a
		return nil
	})
	return &cloudwatch.PutMetricAlarmOutput{}, err
}

func (f *CloudWatch) metricAlarmFromInput(in *cloudwatch.PutMetricAlarmInput) (*fakeAlarm, error) {
	name := aws.ToString(in.AlarmName)
	if err := checkAlarmName(name); err != nil {
		return nil, err
	}
	a := &fakeAlarm{
		Name: name, ARN: f.alarmARN(name), Description: aws.ToString(in.AlarmDescription),
		ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
		AlarmActions:   slices.Clone(in.AlarmActions), OKActions: slices.Clone(in.OKActions), InsufficientData: slices.Clone(in.InsufficientDataActions),
		Comparison: string(in.ComparisonOperator), TreatMissingData: aws.ToString(in.TreatMissingData),
		LowSampleCount: aws.ToString(in.EvaluateLowSampleCountPercentile), Unit: string(in.Unit),
	}
	if len(a.Description) > 1024 {
		return nil, apiError("ValidationError", "AlarmDescription must be at most 1024 characters")
	}
	for field, acts := range map[string][]string{"alarmActions": in.AlarmActions, "okActions": in.OKActions, "insufficientDataActions": in.InsufficientDataActions} {
		if err := f.checkActions(field, acts); err != nil {
			return nil, err
		}
	}
	if in.ThresholdMetricId != nil || in.EvaluationCriteria != nil {
		return nil, apiError("ValidationError", "the fake supports static-threshold alarms only")
	}
	if !slices.Contains(comparisonOps, a.Comparison) {
		return nil, apiError("ValidationError", "1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy enum value set: %v", a.Comparison, comparisonOps)
	}
	if in.Threshold == nil || math.IsNaN(*in.Threshold) || math.IsInf(*in.Threshold, 0) {
		return nil, apiError("ValidationError", "A static threshold alarm requires a finite Threshold.")
	}
	a.Threshold = *in.Threshold
	if a.TreatMissingData == "" {
		a.TreatMissingData = "missing"
	}
	if !slices.Contains(treatMissing, a.TreatMissingData) {
		return nil, apiError("ValidationError", "Invalid TreatMissingData %q: must be one of %v", a.TreatMissingData, treatMissing)
	}
	if a.LowSampleCount != "" && a.LowSampleCount != "evaluate" && a.LowSampleCount != "ignore" {
		return nil, apiError("ValidationError", "Invalid EvaluateLowSampleCountPercentile %q", a.LowSampleCount)
	}
	a.EvaluationPeriods = aws.ToInt32(in.EvaluationPeriods)
	if a.EvaluationPeriods < 1 {
		return nil, apiError("ValidationError", "EvaluationPeriods must be at least 1")
	}
	a.DatapointsToAlarm = a.EvaluationPeriods
	if in.DatapointsToAlarm != nil {
		a.DatapointsToAlarm = *in.DatapointsToAlarm
	}
	if a.DatapointsToAlarm < 1 || a.DatapointsToAlarm > a.EvaluationPeriods {
		return nil, apiError("ValidationError", "DatapointsToAlarm (%d) must be between 1 and EvaluationPeriods (%d).", a.DatapointsToAlarm, a.EvaluationPeriods)
	}

	single := in.MetricName != nil
	if single == (len(in.Metrics) > 0) {
		return nil, apiError("ValidationError", "Exactly one of MetricName and Metrics must be specified.")
	}
	if single {
		a.Namespace, a.MetricName, a.Dims = aws.ToString(in.Namespace), aws.ToString(in.MetricName), dimsMap(in.Dimensions)
		a.Statistic, a.ExtendedStatistic, a.Period = string(in.Statistic), aws.ToString(in.ExtendedStatistic), aws.ToInt32(in.Period)
		switch {
		case a.Namespace == "" || a.MetricName == "":
			return nil, apiError("ValidationError", "Namespace and MetricName are required for a single-metric alarm.")
		case (a.Statistic == "") == (a.ExtendedStatistic == ""):
			return nil, apiError("ValidationError", "Exactly one of Statistic and ExtendedStatistic must be specified.")
		case a.Statistic != "" && !slices.Contains(statisticNames, a.Statistic):
			return nil, apiError("ValidationError", "Invalid Statistic %q", a.Statistic)
		case a.ExtendedStatistic != "" && !percentileRe.MatchString(a.ExtendedStatistic):
			return nil, apiError("ValidationError", "The fake supports percentile extended statistics only, got %q", a.ExtendedStatistic)
		case !validPeriod(a.Period):
			return nil, apiError("ValidationError", "Period must be 10, 20, 30 or a multiple of 60, got %d.", a.Period)
		case len(in.Dimensions) > 30:
			return nil, apiError("ValidationError", "at most 30 dimensions")
		}
		return a, checkSpan(a.Period, a.EvaluationPeriods)
	}
	if in.Namespace != nil || in.Period != nil || in.Statistic != "" || in.ExtendedStatistic != nil || len(in.Dimensions) > 0 {
		return nil, apiError("ValidationError", "Namespace, Period, Statistic, ExtendedStatistic and Dimensions cannot be combined with Metrics.")
	}
	metrics, returned, ids := 0, 0, map[string]bool{}
	for _, q := range in.Metrics {
		id := aws.ToString(q.Id)
		if !queryIDRe.MatchString(id) || ids[id] {
			return nil, apiError("ValidationError", "Invalid metrics list: Id %q must be unique, start with a lower-case letter and hold only letters, digits and _.", id)
		}
		ids[id] = true
		aq := alarmQuery{ID: id, Label: aws.ToString(q.Label), ReturnData: q.ReturnData == nil || *q.ReturnData}
		if aq.ReturnData {
			returned++
		}
		if (q.MetricStat == nil) == (q.Expression == nil) {
			return nil, apiError("ValidationError", "Invalid metrics list: %s must have exactly one of MetricStat and Expression.", id)
		}
		if q.MetricStat != nil {
			ms := q.MetricStat
			metrics++
			if ms.Metric == nil || aws.ToString(ms.Metric.Namespace) == "" || aws.ToString(ms.Metric.MetricName) == "" {
				return nil, apiError("ValidationError", "Invalid metrics list: %s needs a metric namespace and name.", id)
			}
			aq.Namespace, aq.MetricName, aq.Dims = aws.ToString(ms.Metric.Namespace), aws.ToString(ms.Metric.MetricName), dimsMap(ms.Metric.Dimensions)
			aq.Stat, aq.Period = aws.ToString(ms.Stat), aws.ToInt32(ms.Period)
			if !validStat(aq.Stat) {
				return nil, apiError("ValidationError", "Invalid metrics list: %s has an invalid Stat %q.", id, aq.Stat)
			}
			if !validPeriod(aq.Period) {
				return nil, apiError("ValidationError", "Invalid metrics list: %s: Period must be 10, 20, 30 or a multiple of 60.", id)
			}
			if a.Period == 0 || aq.Period > a.Period {
				a.Period = aq.Period
			}
		} else {
			aq.Expression = aws.ToString(q.Expression)
			if len(aq.Expression) == 0 || len(aq.Expression) > 2048 {
				return nil, apiError("ValidationError", "Invalid metrics list: %s: the expression must be 1..2048 characters.", id)
			}
			if strings.Contains(strings.ToUpper(aq.Expression), "SEARCH(") {
				return nil, apiError("ValidationError", "Invalid metrics list: SEARCH expressions cannot be used in alarms.")
			}
		}
		a.Metrics = append(a.Metrics, aq)
	}
	switch {
	case returned != 1:
		return nil, apiError("ValidationError", "Invalid metrics list: exactly one item must have ReturnData set to true, found %d.", returned)
	case metrics == 0:
		return nil, apiError("ValidationError", "Invalid metrics list: at least one metric is required.")
	case metrics > 10:
		return nil, apiError("ValidationError", "Invalid metrics list: an alarm can use at most 10 metrics, found %d.", metrics)
	}
	// The expressions must parse against the IDs defined before them.
	probe := map[string]Timeseries{}
	for _, q := range a.Metrics {
		if q.Expression == "" {
			probe[q.ID] = Timeseries{}
			continue
		}
		if _, err := evalMetricMath(q.Expression, probe); err != nil && !strings.Contains(err.Error(), "not a single value") {
			return nil, apiError("ValidationError", "Invalid metrics list: expression %s: %v", q.ID, err)
		}
		probe[q.ID] = Timeseries{}
	}
	return a, checkSpan(a.Period, a.EvaluationPeriods)
}

// PutCompositeAlarm creates or overwrites a composite alarm.
func (f *CloudWatch) PutCompositeAlarm(ctx context.Context, in *cloudwatch.PutCompositeAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutCompositeAlarmOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "PutCompositeAlarm", true, func() error {
		name := aws.ToString(in.AlarmName)
		if err := checkAlarmName(name); err != nil {
			return err
		}
		rule := aws.ToString(in.AlarmRule)
		if rule == "" || len(rule) > 10240 {
			return apiError("ValidationError", "AlarmRule must be 1..10240 characters.")
		}
		expr, err := parseAlarmRule(rule)
		if err != nil {
			return apiError("ValidationError", "Invalid AlarmRule: %v", err)
		}
		s := f.alarms()
		children := expr.refs(nil)
		if len(children) > 100 {
			return apiError("ValidationError", "An AlarmRule can reference at most 100 alarms, found %d.", len(children))
		}
		var missing []string
		for _, ch := range children {
			if f.alarmByRef(ch) == nil {
				missing = append(missing, ch)
			}
			if ch == name || ch == f.alarmARN(name) {
				return apiError("ValidationError", "A composite alarm cannot reference itself.")
			}
		}
		if len(missing) > 0 {
			return apiError("ValidationError", "Could not save the composite alarm as alarms %v in the alarm rule do not exist", missing)
		}
		for field, acts := range map[string][]string{"alarmActions": in.AlarmActions, "okActions": in.OKActions, "insufficientDataActions": in.InsufficientDataActions} {
			if err := f.checkActions(field, acts); err != nil {
				return err
			}
		}
		a := &fakeAlarm{
			Name: name, ARN: f.alarmARN(name), Description: aws.ToString(in.AlarmDescription), Composite: true, Rule: rule,
			ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
			AlarmActions:   slices.Clone(in.AlarmActions), OKActions: slices.Clone(in.OKActions), InsufficientData: slices.Clone(in.InsufficientDataActions),
			ConfigUpdated: f.c.now(),
		}
		if old, ok := s.Alarms[name]; ok {
			if !old.Composite {
				return apiError("ValidationError", "An alarm named %s already exists as a metric alarm.", name)
			}
			a.State, a.StateReason, a.StateUpdated, a.StateTransitioned, a.Tags = old.State, old.StateReason, old.StateUpdated, old.StateTransitioned, old.Tags
		} else {
			a.State, a.StateReason = stateInsufficient, "Unchecked: Initial alarm creation"
			a.StateUpdated, a.StateTransitioned = f.c.now(), f.c.now()
			a.Tags = map[string]string{}
			for _, t := range in.Tags {
				a.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			f.c.created("alarm:" + name)
		}
		s.Alarms[name] = a
		return nil
	})
	return &cloudwatch.PutCompositeAlarmOutput{}, err
}

// alarmByRef finds an alarm by name or ARN. Call with mu held.
func (f *CloudWatch) alarmByRef(ref string) *fakeAlarm {
	s := f.alarms()
	if a, ok := s.Alarms[ref]; ok {
		return a
	}
	if name, ok := strings.CutPrefix(ref, f.alarmARN("")); ok {
		return s.Alarms[name]
	}
	return nil
}

func (a *fakeAlarm) metricAlarm() types.MetricAlarm {
	m := types.MetricAlarm{
		AlarmName: aws.String(a.Name), AlarmArn: aws.String(a.ARN), ActionsEnabled: aws.Bool(a.ActionsEnabled),
		AlarmActions: nonNil(a.AlarmActions), OKActions: nonNil(a.OKActions), InsufficientDataActions: nonNil(a.InsufficientData),
		ComparisonOperator: types.ComparisonOperator(a.Comparison), EvaluationPeriods: aws.Int32(a.EvaluationPeriods),
		DatapointsToAlarm: aws.Int32(a.DatapointsToAlarm), Threshold: aws.Float64(a.Threshold), TreatMissingData: aws.String(a.TreatMissingData),
		StateValue: types.StateValue(a.State), StateReason: aws.String(a.StateReason),
		StateUpdatedTimestamp: aws.Time(a.StateUpdated), StateTransitionedTimestamp: aws.Time(a.StateTransitioned),
		AlarmConfigurationUpdatedTimestamp: aws.Time(a.ConfigUpdated),
	}
	if a.Description != "" {
		m.AlarmDescription = aws.String(a.Description)
	}
	if a.StateReasonData != "" {
		m.StateReasonData = aws.String(a.StateReasonData)
	}
	if a.LowSampleCount != "" {
		m.EvaluateLowSampleCountPercentile = aws.String(a.LowSampleCount)
	}
	if a.Unit != "" {
		m.Unit = types.StandardUnit(a.Unit)
	}
	if a.MetricName != "" {
		m.Namespace, m.MetricName, m.Period = aws.String(a.Namespace), aws.String(a.MetricName), aws.Int32(a.Period)
		m.Dimensions = sdkDims(a.Dims)
		if a.Statistic != "" {
			m.Statistic = types.Statistic(a.Statistic)
		} else {
			m.ExtendedStatistic = aws.String(a.ExtendedStatistic)
		}
		return m
	}
	for _, q := range a.Metrics {
		mq := types.MetricDataQuery{Id: aws.String(q.ID), ReturnData: aws.Bool(q.ReturnData)}
		if q.Label != "" {
			mq.Label = aws.String(q.Label)
		}
		if q.Expression != "" {
			mq.Expression = aws.String(q.Expression)
		} else {
			mq.MetricStat = &types.MetricStat{
				Metric: &types.Metric{Namespace: aws.String(q.Namespace), MetricName: aws.String(q.MetricName), Dimensions: sdkDims(q.Dims)},
				Period: aws.Int32(q.Period), Stat: aws.String(q.Stat),
			}
		}
		m.Metrics = append(m.Metrics, mq)
	}
	return m
}

func (a *fakeAlarm) compositeAlarm() types.CompositeAlarm {
	c := types.CompositeAlarm{
		AlarmName: aws.String(a.Name), AlarmArn: aws.String(a.ARN), AlarmRule: aws.String(a.Rule), ActionsEnabled: aws.Bool(a.ActionsEnabled),
		AlarmActions: nonNil(a.AlarmActions), OKActions: nonNil(a.OKActions), InsufficientDataActions: nonNil(a.InsufficientData),
		StateValue: types.StateValue(a.State), StateReason: aws.String(a.StateReason),
		StateUpdatedTimestamp: aws.Time(a.StateUpdated), StateTransitionedTimestamp: aws.Time(a.StateTransitioned),
		AlarmConfigurationUpdatedTimestamp: aws.Time(a.ConfigUpdated),
	}
	if a.Description != "" {
		c.AlarmDescription = aws.String(a.Description)
	}
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func sdkDims(m map[string]string) []types.Dimension {
	var out []types.Dimension
	for _, k := range sortedKeys(m) {
		out = append(out, types.Dimension{Name: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// DescribeAlarms lists alarms by names or name prefix, type, state and
// action prefix, paginated (MaxRecords 1..100, default 50). As in
// CloudWatch, omitting AlarmTypes returns metric alarms only.
func (f *CloudWatch) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	var out *cloudwatch.DescribeAlarmsOutput
	err := f.c.call(ctx, cloudwatch.ServiceID, "DescribeAlarms", false, func() error {
		if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
			return apiError("InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be combined.")
		}
		if len(in.AlarmNames) > 100 {
			return apiError("ValidationError", "at most 100 AlarmNames")
		}
		if in.ChildrenOfAlarmName != nil || in.ParentsOfAlarmName != nil {
			return apiError("ValidationError", "the fake does not support ChildrenOfAlarmName or ParentsOfAlarmName")
		}
		size := 50
		if in.MaxRecords != nil {
			if *in.MaxRecords < 1 || *in.MaxRecords > 100 {
				return apiError("ValidationError", "MaxRecords must be 1..100")
			}
			size = int(*in.MaxRecords)
		}
		wantMetric, wantComposite := len(in.AlarmTypes) == 0, false
		for _, t := range in.AlarmTypes {
			switch t {
			case types.AlarmTypeMetricAlarm:
				wantMetric = true
			case types.AlarmTypeCompositeAlarm:
				wantComposite = true
			}
		}
		s := f.alarms()
		var match []*fakeAlarm
		for _, name := range sortedKeys(s.Alarms) {
			a := s.Alarms[name]
			switch {
			case len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, name),
				in.AlarmNamePrefix != nil && !strings.HasPrefix(name, *in.AlarmNamePrefix),
				in.StateValue != "" && string(in.StateValue) != a.State,
				a.Composite && !wantComposite, !a.Composite && !wantMetric,
				f.c.hidden("alarm:" + name):
				continue
			}
			if in.ActionPrefix != nil && !slices.ContainsFunc(a.AlarmActions, func(s string) bool { return strings.HasPrefix(s, *in.ActionPrefix) }) {
				continue
			}
			match = append(match, a)
		}
		items, next, err := page(match, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &cloudwatch.DescribeAlarmsOutput{NextToken: next}
		for _, a := range items {
			if a.Composite {
				out.CompositeAlarms = append(out.CompositeAlarms, a.compositeAlarm())
			} else {
				out.MetricAlarms = append(out.MetricAlarms, a.metricAlarm())
			}
		}
		return nil
	})
	return out, err
}

// DeleteAlarms deletes up to 100 alarms, all or none: a name that does not
// exist fails the whole call with ResourceNotFound, as in CloudWatch.
func (f *CloudWatch) DeleteAlarms(ctx context.Context, in *cloudwatch.DeleteAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "DeleteAlarms", true, func() error {
		if len(in.AlarmNames) == 0 || len(in.AlarmNames) > 100 {
			return apiError("ValidationError", "AlarmNames must hold 1..100 names")
		}
		s := f.alarms()
		var missing []string
		for _, n := range in.AlarmNames {
			if _, ok := s.Alarms[n]; !ok {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return notFound("ResourceNotFound", "%v not found", missing)
		}
		for _, n := range in.AlarmNames {
			delete(s.Alarms, n)
		}
		return nil
	})
	return &cloudwatch.DeleteAlarmsOutput{}, err
}

// SetAlarmState sets an alarm's state until its next evaluation; a change
// of state fires the new state's actions.
func (f *CloudWatch) SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	var fire []pendingDelivery
	err := f.c.call(ctx, cloudwatch.ServiceID, "SetAlarmState", true, func() error {
		a := f.alarmByRef(aws.ToString(in.AlarmName))
		if a == nil {
			return notFound("ResourceNotFound", "Alarm %s not found", aws.ToString(in.AlarmName))
		}
		sv := string(in.StateValue)
		if sv != stateOK && sv != stateAlarm && sv != stateInsufficient {
			return apiError("ValidationError", "Invalid StateValue %q", sv)
		}
		reason := aws.ToString(in.StateReason)
		if reason == "" || len(reason) > 1023 {
			return apiError("ValidationError", "StateReason must be 1..1023 characters")
		}
		if in.StateReasonData != nil && !json.Valid([]byte(*in.StateReasonData)) {
			return apiError("InvalidFormat", "StateReasonData is not valid JSON")
		}
		fire = f.transition(a, sv, reason, aws.ToString(in.StateReasonData))
		return nil
	})
	if err == nil {
		f.deliver(ctx, fire)
	}
	return &cloudwatch.SetAlarmStateOutput{}, err
}

// taggedResource resolves a tagging ARN to the tags of an alarm or a
// dashboard, the resources the fake tags. Call with mu held.
func (f *CloudWatch) taggedResource(arn string) (map[string]string, string, error) {
	if name, ok := strings.CutPrefix(arn, f.alarmARN("")); ok {
		a, ok := f.alarms().Alarms[name]
		if !ok || f.c.hidden("alarm:"+name) {
			return nil, "", notFound("ResourceNotFoundException", "Alarm %s not found", name)
		}
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		return a.Tags, "an alarm", nil
	}
	if name, ok := strings.CutPrefix(arn, f.dashboardARN("")); ok {
		d, ok := f.dashboards().Dashboards[name]
		if !ok || f.c.hidden("dashboard/"+name) {
			return nil, "", notFound("ResourceNotFoundException", "Dashboard %s not found", name)
		}
		if d.Tags == nil {
			d.Tags = map[string]string{}
		}
		return d.Tags, "a dashboard", nil
	}
	return nil, "", notFound("ResourceNotFoundException", "Resource %s not found (the fake tags alarms and dashboards only)", arn)
}

// TagResource adds or overwrites tags of an alarm or a dashboard (by
// ARN).
func (f *CloudWatch) TagResource(ctx context.Context, in *cloudwatch.TagResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "TagResource", true, func() error {
		tags, what, err := f.taggedResource(aws.ToString(in.ResourceARN))
		if err != nil {
			return err
		}
		n := len(tags)
		for _, t := range in.Tags {
			if _, ok := tags[aws.ToString(t.Key)]; !ok {
				n++
			}
		}
		if n > 50 {
			return apiError("LimitExceededException", "%s can have at most 50 tags", what)
		}
		for _, t := range in.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return nil
	})
	return &cloudwatch.TagResourceOutput{}, err
}

// UntagResource removes tags of an alarm or a dashboard (by ARN).
func (f *CloudWatch) UntagResource(ctx context.Context, in *cloudwatch.UntagResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.UntagResourceOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "UntagResource", true, func() error {
		tags, _, err := f.taggedResource(aws.ToString(in.ResourceARN))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	return &cloudwatch.UntagResourceOutput{}, err
}

// ListTagsForResource lists the tags of an alarm or a dashboard (by ARN).
func (f *CloudWatch) ListTagsForResource(ctx context.Context, in *cloudwatch.ListTagsForResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error) {
	var out *cloudwatch.ListTagsForResourceOutput
	err := f.c.call(ctx, cloudwatch.ServiceID, "ListTagsForResource", false, func() error {
		tags, _, err := f.taggedResource(aws.ToString(in.ResourceARN))
		if err != nil {
			return err
		}
		out = &cloudwatch.ListTagsForResourceOutput{Tags: []types.Tag{}}
		for _, k := range sortedKeys(tags) {
			out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		return nil
	})
	return out, err
}

// pendingDelivery is an action to fire once the lock is released.
type pendingDelivery struct {
	alarm, state, action string
	snsSubject, snsBody  string
	lambdaPayload        []byte
	event                []byte // the EventBridge event; action is empty
}

// transition moves an alarm to state (recording reason and data) and
// returns the actions to fire, then the EventBridge event: nothing when
// the state does not change, only the event when the alarm's actions are
// disabled. Call with mu held.
func (f *CloudWatch) transition(a *fakeAlarm, newState, reason, data string) []pendingDelivery {
	now := f.c.now()
	old := *a
	a.StateUpdated, a.StateReason, a.StateReasonData = now, reason, data
	if a.State == newState {
		return nil
	}
	a.State, a.StateTransitioned = newState, now
	// EventBridge hears of every state change, whether actions are
	// enabled or not; it goes last, after the alarm's own actions.
	event := pendingDelivery{alarm: a.Name, state: newState, event: f.alarmEvent(a, &old)}
	if !a.ActionsEnabled {
		return []pendingDelivery{event}
	}
	var actions []string
	switch newState {
	case stateAlarm:
		actions = a.AlarmActions
	case stateOK:
		actions = a.OKActions
	default:
		actions = a.InsufficientData
	}
	var out []pendingDelivery
	for _, act := range actions {
		d := pendingDelivery{alarm: a.Name, state: newState, action: act}
		if strings.HasPrefix(act, "arn:aws:sns:") || strings.Contains(act, ":sns:") {
			d.snsSubject, d.snsBody = f.snsAlarmMessage(a, &old)
		} else {
			d.lambdaPayload = f.lambdaAlarmPayload(a, &old)
		}
		out = append(out, d)
	}
	return append(out, event)
}

// deliver fires actions without the lock held and records the outcome.
func (f *CloudWatch) deliver(_ context.Context, ds []pendingDelivery) {
	for _, d := range ds {
		if d.event != nil {
			if publishEvent != nil {
				publishEvent(f.c, d.event)
			}
			continue // recorded by EventBridge (EventDeliveries)
		}
		var err error
		switch {
		case d.lambdaPayload != nil:
			if invokeLambda == nil {
				err = fmt.Errorf("no Lambda service in this cloud")
			} else {
				err = invokeLambda(f.c, d.action, d.lambdaPayload)
			}
		default:
			if publishSNS == nil {
				err = fmt.Errorf("no SNS service in this cloud")
			} else {
				err = publishSNS(f.c, d.action, d.snsSubject, d.snsBody)
			}
		}
		rec := AlarmDelivery{Time: f.c.now(), Alarm: d.alarm, State: d.state, Action: d.action, Delivered: err == nil}
		if err != nil {
			rec.Err = err.Error()
		}
		f.c.mu.Lock()
		s := f.alarms()
		s.Deliveries = append(s.Deliveries, rec)
		if len(s.Deliveries) > maxDeliveries {
			s.Deliveries = slices.Clone(s.Deliveries[len(s.Deliveries)-maxDeliveries:])
		}
		f.c.mu.Unlock()
	}
}

// cwTime formats a time the way alarm messages do.
func cwTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// snsAlarmMessage returns the subject and JSON body CloudWatch publishes
// to an SNS topic for a state change from old to a.
func (f *CloudWatch) snsAlarmMessage(a, old *fakeAlarm) (string, string) {
	msg := map[string]any{
		"AlarmName": a.Name, "AlarmDescription": a.Description, "AWSAccountId": f.c.account,
		"NewStateValue": a.State, "NewStateReason": a.StateReason, "StateChangeTime": cwTime(a.StateTransitioned),
		"Region": f.c.region, "AlarmArn": a.ARN, "OldStateValue": old.State,
	}
	if a.Composite {
		msg["AlarmRule"] = a.Rule
	} else {
		trig := map[string]any{
			"Period": a.Period, "EvaluationPeriods": a.EvaluationPeriods, "DatapointsToAlarm": a.DatapointsToAlarm,
			"ComparisonOperator": a.Comparison, "Threshold": a.Threshold, "TreatMissingData": a.TreatMissingData,
			"EvaluateLowSampleCountPercentile": a.LowSampleCount,
		}
		if a.MetricName != "" {
			trig["MetricName"], trig["Namespace"] = a.MetricName, a.Namespace
			if a.Statistic != "" {
				trig["StatisticType"], trig["Statistic"] = "Statistic", strings.ToUpper(a.Statistic)
			} else {
				trig["StatisticType"], trig["ExtendedStatistic"] = "ExtendedStatistic", a.ExtendedStatistic
			}
			var dims []map[string]string
			for _, k := range sortedKeys(a.Dims) {
				dims = append(dims, map[string]string{"name": k, "value": a.Dims[k]})
			}
			trig["Dimensions"] = dims
		} else {
			var ms []map[string]any
			for _, q := range a.Metrics {
				m := map[string]any{"Id": q.ID, "ReturnData": q.ReturnData}
				if q.Expression != "" {
					m["Expression"] = q.Expression
				} else {
					var dims []map[string]string
					for _, k := range sortedKeys(q.Dims) {
						dims = append(dims, map[string]string{"name": k, "value": q.Dims[k]})
					}
					m["MetricStat"] = map[string]any{"Metric": map[string]any{"Namespace": q.Namespace, "MetricName": q.MetricName, "Dimensions": dims}, "Period": q.Period, "Stat": q.Stat}
				}
				ms = append(ms, m)
			}
			trig["Metrics"] = ms
		}
		msg["Trigger"] = trig
	}
	b, _ := json.Marshal(msg)
	subject := fmt.Sprintf("%s: %q in %s", a.State, a.Name, f.c.region)
	if len(subject) > 100 { // SNS subjects are at most 100 characters
		subject = subject[:100]
	}
	return subject, string(b)
}

// alarmDetail returns the alarm of a state change from old to a the way
// CloudWatch describes it to Lambda (alarmData) and EventBridge (detail):
// its name, new and previous state and configuration.
func alarmDetail(a, old *fakeAlarm) map[string]any {
	cfg := map[string]any{"description": a.Description}
	if a.Composite {
		cfg["alarmRule"] = a.Rule
	} else {
		var metrics []map[string]any
		if a.MetricName != "" {
			stat := a.Statistic
			if stat == "" {
				stat = a.ExtendedStatistic
			}
			metrics = append(metrics, map[string]any{"id": "m1", "returnData": true, "metricStat": map[string]any{
				"metric": map[string]any{"namespace": a.Namespace, "name": a.MetricName, "dimensions": a.Dims}, "period": a.Period, "stat": stat}})
		}
		for _, q := range a.Metrics {
			m := map[string]any{"id": q.ID, "returnData": q.ReturnData}
			if q.Expression != "" {
				m["expression"] = q.Expression
			} else {
				m["metricStat"] = map[string]any{"metric": map[string]any{"namespace": q.Namespace, "name": q.MetricName, "dimensions": q.Dims}, "period": q.Period, "stat": q.Stat}
			}
			metrics = append(metrics, m)
		}
		cfg["metrics"] = metrics
	}
	st := func(x *fakeAlarm) map[string]any {
		m := map[string]any{"value": x.State, "reason": x.StateReason, "timestamp": cwTime(x.StateUpdated)}
		if x.StateReasonData != "" {
			m["reasonData"] = x.StateReasonData
		}
		return m
	}
	return map[string]any{"alarmName": a.Name, "state": st(a), "previousState": st(old), "configuration": cfg}
}

// lambdaAlarmPayload returns the event CloudWatch sends to a Lambda alarm
// action for a state change from old to a.
func (f *CloudWatch) lambdaAlarmPayload(a, old *fakeAlarm) []byte {
	b, _ := json.Marshal(map[string]any{
		"source": "aws.cloudwatch", "alarmArn": a.ARN, "accountId": f.c.account, "time": cwTime(f.c.now()), "region": f.c.region,
		"alarmData": alarmDetail(a, old),
	})
	return b
}

// alarmStateChangeEvent is the EventBridge event CloudWatch puts on the
// default bus for an alarm's state change.
type alarmStateChangeEvent struct {
	Version    string         `json:"version"`
	ID         string         `json:"id"`
	DetailType string         `json:"detail-type"`
	Source     string         `json:"source"`
	Account    string         `json:"account"`
	Time       string         `json:"time"`
	Region     string         `json:"region"`
	Resources  []string       `json:"resources"`
	Detail     map[string]any `json:"detail"`
}

// alarmEvent returns the "CloudWatch Alarm State Change" event of a state
// change from old to a. Its ID is derived from the alarm, the states and
// the time, so events do not move the cloud's ID sequence.
func (f *CloudWatch) alarmEvent(a, old *fakeAlarm) []byte {
	sum := sha256.Sum256([]byte(a.ARN + "|" + old.State + "|" + a.State + "|" + a.StateTransitioned.Format(time.RFC3339Nano)))
	id := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	b, _ := json.Marshal(alarmStateChangeEvent{
		Version: "0", ID: id, DetailType: "CloudWatch Alarm State Change", Source: "aws.cloudwatch",
		Account: f.c.account, Time: f.c.now().UTC().Format(time.RFC3339), Region: f.c.region,
		Resources: []string{a.ARN}, Detail: alarmDetail(a, old),
	})
	return b
}

// EvaluateAlarms evaluates every alarm at the current fake time, metric
// alarms first and then composite alarms (until none changes), and fires
// the actions of every state change. It returns the names of the alarms
// whose state changed, in order.
func (f *CloudWatch) EvaluateAlarms(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.c.mu.Lock()
	s := f.alarms()
	var fire []pendingDelivery
	var changed []string
	for _, name := range sortedKeys(s.Alarms) {
		a := s.Alarms[name]
		if a.Composite {
			continue
		}
		state, reason, data := f.evaluateMetricAlarm(a)
		if state == a.State {
			a.StateUpdated = f.c.now()
			continue
		}
		fire = append(fire, f.transition(a, state, reason, data)...)
		changed = append(changed, name)
	}
	for range 10 { // composites of composites settle in a few rounds
		moved := false
		for _, name := range sortedKeys(s.Alarms) {
			a := s.Alarms[name]
			if !a.Composite {
				continue
			}
			expr, err := parseAlarmRule(a.Rule)
			if err != nil {
				continue
			}
			state := stateOK
			if expr.eval(func(ref string) string {
				if ch := f.alarmByRef(ref); ch != nil {
					return ch.State
				}
				return ""
			}) {
				state = stateAlarm
			}
			if state == a.State {
				continue
			}
			fire = append(fire, f.transition(a, state, fmt.Sprintf("%s evaluated to %s", a.Rule, strings.ToUpper(fmt.Sprint(state == stateAlarm))), "")...)
			changed = append(changed, name)
			moved = true
		}
		if !moved {
			break
		}
	}
	f.c.mu.Unlock()
	f.deliver(ctx, fire)
	return changed, nil
}

// evaluateMetricAlarm computes an alarm's state at the current fake time.
//
// The evaluation range is the EvaluationPeriods (N) most recent complete
// periods. Each period's datapoint breaches or not by the comparison; a
// period without a datapoint is missing. TreatMissingData turns missing
// periods into breaching ones (breaching) or good ones (notBreaching);
// with ignore and missing they are left out. Then:
//
//   - at least DatapointsToAlarm (M) breaching periods: ALARM;
//   - every period missing: INSUFFICIENT_DATA with missing, the current
//     state with ignore;
//   - otherwise: OK.
//
// Call with mu held.
func (f *CloudWatch) evaluateMetricAlarm(a *fakeAlarm) (state, reason, data string) {
	p := time.Duration(a.Period) * time.Second
	end := f.c.now().Truncate(p)
	start := end.Add(-time.Duration(a.EvaluationPeriods) * p)
	ts, err := f.alarmSeries(a, start, end)
	if err != nil {
		return stateInsufficient, "Unable to evaluate: " + err.Error(), ""
	}
	vals := map[int64]float64{}
	for i, t := range ts.Times {
		vals[t.Unix()] = ts.Values[i]
	}
	breach, present, missing := 0, 0, 0
	type dp struct {
		Timestamp string   `json:"timestamp"`
		Value     *float64 `json:"value,omitempty"`
	}
	var evaluated []dp
	var recent []float64
	for t := end.Add(-p); !t.Before(start); t = t.Add(-p) {
		v, ok := vals[t.Unix()]
		d := dp{Timestamp: cwTime(t)}
		switch {
		case ok:
			present++
			vv := v
			d.Value = &vv
			recent = append(recent, v)
			if compare(a.Comparison, v, a.Threshold) {
				breach++
			}
		case a.TreatMissingData == "breaching":
			breach++
		case a.TreatMissingData == "notBreaching":
		default:
			missing++
		}
		evaluated = append(evaluated, d)
	}
	n := int(a.EvaluationPeriods)
	b, _ := json.Marshal(map[string]any{
		"version": "1.0", "queryDate": cwTime(f.c.now()), "startDate": cwTime(start), "period": a.Period,
		"recentDatapoints": recent, "threshold": a.Threshold, "evaluatedDatapoints": evaluated,
	})
	data = string(b)
	switch {
	case breach >= int(a.DatapointsToAlarm):
		return stateAlarm, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints were %s the threshold (%v) (minimum %d datapoints for OK -> ALARM transition).",
			breach, n, compWords(a.Comparison), a.Threshold, a.DatapointsToAlarm), data
	case missing == n && a.TreatMissingData == "ignore":
		return a.State, a.StateReason, a.StateReasonData
	case missing == n:
		return stateInsufficient, fmt.Sprintf("Insufficient Data: %d datapoints were unknown.", n), data
	}
	return stateOK, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints (%d present) were not %s the threshold (%v) (minimum 1 datapoint for ALARM -> OK transition).",
		n-breach-missing, n, present, compWords(a.Comparison), a.Threshold), data
}

// alarmSeries returns the series an alarm watches over [start, end).
// Call with mu held.
func (f *CloudWatch) alarmSeries(a *fakeAlarm, start, end time.Time) (Timeseries, error) {
	if a.MetricName != "" {
		stat := a.Statistic
		if stat == "" {
			stat = a.ExtendedStatistic
		}
		ms := &types.MetricStat{Metric: &types.Metric{Namespace: aws.String(a.Namespace), MetricName: aws.String(a.MetricName), Dimensions: sdkDims(a.Dims)}, Stat: aws.String(stat), Period: aws.Int32(a.Period)}
		return f.query(ms, a.Period, start, end)
	}
	results := map[string]Timeseries{}
	var out Timeseries
	for _, q := range a.Metrics {
		var ts Timeseries
		var err error
		if q.Expression == "" {
			ms := &types.MetricStat{Metric: &types.Metric{Namespace: aws.String(q.Namespace), MetricName: aws.String(q.MetricName), Dimensions: sdkDims(q.Dims)}, Stat: aws.String(q.Stat), Period: aws.Int32(q.Period)}
			ts, err = f.query(ms, q.Period, start, end)
		} else {
			ts, err = evalMetricMath(q.Expression, results)
		}
		if err != nil {
			return Timeseries{}, fmt.Errorf("%s: %w", q.ID, err)
		}
		results[q.ID] = ts
		if q.ReturnData {
			out = ts
		}
	}
	return out, nil
}

func compare(op string, v, threshold float64) bool {
	switch types.ComparisonOperator(op) {
	case types.ComparisonOperatorGreaterThanThreshold:
		return v > threshold
	case types.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return v >= threshold
	case types.ComparisonOperatorLessThanThreshold:
		return v < threshold
	case types.ComparisonOperatorLessThanOrEqualToThreshold:
		return v <= threshold
	}
	return false
}

func compWords(op string) string {
	switch types.ComparisonOperator(op) {
	case types.ComparisonOperatorGreaterThanThreshold:
		return "greater than"
	case types.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return "greater than or equal to"
	case types.ComparisonOperatorLessThanThreshold:
		return "less than"
	}
	return "less than or equal to"
}

// AlarmState returns an alarm's state value, for assertions.
func (f *CloudWatch) AlarmState(name string) (string, bool) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	a, ok := f.alarms().Alarms[name]
	if !ok {
		return "", false
	}
	return a.State, true
}

// AlarmNames returns the names of every alarm, for assertions.
func (f *CloudWatch) AlarmNames() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.alarms().Alarms)
}

// AlarmDeliveries returns the alarm actions fired so far, oldest first.
func (f *CloudWatch) AlarmDeliveries() []AlarmDelivery {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return slices.Clone(f.alarms().Deliveries)
}

// alarmRule is a parsed composite AlarmRule.
type alarmRule struct {
	op       string // "fn", "and", "or", "not", "const"
	fn, ref  string // fn: ALARM, OK, INSUFFICIENT_DATA
	val      bool
	children []*alarmRule
}

func (r *alarmRule) eval(stateOf func(string) string) bool {
	switch r.op {
	case "const":
		return r.val
	case "not":
		return !r.children[0].eval(stateOf)
	case "and":
		return r.children[0].eval(stateOf) && r.children[1].eval(stateOf)
	case "or":
		return r.children[0].eval(stateOf) || r.children[1].eval(stateOf)
	}
	return stateOf(r.ref) == r.fn
}

func (r *alarmRule) refs(acc []string) []string {
	if r.op == "fn" {
		if !slices.Contains(acc, r.ref) {
			acc = append(acc, r.ref)
		}
		return acc
	}
	for _, c := range r.children {
		acc = c.refs(acc)
	}
	return acc
}

type ruleParser struct {
	s   string
	pos int
}

func parseAlarmRule(s string) (*alarmRule, error) {
	p := &ruleParser{s: s}
	r, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.s[p.pos:], p.pos+1)
	}
	return r, nil
}

func (p *ruleParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

// word consumes keyword kw (case-sensitive, as CloudWatch) if it is next.
func (p *ruleParser) word(kw string) bool {
	p.space()
	if !strings.HasPrefix(p.s[p.pos:], kw) {
		return false
	}
	end := p.pos + len(kw)
	if end < len(p.s) && (p.s[end] == '_' || p.s[end] >= 'A' && p.s[end] <= 'Z') {
		return false
	}
	p.pos = end
	return true
}

func (p *ruleParser) or() (*alarmRule, error) {
	l, err := p.and()
	for err == nil && p.word("OR") {
		var r *alarmRule
		if r, err = p.and(); err == nil {
			l = &alarmRule{op: "or", children: []*alarmRule{l, r}}
		}
	}
	return l, err
}

func (p *ruleParser) and() (*alarmRule, error) {
	l, err := p.unary()
	for err == nil && p.word("AND") {
		var r *alarmRule
		if r, err = p.unary(); err == nil {
			l = &alarmRule{op: "and", children: []*alarmRule{l, r}}
		}
	}
	return l, err
}

func (p *ruleParser) unary() (*alarmRule, error) {
	if p.word("NOT") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &alarmRule{op: "not", children: []*alarmRule{r}}, nil
	}
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		p.pos++
		r, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return nil, fmt.Errorf("missing ) at position %d", p.pos+1)
		}
		p.pos++
		return r, nil
	}
	if p.word("TRUE") {
		return &alarmRule{op: "const", val: true}, nil
	}
	if p.word("FALSE") {
		return &alarmRule{op: "const", val: false}, nil
	}
	for _, fn := range []string{stateInsufficient, stateAlarm, stateOK} {
		if !p.word(fn) {
			continue
		}
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] != '(' {
			return nil, fmt.Errorf("%s must be followed by (", fn)
		}
		p.pos++
		p.space()
		var ref string
		if p.pos < len(p.s) && p.s[p.pos] == '"' {
			end := strings.IndexByte(p.s[p.pos+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted alarm name")
			}
			ref = p.s[p.pos+1 : p.pos+1+end]
			p.pos += end + 2
			p.space()
			if p.pos >= len(p.s) || p.s[p.pos] != ')' {
				return nil, fmt.Errorf("missing ) after %q", ref)
			}
		} else {
			end := strings.IndexByte(p.s[p.pos:], ')')
			if end < 0 {
				return nil, fmt.Errorf("missing ) in %s(", fn)
			}
			ref = strings.TrimSpace(p.s[p.pos : p.pos+end])
			p.pos += end
		}
		p.pos++
		if ref == "" {
			return nil, fmt.Errorf("%s() needs an alarm name", fn)
		}
		return &alarmRule{op: "fn", fn: fn, ref: ref}, nil
	}
	return nil, fmt.Errorf("expected ALARM, OK, INSUFFICIENT_DATA, TRUE, FALSE, NOT or ( at position %d", p.pos+1)
}
