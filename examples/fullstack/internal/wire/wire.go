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
// so a rollback loses no write. The switch ends by flipping the
// database's DNS name (Database) to AWS, so the applications write there.
// EnsureReverse, the executor's, never switches and never touches the
// database's name: before the switch it does nothing, and a traffic
// rollback leaves the database on AWS.
type Replication struct {
	Env        migration.Env
	DMS        DMSAPI
	Metrics    dms.MetricsAPI
	ForwardARN string
	ReverseARN string
	// Fence freezes the source's application writes for the switch; nil
	// makes SwitchDatabase refuse (the rollback Lambda never switches).
	Fence dms.Fence
	// Database is the router of the database's DNS name; nil makes
	// SwitchDatabase refuse (the rollback Lambda has none).
	Database DatabaseRecord
}

// DatabaseRecord is the DNS name the applications reach the database by,
// blue on-premises and green AWS (a *dns.Router over that one name, and
// never over a traffic name: the database moves all at once, and only at
// the switch).
type DatabaseRecord interface {
	// Shift sets the name's split and returns once it is INSYNC.
	Shift(ctx context.Context, to migration.Split) (migration.Shifted, error)
	// Weights returns the name's split.
	Weights(ctx context.Context) (migration.Split, error)
}

// allAWS is the database record after the switch.
var allAWS = migration.GreenPercent(100)

// ForwardLag returns the forward task's lag. With a database record, a
// switched database (the forward task stopped, the reverse one running)
// whose record still sends the applications on-premises is an error: the
// switch stopped halfway (see CompleteSwitch), and the controller's gate
// must not pass until it is complete.
func (r Replication) ForwardLag(ctx context.Context) (migration.ReplicationLag, error) {
	l, err := r.lag(ctx, r.ForwardARN)
	if err != nil || r.Database == nil || !strings.EqualFold(l.Status, "stopped") {
		return l, err
	}
	if switched, err := r.reverseRunning(ctx); err != nil || !switched {
		return l, nil // not switched: the stopped forward task speaks for itself
	}
	split, err := r.Database.Weights(ctx)
	if err != nil {
		return l, fmt.Errorf("the database switched; read its record: %w", err)
	}
	if split != allAWS {
		return l, fmt.Errorf("the database switched but its record still sends the applications on-premises (%s): the switch is incomplete; SwitchDatabase or CompleteSwitch flips it", split)
	}
	return l, nil
}

// ReverseLag returns the reverse task's lag.
func (r Replication) ReverseLag(ctx context.Context) (migration.ReplicationLag, error) {
	return r.lag(ctx, r.ReverseARN)
}

// reverseRunning reports whether the reverse task runs: the database has
// switched. It reads the task's status alone (no metrics).
func (r Replication) reverseRunning(ctx context.Context) (bool, error) {
	status, err := dms.TaskStatus(ctx, r.DMS, r.ReverseARN)
	if err != nil {
		return false, err
	}
	return strings.EqualFold(status, "running"), nil
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

// SwitchDatabase makes the AWS database the writer: dms.SwitchToReverse
// (writes frozen on-premises, the forward task drained and stopped, the
// reverse task started), then the database record flipped to all green,
// so the applications write to AWS once it is INSYNC and their cached
// answer expires (the record's TTL). Between the two the applications
// cannot write at all — the source is read-only — which is the switch's
// pause, never a lost write.
//
// Idempotent and safe after a crash: SwitchToReverse leaves a switched
// database alone, and the flip is made whenever the record is not all
// green, so a re-run after a crash between the DMS switch and the flip
// flips it. Without a Fence or a Database it refuses before any call.
func (r Replication) SwitchDatabase(ctx context.Context) error {
	if r.Database == nil {
		return errors.New("switch database: the database record is required: without it the applications would keep writing to the frozen on-premises database")
	}
	if err := dms.SwitchToReverse(ctx, r.Env, r.DMS, r.Fence, r.ForwardARN, r.ReverseARN); err != nil {
		return err
	}
	if err := r.flip(ctx); err != nil {
		return fmt.Errorf("switch database: the AWS database is the writer, but %w", err)
	}
	return nil
}

// CompleteSwitch finishes a database switch that stopped between the DMS
// switch and the flip (a crash, or Route 53 failing): when the reverse
// task runs — the AWS database is the writer — it flips the database
// record to all green if it is not already. Before the switch it does
// nothing. The controller calls SwitchDatabase only while the reverse
// task is not running, so a resumed cutover needs this first.
func (r Replication) CompleteSwitch(ctx context.Context) error {
	if r.Database == nil {
		return errors.New("complete the database switch: no database record")
	}
	switched, err := r.reverseRunning(ctx)
	if err != nil {
		return fmt.Errorf("complete the database switch: %w", err)
	}
	if !switched {
		return nil
	}
	if err := r.flip(ctx); err != nil {
		return fmt.Errorf("complete the database switch: the AWS database is the writer, but %w", err)
	}
	return nil
}

// flip points the database record at AWS, all at once, unless it already
// does.
func (r Replication) flip(ctx context.Context) error {
	if split, err := r.Database.Weights(ctx); err == nil && split == allAWS {
		return nil
	}
	// A record that cannot be read is shifted anyway: Shift writes both
	// weighted records whole, which repairs it.
	applied, err := migration.ShiftTo(ctx, r.Env, r.Database, allAWS)
	if err != nil {
		return fmt.Errorf("its DNS record does not point at AWS: %w", err)
	}
	r.Env.Log().Info("database record flipped: the applications write to the AWS database", "change", applied.ChangeID)
	return nil
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
