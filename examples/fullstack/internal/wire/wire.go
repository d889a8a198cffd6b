package wire

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
	"github.com/cutoverkit/cutover/tracking"
)

// DMSAPI is the part of the DMS client the replication adapter uses.
type DMSAPI interface {
	dms.TaskRunner
	dms.TaskReader
}

// Replication adapts the dms package to rollback.Replication: the
// forward task (on-premises → AWS) and the reverse one, with one writer
// at a time.
//
// SwitchDatabase is the database switch (dms.SwitchToReverse through the
// Fence): application writes on the source frozen, the forward task
// drained and stopped, the reverse task started. DMS has no loopback
// prevention for PostgreSQL, so both directions at once would replay
// every change back to where it came from. From then on the AWS database
// is the writer and the reverse task keeps the on-premises one current,
// so a rollback loses no write. EnsureReverse, the executor's, never
// switches: before the switch it does nothing.
type Replication struct {
	Env        migration.Env
	DMS        DMSAPI
	Metrics    dms.MetricsAPI
	ForwardARN string
	ReverseARN string
	// Fence freezes the source's application writes for the switch; nil
	// makes SwitchDatabase refuse (the rollback Lambda never switches).
	Fence dms.Fence
}

// ForwardLag returns the forward task's lag.
func (r Replication) ForwardLag(ctx context.Context) (migration.ReplicationLag, error) {
	return r.lag(ctx, r.ForwardARN)
}

// ReverseLag returns the reverse task's lag.
func (r Replication) ReverseLag(ctx context.Context) (migration.ReplicationLag, error) {
	return r.lag(ctx, r.ReverseARN)
}

// lag reads a task's lag. A task that is not running has no latency
// datapoints; that is its status, not an error.
func (r Replication) lag(ctx context.Context, arn string) (migration.ReplicationLag, error) {
	l, err := dms.Lag(ctx, r.Env, r.DMS, r.Metrics, arn)
	if errors.Is(err, dms.ErrNoLagData) && l.Status != "" && !strings.EqualFold(l.Status, "running") {
		return l, nil
	}
	return l, err
}

// SwitchDatabase makes the AWS database the writer (dms.SwitchToReverse).
func (r Replication) SwitchDatabase(ctx context.Context) error {
	return dms.SwitchToReverse(ctx, r.Env, r.DMS, r.Fence, r.ForwardARN, r.ReverseARN)
}

// EnsureReverse keeps the reverse task running once the database has
// switched (dms.StartReverse resumes it from its checkpoint); while the
// forward task runs the on-premises database is still the writer and it
// does nothing.
func (r Replication) EnsureReverse(ctx context.Context) error {
	err := dms.StartReverse(ctx, r.Env, r.DMS, r.ForwardARN, r.ReverseARN)
	if errors.Is(err, dms.ErrForwardRunning) {
		return nil
	}
	return err
}

// Clients are the clients the rollback handler acts through.
type Clients struct {
	Route53    dns.RouterAPI
	DynamoDB   tracking.StoreAPI
	SNS        tracking.PublishAPI
	DMS        DMSAPI
	CloudWatch interface {
		rollback.MetricsAPI
	}
}

// Handler builds the rollback Lambda's handler from its configuration:
// the Router over the records found in the zone, the tracking Store and
// Notifier, the reverse replication and the metric source.
func Handler(ctx context.Context, env migration.Env, cfg rollback.LambdaConfig, c Clients) (*rollback.Handler, error) {
	records, err := dns.LoadRecords(ctx, env, c.Route53, cfg.HostedZoneID, cfg.ZoneName, cfg.RecordNames)
	if err != nil {
		return nil, fmt.Errorf("rollback handler: %w", err)
	}
	router, err := dns.NewRouter(env, c.Route53, cfg.HostedZoneID, records)
	if err != nil {
		return nil, fmt.Errorf("rollback handler: %w", err)
	}
	notifier, err := tracking.NewNotifier(env, c.SNS, cfg.TopicARN)
	if err != nil {
		return nil, fmt.Errorf("rollback handler: %w", err)
	}
	// The executor sends the rollback's one notification itself; a Store
	// with the Notifier would send a second for the same transition.
	store, err := tracking.NewStore(env, c.DynamoDB, tracking.StoreOptions{Table: cfg.TableName, Actor: "lambda"})
	if err != nil {
		return nil, fmt.Errorf("rollback handler: %w", err)
	}
	return &rollback.Handler{
		Env: env, Policy: cfg.Policy, Metrics: rollback.Source{API: c.CloudWatch}, Router: router, Store: store, Notifier: notifier,
		Reverse: Replication{Env: env, DMS: c.DMS, Metrics: c.CloudWatch, ForwardARN: cfg.ForwardTaskARN, ReverseARN: cfg.ReverseTaskARN},
	}, nil
}
