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
// StartReverse is the database switch: while the forward task runs it
// stops it and starts the reverse task (dms.SwitchToReverse), because DMS
// has no loopback prevention for PostgreSQL and both directions at once
// would replay every change back to where it came from. The controller
// calls it only once the forward lag is within its bound; from then on
// the AWS database is the writer and the reverse task keeps the
// on-premises one current, so a rollback loses no write.
type Replication struct {
	Env        migration.Env
	DMS        DMSAPI
	Metrics    dms.MetricsAPI
	ForwardARN string
	ReverseARN string
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

// StartReverse makes sure the reverse task runs; while the forward task
// runs that is the database switch.
func (r Replication) StartReverse(ctx context.Context) error {
	err := dms.StartReverse(ctx, r.Env, r.DMS, r.ForwardARN, r.ReverseARN)
	if errors.Is(err, dms.ErrForwardRunning) {
		return dms.SwitchToReverse(ctx, r.Env, r.DMS, r.ForwardARN, r.ReverseARN)
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
