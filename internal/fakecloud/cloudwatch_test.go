package fakecloud_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// TestGetMetricDataPages checks the fake pages GetMetricData the way
// CloudWatch does: at most MaxDatapoints datapoints per response, a
// NextToken for the rest, PartialData on a query cut by the page end, and
// the pages together equal to the whole answer.
func TestGetMetricDataPages(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cw := cloud.CloudWatch()
	now := cloud.Clock().Now().Truncate(time.Minute)
	// a has 5 minutes of data, b none, c 3 minutes.
	for i := range 5 {
		cw.PutPoint("App", "A", nil, now.Add(-time.Duration(5-i)*time.Minute), float64(i))
	}
	for i := range 3 {
		cw.PutPoint("App", "C", nil, now.Add(-time.Duration(3-i)*time.Minute), float64(10+i))
	}
	query := func(id, name string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	in := func(maxDatapoints *int32, token *string) *cloudwatch.GetMetricDataInput {
		return &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{query("a", "A"), query("b", "B"), query("c", "C")},
			StartTime:         aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now), ScanBy: types.ScanByTimestampAscending,
			MaxDatapoints: maxDatapoints, NextToken: token,
		}
	}

	whole, err := cw.GetMetricData(ctx, in(nil, nil))
	require.NoError(t, err)
	assert.Nil(t, whole.NextToken, "8 datapoints fit in the default page")

	type page struct {
		ids    []string
		status []types.StatusCode
		n      []int
	}
	var pages []page
	merged := map[string][]float64{}
	var token *string
	for {
		out, err := cw.GetMetricData(ctx, in(aws.Int32(3), token))
		require.NoError(t, err)
		var p page
		total := 0
		for _, r := range out.MetricDataResults {
			p.ids = append(p.ids, aws.ToString(r.Id))
			p.status = append(p.status, r.StatusCode)
			p.n = append(p.n, len(r.Values))
			total += len(r.Values)
			merged[aws.ToString(r.Id)] = append(merged[aws.ToString(r.Id)], r.Values...)
		}
		assert.LessOrEqual(t, total, 3, "at most MaxDatapoints per page")
		pages = append(pages, p)
		if token = out.NextToken; token == nil {
			break
		}
	}
	complete, partial := types.StatusCodeComplete, types.StatusCodePartialData
	assert.Equal(t, []page{
		{ids: []string{"a", "b"}, status: []types.StatusCode{partial, complete}, n: []int{3, 0}},
		{ids: []string{"a", "c"}, status: []types.StatusCode{complete, partial}, n: []int{2, 1}},
		{ids: []string{"c"}, status: []types.StatusCode{complete}, n: []int{2}},
	}, pages)
	for _, r := range whole.MetricDataResults {
		assert.Equal(t, r.Values, merged[aws.ToString(r.Id)], "query %s: the pages add up to the whole", aws.ToString(r.Id))
	}
	assert.Equal(t, []float64{0, 1, 2, 3, 4}, merged["a"])

	// The SDK paginator walks the same pages.
	p := cloudwatch.NewGetMetricDataPaginator(cw, in(aws.Int32(3), nil))
	calls := 0
	for p.HasMorePages() {
		_, err := p.NextPage(ctx)
		require.NoError(t, err)
		calls++
	}
	assert.Equal(t, 3, calls)

	for _, tt := range []struct {
		name string
		in   *cloudwatch.GetMetricDataInput
		code string
	}{
		{name: "a token that is not one of ours", in: in(aws.Int32(3), aws.String("x")), code: "InvalidNextToken"},
		{name: "a token past the end", in: in(aws.Int32(3), aws.String(fmt.Sprint(99))), code: "InvalidNextToken"},
		{name: "MaxDatapoints 0", in: in(aws.Int32(0), nil), code: "ValidationError"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cw.GetMetricData(ctx, tt.in)
			assert.Equal(t, tt.code, awsx.Code(err))
		})
	}
}
