package migration_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
)

// efsTransferFixture is a dsFixture with the network of an EFS target: a
// VPC, private subnets in two zones and the app servers' group.
type efsTransferFixture struct {
	dsFixture
	vpc     string
	subnets []string
	app     string
}

func newEFSTransferFixture(t *testing.T) efsTransferFixture {
	t.Helper()
	ctx := context.Background()
	f := efsTransferFixture{dsFixture: newDSFixture(t)}
	v, err := f.cloud.EC2().CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	f.vpc = aws.ToString(v.Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := f.cloud.EC2().CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", 10+i)), AvailabilityZone: aws.String(az)})
		require.NoError(t, err)
		f.subnets = append(f.subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	g, err := f.cloud.EC2().CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: v.Vpc.VpcId, GroupName: aws.String("cutover-sg-app-dev"), Description: aws.String("app")})
	require.NoError(t, err)
	f.app = aws.ToString(g.GroupId)
	return f
}

func (f efsTransferFixture) efsSpec() migration.FileTransferSpec {
	s := f.nfs()
	s.Target, s.BucketSubdirectory, s.EFSSubdirectory = migration.FileTargetEFS, "", "/share"
	s.EFS = migration.FileSystemSpec{VPCID: f.vpc, SubnetIDs: f.subnets, ClientSecurityGroupIDs: []string{f.app}}
	return s
}

func (f efsTransferFixture) efsClients() migration.FileTransferClients {
	c := f.clients()
	c.S3, c.EFS, c.EC2 = nil, f.cloud.EFS(), f.cloud.EC2()
	return c
}

func TestEFSFileTransferEndToEnd(t *testing.T) {
	ctx := context.Background()
	f := newEFSTransferFixture(t)
	f.cloud.ResetCalls()
	report := &migration.Report{}
	f.env.Reporter = report
	ft, err := migration.EnsureFileTransfer(ctx, f.env, f.efsClients(), f.efsSpec())
	require.NoError(t, err)
	assert.Equal(t, map[string][]migration.Action{
		migration.KindRole: {"create"}, migration.KindLogGroup: {"create"}, migration.KindLogsPolicy: {"create"},
		migration.KindDataSyncLocation: {"create", "create"}, migration.KindSecurityGroup: {"create"}, migration.KindFileSystem: {"create"},
		migration.KindMountTarget: {"create", "create"}, migration.KindDataSyncTask: {"create"},
	}, changesByKind(report))
	assert.Zero(t, f.cloud.Count("S3", ""), "no bucket for an EFS target")
	assert.Equal(t, "datasync-efs-access-dev", ft.Role.Name)
	assert.Empty(t, ft.Bucket.Name)

	// The file system gives root to DataSync's role only, over TLS.
	pol := migration.FileSystemPolicy(ft.FileSystem.ARN, migration.FileSystemSpec{RootAccessRoleARNs: []string{ft.Role.ARN}})
	assert.True(t, migration.PolicyEqual(policyOf(t, efsFixture{cloud: f.cloud}, ft.FileSystem.ID), pol.JSON()))
	assert.Equal(t, migration.Strings{ft.Role.ARN}, pol.Statement[1].Principal.AWS)
	role := migration.DataSyncEFSRoleSpec(f.env)
	assert.Empty(t, role.Inline, "the file system policy grants the role; it needs no permissions policy")
	assert.Equal(t, migration.Strings{"123456789012"}, role.Trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"])

	// The location: the file system, the first subnet, the mount
	// targets' group, TLS and the role.
	d, err := f.cloud.DataSync().DescribeLocationEfs(ctx, &datasync.DescribeLocationEfsInput{LocationArn: aws.String(ft.TargetLocation.ARN)})
	require.NoError(t, err)
	assert.Equal(t, "efs://us-east-1."+ft.FileSystem.ID+"/share/", aws.ToString(d.LocationUri))
	assert.Equal(t, dstypes.EfsInTransitEncryptionTls12, d.InTransitEncryption)
	assert.Equal(t, ft.Role.ARN, aws.ToString(d.FileSystemAccessRoleArn))
	assert.Equal(t, "arn:aws:ec2:us-east-1:123456789012:subnet/"+f.subnets[0], aws.ToString(d.Ec2Config.SubnetArn))
	assert.Equal(t, []string{"arn:aws:ec2:us-east-1:123456789012:security-group/" + ft.FileSystem.SecurityGroupID}, d.Ec2Config.SecurityGroupArns)
	task, err := f.cloud.DataSync().DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(ft.Task.ARN)})
	require.NoError(t, err)
	assert.Equal(t, ft.TargetLocation.ARN, aws.ToString(task.DestinationLocationArn))
	assert.Equal(t, dstypes.VerifyModeOnlyFilesTransferred, task.Options.VerifyMode)

	// Converged: a second apply writes nothing.
	f.cloud.ResetCalls()
	again := &migration.Report{}
	f.env.Reporter = again
	ft2, err := migration.EnsureFileTransfer(ctx, f.env, f.efsClients(), f.efsSpec())
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.False(t, again.HasChanges(), again.Summary())
	assert.Equal(t, ft, ft2)

	// 2 TiB onto the file system, then an incremental pass.
	const twoTB = int64(2) << 40
	f.cloud.DataSync().SetSourceData(ft.SourceLocation.ARN, twoTB, 4_000_000)
	exec, err := migration.StartTransfer(ctx, f.env, f.cloud.DataSync(), ft.Task.ARN)
	require.NoError(t, err)

	// While it runs nothing is deleted.
	f.cloud.ResetCalls()
	require.ErrorIs(t, migration.DeleteFileTransfer(ctx, f.env, f.efsClients(), f.efsSpec()), migration.ErrTransferRunning)
	assert.Empty(t, f.cloud.Writes())

	rec := &recorder{}
	st, err := migration.WaitTransfer(ctx, f.env, f.cloud.DataSync(), exec, rec, time.Minute, 12*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "SUCCESS", st.Status)
	assert.Equal(t, twoTB, st.BytesDone)
	assert.Equal(t, twoTB, f.cloud.EFS().FileSystemBytes(ft.FileSystem.ID), "the files are on the file system")
	assert.Equal(t, "SUCCESS", rec.transfers[len(rec.transfers)-1].Status, "progress is recorded")
	f.cloud.DataSync().ChangeSourceData(ft.SourceLocation.ARN, 10<<30, 1200)
	exec2, err := migration.StartTransfer(ctx, f.env, f.cloud.DataSync(), ft.Task.ARN)
	require.NoError(t, err)
	st, err = migration.WaitTransfer(ctx, f.env, f.cloud.DataSync(), exec2, nil, time.Minute, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, int64(10<<30), st.BytesTotal, "only what changed moves")

	// The file system holds the migrated files: everything else goes; the
	// file system, its network and the role its policy names stay.
	err = migration.DeleteFileTransfer(ctx, f.env, f.efsClients(), f.efsSpec())
	require.ErrorIs(t, err, migration.ErrFileSystemNotEmpty)
	assert.Empty(t, f.cloud.DataSync().Tasks())
	assert.Empty(t, f.cloud.DataSync().Locations())
	assert.NotContains(t, f.cloud.Logs().LogGroups(), "/cutover/dev/datasync")
	assert.Equal(t, []string{ft.FileSystem.ID}, f.cloud.EFS().FileSystems())
	assert.Len(t, f.cloud.EFS().MountTargets(ft.FileSystem.ID), 2)
	assert.Contains(t, f.cloud.EC2().SecurityGroups(), ft.FileSystem.SecurityGroupID)
	assert.Contains(t, f.cloud.IAM().Roles(), "datasync-efs-access-dev")

	// Deliberately forced: all of it goes; a second delete is a no-op.
	forced := f.efsSpec()
	forced.EFS.ForceDeleteData = true
	require.NoError(t, migration.DeleteFileTransfer(ctx, f.env, f.efsClients(), forced))
	assert.Empty(t, f.cloud.EFS().FileSystems())
	assert.NotContains(t, f.cloud.EC2().SecurityGroups(), ft.FileSystem.SecurityGroupID)
	assert.NotContains(t, f.cloud.IAM().Roles(), "datasync-efs-access-dev")
	f.cloud.ResetCalls()
	require.NoError(t, migration.DeleteFileTransfer(ctx, f.env, f.efsClients(), forced))
	assert.Empty(t, f.cloud.Writes())
}

func TestEFSFileTransferDryRunThenApply(t *testing.T) {
	ctx := context.Background()
	f := newEFSTransferFixture(t)
	f.cloud.ResetCalls()
	report := &migration.Report{}
	f.env.Reporter, f.env.DryRun = report, true
	_, err := migration.EnsureFileTransfer(ctx, f.env, f.efsClients(), f.efsSpec())
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes(), "a plan writes nothing")
	// role, log group, logs policy, source, group, file system, 2 mount
	// targets, target location, task.
	assert.Equal(t, 10, report.Counts()[migration.ActionCreate], report.Summary())
	assert.Zero(t, f.cloud.Count("DataSync", "DescribeTask")+f.cloud.Count("DataSync", "CreateLocationEfs"), "children of pending parents are not looked at")

	f.env.DryRun = false
	_, err = migration.EnsureFileTransfer(ctx, f.env, f.efsClients(), f.efsSpec())
	require.NoError(t, err)
	assert.Len(t, f.cloud.EFS().FileSystems(), 1)
}

func TestEnsureEFSLocation(t *testing.T) {
	ctx := context.Background()
	base := func(t *testing.T, f efsTransferFixture) migration.FileTransfer {
		t.Helper()
		ft, err := migration.EnsureFileTransfer(ctx, f.env, f.efsClients(), f.efsSpec())
		require.NoError(t, err)
		require.NoError(t, migration.DeleteTransferTask(ctx, f.env, f.cloud.DataSync(), f.efsSpec()))
		return ft
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, f efsTransferFixture, ft migration.FileTransfer) migration.FileSystem
		spec       func(s migration.FileTransferSpec) migration.FileTransferSpec
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantDiff   []string
		wantErr    string
	}{
		{name: "converged makes no write", wantAction: migration.ActionNoop},
		{
			name: "the subdirectory converges",
			spec: func(s migration.FileTransferSpec) migration.FileTransferSpec {
				s.EFSSubdirectory = "/files"
				return s
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateLocationEfs"}, wantDiff: []string{"subdirectory"},
		},
		{
			name: "another file system is refused",
			setup: func(t *testing.T, f efsTransferFixture, ft migration.FileTransfer) migration.FileSystem {
				fs := ft.FileSystem
				fs.ID, fs.ARN = "fs-0123456789abcdef0", "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
				return fs
			},
			wantErr: "file system is immutable",
		},
		{
			name: "another network configuration is refused",
			setup: func(t *testing.T, f efsTransferFixture, ft migration.FileTransfer) migration.FileSystem {
				fs := ft.FileSystem
				fs.SecurityGroupID = f.app
				return fs
			},
			wantErr: "ec2Config is immutable",
		},
		{
			name: "the env's S3 location is refused, never replaced",
			setup: func(t *testing.T, f efsTransferFixture, ft migration.FileTransfer) migration.FileSystem {
				require.NoError(t, migration.DeleteEFSLocation(ctx, f.env, f.cloud.DataSync(), f.efsSpec()))
				_, err := migration.EnsureFileTransfer(ctx, f.env, f.clients(), f.nfs())
				require.NoError(t, err)
				return ft.FileSystem
			},
			wantErr: "file system is immutable",
		},
		{
			name: "a pending file system reports create without calling AWS", dryRun: true,
			setup: func(t *testing.T, f efsTransferFixture, ft migration.FileTransfer) migration.FileSystem {
				return migration.FileSystem{ID: migration.Pending("migration-files-dev"), ARN: migration.Pending("migration-files-dev"), SecurityGroupID: migration.Pending("sg-efs-dev")}
			},
			wantAction: migration.ActionCreate,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEFSTransferFixture(t)
			ft := base(t, f)
			fs := ft.FileSystem
			if tt.setup != nil {
				fs = tt.setup(t, f, ft)
			}
			spec := f.efsSpec()
			if tt.spec != nil {
				spec = tt.spec(spec)
			}
			f.cloud.ResetCalls()
			report := &migration.Report{}
			f.env.Reporter, f.env.DryRun = report, tt.dryRun
			loc, err := migration.EnsureEFSLocation(ctx, f.env, f.cloud.DataSync(), spec, fs)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure datasync location "datasync-target-files-dev"`)
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
				assert.Empty(t, f.cloud.Calls())
				assert.True(t, migration.IsPending(loc.ARN))
				return
			}
			d, err := f.cloud.DataSync().DescribeLocationEfs(ctx, &datasync.DescribeLocationEfsInput{LocationArn: aws.String(loc.ARN)})
			require.NoError(t, err)
			assert.Equal(t, "efs://us-east-1."+fs.ID+spec.EFSSubdirectory+"/", aws.ToString(d.LocationUri))
		})
	}
}

func TestEFSFileTransferSpecValidate(t *testing.T) {
	f := newEFSTransferFixture(t)
	tests := []struct {
		edit func(*migration.FileTransferSpec)
		want string
	}{
		{func(s *migration.FileTransferSpec) { s.BucketSubdirectory = "/share" }, "transfer.bucketSubdirectory: set, but the target is efs"},
		{func(s *migration.FileTransferSpec) { s.ForceDeleteObjects = true }, "transfer.forceDeleteObjects"},
		{func(s *migration.FileTransferSpec) { s.EFS.KMSKeyARN = f.key }, "transfer.efs.kmsKeyArn: leave empty"},
		{func(s *migration.FileTransferSpec) {
			s.EFS.RootAccessRoleARNs = []string{"arn:aws:iam::123456789012:role/admin"}
		}, "transfer.efs.rootAccessRoleArns"},
		{func(s *migration.FileTransferSpec) { s.EFSSubdirectory = "share" }, "transfer.efsSubdirectory"},
		{func(s *migration.FileTransferSpec) { s.EFS.SubnetIDs = nil }, "transfer.efs.subnetIds: 1 to 16"},
		{func(s *migration.FileTransferSpec) { s.EFS.ClientSecurityGroupIDs = []string{"app"} }, "transfer.efs.clientSecurityGroupIds[0]"},
		{func(s *migration.FileTransferSpec) { s.EFS.ThroughputMode = "fast" }, "transfer.efs.throughputMode"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			spec := f.efsSpec()
			tt.edit(&spec)
			f.cloud.ResetCalls()
			_, err := migration.EnsureFileTransfer(context.Background(), f.env, f.efsClients(), spec)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, migration.DeleteFileTransfer(context.Background(), f.env, f.efsClients(), spec), tt.want)
			assert.Empty(t, f.cloud.Calls(), "validation happens before any call")
		})
	}
	t.Run("an EFS target needs the EFS and EC2 clients", func(t *testing.T) {
		c := f.efsClients()
		c.EC2 = nil
		f.cloud.ResetCalls()
		_, err := migration.EnsureFileTransfer(context.Background(), f.env, c, f.efsSpec())
		require.ErrorContains(t, err, "an EFS target needs the EFS and EC2 clients")
		assert.Empty(t, f.cloud.Calls())
	})
}
