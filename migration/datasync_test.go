package migration_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// recorder is a ProgressRecorder that keeps what it is given.
type recorder struct {
	mu        sync.Mutex
	servers   []migration.ServerStatus
	transfers []migration.TransferStatus
	fail      error
}

func (r *recorder) RecordServer(_ context.Context, s migration.ServerStatus) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.servers = append(r.servers, s)
	return r.fail
}

func (r *recorder) RecordTransfer(_ context.Context, t migration.TransferStatus) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transfers = append(r.transfers, t)
	return r.fail
}

// dsFixture is an env with its key, an activated agent and the SMB
// password in Secrets Manager.
type dsFixture struct {
	env       migration.Env
	cloud     *fakecloud.Cloud
	key       string
	agent     string
	secretARN string
}

func newDSFixture(t *testing.T) dsFixture {
	t.Helper()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	sec, err := cloud.SecretsManager().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("fileshare-smb-dev"),
		KmsKeyId: aws.String(key), SecretString: aws.String(`{"username":"svc-datasync","password":"s3cr3t-Pa55"}`)})
	require.NoError(t, err)
	return dsFixture{env: env, cloud: cloud, key: key, agent: cloud.DataSync().AddAgent("onprem-agent-1"), secretARN: aws.ToString(sec.ARN)}
}

// secretReads counts the reads of secret values.
func (f dsFixture) secretReads() int {
	return f.cloud.Count(secretsmanager.ServiceID, "GetSecretValue")
}

// putSecret stores a new current value of the SMB password secret.
func (f dsFixture) putSecret(t *testing.T, value string) {
	t.Helper()
	_, err := f.cloud.SecretsManager().PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(f.secretARN), SecretString: aws.String(value)})
	require.NoError(t, err)
}

func (f dsFixture) nfs() migration.FileTransferSpec {
	return migration.FileTransferSpec{
		Source:             migration.FileShareSpec{Protocol: migration.ProtocolNFS, ServerHostname: "files.corp.example.com", Subdirectory: "/exports/share", AgentARNs: []string{f.agent}},
		KMSKeyARN:          f.key,
		BucketSubdirectory: "/share",
		BytesPerSecond:     100 << 20,
	}
}

func (f dsFixture) smb() migration.FileTransferSpec {
	s := f.nfs()
	s.Source = migration.FileShareSpec{Protocol: migration.ProtocolSMB, ServerHostname: "fs01.corp.example.com", Subdirectory: "/share", AgentARNs: []string{f.agent},
		SMBUser: "svc-datasync", SMBDomain: "CORP", SMBPasswordSecretARN: f.secretARN}
	return s
}

func (f dsFixture) clients() migration.FileTransferClients {
	return migration.FileTransferClients{S3: f.cloud.S3(), DataSync: f.cloud.DataSync(), IAM: f.cloud.IAM(), Logs: f.cloud.Logs(), Secrets: f.cloud.SecretsManager()}
}

func changesByKind(r *migration.Report) map[string][]migration.Action {
	out := map[string][]migration.Action{}
	for _, c := range r.Changes() {
		out[c.Kind] = append(out[c.Kind], c.Action)
	}
	return out
}

func TestEnsureFileTransfer(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	f.cloud.ResetCalls()
	report := &migration.Report{}
	f.env.Reporter = report
	ft, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	assert.Equal(t, map[string][]migration.Action{
		migration.KindBucket: {"create"}, migration.KindRole: {"create"}, migration.KindLogGroup: {"create"}, migration.KindLogsPolicy: {"create"},
		migration.KindDataSyncLocation: {"create", "create"}, migration.KindDataSyncTask: {"create"},
	}, changesByKind(report))

	// The task as DataSync sees it.
	d, err := f.cloud.DataSync().DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(ft.Task.ARN)})
	require.NoError(t, err)
	assert.Equal(t, "datasync-task-files-dev", aws.ToString(d.Name))
	assert.Equal(t, ft.SourceLocation.ARN, aws.ToString(d.SourceLocationArn))
	assert.Equal(t, ft.TargetLocation.ARN, aws.ToString(d.DestinationLocationArn))
	assert.Equal(t, dstypes.VerifyModeOnlyFilesTransferred, d.Options.VerifyMode)
	assert.Equal(t, dstypes.TransferModeChanged, d.Options.TransferMode)
	assert.Equal(t, int64(100<<20), aws.ToInt64(d.Options.BytesPerSecond))
	assert.Equal(t, dstypes.LogLevelBasic, d.Options.LogLevel)
	assert.Equal(t, dstypes.PreserveDeletedFilesPreserve, d.Options.PreserveDeletedFiles)
	assert.Equal(t, "arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/datasync", aws.ToString(d.CloudWatchLogGroupArn))
	loc, err := f.cloud.DataSync().DescribeLocationS3(ctx, &datasync.DescribeLocationS3Input{LocationArn: aws.String(ft.TargetLocation.ARN)})
	require.NoError(t, err)
	assert.Equal(t, "s3://migration-files-dev-123456789012/share/", aws.ToString(loc.LocationUri))
	assert.Equal(t, ft.Role.ARN, aws.ToString(loc.S3Config.BucketAccessRoleArn))

	// The role: DataSync of this account only, the bucket only.
	role := migration.DataSyncRoleSpec(f.env, f.nfs())
	require.NoError(t, role.Inline["s3-bucket"].CheckLeastPrivilege())
	assert.True(t, migration.PolicyEqual(f.cloud.IAM().RoleInlinePolicies(role.Name)["s3-bucket"], role.Inline["s3-bucket"].JSON()))
	for _, s := range role.Inline["s3-bucket"].Statement {
		for _, r := range s.Resource {
			assert.True(t, strings.HasPrefix(r, "arn:aws:s3:::migration-files-dev-123456789012") || r == f.key, "resource %s", r)
		}
	}
	assert.Equal(t, migration.Strings{"123456789012"}, role.Trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"])

	// The logs resource policy lets DataSync write to that group only.
	pols, err := f.cloud.Logs().DescribeResourcePolicies(ctx, &cloudwatchlogs.DescribeResourcePoliciesInput{})
	require.NoError(t, err)
	require.Len(t, pols.ResourcePolicies, 1)
	assert.True(t, migration.PolicyEqual(aws.ToString(pols.ResourcePolicies[0].PolicyDocument), migration.DataSyncLogsPolicy(f.env).JSON()))
	assert.Equal(t, "datasync-logs-dev", aws.ToString(pols.ResourcePolicies[0].PolicyName))

	// Converged: a second apply is all noop and writes nothing.
	f.cloud.ResetCalls()
	report2 := &migration.Report{}
	f.env.Reporter = report2
	_, err = migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.False(t, report2.HasChanges(), report2.Summary())
	assert.Zero(t, f.secretReads(), "an NFS share reads no secret")
}

func TestEnsureFileTransferDryRunThenApply(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	f.cloud.ResetCalls()
	report := &migration.Report{}
	f.env.Reporter, f.env.DryRun = report, true
	_, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes(), "a plan writes nothing")
	assert.Equal(t, 7, report.Counts()[migration.ActionCreate], report.Summary())
	assert.Zero(t, f.cloud.Count("DataSync", "CreateTask")+f.cloud.Count("DataSync", "DescribeTask"), "a task with pending parents is not looked at")
}

func TestEnsureFileTransferConvergesUnderThrottling(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	f.cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.3, Services: []string{"DataSync", "S3", "IAM", "CloudWatch Logs"}})
	_, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	f.cloud.SetFaults(fakecloud.Faults{})
	throttled := 0
	for _, c := range f.cloud.Calls() {
		if c.Code == "ThrottlingException" || c.Code == "Throttling" {
			throttled++
		}
	}
	assert.Positive(t, throttled)
	assert.Len(t, f.cloud.DataSync().Tasks(), 1)
	assert.Len(t, f.cloud.DataSync().Locations(), 2)
	f.cloud.ResetCalls()
	_, err = migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
}

func TestEnsureSourceLocation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		spec       func(f dsFixture) migration.FileTransferSpec
		setup      func(t *testing.T, f dsFixture)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantDiff   []string
		wantReads  int // secret reads
		wantNote   string
		wantErr    string
	}{
		{name: "NFS created", spec: dsFixture.nfs, wantAction: migration.ActionCreate, wantWrites: []string{"CreateLocationNfs"}},
		{name: "SMB created with the password from Secrets Manager", spec: dsFixture.smb, wantAction: migration.ActionCreate, wantWrites: []string{"CreateLocationSmb"}, wantReads: 1},
		{
			name: "converged SMB makes no write and reads no secret", spec: dsFixture.smb,
			setup: func(t *testing.T, f dsFixture) {
				_, err := migration.EnsureSourceLocation(ctx, f.env, f.cloud.DataSync(), f.cloud.SecretsManager(), f.smb())
				require.NoError(t, err)
			},
			wantAction: migration.ActionNoop,
		},
		{
			name: "a second agent and a new path converge",
			spec: func(f dsFixture) migration.FileTransferSpec {
				s := f.nfs()
				s.Source.AgentARNs = append(s.Source.AgentARNs, agent2(f))
				s.Source.Subdirectory = "/exports/share2"
				return s
			},
			setup: func(t *testing.T, f dsFixture) {
				_, err := migration.EnsureSourceLocation(ctx, f.env, f.cloud.DataSync(), f.cloud.SecretsManager(), f.nfs())
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateLocationNfs"}, wantDiff: []string{"subdirectory", "agentArns"},
		},
		{
			name: "the protocol is immutable", spec: dsFixture.smb,
			setup: func(t *testing.T, f dsFixture) {
				_, err := migration.EnsureSourceLocation(ctx, f.env, f.cloud.DataSync(), f.cloud.SecretsManager(), f.nfs())
				require.NoError(t, err)
			},
			wantErr: "protocol is immutable",
		},
		{name: "dry run reports create", spec: dsFixture.smb, dryRun: true, wantAction: migration.ActionCreate},
		{
			name: "a look-alike without the ownership tag is not adopted", spec: dsFixture.nfs,
			setup: func(t *testing.T, f dsFixture) {
				_, err := f.cloud.DataSync().CreateLocationNfs(ctx, &datasync.CreateLocationNfsInput{ServerHostname: aws.String("files.corp.example.com"), Subdirectory: aws.String("/exports/share"),
					OnPremConfig: &dstypes.OnPremConfig{AgentArns: []string{f.agent}}, Tags: []dstypes.TagListEntry{{Key: aws.String("Name"), Value: aws.String("datasync-source-files-dev")}}})
				require.NoError(t, err)
			},
			wantAction: migration.ActionCreate, wantWrites: []string{"CreateLocationNfs"},
		},
		{
			name: "an agent that is not activated is refused",
			spec: func(f dsFixture) migration.FileTransferSpec {
				s := f.nfs()
				s.Source.AgentARNs = []string{"arn:aws:datasync:us-east-1:123456789012:agent/agent-0123456789abcdef0"}
				return s
			},
			wantErr: "not an activated agent",
		},
		{
			name: "an offline agent is reported",
			spec: dsFixture.nfs,
			setup: func(t *testing.T, f dsFixture) {
				f.cloud.DataSync().SetAgentStatus(f.agent, dstypes.AgentStatusOffline)
			},
			wantAction: migration.ActionCreate, wantWrites: []string{"CreateLocationNfs"}, wantNote: "is OFFLINE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newDSFixture(t)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			f.cloud.ResetCalls()
			report := &migration.Report{}
			f.env.Reporter, f.env.DryRun = report, tt.dryRun
			spec := tt.spec(f)
			loc, err := migration.EnsureSourceLocation(ctx, f.env, f.cloud.DataSync(), f.cloud.SecretsManager(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure datasync location "datasync-source-files-dev"`)
				assert.Empty(t, f.cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			c := report.Changes()[0]
			assert.Equal(t, tt.wantAction, c.Action)
			assert.Equal(t, tt.wantWrites, writeOps(f.cloud))
			var fields []string
			for _, d := range c.Diff {
				fields = append(fields, d.Field)
			}
			assert.Equal(t, tt.wantDiff, fields)
			assert.Equal(t, tt.wantReads, f.secretReads())
			assert.Contains(t, c.Note, tt.wantNote)
			if tt.dryRun {
				assert.True(t, migration.IsPending(loc.ARN))
				assert.Zero(t, f.secretReads(), "a plan reads no secret")
				return
			}
			if spec.Source.Protocol == migration.ProtocolSMB {
				assert.Equal(t, fakecloud.SMBPasswordFingerprint("s3cr3t-Pa55"), f.cloud.DataSync().LocationPasswordFingerprint(loc.ARN))
				d, err := f.cloud.DataSync().DescribeLocationSmb(ctx, &datasync.DescribeLocationSmbInput{LocationArn: aws.String(loc.ARN)})
				require.NoError(t, err)
				assert.Equal(t, "smb://fs01.corp.example.com/share/", aws.ToString(d.LocationUri))
				assert.Equal(t, "CORP", aws.ToString(d.Domain))
			}
			b, err := json.Marshal(report)
			require.NoError(t, err)
			assert.NotContains(t, string(b), "s3cr3t", "the password appears in no change")
		})
	}
}

// agent2 activates a second agent.
func agent2(f dsFixture) string { return f.cloud.DataSync().AddAgent("onprem-agent-2") }

func TestSMBPasswordNeverLeaks(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	var logs strings.Builder
	f.env.Logger = newTextLogger(&logs)
	f.putSecret(t, "plain-Secret-99")
	_, err := migration.EnsureSourceLocation(ctx, f.env, f.cloud.DataSync(), f.cloud.SecretsManager(), f.smb())
	require.NoError(t, err)
	loc := f.cloud.DataSync().Locations()[0]
	assert.Equal(t, fakecloud.SMBPasswordFingerprint("plain-Secret-99"), f.cloud.DataSync().LocationPasswordFingerprint(loc), "a plain-string secret is the password")

	// Rotation: RefreshSMBPassword hands the new value to DataSync.
	f.putSecret(t, `{"password":"rotated-Secret-100"}`)
	require.NoError(t, migration.RefreshSMBPassword(ctx, f.env, f.cloud.DataSync(), f.cloud.SecretsManager(), f.smb()))
	assert.Equal(t, fakecloud.SMBPasswordFingerprint("rotated-Secret-100"), f.cloud.DataSync().LocationPasswordFingerprint(loc))

	// A malformed secret fails without echoing it.
	f.putSecret(t, `{"user":"x","pw":"leaky-Value-1"}`)
	err = migration.RefreshSMBPassword(ctx, f.env, f.cloud.DataSync(), f.cloud.SecretsManager(), f.smb())
	require.ErrorContains(t, err, `without a "password" key`)
	assert.NotContains(t, err.Error(), "leaky-Value-1")
	for _, s := range []string{"plain-Secret-99", "rotated-Secret-100", "leaky-Value-1"} {
		assert.NotContains(t, logs.String(), s)
	}
}

func TestEnsureS3Location(t *testing.T) {
	ctx := context.Background()
	t.Run("a new role not yet assumable is retried", func(t *testing.T) {
		f := newDSFixture(t)
		_, err := migration.EnsureBucket(ctx, f.env, f.cloud.S3(), migration.BucketSpec{KMSKeyARN: f.key})
		require.NoError(t, err)
		// IAM propagation: the new role is invisible for its first three reads.
		f.cloud.SetFaults(fakecloud.Faults{NotFoundReads: 3})
		role := migration.DataSyncRoleSpec(f.env, f.nfs())
		_, err = f.cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role.Name), AssumeRolePolicyDocument: aws.String(role.Trust.JSON())})
		require.NoError(t, err)
		f.cloud.ResetCalls()
		loc, err := migration.EnsureS3Location(ctx, f.env, f.cloud.DataSync(), f.nfs())
		require.NoError(t, err)
		f.cloud.SetFaults(fakecloud.Faults{})
		assert.Greater(t, f.cloud.Count("DataSync", "CreateLocationS3"), 1, "retried while DataSync could not assume the role")
		assert.Equal(t, []string{loc.ARN}, f.cloud.DataSync().Locations())
	})
	t.Run("subdirectory drift converges, then noop", func(t *testing.T) {
		f := newDSFixture(t)
		_, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
		require.NoError(t, err)
		spec := f.nfs()
		spec.BucketSubdirectory = "/share-v2"
		f.cloud.ResetCalls()
		report := &migration.Report{}
		f.env.Reporter = report
		_, err = migration.EnsureS3Location(ctx, f.env, f.cloud.DataSync(), spec)
		require.NoError(t, err)
		assert.Equal(t, []string{"UpdateLocationS3"}, writeOps(f.cloud))
		assert.Equal(t, migration.ActionUpdate, report.Changes()[0].Action)
		f.cloud.ResetCalls()
		_, err = migration.EnsureS3Location(ctx, f.env, f.cloud.DataSync(), spec)
		require.NoError(t, err)
		assert.Empty(t, f.cloud.Writes())
	})
	t.Run("the bucket is immutable", func(t *testing.T) {
		f := newDSFixture(t)
		_, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
		require.NoError(t, err)
		// A location of the env's name on another bucket.
		require.NoError(t, migration.DeleteS3Location(ctx, f.env, f.cloud.DataSync(), f.nfs()))
		_, err = f.cloud.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("other-bucket-dev")})
		require.NoError(t, err)
		_, err = f.cloud.DataSync().CreateLocationS3(ctx, &datasync.CreateLocationS3Input{S3BucketArn: aws.String("arn:aws:s3:::other-bucket-dev"),
			S3Config: &dstypes.S3Config{BucketAccessRoleArn: aws.String(migration.RoleARN(f.env, migration.DataSyncRoleSpec(f.env, f.nfs())))},
			Tags:     []dstypes.TagListEntry{{Key: aws.String("Name"), Value: aws.String("datasync-target-files-dev")}, {Key: aws.String(migration.OwnerTag), Value: aws.String("dev")}}})
		require.NoError(t, err)
		f.cloud.ResetCalls()
		_, err = migration.EnsureS3Location(ctx, f.env, f.cloud.DataSync(), f.nfs())
		require.ErrorContains(t, err, "bucket is immutable")
		assert.Empty(t, f.cloud.Writes())
	})
}

func TestEnsureTransferTask(t *testing.T) {
	ctx := context.Background()
	base := func(t *testing.T, f dsFixture) migration.FileTransfer {
		ft, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
		require.NoError(t, err)
		return ft
	}
	tests := []struct {
		name       string
		spec       func(migration.FileTransferSpec) migration.FileTransferSpec
		setup      func(t *testing.T, f dsFixture, ft migration.FileTransfer) migration.TaskLinks
		dryRun     bool
		deleteTask bool
		wantAction migration.Action
		wantWrites []string
		wantDiff   []string
		wantErr    string
	}{
		{name: "missing is created and waited for", deleteTask: true, wantAction: migration.ActionCreate, wantWrites: []string{"CreateTask"}},
		{name: "converged makes no write", wantAction: migration.ActionNoop},
		{
			name: "bandwidth and log level converge",
			spec: func(s migration.FileTransferSpec) migration.FileTransferSpec {
				s.BytesPerSecond, s.LogLevel = 50<<20, "TRANSFER"
				return s
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateTask"}, wantDiff: []string{"bytesPerSecond", "logLevel"},
		},
		{
			name: "verify mode drift made by hand converges",
			setup: func(t *testing.T, f dsFixture, ft migration.FileTransfer) migration.TaskLinks {
				_, err := f.cloud.DataSync().UpdateTask(ctx, &datasync.UpdateTaskInput{TaskArn: aws.String(ft.Task.ARN), Options: &dstypes.Options{VerifyMode: dstypes.VerifyModeNone, TransferMode: dstypes.TransferModeAll}})
				require.NoError(t, err)
				return links(ft)
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateTask"}, wantDiff: []string{"verifyMode", "transferMode"},
		},
		{
			name: "the locations are immutable",
			setup: func(t *testing.T, f dsFixture, ft migration.FileTransfer) migration.TaskLinks {
				l := links(ft)
				l.SourceLocationARN = l.DestinationLocationARN
				return l
			},
			wantErr: "locations are immutable",
		},
		{
			name: "pending parents report create without calling AWS", dryRun: true, deleteTask: true,
			setup: func(t *testing.T, f dsFixture, ft migration.FileTransfer) migration.TaskLinks {
				l := links(ft)
				l.SourceLocationARN = migration.Pending("datasync-source-files-dev")
				return l
			},
			wantAction: migration.ActionCreate,
		},
		{
			name: "a same-named task without the ownership tag is not adopted", deleteTask: true,
			setup: func(t *testing.T, f dsFixture, ft migration.FileTransfer) migration.TaskLinks {
				_, err := f.cloud.DataSync().CreateTask(ctx, &datasync.CreateTaskInput{Name: aws.String("datasync-task-files-dev"),
					SourceLocationArn: aws.String(ft.SourceLocation.ARN), DestinationLocationArn: aws.String(ft.TargetLocation.ARN)})
				require.NoError(t, err)
				return links(ft)
			},
			wantAction: migration.ActionCreate, wantWrites: []string{"CreateTask"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newDSFixture(t)
			ft := base(t, f)
			if tt.deleteTask {
				require.NoError(t, migration.DeleteTransferTask(ctx, f.env, f.cloud.DataSync(), f.nfs()))
			}
			l := links(ft)
			if tt.setup != nil {
				l = tt.setup(t, f, ft)
			}
			spec := f.nfs()
			if tt.spec != nil {
				spec = tt.spec(spec)
			}
			f.cloud.ResetCalls()
			report := &migration.Report{}
			f.env.Reporter, f.env.DryRun = report, tt.dryRun
			task, err := migration.EnsureTransferTask(ctx, f.env, f.cloud.DataSync(), spec, l)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, f.cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			c := report.Changes()[0]
			assert.Equal(t, tt.wantAction, c.Action)
			assert.Equal(t, tt.wantWrites, writeOps(f.cloud))
			var fields []string
			for _, d := range c.Diff {
				fields = append(fields, d.Field)
			}
			assert.Equal(t, tt.wantDiff, fields)
			if tt.dryRun {
				assert.Empty(t, f.cloud.Calls(), "no call at all with a pending parent")
				return
			}
			d, err := f.cloud.DataSync().DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(task.ARN)})
			require.NoError(t, err)
			assert.Equal(t, dstypes.TaskStatusAvailable, d.Status)
			assert.Equal(t, dstypes.VerifyModeOnlyFilesTransferred, d.Options.VerifyMode)
			assert.Equal(t, spec.BytesPerSecond, aws.ToInt64(d.Options.BytesPerSecond))
		})
	}
}

func links(ft migration.FileTransfer) migration.TaskLinks {
	return migration.TaskLinks{SourceLocationARN: ft.SourceLocation.ARN, DestinationLocationARN: ft.TargetLocation.ARN, LogGroupARN: ft.LogGroup.ARN}
}

func TestTransferTwoTerabytesThenIncremental(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	ft, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	const twoTB = int64(2) << 40
	f.cloud.DataSync().SetSourceData(ft.SourceLocation.ARN, twoTB, 4_000_000)

	exec, err := migration.StartTransfer(ctx, f.env, f.cloud.DataSync(), ft.Task.ARN)
	require.NoError(t, err)
	// A re-run after a crash finds the running execution.
	f.cloud.ResetCalls()
	again, err := migration.StartTransfer(ctx, f.env, f.cloud.DataSync(), ft.Task.ARN)
	require.NoError(t, err)
	assert.Equal(t, exec, again)
	assert.Zero(t, f.cloud.Count("DataSync", "StartTaskExecution"), "no second execution")

	rec := &recorder{}
	start := f.cloud.Clock().Now()
	st, err := migration.WaitTransfer(ctx, f.env, f.cloud.DataSync(), exec, rec, time.Minute, 12*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "SUCCESS", st.Status)
	assert.Equal(t, twoTB, st.BytesDone)
	assert.Equal(t, ft.Task.ARN, st.Task)
	// 2 TiB at 100 MiB/s is 20 972 s: the bandwidth limit holds.
	assert.GreaterOrEqual(t, f.cloud.Clock().Now().Sub(start), 20972*time.Second)
	seen := map[string]bool{}
	var last int64
	for _, r := range rec.transfers {
		seen[r.Status] = true
		assert.GreaterOrEqual(t, r.BytesDone, last, "progress never goes back")
		last = r.BytesDone
	}
	for _, s := range []string{"PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"} {
		assert.True(t, seen[s], "recorded %s", s)
	}
	assert.Positive(t, f.cloud.S3().ObjectVersions(ft.Bucket.Name), "the files landed in the bucket")

	// Incremental: only what changed moves.
	f.cloud.DataSync().ChangeSourceData(ft.SourceLocation.ARN, 10<<30, 1200)
	exec2, err := migration.StartTransfer(ctx, f.env, f.cloud.DataSync(), ft.Task.ARN)
	require.NoError(t, err)
	assert.NotEqual(t, exec, exec2)
	st, err = migration.WaitTransfer(ctx, f.env, f.cloud.DataSync(), exec2, nil, time.Minute, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, int64(10<<30), st.BytesTotal)
}

func TestWaitTransferFailure(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	ft, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	f.cloud.DataSync().SetSourceData(ft.SourceLocation.ARN, 1<<30, 100)
	f.cloud.DataSync().FailNextExecution(ft.Task.ARN, "SockTimeout", "Connection to the NFS server timed out")
	exec, err := migration.StartTransfer(ctx, f.env, f.cloud.DataSync(), ft.Task.ARN)
	require.NoError(t, err)
	rec := &recorder{}
	st, err := migration.WaitTransfer(ctx, f.env, f.cloud.DataSync(), exec, rec, time.Minute, time.Hour)
	require.ErrorIs(t, err, migration.ErrTransferFailed)
	assert.Contains(t, err.Error(), "SockTimeout")
	assert.Equal(t, "ERROR", st.Status)
	assert.Equal(t, "ERROR", rec.transfers[len(rec.transfers)-1].Status, "the failure is recorded")

	// ReadTransfer reports the same status; a recorder failure surfaces.
	st, err = migration.ReadTransfer(ctx, f.env, f.cloud.DataSync(), exec, &recorder{fail: errors.New("table unavailable")})
	require.ErrorContains(t, err, "table unavailable")
	assert.Equal(t, "ERROR", st.Status)
}

func TestDeleteFileTransfer(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	ft, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.NoError(t, err)
	f.cloud.DataSync().SetSourceData(ft.SourceLocation.ARN, 1<<30, 100)
	exec, err := migration.StartTransfer(ctx, f.env, f.cloud.DataSync(), ft.Task.ARN)
	require.NoError(t, err)

	// While the transfer runs nothing is deleted.
	f.cloud.ResetCalls()
	err = migration.DeleteFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.ErrorIs(t, err, migration.ErrTransferRunning)
	assert.Empty(t, f.cloud.Writes())

	_, err = migration.WaitTransfer(ctx, f.env, f.cloud.DataSync(), exec, nil, time.Minute, time.Hour)
	require.NoError(t, err)

	// The bucket holds the migrated files: everything else goes, the
	// bucket and its files stay, and the error says why.
	err = migration.DeleteFileTransfer(ctx, f.env, f.clients(), f.nfs())
	require.ErrorIs(t, err, migration.ErrBucketNotEmpty)
	assert.Empty(t, f.cloud.DataSync().Tasks())
	assert.Empty(t, f.cloud.DataSync().Locations())
	assert.NotContains(t, f.cloud.IAM().Roles(), "datasync-s3-access-dev")
	assert.NotContains(t, f.cloud.Logs().LogGroups(), "/cutover/dev/datasync")
	assert.Equal(t, []string{ft.Bucket.Name}, f.cloud.S3().Buckets())
	assert.Positive(t, f.cloud.S3().ObjectVersions(ft.Bucket.Name))

	// Deliberately forced: the bucket goes too; a second delete is a no-op.
	forced := f.nfs()
	forced.ForceDeleteObjects = true
	require.NoError(t, migration.DeleteFileTransfer(ctx, f.env, f.clients(), forced))
	assert.Empty(t, f.cloud.S3().Buckets())
	f.cloud.ResetCalls()
	require.NoError(t, migration.DeleteFileTransfer(ctx, f.env, f.clients(), forced))
	assert.Empty(t, f.cloud.Writes())
}

func TestFileTransferSpecValidate(t *testing.T) {
	f := newDSFixture(t)
	tests := []struct {
		edit func(*migration.FileTransferSpec)
		want string
	}{
		{func(s *migration.FileTransferSpec) { s.Target = "fsx" }, "transfer.target: \"fsx\" is not s3 or efs"},
		{func(s *migration.FileTransferSpec) { s.Target = migration.FileTargetEFS }, "transfer.efs.vpcId"},
		{func(s *migration.FileTransferSpec) { s.EFSSubdirectory = "/x" }, "transfer.efs: set, but the target is s3"},
		{func(s *migration.FileTransferSpec) { s.Source.Protocol = "FTP" }, "transfer.source.protocol"},
		{func(s *migration.FileTransferSpec) { s.Source.ServerHostname = "bad host" }, "transfer.source.serverHostname"},
		{func(s *migration.FileTransferSpec) { s.Source.Subdirectory = "exports" }, "transfer.source.subdirectory"},
		{func(s *migration.FileTransferSpec) { s.Source.AgentARNs = nil }, "transfer.source.agentArns: 1 to 4"},
		{func(s *migration.FileTransferSpec) { s.Source.AgentARNs = []string{"agent-1"} }, "transfer.source.agentArns[0]"},
		{func(s *migration.FileTransferSpec) {
			s.Source.AgentARNs = []string{"arn:aws:datasync:us-west-2:123456789012:agent/agent-0123456789abcdef0"}
		}, "an agent serves one account and Region"},
		{func(s *migration.FileTransferSpec) { s.Source.SMBPasswordSecretARN = f.secretARN }, "SMB fields set on an NFS share"},
		{func(s *migration.FileTransferSpec) { s.Source.NFSVersion = "NFS2" }, "transfer.source.nfsVersion"},
		{func(s *migration.FileTransferSpec) {
			s.Source.Protocol, s.Source.SMBUser = migration.ProtocolSMB, "svc"
		}, "transfer.source.smbPasswordSecretArn"},
		{func(s *migration.FileTransferSpec) { s.KMSKeyARN = "" }, "transfer.kmsKeyArn"},
		{func(s *migration.FileTransferSpec) { s.BytesPerSecond = 0 }, "transfer.bytesPerSecond"},
		{func(s *migration.FileTransferSpec) { s.LogLevel = "OFF" }, "transfer.logLevel"},
		{func(s *migration.FileTransferSpec) { s.LogRetentionDays = 2 }, "transfer.logRetentionDays"},
		{func(s *migration.FileTransferSpec) { s.BucketSubdirectory = "share" }, "transfer.bucketSubdirectory"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			spec := f.nfs()
			tt.edit(&spec)
			f.cloud.ResetCalls()
			_, err := migration.EnsureFileTransfer(context.Background(), f.env, f.clients(), spec)
			require.ErrorContains(t, err, tt.want)
			require.Error(t, migration.DeleteFileTransfer(context.Background(), f.env, f.clients(), spec))
			assert.Empty(t, f.cloud.Calls(), "validation happens before any call")
		})
	}
}

func ExampleEnsureFileTransfer() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	key, _ := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
	agent := cloud.DataSync().AddAgent("onprem-agent-1") // activated on the agent VM
	spec := migration.FileTransferSpec{
		Source:         migration.FileShareSpec{Protocol: migration.ProtocolNFS, ServerHostname: "files.corp.example.com", Subdirectory: "/exports/share", AgentARNs: []string{agent}},
		KMSKeyARN:      key.ARN,
		BytesPerSecond: 100 << 20,
	}
	clients := migration.FileTransferClients{S3: cloud.S3(), DataSync: cloud.DataSync(), IAM: cloud.IAM(), Logs: cloud.Logs()}
	ft, err := migration.EnsureFileTransfer(ctx, env, clients, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	cloud.DataSync().SetSourceData(ft.SourceLocation.ARN, 50<<30, 10_000)
	exec, _ := migration.StartTransfer(ctx, env, cloud.DataSync(), ft.Task.ARN)
	st, err := migration.WaitTransfer(ctx, env, cloud.DataSync(), exec, nil, time.Minute, 6*time.Hour)
	fmt.Println(ft.Task.Name, st.Status, st.BytesDone>>30, "GiB", err)
	// Output:
	// datasync-task-files-dev SUCCESS 50 GiB <nil>
}

func newTextLogger(w *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestEnsureDataSyncLogs(t *testing.T) {
	ctx := context.Background()
	f := newDSFixture(t)
	// Another team's resource policy shares the account's ten slots.
	_, err := f.cloud.Logs().PutResourcePolicy(ctx, &cloudwatchlogs.PutResourcePolicyInput{PolicyName: aws.String("route53-query-logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"route53.amazonaws.com"},"Action":"logs:PutLogEvents","Resource":"*"}]}`)})
	require.NoError(t, err)
	g, err := migration.EnsureDataSyncLogs(ctx, f.env, f.cloud.Logs(), f.nfs())
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/datasync", g.ARN)
	k, days, ok := f.cloud.Logs().LogGroupKey("/cutover/dev/datasync")
	require.True(t, ok)
	assert.Equal(t, f.key, k)
	assert.EqualValues(t, 90, days)

	// A policy widened by hand is put back.
	_, err = f.cloud.Logs().PutResourcePolicy(ctx, &cloudwatchlogs.PutResourcePolicyInput{PolicyName: aws.String("datasync-logs-dev"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"logs:*","Resource":"*"}]}`)})
	require.NoError(t, err)
	f.cloud.ResetCalls()
	report := &migration.Report{}
	f.env.Reporter = report
	_, err = migration.EnsureDataSyncLogs(ctx, f.env, f.cloud.Logs(), f.nfs())
	require.NoError(t, err)
	assert.Equal(t, []string{"PutResourcePolicy"}, writeOps(f.cloud))
	assert.Equal(t, map[string][]migration.Action{migration.KindLogGroup: {"noop"}, migration.KindLogsPolicy: {"update"}}, changesByKind(report))

	// Delete removes ours and leaves the other team's.
	require.NoError(t, migration.DeleteDataSyncLogs(ctx, f.env, f.cloud.Logs(), f.nfs()))
	pols, err := f.cloud.Logs().DescribeResourcePolicies(ctx, &cloudwatchlogs.DescribeResourcePoliciesInput{})
	require.NoError(t, err)
	require.Len(t, pols.ResourcePolicies, 1)
	assert.Equal(t, "route53-query-logs", aws.ToString(pols.ResourcePolicies[0].PolicyName))
	assert.NotContains(t, f.cloud.Logs().LogGroups(), "/cutover/dev/datasync")
	f.cloud.ResetCalls()
	require.NoError(t, migration.DeleteDataSyncLogs(ctx, f.env, f.cloud.Logs(), f.nfs()))
	assert.Empty(t, f.cloud.Writes())
}

// A crash at any write of a fresh apply — the write done, its answer
// lost — leaves nothing a re-run duplicates: DataSync takes no client
// token, so the re-run finds each resource by name and ownership tag.
func TestEnsureFileTransferCrashAtEveryWrite(t *testing.T) {
	ctx := context.Background()
	probe := newDSFixture(t)
	probe.cloud.ResetCalls()
	_, err := migration.EnsureFileTransfer(ctx, probe.env, probe.clients(), probe.smb())
	require.NoError(t, err)
	writes := len(probe.cloud.Writes())
	require.Greater(t, writes, 8)
	for k := 1; k <= writes; k++ {
		for _, after := range []bool{true, false} {
			f := newDSFixture(t)
			f.cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k, CrashAfter: after})
			_, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.smb())
			require.Error(t, err, "write %d", k)
			f.cloud.Restart()
			_, err = migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.smb())
			require.NoError(t, err, "write %d (crash after: %v)", k, after)
			assert.Len(t, f.cloud.DataSync().Tasks(), 1, "write %d", k)
			assert.Len(t, f.cloud.DataSync().Locations(), 2, "write %d", k)
			assert.Len(t, f.cloud.S3().Buckets(), 1, "write %d", k)
			// Converged: one more apply writes nothing.
			f.cloud.ResetCalls()
			_, err = migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.smb())
			require.NoError(t, err)
			assert.Empty(t, f.cloud.Writes(), "write %d (crash after: %v)", k, after)
		}
	}
}
