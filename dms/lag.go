package dms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// ErrNoLagData means CloudWatch holds no recent CDCLatencySource or
// CDCLatencyTarget datapoint for the task: it is not in its CDC phase yet
// (full load), stopped, or DMS stopped publishing. Lag returns it with
// the rest of the value filled in; a cutover gate must treat it as "lag
// unknown", never as zero.
var ErrNoLagData = errors.New("no recent CDC latency datapoints")

// LagWindow is how far back Lag looks for latency datapoints: DMS
// publishes them every minute, so a datapoint older than this means the
// measurement is stale.
const LagWindow = 5 * time.Minute

// Lag returns the replication state of a task as one value: its status,
// the latest CDCLatencySource and CDCLatencyTarget (CloudWatch AWS/DMS,
// the Maximum over each minute — the conservative choice for a gate),
// its tables counted by state and the rows whose validation failed.
//
// The metrics' dimensions are ReplicationInstanceIdentifier (the
// instance's name) and ReplicationTaskIdentifier (the task ARN's
// resource-ID suffix, not the task's name; AWS-FACTS §1). When either
// metric has no datapoint within LagWindow, Lag returns the value with
// zero latencies and an error wrapping ErrNoLagData. It only reads.
func Lag(ctx context.Context, env migration.Env, api TaskReader, cw MetricsAPI, taskARN string) (migration.ReplicationLag, error) {
	lag := migration.ReplicationLag{Task: taskARN, At: env.Now()}
	tasks, err := api.DescribeReplicationTasks(ctx, &dms.DescribeReplicationTasksInput{Filters: idFilter("replication-task-arn", taskARN), WithoutSettings: aws.Bool(true)})
	if err != nil {
		return lag, fmt.Errorf("lag of %s: describe task: %w", taskARN, err)
	}
	if len(tasks.ReplicationTasks) != 1 {
		return lag, fmt.Errorf("lag of %s: %d tasks match", taskARN, len(tasks.ReplicationTasks))
	}
	task := tasks.ReplicationTasks[0]
	lag.Status = aws.ToString(task.Status)
	insts, err := api.DescribeReplicationInstances(ctx, &dms.DescribeReplicationInstancesInput{Filters: idFilter("replication-instance-arn", aws.ToString(task.ReplicationInstanceArn))})
	if err != nil {
		return lag, fmt.Errorf("lag of %s: describe instance: %w", taskARN, err)
	}
	if len(insts.ReplicationInstances) != 1 {
		return lag, fmt.Errorf("lag of %s: instance %s not found", taskARN, aws.ToString(task.ReplicationInstanceArn))
	}
	instance := aws.ToString(insts.ReplicationInstances[0].ReplicationInstanceIdentifier)

	lag.Tables = map[string]int{}
	p := dms.NewDescribeTableStatisticsPaginator(api, &dms.DescribeTableStatisticsInput{ReplicationTaskArn: aws.String(taskARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awsx.HasCode(err, codeInvalidState) { // a task that never ran has no statistics yet
			break
		}
		if err != nil {
			return lag, fmt.Errorf("lag of %s: table statistics: %w", taskARN, err)
		}
		for _, ts := range page.TableStatistics {
			lag.Tables[aws.ToString(ts.TableState)]++
			lag.ValidationFailures += ts.ValidationFailedRecords
		}
	}

	now := env.Now()
	dims := []cwtypes.Dimension{
		{Name: aws.String("ReplicationInstanceIdentifier"), Value: aws.String(instance)},
		{Name: aws.String("ReplicationTaskIdentifier"), Value: aws.String(resourceID(taskARN))},
	}
	query := func(id, metric string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/DMS"), MetricName: aws.String(metric), Dimensions: dims},
			Period: aws.Int32(60), Stat: aws.String("Maximum"),
		}}
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-LagWindow).Truncate(time.Minute)), EndTime: aws.Time(now.Add(time.Minute).Truncate(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{query("source", "CDCLatencySource"), query("target", "CDCLatencyTarget")},
		ScanBy:            cwtypes.ScanByTimestampDescending,
	})
	if err != nil {
		return lag, fmt.Errorf("lag of %s: metrics: %w", taskARN, err)
	}
	found := map[string]time.Duration{}
	for _, r := range out.MetricDataResults {
		if len(r.Values) == 0 {
			continue
		}
		latest := 0
		for i := range r.Timestamps { // newest first, but do not rely on it
			if r.Timestamps[i].After(r.Timestamps[latest]) {
				latest = i
			}
		}
		found[aws.ToString(r.Id)] = time.Duration(math.Round(r.Values[latest] * float64(time.Second)))
	}
	lag.Source, lag.Target = found["source"], found["target"]
	_, okS := found["source"]
	_, okT := found["target"]
	if !okS || !okT {
		return lag, fmt.Errorf("lag of %s (status %s): %w", taskARN, lag.Status, ErrNoLagData)
	}
	return lag, nil
}
