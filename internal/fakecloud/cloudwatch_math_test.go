package fakecloud_test

import (
	"context"
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

// TestMetricMath evaluates expressions through GetMetricData over three
// minutes where a = 10, 20, 30 and b = 5, (none), 0.
func TestMetricMath(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		expr string
		want []float64 // per minute, oldest first; nil entries absent
		err  string
	}{
		{expr: "a + 1", want: []float64{11, 21, 31}},
		{expr: "-a * 2", want: []float64{-20, -40, -60}},
		{expr: "a / b", want: []float64{2}}, // missing b and a division by zero give no datapoint
		{expr: "100 * FILL(b, 0) / a", want: []float64{50, 0, 0}},
		{expr: "IF(a > 15, a)", want: []float64{20, 30}},
		{expr: "IF(a > 15, a, 0)", want: []float64{0, 20, 30}},
		{expr: "IF(a >= 20 AND FILL(b, 1) == 1, 1, 0)", want: []float64{0, 1, 0}},
		{expr: "IF(NOT (a < 20) || a == 10, a)", want: []float64{10, 20, 30}},
		{expr: "MAX([a, FILL(b, 100)])", want: []float64{10, 100, 30}},
		{expr: "ABS(b - a)", want: []float64{5, 30}},
		{expr: "42", err: "must return a time series"},
		{expr: "a +", err: "unexpected end"},
		{expr: "SEARCH(a)", err: "not supported"},
		{expr: "c * 2", err: `unknown query id "c"`},
	}
	cloud := fakecloud.New()
	cw := cloud.CloudWatch()
	start := cloud.Clock().Now().Truncate(time.Minute)
	for i, v := range []float64{10, 20, 30} {
		cw.PutPoint("T", "a", nil, start.Add(time.Duration(i)*time.Minute), v)
	}
	cw.PutPoint("T", "b", nil, start, 5)
	cw.PutPoint("T", "b", nil, start.Add(2*time.Minute), 0)
	cloud.Clock().Advance(5 * time.Minute)
	q := func(id, name string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("T"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(start), EndTime: aws.Time(start.Add(3 * time.Minute)), ScanBy: types.ScanByTimestampAscending,
				MetricDataQueries: []types.MetricDataQuery{q("a", "a"), q("b", "b"), {Id: aws.String("e"), Expression: aws.String(tt.expr)}},
			})
			if tt.err != "" {
				require.Error(t, err)
				assert.Equal(t, "ValidationError", awsx.Code(err))
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, out.MetricDataResults, 1)
			assert.Equal(t, tt.want, out.MetricDataResults[0].Values)
		})
	}
}
