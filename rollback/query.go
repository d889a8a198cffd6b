package rollback

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// This file turns rules into CloudWatch queries, one way for
// GetMetricData (the engine's data) and one for PutMetricAlarm (the
// alarm), so that both watch the same numbers.

// sdkMetric returns m as a CloudWatch metric, dimensions sorted by name.
func sdkMetric(m Metric) *types.Metric {
	out := &types.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Name)}
	keys := make([]string, 0, len(m.Dimensions))
	for k := range m.Dimensions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out.Dimensions = append(out.Dimensions, types.Dimension{Name: aws.String(k), Value: aws.String(m.Dimensions[k])})
	}
	return out
}

func metricStat(m Metric, period time.Duration) *types.MetricStat {
	return &types.MetricStat{Metric: sdkMetric(m), Period: aws.Int32(int32(period / time.Second)), Stat: aws.String(m.Stat)}
}

// prefixIDs rewrites every query ID of a metric-math expression (the
// identifiers that start with a lower-case letter and are not the
// exponent of a number) to prefix+ID.
func prefixIDs(expr, prefix string) string {
	var b strings.Builder
	last := 0
	for _, loc := range exprTokenRe.FindAllStringIndex(expr, -1) {
		tok := expr[loc[0]:loc[1]]
		if tok[0] < 'a' || tok[0] > 'z' {
			continue
		}
		if loc[0] > 0 && (expr[loc[0]-1] >= '0' && expr[loc[0]-1] <= '9' || expr[loc[0]-1] == '.') {
			continue
		}
		b.WriteString(expr[last:loc[0]])
		b.WriteString(prefix + tok)
		last = loc[1]
	}
	b.WriteString(expr[last:])
	return b.String()
}

func sortedMetricIDs(m map[string]Metric) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// dataQueries returns the GetMetricData queries of r, their IDs prefixed
// with id, the ID whose result is the rule's value and the ID whose
// result is the sample count ("" when the rule has no MinSamples).
func (r Rule) dataQueries(id string) (qs []types.MetricDataQuery, valueID, samplesID string) {
	q := r.Query
	if q.Metric != nil {
		qs = append(qs, types.MetricDataQuery{Id: aws.String(id), MetricStat: metricStat(*q.Metric, q.Period), ReturnData: aws.Bool(true)})
		if r.MinSamples > 0 {
			n := r.samplesMetric()
			samplesID = id + "n"
			qs = append(qs, types.MetricDataQuery{Id: aws.String(samplesID), MetricStat: metricStat(n, q.Period), ReturnData: aws.Bool(true)})
		}
		return qs, id, samplesID
	}
	for _, mid := range sortedMetricIDs(q.Metrics) {
		ret := r.MinSamples > 0 && mid == q.SamplesID
		qs = append(qs, types.MetricDataQuery{Id: aws.String(id + "_" + mid), MetricStat: metricStat(q.Metrics[mid], q.Period), ReturnData: aws.Bool(ret)})
	}
	if r.MinSamples > 0 {
		samplesID = id + "_" + q.SamplesID
	}
	qs = append(qs, types.MetricDataQuery{Id: aws.String(id), Expression: aws.String(prefixIDs(q.Expression, id+"_")), ReturnData: aws.Bool(true)})
	return qs, id, samplesID
}

// alarmMetrics describes the metric of r's alarm: either a single metric
// (Metrics nil) or the Metrics array of a metric-math alarm. A rule with
// MinSamples becomes IF(samples >= MinSamples, value), which has no
// datapoint in a period with too few samples — the same "missing" the
// engine sees.
type alarmMetrics struct {
	single  *types.MetricStat
	metrics []types.MetricDataQuery
}

func (r Rule) alarmMetrics() alarmMetrics {
	q := r.Query
	minSamples := strconv.FormatFloat(r.MinSamples, 'f', -1, 64)
	if q.Metric != nil {
		if r.MinSamples == 0 {
			return alarmMetrics{single: metricStat(*q.Metric, q.Period)}
		}
		n := r.samplesMetric()
		return alarmMetrics{metrics: []types.MetricDataQuery{
			{Id: aws.String("m"), MetricStat: metricStat(*q.Metric, q.Period), ReturnData: aws.Bool(false)},
			{Id: aws.String("n"), MetricStat: metricStat(n, q.Period), ReturnData: aws.Bool(false)},
			{Id: aws.String("r"), Expression: aws.String("IF(n >= " + minSamples + ", m)"), Label: aws.String(r.Name), ReturnData: aws.Bool(true)},
		}}
	}
	var qs []types.MetricDataQuery
	for _, mid := range sortedMetricIDs(q.Metrics) {
		qs = append(qs, types.MetricDataQuery{Id: aws.String("m_" + mid), MetricStat: metricStat(q.Metrics[mid], q.Period), ReturnData: aws.Bool(false)})
	}
	expr := prefixIDs(q.Expression, "m_")
	if r.MinSamples == 0 {
		qs = append(qs, types.MetricDataQuery{Id: aws.String("r"), Expression: aws.String(expr), Label: aws.String(r.Name), ReturnData: aws.Bool(true)})
		return alarmMetrics{metrics: qs}
	}
	qs = append(qs,
		types.MetricDataQuery{Id: aws.String("v"), Expression: aws.String(expr), ReturnData: aws.Bool(false)},
		types.MetricDataQuery{Id: aws.String("r"), Expression: aws.String("IF(m_" + q.SamplesID + " >= " + minSamples + ", v)"), Label: aws.String(r.Name), ReturnData: aws.Bool(true)},
	)
	return alarmMetrics{metrics: qs}
}

// samplesMetric returns the sample-count metric of a single-metric rule.
func (r Rule) samplesMetric() Metric {
	if r.Query.Samples != nil {
		return *r.Query.Samples
	}
	n := *r.Query.Metric
	n.Stat = "SampleCount"
	return n
}

// describeQuery renders a rule's query on one line for the ledger.
func (r Rule) describeQuery() string {
	q := r.Query
	metric := func(m Metric) string {
		var dims []string
		for _, k := range sortedKeys(m.Dimensions) {
			dims = append(dims, k+"="+m.Dimensions[k])
		}
		return m.Namespace + " " + m.Name + "{" + strings.Join(dims, ",") + "} " + m.Stat
	}
	var s string
	if q.Metric != nil {
		s = metric(*q.Metric)
	} else {
		var parts []string
		for _, id := range sortedMetricIDs(q.Metrics) {
			parts = append(parts, id+"="+metric(q.Metrics[id]))
		}
		s = q.Expression + " where " + strings.Join(parts, "; ")
	}
	s += " per " + q.Period.String()
	if r.MinSamples > 0 {
		s += " (min " + strconv.FormatFloat(r.MinSamples, 'f', -1, 64) + " samples"
		if q.Metric != nil {
			s += " of " + metric(r.samplesMetric())
		} else {
			s += " of " + q.SamplesID
		}
		s += ")"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
