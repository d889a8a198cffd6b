package tracking

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cutoverkit/cutover/migration"
)

// MetricsAPI is the part of the CloudWatch client PublishProgress uses.
type MetricsAPI interface {
	PutMetricData(context.Context, *cloudwatch.PutMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// The custom metrics PublishProgress puts and the dashboard graphs:
// namespace Cutover, one dimension env=<suffix>.
const (
	MetricsNamespace = "Cutover"
	DimensionEnv     = "env"

	// MetricPhase is the index of the phase in migration.Phases (planned
	// 0 ... complete 5, rolled-back 6).
	MetricPhase = "Phase"
	// MetricServersTotal counts the servers the store knows.
	MetricServersTotal = "ServersTotal"
	// MetricServersReplicated counts servers whose initial sync is done.
	MetricServersReplicated = "ServersReplicated"
	// MetricServersReady counts servers ready for cutover or beyond.
	MetricServersReady = "ServersReady"
	// MetricServersCutOver counts servers cut over.
	MetricServersCutOver = "ServersCutOver"
	// MetricTrafficWeightGreen is green's share of traffic, in percent.
	MetricTrafficWeightGreen = "TrafficWeightGreen"
	// MetricProgress is the migration's overall progress, in percent.
	MetricProgress = "Progress"
	// MetricStalledServers counts servers whose data replication is
	// STALLED; the rollback package's server-replication-stalled rule
	// watches it.
	MetricStalledServers = "StalledServers"
)

// Progress is the summary of a Status that the dashboard shows.
type Progress struct {
	Phase        migration.Phase
	PhaseIndex   int
	Servers      int
	Replicated   int
	Ready        int
	CutOver      int
	Stalled      int
	GreenPercent float64
	Percent      float64
}

// MGN lifecycle states counted as ready for cutover or beyond, and as cut
// over.
var (
	readyStates   = []string{"READY_FOR_CUTOVER", "CUTTING_OVER", "CUTOVER"}
	cutOverStates = []string{"CUTOVER"}
)

// Progress summarises the status:
//
//   - a server is replicated once its initial sync is done (replication
//     CONTINUOUS, or 100 %), ready when its lifecycle is READY_FOR_CUTOVER
//     or later, cut over at CUTOVER;
//   - green's share is that of the recorded split (0 before any);
//   - Percent is 0 planned, 10 provisioned, 10..60 while replicating (by
//     the mean progress of servers and file transfers), 60 validated,
//     60..99 while cutting over (by green's share), 100 complete, and 60
//     after a rollback (back to validated, ready to try again).
func (s Status) Progress() Progress {
	p := Progress{Phase: s.Phase.Phase, PhaseIndex: slices.Index(migration.Phases, s.Phase.Phase), Servers: len(s.Servers)}
	var parts []float64
	for _, sv := range s.Servers {
		if sv.Replication == "CONTINUOUS" || sv.Percent >= 100 {
			p.Replicated++
		}
		if slices.Contains(readyStates, sv.State) {
			p.Ready++
		}
		if slices.Contains(cutOverStates, sv.State) {
			p.CutOver++
		}
		if sv.Replication == "STALLED" {
			p.Stalled++
		}
		parts = append(parts, min(sv.Percent, 100)/100)
	}
	for _, t := range s.Transfers {
		if t.BytesTotal > 0 {
			parts = append(parts, min(float64(t.BytesDone)/float64(t.BytesTotal), 1))
		}
	}
	if s.Split != nil {
		p.GreenPercent = s.Split.GreenShare()
	}
	switch s.Phase.Phase {
	case migration.PhaseProvisioned:
		p.Percent = 10
	case migration.PhaseReplicating:
		mean := 0.0
		for _, v := range parts {
			mean += v
		}
		if len(parts) > 0 {
			mean /= float64(len(parts))
		}
		p.Percent = 10 + 50*mean
	case migration.PhaseValidated, migration.PhaseRolledBack:
		p.Percent = 60
	case migration.PhaseCuttingOver:
		p.Percent = min(60+0.4*p.GreenPercent, 99)
	case migration.PhaseComplete:
		p.Percent = 100
	}
	return p
}

// PublishProgress puts the status's progress metrics (namespace Cutover,
// dimension env=<suffix>; see the Metric constants) at the env clock's
// now, in one PutMetricData call. A dry run publishes nothing.
func PublishProgress(ctx context.Context, env migration.Env, api MetricsAPI, st Status) error {
	if err := env.Validate(); err != nil {
		return fmt.Errorf("publish progress: %w", err)
	}
	if env.DryRun {
		return nil
	}
	p := st.Progress()
	now := env.Now()
	dims := []cwtypes.Dimension{{Name: aws.String(DimensionEnv), Value: aws.String(env.Suffix)}}
	datum := func(name string, v float64, unit cwtypes.StandardUnit) cwtypes.MetricDatum {
		return cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: dims, Timestamp: aws.Time(now), Value: aws.Float64(v), Unit: unit}
	}
	_, err := api.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(MetricsNamespace),
		MetricData: []cwtypes.MetricDatum{
			datum(MetricPhase, float64(p.PhaseIndex), cwtypes.StandardUnitNone),
			datum(MetricServersTotal, float64(p.Servers), cwtypes.StandardUnitCount),
			datum(MetricServersReplicated, float64(p.Replicated), cwtypes.StandardUnitCount),
			datum(MetricServersReady, float64(p.Ready), cwtypes.StandardUnitCount),
			datum(MetricServersCutOver, float64(p.CutOver), cwtypes.StandardUnitCount),
			datum(MetricStalledServers, float64(p.Stalled), cwtypes.StandardUnitCount),
			datum(MetricTrafficWeightGreen, p.GreenPercent, cwtypes.StandardUnitPercent),
			datum(MetricProgress, p.Percent, cwtypes.StandardUnitPercent),
		},
	})
	if err != nil {
		return fmt.Errorf("publish progress of %s: %w", env.Suffix, err)
	}
	return nil
}
