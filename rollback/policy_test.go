package rollback_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// at is the evaluation time of the engine tests: the three complete
// one-minute periods before it start at 09:57, 09:58 and 09:59.
var at = time.Date(2026, 11, 2, 10, 0, 30, 0, time.UTC)

// gap marks a period without a datapoint in vals.
var gap = math.Float64frombits(0x7ff8_dead_beef_0001) // a NaN payload used only as a marker

func isGap(v float64) bool { return math.Float64bits(v) == math.Float64bits(gap) }

// vals returns one point per period, oldest first, ending with the last
// complete period before at; gap leaves a period empty.
func vals(vs ...float64) []rollback.Point {
	end := at.Truncate(time.Minute)
	var out []rollback.Point
	for i, v := range vs {
		if isGap(v) {
			continue
		}
		out = append(out, rollback.Point{Time: end.Add(-time.Duration(len(vs)-i) * time.Minute), Value: v})
	}
	return out
}

func baseRule(mods ...func(*rollback.Rule)) rollback.Rule {
	r := rollback.Rule{
		Name:  "errors",
		Query: rollback.Query{Metric: &rollback.Metric{Namespace: "Test", Name: "Errors", Stat: "Average"}, Period: time.Minute},
		// > 10 in 2 of the last 3 minutes.
		Comparator: rollback.GreaterThan, Threshold: 10, EvaluationPeriods: 3, DatapointsToAlarm: 2,
	}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func okLag() *migration.ReplicationLag {
	return &migration.ReplicationLag{Task: "reverse", Status: "running", Source: 5 * time.Second, Target: 10 * time.Second}
}

func TestEvaluate(t *testing.T) {
	errProvider := errors.New("Throttling: Rate exceeded")
	type tc struct {
		name      string
		rules     []rollback.Rule
		series    map[string]rollback.Series // default: rule "errors" with values
		values    []float64
		samples   []float64
		lag       *migration.ReplicationLag
		noLag     bool
		budget    time.Duration
		prev      rollback.State
		notBefore time.Time
		// expectations
		verdict   rollback.Verdict
		status    rollback.RuleStatus // of rule "errors"
		breaching int                 // of rule "errors", -1 to skip
		reason    string              // substring of the reason
		deciding  []string
		nextState *rollback.RuleState // of rule "errors"
	}
	r := func(mods ...func(*rollback.Rule)) []rollback.Rule { return []rollback.Rule{baseRule(mods...)} }
	missing := func(m rollback.MissingData) func(*rollback.Rule) { return func(r *rollback.Rule) { r.Missing = m } }
	mOfN := func(m, n int) func(*rollback.Rule) {
		return func(r *rollback.Rule) { r.DatapointsToAlarm, r.EvaluationPeriods = m, n }
	}
	cmp := func(c rollback.Comparator) func(*rollback.Rule) { return func(r *rollback.Rule) { r.Comparator = c } }
	prevOf := func(st rollback.RuleState) rollback.State {
		return rollback.State{Rules: map[string]rollback.RuleState{"errors": st}}
	}
	tests := []tc{
		// M of N.
		{name: "all good continues", values: []float64{1, 2, 3}, verdict: rollback.Continue, status: rollback.StatusOK, breaching: 0},
		{name: "2 of 3 breaching, not consecutive, rolls back", values: []float64{20, 1, 30}, verdict: rollback.Rollback, status: rollback.StatusBreaching, breaching: 2, reason: "2 of the last 3 datapoints > 10", deciding: []string{"errors"}},
		{name: "M-1 breaching continues", values: []float64{1, 1, 30}, verdict: rollback.Continue, status: rollback.StatusOK, breaching: 1},
		{name: "3 of 3 required and met", rules: r(mOfN(3, 3)), values: []float64{11, 12, 13}, verdict: rollback.Rollback, breaching: 3},
		{name: "3 of 3 required, one good breaks it", rules: r(mOfN(3, 3)), values: []float64{11, 9, 13}, verdict: rollback.Continue, breaching: 2},
		{name: "1 of 1 rolls back on one point", rules: r(mOfN(1, 1)), values: []float64{1, 1, 11}, verdict: rollback.Rollback, breaching: 1},
		{name: "only the last N periods count", rules: r(mOfN(2, 2)), values: []float64{50, 50, 1, 1}, verdict: rollback.Continue, breaching: 0},
		{name: "datapointsToAlarm 0 means N", rules: r(mOfN(0, 3)), values: []float64{11, 11, 1}, verdict: rollback.Continue, breaching: 2},
		// Comparators at the threshold.
		{name: "greater than: at the threshold is good", values: []float64{10, 10, 10}, verdict: rollback.Continue, breaching: 0},
		{name: "greater or equal: at the threshold breaches", rules: r(cmp(rollback.GreaterThanOrEqual)), values: []float64{10, 10, 1}, verdict: rollback.Rollback, breaching: 2},
		{name: "less than breaches below", rules: r(cmp(rollback.LessThan)), values: []float64{9, 10, 9.99}, verdict: rollback.Rollback, breaching: 2},
		{name: "less or equal breaches at the threshold", rules: r(cmp(rollback.LessThanOrEqual)), values: []float64{10, 11, 10}, verdict: rollback.Rollback, breaching: 2},
		// Missing data, every mode.
		{name: "missing (inconclusive): all missing holds", values: []float64{gap, gap, gap}, verdict: rollback.Hold, status: rollback.StatusInconclusive, reason: "no data in 3 periods", deciding: []string{"errors"}},
		{name: "missing (inconclusive): partial data is evaluated", values: []float64{gap, gap, 1}, verdict: rollback.Continue, status: rollback.StatusOK},
		{name: "missing (inconclusive): partial data can breach", values: []float64{30, gap, 30}, verdict: rollback.Rollback, breaching: 2},
		{name: "breaching: missing periods breach", rules: r(missing(rollback.MissingBreaching)), values: []float64{gap, 1, gap}, verdict: rollback.Rollback, breaching: 2},
		{name: "breaching: all missing rolls back", rules: r(missing(rollback.MissingBreaching)), values: []float64{gap, gap, gap}, verdict: rollback.Rollback, breaching: 3},
		{name: "notBreaching: all missing continues", rules: r(missing(rollback.MissingNotBreaching)), values: []float64{gap, gap, gap}, verdict: rollback.Continue, status: rollback.StatusOK, breaching: 0},
		{name: "notBreaching: missing never adds a breach", rules: r(missing(rollback.MissingNotBreaching)), values: []float64{gap, 30, gap}, verdict: rollback.Continue, breaching: 1},
		{name: "ignore: all missing without a previous status holds", rules: r(missing(rollback.MissingIgnore)), values: []float64{gap, gap, gap}, verdict: rollback.Hold, status: rollback.StatusInconclusive},
		{name: "ignore: all missing keeps ok", rules: r(missing(rollback.MissingIgnore)), values: []float64{gap, gap, gap}, prev: prevOf(rollback.RuleState{Status: rollback.StatusOK}), verdict: rollback.Continue, status: rollback.StatusOK},
		{name: "ignore: all missing keeps breaching", rules: r(missing(rollback.MissingIgnore)), values: []float64{gap, gap, gap}, lag: okLag(), prev: prevOf(rollback.RuleState{Status: rollback.StatusBreaching, Breached: true}), verdict: rollback.Rollback, status: rollback.StatusBreaching},
		// Minimum sample count.
		{name: "too few samples: every period is missing, hold", rules: r(func(r *rollback.Rule) { r.MinSamples = 100 }), values: []float64{50, 50, 50}, samples: []float64{3, 2, 4}, verdict: rollback.Hold, reason: "under the minimum of 100 samples"},
		{name: "enough samples: the breach counts", rules: r(func(r *rollback.Rule) { r.MinSamples = 100 }), values: []float64{50, 1, 50}, samples: []float64{500, 500, 500}, verdict: rollback.Rollback, breaching: 2},
		{name: "a period without a sample count is missing", rules: r(func(r *rollback.Rule) { r.MinSamples = 100 }), values: []float64{50, 1, 50}, samples: []float64{500, 500, gap}, verdict: rollback.Continue, breaching: 1},
		{name: "one low-sample breach does not count", rules: r(func(r *rollback.Rule) { r.MinSamples = 10 }), values: []float64{50, 1, 50}, samples: []float64{5, 500, 500}, verdict: rollback.Continue, breaching: 1},
		// Provider errors and the consecutive error limit.
		{name: "provider error without an earlier status holds", rules: r(func(r *rollback.Rule) { r.ErrorLimit = 2 }), series: map[string]rollback.Series{"errors": {Err: errProvider}}, verdict: rollback.Hold, status: rollback.StatusInconclusive, reason: "no earlier status"},
		{name: "provider error within the limit keeps ok", rules: r(func(r *rollback.Rule) { r.ErrorLimit = 2 }), series: map[string]rollback.Series{"errors": {Err: errProvider}},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusOK, Errors: 1}), verdict: rollback.Continue, status: rollback.StatusOK, nextState: &rollback.RuleState{Status: rollback.StatusOK, Errors: 2}},
		{name: "provider error within the limit keeps a breach", rules: r(func(r *rollback.Rule) { r.ErrorLimit = 2 }), series: map[string]rollback.Series{"errors": {Err: errProvider}},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusBreaching, Breached: true}), verdict: rollback.Rollback, status: rollback.StatusBreaching},
		{name: "provider errors beyond the limit hold", rules: r(func(r *rollback.Rule) { r.ErrorLimit = 2 }), series: map[string]rollback.Series{"errors": {Err: errProvider}},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusOK, Errors: 2}), verdict: rollback.Hold, reason: "3 consecutive provider errors exceed the limit of 2"},
		{name: "a success resets the error count", rules: r(func(r *rollback.Rule) { r.ErrorLimit = 2 }), values: []float64{1, 1, 1},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusOK, Errors: 2}), verdict: rollback.Continue, nextState: &rollback.RuleState{Status: rollback.StatusOK}},
		{name: "a rule without observations is a provider error", series: map[string]rollback.Series{}, verdict: rollback.Hold, reason: "no observations"},
		{name: "an error limit of 0 holds on the first error", series: map[string]rollback.Series{"errors": {Err: errProvider}},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusOK}), verdict: rollback.Hold, reason: "1 consecutive provider errors exceed the limit of 0"},
		// Dry-run rules.
		{name: "a breaching dry-run rule decides nothing", rules: r(func(r *rollback.Rule) { r.DryRun = true }), values: []float64{50, 50, 50}, verdict: rollback.Continue, status: rollback.StatusBreaching, breaching: 3},
		{name: "an inconclusive dry-run rule does not hold", rules: r(func(r *rollback.Rule) { r.DryRun = true }), values: []float64{gap, gap, gap}, verdict: rollback.Continue, status: rollback.StatusInconclusive},
		{name: "a dry-run rule is not among the deciding rules",
			rules:   []rollback.Rule{baseRule(), baseRule(func(r *rollback.Rule) { r.Name = "shadow"; r.DryRun = true })},
			series:  map[string]rollback.Series{"errors": {Points: vals(50, 50, 50)}, "shadow": {Points: vals(50, 50, 50)}},
			verdict: rollback.Rollback, deciding: []string{"errors"}},
		// Freeze: rollback called for but unsafe.
		{name: "reverse lag over the budget freezes", values: []float64{50, 50, 50}, lag: &migration.ReplicationLag{Status: "running", Source: time.Second, Target: 3 * time.Minute}, budget: time.Minute,
			verdict: rollback.Freeze, reason: "reverse replication lag 3m0s exceeds the data-loss budget 1m0s", deciding: []string{"errors"}},
		{name: "unknown reverse lag freezes", values: []float64{50, 50, 50}, noLag: true, verdict: rollback.Freeze, reason: "unreadable"},
		{name: "a failed reverse task freezes", values: []float64{50, 50, 50}, lag: &migration.ReplicationLag{Status: "failed"}, verdict: rollback.Freeze, reason: `in state "failed"`},
		{name: "reverse lag exactly at the budget rolls back", values: []float64{50, 50, 50}, lag: &migration.ReplicationLag{Status: "running", Target: time.Minute}, budget: time.Minute, verdict: rollback.Rollback},
		{name: "without a breach the reverse lag does not matter", values: []float64{1, 1, 1}, noLag: true, verdict: rollback.Continue},
		// No flapping.
		{name: "a breached rule needs ClearAfter good points: 2 of 3 is still breaching", rules: r(func(r *rollback.Rule) { r.ClearAfter = 3 }), values: []float64{50, 1, 1},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusBreaching, Breached: true}), verdict: rollback.Rollback, status: rollback.StatusBreaching, reason: "2 of 3 consecutive good datapoints"},
		{name: "a breached rule clears after ClearAfter good points", rules: r(func(r *rollback.Rule) { r.ClearAfter = 3 }), values: []float64{1, 1, 1},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusBreaching, Breached: true}), verdict: rollback.Continue, status: rollback.StatusOK, nextState: &rollback.RuleState{Status: rollback.StatusOK}},
		{name: "a missing newest point restarts the clear count", rules: r(func(r *rollback.Rule) { r.ClearAfter = 2 }), values: []float64{1, 1, gap},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusBreaching, Breached: true}), verdict: rollback.Rollback, status: rollback.StatusBreaching},
		{name: "the clear streak may reach past the range", rules: r(mOfN(1, 1), func(r *rollback.Rule) { r.ClearAfter = 4 }), values: []float64{1, 1, 1, 1},
			prev: prevOf(rollback.RuleState{Status: rollback.StatusBreaching, Breached: true}), verdict: rollback.Continue},
		// The evaluation window and the datapoints themselves.
		{name: "periods before the window opens are not evaluated", values: []float64{50, 50, 1}, notBefore: at.Truncate(time.Minute).Add(-time.Minute), verdict: rollback.Continue, breaching: 0},
		{name: "no complete period in the window yet is pending", values: []float64{50, 50, 50}, notBefore: at.Add(-10 * time.Second), verdict: rollback.Continue, status: rollback.StatusPending},
		{name: "NaN datapoints are missing", values: []float64{math.NaN(), math.NaN(), math.NaN()}, verdict: rollback.Hold, status: rollback.StatusInconclusive},
		{name: "an infinite datapoint breaches", values: []float64{math.Inf(1), 1, math.Inf(1)}, verdict: rollback.Rollback, breaching: 2},
		{name: "the current incomplete period is not evaluated", rules: r(mOfN(1, 1)),
			series:  map[string]rollback.Series{"errors": {Points: []rollback.Point{{Time: at.Truncate(time.Minute), Value: 99}, {Time: at.Truncate(time.Minute).Add(-time.Minute), Value: 1}}}},
			verdict: rollback.Continue},
		{name: "a point inside a period counts for that period", rules: r(mOfN(1, 1)),
			series:  map[string]rollback.Series{"errors": {Points: []rollback.Point{{Time: at.Truncate(time.Minute).Add(-35 * time.Second), Value: 99}}}},
			verdict: rollback.Rollback},
		// Across rules.
		{name: "a breach outranks an inconclusive rule",
			rules:   []rollback.Rule{baseRule(), baseRule(func(r *rollback.Rule) { r.Name = "latency" })},
			series:  map[string]rollback.Series{"errors": {Points: vals(50, 50, 50)}, "latency": {}},
			verdict: rollback.Rollback, deciding: []string{"errors"}},
		{name: "an inconclusive rule holds the others",
			rules:   []rollback.Rule{baseRule(), baseRule(func(r *rollback.Rule) { r.Name = "latency" })},
			series:  map[string]rollback.Series{"errors": {Points: vals(1, 1, 1)}, "latency": {}},
			verdict: rollback.Hold, deciding: []string{"latency"}},
		{name: "an invalid policy holds and says why", rules: r(func(r *rollback.Rule) { r.Query.Period = 45 * time.Second }), values: []float64{1, 1, 1},
			verdict: rollback.Hold, reason: "invalid policy"},
		{name: "of two points in one period the later one wins", rules: r(mOfN(1, 1)),
			series:  map[string]rollback.Series{"errors": {Points: []rollback.Point{{Time: at.Truncate(time.Minute).Add(-time.Minute), Value: 99}, {Time: at.Truncate(time.Minute).Add(-time.Minute), Value: 1}}}},
			verdict: rollback.Continue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := tt.rules
			if rules == nil {
				rules = []rollback.Rule{baseRule()}
			}
			budget := tt.budget
			if budget == 0 {
				budget = time.Minute
			}
			series := tt.series
			if series == nil {
				s := rollback.Series{Points: vals(tt.values...)}
				if tt.samples != nil {
					s.Samples = vals(tt.samples...)
				}
				series = map[string]rollback.Series{"errors": s}
			}
			lag := tt.lag
			if lag == nil && !tt.noLag {
				lag = okLag()
			}
			d := rollback.Evaluate(rollback.Policy{Rules: rules, DataLossBudget: budget}, rollback.Observations{
				At: at, NotBefore: tt.notBefore, Series: series, ReverseLag: lag, Previous: tt.prev,
			})
			assert.Equal(t, tt.verdict, d.Verdict, "reason: %s", d.Reason)
			assert.Equal(t, at, d.At)
			if tt.reason != "" {
				assert.Contains(t, d.Reason, tt.reason)
			}
			if tt.deciding != nil {
				assert.Equal(t, tt.deciding, d.Deciding)
			}
			if tt.verdict == rollback.Hold && strings.HasPrefix(tt.reason, "invalid policy") {
				assert.NotEmpty(t, d.PolicyError)
				assert.Empty(t, d.Rules)
				return
			}
			var res *rollback.RuleResult
			for i := range d.Rules {
				if d.Rules[i].Rule == "errors" {
					res = &d.Rules[i]
				}
			}
			require.NotNil(t, res, "rule errors evaluated")
			if tt.status != "" {
				assert.Equal(t, tt.status, res.Status, "why: %s", res.Why)
			}
			if tt.breaching != 0 || tt.status == rollback.StatusOK {
				assert.Equal(t, tt.breaching, res.Breaching, "why: %s", res.Why)
			}
			assert.NotEmpty(t, res.Why)
			if tt.nextState != nil {
				assert.Equal(t, *tt.nextState, d.State.Rules["errors"])
			}
			// The decision carries what explains it.
			assert.Equal(t, budget, d.DataLossBudget)
			if res.Err == "" && res.Status != rollback.StatusPending {
				assert.NotEmpty(t, res.Slots)
			}
		})
	}
}

// TestEvaluateStateCarriesOver runs the engine over a sequence of
// evaluations the way the controller does, feeding each decision's state
// into the next: a breach latches, frozen evaluations keep it, and it
// clears only after ClearAfter good datapoints.
func TestEvaluateStateCarriesOver(t *testing.T) {
	rule := baseRule(func(r *rollback.Rule) { r.ClearAfter = 2; r.DatapointsToAlarm, r.EvaluationPeriods = 1, 1 })
	p := rollback.Policy{Rules: []rollback.Rule{rule}, DataLossBudget: time.Minute}
	values := map[int]float64{0: 1, 1: 50, 2: 1, 3: 1, 4: 1}
	var state rollback.State
	var got []rollback.Verdict
	for minute := 0; minute < 5; minute++ {
		now := at.Add(time.Duration(minute) * time.Minute)
		var pts []rollback.Point
		for m := 0; m <= minute; m++ {
			pts = append(pts, rollback.Point{Time: at.Truncate(time.Minute).Add(time.Duration(m-1) * time.Minute), Value: values[m]})
		}
		lag := &migration.ReplicationLag{Status: "running", Target: 5 * time.Minute} // over budget: freeze, never act
		d := rollback.Evaluate(p, rollback.Observations{At: now, Series: map[string]rollback.Series{"errors": {Points: pts}}, ReverseLag: lag, Previous: state})
		state = d.State
		got = append(got, d.Verdict)
	}
	assert.Equal(t, []rollback.Verdict{rollback.Continue, rollback.Freeze, rollback.Freeze, rollback.Continue, rollback.Continue}, got,
		"the breach at minute 1 stays frozen through one good point and clears after two")
}

func TestPolicyValidate(t *testing.T) {
	ok := rollback.Policy{Rules: []rollback.Rule{baseRule()}, DataLossBudget: time.Minute}
	require.NoError(t, ok.Validate())
	tests := []struct {
		name string
		edit func(p *rollback.Policy)
		want string
	}{
		{"no rules", func(p *rollback.Policy) { p.Rules = nil }, "at least one rule"},
		{"no budget", func(p *rollback.Policy) { p.DataLossBudget = 0 }, "dataLossBudget"},
		{"duplicate names", func(p *rollback.Policy) { p.Rules = append(p.Rules, p.Rules[0]) }, "defined twice"},
		{"bad name", func(p *rollback.Policy) { p.Rules[0].Name = "Errors!" }, "rule \"Errors!\": name"},
		{"period CloudWatch refuses", func(p *rollback.Policy) { p.Rules[0].Query.Period = 90 * time.Second }, "query.period"},
		{"sub-second period", func(p *rollback.Policy) { p.Rules[0].Query.Period = 1500 * time.Millisecond }, "query.period"},
		{"high resolution on a custom metric", func(p *rollback.Policy) { p.Rules[0].Query.Period = 10 * time.Second }, ""},
		{"high resolution on an AWS metric", func(p *rollback.Policy) {
			p.Rules[0].Query.Period = 10 * time.Second
			p.Rules[0].Query.Metric.Namespace = "AWS/ApplicationELB"
		}, "one-minute resolution at best"},
		{"evaluation range over a day", func(p *rollback.Policy) { p.Rules[0].EvaluationPeriods = 1441 }, "exceeds the 86400s"},
		{"hourly periods may span a week", func(p *rollback.Policy) {
			p.Rules[0].Query.Period, p.Rules[0].EvaluationPeriods = time.Hour, 168
		}, ""},
		{"M above N", func(p *rollback.Policy) { p.Rules[0].DatapointsToAlarm = 4 }, "datapointsToAlarm"},
		{"no N", func(p *rollback.Policy) { p.Rules[0].EvaluationPeriods = 0 }, "evaluationPeriods"},
		{"NaN threshold", func(p *rollback.Policy) { p.Rules[0].Threshold = math.NaN() }, "threshold"},
		{"bad comparator", func(p *rollback.Policy) { p.Rules[0].Comparator = ">" }, "comparator"},
		{"bad missing mode", func(p *rollback.Policy) { p.Rules[0].Missing = "zero" }, "missing"},
		{"bad stat", func(p *rollback.Policy) { p.Rules[0].Query.Metric.Stat = "tm99" }, "stat"},
		{"metric and expression", func(p *rollback.Policy) { p.Rules[0].Query.Expression = "m" }, "exactly one of metric and expression"},
		{"expression naming an unknown metric", func(p *rollback.Policy) {
			p.Rules[0].Query = rollback.Query{Expression: "a / b", Metrics: map[string]rollback.Metric{"a": {Namespace: "N", Name: "A", Stat: "Sum"}}, Period: time.Minute}
		}, `"b" is not one of the rule's metrics`},
		{"SEARCH cannot be alarmed on", func(p *rollback.Policy) {
			p.Rules[0].Query = rollback.Query{Expression: "SEARCH(a, 'Sum')", Metrics: map[string]rollback.Metric{"a": {Namespace: "N", Name: "A", Stat: "Sum"}}, Period: time.Minute}
		}, "SEARCH expressions cannot be used in alarms"},
		{"more than 10 metrics", func(p *rollback.Policy) {
			ms := map[string]rollback.Metric{}
			expr := []string{}
			for i := range 11 {
				id := "m" + string(rune('a'+i))
				ms[id] = rollback.Metric{Namespace: "N", Name: "A", Stat: "Sum"}
				expr = append(expr, id)
			}
			p.Rules[0].Query = rollback.Query{Expression: strings.Join(expr, "+"), Metrics: ms, Period: time.Minute}
		}, "at most 10"},
		{"minSamples on an expression needs samplesId", func(p *rollback.Policy) {
			p.Rules[0].Query = rollback.Query{Expression: "a * 2", Metrics: map[string]rollback.Metric{"a": {Namespace: "N", Name: "A", Stat: "Sum"}}, Period: time.Minute}
			p.Rules[0].MinSamples = 10
		}, "samplesId"},
		{"unbalanced expression", func(p *rollback.Policy) {
			p.Rules[0].Query = rollback.Query{Expression: "(a * 2", Metrics: map[string]rollback.Metric{"a": {Namespace: "N", Name: "A", Stat: "Sum"}}, Period: time.Minute}
		}, "unbalanced"},
		{"exponent is not an ID", func(p *rollback.Policy) {
			p.Rules[0].Query = rollback.Query{Expression: "a * 1e3", Metrics: map[string]rollback.Metric{"a": {Namespace: "N", Name: "A", Stat: "Sum"}}, Period: time.Minute}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rollback.Policy{Rules: []rollback.Rule{baseRule()}, DataLossBudget: time.Minute}
			m := *p.Rules[0].Query.Metric
			p.Rules[0].Query.Metric = &m
			tt.edit(&p)
			err := p.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDefaultPolicy(t *testing.T) {
	env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012"}
	spec := rollback.DefaultRulesSpec{LoadBalancer: "app/green/0123456789abcdef", DMSInstance: "dms-instance-dev", ForwardTaskID: "ABCDEFGHIJKLMNOP", VPNID: "vpn-0123456789abcdef0"}
	p, err := rollback.DefaultPolicy(env, spec)
	require.NoError(t, err)
	var names []string
	for _, r := range p.Rules {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"green-5xx-rate", "green-p99-latency", "dms-cdc-latency", "vpn-tunnels-down", "server-replication-stalled"}, names)
	assert.Equal(t, time.Minute, p.DataLossBudget)
	assert.Equal(t, "p99", p.Rules[1].Query.Metric.Stat)
	assert.Equal(t, 1.5, p.Rules[1].Threshold)
	assert.Equal(t, "ABCDEFGHIJKLMNOP", p.Rules[2].Query.Metric.Dimensions["ReplicationTaskIdentifier"])
	assert.True(t, p.Rules[4].DryRun, "a stalled server replication notifies only")
	assert.Equal(t, rollback.MissingBreaching, p.Rules[3].Missing)
	assert.Equal(t, 10*time.Minute, p.Window())
	assert.Equal(t, time.Minute, p.Interval())

	bad := spec
	bad.ForwardTaskID = "arn:aws:dms:us-east-1:123456789012:task:ABCDEFGHIJKLMNOP"
	bad.LoadBalancer = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/green/0123456789abcdef"
	_, err = rollback.DefaultPolicy(env, bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the AWS/DMS dimension is its last part, "ABCDEFGHIJKLMNOP"`)
	assert.Contains(t, err.Error(), "rules.loadBalancer")
}
