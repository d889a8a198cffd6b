package fakecloud

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatch is the fake CloudWatch client: metrics here, dashboards and
// alarms in their own files. Get it with Cloud.CloudWatch.
type CloudWatch struct{ c *Cloud }

// CloudWatch returns the CloudWatch client of the cloud.
func (c *Cloud) CloudWatch() *CloudWatch { return &CloudWatch{c: c} }

func init() { register("cloudwatch-metrics", func() any { return &metricsState{} }) }

type metricsState struct {
	Series map[string]*series `json:"series"`
}

type series struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Dims      map[string]string `json:"dims,omitempty"`
	Points    []datum           `json:"points"`
}

type datum struct {
	T      time.Time `json:"t"`
	Values []float64 `json:"v"` // raw samples
}

// MetricFunc scripts a metric: the value of the metric at the start of
// each period (ok false means no data in that period).
type MetricFunc func(t time.Time) (v float64, ok bool)

type metricFuncs struct {
	fns  map[string]MetricFunc
	meta map[string]*series
}

// MetricExpression, when set, evaluates a metric-math expression over the
// results of the other queries of a GetMetricData call (by query ID). The
// fake returns ValidationError for expressions while it is nil.
var MetricExpression func(expr string, results map[string]Timeseries) (Timeseries, error)

// Timeseries is one query's result: timestamps ascending with values.
type Timeseries struct {
	Times  []time.Time
	Values []float64
}

func seriesKey(ns, name string, dims map[string]string) string {
	var b strings.Builder
	b.WriteString(ns + "|" + name)
	for _, k := range sortedKeys(dims) {
		b.WriteString("|" + k + "=" + dims[k])
	}
	return b.String()
}

func dimsMap(ds []types.Dimension) map[string]string {
	m := map[string]string{}
	for _, d := range ds {
		m[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return m
}

func (f *CloudWatch) st() *metricsState {
	s := state[metricsState](f.c, "cloudwatch-metrics")
	if s.Series == nil {
		s.Series = map[string]*series{}
	}
	return s
}

func (f *CloudWatch) funcs() *metricFuncs {
	return runtimeState(f.c, "cloudwatch-metric-funcs", func() *metricFuncs {
		return &metricFuncs{fns: map[string]MetricFunc{}, meta: map[string]*series{}}
	})
}

func (f *CloudWatch) put(ns, name string, dims map[string]string, t time.Time, values ...float64) {
	s := f.st()
	key := seriesKey(ns, name, dims)
	ser, ok := s.Series[key]
	if !ok {
		ser = &series{Namespace: ns, Name: name, Dims: dims}
		s.Series[key] = ser
	}
	ser.Points = append(ser.Points, datum{T: t.UTC(), Values: values})
}

// PutMetricData stores datapoints (Value, Values with Counts, or a
// StatisticSet); namespaces starting with "AWS/" are refused, as in
// CloudWatch.
func (f *CloudWatch) PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "PutMetricData", true, func() error {
		ns := aws.ToString(in.Namespace)
		if ns == "" || strings.HasPrefix(ns, "AWS/") {
			return apiError("InvalidParameterValue", "The value %s for parameter Namespace is invalid.", ns)
		}
		if len(in.MetricData) > 1000 {
			return apiError("InvalidParameterValue", "The collection MetricData must not have a size greater than 1000.")
		}
		for _, d := range in.MetricData {
			if len(d.Dimensions) > 30 {
				return apiError("InvalidParameterValue", "at most 30 dimensions")
			}
			t := f.c.now()
			if d.Timestamp != nil {
				t = *d.Timestamp
			}
			var vals []float64
			switch {
			case d.Value != nil:
				vals = []float64{*d.Value}
			case len(d.Values) > 0:
				for i, v := range d.Values {
					n := 1
					if i < len(d.Counts) {
						n = int(d.Counts[i])
					}
					for range n {
						vals = append(vals, v)
					}
				}
			case d.StatisticValues != nil:
				// Approximate a statistic set by its mean, SampleCount times.
				sv := d.StatisticValues
				n := int(aws.ToFloat64(sv.SampleCount))
				for range n {
					vals = append(vals, aws.ToFloat64(sv.Sum)/float64(n))
				}
			default:
				return apiError("MissingParameter", "one of Value, Values or StatisticValues is required")
			}
			for _, v := range vals {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return apiError("InvalidParameterValue", "The value %v for parameter MetricData.Value is invalid.", v)
				}
			}
			f.put(ns, aws.ToString(d.MetricName), dimsMap(d.Dimensions), t, vals...)
		}
		return nil
	})
	return &cloudwatch.PutMetricDataOutput{}, err
}

// PutPoint stores one datapoint directly (AWS namespaces included), as an
// AWS service would publish it. Tests and -sim use it.
func (f *CloudWatch) PutPoint(ns, name string, dims map[string]string, t time.Time, v float64) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.put(ns, name, dims, t, v)
}

// SetMetricFunc scripts a metric as a function of time, evaluated at the
// start of every period a query asks for; nil removes the script. Scripts
// are not saved with the state.
func (f *CloudWatch) SetMetricFunc(ns, name string, dims map[string]string, fn MetricFunc) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	key := seriesKey(ns, name, dims)
	mf := f.funcs()
	if fn == nil {
		delete(mf.fns, key)
		delete(mf.meta, key)
		return
	}
	mf.fns[key] = fn
	mf.meta[key] = &series{Namespace: ns, Name: name, Dims: dims}
}

// statistic computes a CloudWatch statistic over raw samples.
func statistic(stat string, vals []float64) (float64, error) {
	if len(vals) == 0 {
		return 0, nil
	}
	switch stat {
	case "Average":
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		return sum / float64(len(vals)), nil
	case "Sum":
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		return sum, nil
	case "Minimum":
		return slices.Min(vals), nil
	case "Maximum":
		return slices.Max(vals), nil
	case "SampleCount":
		return float64(len(vals)), nil
	}
	if strings.HasPrefix(stat, "p") {
		p, err := strconv.ParseFloat(stat[1:], 64)
		if err != nil || p < 0 || p > 100 {
			return 0, apiError("InvalidParameterValue", "The value %s for parameter Stat is invalid.", stat)
		}
		s := slices.Clone(vals)
		sort.Float64s(s)
		idx := int(math.Ceil(p/100*float64(len(s)))) - 1
		return s[max(idx, 0)], nil
	}
	return 0, apiError("InvalidParameterValue", "The value %s for parameter Stat is invalid.", stat)
}

// query evaluates one MetricStat over [start, end) in period buckets
// aligned to the epoch, returning ascending timestamps.
func (f *CloudWatch) query(ms *types.MetricStat, period int32, start, end time.Time) (Timeseries, error) {
	if ms.Metric == nil {
		return Timeseries{}, apiError("InvalidParameterValue", "MetricStat.Metric is required")
	}
	if period <= 0 || (period >= 60 && period%60 != 0) || (period < 60 && !slices.Contains([]int32{1, 5, 10, 20, 30}, period)) {
		return Timeseries{}, apiError("InvalidParameterValue", "The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60.")
	}
	key := seriesKey(aws.ToString(ms.Metric.Namespace), aws.ToString(ms.Metric.MetricName), dimsMap(ms.Metric.Dimensions))
	p := time.Duration(period) * time.Second
	buckets := map[int64][]float64{}
	if ser, ok := f.st().Series[key]; ok {
		for _, d := range ser.Points {
			if d.T.Before(start) || !d.T.Before(end) {
				continue
			}
			b := d.T.Truncate(p).Unix()
			buckets[b] = append(buckets[b], d.Values...)
		}
	}
	if fn, ok := f.funcs().fns[key]; ok {
		for t := start.Truncate(p); t.Before(end); t = t.Add(p) {
			if t.Before(start) || t.After(f.c.now()) {
				continue
			}
			if v, ok := fn(t); ok {
				buckets[t.Unix()] = append(buckets[t.Unix()], v)
			}
		}
	}
	var ts Timeseries
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := statistic(aws.ToString(ms.Stat), buckets[k])
		if err != nil {
			return Timeseries{}, err
		}
		ts.Times = append(ts.Times, time.Unix(k, 0).UTC())
		ts.Values = append(ts.Values, v)
	}
	return ts, nil
}

// GetMetricData evaluates metric queries (and, through MetricExpression,
// metric math) over [StartTime, EndTime). At most 500 queries per call,
// as in CloudWatch. Results are newest first unless ScanBy says
// TimestampAscending. As in CloudWatch, a response holds at most
// MaxDatapoints datapoints (100,800 by default) and a NextToken for the
// rest; a query cut by the page end has StatusCode PartialData and
// continues on the next page.
func (f *CloudWatch) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	var out *cloudwatch.GetMetricDataOutput
	err := f.c.call(ctx, cloudwatch.ServiceID, "GetMetricData", false, func() error {
		if len(in.MetricDataQueries) == 0 || len(in.MetricDataQueries) > 500 {
			return apiError("ValidationError", "MetricDataQueries must hold 1..500 queries, got %d", len(in.MetricDataQueries))
		}
		if in.StartTime == nil || in.EndTime == nil || !in.StartTime.Before(*in.EndTime) {
			return apiError("ValidationError", "The parameter StartTime must be before EndTime.")
		}
		results := map[string]Timeseries{}
		ids := map[string]bool{}
		for _, q := range in.MetricDataQueries {
			id := aws.ToString(q.Id)
			if id == "" || ids[id] || !(id[0] >= 'a' && id[0] <= 'z') {
				return apiError("ValidationError", "query Id %q must be unique and start with a lower-case letter", id)
			}
			ids[id] = true
			if (q.MetricStat == nil) == (q.Expression == nil) {
				return apiError("ValidationError", "query %s must have exactly one of MetricStat and Expression", id)
			}
			if q.MetricStat != nil {
				ts, err := f.query(q.MetricStat, aws.ToInt32(q.MetricStat.Period), *in.StartTime, *in.EndTime)
				if err != nil {
					return err
				}
				results[id] = ts
			}
		}
		for _, q := range in.MetricDataQueries {
			if q.Expression == nil {
				continue
			}
			if MetricExpression == nil {
				return apiError("ValidationError", "the fake cannot evaluate metric math expression %q", *q.Expression)
			}
			ts, err := MetricExpression(*q.Expression, results)
			if err != nil {
				return apiError("ValidationError", "expression %s: %v", aws.ToString(q.Id), err)
			}
			results[aws.ToString(q.Id)] = ts
		}
		size := defaultMaxDatapoints
		if in.MaxDatapoints != nil {
			if *in.MaxDatapoints <= 0 {
				return apiError("ValidationError", "MaxDatapoints must be positive, got %d", *in.MaxDatapoints)
			}
			size = int(*in.MaxDatapoints)
		}
		// Every returned datapoint in order (query by query, each in
		// ScanBy order); a page is a slice of them.
		type ref struct{ q, i int }
		var returned []types.MetricDataQuery
		var all []ref
		for _, q := range in.MetricDataQueries {
			if q.ReturnData != nil && !*q.ReturnData {
				continue
			}
			for i := range results[aws.ToString(q.Id)].Times {
				all = append(all, ref{q: len(returned), i: i})
			}
			returned = append(returned, q)
		}
		pts, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		first := in.NextToken == nil || *in.NextToken == ""
		out = &cloudwatch.GetMetricDataOutput{NextToken: next}
		byQuery := map[int]*types.MetricDataResult{}
		result := func(qi int) *types.MetricDataResult {
			if r, ok := byQuery[qi]; ok {
				return r
			}
			q := returned[qi]
			r := &types.MetricDataResult{Id: q.Id, Label: q.Label, StatusCode: types.StatusCodeComplete}
			if r.Label == nil {
				r.Label = q.Id
			}
			byQuery[qi] = r
			return r
		}
		for qi, q := range returned {
			if first && len(results[aws.ToString(q.Id)].Times) == 0 {
				result(qi) // a query without data is reported once, empty
			}
		}
		for k, p := range pts {
			ts := results[aws.ToString(returned[p.q].Id)]
			j := p.i
			if in.ScanBy != types.ScanByTimestampAscending {
				j = len(ts.Times) - 1 - p.i
			}
			r := result(p.q)
			r.Timestamps = append(r.Timestamps, ts.Times[j])
			r.Values = append(r.Values, ts.Values[j])
			if k == len(pts)-1 && p.i < len(ts.Times)-1 {
				r.StatusCode = types.StatusCodePartialData // continued on the next page
			}
		}
		for qi := range returned {
			if r, ok := byQuery[qi]; ok {
				out.MetricDataResults = append(out.MetricDataResults, *r)
			}
		}
		return nil
	})
	return out, err
}

// defaultMaxDatapoints is how many datapoints GetMetricData returns per
// page when MaxDatapoints is not set.
const defaultMaxDatapoints = 100_800

// ListMetrics lists the metrics that have data or a script, filtered by
// namespace, name and dimensions, paginated.
func (f *CloudWatch) ListMetrics(ctx context.Context, in *cloudwatch.ListMetricsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error) {
	var out *cloudwatch.ListMetricsOutput
	err := f.c.call(ctx, cloudwatch.ServiceID, "ListMetrics", false, func() error {
		all := map[string]*series{}
		for k, s := range f.st().Series {
			all[k] = s
		}
		for k, s := range f.funcs().meta {
			all[k] = s
		}
		var ms []types.Metric
		for _, k := range sortedKeys(all) {
			s := all[k]
			if in.Namespace != nil && *in.Namespace != s.Namespace || in.MetricName != nil && *in.MetricName != s.Name {
				continue
			}
			match := true
			for _, df := range in.Dimensions {
				v, ok := s.Dims[aws.ToString(df.Name)]
				if !ok || (df.Value != nil && *df.Value != v) {
					match = false
				}
			}
			if !match {
				continue
			}
			m := types.Metric{Namespace: aws.String(s.Namespace), MetricName: aws.String(s.Name)}
			for _, dk := range sortedKeys(s.Dims) {
				m.Dimensions = append(m.Dimensions, types.Dimension{Name: aws.String(dk), Value: aws.String(s.Dims[dk])})
			}
			ms = append(ms, m)
		}
		items, next, err := page(ms, in.NextToken, 500)
		if err != nil {
			return err
		}
		out = &cloudwatch.ListMetricsOutput{Metrics: items, NextToken: next}
		return nil
	})
	return out, err
}

// MetricPoints returns the raw datapoints stored for a metric, for
// assertions: one value per sample with its timestamp.
func (f *CloudWatch) MetricPoints(ns, name string, dims map[string]string) []Timeseries {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	ser, ok := f.st().Series[seriesKey(ns, name, dims)]
	if !ok {
		return nil
	}
	var out []Timeseries
	for _, d := range ser.Points {
		out = append(out, Timeseries{Times: []time.Time{d.T}, Values: slices.Clone(d.Values)})
	}
	return out
}
