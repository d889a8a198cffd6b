package fakecloud_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// efsCloud is a netCloud with a KMS key and one security group that
// accepts NFS from itself and may send it to itself.
type efsCloud struct {
	*netCloud
	x   *fakecloud.EFS
	key string
	sg  string
}

func newEFSCloud(t *testing.T) *efsCloud {
	t.Helper()
	n := newNetCloud(t)
	k, err := n.cloud.KMS().CreateKey(n.ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	g, err := n.e.CreateSecurityGroup(n.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(n.vpc), GroupName: aws.String("efs"), Description: aws.String("efs")})
	require.NoError(t, err)
	nfs := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(2049), ToPort: aws.Int32(2049), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: g.GroupId}}}}
	_, err = n.e.AuthorizeSecurityGroupIngress(n.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: nfs})
	require.NoError(t, err)
	_, err = n.e.RevokeSecurityGroupEgress(n.ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	require.NoError(t, err)
	return &efsCloud{netCloud: n, x: n.cloud.EFS(), key: aws.ToString(k.KeyMetadata.Arn), sg: aws.ToString(g.GroupId)}
}

func (c *efsCloud) create(token string) *efs.CreateFileSystemOutput {
	c.t.Helper()
	out, err := c.x.CreateFileSystem(c.ctx, &efs.CreateFileSystemInput{CreationToken: aws.String(token), Encrypted: aws.Bool(true), KmsKeyId: aws.String(c.key),
		ThroughputMode: types.ThroughputModeElastic, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("files")}}})
	require.NoError(c.t, err)
	return out
}

func (c *efsCloud) describe(id string) types.FileSystemDescription {
	c.t.Helper()
	out, err := c.x.DescribeFileSystems(c.ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	require.NoError(c.t, err)
	require.Len(c.t, out.FileSystems, 1)
	return out.FileSystems[0]
}

func (c *efsCloud) mount(fs, subnet string) string {
	c.t.Helper()
	out, err := c.x.CreateMountTarget(c.ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(fs), SubnetId: aws.String(subnet), SecurityGroups: []string{c.sg}})
	require.NoError(c.t, err)
	return aws.ToString(out.MountTargetId)
}

func TestEFSFileSystemLifeCycle(t *testing.T) {
	c := newEFSCloud(t)
	fs := c.create("tok-1")
	id := aws.ToString(fs.FileSystemId)
	assert.Regexp(t, `^fs-[0-9a-f]{17}$`, id)
	assert.Equal(t, "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/"+id, aws.ToString(fs.FileSystemArn))
	assert.Equal(t, types.LifeCycleStateCreating, fs.LifeCycleState)
	assert.Equal(t, c.key, aws.ToString(fs.KmsKeyId))
	assert.Equal(t, "files", aws.ToString(fs.Name))
	assert.Equal(t, types.PerformanceModeGeneralPurpose, fs.PerformanceMode)

	// The token makes the create idempotent: a second one fails with the
	// existing ID, whatever its parameters, and creates nothing.
	for _, in := range []*efs.CreateFileSystemInput{
		{CreationToken: aws.String("tok-1"), Encrypted: aws.Bool(true), KmsKeyId: aws.String(c.key), ThroughputMode: types.ThroughputModeElastic},
		{CreationToken: aws.String("tok-1")},
	} {
		_, err := c.x.CreateFileSystem(c.ctx, in)
		assert.Equal(t, "FileSystemAlreadyExists", awsx.Code(err))
		assert.ErrorContains(t, err, id)
	}
	assert.Equal(t, []string{id}, c.x.FileSystems())

	c.cloud.Clock().Advance(31 * time.Second)
	d := c.describe(id)
	assert.Equal(t, types.LifeCycleStateAvailable, d.LifeCycleState)
	assert.Equal(t, int64(6144), d.SizeInBytes.Value, "an empty file system meters its root directory")
	c.x.PutData(id, 5<<30)
	assert.Equal(t, int64(6144+5<<30), c.describe(id).SizeInBytes.Value)

	byToken, err := c.x.DescribeFileSystems(c.ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String("tok-1")})
	require.NoError(t, err)
	require.Len(t, byToken.FileSystems, 1)
	none, err := c.x.DescribeFileSystems(c.ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String("other")})
	require.NoError(t, err)
	assert.Empty(t, none.FileSystems, "an unknown token is an empty list")
	_, err = c.x.DescribeFileSystems(c.ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String("fs-0123456789abcdef0")})
	assert.Equal(t, "FileSystemNotFound", awsx.Code(err))

	// Throughput converges through UpdateFileSystem; the file system is
	// updating for a while and takes no second update meanwhile.
	_, err = c.x.UpdateFileSystem(c.ctx, &efs.UpdateFileSystemInput{FileSystemId: aws.String(id), ThroughputMode: types.ThroughputModeProvisioned})
	assert.Equal(t, "BadRequest", awsx.Code(err), "provisioned needs a throughput")
	_, err = c.x.UpdateFileSystem(c.ctx, &efs.UpdateFileSystemInput{FileSystemId: aws.String(id), ThroughputMode: types.ThroughputModeProvisioned, ProvisionedThroughputInMibps: aws.Float64(128)})
	require.NoError(t, err)
	assert.Equal(t, types.LifeCycleStateUpdating, c.describe(id).LifeCycleState)
	_, err = c.x.UpdateFileSystem(c.ctx, &efs.UpdateFileSystemInput{FileSystemId: aws.String(id), ThroughputMode: types.ThroughputModeElastic})
	assert.Equal(t, "IncorrectFileSystemLifeCycleState", awsx.Code(err))
	c.cloud.Clock().Advance(time.Minute)
	assert.InDelta(t, 128, aws.ToFloat64(c.describe(id).ProvisionedThroughputInMibps), 0)

	// Deleting: a while "deleting", then gone; its token is free again.
	_, err = c.x.DeleteFileSystem(c.ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, types.LifeCycleStateDeleting, c.describe(id).LifeCycleState)
	_, err = c.x.CreateFileSystem(c.ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("tok-1")})
	assert.Equal(t, "FileSystemAlreadyExists", awsx.Code(err), "the token stays taken while deleting")
	c.cloud.Clock().Advance(time.Minute)
	_, err = c.x.DescribeFileSystems(c.ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	assert.Equal(t, "FileSystemNotFound", awsx.Code(err))
	assert.Empty(t, c.x.FileSystems())
}

func TestEFSCreateValidation(t *testing.T) {
	c := newEFSCloud(t)
	for _, tt := range []struct {
		in   efs.CreateFileSystemInput
		code string
	}{
		{efs.CreateFileSystemInput{}, "BadRequest"},
		{efs.CreateFileSystemInput{CreationToken: aws.String("t"), KmsKeyId: aws.String(c.key)}, "BadRequest"},
		{efs.CreateFileSystemInput{CreationToken: aws.String("t"), Encrypted: aws.Bool(true), KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/missing")}, "BadRequest"},
		{efs.CreateFileSystemInput{CreationToken: aws.String("t"), ThroughputMode: types.ThroughputModeElastic, PerformanceMode: types.PerformanceModeMaxIo}, "BadRequest"},
		{efs.CreateFileSystemInput{CreationToken: aws.String("t"), ThroughputMode: types.ThroughputModeBursting, ProvisionedThroughputInMibps: aws.Float64(10)}, "BadRequest"},
		{efs.CreateFileSystemInput{CreationToken: aws.String("t"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}}, "ValidationException"},
	} {
		_, err := c.x.CreateFileSystem(c.ctx, &tt.in)
		assert.Equal(t, tt.code, awsx.Code(err), "%+v", tt.in)
	}
	assert.Empty(t, c.x.FileSystems())
	// Encrypted without a key: the AWS managed key.
	out, err := c.x.CreateFileSystem(c.ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("t"), Encrypted: aws.Bool(true)})
	require.NoError(t, err)
	assert.Contains(t, aws.ToString(out.KmsKeyId), "aws-elasticfilesystem-default")
	assert.Equal(t, types.ThroughputModeBursting, out.ThroughputMode, "bursting is EFS's default")
}

func TestEFSDescribeFileSystemsPaginates(t *testing.T) {
	c := newEFSCloud(t)
	for i := range 5 {
		c.create(fmt.Sprintf("tok-%d", i))
	}
	var seen []string
	p := efs.NewDescribeFileSystemsPaginator(c.x, &efs.DescribeFileSystemsInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(c.ctx)
		require.NoError(t, err)
		pages++
		for _, fs := range out.FileSystems {
			seen = append(seen, aws.ToString(fs.CreationToken))
		}
	}
	assert.Equal(t, 3, pages)
	assert.ElementsMatch(t, []string{"tok-0", "tok-1", "tok-2", "tok-3", "tok-4"}, seen)
}

func TestEFSPoliciesAndTags(t *testing.T) {
	c := newEFSCloud(t)
	id := aws.ToString(c.create("tok").FileSystemId)
	_, err := c.x.DescribeFileSystemPolicy(c.ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})
	assert.Equal(t, "PolicyNotFound", awsx.Code(err), "the default policy is in effect")
	_, err = c.x.DescribeBackupPolicy(c.ctx, &efs.DescribeBackupPolicyInput{FileSystemId: aws.String(id)})
	assert.Equal(t, "PolicyNotFound", awsx.Code(err))

	missingRole := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/nobody"},"Action":"elasticfilesystem:ClientMount","Resource":"*"}]}`
	_, err = c.x.PutFileSystemPolicy(c.ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(id), Policy: aws.String(missingRole)})
	assert.Equal(t, "InvalidPolicyException", awsx.Code(err), "IAM resolves role principals when the policy is set")
	_, err = c.x.PutFileSystemPolicy(c.ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(id), Policy: aws.String(`{"Statement":[]}`)})
	assert.Equal(t, "InvalidPolicyException", awsx.Code(err))
	_, err = c.cloud.IAM().CreateRole(c.ctx, &iam.CreateRoleInput{RoleName: aws.String("nobody"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	_, err = c.x.PutFileSystemPolicy(c.ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(id), Policy: aws.String(missingRole)})
	require.NoError(t, err)
	pol, err := c.x.DescribeFileSystemPolicy(c.ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, missingRole, aws.ToString(pol.Policy))

	_, err = c.x.PutLifecycleConfiguration(c.ctx, &efs.PutLifecycleConfigurationInput{FileSystemId: aws.String(id), LifecyclePolicies: []types.LifecyclePolicy{
		{TransitionToIA: types.TransitionToIARulesAfter30Days, TransitionToPrimaryStorageClass: types.TransitionToPrimaryStorageClassRulesAfter1Access}}})
	assert.Equal(t, "BadRequest", awsx.Code(err), "one rule per policy")
	_, err = c.x.PutLifecycleConfiguration(c.ctx, &efs.PutLifecycleConfigurationInput{FileSystemId: aws.String(id), LifecyclePolicies: []types.LifecyclePolicy{
		{TransitionToIA: types.TransitionToIARulesAfter30Days}, {TransitionToPrimaryStorageClass: types.TransitionToPrimaryStorageClassRulesAfter1Access}}})
	require.NoError(t, err)
	lc, err := c.x.DescribeLifecycleConfiguration(c.ctx, &efs.DescribeLifecycleConfigurationInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, lc.LifecyclePolicies, 2)
	assert.Equal(t, types.TransitionToIARulesAfter30Days, lc.LifecyclePolicies[0].TransitionToIA)

	_, err = c.x.PutBackupPolicy(c.ctx, &efs.PutBackupPolicyInput{FileSystemId: aws.String(id), BackupPolicy: &types.BackupPolicy{Status: types.StatusEnabled}})
	require.NoError(t, err)
	bp, err := c.x.DescribeBackupPolicy(c.ctx, &efs.DescribeBackupPolicyInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, types.StatusEnabled, bp.BackupPolicy.Status)

	_, err = c.x.TagResource(c.ctx, &efs.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("files")}}})
	require.NoError(t, err)
	tags, err := c.x.ListTagsForResource(c.ctx, &efs.ListTagsForResourceInput{ResourceId: aws.String(id), MaxResults: aws.Int32(1)})
	require.NoError(t, err)
	require.Len(t, tags.Tags, 1)
	assert.NotNil(t, tags.NextToken, "tags paginate")
	_, err = c.x.TagResource(c.ctx, &efs.TagResourceInput{ResourceId: aws.String("fs-0123456789abcdef0")})
	assert.Equal(t, "FileSystemNotFound", awsx.Code(err))
}

func TestEFSMountTargets(t *testing.T) {
	c := newEFSCloud(t)
	id := aws.ToString(c.create("tok").FileSystemId)
	_, err := c.x.CreateMountTarget(c.ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: aws.String(c.sa)})
	assert.Equal(t, "IncorrectFileSystemLifeCycleState", awsx.Code(err), "only an available file system takes mount targets")
	c.cloud.Clock().Advance(time.Minute)

	mtA := c.mount(id, c.sa)
	assert.Regexp(t, `^fsmt-`, mtA)
	// One per zone: a second subnet in zone a conflicts.
	sa2 := c.subnet("10.0.3.0/24", "us-east-1a")
	_, err = c.x.CreateMountTarget(c.ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: aws.String(sa2), SecurityGroups: []string{c.sg}})
	assert.Equal(t, "MountTargetConflict", awsx.Code(err))
	// One VPC: a subnet of another VPC conflicts.
	v2, err := c.e.CreateVpc(c.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	require.NoError(t, err)
	other, err := c.e.CreateSubnet(c.ctx, &ec2.CreateSubnetInput{VpcId: v2.Vpc.VpcId, CidrBlock: aws.String("10.1.1.0/24"), AvailabilityZone: aws.String("us-east-1c")})
	require.NoError(t, err)
	_, err = c.x.CreateMountTarget(c.ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: other.Subnet.SubnetId})
	assert.Equal(t, "MountTargetConflict", awsx.Code(err))
	_, err = c.x.CreateMountTarget(c.ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: aws.String("subnet-0123456789abcdef0")})
	assert.Equal(t, "SubnetNotFound", awsx.Code(err))
	_, err = c.x.CreateMountTarget(c.ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: aws.String(c.sb), SecurityGroups: []string{"sg-0123456789abcdef0"}})
	assert.Equal(t, "SecurityGroupNotFound", awsx.Code(err))
	mtB := c.mount(id, c.sb)

	out, err := c.x.DescribeMountTargets(c.ctx, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.MountTargets, 2)
	assert.Equal(t, types.LifeCycleStateCreating, out.MountTargets[0].LifeCycleState)
	_, err = c.x.ModifyMountTargetSecurityGroups(c.ctx, &efs.ModifyMountTargetSecurityGroupsInput{MountTargetId: aws.String(mtA), SecurityGroups: []string{c.sg}})
	assert.Equal(t, "IncorrectMountTargetState", awsx.Code(err))
	c.cloud.Clock().Advance(2 * time.Minute)
	out, err = c.x.DescribeMountTargets(c.ctx, &efs.DescribeMountTargetsInput{MountTargetId: aws.String(mtA)})
	require.NoError(t, err)
	assert.Equal(t, types.LifeCycleStateAvailable, out.MountTargets[0].LifeCycleState)
	assert.Equal(t, "us-east-1a", aws.ToString(out.MountTargets[0].AvailabilityZoneName))
	groups, err := c.x.DescribeMountTargetSecurityGroups(c.ctx, &efs.DescribeMountTargetSecurityGroupsInput{MountTargetId: aws.String(mtA)})
	require.NoError(t, err)
	assert.Equal(t, []string{c.sg}, groups.SecurityGroups)
	paged, err := c.x.DescribeMountTargets(c.ctx, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(id), MaxItems: aws.Int32(1)})
	require.NoError(t, err)
	assert.Len(t, paged.MountTargets, 1)
	assert.NotNil(t, paged.NextMarker)

	// The mount targets hold the file system, their subnets and group.
	_, err = c.x.DeleteFileSystem(c.ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	assert.Equal(t, "FileSystemInUse", awsx.Code(err))
	_, err = c.e.DeleteSubnet(c.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(c.sa)})
	assert.True(t, awsx.IsDependencyViolation(err), "%v", err)
	assert.ErrorContains(t, err, mtA)
	_, err = c.e.DeleteSecurityGroup(c.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(c.sg)})
	assert.True(t, awsx.IsDependencyViolation(err), "%v", err)

	for _, mt := range []string{mtA, mtB} {
		_, err := c.x.DeleteMountTarget(c.ctx, &efs.DeleteMountTargetInput{MountTargetId: aws.String(mt)})
		require.NoError(t, err)
	}
	_, err = c.x.DeleteFileSystem(c.ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	assert.Equal(t, "FileSystemInUse", awsx.Code(err), "deleting mount targets still hold the file system")
	c.cloud.Clock().Advance(2 * time.Minute)
	assert.Empty(t, c.x.MountTargets(id))
	_, err = c.x.DescribeMountTargets(c.ctx, &efs.DescribeMountTargetsInput{MountTargetId: aws.String(mtA)})
	assert.Equal(t, "MountTargetNotFound", awsx.Code(err))
	_, err = c.e.DeleteSubnet(c.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(c.sa)})
	require.NoError(t, err)
	_, err = c.x.DeleteFileSystem(c.ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	require.NoError(t, err)
}

func TestEFSSurvivesSaveAndLoad(t *testing.T) {
	c := newEFSCloud(t)
	id := aws.ToString(c.create("tok").FileSystemId)
	c.cloud.Clock().Advance(time.Minute)
	c.mount(id, c.sa)
	c.x.PutData(id, 1<<20)
	var buf bytes.Buffer
	require.NoError(t, c.cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{id}, loaded.EFS().FileSystems())
	assert.Len(t, loaded.EFS().MountTargets(id), 1)
	assert.Equal(t, int64(1<<20), loaded.EFS().FileSystemBytes(id))
}

// efsLocationCloud is an efsCloud with an available file system, an
// available mount target in zone a, and a DataSync NFS source.
type efsLocationCloud struct {
	*efsCloud
	fs, fsARN, src string
}

func newEFSLocationCloud(t *testing.T) *efsLocationCloud {
	t.Helper()
	c := newEFSCloud(t)
	fs := c.create("tok")
	id := aws.ToString(fs.FileSystemId)
	c.cloud.Clock().Advance(time.Minute)
	c.mount(id, c.sa)
	ds := c.cloud.DataSync()
	agent := ds.AddAgent("a1")
	src, err := ds.CreateLocationNfs(c.ctx, &datasync.CreateLocationNfsInput{ServerHostname: aws.String("nfs.example.com"), Subdirectory: aws.String("/share"),
		OnPremConfig: &dstypes.OnPremConfig{AgentArns: []string{agent}}})
	require.NoError(t, err)
	return &efsLocationCloud{efsCloud: c, fs: id, fsARN: aws.ToString(fs.FileSystemArn), src: aws.ToString(src.LocationArn)}
}

func (c *efsLocationCloud) ec2Config(subnet string, groups ...string) *dstypes.Ec2Config {
	cfg := &dstypes.Ec2Config{SubnetArn: aws.String("arn:aws:ec2:us-east-1:123456789012:subnet/" + subnet)}
	for _, g := range groups {
		cfg.SecurityGroupArns = append(cfg.SecurityGroupArns, "arn:aws:ec2:us-east-1:123456789012:security-group/"+g)
	}
	return cfg
}

func TestDataSyncEFSLocationAccessTest(t *testing.T) {
	c := newEFSLocationCloud(t)
	ds := c.cloud.DataSync()
	create := func(in datasync.CreateLocationEfsInput) error {
		in.EfsFilesystemArn = aws.String(c.fsARN)
		_, err := ds.CreateLocationEfs(c.ctx, &in)
		return err
	}
	// The mount target is still creating.
	err := create(datasync.CreateLocationEfsInput{Ec2Config: c.ec2Config(c.sa, c.sg)})
	require.ErrorContains(t, err, "no available mount target")
	c.cloud.Clock().Advance(2 * time.Minute)
	// Zone b has no mount target.
	require.ErrorContains(t, create(datasync.CreateLocationEfsInput{Ec2Config: c.ec2Config(c.sb, c.sg)}), "no available mount target")
	// The group may not send NFS (its default egress was revoked).
	require.ErrorContains(t, create(datasync.CreateLocationEfsInput{Ec2Config: c.ec2Config(c.sa, c.sg)}), "Connection timed out")
	_, err = c.e.AuthorizeSecurityGroupEgress(c.ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(c.sg), IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(2049), ToPort: aws.Int32(2049), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(c.sg)}}}}})
	require.NoError(t, err)
	// A role needs TLS.
	require.ErrorContains(t, create(datasync.CreateLocationEfsInput{Ec2Config: c.ec2Config(c.sa, c.sg), FileSystemAccessRoleArn: aws.String("arn:aws:iam::123456789012:role/r")}), "TLS1_2")

	// A TLS-only policy refuses a location without TLS; one granting no
	// write refuses it too.
	tlsOnly := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"%s","Condition":{"Bool":{"aws:SecureTransport":"false"}}},`+
		`{"Effect":"Allow","Principal":"*","Action":"elasticfilesystem:ClientMount","Resource":"%s"}]}`, c.fsARN, c.fsARN)
	_, err = c.x.PutFileSystemPolicy(c.ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(c.fs), Policy: aws.String(tlsOnly)})
	require.NoError(t, err)
	require.ErrorContains(t, create(datasync.CreateLocationEfsInput{Ec2Config: c.ec2Config(c.sa, c.sg)}), "denies access without TLS")
	require.ErrorContains(t, create(datasync.CreateLocationEfsInput{Ec2Config: c.ec2Config(c.sa, c.sg), InTransitEncryption: dstypes.EfsInTransitEncryptionTls12}), "ClientWrite")
	assert.Empty(t, ds.Locations()[1:], "no location was created")

	readWrite := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"%s","Condition":{"Bool":{"aws:SecureTransport":"false"}}},`+
		`{"Effect":"Allow","Principal":"*","Action":["elasticfilesystem:ClientMount","elasticfilesystem:ClientWrite"],"Resource":"%s"}]}`, c.fsARN, c.fsARN)
	_, err = c.x.PutFileSystemPolicy(c.ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(c.fs), Policy: aws.String(readWrite)})
	require.NoError(t, err)
	out, err := ds.CreateLocationEfs(c.ctx, &datasync.CreateLocationEfsInput{EfsFilesystemArn: aws.String(c.fsARN), Ec2Config: c.ec2Config(c.sa, c.sg),
		InTransitEncryption: dstypes.EfsInTransitEncryptionTls12, Subdirectory: aws.String("/share")})
	require.NoError(t, err)
	d, err := ds.DescribeLocationEfs(c.ctx, &datasync.DescribeLocationEfsInput{LocationArn: out.LocationArn})
	require.NoError(t, err)
	assert.Equal(t, "efs://us-east-1."+c.fs+"/share/", aws.ToString(d.LocationUri))
	assert.Equal(t, dstypes.EfsInTransitEncryptionTls12, d.InTransitEncryption)
	assert.Equal(t, []string{"arn:aws:ec2:us-east-1:123456789012:security-group/" + c.sg}, d.Ec2Config.SecurityGroupArns)

	_, err = ds.UpdateLocationEfs(c.ctx, &datasync.UpdateLocationEfsInput{LocationArn: out.LocationArn, InTransitEncryption: dstypes.EfsInTransitEncryptionNone})
	require.ErrorContains(t, err, "denies access without TLS", "an update runs the access test too")
	_, err = ds.UpdateLocationEfs(c.ctx, &datasync.UpdateLocationEfsInput{LocationArn: out.LocationArn, Subdirectory: aws.String("/files")})
	require.NoError(t, err)
	d, err = ds.DescribeLocationEfs(c.ctx, &datasync.DescribeLocationEfsInput{LocationArn: out.LocationArn})
	require.NoError(t, err)
	assert.Equal(t, "efs://us-east-1."+c.fs+"/files/", aws.ToString(d.LocationUri))
}

func TestDataSyncTransferIntoEFS(t *testing.T) {
	c := newEFSLocationCloud(t)
	ds := c.cloud.DataSync()
	c.cloud.Clock().Advance(2 * time.Minute)
	_, err := c.e.AuthorizeSecurityGroupEgress(c.ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(c.sg), IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(2049), ToPort: aws.Int32(2049), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(c.sg)}}}}})
	require.NoError(t, err)
	dst, err := ds.CreateLocationEfs(c.ctx, &datasync.CreateLocationEfsInput{EfsFilesystemArn: aws.String(c.fsARN), Ec2Config: c.ec2Config(c.sa, c.sg)})
	require.NoError(t, err)
	task, err := ds.CreateTask(c.ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(c.src), DestinationLocationArn: dst.LocationArn})
	require.NoError(t, err)

	// The task's network interfaces hold the subnet and the group.
	_, err = c.e.DeleteSecurityGroup(c.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(c.sg)})
	require.True(t, awsx.IsDependencyViolation(err), "%v", err)

	ds.SetSourceData(c.src, 3<<30, 300)
	exec, err := ds.StartTaskExecution(c.ctx, &datasync.StartTaskExecutionInput{TaskArn: task.TaskArn})
	require.NoError(t, err)
	c.cloud.Clock().Advance(2 * time.Hour)
	st, err := ds.DescribeTaskExecution(c.ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: exec.TaskExecutionArn})
	require.NoError(t, err)
	assert.Equal(t, dstypes.TaskExecutionStatusSuccess, st.Status)
	assert.Equal(t, int64(3<<30), c.x.FileSystemBytes(c.fs), "the files are on the file system")
	out, err := c.x.DescribeFileSystems(c.ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(c.fs)})
	require.NoError(t, err)
	assert.Equal(t, int64(6144+3<<30), out.FileSystems[0].SizeInBytes.Value)

	// Without its mount target the subnet is still held by the task.
	for _, mt := range c.x.MountTargets(c.fs) {
		_, err := c.x.DeleteMountTarget(c.ctx, &efs.DeleteMountTargetInput{MountTargetId: aws.String(mt)})
		require.NoError(t, err)
	}
	c.cloud.Clock().Advance(2 * time.Minute)
	_, err = c.e.DeleteSubnet(c.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(c.sa)})
	require.True(t, awsx.IsDependencyViolation(err), "%v", err)
	assert.ErrorContains(t, err, "DataSync task")
	_, err = ds.DeleteTask(c.ctx, &datasync.DeleteTaskInput{TaskArn: task.TaskArn})
	require.NoError(t, err)
	_, err = c.e.DeleteSubnet(c.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(c.sa)})
	require.NoError(t, err)
}
