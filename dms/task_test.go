package dms_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func taskSpec(out *dms.Outputs, spec dms.Spec, d dms.Direction) dms.TaskSpec {
	return spec.TaskSpec(d, *out)
}

func TestEnsureTask(t *testing.T) {
	moreTables := func(s *dms.TaskSpec) {
		s.Tables.Include = append(s.Tables.Include, dms.TableRef{Schema: "audit", Table: "events"})
	}
	tests := []struct {
		name       string
		setup      func(f *fixture, out *dms.Outputs)
		dryRun     bool
		edit       func(*dms.TaskSpec)
		wantAction migration.Action
		wantWrites []string
		wantStatus string
		wantErr    string
	}{
		{name: "converged makes no write", wantAction: migration.ActionNoop, wantStatus: "ready"},
		{name: "a mapping change on a task that never ran modifies it and leaves it ready",
			edit: moreTables, wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyReplicationTask"}, wantStatus: "ready"},
		{name: "a mapping change on a running task stops, modifies and resumes it",
			setup: func(f *fixture, out *dms.Outputs) {
				require.NoError(t, dms.Start(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))
			},
			edit: moreTables, wantAction: migration.ActionUpdate,
			wantWrites: []string{"StopReplicationTask", "ModifyReplicationTask", "StartReplicationTask"}, wantStatus: "running"},
		{name: "a settings change on a stopped task modifies it and leaves it stopped",
			setup: func(f *fixture, out *dms.Outputs) {
				require.NoError(t, dms.Start(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))
				require.NoError(t, dms.Stop(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))
			},
			edit:       func(s *dms.TaskSpec) { s.LOB = dms.LOBSettings{Mode: dms.LOBFull} },
			wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyReplicationTask"}, wantStatus: "stopped"},
		{name: "settings drift made outside converges",
			setup: func(f *fixture, out *dms.Outputs) {
				_, err := f.cloud.DMS().ModifyReplicationTask(f.ctx, &awsdms.ModifyReplicationTaskInput{ReplicationTaskArn: aws.String(out.Forward.ARN),
					ReplicationTaskSettings: aws.String(`{"ValidationSettings":{"EnableValidation":false},"ErrorBehavior":{"DataErrorPolicy":"LOG_ERROR"}}`)})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyReplicationTask"}, wantStatus: "ready"},
		{name: "a removed tag converges", setup: func(f *fixture, out *dms.Outputs) {
			_, err := f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String(out.Forward.ARN), TagKeys: []string{"Project"}})
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"AddTagsToResource"}, wantStatus: "ready"},
		{name: "dry run reports a running task's mapping change and touches nothing",
			setup: func(f *fixture, out *dms.Outputs) {
				require.NoError(t, dms.Start(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))
			},
			dryRun: true, edit: moreTables, wantAction: migration.ActionUpdate, wantStatus: "running"},
		{name: "another endpoint is refused", edit: func(s *dms.TaskSpec) { s.TargetEndpointARN = s.SourceEndpointARN[:len(s.SourceEndpointARN)-1] + "X" },
			wantErr: "endpoints are immutable"},
		{name: "a task without the ownership tag is not adopted", setup: func(f *fixture, out *dms.Outputs) {
			_, err := f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String(out.Forward.ARN), TagKeys: []string{migration.OwnerTag}})
			require.NoError(t, err)
		}, wantErr: "refusing to adopt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			spec := f.spec()
			out := f.apply(spec)
			if tt.setup != nil {
				tt.setup(f, out)
			}
			ts := taskSpec(out, spec, dms.Forward)
			if tt.edit != nil {
				tt.edit(&ts)
			}
			f.reset()
			f.env.DryRun = tt.dryRun
			task, err := dms.EnsureTask(f.ctx, f.env, f.cloud.DMS(), ts)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure dms task "dms-task-forward-dev"`)
				assert.Empty(t, f.cloud.Writes(), "a refused change writes nothing")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(f.report))
			assert.Equal(t, tt.wantWrites, f.writes())
			assert.Equal(t, tt.wantStatus, f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
			assert.Equal(t, out.Forward.ARN, task.ARN)
			if tt.dryRun {
				return
			}
			// Converged now: a second run is a no-op without writes.
			f.reset()
			_, err = dms.EnsureTask(f.ctx, f.env, f.cloud.DMS(), ts)
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{migration.ActionNoop}, actions(f.report))
			assert.Empty(t, f.cloud.Writes())
		})
	}
}

// The settings DMS holds come from Go types: logging on (DMS assigns the
// log group; the library never sends one), row validation, batch apply,
// LOB handling, data errors stopping the task; the reverse task never
// prepares on-premises tables.
func TestTaskSettings(t *testing.T) {
	f := newFixture(t)
	f.apply(f.spec())
	var fwd, rev struct {
		TargetMetadata struct {
			SupportLobs, LimitedSizeLobMode, BatchApplyEnabled bool
			LobMaxSize                                         int
		}
		FullLoadSettings struct{ TargetTablePrepMode string }
		Logging          struct {
			EnableLogging      bool
			CloudWatchLogGroup *string
		}
		ValidationSettings struct {
			EnableValidation         bool
			ValidationPartialLobSize int
		}
		ErrorBehavior struct{ DataErrorPolicy, DataTruncationErrorPolicy string }
	}
	require.NoError(t, json.Unmarshal([]byte(f.cloud.DMS().TaskSettings("dms-task-forward-dev")), &fwd))
	require.NoError(t, json.Unmarshal([]byte(f.cloud.DMS().TaskSettings("dms-task-reverse-dev")), &rev))
	assert.True(t, fwd.Logging.EnableLogging)
	assert.Equal(t, "dms-tasks-dms-instance-dev", aws.ToString(fwd.Logging.CloudWatchLogGroup), "DMS assigns the group")
	assert.True(t, fwd.ValidationSettings.EnableValidation)
	assert.Equal(t, 32, fwd.ValidationSettings.ValidationPartialLobSize, "limited LOBs are validated up to their maximum")
	assert.True(t, fwd.TargetMetadata.LimitedSizeLobMode)
	assert.True(t, fwd.TargetMetadata.BatchApplyEnabled)
	assert.Equal(t, "TRUNCATE_BEFORE_LOAD", fwd.FullLoadSettings.TargetTablePrepMode)
	assert.Equal(t, "STOP_TASK", fwd.ErrorBehavior.DataTruncationErrorPolicy)
	assert.Equal(t, "DO_NOTHING", rev.FullLoadSettings.TargetTablePrepMode)
	assert.False(t, rev.ValidationSettings.EnableValidation)
	assert.False(t, rev.TargetMetadata.BatchApplyEnabled)

	// The mappings escape "_" (a DMS wildcard) and list includes before
	// excludes.
	var m struct {
		Rules []struct {
			RuleAction    string `json:"rule-action"`
			ObjectLocator struct {
				Schema string `json:"schema-name"`
				Table  string `json:"table-name"`
			} `json:"object-locator"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal([]byte(f.spec().Tables.MappingsJSON()), &m))
	require.Len(t, m.Rules, 4)
	assert.Equal(t, "invoice[_]lines", m.Rules[1].ObjectLocator.Table)
	assert.Equal(t, "exclude", m.Rules[2].RuleAction)
	assert.Equal(t, "session[_]cache", m.Rules[2].ObjectLocator.Table)
	// DMS's own control tables never travel, in either direction.
	assert.Equal(t, "exclude", m.Rules[3].RuleAction)
	assert.Equal(t, "%", m.Rules[3].ObjectLocator.Schema)
	assert.Equal(t, "awsdms[_]%", m.Rules[3].ObjectLocator.Table)
}

func TestStartStopResume(t *testing.T) {
	f := newFixture(t)
	out := f.apply(f.spec())
	api := f.cloud.DMS()
	fwd := out.Forward.ARN

	// First run: start-replication (the fake refuses any other type).
	f.reset()
	require.NoError(t, dms.Start(f.ctx, f.env, api, fwd))
	assert.Equal(t, "running", f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
	assert.Equal(t, []string{"StartReplicationTask"}, f.writes())
	// Idempotent.
	f.reset()
	require.NoError(t, dms.Start(f.ctx, f.env, api, fwd))
	assert.Empty(t, f.cloud.Writes())

	require.NoError(t, dms.Stop(f.ctx, f.env, api, fwd))
	assert.Equal(t, "stopped", f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
	f.reset()
	status, err := dms.TaskStatus(f.ctx, api, fwd)
	require.NoError(t, err)
	assert.Equal(t, "stopped", status, "TaskStatus reads what DMS says")
	assert.Empty(t, f.cloud.Writes())
	_, err = dms.TaskStatus(f.ctx, api, "arn:aws:dms:us-east-1:123456789012:task:NOSUCHTASK")
	require.ErrorContains(t, err, "status of arn:aws:dms:us-east-1:123456789012:task:NOSUCHTASK: task arn:aws:dms:us-east-1:123456789012:task:NOSUCHTASK not found")

	require.NoError(t, dms.Stop(f.ctx, f.env, api, fwd))
	assert.Empty(t, f.cloud.Writes(), "stopping a stopped task writes nothing")

	// After a stop: resume-processing (start-replication is refused for a
	// full-load task that ran).
	require.NoError(t, dms.Start(f.ctx, f.env, api, fwd))
	assert.Equal(t, "running", f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
	assert.NotContains(t, f.codes(), "InvalidParameterCombinationException")

	// A failure resumes too.
	f.cloud.DMS().FailTask(fwd, "lost connection to source")
	require.NoError(t, dms.Resume(f.ctx, f.env, api, fwd))
	assert.Equal(t, "running", f.cloud.DMS().TaskStatus("dms-task-forward-dev"))

	// Reload stops and reloads every table.
	f.reset()
	require.NoError(t, dms.Reload(f.ctx, f.env, api, fwd))
	assert.Equal(t, []string{"StopReplicationTask", "StartReplicationTask"}, f.writes())

	// Resume refuses a task that never ran.
	err = dms.Resume(f.ctx, f.env, api, out.Reverse.ARN)
	require.ErrorContains(t, err, "never ran")

	// A dry run reads only.
	f.reset()
	dry := f.env
	dry.DryRun = true
	require.NoError(t, dms.Stop(f.ctx, dry, api, fwd))
	assert.Empty(t, f.cloud.Writes())
}

func TestReverse(t *testing.T) {
	f := newFixture(t)
	out := f.apply(f.spec())
	api := f.cloud.DMS()
	fwd, rev := out.Forward.ARN, out.Reverse.ARN
	require.NoError(t, dms.Start(f.ctx, f.env, api, fwd))

	// Both directions at once would echo every change back.
	err := dms.StartReverse(f.ctx, f.env, api, fwd, rev)
	require.ErrorIs(t, err, dms.ErrForwardRunning)
	assert.Equal(t, "ready", f.cloud.DMS().TaskStatus("dms-task-reverse-dev"))

	// Cutover (TestSwitchToReverse has the details): forward stopped,
	// reverse running.
	f.cloud.Clock().Advance(time.Hour)
	require.NoError(t, dms.SwitchToReverse(f.ctx, f.env, api, f.cloud.DMS().SourceFence(fwd), fwd, rev))
	assert.Equal(t, "stopped", f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
	assert.Equal(t, "running", f.cloud.DMS().TaskStatus("dms-task-reverse-dev"))

	// The rollback executor: a running reverse task is left alone; a
	// failed one resumes from its checkpoint.
	f.reset()
	require.NoError(t, dms.StartReverse(f.ctx, f.env, api, fwd, rev))
	assert.Empty(t, f.cloud.Writes())
	f.cloud.DMS().FailTask(rev, "target connection reset")
	require.NoError(t, dms.StartReverse(f.ctx, f.env, api, fwd, rev))
	assert.Equal(t, "running", f.cloud.DMS().TaskStatus("dms-task-reverse-dev"))

	// A start that fails shows DMS's failure message.
	require.NoError(t, dms.Stop(f.ctx, f.env, api, rev))
	_, err = f.cloud.SecretsManager().DeleteSecret(f.ctx, deleteNow(out.TargetSecret.ARN))
	require.NoError(t, err)
	err = dms.StartReverse(f.ctx, f.env, api, fwd, rev)
	require.ErrorContains(t, err, "does not exist")
}

func TestLag(t *testing.T) {
	f := newFixture(t)
	out := f.apply(f.spec())
	api, cw := f.cloud.DMS(), f.cloud.CloudWatch()
	fwd := out.Forward.ARN
	f.cloud.DMS().SetSourceTables(out.Endpoints[dms.EndpointSource].ARN,
		fakecloud.DMSTable{Schema: "public", Name: "orders", Rows: 4_000_000},
		fakecloud.DMSTable{Schema: "public", Name: "customers", Rows: 1_000_000},
		fakecloud.DMSTable{Schema: "public", Name: "session_cache", Rows: 9_000_000},
		fakecloud.DMSTable{Schema: "billing", Name: "invoice_lines", Rows: 5_000_000},
		fakecloud.DMSTable{Schema: "billing", Name: "invoiceXlines", Rows: 1},
	)

	// Never started: status, no tables, no latency.
	lag, err := dms.Lag(f.ctx, f.env, api, cw, fwd)
	require.ErrorIs(t, err, dms.ErrNoLagData)
	assert.Equal(t, "ready", lag.Status)

	// Full load of 10 M rows (the exclude and the escaped underscore
	// keep session_cache and invoiceXlines out): tables load, no CDC
	// latency yet — unknown, never zero.
	require.NoError(t, dms.Start(f.ctx, f.env, api, fwd))
	f.cloud.Clock().Advance(50 * time.Minute)
	lag, err = dms.Lag(f.ctx, f.env, api, cw, fwd)
	require.ErrorIs(t, err, dms.ErrNoLagData)
	assert.Equal(t, "running", lag.Status)
	assert.Equal(t, 3, lag.Tables["Table completed"]+lag.Tables["Full load"]+lag.Tables["Before load"], "%v", lag.Tables)
	assert.Positive(t, lag.Tables["Full load"]+lag.Tables["Before load"])

	// CDC: the latency the fake DMS publishes, the tables completed.
	f.cloud.Clock().Advance(time.Hour)
	f.cloud.DMS().SetTaskLatency(fwd, 2*time.Second, 7*time.Second)
	f.cloud.DMS().SetValidationFailures(fwd, "public", "orders", 3)
	lag, err = dms.Lag(f.ctx, f.env, api, cw, fwd)
	require.NoError(t, err)
	assert.Equal(t, fwd, lag.Task)
	assert.Equal(t, 2*time.Second, lag.Source)
	assert.Equal(t, 7*time.Second, lag.Target)
	assert.Equal(t, map[string]int{"Table completed": 3}, lag.Tables)
	assert.EqualValues(t, 3, lag.ValidationFailures)
	assert.Equal(t, f.cloud.Clock().Now(), lag.At)

	// A test scripts the metric itself (dimensions: the instance name and
	// the task ARN's resource ID).
	dims := map[string]string{"ReplicationInstanceIdentifier": "dms-instance-dev", "ReplicationTaskIdentifier": fwd[len(fwd)-26:]}
	cw.SetMetricFunc("AWS/DMS", "CDCLatencyTarget", dims, func(time.Time) (float64, bool) { return 95, true })
	lag, err = dms.Lag(f.ctx, f.env, api, cw, fwd)
	require.NoError(t, err)
	assert.Equal(t, 95*time.Second, lag.Target)

	// Stopped: the datapoints age out and the lag is unknown again.
	require.NoError(t, dms.Stop(f.ctx, f.env, api, fwd))
	cw.SetMetricFunc("AWS/DMS", "CDCLatencyTarget", dims, nil)
	f.cloud.Clock().Advance(10 * time.Minute)
	lag, err = dms.Lag(f.ctx, f.env, api, cw, fwd)
	require.ErrorIs(t, err, dms.ErrNoLagData)
	assert.Equal(t, "stopped", lag.Status)

	// A task that does not exist is an error, not an empty lag.
	_, err = dms.Lag(f.ctx, f.env, api, cw, fwd[:len(fwd)-3]+"AAA")
	require.Error(t, err)
	assert.False(t, errors.Is(err, dms.ErrNoLagData))
}

func TestDeleteTask(t *testing.T) {
	f := newFixture(t)
	out := f.apply(f.spec())
	require.NoError(t, dms.Start(f.ctx, f.env, f.cloud.DMS(), out.Forward.ARN))

	// Dry run: reported, untouched.
	f.reset()
	dry := f.env
	dry.DryRun = true
	require.NoError(t, dms.DeleteTask(f.ctx, dry, f.cloud.DMS(), dms.TaskSpec{Direction: dms.Forward}))
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, []migration.Action{migration.ActionDelete}, actions(f.report))

	// A running task is stopped, then deleted; the note reminds of the slot.
	f.reset()
	require.NoError(t, dms.DeleteTask(f.ctx, f.env, f.cloud.DMS(), dms.TaskSpec{Direction: dms.Forward}))
	assert.Equal(t, []string{"StopReplicationTask", "DeleteReplicationTask"}, f.writes())
	assert.Empty(t, f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
	assert.Contains(t, change(t, f.report, dms.KindTask, "dms-task-forward-dev").Note, "replication slot")

	// Gone: a no-op.
	f.reset()
	require.NoError(t, dms.DeleteTask(f.ctx, f.env, f.cloud.DMS(), dms.TaskSpec{Direction: dms.Forward}))
	assert.Empty(t, f.cloud.Writes())

	// Not owned: left in place.
	_, err := f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String(out.Reverse.ARN), TagKeys: []string{migration.OwnerTag}})
	require.NoError(t, err)
	f.reset()
	require.NoError(t, dms.DeleteTask(f.ctx, f.env, f.cloud.DMS(), dms.TaskSpec{Direction: dms.Reverse}))
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, "ready", f.cloud.DMS().TaskStatus("dms-task-reverse-dev"))
}

// A task whose create response was lost is found again still creating:
// EnsureTask waits for it to be ready rather than hand back a task that
// can be neither modified nor started yet.
func TestEnsureTaskWaitsForATaskStillCreating(t *testing.T) {
	f := newFixture(t)
	spec := f.spec()
	out := f.apply(spec)
	ts := taskSpec(out, spec, dms.Forward)
	require.NoError(t, dms.DeleteTask(f.ctx, f.env, f.cloud.DMS(), ts))

	f.cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 1, CrashAfter: true})
	_, err := dms.EnsureTask(f.ctx, f.env, f.cloud.DMS(), ts)
	require.Error(t, err)
	require.True(t, f.cloud.Crashed())
	f.cloud.Restart()
	require.Equal(t, "creating", f.cloud.DMS().TaskStatus("dms-task-forward-dev"), "the create took effect; its response was lost")

	f.reset()
	task, err := dms.EnsureTask(f.ctx, f.env, f.cloud.DMS(), ts)
	require.NoError(t, err)
	assert.Equal(t, "ready", task.Status)
	assert.Equal(t, "ready", f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
	assert.Empty(t, f.cloud.Writes(), "the task is found, not created again")
	assert.Equal(t, []migration.Action{migration.ActionNoop}, actions(f.report))
}
