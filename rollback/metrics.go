package rollback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// MetricsAPI is the part of the CloudWatch client the metric source uses.
type MetricsAPI interface {
	GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// maxQueriesPerCall is GetMetricData's limit of queries per call.
const maxQueriesPerCall = 500

// Fetcher gets the observations of a policy's rules at a time. Source is
// the CloudWatch implementation; tests can script their own.
type Fetcher interface {
	Fetch(ctx context.Context, policy Policy, at time.Time) (map[string]Series, error)
}

// Source reads every rule's data from CloudWatch in as few GetMetricData
// calls as the 500-queries-per-call limit allows (one for any policy of up
// to a hundred rules or so), each paginated with the SDK paginator.
type Source struct {
	API MetricsAPI
}

// Fetch returns each rule's datapoints (and sample counts, for rules with
// MinSamples) over the periods Evaluate needs before at. A failed call is
// not an error of Fetch: it sets Series.Err on the rules of that call, so
// the policy counts it against each rule's ErrorLimit. Fetch fails only on
// an invalid policy or a cancelled context.
func (s Source) Fetch(ctx context.Context, policy Policy, at time.Time) (map[string]Series, error) {
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	type ruleQueries struct {
		rule              Rule
		qs                []types.MetricDataQuery
		valueID, samplesI string
		start             time.Time
	}
	var batches [][]ruleQueries
	var cur []ruleQueries
	n := 0
	for i, r := range policy.Rules {
		qs, vid, sid := r.dataQueries(fmt.Sprintf("r%d", i))
		end := at.Truncate(r.Query.Period)
		rq := ruleQueries{rule: r, qs: qs, valueID: vid, samplesI: sid, start: end.Add(-time.Duration(r.lookback()) * r.Query.Period)}
		if n+len(qs) > maxQueriesPerCall {
			batches, cur, n = append(batches, cur), nil, 0
		}
		cur = append(cur, rq)
		n += len(qs)
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	out := make(map[string]Series, len(policy.Rules))
	for _, batch := range batches {
		in := &cloudwatch.GetMetricDataInput{EndTime: aws.Time(at), ScanBy: types.ScanByTimestampAscending}
		start := batch[0].start
		for _, rq := range batch {
			in.MetricDataQueries = append(in.MetricDataQueries, rq.qs...)
			if rq.start.Before(start) {
				start = rq.start
			}
		}
		in.StartTime = aws.Time(start)
		results, err := getMetricData(ctx, s.API, in)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, rq := range batch {
			if err != nil {
				out[rq.rule.Name] = Series{Err: err}
				continue
			}
			ser := Series{}
			v, vok := results[rq.valueID]
			if vok && v.err != nil {
				ser.Err = v.err
			}
			ser.Points = v.points
			if rq.samplesI != "" {
				sm := results[rq.samplesI]
				if sm.err != nil && ser.Err == nil {
					ser.Err = sm.err
				}
				ser.Samples = sm.points
			}
			out[rq.rule.Name] = ser
		}
	}
	return out, nil
}

type queryResult struct {
	points []Point
	err    error
}

// getMetricData runs one GetMetricData request over every page and
// merges the results by query ID.
func getMetricData(ctx context.Context, api MetricsAPI, in *cloudwatch.GetMetricDataInput) (map[string]queryResult, error) {
	out := map[string]queryResult{}
	p := cloudwatch.NewGetMetricDataPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("get metric data: %w", err)
		}
		for _, r := range page.MetricDataResults {
			id := aws.ToString(r.Id)
			qr := out[id]
			for i, t := range r.Timestamps {
				if i < len(r.Values) {
					qr.points = append(qr.points, Point{Time: t, Value: r.Values[i]})
				}
			}
			switch r.StatusCode {
			case types.StatusCodeInternalError, types.StatusCodeForbidden:
				msg := string(r.StatusCode)
				for _, m := range r.Messages {
					msg += ": " + aws.ToString(m.Value)
				}
				qr.err = errors.New("get metric data: query " + id + ": " + msg)
			}
			out[id] = qr
		}
	}
	for id, qr := range out {
		slices.SortFunc(qr.points, func(a, b Point) int { return a.Time.Compare(b.Time) })
		out[id] = qr
	}
	return out, nil
}
