package migration_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// efsFixture is an env with its key and the network the network package
// would have made: a VPC, a private subnet in each of three zones and the
// application servers' security group.
type efsFixture struct {
	env     migration.Env
	cloud   *fakecloud.Cloud
	key     string
	vpc     string
	subnets []string // us-east-1a, b, c
	app     string
}

func newEFSFixture(t *testing.T) efsFixture {
	t.Helper()
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	env.Reporter = nil
	f := efsFixture{env: env, cloud: cloud, key: envKey(t, env, cloud)}
	v, err := cloud.EC2().CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	f.vpc = aws.ToString(v.Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		f.subnets = append(f.subnets, f.subnet(t, fmt.Sprintf("10.0.%d.0/24", 10+i), az))
	}
	g, err := cloud.EC2().CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(f.vpc), GroupName: aws.String("cutover-sg-app-dev"), Description: aws.String("app")})
	require.NoError(t, err)
	f.app = aws.ToString(g.GroupId)
	return f
}

func (f efsFixture) subnet(t *testing.T, cidr, az string) string {
	t.Helper()
	out, err := f.cloud.EC2().CreateSubnet(context.Background(), &ec2.CreateSubnetInput{VpcId: aws.String(f.vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
	require.NoError(t, err)
	return aws.ToString(out.Subnet.SubnetId)
}

func (f efsFixture) spec() migration.FileSystemSpec {
	return migration.FileSystemSpec{KMSKeyARN: f.key, VPCID: f.vpc, SubnetIDs: f.subnets[:2], ClientSecurityGroupIDs: []string{f.app}}
}

func (f efsFixture) clients() migration.FileSystemClients {
	return migration.FileSystemClients{EFS: f.cloud.EFS(), EC2: f.cloud.EC2()}
}

// seqReport keeps the changes in the order they were reported, and the
// Report of them.
type seqReport struct {
	mu  sync.Mutex
	seq []migration.Change
	all migration.Report
}

func (r *seqReport) Report(c migration.Change) {
	r.mu.Lock()
	r.seq = append(r.seq, c)
	r.mu.Unlock()
	r.all.Report(c)
}

// HasChanges reports whether anything but a noop was reported.
func (r *seqReport) HasChanges() bool { return r.all.HasChanges() }

// Summary is the Report's summary line.
func (r *seqReport) Summary() string { return r.all.Summary() }

// of returns the changes of one kind, in order.
func (r *seqReport) of(kind string) []migration.Change {
	var out []migration.Change
	for _, c := range r.seq {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// ensure runs EnsureFileSystem with a fresh report.
func (f efsFixture) ensure(t *testing.T, spec migration.FileSystemSpec) (migration.FileSystem, *seqReport, error) {
	t.Helper()
	return f.ensureWith(t, f.clients(), spec)
}

func (f efsFixture) ensureWith(t *testing.T, c migration.FileSystemClients, spec migration.FileSystemSpec) (migration.FileSystem, *seqReport, error) {
	t.Helper()
	report := &seqReport{}
	env := f.env
	env.Reporter = report
	fs, err := migration.EnsureFileSystem(context.Background(), env, c, spec)
	return fs, report, err
}

// describe returns the file system as EFS sees it.
func (f efsFixture) describe(t *testing.T, id string) efstypes.FileSystemDescription {
	t.Helper()
	out, err := f.cloud.EFS().DescribeFileSystems(context.Background(), &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
	return out.FileSystems[0]
}

// groupRules renders a group's rules as "in tcp/2049 <peer>".
func (f efsFixture) groupRules(t *testing.T, id string) []string {
	t.Helper()
	out, err := f.cloud.EC2().DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	require.NoError(t, err)
	var rules []string
	render := func(dir string, perms []ec2types.IpPermission) {
		for _, p := range perms {
			port := fmt.Sprintf("%s/%d", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort))
			for _, g := range p.UserIdGroupPairs {
				rules = append(rules, dir+" "+port+" "+aws.ToString(g.GroupId))
			}
			for _, r := range p.IpRanges {
				rules = append(rules, dir+" "+port+" "+aws.ToString(r.CidrIp))
			}
		}
	}
	render("in", out.SecurityGroups[0].IpPermissions)
	render("out", out.SecurityGroups[0].IpPermissionsEgress)
	slices.Sort(rules)
	return rules
}

// kinds renders the changes "action kind", in the order reported.
func kinds(r *seqReport) []string {
	var out []string
	for _, c := range r.seq {
		out = append(out, string(c.Action)+" "+c.Kind)
	}
	return out
}

func diffFields(r *seqReport, kind string) []string {
	var out []string
	for _, c := range r.seq {
		if c.Kind == kind {
			for _, d := range c.Diff {
				out = append(out, d.Field)
			}
		}
	}
	return out
}

func TestEnsureFileSystemCreatesAndConverges(t *testing.T) {
	ctx := context.Background()
	f := newEFSFixture(t)
	f.cloud.ResetCalls()
	fs, report, err := f.ensure(t, f.spec())
	require.NoError(t, err)
	assert.Equal(t, []string{"create security-group", "create efs-file-system", "create efs-mount-target", "create efs-mount-target"}, kinds(report))
	assert.Equal(t, []string{
		"CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
		"CreateFileSystem", "PutLifecycleConfiguration", "PutFileSystemPolicy", "CreateMountTarget", "CreateMountTarget",
	}, writeOps(f.cloud))

	// The file system as EFS sees it.
	d := f.describe(t, fs.ID)
	assert.Equal(t, "migration-files-dev", fs.Name)
	assert.Equal(t, "cutover-migration-files-dev", aws.ToString(d.CreationToken))
	assert.True(t, aws.ToBool(d.Encrypted))
	assert.Equal(t, f.key, aws.ToString(d.KmsKeyId))
	assert.Equal(t, efstypes.PerformanceModeGeneralPurpose, d.PerformanceMode)
	assert.Equal(t, efstypes.ThroughputModeElastic, d.ThroughputMode)
	assert.Equal(t, efstypes.LifeCycleStateAvailable, d.LifeCycleState)
	tags := map[string]string{}
	for _, tg := range d.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	assert.Equal(t, f.env.NameTags("migration-files-dev"), tags)
	assert.Equal(t, fs.ID+".efs.us-east-1.amazonaws.com", fs.DNSName)
	bp, err := f.cloud.EFS().DescribeBackupPolicy(ctx, &efs.DescribeBackupPolicyInput{FileSystemId: aws.String(fs.ID)})
	require.NoError(t, err)
	assert.Equal(t, efstypes.StatusEnabled, bp.BackupPolicy.Status, "automatic backups are on by default")
	lc, err := f.cloud.EFS().DescribeLifecycleConfiguration(ctx, &efs.DescribeLifecycleConfigurationInput{FileSystemId: aws.String(fs.ID)})
	require.NoError(t, err)
	assert.Equal(t, []efstypes.LifecyclePolicy{{TransitionToIA: efstypes.TransitionToIARulesAfter30Days}, {TransitionToPrimaryStorageClass: efstypes.TransitionToPrimaryStorageClassRulesAfter1Access}}, lc.LifecyclePolicies)

	// The policy: TLS only, no anonymous root.
	pol, err := f.cloud.EFS().DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(fs.ID)})
	require.NoError(t, err)
	want := migration.FileSystemPolicy(fs.ARN, f.spec())
	assert.True(t, migration.PolicyEqual(aws.ToString(pol.Policy), want.JSON()))
	require.NoError(t, want.CheckLeastPrivilege())
	deny := want.Statement[0]
	assert.Equal(t, "Deny", deny.Effect)
	assert.Equal(t, migration.Strings{"false"}, deny.Condition["Bool"]["aws:SecureTransport"])
	for _, s := range want.Statement[1:] {
		assert.NotContains(t, s.Action, "elasticfilesystem:ClientRootAccess", "no root without RootAccessRoleARNs")
		assert.Equal(t, migration.Strings{"true"}, s.Condition["Bool"]["elasticfilesystem:AccessedViaMountTarget"])
	}

	// The group: NFS from the app servers and itself, NFS to itself, no
	// default egress.
	assert.Equal(t, []string{"in tcp/2049 " + f.app, "in tcp/2049 " + fs.SecurityGroupID, "out tcp/2049 " + fs.SecurityGroupID}, f.groupRules(t, fs.SecurityGroupID))

	// A mount target per subnet, available, in the group only.
	require.Len(t, fs.MountTargets, 2)
	for i, mt := range fs.MountTargets {
		assert.Equal(t, f.subnets[i], mt.SubnetID)
		out, err := f.cloud.EFS().DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{MountTargetId: aws.String(mt.ID)})
		require.NoError(t, err)
		assert.Equal(t, efstypes.LifeCycleStateAvailable, out.MountTargets[0].LifeCycleState)
		groups, err := f.cloud.EFS().DescribeMountTargetSecurityGroups(ctx, &efs.DescribeMountTargetSecurityGroupsInput{MountTargetId: aws.String(mt.ID)})
		require.NoError(t, err)
		assert.Equal(t, []string{fs.SecurityGroupID}, groups.SecurityGroups)
	}
	assert.Equal(t, []string{"us-east-1a", "us-east-1b"}, []string{fs.MountTargets[0].AvailabilityZone, fs.MountTargets[1].AvailabilityZone})

	// Converged: all noop, reads only.
	f.cloud.ResetCalls()
	again, report, err := f.ensure(t, f.spec())
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.False(t, report.HasChanges(), report.Summary())
	assert.Len(t, report.seq, 4)
	assert.Equal(t, fs, again)
}

func TestEnsureFileSystemTable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		setup      func(t *testing.T, f efsFixture, fs migration.FileSystem) // after a first Ensure, unless fresh
		fresh      bool                                                      // no first Ensure
		spec       func(f efsFixture) migration.FileSystemSpec
		dryRun     bool
		wantWrites []string
		wantKinds  []string
		wantDiff   map[string][]string
		wantErr    string
	}{
		{
			name: "throughput and lifecycle converge",
			spec: func(f efsFixture) migration.FileSystemSpec {
				s := f.spec()
				s.ThroughputMode, s.ProvisionedThroughputMiBps, s.TransitionToIA = "provisioned", 256, "NONE"
				return s
			},
			wantWrites: []string{"UpdateFileSystem", "PutLifecycleConfiguration"},
			wantKinds:  []string{"noop security-group", "update efs-file-system", "noop efs-mount-target", "noop efs-mount-target"},
			wantDiff:   map[string][]string{migration.KindFileSystem: {"throughputMode", "lifecycle"}},
		},
		{
			name: "drift made by hand converges",
			setup: func(t *testing.T, f efsFixture, fs migration.FileSystem) {
				x := f.cloud.EFS()
				_, err := x.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(fs.ID),
					Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)})
				require.NoError(t, err)
				_, err = x.PutBackupPolicy(ctx, &efs.PutBackupPolicyInput{FileSystemId: aws.String(fs.ID), BackupPolicy: &efstypes.BackupPolicy{Status: efstypes.StatusDisabled}})
				require.NoError(t, err)
				_, err = x.UntagResource(ctx, &efs.UntagResourceInput{ResourceId: aws.String(fs.ID), TagKeys: []string{migration.TagProject}})
				require.NoError(t, err)
				_, err = x.ModifyMountTargetSecurityGroups(ctx, &efs.ModifyMountTargetSecurityGroupsInput{MountTargetId: aws.String(fs.MountTargets[1].ID), SecurityGroups: []string{f.app}})
				require.NoError(t, err)
				_, err = f.cloud.EC2().AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(fs.SecurityGroupID), IpPermissions: []ec2types.IpPermission{
					{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(2049), ToPort: aws.Int32(2049), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
				require.NoError(t, err)
			},
			spec:       efsFixture.spec,
			wantWrites: []string{"RevokeSecurityGroupIngress", "TagResource", "PutBackupPolicy", "PutFileSystemPolicy", "ModifyMountTargetSecurityGroups"},
			wantKinds:  []string{"update security-group", "update efs-file-system", "noop efs-mount-target", "update efs-mount-target"},
			wantDiff:   map[string][]string{migration.KindSecurityGroup: {"rule"}, migration.KindFileSystem: {"tags", "backup", "policy"}, migration.KindMountTarget: {"securityGroups"}},
		},
		{
			name: "a third zone gets a mount target; a zone left out loses its own",
			spec: func(f efsFixture) migration.FileSystemSpec {
				s := f.spec()
				s.SubnetIDs = []string{f.subnets[0], f.subnets[2]}
				return s
			},
			wantWrites: []string{"CreateMountTarget", "DeleteMountTarget"},
			wantKinds:  []string{"noop security-group", "noop efs-file-system", "noop efs-mount-target", "create efs-mount-target", "delete efs-mount-target"},
		},
		{
			name: "a new client group is let in",
			setup: func(t *testing.T, f efsFixture, _ migration.FileSystem) {
				_, err := f.cloud.EC2().CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(f.vpc), GroupName: aws.String("batch"), Description: aws.String("batch")})
				require.NoError(t, err)
			},
			spec: func(f efsFixture) migration.FileSystemSpec {
				out, err := f.cloud.EC2().DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{awsx.Filter("group-name", "batch")}})
				require.NoError(t, err)
				require.Len(t, out.SecurityGroups, 1)
				s := f.spec()
				s.ClientSecurityGroupIDs = append(s.ClientSecurityGroupIDs, aws.ToString(out.SecurityGroups[0].GroupId))
				return s
			},
			wantWrites: []string{"AuthorizeSecurityGroupIngress"},
			wantKinds:  []string{"update security-group", "noop efs-file-system", "noop efs-mount-target", "noop efs-mount-target"},
		},
		{
			name: "the kms key is immutable",
			spec: func(f efsFixture) migration.FileSystemSpec {
				s := f.spec()
				s.KMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
				return s
			},
			wantErr: "kms key is immutable",
		},
		{
			name: "an unencrypted file system of the env is refused, never replaced", fresh: true,
			setup: func(t *testing.T, f efsFixture, _ migration.FileSystem) {
				_, err := f.cloud.EFS().CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("cutover-migration-files-dev"),
					Tags: []efstypes.Tag{{Key: aws.String(migration.OwnerTag), Value: aws.String("dev")}}})
				require.NoError(t, err)
			},
			spec:    efsFixture.spec,
			wantErr: "encryption is immutable",
		},
		{
			name: "a file system of the env's token without the ownership tag is not adopted", fresh: true,
			setup: func(t *testing.T, f efsFixture, _ migration.FileSystem) {
				_, err := f.cloud.EFS().CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("cutover-migration-files-dev"), Encrypted: aws.Bool(true), KmsKeyId: aws.String(f.key),
					Tags: []efstypes.Tag{{Key: aws.String("Name"), Value: aws.String("migration-files-dev")}}})
				require.NoError(t, err)
			},
			spec:    efsFixture.spec,
			wantErr: "refusing to adopt it",
		},
		{
			name: "a file system being deleted is refused before any write", fresh: true,
			setup: func(t *testing.T, f efsFixture, _ migration.FileSystem) {
				out, err := f.cloud.EFS().CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("cutover-migration-files-dev"), Encrypted: aws.Bool(true), KmsKeyId: aws.String(f.key),
					Tags: []efstypes.Tag{{Key: aws.String(migration.OwnerTag), Value: aws.String("dev")}}})
				require.NoError(t, err)
				_, err = f.cloud.EFS().DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: out.FileSystemId})
				require.NoError(t, err)
			},
			spec:    efsFixture.spec,
			wantErr: "is deleting; wait for it to go",
		},
		{
			name: "a look-alike group without the env's tags is not adopted", fresh: true,
			setup: func(t *testing.T, f efsFixture, _ migration.FileSystem) {
				_, err := f.cloud.EC2().CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(f.vpc), GroupName: aws.String("cutover-sg-efs-dev"), Description: aws.String("x")})
				require.NoError(t, err)
			},
			spec:       efsFixture.spec,
			wantErr:    "refusing to adopt it",
			wantWrites: []string{"CreateSecurityGroup"}, // refused by EC2: the name is taken
		},
		{
			name: "two subnets in one zone are refused before any write", fresh: true,
			spec: func(f efsFixture) migration.FileSystemSpec {
				s := f.spec()
				s.SubnetIDs = []string{f.subnets[0], f.subnet(t, "10.0.20.0/24", "us-east-1a")}
				return s
			},
			wantErr: "one mount target per Availability Zone",
		},
		{
			name: "a subnet of another VPC is refused before any write", fresh: true,
			spec: func(f efsFixture) migration.FileSystemSpec {
				v, err := f.cloud.EC2().CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
				require.NoError(t, err)
				sn, err := f.cloud.EC2().CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.9.1.0/24"), AvailabilityZone: aws.String("us-east-1c")})
				require.NoError(t, err)
				s := f.spec()
				s.SubnetIDs = append(s.SubnetIDs, aws.ToString(sn.Subnet.SubnetId))
				return s
			},
			wantErr: "not in the spec's VPC",
		},
		{
			name: "a mount target's subnet is immutable",
			spec: func(f efsFixture) migration.FileSystemSpec {
				s := f.spec()
				s.SubnetIDs = []string{f.subnet(t, "10.0.21.0/24", "us-east-1a"), f.subnets[1]}
				return s
			},
			wantErr: "mount target subnet is immutable",
		},
		{
			name: "dry run on an empty account reports creates and writes nothing", fresh: true, dryRun: true,
			spec:      efsFixture.spec,
			wantKinds: []string{"create security-group", "create efs-file-system", "create efs-mount-target", "create efs-mount-target"},
		},
		{
			name: "dry run of a drift shows the diff and writes nothing", dryRun: true,
			spec: func(f efsFixture) migration.FileSystemSpec {
				s := f.spec()
				s.DisableBackup = true
				return s
			},
			wantKinds: []string{"noop security-group", "update efs-file-system", "noop efs-mount-target", "noop efs-mount-target"},
			wantDiff:  map[string][]string{migration.KindFileSystem: {"backup"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEFSFixture(t)
			var fs migration.FileSystem
			if !tt.fresh {
				var err error
				fs, _, err = f.ensure(t, f.spec())
				require.NoError(t, err)
			}
			if tt.setup != nil {
				tt.setup(t, f, fs)
			}
			spec := tt.spec(f)
			f.cloud.ResetCalls()
			f.env.DryRun = tt.dryRun
			before := len(f.cloud.EFS().FileSystems())
			got, report, err := f.ensure(t, spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure efs file system "migration-files-dev"`)
				assert.Equal(t, tt.wantWrites, writeOps(f.cloud))
				assert.Len(t, f.cloud.EFS().FileSystems(), before, "nothing replaced")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantWrites, writeOps(f.cloud))
			assert.Equal(t, tt.wantKinds, kinds(report))
			for kind, fields := range tt.wantDiff {
				assert.Equal(t, fields, diffFields(report, kind), kind)
			}
			if tt.dryRun {
				if tt.fresh {
					assert.True(t, migration.IsPending(got.ID))
					assert.True(t, migration.IsPending(got.SecurityGroupID))
				}
				return
			}
			// Converged afterwards: a second run writes nothing.
			f.cloud.ResetCalls()
			_, report, err = f.ensure(t, spec)
			require.NoError(t, err)
			assert.Empty(t, f.cloud.Writes())
			assert.False(t, report.HasChanges(), report.Summary())
		})
	}
}

func TestEnsureFileSystemPendingParentsCallNothing(t *testing.T) {
	f := newEFSFixture(t)
	spec := f.spec()
	spec.VPCID = migration.Pending("vpc-dev")
	spec.SubnetIDs = []string{migration.Pending("subnet-private-us-east-1a-dev"), migration.Pending("subnet-private-us-east-1b-dev")}
	spec.ClientSecurityGroupIDs = []string{migration.Pending("sg-app-dev")}
	f.cloud.ResetCalls()
	f.env.DryRun = true
	fs, report, err := f.ensure(t, spec)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Calls(), "no call at all with pending parents")
	assert.Equal(t, []string{"create security-group", "create efs-file-system", "create efs-mount-target", "create efs-mount-target"}, kinds(report))
	assert.True(t, migration.IsPending(fs.ID))
	assert.Len(t, fs.MountTargets, 2)

	// Outside a dry run a pending parent is an error, before any call.
	f.env.DryRun = false
	_, _, err = f.ensure(t, spec)
	require.ErrorContains(t, err, "dry-run placeholder")
	assert.Empty(t, f.cloud.Calls())
}

func TestEnsureFileSystemConvergesUnderThrottlingAndLateVisibility(t *testing.T) {
	f := newEFSFixture(t)
	f.cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.3, NotFoundReads: 2, Services: []string{"EFS", "EC2"}})
	fs, _, err := f.ensure(t, f.spec())
	require.NoError(t, err)
	f.cloud.SetFaults(fakecloud.Faults{})
	throttled, late := 0, map[string]bool{}
	for _, c := range f.cloud.Calls() {
		switch c.Code {
		case "ThrottlingException", "RequestLimitExceeded":
			throttled++
		case "FileSystemNotFound", "InvalidGroup.NotFound":
			late[c.Code] = true
		}
	}
	assert.Positive(t, throttled)
	assert.Equal(t, map[string]bool{"FileSystemNotFound": true, "InvalidGroup.NotFound": true}, late, "new resources were not visible at first")
	assert.Equal(t, []string{fs.ID}, f.cloud.EFS().FileSystems())
	assert.Len(t, f.cloud.EFS().MountTargets(fs.ID), 2)
	f.cloud.ResetCalls()
	_, report, err := f.ensure(t, f.spec())
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.False(t, report.HasChanges(), report.Summary())
}

func TestEnsureFileSystemCrashAfterCreateMakesNoSecond(t *testing.T) {
	f := newEFSFixture(t)
	// The fifth write is CreateFileSystem: it takes effect and the
	// process dies before it hears so.
	f.cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 5, CrashAfter: true})
	_, _, err := f.ensure(t, f.spec())
	require.ErrorIs(t, err, fakecloud.ErrCrash)
	require.Len(t, f.cloud.EFS().FileSystems(), 1)
	f.cloud.Restart()
	f.cloud.ResetCalls()
	fs, report, err := f.ensure(t, f.spec())
	require.NoError(t, err)
	assert.Equal(t, []string{fs.ID}, f.cloud.EFS().FileSystems(), "the token found the first file system")
	assert.Zero(t, f.cloud.Count("EFS", "CreateFileSystem"))
	assert.Equal(t, []string{"noop security-group", "update efs-file-system", "create efs-mount-target", "create efs-mount-target"}, kinds(report))
	assert.Equal(t, []string{"lifecycle", "policy"}, diffFields(report, migration.KindFileSystem), "the configuration the crash cut off")
}

// staleEFS answers the first look-up by creation token with nothing, as
// an eventually consistent read right after a create can.
type staleEFS struct {
	*fakecloud.EFS
	stale int
}

func (s *staleEFS) DescribeFileSystems(ctx context.Context, in *efs.DescribeFileSystemsInput, opts ...func(*efs.Options)) (*efs.DescribeFileSystemsOutput, error) {
	if in.CreationToken != nil && s.stale > 0 {
		s.stale--
		return &efs.DescribeFileSystemsOutput{}, nil
	}
	return s.EFS.DescribeFileSystems(ctx, in, opts...)
}

func TestEnsureFileSystemTokenInUseFindsTheFirst(t *testing.T) {
	f := newEFSFixture(t)
	f.cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 5, CrashAfter: true})
	_, _, err := f.ensure(t, f.spec())
	require.ErrorIs(t, err, fakecloud.ErrCrash)
	f.cloud.Restart()
	f.cloud.ResetCalls()
	// The re-run does not see the file system and creates: EFS answers
	// FileSystemAlreadyExists, and the token finds the first.
	fs, report, err := f.ensureWith(t, migration.FileSystemClients{EFS: &staleEFS{EFS: f.cloud.EFS(), stale: 1}, EC2: f.cloud.EC2()}, f.spec())
	require.NoError(t, err)
	assert.Equal(t, []string{fs.ID}, f.cloud.EFS().FileSystems())
	require.Equal(t, 1, f.cloud.Count("EFS", "CreateFileSystem"))
	for _, c := range f.cloud.Calls() {
		if c.Op == "CreateFileSystem" {
			assert.Equal(t, "FileSystemAlreadyExists", c.Code)
		}
	}
	assert.Equal(t, []string{"create"}, actions(report.of(migration.KindFileSystem)))
	assert.True(t, migration.PolicyEqual(policyOf(t, f, fs.ID), migration.FileSystemPolicy(fs.ARN, f.spec()).JSON()), "configured as a create")
}

func actions(cs []migration.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Action))
	}
	return out
}

func policyOf(t *testing.T, f efsFixture, id string) string {
	t.Helper()
	out, err := f.cloud.EFS().DescribeFileSystemPolicy(context.Background(), &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
	return aws.ToString(out.Policy)
}

func TestFileSystemSpecValidate(t *testing.T) {
	f := newEFSFixture(t)
	tests := []struct {
		edit func(*migration.FileSystemSpec)
		want string
	}{
		{func(s *migration.FileSystemSpec) { s.KMSKeyARN = "" }, "fileSystem.kmsKeyArn"},
		{func(s *migration.FileSystemSpec) {
			s.KMSKeyARN = "arn:aws:kms:us-east-1:123456789012:alias/migration-dev"
		}, "an alias cannot be compared"},
		{func(s *migration.FileSystemSpec) { s.VPCID = "" }, "fileSystem.vpcId"},
		{func(s *migration.FileSystemSpec) { s.SubnetIDs = nil }, "fileSystem.subnetIds: 1 to 16"},
		{func(s *migration.FileSystemSpec) { s.SubnetIDs = []string{"subnet-x"} }, "fileSystem.subnetIds[0]"},
		{func(s *migration.FileSystemSpec) { s.SubnetIDs = []string{s.SubnetIDs[0], s.SubnetIDs[0]} }, "fileSystem.subnetIds[1]: \"subnet-"},
		{func(s *migration.FileSystemSpec) { s.ClientSecurityGroupIDs = nil }, "fileSystem.clientSecurityGroupIds: 1 to 50"},
		{func(s *migration.FileSystemSpec) { s.ClientSecurityGroupIDs = []string{"app"} }, "fileSystem.clientSecurityGroupIds[0]"},
		{func(s *migration.FileSystemSpec) { s.ClientRoleARNs = []string{"arn:aws:iam::123456789012:user/bob"} }, "fileSystem.clientRoleArns[0]"},
		{func(s *migration.FileSystemSpec) { s.RootAccessRoleARNs = []string{"role/datasync"} }, "fileSystem.rootAccessRoleArns[0]"},
		{func(s *migration.FileSystemSpec) { s.ThroughputMode = "maxIO" }, "fileSystem.throughputMode"},
		{func(s *migration.FileSystemSpec) { s.ThroughputMode = "provisioned" }, "fileSystem.provisionedThroughputMibps: 0 outside"},
		{func(s *migration.FileSystemSpec) { s.ProvisionedThroughputMiBps = 100 }, "only with throughputMode provisioned"},
		{func(s *migration.FileSystemSpec) { s.TransitionToIA = "AFTER_2_DAYS" }, "fileSystem.transitionToIA"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			spec := f.spec()
			tt.edit(&spec)
			f.cloud.ResetCalls()
			_, _, err := f.ensure(t, spec)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, migration.DeleteFileSystem(context.Background(), f.env, f.clients(), spec), tt.want)
			assert.Empty(t, f.cloud.Calls(), "validation happens before any call")
		})
	}
	_, _, err := f.ensure(t, f.spec())
	require.NoError(t, err, "the base spec is valid")
	_, err = migration.EnsureFileSystem(context.Background(), f.env, migration.FileSystemClients{EFS: f.cloud.EFS()}, f.spec())
	require.ErrorContains(t, err, "the EFS and EC2 clients are required")
}

func TestDeleteFileSystem(t *testing.T) {
	ctx := context.Background()
	f := newEFSFixture(t)
	fs, _, err := f.ensure(t, f.spec())
	require.NoError(t, err)
	// The mount targets hold the subnets: the network cannot go first.
	_, err = f.cloud.EC2().DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(f.subnets[0])})
	require.True(t, awsx.IsDependencyViolation(err), "%v", err)

	// It holds the migrated files: refused, nothing touched.
	f.cloud.EFS().PutData(fs.ID, 2<<40)
	f.cloud.ResetCalls()
	err = migration.DeleteFileSystem(ctx, f.env, f.clients(), f.spec())
	require.ErrorIs(t, err, migration.ErrFileSystemNotEmpty)
	assert.Contains(t, err.Error(), "ForceDeleteData")
	assert.Empty(t, f.cloud.Writes())
	assert.Len(t, f.cloud.EFS().MountTargets(fs.ID), 2, "the servers keep their mounts")

	// A dry run of a forced delete reports every delete and writes nothing.
	forced := f.spec()
	forced.ForceDeleteData = true
	report := &seqReport{}
	dry := f.env
	dry.DryRun, dry.Reporter = true, report
	require.NoError(t, migration.DeleteFileSystem(ctx, dry, f.clients(), forced))
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, []string{"delete efs-mount-target", "delete efs-mount-target", "delete efs-file-system", "delete security-group"}, kinds(report))
	assert.Contains(t, report.of(migration.KindFileSystem)[0].Note, "deletes 2199023261696 bytes") // the data and the root directory

	// Forced: mount targets, then the file system, then the group.
	report = &seqReport{}
	env := f.env
	env.Reporter = report
	require.NoError(t, migration.DeleteFileSystem(ctx, env, f.clients(), forced))
	assert.Equal(t, []string{"DeleteMountTarget", "DeleteMountTarget", "DeleteFileSystem", "DeleteSecurityGroup"}, writeOps(f.cloud))
	assert.Equal(t, []string{"delete efs-mount-target", "delete efs-mount-target", "delete efs-file-system", "delete security-group"}, kinds(report))
	assert.Empty(t, f.cloud.EFS().FileSystems())
	assert.NotContains(t, f.cloud.EC2().SecurityGroups(), fs.SecurityGroupID)
	assert.Contains(t, report.of(migration.KindFileSystem)[0].Note, "ForceDeleteData")
	_, err = f.cloud.EC2().DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(f.subnets[0])})
	require.NoError(t, err, "the subnet is free once the mount target is gone")

	// Gone: a no-op.
	f.cloud.ResetCalls()
	report = &seqReport{}
	env.Reporter = report
	require.NoError(t, migration.DeleteFileSystem(ctx, env, f.clients(), forced))
	assert.Empty(t, f.cloud.Writes())
	assert.False(t, report.HasChanges())
}

func TestDeleteFileSystemEmptyNeedsNoForce(t *testing.T) {
	f := newEFSFixture(t)
	_, _, err := f.ensure(t, f.spec())
	require.NoError(t, err)
	require.NoError(t, migration.DeleteFileSystem(context.Background(), f.env, f.clients(), f.spec()))
	assert.Empty(t, f.cloud.EFS().FileSystems())
}

func TestDeleteFileSystemLeavesWhatIsNotOwned(t *testing.T) {
	ctx := context.Background()
	f := newEFSFixture(t)
	decoy, err := f.cloud.EFS().CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("cutover-migration-files-dev"), Encrypted: aws.Bool(true),
		Tags: []efstypes.Tag{{Key: aws.String("Name"), Value: aws.String("migration-files-dev")}, {Key: aws.String(migration.OwnerTag), Value: aws.String("prod")}}})
	require.NoError(t, err)
	other, err := f.cloud.EFS().CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("someone-else")})
	require.NoError(t, err)
	f.cloud.ResetCalls()
	report := &seqReport{}
	env := f.env
	env.Reporter = report
	spec := f.spec()
	spec.ForceDeleteData = true
	require.NoError(t, migration.DeleteFileSystem(ctx, env, f.clients(), spec))
	assert.Empty(t, f.cloud.Writes())
	assert.ElementsMatch(t, []string{aws.ToString(decoy.FileSystemId), aws.ToString(other.FileSystemId)}, f.cloud.EFS().FileSystems())
	require.Len(t, report.seq, 1)
	assert.Contains(t, report.seq[0].Note, "left in place")
}

func TestFileSystemPolicyWithRoles(t *testing.T) {
	arn := "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
	p := migration.FileSystemPolicy(arn, migration.FileSystemSpec{
		RootAccessRoleARNs: []string{"arn:aws:iam::123456789012:role/datasync-efs-access-dev"},
		ClientRoleARNs:     []string{"arn:aws:iam::123456789012:role/app-server-dev"},
	})
	require.NoError(t, p.CheckLeastPrivilege())
	require.Len(t, p.Statement, 3)
	assert.Equal(t, "RootAccess", p.Statement[1].Sid)
	assert.Equal(t, migration.Strings{"arn:aws:iam::123456789012:role/datasync-efs-access-dev"}, p.Statement[1].Principal.AWS)
	assert.Contains(t, p.Statement[1].Action, "elasticfilesystem:ClientRootAccess")
	assert.Equal(t, migration.Strings{"arn:aws:iam::123456789012:role/app-server-dev"}, p.Statement[2].Principal.AWS)
	assert.False(t, p.Statement[2].Principal.Any, "named roles replace anonymous clients")
	for _, s := range p.Statement {
		assert.Equal(t, migration.Strings{arn}, s.Resource, "the one file system")
	}
}

// The role names the policy of a file system may need must exist first:
// a new role is retried while IAM does not resolve it.
func TestEnsureFileSystemRootRoleMustExist(t *testing.T) {
	ctx := context.Background()
	f := newEFSFixture(t)
	spec := f.spec()
	spec.RootAccessRoleARNs = []string{"arn:aws:iam::123456789012:role/datasync-efs-access-dev"}
	_, _, err := f.ensure(t, spec)
	require.ErrorContains(t, err, "InvalidPolicyException")
	_, err = f.cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("datasync-efs-access-dev"),
		AssumeRolePolicyDocument: aws.String(migration.DataSyncEFSRoleSpec(f.env).Trust.JSON())})
	require.NoError(t, err)
	_, report, err := f.ensure(t, spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"policy"}, diffFields(report, migration.KindFileSystem), "the policy a missing role held back")
}

// A file system for the migrated share on a simulated cloud.
func ExampleEnsureFileSystem() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	key, _ := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
	// What the network package makes: a VPC, private subnets, the app group.
	vpc, _ := cloud.EC2().CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, _ := cloud.EC2().CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", 10+i)), AvailabilityZone: aws.String(az)})
		subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	app, _ := cloud.EC2().CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("app"), Description: aws.String("app servers")})

	report := &migration.Report{}
	env.Reporter = report
	fs, err := migration.EnsureFileSystem(ctx, env, migration.FileSystemClients{EFS: cloud.EFS(), EC2: cloud.EC2()}, migration.FileSystemSpec{
		KMSKeyARN: key.ARN, VPCID: aws.ToString(vpc.Vpc.VpcId), SubnetIDs: subnets, ClientSecurityGroupIDs: []string{aws.ToString(app.GroupId)},
	})
	fmt.Println(fs.Name, len(fs.MountTargets), err)
	fmt.Println(report.Summary())
	// Output:
	// migration-files-dev 2 <nil>
	// 4 to create, 0 to update, 0 to delete, 0 unchanged.
}
