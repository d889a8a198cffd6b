package dms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// Direction is a task's direction.
type Direction string

// The two tasks of a migration.
const (
	// Forward replicates on-premises → RDS: full load, then CDC
	// ("dms-task-forward-<suffix>").
	Forward Direction = "forward"
	// Reverse replicates RDS → on-premises, CDC only
	// ("dms-task-reverse-<suffix>"). It is created stopped and started at
	// cutover, so every write made on AWS after cutover reaches the
	// on-premises database and a rollback loses none.
	Reverse Direction = "reverse"
)

func (d Direction) name() string { return "dms-task-" + string(d) }

func (d Direction) migrationType() dmstypes.MigrationTypeValue {
	if d == Reverse {
		return dmstypes.MigrationTypeValueCdc
	}
	return dmstypes.MigrationTypeValueFullLoadAndCdc
}

// LOBMode is how a task migrates large objects (TEXT, JSON, JSONB, BYTEA,
// arrays and HSTORE are LOBs to DMS).
type LOBMode string

// The LOB modes.
const (
	// LOBLimited copies LOBs up to LOBSettings.MaxSizeKB inline (fast).
	// A longer value stops the task (DataTruncationErrorPolicy STOP_TASK)
	// instead of being truncated silently: size MaxSizeKB from the
	// source (max(octet_length(col)) per LOB column).
	LOBLimited LOBMode = "limited"
	// LOBFull copies every LOB whole, in ChunkSizeKB pieces (slow).
	LOBFull LOBMode = "full"
	// LOBNone drops LOB columns: only for a schema without any.
	LOBNone LOBMode = "none"
)

// LOBSettings configures LOB migration.
type LOBSettings struct {
	// Mode is LOBLimited (the default), LOBFull or LOBNone.
	Mode LOBMode `json:"mode,omitempty" yaml:"mode,omitempty"`
	// MaxSizeKB is the limited-mode maximum, 1..102400 KB; 0 means 32.
	MaxSizeKB int `json:"maxSizeKb,omitempty" yaml:"maxSizeKb,omitempty"`
	// ChunkSizeKB is the full-mode chunk; 0 means the recommended 64.
	ChunkSizeKB int `json:"chunkSizeKb,omitempty" yaml:"chunkSizeKb,omitempty"`
}

func (l LOBSettings) mode() LOBMode {
	if l.Mode == "" {
		return LOBLimited
	}
	return l.Mode
}

func (l LOBSettings) maxSize() int { return cmp.Or(l.MaxSizeKB, 32) }

// TaskSpec describes one replication task.
type TaskSpec struct {
	// Direction is Forward or Reverse; it fixes the name, the migration
	// type (full-load-and-cdc or cdc) and, for Reverse, DO_NOTHING table
	// preparation.
	Direction Direction
	// InstanceARN is the replication instance (Instance.ARN). Immutable.
	InstanceARN string
	// SourceEndpointARN and TargetEndpointARN are the endpoints: for
	// Forward EndpointSource and EndpointTarget, for Reverse
	// EndpointReverseSource and EndpointReverseTarget. Immutable.
	SourceEndpointARN string
	TargetEndpointARN string
	// Tables selects what is replicated.
	Tables TableSelection
	// LOB configures large objects.
	LOB LOBSettings
	// TargetTablePrepMode is what the forward full load does to existing
	// target tables: "TRUNCATE_BEFORE_LOAD" (the default: the schema is
	// created beforehand with pg_dump --schema-only, so indexes,
	// constraints and defaults are the source's), "DO_NOTHING" or
	// "DROP_AND_CREATE" (DMS creates bare tables without secondary
	// indexes). A reverse task is always DO_NOTHING.
	TargetTablePrepMode string
	// DisableValidation turns row validation off for the forward task
	// (on by default; it needs a primary key or unique index per table).
	// EnableReverseValidation turns it on for the reverse task, off by
	// default because it re-reads the on-premises database.
	DisableValidation       bool
	EnableReverseValidation bool
	// MaxFullLoadSubTasks is the number of tables loaded in parallel,
	// 1..49; 0 means 8.
	MaxFullLoadSubTasks int
}

var taskARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:dms:[a-z0-9-]+:[0-9]{12}:(rep|endpoint):[A-Za-z0-9-]+$`)

// Validate checks the spec before any call.
func (s TaskSpec) Validate() error {
	var errs []error
	if s.Direction != Forward && s.Direction != Reverse {
		errs = append(errs, fmt.Errorf("task.direction: %q must be forward or reverse", s.Direction))
	}
	for field, v := range map[string]string{"instanceArn": s.InstanceARN, "sourceEndpointArn": s.SourceEndpointARN, "targetEndpointArn": s.TargetEndpointARN} {
		if migration.IsPending(v) {
			continue
		}
		want := "endpoint"
		if field == "instanceArn" {
			want = "rep"
		}
		if m := taskARNRe.FindStringSubmatch(v); m == nil || m[1] != want {
			errs = append(errs, fmt.Errorf("task.%s: %q is not a DMS %s ARN", field, v, map[string]string{"rep": "replication instance", "endpoint": "endpoint"}[want]))
		}
	}
	if s.SourceEndpointARN != "" && s.SourceEndpointARN == s.TargetEndpointARN {
		errs = append(errs, errors.New("task: source and target endpoint are the same"))
	}
	if err := s.Tables.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch s.LOB.mode() {
	case LOBLimited:
		if s.LOB.MaxSizeKB < 0 || s.LOB.MaxSizeKB > 102400 {
			errs = append(errs, fmt.Errorf("task.lob.maxSizeKb: %d outside 1..102400", s.LOB.MaxSizeKB))
		}
		if s.LOB.ChunkSizeKB != 0 {
			errs = append(errs, errors.New("task.lob.chunkSizeKb: only for full LOB mode"))
		}
	case LOBFull:
		if s.LOB.ChunkSizeKB < 0 || s.LOB.ChunkSizeKB > 102400 {
			errs = append(errs, fmt.Errorf("task.lob.chunkSizeKb: %d outside 1..102400", s.LOB.ChunkSizeKB))
		}
		if s.LOB.MaxSizeKB != 0 {
			errs = append(errs, errors.New("task.lob.maxSizeKb: only for limited LOB mode"))
		}
	case LOBNone:
		if s.LOB.MaxSizeKB != 0 || s.LOB.ChunkSizeKB != 0 {
			errs = append(errs, errors.New("task.lob: sizes make no sense without LOB support"))
		}
	default:
		errs = append(errs, fmt.Errorf("task.lob.mode: %q must be limited, full or none", s.LOB.Mode))
	}
	switch s.TargetTablePrepMode {
	case "", "TRUNCATE_BEFORE_LOAD", "DO_NOTHING", "DROP_AND_CREATE":
	default:
		errs = append(errs, fmt.Errorf("task.targetTablePrepMode: %q must be TRUNCATE_BEFORE_LOAD, DO_NOTHING or DROP_AND_CREATE", s.TargetTablePrepMode))
	}
	if s.Direction == Reverse && s.TargetTablePrepMode != "" && s.TargetTablePrepMode != "DO_NOTHING" {
		errs = append(errs, fmt.Errorf("task.targetTablePrepMode: the reverse task writes to the on-premises database and is always DO_NOTHING, not %s", s.TargetTablePrepMode))
	}
	if s.Direction == Reverse && s.DisableValidation {
		errs = append(errs, errors.New("task.disableValidation: a forward setting; the reverse task validates only with enableReverseValidation"))
	}
	if s.Direction == Forward && s.EnableReverseValidation {
		errs = append(errs, errors.New("task.enableReverseValidation: a reverse setting"))
	}
	if s.MaxFullLoadSubTasks < 0 || s.MaxFullLoadSubTasks > 49 {
		errs = append(errs, fmt.Errorf("task.maxFullLoadSubTasks: %d outside 1..49", s.MaxFullLoadSubTasks))
	}
	return errors.Join(errs...)
}

func (s TaskSpec) prepMode() string {
	if s.Direction == Reverse {
		return "DO_NOTHING"
	}
	if s.TargetTablePrepMode == "" {
		return "TRUNCATE_BEFORE_LOAD"
	}
	return s.TargetTablePrepMode
}

func (s TaskSpec) validation() bool {
	if s.Direction == Reverse {
		return s.EnableReverseValidation
	}
	return !s.DisableValidation
}

// Task is an ensured task.
type Task struct {
	ID     string
	ARN    string // a pending ID in a dry run that would create it
	Status string
}

// Timeouts of the task waits.
const (
	taskReadyTimeout   = 15 * time.Minute
	taskStateTimeout   = 30 * time.Minute
	taskDeletedTimeout = 15 * time.Minute
)

// EnsureTask makes the task exist and converge; it never starts a task
// that was not running (Start, StartReverse and SwitchToReverse do that).
//
// It finds the task by its identifier and refuses to adopt one without
// the env's ownership tag, or to change what a task cannot: its migration
// type, instance or endpoints. Table mappings and settings are built from
// the spec with Go types and compared semantically with what DMS returns.
// DMS modifies only a stopped task: a change to a running task stops it,
// modifies it and resumes it (resume-processing, so CDC continues from
// its checkpoint and newly selected tables are loaded); a change to a
// task that is not running modifies it and leaves it so. A pending
// instance or endpoint makes it report a create without calling AWS.
func EnsureTask(ctx context.Context, env migration.Env, api DMSAPI, spec TaskSpec) (Task, error) {
	name := env.Name(spec.Direction.name())
	if err := migration.Validate(env, spec); err != nil {
		return Task{}, fmt.Errorf("ensure dms task %q: %w", name, err)
	}
	t, err := ensureTask(ctx, env, api, spec, name)
	if err != nil {
		return Task{}, fmt.Errorf("ensure dms task %q: %w", name, err)
	}
	return t, nil
}

func ensureTask(ctx context.Context, env migration.Env, api DMSAPI, spec TaskSpec, name string) (Task, error) {
	mappings, settings := spec.Tables.mappings(), spec.settings()
	createDiff := []migration.FieldDiff{{Field: "migrationType", To: string(spec.Direction.migrationType())}, {Field: "tables", To: tablesSummary(spec.Tables)}}
	pending := Task{ID: name, ARN: migration.Pending(name)}
	if migration.AnyPending(spec.InstanceARN, spec.SourceEndpointARN, spec.TargetEndpointARN) {
		env.Report(migration.Change{Kind: KindTask, Name: name, ID: pending.ARN, Action: migration.ActionCreate, Diff: createDiff})
		return pending, nil
	}
	found, err := findTask(ctx, api, "replication-task-id", name)
	if err != nil {
		return Task{}, err
	}
	if found == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindTask, Name: name, ID: pending.ARN, Action: migration.ActionCreate, Diff: createDiff})
			return pending, nil
		}
		_, err := api.CreateReplicationTask(ctx, &dms.CreateReplicationTaskInput{
			ReplicationTaskIdentifier: aws.String(name), MigrationType: spec.Direction.migrationType(),
			ReplicationInstanceArn: aws.String(spec.InstanceARN), SourceEndpointArn: aws.String(spec.SourceEndpointARN), TargetEndpointArn: aws.String(spec.TargetEndpointARN),
			TableMappings: aws.String(spec.Tables.MappingsJSON()), ReplicationTaskSettings: aws.String(settings.JSON()),
			Tags: dmsTags(env.NameTags(name)),
		})
		if awsx.IsAlreadyExists(err) {
			if err := visible(ctx, env, "task "+name, func(ctx context.Context) (bool, error) {
				t, err := findTask(ctx, api, "replication-task-id", name)
				return t != nil, err
			}); err != nil {
				return Task{}, err
			}
			return ensureTask(ctx, env, api, spec, name)
		}
		if err != nil {
			return Task{}, fmt.Errorf("create: %w", err)
		}
		var accept awsx.Acceptor[dms.DescribeReplicationTasksInput, dms.DescribeReplicationTasksOutput]
		dms.NewReplicationTaskReadyWaiter(api, func(o *dms.ReplicationTaskReadyWaiterOptions) { accept = o.Retryable })
		out, err := migration.Wait(ctx, env, "dms task "+name+" to be ready", api.DescribeReplicationTasks,
			&dms.DescribeReplicationTasksInput{Filters: idFilter("replication-task-id", name), WithoutSettings: aws.Bool(true)}, accept, taskReadyTimeout, codeNotFound)
		if err != nil {
			return Task{}, err
		}
		t := taskOf(out.ReplicationTasks[0])
		env.Report(migration.Change{Kind: KindTask, Name: name, ID: t.ARN, Action: migration.ActionCreate, Diff: createDiff})
		return t, nil
	}

	arn := aws.ToString(found.ReplicationTaskArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return Task{}, err
	}
	if !env.Owns(tags) {
		return Task{}, notOwned(env, "task", name)
	}
	switch {
	case aws.ToString(found.Status) == "deleting":
		return Task{}, fmt.Errorf("task %s is being deleted; wait for it to go and apply again", arn)
	case found.MigrationType != spec.Direction.migrationType():
		return Task{}, fmt.Errorf("migration type is immutable here: %s is %s, the spec wants %s", arn, found.MigrationType, spec.Direction.migrationType())
	case aws.ToString(found.ReplicationInstanceArn) != spec.InstanceARN:
		return Task{}, fmt.Errorf("replication instance is immutable: %s runs on %s, the spec wants %s", arn, aws.ToString(found.ReplicationInstanceArn), spec.InstanceARN)
	case aws.ToString(found.SourceEndpointArn) != spec.SourceEndpointARN || aws.ToString(found.TargetEndpointArn) != spec.TargetEndpointARN:
		return Task{}, fmt.Errorf("endpoints are immutable: %s replicates %s -> %s, the spec wants %s -> %s", arn,
			aws.ToString(found.SourceEndpointArn), aws.ToString(found.TargetEndpointArn), spec.SourceEndpointARN, spec.TargetEndpointARN)
	}
	if aws.ToString(found.Status) == "creating" && !env.DryRun {
		// A task whose create response was lost, or that another run is
		// creating: it cannot be modified or started until it is ready.
		if _, err := settleTask(ctx, env, api, arn); err != nil {
			return Task{}, err
		}
		if found, err = findTask(ctx, api, "replication-task-id", name); err != nil {
			return Task{}, err
		}
		if found == nil {
			return Task{}, fmt.Errorf("task %s disappeared while it was being created", arn)
		}
	}
	var diff []migration.FieldDiff
	if !sameMappings(aws.ToString(found.TableMappings), mappings) {
		diff = append(diff, migration.FieldDiff{Field: "tableMappings", From: "(differs)", To: tablesSummary(spec.Tables)})
	}
	diff = append(diff, taskSettingsDiff(aws.ToString(found.ReplicationTaskSettings), settings)...)
	t := taskOf(*found)
	var c migration.Converge
	c.FixAll(diff, func() error {
		status, err := modifyTask(ctx, env, api, found, &dms.ModifyReplicationTaskInput{
			ReplicationTaskArn: aws.String(arn), TableMappings: aws.String(spec.Tables.MappingsJSON()), ReplicationTaskSettings: aws.String(settings.JSON()),
		})
		if err != nil {
			return err
		}
		t.Status = status
		return nil
	})
	c.Tags(tags, env.NameTags(name), tagDMS(ctx, api, arn))
	note := ""
	if len(diff) > 0 {
		switch aws.ToString(found.Status) {
		case "running", "starting":
			note = "the running task is stopped, modified and resumed"
		}
	}
	if err := c.Apply(env, migration.Change{Kind: KindTask, Name: name, ID: arn, Note: note}); err != nil {
		return Task{}, err
	}
	return t, nil
}

// modifyTask applies a modification: a running task is stopped first and
// resumed after. It returns the task's final status.
func modifyTask(ctx context.Context, env migration.Env, api DMSAPI, found *dmstypes.ReplicationTask, in *dms.ModifyReplicationTaskInput) (string, error) {
	arn := aws.ToString(found.ReplicationTaskArn)
	status, err := settleTask(ctx, env, api, arn)
	if err != nil {
		return "", err
	}
	wasRunning := status == "running"
	if wasRunning {
		if err := Stop(ctx, env, api, arn); err != nil {
			return "", err
		}
	}
	if _, err := api.ModifyReplicationTask(ctx, in); err != nil {
		return "", fmt.Errorf("modify: %w", err)
	}
	if status, err = settleTask(ctx, env, api, arn); err != nil {
		return "", err
	}
	if wasRunning {
		if err := Resume(ctx, env, api, arn); err != nil {
			return "", fmt.Errorf("resume after modify: %w", err)
		}
		return "running", nil
	}
	return status, nil
}

// settleTask waits while the task is in a transient state (creating,
// modifying, starting, stopping) and returns the state it settles in.
func settleTask(ctx context.Context, env migration.Env, api TaskRunner, arn string) (string, error) {
	var status string
	err := env.Poll(ctx, "dms task "+resourceID(arn)+" to settle", 15*time.Second, taskStateTimeout, func(ctx context.Context) (string, bool, error) {
		t, err := describeTask(ctx, api, arn)
		if err != nil {
			return "", false, err
		}
		status = aws.ToString(t.Status)
		switch status {
		case "creating", "modifying", "starting", "stopping", "testing", "moving":
			return status, false, nil
		case "deleting":
			return status, false, fmt.Errorf("task %s is being deleted", arn)
		}
		return status, true, nil
	})
	return status, err
}

func tablesSummary(t TableSelection) string {
	var in, ex []string
	for _, r := range t.Include {
		in = append(in, r.String())
	}
	for _, r := range t.Exclude {
		ex = append(ex, r.String())
	}
	s := "include " + strings.Join(in, ",")
	if len(ex) > 0 {
		s += " exclude " + strings.Join(ex, ",")
	}
	return s
}

func taskOf(t dmstypes.ReplicationTask) Task {
	return Task{ID: aws.ToString(t.ReplicationTaskIdentifier), ARN: aws.ToString(t.ReplicationTaskArn), Status: aws.ToString(t.Status)}
}

func findTask(ctx context.Context, api TaskRunner, filter, value string) (*dmstypes.ReplicationTask, error) {
	out, err := ignoreNotFound(api.DescribeReplicationTasks(ctx, &dms.DescribeReplicationTasksInput{Filters: idFilter(filter, value)}))
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if out == nil {
		return nil, nil
	}
	for _, t := range out.ReplicationTasks {
		if strings.EqualFold(aws.ToString(t.ReplicationTaskIdentifier), value) || aws.ToString(t.ReplicationTaskArn) == value {
			return &t, nil
		}
	}
	return nil, nil
}

// TaskStatus returns a task's status as DMS reports it ("ready",
// "starting", "running", "stopped", ...). It reads the task alone, which
// is cheaper than Lag when only the state matters (a gate asking whether
// the database has switched). A task that does not exist is an error.
func TaskStatus(ctx context.Context, api TaskRunner, taskARN string) (string, error) {
	t, err := describeTask(ctx, api, taskARN)
	if err != nil {
		return "", fmt.Errorf("status of %s: %w", taskARN, err)
	}
	return aws.ToString(t.Status), nil
}

func describeTask(ctx context.Context, api TaskRunner, arn string) (*dmstypes.ReplicationTask, error) {
	t, err := findTask(ctx, api, "replication-task-arn", arn)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("task %s not found", arn)
	}
	return t, nil
}

// DeleteTask stops the task if it runs, deletes it and waits until it is
// gone. It touches only a task carrying the env's ownership tag and is a
// no-op when the task is gone. Deleting the forward task ends CDC: do it
// after the migration is complete (or abandoned). The replication slot
// DMS created on the source stays and must be dropped by hand
// (SELECT pg_drop_replication_slot(...)), or it retains WAL forever.
func DeleteTask(ctx context.Context, env migration.Env, api DMSAPI, spec TaskSpec) error {
	name := env.Name(spec.Direction.name())
	if err := migration.Validate(env, nameOnly(string(spec.Direction), string(Forward), string(Reverse))); err != nil { // the direction is all a delete needs
		return fmt.Errorf("delete dms task %q: %w", name, err)
	}
	if err := deleteTask(ctx, env, api, name); err != nil {
		return fmt.Errorf("delete dms task %q: %w", name, err)
	}
	return nil
}

func deleteTask(ctx context.Context, env migration.Env, api DMSAPI, name string) error {
	found, err := findTask(ctx, api, "replication-task-id", name)
	if err != nil {
		return err
	}
	if found == nil {
		env.ReportGone(KindTask, name)
		return nil
	}
	arn := aws.ToString(found.ReplicationTaskArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return err
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindTask, name, arn)
		return nil
	}
	note := "drop the task's replication slot on its source database"
	if env.DryRun {
		env.Report(migration.Change{Kind: KindTask, Name: name, ID: arn, Action: migration.ActionDelete, Note: note})
		return nil
	}
	if aws.ToString(found.Status) != "deleting" {
		status, err := settleTask(ctx, env, api, arn)
		if err != nil {
			return err
		}
		if status == "running" {
			if err := Stop(ctx, env, api, arn); err != nil {
				return err
			}
		}
		if _, err := api.DeleteReplicationTask(ctx, &dms.DeleteReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete: %w", err)
		}
	}
	var accept awsx.Acceptor[dms.DescribeReplicationTasksInput, dms.DescribeReplicationTasksOutput]
	dms.NewReplicationTaskDeletedWaiter(api, func(o *dms.ReplicationTaskDeletedWaiterOptions) { accept = o.Retryable })
	if _, err := migration.Wait(ctx, env, "dms task "+name+" to be deleted", api.DescribeReplicationTasks,
		&dms.DescribeReplicationTasksInput{Filters: idFilter("replication-task-arn", arn), WithoutSettings: aws.Bool(true)}, accept, taskDeletedTimeout); err != nil {
		return err
	}
	env.Report(migration.Change{Kind: KindTask, Name: name, ID: arn, Action: migration.ActionDelete, Note: note})
	return nil
}

// --- start, stop, resume ---

// ErrForwardRunning is returned by StartReverse while the forward task
// still runs: running both directions at once would replay every change
// back to where it came from.
var ErrForwardRunning = errors.New("the forward task is still running; stop it before starting the reverse task")

// waitRunning waits for a started task to run, failing fast (with DMS's
// failure message) when it fails.
func waitRunning(ctx context.Context, env migration.Env, api TaskRunner, arn string) error {
	var accept awsx.Acceptor[dms.DescribeReplicationTasksInput, dms.DescribeReplicationTasksOutput]
	dms.NewReplicationTaskRunningWaiter(api, func(o *dms.ReplicationTaskRunningWaiterOptions) { accept = o.Retryable })
	out, err := migration.Wait(ctx, env, "dms task "+resourceID(arn)+" to run", api.DescribeReplicationTasks,
		&dms.DescribeReplicationTasksInput{Filters: idFilter("replication-task-arn", arn), WithoutSettings: aws.Bool(true)}, accept, taskStateTimeout)
	if err != nil {
		if out != nil && len(out.ReplicationTasks) == 1 && aws.ToString(out.ReplicationTasks[0].Status) == "failed" {
			return fmt.Errorf("task %s failed: %s", arn, aws.ToString(out.ReplicationTasks[0].LastFailureMessage))
		}
		return err
	}
	return nil
}

func start(ctx context.Context, env migration.Env, api TaskRunner, arn string, typ dmstypes.StartReplicationTaskTypeValue) error {
	if _, err := api.StartReplicationTask(ctx, &dms.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: typ}); err != nil {
		return fmt.Errorf("start %s (%s): %w", arn, typ, err)
	}
	env.Log().Info("dms task started", "task", arn, "type", string(typ))
	return waitRunning(ctx, env, api, arn)
}

// Start starts a task with the start type its history calls for and
// waits until it runs: start-replication on its first run,
// resume-processing after a stop or a failure (CDC continues from its
// checkpoint; a full load resumes the tables not yet loaded). A running
// task is left alone. Idempotent. In a dry run it only reads.
func Start(ctx context.Context, env migration.Env, api TaskRunner, taskARN string) error {
	if migration.IsPending(taskARN) {
		return nil
	}
	status, err := settleTask(ctx, env, api, taskARN)
	if err != nil {
		return err
	}
	t, err := describeTask(ctx, api, taskARN)
	if err != nil {
		return err
	}
	if status == "running" || env.DryRun {
		return nil
	}
	typ := dmstypes.StartReplicationTaskTypeValueResumeProcessing
	if t.ReplicationTaskStartDate == nil {
		typ = dmstypes.StartReplicationTaskTypeValueStartReplication
	}
	return start(ctx, env, api, taskARN, typ)
}

// Resume restarts a stopped or failed task from its checkpoint
// (resume-processing) and waits until it runs. It refuses a task that
// never ran (use Start). A running task is left alone.
func Resume(ctx context.Context, env migration.Env, api TaskRunner, taskARN string) error {
	status, err := settleTask(ctx, env, api, taskARN)
	if err != nil {
		return err
	}
	if status == "running" || env.DryRun {
		return nil
	}
	t, err := describeTask(ctx, api, taskARN)
	if err != nil {
		return err
	}
	if t.ReplicationTaskStartDate == nil {
		return fmt.Errorf("resume %s: the task never ran; start it first", taskARN)
	}
	return start(ctx, env, api, taskARN, dmstypes.StartReplicationTaskTypeValueResumeProcessing)
}

// Reload restarts a full-load task from scratch (reload-target): every
// selected table is loaded again (truncated first, per the task's table
// preparation mode) and CDC restarts. It stops the task first if it runs.
// Destructive for the target's copy, so it is never called implicitly.
func Reload(ctx context.Context, env migration.Env, api TaskRunner, taskARN string) error {
	if env.DryRun {
		return nil
	}
	t, err := describeTask(ctx, api, taskARN)
	if err != nil {
		return err
	}
	if t.MigrationType == dmstypes.MigrationTypeValueCdc {
		return fmt.Errorf("reload %s: a CDC-only task has nothing to reload", taskARN)
	}
	if t.ReplicationTaskStartDate == nil {
		return Start(ctx, env, api, taskARN)
	}
	if err := Stop(ctx, env, api, taskARN); err != nil {
		return err
	}
	return start(ctx, env, api, taskARN, dmstypes.StartReplicationTaskTypeValueReloadTarget)
}

// Stop stops a task and waits until it is stopped. A task that is not
// running is left alone. Idempotent.
func Stop(ctx context.Context, env migration.Env, api TaskRunner, taskARN string) error {
	if migration.IsPending(taskARN) {
		return nil
	}
	status, err := settleTask(ctx, env, api, taskARN)
	if err != nil {
		return err
	}
	if status != "running" || env.DryRun {
		return nil
	}
	if _, err := api.StopReplicationTask(ctx, &dms.StopReplicationTaskInput{ReplicationTaskArn: aws.String(taskARN)}); err != nil && !awsx.HasCode(err, codeInvalidState) {
		return fmt.Errorf("stop %s: %w", taskARN, err)
	}
	env.Log().Info("dms task stopping", "task", taskARN)
	var accept awsx.Acceptor[dms.DescribeReplicationTasksInput, dms.DescribeReplicationTasksOutput]
	dms.NewReplicationTaskStoppedWaiter(api, func(o *dms.ReplicationTaskStoppedWaiterOptions) { accept = o.Retryable })
	_, err = migration.Wait(ctx, env, "dms task "+resourceID(taskARN)+" to stop", api.DescribeReplicationTasks,
		&dms.DescribeReplicationTasksInput{Filters: idFilter("replication-task-arn", taskARN), WithoutSettings: aws.Bool(true)}, accept, taskStateTimeout)
	return err
}

// StartReverse makes sure the reverse task runs, without losing writes:
// running, it is left alone; never run, it starts (start-replication:
// capture from now); stopped or failed, it resumes from its checkpoint,
// so the writes made on AWS meanwhile still reach the on-premises
// database. It refuses (ErrForwardRunning) while the forward task runs.
// Idempotent: the rollback executor calls it before sending traffic back.
func StartReverse(ctx context.Context, env migration.Env, api TaskRunner, forwardARN, reverseARN string) error {
	f, err := describeTask(ctx, api, forwardARN)
	if err != nil {
		return fmt.Errorf("start reverse: forward task: %w", err)
	}
	switch aws.ToString(f.Status) {
	case "running", "starting", "stopping":
		return fmt.Errorf("start reverse %s: %w", reverseARN, ErrForwardRunning)
	}
	if err := Start(ctx, env, api, reverseARN); err != nil {
		return fmt.Errorf("start reverse: %w", err)
	}
	return nil
}
