package rollback

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/migration"
)

// Comparator compares a datapoint with a rule's threshold. The values are
// CloudWatch's ComparisonOperator names, so a rule and its alarm say the
// same thing.
type Comparator string

// The comparators a rule can use; the datapoint is the left operand.
const (
	GreaterThan        Comparator = "GreaterThanThreshold"
	GreaterThanOrEqual Comparator = "GreaterThanOrEqualToThreshold"
	LessThan           Comparator = "LessThanThreshold"
	LessThanOrEqual    Comparator = "LessThanOrEqualToThreshold"
)

// Breaches reports whether v breaches threshold under c. NaN breaches
// nothing.
func (c Comparator) Breaches(v, threshold float64) bool {
	switch c {
	case GreaterThan:
		return v > threshold
	case GreaterThanOrEqual:
		return v >= threshold
	case LessThan:
		return v < threshold
	case LessThanOrEqual:
		return v <= threshold
	}
	return false
}

// Symbol returns the comparator as an operator (">", ">=", "<", "<=").
func (c Comparator) Symbol() string {
	switch c {
	case GreaterThan:
		return ">"
	case GreaterThanOrEqual:
		return ">="
	case LessThan:
		return "<"
	case LessThanOrEqual:
		return "<="
	}
	return string(c)
}

// MissingData says how a period without a usable datapoint counts. The
// values are CloudWatch's TreatMissingData values.
type MissingData string

// The ways missing data can count.
const (
	// MissingBreaching counts a missing period as breaching.
	MissingBreaching MissingData = "breaching"
	// MissingNotBreaching counts a missing period as good.
	MissingNotBreaching MissingData = "notBreaching"
	// MissingIgnore leaves missing periods out; when every period is
	// missing the rule keeps its previous status.
	MissingIgnore MissingData = "ignore"
	// MissingInconclusive leaves missing periods out; when every period is
	// missing the rule is inconclusive (CloudWatch's "missing":
	// INSUFFICIENT_DATA). It is the default.
	MissingInconclusive MissingData = "missing"
)

// Metric names one CloudWatch metric and the statistic to take of it.
type Metric struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Stat is Average, Sum, Minimum, Maximum, SampleCount or a percentile
	// pNN (p99, p99.9).
	Stat string `json:"stat"`
}

// Query is what a rule watches: one metric, or a metric-math Expression
// over Metrics (keyed by the IDs the expression uses), at one Period.
type Query struct {
	Metric     *Metric           `json:"metric,omitempty"`
	Expression string            `json:"expression,omitempty"`
	Metrics    map[string]Metric `json:"metrics,omitempty"`
	// SamplesID names the metric of Metrics whose value is a period's
	// sample count, for an expression rule with MinSamples.
	SamplesID string `json:"samplesId,omitempty"`
	// Samples is the metric whose value is a period's sample count, for a
	// single-metric rule with MinSamples; nil means the metric's own
	// SampleCount (for a latency percentile, the load balancer's
	// RequestCount is the usual choice).
	Samples *Metric `json:"samples,omitempty"`
	// Period is the length of one datapoint: 10, 20 or 30 seconds or a
	// multiple of a minute.
	Period time.Duration `json:"period"`
}

// Rule is one check of a rollback policy. The engine (Evaluate) and the
// CloudWatch alarm made from the rule (AlarmInput) agree on what a breach
// is: the same query, comparator, threshold, M of N and missing-data
// treatment.
type Rule struct {
	// Name identifies the rule: lower-case letters, digits and hyphens,
	// starting with a letter, at most 48 characters. The alarm is
	// env.Name("alarm-"+Name).
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Query       Query  `json:"query"`
	// Comparator and Threshold define a breaching datapoint.
	Comparator Comparator `json:"comparator"`
	Threshold  float64    `json:"threshold"`
	// EvaluationPeriods is N, the number of most recent periods evaluated.
	EvaluationPeriods int `json:"evaluationPeriods"`
	// DatapointsToAlarm is M: the rule breaches when at least M of the
	// last N periods breach, consecutive or not. 0 means N.
	DatapointsToAlarm int `json:"datapointsToAlarm,omitempty"`
	// Missing is how a missing period counts; "" means MissingInconclusive.
	Missing MissingData `json:"missing,omitempty"`
	// MinSamples is the minimum sample count of a period for its
	// datapoint to count at all; a period below it is missing (a 50 %
	// error rate over two requests is not evidence). 0 disables it.
	MinSamples float64 `json:"minSamples,omitempty"`
	// ClearAfter is how many consecutive good datapoints a rule that
	// breached needs before it stops breaching (no flapping); 0 means 1.
	ClearAfter int `json:"clearAfter,omitempty"`
	// ErrorLimit is how many consecutive provider errors (a failed
	// GetMetricData) the rule tolerates, keeping its previous status; one
	// more makes it inconclusive.
	ErrorLimit int `json:"errorLimit,omitempty"`
	// DryRun rules are evaluated and recorded but never decide anything;
	// their alarms notify and never invoke the rollback Lambda.
	DryRun bool `json:"dryRun,omitempty"`
}

// Policy is the rollback policy of a cutover: its rules and the data-loss
// budget that decides whether a rollback is safe.
type Policy struct {
	Rules []Rule `json:"rules"`
	// DataLossBudget is the largest reverse replication lag at which a
	// rollback is still allowed: writes made on green and not yet
	// replicated back to blue are lost when traffic moves back. Above it
	// (or when the lag is unknown) a rollback becomes a Freeze.
	DataLossBudget time.Duration `json:"dataLossBudget"`
}

// maxRuleName bounds rule names so alarm names and Lambda statement IDs
// derived from them stay within AWS limits.
const maxRuleName = 48

var (
	ruleNameRe = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	metricIDRe = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)
	statRe     = regexp.MustCompile(`^(Average|Sum|Minimum|Maximum|SampleCount|p(\d{1,2}(\.\d{1,2})?|100))$`)
	// exprTokenRe finds identifiers in a metric-math expression: query IDs
	// start with a lower-case letter, functions and keywords are upper case.
	exprTokenRe = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// notAlarmable are metric-math functions CloudWatch refuses in alarms, or
// that need more than a static threshold.
var notAlarmable = map[string]string{
	"SEARCH":                 "SEARCH expressions cannot be used in alarms",
	"METRICS":                "METRICS() returns many series; an alarm watches one",
	"ANOMALY_DETECTION_BAND": "anomaly detection alarms are not static-threshold alarms",
	"SERVICE_QUOTA":          "not supported in rollback rules",
	"INSIGHT_RULE_METRIC":    "not supported in rollback rules",
	"SORT":                   "returns many series; an alarm watches one",
	"SLICE":                  "returns many series; an alarm watches one",
}

// maxAlarmMetrics is the most metrics a metric-math alarm may use.
const maxAlarmMetrics = 10

// m returns M, defaulting to N.
func (r Rule) m() int {
	if r.DatapointsToAlarm == 0 {
		return r.EvaluationPeriods
	}
	return r.DatapointsToAlarm
}

func (r Rule) missing() MissingData {
	if r.Missing == "" {
		return MissingInconclusive
	}
	return r.Missing
}

func (r Rule) clearAfter() int { return max(r.ClearAfter, 1) }

// metrics returns every metric the rule's query reads.
func (r Rule) metrics() []Metric {
	var out []Metric
	if r.Query.Metric != nil {
		out = append(out, *r.Query.Metric)
	}
	if r.Query.Samples != nil {
		out = append(out, *r.Query.Samples)
	}
	for _, id := range sortedMetricIDs(r.Query.Metrics) {
		out = append(out, r.Query.Metrics[id])
	}
	return out
}

// lookback returns how many periods Evaluate needs: the evaluation
// range, or the clear streak when it is longer.
func (r Rule) lookback() int { return max(r.EvaluationPeriods, r.clearAfter()) }

// Validate checks the rule, and that CloudWatch can alarm on it: periods
// of 10, 20 or 30 s or a multiple of 60 s, and no sub-minute period on an
// AWS/ namespace (those metrics have one-minute resolution at best); N ×
// period at most one day
// (seven days for periods of an hour or more), and the same for the clear
// streak; 1 ≤ M ≤ N; a finite threshold; a known statistic; an expression
// that uses only its own metrics (at most 10, with the sample count
// query) and no function CloudWatch refuses in alarms.
func (r Rule) Validate() error {
	var errs []error
	field := func(f string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("rule %q: %s: %s", r.Name, f, fmt.Sprintf(format, args...)))
	}
	if !ruleNameRe.MatchString(r.Name) || len(r.Name) > maxRuleName {
		field("name", "must be 1..%d lower-case letters, digits and hyphens, starting with a letter", maxRuleName)
	}
	if len(r.Description) > 1024 {
		field("description", "at most 1024 characters")
	}
	p := r.Query.Period
	secs := int64(p / time.Second)
	switch {
	case p%time.Second != 0 || !(secs == 10 || secs == 20 || secs == 30 || secs >= 60 && secs%60 == 0):
		field("query.period", "%v: CloudWatch alarms take 10s, 20s, 30s or a multiple of 60s", p)
	}
	if secs > 0 && secs < 60 {
		for _, m := range r.metrics() {
			if strings.HasPrefix(m.Namespace, "AWS/") {
				field("query.period", "%v on %s %s: AWS metrics have one-minute resolution at best, so a sub-minute alarm would sit in INSUFFICIENT_DATA", p, m.Namespace, m.Name)
				break
			}
		}
	}
	switch r.Comparator {
	case GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual:
	default:
		field("comparator", "%q is not one of GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold", r.Comparator)
	}
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		field("threshold", "must be a finite number")
	}
	if r.EvaluationPeriods < 1 {
		field("evaluationPeriods", "must be at least 1, got %d", r.EvaluationPeriods)
	}
	if r.DatapointsToAlarm < 0 || r.DatapointsToAlarm > r.EvaluationPeriods {
		field("datapointsToAlarm", "%d must be between 1 and evaluationPeriods (%d)", r.DatapointsToAlarm, r.EvaluationPeriods)
	}
	limit := int64(86400)
	if secs >= 3600 {
		limit = 604800
	}
	if secs > 0 && int64(r.EvaluationPeriods)*secs > limit {
		field("evaluationPeriods", "%d × %ds exceeds the %ds CloudWatch allows an alarm to evaluate", r.EvaluationPeriods, secs, limit)
	}
	if r.ClearAfter < 0 || secs > 0 && int64(r.ClearAfter)*secs > limit {
		field("clearAfter", "%d periods must be between 0 and what one query window holds (%ds)", r.ClearAfter, limit)
	}
	switch r.Missing {
	case "", MissingBreaching, MissingNotBreaching, MissingIgnore, MissingInconclusive:
	default:
		field("missing", "%q is not one of breaching, notBreaching, ignore, missing", r.Missing)
	}
	if r.MinSamples < 0 || math.IsNaN(r.MinSamples) || math.IsInf(r.MinSamples, 0) {
		field("minSamples", "must be a finite number ≥ 0")
	}
	if r.ErrorLimit < 0 {
		field("errorLimit", "must be ≥ 0")
	}
	errs = append(errs, r.validateQuery()...)
	return errors.Join(errs...)
}

func checkMetric(where string, m Metric) error {
	var errs []error
	if m.Namespace == "" || len(m.Namespace) > 255 {
		errs = append(errs, fmt.Errorf("%s.namespace: must be 1..255 characters", where))
	}
	if m.Name == "" || len(m.Name) > 255 {
		errs = append(errs, fmt.Errorf("%s.name: must be 1..255 characters", where))
	}
	if len(m.Dimensions) > 30 {
		errs = append(errs, fmt.Errorf("%s.dimensions: at most 30", where))
	}
	for k, v := range m.Dimensions {
		if k == "" || v == "" || len(k) > 255 || len(v) > 1024 {
			errs = append(errs, fmt.Errorf("%s.dimensions: %q=%q: names 1..255 and values 1..1024 characters", where, k, v))
		}
	}
	if !statRe.MatchString(m.Stat) {
		errs = append(errs, fmt.Errorf("%s.stat: %q is not Average, Sum, Minimum, Maximum, SampleCount or a percentile pNN", where, m.Stat))
	}
	return errors.Join(errs...)
}

func (r Rule) validateQuery() []error {
	var errs []error
	q := r.Query
	wrap := func(err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %q: query.%w", r.Name, err))
		}
	}
	switch {
	case (q.Metric == nil) == (q.Expression == ""):
		wrap(errors.New("metric/expression: exactly one of metric and expression is required"))
		return errs
	case q.Metric != nil:
		wrap(checkMetric("metric", *q.Metric))
		if q.Samples != nil {
			wrap(checkMetric("samples", *q.Samples))
		}
		if len(q.Metrics) > 0 || q.SamplesID != "" {
			wrap(errors.New("metrics: only an expression rule has metrics and samplesId"))
		}
		return errs
	}
	if q.Samples != nil {
		wrap(errors.New("samples: an expression rule names its sample count with samplesId"))
	}
	if len(q.Expression) > 1024 {
		wrap(errors.New("expression: at most 1024 characters"))
	}
	if len(q.Metrics) == 0 {
		wrap(errors.New("metrics: an expression needs at least one metric"))
	}
	if len(q.Metrics) > maxAlarmMetrics {
		wrap(fmt.Errorf("metrics: %d metrics; a CloudWatch alarm may use at most %d", len(q.Metrics), maxAlarmMetrics))
	}
	for id, m := range q.Metrics {
		if !metricIDRe.MatchString(id) || len(id) > 32 {
			wrap(fmt.Errorf("metrics[%s]: IDs start with a lower-case letter and hold letters, digits and _ (at most 32)", id))
		}
		wrap(checkMetric("metrics["+id+"]", m))
	}
	if r.MinSamples > 0 {
		if _, ok := q.Metrics[q.SamplesID]; !ok {
			wrap(fmt.Errorf("samplesId: %q must name one of the metrics when minSamples is set", q.SamplesID))
		}
	}
	depth, used := 0, 0
	for _, c := range q.Expression {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth < 0 {
			break
		}
	}
	if depth != 0 {
		wrap(errors.New("expression: unbalanced parentheses"))
	}
	for _, loc := range exprTokenRe.FindAllStringIndex(q.Expression, -1) {
		tok := q.Expression[loc[0]:loc[1]]
		if loc[0] > 0 && (q.Expression[loc[0]-1] >= '0' && q.Expression[loc[0]-1] <= '9' || q.Expression[loc[0]-1] == '.') {
			continue // the exponent of a number such as 1e3
		}
		switch {
		case tok[0] >= 'a' && tok[0] <= 'z':
			if _, ok := q.Metrics[tok]; !ok {
				wrap(fmt.Errorf("expression: %q is not one of the rule's metrics", tok))
			}
			used++
		default:
			if why, bad := notAlarmable[strings.ToUpper(tok)]; bad {
				wrap(fmt.Errorf("expression: %s: %s", tok, why))
			}
		}
	}
	if used == 0 {
		wrap(errors.New("expression: must use at least one of its metrics"))
	}
	return errs
}

// Validate checks the policy: at least one rule, unique rule names, every
// rule valid, and a positive data-loss budget.
func (p Policy) Validate() error {
	var errs []error
	if len(p.Rules) == 0 {
		errs = append(errs, errors.New("policy.rules: at least one rule is required"))
	}
	if len(p.Rules) > 100 {
		errs = append(errs, errors.New("policy.rules: at most 100 rules (a composite alarm holds at most 100 alarms)"))
	}
	seen := map[string]bool{}
	for _, r := range p.Rules {
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("policy.rules: rule %q defined twice", r.Name))
		}
		seen[r.Name] = true
		if err := r.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if p.DataLossBudget <= 0 {
		errs = append(errs, errors.New("policy.dataLossBudget: must be positive: it is the most reverse replication lag a rollback may lose"))
	}
	return errors.Join(errs...)
}

// Window returns the longest evaluation range of the policy's rules (N ×
// period): a bake shorter than this never sees a full range.
func (p Policy) Window() time.Duration {
	var w time.Duration
	for _, r := range p.Rules {
		w = max(w, time.Duration(r.EvaluationPeriods)*r.Query.Period)
	}
	return w
}

// Interval returns the shortest rule period: how often the controller
// evaluates the policy.
func (p Policy) Interval() time.Duration {
	var iv time.Duration
	for _, r := range p.Rules {
		if iv == 0 || r.Query.Period < iv {
			iv = r.Query.Period
		}
	}
	return iv
}

// Point is one datapoint: the start of its period and its value.
type Point struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
}

// Series is what the metric source observed for one rule.
type Series struct {
	// Points are the rule's values, one per period, in any order.
	Points []Point `json:"points,omitempty"`
	// Samples are the periods' sample counts, for rules with MinSamples.
	Samples []Point `json:"samples,omitempty"`
	// Err is set when the provider failed to return the rule's data.
	Err error `json:"-"`
}

// Observations are everything Evaluate looks at.
type Observations struct {
	// At is the evaluation time. A rule evaluates the N complete periods
	// before At truncated to its period.
	At time.Time
	// NotBefore opens the evaluation window: periods starting before it
	// are not evaluated (traffic then still followed the previous split).
	// The zero time evaluates every period.
	NotBefore time.Time
	// Series holds each rule's observations by rule name. A rule without
	// an entry counts as a provider error.
	Series map[string]Series
	// ReverseLag is the reverse replication task's state, or nil when it
	// could not be read.
	ReverseLag *migration.ReplicationLag
	// Previous is the State of the previous Decision (the zero State
	// before the first).
	Previous State
}

// Verdict is what the policy decides.
type Verdict string

// The verdicts of Evaluate.
const (
	// Continue: every deciding rule is fine; the cutover may proceed.
	Continue Verdict = "continue"
	// Hold: a deciding rule is inconclusive (no data, too few samples,
	// too many provider errors); stay at this weight and notify — a human
	// decides.
	Hold Verdict = "hold"
	// Rollback: a deciding rule breaches and the reverse replication lag
	// is within the data-loss budget; move traffic back to blue.
	Rollback Verdict = "rollback"
	// Freeze: a rollback is called for but is not safe, because the
	// reverse replication lag is over the data-loss budget or unknown;
	// traffic stays put and someone is paged.
	Freeze Verdict = "freeze"
)

// RuleStatus is one rule's outcome.
type RuleStatus string

// The statuses of a rule.
const (
	StatusOK           RuleStatus = "ok"
	StatusBreaching    RuleStatus = "breaching"
	StatusInconclusive RuleStatus = "inconclusive"
	// StatusPending: the evaluation window holds no complete period yet.
	StatusPending RuleStatus = "pending"
)

// Slot is one evaluated period of a rule.
type Slot struct {
	Time    time.Time `json:"t"`
	Value   float64   `json:"v,omitempty"`
	Present bool      `json:"present"`
	// Samples is the period's sample count when the rule has MinSamples.
	Samples float64 `json:"n,omitempty"`
	// LowSamples: present, but under MinSamples, so missing.
	LowSamples bool `json:"low,omitempty"`
	Breaching  bool `json:"breaching"`
}

// RuleResult is one rule's evaluation, with everything needed to explain
// it afterwards: the datapoints, the threshold, how many of how many.
type RuleResult struct {
	Rule              string     `json:"rule"`
	DryRun            bool       `json:"dryRun,omitempty"`
	Status            RuleStatus `json:"status"`
	Why               string     `json:"why"`
	Comparator        Comparator `json:"comparator"`
	Threshold         float64    `json:"threshold"`
	DatapointsToAlarm int        `json:"m"`
	EvaluationPeriods int        `json:"n"`
	// Breaching, Missing and Evaluated count the periods of the range
	// (Evaluated < N while the window is still opening).
	Breaching int `json:"breaching"`
	Missing   int `json:"missing"`
	Evaluated int `json:"evaluated"`
	// Slots are the evaluated periods, newest first.
	Slots []Slot `json:"slots,omitempty"`
	// Latched: the rule breached before and has not yet seen ClearAfter
	// consecutive good datapoints.
	Latched bool `json:"latched,omitempty"`
	// GoodStreak is the run of good datapoints ending at the newest one.
	GoodStreak int `json:"goodStreak,omitempty"`
	// Errors counts consecutive provider errors; Err is the last one.
	Errors int    `json:"errors,omitempty"`
	Err    string `json:"error,omitempty"`
}

// RuleState is what Evaluate remembers of one rule between evaluations.
type RuleState struct {
	Status   RuleStatus `json:"status,omitempty"`
	Breached bool       `json:"breached,omitempty"`
	Errors   int        `json:"errors,omitempty"`
}

// State is the engine's memory, carried from one Decision to the
// Observations of the next.
type State struct {
	Rules map[string]RuleState `json:"rules,omitempty"`
}

// Decision is the outcome of one evaluation.
type Decision struct {
	Verdict Verdict   `json:"verdict"`
	At      time.Time `json:"at"`
	// Reason is one line naming what decided.
	Reason string `json:"reason"`
	// Deciding names the rules that caused a Rollback, Freeze or Hold.
	Deciding []string     `json:"deciding,omitempty"`
	Rules    []RuleResult `json:"rules"`
	// ReverseLag is max(source, target) latency of the reverse task when
	// known, with its status; DataLossBudget is the policy's budget.
	ReverseLag      time.Duration `json:"reverseLag,omitempty"`
	ReverseLagKnown bool          `json:"reverseLagKnown"`
	ReverseStatus   string        `json:"reverseStatus,omitempty"`
	DataLossBudget  time.Duration `json:"dataLossBudget"`
	State           State         `json:"state"`
	PolicyError     string        `json:"policyError,omitempty"`
}

// Evaluate applies policy to obs and decides. It is pure: no I/O, no
// clock; the same input gives the same Decision. It never panics: an
// invalid policy is a Hold naming the problem, and NaN datapoints count as
// missing.
//
// Each rule is evaluated over its range — the N complete periods before
// obs.At truncated to the rule's period, leaving out periods that start
// before obs.NotBefore:
//
//  1. A provider error (Series.Err, or no Series for the rule) keeps the
//     rule's previous status for up to ErrorLimit consecutive errors (a
//     rule without one is inconclusive); one more error makes it
//     inconclusive.
//  2. A period is present when it has a non-NaN datapoint and, for a rule
//     with MinSamples, a sample count of at least MinSamples; otherwise it
//     is missing. A present period breaches when Comparator.Breaches.
//  3. Missing periods count as breaching (MissingBreaching), good
//     (MissingNotBreaching), or are left out (MissingIgnore,
//     MissingInconclusive).
//  4. At least M breaching periods: breaching. Every period missing:
//     inconclusive (MissingInconclusive), or the previous status
//     (MissingIgnore; inconclusive when there is none). No period in the
//     range yet: pending. Otherwise: ok.
//  5. No flapping: a rule that breached stays breaching until its newest
//     ClearAfter periods are all good (present and not breaching, or
//     missing under MissingNotBreaching); a missing or breaching period
//     restarts the count.
//
// Then the decision, over the rules that are not DryRun:
//
//   - any breaching: Rollback, unless the reverse replication lag
//     (max of source and target latency) exceeds DataLossBudget, or is
//     unknown (nil, or a task in a failed or error state): Freeze;
//   - else any inconclusive: Hold;
//   - else Continue.
//
// DryRun rules are evaluated, remembered and reported, and never decide.
func Evaluate(policy Policy, obs Observations) Decision {
	d := Decision{At: obs.At, DataLossBudget: policy.DataLossBudget, State: State{Rules: map[string]RuleState{}}}
	if obs.ReverseLag != nil {
		d.ReverseLag = max(obs.ReverseLag.Source, obs.ReverseLag.Target)
		d.ReverseStatus = obs.ReverseLag.Status
		st := strings.ToLower(obs.ReverseLag.Status)
		d.ReverseLagKnown = !strings.Contains(st, "fail") && !strings.Contains(st, "error")
	}
	if err := policy.Validate(); err != nil {
		d.Verdict = Hold
		d.PolicyError = err.Error()
		d.Reason = "invalid policy: " + firstLine(err.Error())
		return d
	}
	var breaching, inconclusive []string
	for _, r := range policy.Rules {
		res, st := evaluateRule(r, obs)
		d.Rules = append(d.Rules, res)
		d.State.Rules[r.Name] = st
		if r.DryRun {
			continue
		}
		switch res.Status {
		case StatusBreaching:
			breaching = append(breaching, r.Name)
		case StatusInconclusive:
			inconclusive = append(inconclusive, r.Name)
		}
	}
	why := func(names []string) string {
		var parts []string
		for _, n := range names {
			for _, res := range d.Rules {
				if res.Rule == n {
					parts = append(parts, n+": "+res.Why)
				}
			}
		}
		return strings.Join(parts, "; ")
	}
	switch {
	case len(breaching) > 0:
		d.Deciding = breaching
		switch {
		case !d.ReverseLagKnown:
			d.Verdict = Freeze
			status := "unreadable"
			if obs.ReverseLag != nil {
				status = fmt.Sprintf("in state %q", obs.ReverseLag.Status)
			}
			d.Reason = fmt.Sprintf("rollback called for (%s) but the reverse replication is %s: moving traffic back could lose writes", why(breaching), status)
		case d.ReverseLag > policy.DataLossBudget:
			d.Verdict = Freeze
			d.Reason = fmt.Sprintf("rollback called for (%s) but the reverse replication lag %v exceeds the data-loss budget %v", why(breaching), d.ReverseLag, policy.DataLossBudget)
		default:
			d.Verdict = Rollback
			d.Reason = why(breaching)
		}
	case len(inconclusive) > 0:
		d.Verdict = Hold
		d.Deciding = inconclusive
		d.Reason = why(inconclusive)
	default:
		d.Verdict = Continue
		d.Reason = fmt.Sprintf("%d rules within thresholds", len(d.Rules))
	}
	return d
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// evaluateRule evaluates one rule (steps 1-5 of Evaluate).
func evaluateRule(r Rule, obs Observations) (RuleResult, RuleState) {
	prev := obs.Previous.Rules[r.Name]
	res := RuleResult{
		Rule: r.Name, DryRun: r.DryRun, Comparator: r.Comparator, Threshold: r.Threshold,
		DatapointsToAlarm: r.m(), EvaluationPeriods: r.EvaluationPeriods,
	}
	next := RuleState{Breached: prev.Breached}
	series, ok := obs.Series[r.Name]
	if !ok {
		series.Err = errors.New("no observations for this rule")
	}
	if series.Err != nil {
		next.Errors = prev.Errors + 1
		res.Errors, res.Err, res.Latched = next.Errors, series.Err.Error(), prev.Breached
		switch {
		case next.Errors > r.ErrorLimit:
			res.Status = StatusInconclusive
			res.Why = fmt.Sprintf("%d consecutive provider errors exceed the limit of %d: %v", next.Errors, r.ErrorLimit, series.Err)
		case prev.Status == "" || prev.Status == StatusPending:
			res.Status = StatusInconclusive
			res.Why = fmt.Sprintf("provider error and no earlier status to keep: %v", series.Err)
		default:
			res.Status = prev.Status
			res.Why = fmt.Sprintf("provider error %d of %d tolerated, keeping %s: %v", next.Errors, r.ErrorLimit, prev.Status, series.Err)
		}
		next.Status = res.Status
		return res, next
	}

	p := r.Query.Period
	end := obs.At.Truncate(p)
	values := bucket(series.Points, p)
	samples := bucket(series.Samples, p)
	missing := r.missing()
	// Slots newest first over the lookback; the first N are the range.
	var slots []Slot
	for k := 1; k <= r.lookback(); k++ {
		start := end.Add(-time.Duration(k) * p)
		if !obs.NotBefore.IsZero() && start.Before(obs.NotBefore) {
			break
		}
		s := Slot{Time: start}
		if v, ok := values[start.Unix()]; ok {
			s.Present, s.Value = true, v
		}
		if r.MinSamples > 0 {
			n, ok := samples[start.Unix()]
			s.Samples = n
			if s.Present && (!ok || n < r.MinSamples) {
				s.Present, s.LowSamples = false, true
			}
		}
		switch {
		case s.Present:
			s.Breaching = r.Comparator.Breaches(s.Value, r.Threshold)
		case missing == MissingBreaching:
			s.Breaching = true
		}
		slots = append(slots, s)
	}
	rangeSlots := slots[:min(len(slots), r.EvaluationPeriods)]
	res.Slots = rangeSlots
	res.Evaluated = len(rangeSlots)
	for _, s := range rangeSlots {
		switch {
		case s.Breaching:
			res.Breaching++
		case !s.Present && missing != MissingNotBreaching:
			res.Missing++
		}
	}
	// The good streak: newest periods that are good.
	for _, s := range slots {
		good := !s.Breaching && (s.Present || missing == MissingNotBreaching)
		if !good {
			break
		}
		res.GoodStreak++
	}
	values5 := describeSlots(rangeSlots)
	switch {
	case res.Evaluated == 0:
		res.Status = StatusPending
		res.Why = "no complete period in the evaluation window yet"
	case res.Breaching >= r.m():
		res.Status = StatusBreaching
		res.Why = fmt.Sprintf("%d of the last %d datapoints %s %s (need %d) [%s]", res.Breaching, res.Evaluated, r.Comparator.Symbol(), formatFloat(r.Threshold), r.m(), values5)
	case res.Missing == res.Evaluated && missing == MissingIgnore && prev.Status != "" && prev.Status != StatusPending:
		res.Status = prev.Status
		res.Why = fmt.Sprintf("no data in %d periods; missing data ignored, keeping %s", res.Evaluated, prev.Status)
	case res.Missing == res.Evaluated:
		res.Status = StatusInconclusive
		low := 0
		for _, s := range rangeSlots {
			if s.LowSamples {
				low++
			}
		}
		if low > 0 {
			res.Why = fmt.Sprintf("no usable data in %d periods (%d under the minimum of %s samples)", res.Evaluated, low, formatFloat(r.MinSamples))
		} else {
			res.Why = fmt.Sprintf("no data in %d periods", res.Evaluated)
		}
	default:
		res.Status = StatusOK
		res.Why = fmt.Sprintf("%d of the last %d datapoints %s %s (alarm at %d) [%s]", res.Breaching, res.Evaluated, r.Comparator.Symbol(), formatFloat(r.Threshold), r.m(), values5)
	}
	if prev.Breached && res.Status != StatusBreaching {
		if res.GoodStreak >= r.clearAfter() {
			res.Why += fmt.Sprintf("; cleared after %d consecutive good datapoints", res.GoodStreak)
			next.Breached = false
		} else {
			res.Why = fmt.Sprintf("breached earlier and %d of %d consecutive good datapoints seen to clear; now %s", res.GoodStreak, r.clearAfter(), res.Why)
			res.Status, res.Latched = StatusBreaching, true
		}
	}
	if res.Status == StatusBreaching {
		next.Breached = true
	}
	next.Status = res.Status
	return res, next
}

// bucket maps points to their period start (Unix seconds); NaN values are
// dropped; of two points in one period the later in the input wins.
func bucket(points []Point, p time.Duration) map[int64]float64 {
	out := make(map[int64]float64, len(points))
	for _, pt := range points {
		if math.IsNaN(pt.Value) {
			continue
		}
		out[pt.Time.Truncate(p).Unix()] = pt.Value
	}
	return out
}

// describeSlots renders up to ten slots, newest first, "-" for missing.
func describeSlots(slots []Slot) string {
	var parts []string
	for i, s := range slots {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("… %d more", len(slots)-10))
			break
		}
		switch {
		case s.LowSamples:
			parts = append(parts, fmt.Sprintf("(%s, %s samples)", formatFloat(s.Value), formatFloat(s.Samples)))
		case !s.Present:
			parts = append(parts, "-")
		default:
			parts = append(parts, formatFloat(s.Value))
		}
	}
	return strings.Join(parts, " ")
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// Breaching returns the results of the rules that breach.
func (d Decision) Breaching() []RuleResult {
	return slices.DeleteFunc(slices.Clone(d.Rules), func(r RuleResult) bool { return r.Status != StatusBreaching })
}
