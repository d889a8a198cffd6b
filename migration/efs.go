package migration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// EFSAPI is the part of the EFS client EnsureFileSystem and
// DeleteFileSystem use.
type EFSAPI interface {
	CreateFileSystem(context.Context, *efs.CreateFileSystemInput, ...func(*efs.Options)) (*efs.CreateFileSystemOutput, error)
	DescribeFileSystems(context.Context, *efs.DescribeFileSystemsInput, ...func(*efs.Options)) (*efs.DescribeFileSystemsOutput, error)
	UpdateFileSystem(context.Context, *efs.UpdateFileSystemInput, ...func(*efs.Options)) (*efs.UpdateFileSystemOutput, error)
	DeleteFileSystem(context.Context, *efs.DeleteFileSystemInput, ...func(*efs.Options)) (*efs.DeleteFileSystemOutput, error)
	PutFileSystemPolicy(context.Context, *efs.PutFileSystemPolicyInput, ...func(*efs.Options)) (*efs.PutFileSystemPolicyOutput, error)
	DescribeFileSystemPolicy(context.Context, *efs.DescribeFileSystemPolicyInput, ...func(*efs.Options)) (*efs.DescribeFileSystemPolicyOutput, error)
	PutLifecycleConfiguration(context.Context, *efs.PutLifecycleConfigurationInput, ...func(*efs.Options)) (*efs.PutLifecycleConfigurationOutput, error)
	DescribeLifecycleConfiguration(context.Context, *efs.DescribeLifecycleConfigurationInput, ...func(*efs.Options)) (*efs.DescribeLifecycleConfigurationOutput, error)
	PutBackupPolicy(context.Context, *efs.PutBackupPolicyInput, ...func(*efs.Options)) (*efs.PutBackupPolicyOutput, error)
	DescribeBackupPolicy(context.Context, *efs.DescribeBackupPolicyInput, ...func(*efs.Options)) (*efs.DescribeBackupPolicyOutput, error)
	TagResource(context.Context, *efs.TagResourceInput, ...func(*efs.Options)) (*efs.TagResourceOutput, error)
	CreateMountTarget(context.Context, *efs.CreateMountTargetInput, ...func(*efs.Options)) (*efs.CreateMountTargetOutput, error)
	DescribeMountTargets(context.Context, *efs.DescribeMountTargetsInput, ...func(*efs.Options)) (*efs.DescribeMountTargetsOutput, error)
	DeleteMountTarget(context.Context, *efs.DeleteMountTargetInput, ...func(*efs.Options)) (*efs.DeleteMountTargetOutput, error)
	DescribeMountTargetSecurityGroups(context.Context, *efs.DescribeMountTargetSecurityGroupsInput, ...func(*efs.Options)) (*efs.DescribeMountTargetSecurityGroupsOutput, error)
	ModifyMountTargetSecurityGroups(context.Context, *efs.ModifyMountTargetSecurityGroupsInput, ...func(*efs.Options)) (*efs.ModifyMountTargetSecurityGroupsOutput, error)
}

// EFSNetworkAPI is the part of the EC2 client the file system's network
// access uses: it reads the spec's subnets and owns the mount targets'
// security group.
type EFSNetworkAPI interface {
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(context.Context, *ec2.AuthorizeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(context.Context, *ec2.RevokeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	DeleteSecurityGroup(context.Context, *ec2.DeleteSecurityGroupInput, ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// FileSystemClients are the clients EnsureFileSystem and DeleteFileSystem
// use.
type FileSystemClients struct {
	EFS EFSAPI
	EC2 EFSNetworkAPI
}

// Change kinds of the file system.
const (
	KindFileSystem  = "efs-file-system"
	KindMountTarget = "efs-mount-target"
	// KindSecurityGroup is the kind network's security groups report too.
	KindSecurityGroup = "security-group"
)

// NFSPort is the TCP port of NFS, the only port the file system's security
// group opens.
const NFSPort = 2049

// FileSystemSpec describes the EFS file system that receives the migrated
// file share: encrypted with the env key, reachable over NFS from the
// spec's security groups only, through mount targets in the spec's
// private subnets.
type FileSystemSpec struct {
	// KMSKeyARN is the env key (Key.ARN, a key ARN: EFS reports the key
	// ARN, so an alias could not be compared). Immutable: EFS cannot
	// re-encrypt a file system. Required.
	KMSKeyARN string
	// VPCID is the VPC (network's VPC.ID) of the mount targets and their
	// security group. Required.
	VPCID string
	// SubnetIDs are private subnets of the VPC, one per Availability Zone
	// (network's private subnet IDs): one mount target goes in each. A
	// DataSync transfer puts its network interfaces in the first. Required.
	SubnetIDs []string
	// ClientSecurityGroupIDs are the groups whose members may mount the
	// file system: the application servers' group (network's
	// SecurityGroups.App). The mount targets' group accepts NFS from these
	// only (and from itself, for DataSync; see FileSystemSecurityGroupName).
	// The clients' own groups must allow NFS out to it. Required.
	ClientSecurityGroupIDs []string
	// ClientRoleARNs, when set, are the only IAM roles (the migrated
	// servers' instance roles) allowed to mount and write, and the servers
	// mount with IAM authorization ("mount -t efs -o tls,iam"). Empty
	// means any client that reaches a mount target — which the security
	// group limits to ClientSecurityGroupIDs — may mount and write. Either
	// way clients get no root access and must use TLS.
	ClientRoleARNs []string
	// RootAccessRoleARNs are the IAM roles allowed root access (the
	// DataSync role of a transfer, which mounts as root to keep ownership
	// and permissions). Every role named here and in ClientRoleARNs must
	// exist before the file system's policy names it.
	RootAccessRoleARNs []string
	// ThroughputMode is "elastic" (default: EFS's recommendation for a
	// DataSync transfer, and pay-per-use afterwards), "bursting" or
	// "provisioned" (with ProvisionedThroughputMiBps, 1..3414).
	ThroughputMode             string
	ProvisionedThroughputMiBps float64
	// TransitionToIA moves files not read for that long to Infrequent
	// Access: AFTER_30_DAYS by default (most of a migrated share is
	// cold), any EFS TransitionToIARules value, or "NONE" to keep every
	// file in Standard. A file read from IA goes back to Standard
	// (AFTER_1_ACCESS). Nothing moves to Archive.
	TransitionToIA string
	// DisableBackup turns off EFS's automatic daily AWS Backup (35-day
	// retention), which is on by default: the file system holds the only
	// copy of the share once on-premises is retired.
	DisableBackup bool
	// ForceDeleteData lets DeleteFileSystem destroy a file system that
	// holds data. Without it DeleteFileSystem refuses (ErrFileSystemNotEmpty)
	// and deletes nothing: the file system holds the migrated files (2 TB
	// in the reference migration). The semantics of
	// BucketSpec.ForceDeleteObjects.
	ForceDeleteData bool
}

var (
	kmsKeyARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$`)
	roleARNRe   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)
	awsIDRe     = regexp.MustCompile(`^[0-9a-f]{8,17}$`)
)

// Validate checks the spec, naming each bad field and its rule.
func (s FileSystemSpec) Validate() error {
	var errs []error
	if !IsPending(s.KMSKeyARN) && !kmsKeyARNRe.MatchString(s.KMSKeyARN) {
		errs = append(errs, fmt.Errorf("fileSystem.kmsKeyArn: %q is not a KMS key ARN (required; an alias cannot be compared with the key EFS reports)", s.KMSKeyARN))
	}
	if len(s.RootAccessRoleARNs) > 0 {
		errs = append(errs, checkRoleARNs("fileSystem.rootAccessRoleArns", s.RootAccessRoleARNs))
	}
	errs = append(errs, s.validateFields("fileSystem"))
	return errors.Join(errs...)
}

// validateFields checks everything but the key and the root access roles,
// which a file transfer sets itself; prefix names the spec in errors.
func (s FileSystemSpec) validateFields(prefix string) error {
	var errs []error
	if err := checkAWSID(prefix+".vpcId", s.VPCID, "vpc-"); err != nil {
		errs = append(errs, err)
	}
	if len(s.SubnetIDs) < 1 || len(s.SubnetIDs) > 16 {
		errs = append(errs, fmt.Errorf("%s.subnetIds: 1 to 16 private subnets (one per Availability Zone) required, got %d", prefix, len(s.SubnetIDs)))
	}
	errs = append(errs, checkIDList(prefix+".subnetIds", s.SubnetIDs, "subnet-"))
	if len(s.ClientSecurityGroupIDs) < 1 || len(s.ClientSecurityGroupIDs) > 50 {
		errs = append(errs, fmt.Errorf("%s.clientSecurityGroupIds: 1 to 50 security groups required (the application servers'), got %d", prefix, len(s.ClientSecurityGroupIDs)))
	}
	errs = append(errs, checkIDList(prefix+".clientSecurityGroupIds", s.ClientSecurityGroupIDs, "sg-"))
	errs = append(errs, checkRoleARNs(prefix+".clientRoleArns", s.ClientRoleARNs))
	switch s.ThroughputMode {
	case "", string(efstypes.ThroughputModeElastic), string(efstypes.ThroughputModeBursting):
		if s.ProvisionedThroughputMiBps != 0 {
			errs = append(errs, fmt.Errorf("%s.provisionedThroughputMibps: only with throughputMode provisioned", prefix))
		}
	case string(efstypes.ThroughputModeProvisioned):
		if s.ProvisionedThroughputMiBps < 1 || s.ProvisionedThroughputMiBps > 3414 {
			errs = append(errs, fmt.Errorf("%s.provisionedThroughputMibps: %g outside 1..3414 (required with throughputMode provisioned)", prefix, s.ProvisionedThroughputMiBps))
		}
	default:
		errs = append(errs, fmt.Errorf("%s.throughputMode: %q is not elastic, bursting or provisioned", prefix, s.ThroughputMode))
	}
	if s.TransitionToIA != "" && s.TransitionToIA != "NONE" && !slices.Contains(efstypes.TransitionToIARules("").Values(), efstypes.TransitionToIARules(s.TransitionToIA)) {
		errs = append(errs, fmt.Errorf("%s.transitionToIA: %q is not NONE or one of %v", prefix, s.TransitionToIA, efstypes.TransitionToIARules("").Values()))
	}
	return errors.Join(errs...)
}

func checkAWSID(field, id, prefix string) error {
	if IsPending(id) {
		return nil
	}
	if rest, ok := strings.CutPrefix(id, prefix); !ok || !awsIDRe.MatchString(rest) {
		return fmt.Errorf("%s: %q is not an ID of the form %s<hex> (required)", field, id, prefix)
	}
	return nil
}

func checkIDList(field string, ids []string, prefix string) error {
	var errs []error
	seen := map[string]bool{}
	for i, id := range ids {
		if err := checkAWSID(fmt.Sprintf("%s[%d]", field, i), id, prefix); err != nil {
			errs = append(errs, err)
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is listed twice", field, i, id))
		}
		seen[id] = true
	}
	return errors.Join(errs...)
}

func checkRoleARNs(field string, arns []string) error {
	var errs []error
	for i, a := range arns {
		if !roleARNRe.MatchString(a) {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is not an IAM role ARN", field, i, a))
		}
	}
	return errors.Join(errs...)
}

func (s FileSystemSpec) throughput() efstypes.ThroughputMode {
	if s.ThroughputMode == "" {
		return efstypes.ThroughputModeElastic
	}
	return efstypes.ThroughputMode(s.ThroughputMode)
}

// lifecycle returns the lifecycle policies the file system converges to.
func (s FileSystemSpec) lifecycle() []efstypes.LifecyclePolicy {
	switch s.TransitionToIA {
	case "NONE":
		return nil
	case "":
		s.TransitionToIA = string(efstypes.TransitionToIARulesAfter30Days)
	}
	return []efstypes.LifecyclePolicy{
		{TransitionToIA: efstypes.TransitionToIARules(s.TransitionToIA)},
		{TransitionToPrimaryStorageClass: efstypes.TransitionToPrimaryStorageClassRulesAfter1Access},
	}
}

func (s FileSystemSpec) backup() efstypes.Status {
	if s.DisableBackup {
		return efstypes.StatusDisabled
	}
	return efstypes.StatusEnabled
}

func (s FileSystemSpec) parents() []string {
	ids := append([]string{s.KMSKeyARN, s.VPCID}, s.SubnetIDs...)
	return append(ids, s.ClientSecurityGroupIDs...)
}

// FileSystem is an ensured file system.
type FileSystem struct {
	Name string
	ID   string
	ARN  string
	// DNSName is what clients mount, with TLS:
	// "mount -t efs -o tls <ID>:/ /mnt/files" (amazon-efs-utils).
	DNSName string
	// SecurityGroupID is the mount targets' group (and DataSync's).
	SecurityGroupID string
	// MountTargets are the file system's mount targets, one per subnet of
	// the spec, in the spec's order.
	MountTargets []MountTarget
}

// MountTarget is one ensured mount target.
type MountTarget struct {
	ID               string
	SubnetID         string
	AvailabilityZone string
	IPAddress        string
}

// FileSystemName returns the name (Name tag) of the env's file system,
// "migration-files-<suffix>".
func FileSystemName(env Env) string { return env.Name("migration-files") }

// FileSystemCreationToken returns the file system's creation token,
// "cutover-migration-files-<suffix>": deterministic, so a create retried
// after a lost response or a crash finds the first file system instead
// of making a second (EFS allows one file system per token and account).
// The bucket name kind bounds the suffix so the token fits EFS's 64
// characters.
func FileSystemCreationToken(env Env) string { return "cutover-" + FileSystemName(env) }

// FileSystemSecurityGroupName returns the Name tag of the mount targets'
// security group, "sg-efs-<suffix>" (EC2 group name "cutover-sg-efs-<suffix>").
func FileSystemSecurityGroupName(env Env) string { return env.Name("sg-efs") }

// FileSystemARN returns the ARN of a file system of the env's account and
// Region.
func FileSystemARN(env Env, id string) string {
	return "arn:aws:elasticfilesystem:" + env.Region + ":" + env.Account + ":file-system/" + id
}

// FileSystemPolicy returns the file system policy of the file system arn:
//
//   - DenyInsecureTransport: every request without TLS
//     (aws:SecureTransport false) is denied, to everyone;
//   - RootAccess: the spec's RootAccessRoleARNs (DataSync) may mount,
//     write and act as root, through a mount target only;
//   - ClientsReadWrite: the spec's ClientRoleARNs — or, when there are
//     none, any client, which the mount targets' security group limits to
//     ClientSecurityGroupIDs — may mount and write, through a mount target
//     only, never as root (root is squashed to nfsnobody).
//
// Nothing else is allowed: with a policy in effect EFS denies what it does
// not allow, so anonymous root access is gone.
func FileSystemPolicy(arn string, spec FileSystemSpec) PolicyDocument {
	viaMount := Condition{"Bool": {"elasticfilesystem:AccessedViaMountTarget": {"true"}}}
	statements := []Statement{{
		Sid: "DenyInsecureTransport", Effect: "Deny", Principal: &Principal{Any: true}, Action: Strings{"*"}, Resource: Strings{arn},
		Condition: Condition{"Bool": {"aws:SecureTransport": {"false"}}},
	}}
	if len(spec.RootAccessRoleARNs) > 0 {
		statements = append(statements, Statement{
			Sid: "RootAccess", Effect: "Allow", Principal: AWSPrincipal(spec.RootAccessRoleARNs...), Resource: Strings{arn}, Condition: viaMount,
			Action: Strings{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"},
		})
	}
	clients := &Principal{Any: true}
	if len(spec.ClientRoleARNs) > 0 {
		clients = AWSPrincipal(spec.ClientRoleARNs...)
	}
	statements = append(statements, Statement{
		Sid: "ClientsReadWrite", Effect: "Allow", Principal: clients, Resource: Strings{arn}, Condition: viaMount,
		Action: Strings{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"},
	})
	return NewPolicy(statements...)
}

// Timeouts of the file system's waits.
const (
	fileSystemTimeout  = 10 * time.Minute
	mountTargetTimeout = 15 * time.Minute
)

// ErrFileSystemNotEmpty is wrapped by the error DeleteFileSystem returns
// for a file system that holds data without FileSystemSpec.ForceDeleteData.
var ErrFileSystemNotEmpty = errors.New("the file system holds data")

// emptyFileSystemBytes is what EFS meters for an empty file system: the
// metadata of its root directory (⚠ observed, not documented).
const emptyFileSystemBytes = 6144

// EnsureFileSystem makes the env's file system FileSystemName(env) exist
// and converge, with its network access. It reports one Change for the
// security group, one for the file system and one per mount target.
//
//   - The security group FileSystemSecurityGroupName(env), in the spec's
//     VPC, owned by the env: NFS (TCP 2049) in from each of
//     ClientSecurityGroupIDs and from itself, NFS out to itself, nothing
//     else (EC2's default allow-all egress is revoked, rules added by hand
//     are revoked). The self rules are for DataSync, whose network
//     interfaces carry this group (AWS's recommended set-up); attach it to
//     nothing else.
//   - The file system, found by FileSystemCreationToken(env): encrypted
//     with the spec's key, generalPurpose, the spec's throughput mode, the
//     env's tags, the lifecycle policy (TransitionToIA), automatic backups
//     unless DisableBackup, and FileSystemPolicy. Encryption, the key and
//     the performance mode are immutable: a file system that differs is
//     refused, never replaced. One without the env's ownership tag is
//     refused, never adopted.
//   - One mount target per subnet of the spec, with the group above and
//     only it; the subnets must be in the VPC, one per Availability Zone.
//     A mount target's subnet is immutable (a mount target in another
//     subnet of the same zone is refused); mount targets in zones the
//     spec does not name are deleted (they hold no data). New mount
//     targets are waited for until available.
//
// Dry run: reads only; a missing resource is reported with a Pending ID,
// and pending parents (key, VPC, subnets, groups) make it report creates
// without calling AWS. Idempotent: a converged file system costs reads
// only.
func EnsureFileSystem(ctx context.Context, env Env, c FileSystemClients, spec FileSystemSpec) (FileSystem, error) {
	name := FileSystemName(env)
	if err := Validate(env, spec); err != nil {
		return FileSystem{}, fmt.Errorf("ensure efs file system %q: %w", name, err)
	}
	if c.EFS == nil || c.EC2 == nil {
		return FileSystem{}, fmt.Errorf("ensure efs file system %q: the EFS and EC2 clients are required", name)
	}
	fs, err := ensureFileSystem(ctx, env, c, spec, name)
	if err != nil {
		return FileSystem{}, fmt.Errorf("ensure efs file system %q: %w", name, err)
	}
	return fs, nil
}

func ensureFileSystem(ctx context.Context, env Env, c FileSystemClients, spec FileSystemSpec, name string) (FileSystem, error) {
	if AnyPending(spec.parents()...) {
		if !env.DryRun {
			return FileSystem{}, fmt.Errorf("a parent ID is a dry-run placeholder (%v); apply its parent first", slices.DeleteFunc(spec.parents(), func(id string) bool { return !IsPending(id) }))
		}
		sg := Pending(FileSystemSecurityGroupName(env))
		env.Report(Change{Kind: KindSecurityGroup, Name: FileSystemSecurityGroupName(env), ID: sg, Action: ActionCreate})
		return plannedFileSystem(env, spec, name, sg), nil
	}
	// Everything that can refuse is read before the first write.
	zones, err := subnetZones(ctx, c.EC2, spec)
	if err != nil {
		return FileSystem{}, err
	}
	d, err := findFileSystem(ctx, env, c.EFS)
	if err != nil {
		return FileSystem{}, err
	}
	if d != nil {
		if err := checkImmutable(d, spec); err != nil {
			return FileSystem{}, err
		}
		if st := d.LifeCycleState; st != efstypes.LifeCycleStateAvailable && st != efstypes.LifeCycleStateCreating && st != efstypes.LifeCycleStateUpdating {
			return FileSystem{}, fmt.Errorf("file system %s is %s; wait for it to go and apply again", aws.ToString(d.FileSystemId), st)
		}
	}
	sg, err := ensureFileSystemGroup(ctx, env, c.EC2, spec)
	if err != nil {
		return FileSystem{}, err
	}
	if d == nil {
		if env.DryRun {
			return plannedFileSystem(env, spec, name, sg), nil
		}
		if d, err = createFileSystem(ctx, env, c.EFS, spec, name); err != nil {
			return FileSystem{}, err
		}
	} else if err := convergeFileSystem(ctx, env, c.EFS, spec, name, d, false); err != nil {
		return FileSystem{}, err
	}
	id := aws.ToString(d.FileSystemId)
	fs := FileSystem{Name: name, ID: id, ARN: aws.ToString(d.FileSystemArn), DNSName: id + ".efs." + env.Region + ".amazonaws.com", SecurityGroupID: sg}
	if fs.MountTargets, err = ensureMountTargets(ctx, env, c.EFS, spec, name, id, sg, zones); err != nil {
		return FileSystem{}, err
	}
	return fs, nil
}

// plannedFileSystem reports the creates of a plan whose file system is
// still to be made, with its mount targets.
func plannedFileSystem(env Env, spec FileSystemSpec, name, sg string) FileSystem {
	id := Pending(name)
	env.Report(Change{Kind: KindFileSystem, Name: name, ID: id, Action: ActionCreate})
	fs := FileSystem{Name: name, ID: id, ARN: id, SecurityGroupID: sg}
	for _, sn := range spec.SubnetIDs {
		mt := Pending(name + "/" + sn)
		env.Report(Change{Kind: KindMountTarget, Name: name + "/" + sn, ID: mt, Action: ActionCreate})
		fs.MountTargets = append(fs.MountTargets, MountTarget{ID: mt, SubnetID: sn})
	}
	return fs
}

// subnetZones reads the spec's subnets and returns the zone of each. It
// refuses subnets outside the VPC and two subnets in one zone (EFS takes
// one mount target per zone).
func subnetZones(ctx context.Context, api EFSNetworkAPI, spec FileSystemSpec) (map[string]string, error) {
	zones := map[string]string{}
	byZone := map[string]string{}
	p := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{SubnetIds: spec.SubnetIDs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe subnets %v: %w", spec.SubnetIDs, err)
		}
		for _, sn := range page.Subnets {
			id, az := aws.ToString(sn.SubnetId), aws.ToString(sn.AvailabilityZone)
			if v := aws.ToString(sn.VpcId); v != spec.VPCID {
				return nil, fmt.Errorf("subnet %s is in %s, not in the spec's VPC %s", id, v, spec.VPCID)
			}
			if other, ok := byZone[az]; ok && other != id {
				return nil, fmt.Errorf("subnets %s and %s are both in %s; EFS takes one mount target per Availability Zone: name one subnet per zone", other, id, az)
			}
			zones[id], byZone[az] = az, id
		}
	}
	for _, id := range spec.SubnetIDs {
		if _, ok := zones[id]; !ok {
			return nil, fmt.Errorf("subnet %s not found", id)
		}
	}
	return zones, nil
}

// findFileSystem returns the file system of the env's creation token, or
// nil. A file system of that token without the env's ownership tag is
// refused.
func findFileSystem(ctx context.Context, env Env, api EFSAPI) (*efstypes.FileSystemDescription, error) {
	d, owned, err := lookupFileSystem(ctx, env, api)
	if err != nil || d == nil || owned {
		return d, err
	}
	return nil, fmt.Errorf("file system %s has the env's creation token %s but not the ownership tag %s=%s; refusing to adopt it",
		aws.ToString(d.FileSystemId), FileSystemCreationToken(env), OwnerTag, env.Suffix)
}

// lookupFileSystem returns the file system of the env's creation token
// (nil when there is none) and whether the env owns it.
func lookupFileSystem(ctx context.Context, env Env, api EFSAPI) (*efstypes.FileSystemDescription, bool, error) {
	token := FileSystemCreationToken(env)
	var found []efstypes.FileSystemDescription
	p := efs.NewDescribeFileSystemsPaginator(api, &efs.DescribeFileSystemsInput{CreationToken: aws.String(token)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("describe file systems of token %s: %w", token, err)
		}
		found = append(found, page.FileSystems...)
	}
	switch len(found) {
	case 0:
		return nil, false, nil
	case 1:
		return &found[0], env.Owns(efsTagMap(found[0].Tags)), nil
	}
	return nil, false, fmt.Errorf("%d file systems carry creation token %s; EFS allows one", len(found), token)
}

func efsTagMap(tags []efstypes.Tag) map[string]string {
	return awsx.TagMap(tags, func(t efstypes.Tag) (*string, *string) { return t.Key, t.Value })
}

func efsTags(m map[string]string) []efstypes.Tag {
	return awsx.Tags(m, func(k, v *string) efstypes.Tag { return efstypes.Tag{Key: k, Value: v} })
}

func createFileSystem(ctx context.Context, env Env, api EFSAPI, spec FileSystemSpec, name string) (*efstypes.FileSystemDescription, error) {
	token := FileSystemCreationToken(env)
	in := &efs.CreateFileSystemInput{
		CreationToken: aws.String(token), Encrypted: aws.Bool(true), KmsKeyId: aws.String(spec.KMSKeyARN),
		PerformanceMode: efstypes.PerformanceModeGeneralPurpose, ThroughputMode: spec.throughput(),
		Backup: aws.Bool(!spec.DisableBackup), Tags: efsTags(env.NameTags(name)),
	}
	if spec.throughput() == efstypes.ThroughputModeProvisioned {
		in.ProvisionedThroughputInMibps = aws.Float64(spec.ProvisionedThroughputMiBps)
	}
	var id string
	out, err := api.CreateFileSystem(ctx, in)
	switch {
	case err == nil:
		id = aws.ToString(out.FileSystemId)
	case awsx.HasCode(err, "FileSystemAlreadyExists"):
		// A create of ours whose response was lost: the token finds it.
		if err := env.Poll(ctx, "file system of token "+token+" to be visible", 2*time.Second, time.Minute, func(ctx context.Context) (string, bool, error) {
			d, err := findFileSystem(ctx, env, api)
			if d != nil {
				id = aws.ToString(d.FileSystemId)
			}
			return "not visible", d != nil, err
		}); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("create: %w", err)
	}
	d, err := waitFileSystem(ctx, env, api, id)
	if err != nil {
		return nil, err
	}
	if err := convergeFileSystem(ctx, env, api, spec, name, d, true); err != nil {
		return nil, err
	}
	return d, nil
}

// waitFileSystem waits until the file system is available and returns
// it. A file system not visible yet (FileSystemNotFound right after its
// create) is waited for too.
func waitFileSystem(ctx context.Context, env Env, api EFSAPI, id string) (*efstypes.FileSystemDescription, error) {
	var d *efstypes.FileSystemDescription
	err := env.Poll(ctx, "efs file system "+id+" to be available", 5*time.Second, fileSystemTimeout, func(ctx context.Context) (string, bool, error) {
		out, err := api.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
		switch {
		case awsx.HasCode(err, "FileSystemNotFound"):
			return "not visible", false, nil
		case err != nil:
			return "", false, err
		case len(out.FileSystems) != 1:
			return "not visible", false, nil
		}
		d = &out.FileSystems[0]
		switch d.LifeCycleState {
		case efstypes.LifeCycleStateAvailable:
			return string(d.LifeCycleState), true, nil
		case efstypes.LifeCycleStateError, efstypes.LifeCycleStateDeleting, efstypes.LifeCycleStateDeleted:
			return "", false, fmt.Errorf("file system %s is %s", id, d.LifeCycleState)
		}
		return string(d.LifeCycleState), false, nil
	})
	return d, err
}

// convergeFileSystem compares a file system with the spec and records on
// a Converge what differs and the writes that fix it. A file system just
// made by createFileSystem (created) gets its configuration written and
// is reported as the create; any other is reported as update or noop.
func convergeFileSystem(ctx context.Context, env Env, api EFSAPI, spec FileSystemSpec, name string, d *efstypes.FileSystemDescription, created bool) error {
	id := aws.ToString(d.FileSystemId)
	if err := checkImmutable(d, spec); err != nil {
		return err
	}
	var c Converge
	switch d.LifeCycleState {
	case efstypes.LifeCycleStateAvailable:
	case efstypes.LifeCycleStateCreating, efstypes.LifeCycleStateUpdating:
		// Found half-way, as after a crash right after the create: wait
		// before writing.
		c.Then(func() error { _, err := waitFileSystem(ctx, env, api, id); return err })
	default:
		return fmt.Errorf("file system %s is %s; wait for it to go and apply again", id, d.LifeCycleState)
	}
	if err := fileSystemDiff(ctx, env, api, spec, name, d, &c); err != nil {
		return err
	}
	ch := Change{Kind: KindFileSystem, Name: name, ID: id}
	if created {
		if err := c.Run(env); err != nil {
			return err
		}
		ch.Action = ActionCreate
		env.Report(ch)
		return nil
	}
	return c.Apply(env, ch)
}

// checkImmutable refuses a file system whose encryption, key or
// performance mode differs from the spec's: EFS cannot change them, and
// the library never replaces a file system that holds data.
func checkImmutable(d *efstypes.FileSystemDescription, spec FileSystemSpec) error {
	id := aws.ToString(d.FileSystemId)
	switch {
	case !aws.ToBool(d.Encrypted):
		return fmt.Errorf("encryption is immutable: file system %s is not encrypted; EFS cannot encrypt an existing file system: copy its data to a new one", id)
	case aws.ToString(d.KmsKeyId) != spec.KMSKeyARN:
		return fmt.Errorf("kms key is immutable: file system %s is encrypted with %s, the spec wants %s; EFS cannot re-encrypt a file system", id, aws.ToString(d.KmsKeyId), spec.KMSKeyARN)
	case d.PerformanceMode != efstypes.PerformanceModeGeneralPurpose:
		return fmt.Errorf("performance mode is immutable: file system %s is %s, the library uses %s", id, d.PerformanceMode, efstypes.PerformanceModeGeneralPurpose)
	}
	return nil
}

// fileSystemDiff records what differs between the file system and the
// spec: throughput, tags, lifecycle, backup and policy.
func fileSystemDiff(ctx context.Context, env Env, api EFSAPI, spec FileSystemSpec, name string, d *efstypes.FileSystemDescription, c *Converge) error {
	id := aws.ToString(d.FileSystemId)
	fsID := aws.String(id)

	want := spec.throughput()
	show := func(mode efstypes.ThroughputMode, mibps float64) string {
		if mode == efstypes.ThroughputModeProvisioned {
			return fmt.Sprintf("%s %g MiB/s", mode, mibps)
		}
		return string(mode)
	}
	from, to := show(d.ThroughputMode, aws.ToFloat64(d.ProvisionedThroughputInMibps)), show(want, spec.ProvisionedThroughputMiBps)
	if from != to {
		c.Fix("throughputMode", from, to, func() error {
			in := &efs.UpdateFileSystemInput{FileSystemId: fsID, ThroughputMode: want}
			if want == efstypes.ThroughputModeProvisioned {
				in.ProvisionedThroughputInMibps = aws.Float64(spec.ProvisionedThroughputMiBps)
			}
			if _, err := api.UpdateFileSystem(ctx, in); err != nil {
				return fmt.Errorf("update throughput of %s: %w", id, err)
			}
			_, err := waitFileSystem(ctx, env, api, id)
			return err
		})
	}

	c.Tags(efsTagMap(d.Tags), env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &efs.TagResourceInput{ResourceId: fsID, Tags: efsTags(missing)}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
		return nil
	})

	lc, err := api.DescribeLifecycleConfiguration(ctx, &efs.DescribeLifecycleConfigurationInput{FileSystemId: fsID})
	if err != nil {
		return fmt.Errorf("describe lifecycle of %s: %w", id, err)
	}
	if have, want := lifecycleString(lc.LifecyclePolicies), lifecycleString(spec.lifecycle()); have != want {
		c.Fix("lifecycle", have, want, func() error {
			if _, err := api.PutLifecycleConfiguration(ctx, &efs.PutLifecycleConfigurationInput{FileSystemId: fsID, LifecyclePolicies: spec.lifecycle()}); err != nil {
				return fmt.Errorf("put lifecycle of %s: %w", id, err)
			}
			return nil
		})
	}

	haveBackup := efstypes.StatusDisabled // EFS: no backup policy means none
	bp, err := api.DescribeBackupPolicy(ctx, &efs.DescribeBackupPolicyInput{FileSystemId: fsID})
	switch {
	case awsx.HasCode(err, "PolicyNotFound"):
	case err != nil:
		return fmt.Errorf("describe backup policy of %s: %w", id, err)
	case bp.BackupPolicy != nil && (bp.BackupPolicy.Status == efstypes.StatusEnabled || bp.BackupPolicy.Status == efstypes.StatusEnabling):
		haveBackup = efstypes.StatusEnabled
	}
	if haveBackup != spec.backup() {
		c.Fix("backup", string(haveBackup), string(spec.backup()), func() error {
			if _, err := api.PutBackupPolicy(ctx, &efs.PutBackupPolicyInput{FileSystemId: fsID, BackupPolicy: &efstypes.BackupPolicy{Status: spec.backup()}}); err != nil {
				return fmt.Errorf("put backup policy of %s: %w", id, err)
			}
			return nil
		})
	}

	doc := FileSystemPolicy(aws.ToString(d.FileSystemArn), spec).JSON()
	pol, err := api.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: fsID})
	havePolicy := ""
	switch {
	case awsx.HasCode(err, "PolicyNotFound"):
		havePolicy = "(none: anonymous root access)"
	case err != nil:
		return fmt.Errorf("describe policy of %s: %w", id, err)
	case !PolicyEqual(aws.ToString(pol.Policy), doc):
		havePolicy = "(differs)"
	}
	if havePolicy != "" {
		c.Fix("policy", havePolicy, "FileSystemPolicy (TLS only, no anonymous root)", func() error {
			// A role named in the policy that IAM does not resolve yet
			// (just created) makes it invalid for a moment.
			err := env.Retry(ctx, []string{"InvalidPolicyException"}, func(ctx context.Context) error {
				_, err := api.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: fsID, Policy: aws.String(doc)})
				return err
			})
			if err != nil {
				return fmt.Errorf("put policy of %s: %w", id, err)
			}
			return nil
		})
	}
	return nil
}

// lifecycleString renders lifecycle policies in a fixed order, so two
// configurations compare as strings.
func lifecycleString(ps []efstypes.LifecyclePolicy) string {
	var ia, archive, primary string
	for _, p := range ps {
		ia, archive, primary = cmp.Or(string(p.TransitionToIA), ia), cmp.Or(string(p.TransitionToArchive), archive), cmp.Or(string(p.TransitionToPrimaryStorageClass), primary)
	}
	var parts []string
	for _, r := range []struct{ k, v string }{{"ia", ia}, {"archive", archive}, {"primary", primary}} {
		if r.v != "" {
			parts = append(parts, r.k+" "+r.v)
		}
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

// fileSystemGroupRules are the rules of the mount targets' group id: NFS
// in from every client group and from itself, NFS out to itself.
func fileSystemGroupRules(id string, clients []string) []awsx.SGRule {
	nfs := func(egress bool, peer string) awsx.SGRule {
		desc := "NFS from the file share's clients"
		if egress {
			desc = "NFS to the mount targets (DataSync)"
		}
		return awsx.SGRule{Egress: egress, Proto: "tcp", From: NFSPort, To: NFSPort, Peer: peer, Desc: desc}
	}
	rules := []awsx.SGRule{nfs(false, id), nfs(true, id)}
	for _, g := range clients {
		rules = append(rules, nfs(false, g))
	}
	return rules
}

// findOwnedGroup returns the env's group of that Name tag, or nil; more
// than one is an error.
func findOwnedGroup(ctx context.Context, env Env, api EFSNetworkAPI, name string) (*ec2types.SecurityGroup, error) {
	var found []ec2types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: awsx.OwnedFilters(OwnerTag, env.Suffix, name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups %s: %w", name, err)
		}
		found = append(found, page.SecurityGroups...)
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	}
	var ids []string
	for _, g := range found {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	return nil, fmt.Errorf("%d security groups carry %s=%s and Name=%s (%v); expected one: delete the extras", len(found), OwnerTag, env.Suffix, name, ids)
}

// ensureFileSystemGroup converges the mount targets' security group and
// returns its ID (a Pending ID in a dry run that would create it).
func ensureFileSystemGroup(ctx context.Context, env Env, api EFSNetworkAPI, spec FileSystemSpec) (string, error) {
	name := FileSystemSecurityGroupName(env)
	g, err := findOwnedGroup(ctx, env, api, name)
	if err != nil {
		return "", err
	}
	var id string
	var have []awsx.SGRule
	created := false
	switch {
	case g != nil:
		if v := aws.ToString(g.VpcId); v != spec.VPCID {
			return "", fmt.Errorf("security group %s: vpc is immutable: %s is in %s, the spec wants %s; delete the group and apply again", name, aws.ToString(g.GroupId), v, spec.VPCID)
		}
		id = aws.ToString(g.GroupId)
		have = append(awsx.SplitPermissions(g.IpPermissions, false), awsx.SplitPermissions(g.IpPermissionsEgress, true)...)
	case env.DryRun:
		env.Report(Change{Kind: KindSecurityGroup, Name: name, ID: Pending(name), Action: ActionCreate})
		return Pending(name), nil
	default:
		out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			VpcId: aws.String(spec.VPCID), GroupName: aws.String("cutover-" + name), Description: aws.String("cutover EFS mount targets: NFS from the file share's clients"),
			TagSpecifications: awsx.TagSpec(ec2types.ResourceTypeSecurityGroup, env.NameTags(name)),
		})
		if awsx.HasCode(err, "InvalidGroup.Duplicate") {
			return "", fmt.Errorf("security group %s: a group named cutover-%s exists in %s without this env's tags; refusing to adopt it", name, name, spec.VPCID)
		}
		if err != nil {
			return "", fmt.Errorf("security group %s: create: %w", name, err)
		}
		id, created = aws.ToString(out.GroupId), true
		// EC2 gives a new group an allow-all egress rule.
		have = []awsx.SGRule{{Egress: true, Proto: "-1", Peer: "0.0.0.0/0"}}
	}
	want := fileSystemGroupRules(id, spec.ClientSecurityGroupIDs)
	in := func(rs []awsx.SGRule, r awsx.SGRule) bool {
		return slices.ContainsFunc(rs, func(x awsx.SGRule) bool { return x.Key() == r.Key() })
	}
	var add, revoke []awsx.SGRule
	for _, r := range want {
		if !in(have, r) {
			add = append(add, r)
		}
	}
	for _, r := range have {
		if !in(want, r) {
			revoke = append(revoke, r)
		}
	}
	var diff []FieldDiff
	for _, r := range add {
		diff = append(diff, FieldDiff{Field: "rule", To: r.String()})
	}
	for _, r := range revoke {
		diff = append(diff, FieldDiff{Field: "rule", From: r.String(), To: "(revoked)"})
	}
	var c Converge
	c.FixAll(diff, func() error { return awsx.ApplySGRules(ctx, env.Retry, api, id, add, revoke) })
	if created {
		if err := c.Run(env); err != nil {
			return "", fmt.Errorf("security group %s: %w", name, err)
		}
		env.Report(Change{Kind: KindSecurityGroup, Name: name, ID: id, Action: ActionCreate})
		return id, nil
	}
	c.Tags(awsx.FromEC2Tags(g.Tags), env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: awsx.EC2Tags(missing)}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
		return nil
	})
	if err := c.Apply(env, Change{Kind: KindSecurityGroup, Name: name, ID: id}); err != nil {
		return "", fmt.Errorf("security group %s: %w", name, err)
	}
	return id, nil
}

// listMountTargets returns the file system's mount targets.
func listMountTargets(ctx context.Context, api EFSAPI, fsID string) ([]efstypes.MountTargetDescription, error) {
	var out []efstypes.MountTargetDescription
	p := efs.NewDescribeMountTargetsPaginator(api, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(fsID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe mount targets of %s: %w", fsID, err)
		}
		out = append(out, page.MountTargets...)
	}
	return out, nil
}

func gone(st efstypes.LifeCycleState) bool {
	return st == efstypes.LifeCycleStateDeleting || st == efstypes.LifeCycleStateDeleted
}

// waitMountTargets waits until every mount target of ids is available
// (done true) or, with done false, until none of ids is listed any more.
func waitMountTargets(ctx context.Context, env Env, api EFSAPI, fsID string, ids []string, available bool) error {
	what := "mount targets " + strings.Join(ids, ", ") + " of " + fsID + " to be available"
	if !available {
		what = "mount targets " + strings.Join(ids, ", ") + " of " + fsID + " to be deleted"
	}
	return env.Poll(ctx, what, 10*time.Second, mountTargetTimeout, func(ctx context.Context) (string, bool, error) {
		mts, err := listMountTargets(ctx, api, fsID)
		if err != nil {
			return "", false, err
		}
		states := map[string]efstypes.LifeCycleState{}
		for _, m := range mts {
			states[aws.ToString(m.MountTargetId)] = m.LifeCycleState
		}
		var pending []string
		for _, id := range ids {
			st, listed := states[id]
			switch {
			case !available && listed:
				pending = append(pending, id+" "+string(st))
			case available && st == efstypes.LifeCycleStateError:
				return "", false, fmt.Errorf("mount target %s is in error", id)
			case available && st != efstypes.LifeCycleStateAvailable: // not listed yet counts as pending
				pending = append(pending, id+" "+cmp.Or(string(st), "not visible"))
			}
		}
		return strings.Join(pending, ", "), len(pending) == 0, nil
	})
}

// ensureMountTargets converges one mount target per subnet of the spec
// and reports a Change for each.
func ensureMountTargets(ctx context.Context, env Env, api EFSAPI, spec FileSystemSpec, name, fsID, sg string, zones map[string]string) ([]MountTarget, error) {
	have, err := listMountTargets(ctx, api, fsID)
	if err != nil {
		return nil, err
	}
	bySubnet := map[string]efstypes.MountTargetDescription{}
	byZone := map[string]efstypes.MountTargetDescription{}
	for _, m := range have {
		if !gone(m.LifeCycleState) {
			bySubnet[aws.ToString(m.SubnetId)], byZone[aws.ToString(m.AvailabilityZoneName)] = m, m
		}
	}
	var out []MountTarget
	var created []string
	for _, sn := range spec.SubnetIDs {
		mtName, az := name+"/"+sn, zones[sn]
		m, ok := bySubnet[sn]
		if !ok {
			if other, ok := byZone[az]; ok {
				return nil, fmt.Errorf("mount target subnet is immutable: %s in %s is in subnet %s, the spec wants %s in that zone; delete the mount target or name %s",
					aws.ToString(other.MountTargetId), az, aws.ToString(other.SubnetId), sn, aws.ToString(other.SubnetId))
			}
			if env.DryRun {
				id := Pending(mtName)
				env.Report(Change{Kind: KindMountTarget, Name: mtName, ID: id, Action: ActionCreate})
				out = append(out, MountTarget{ID: id, SubnetID: sn, AvailabilityZone: az})
				continue
			}
			mt, err := createMountTarget(ctx, env, api, fsID, sn, sg)
			if err != nil {
				return nil, err
			}
			env.Report(Change{Kind: KindMountTarget, Name: mtName, ID: mt.ID, Action: ActionCreate})
			out, created = append(out, mt), append(created, mt.ID)
			continue
		}
		id := aws.ToString(m.MountTargetId)
		var c Converge
		if m.LifeCycleState != efstypes.LifeCycleStateAvailable {
			c.Then(func() error { return waitMountTargets(ctx, env, api, fsID, []string{id}, true) })
		}
		groups, err := api.DescribeMountTargetSecurityGroups(ctx, &efs.DescribeMountTargetSecurityGroupsInput{MountTargetId: aws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("describe security groups of mount target %s: %w", id, err)
		}
		if !slices.Equal(groups.SecurityGroups, []string{sg}) {
			c.Fix("securityGroups", strings.Join(groups.SecurityGroups, ","), sg, func() error {
				if _, err := api.ModifyMountTargetSecurityGroups(ctx, &efs.ModifyMountTargetSecurityGroupsInput{MountTargetId: aws.String(id), SecurityGroups: []string{sg}}); err != nil {
					return fmt.Errorf("modify security groups of mount target %s: %w", id, err)
				}
				return nil
			})
		}
		if err := c.Apply(env, Change{Kind: KindMountTarget, Name: mtName, ID: id}); err != nil {
			return nil, err
		}
		out = append(out, MountTarget{ID: id, SubnetID: sn, AvailabilityZone: az, IPAddress: aws.ToString(m.IpAddress)})
	}
	// Mount targets in zones the spec does not name go: they hold no data.
	for _, m := range have {
		if sn := aws.ToString(m.SubnetId); !slices.Contains(spec.SubnetIDs, sn) && !gone(m.LifeCycleState) {
			id := aws.ToString(m.MountTargetId)
			if !env.DryRun {
				if _, err := api.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: aws.String(id)}); err != nil && !awsx.HasCode(err, "MountTargetNotFound") {
					return nil, fmt.Errorf("delete mount target %s: %w", id, err)
				}
			}
			env.Report(Change{Kind: KindMountTarget, Name: name + "/" + sn, ID: id, Action: ActionDelete, Note: "its subnet is not in the spec"})
		}
	}
	if len(created) > 0 {
		if err := waitMountTargets(ctx, env, api, fsID, created, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// createMountTarget creates the mount target of a subnet. A conflict with
// a mount target of ours already in that subnet (a create whose response
// was lost) returns that one.
func createMountTarget(ctx context.Context, env Env, api EFSAPI, fsID, subnet, sg string) (MountTarget, error) {
	out, err := api.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(fsID), SubnetId: aws.String(subnet), SecurityGroups: []string{sg}})
	if err == nil {
		return MountTarget{ID: aws.ToString(out.MountTargetId), SubnetID: subnet, AvailabilityZone: aws.ToString(out.AvailabilityZoneName), IPAddress: aws.ToString(out.IpAddress)}, nil
	}
	if !awsx.HasCode(err, "MountTargetConflict") {
		return MountTarget{}, fmt.Errorf("create mount target in %s: %w", subnet, err)
	}
	mts, lerr := listMountTargets(ctx, api, fsID)
	if lerr != nil {
		return MountTarget{}, lerr
	}
	for _, m := range mts {
		if aws.ToString(m.SubnetId) == subnet && !gone(m.LifeCycleState) {
			return MountTarget{ID: aws.ToString(m.MountTargetId), SubnetID: subnet, AvailabilityZone: aws.ToString(m.AvailabilityZoneName), IPAddress: aws.ToString(m.IpAddress)}, nil
		}
	}
	return MountTarget{}, fmt.Errorf("create mount target in %s: %w", subnet, err)
}

// DeleteFileSystem deletes the env's file system, its mount targets and
// its security group, in that order of dependency: the mount targets
// first, waited for until gone (the file system is FileSystemInUse until
// then, retried on the env clock), then the file system, waited for
// until gone, then the group (retried while EC2 still reports its network
// interfaces, DependencyViolation).
//
// It refuses, with ErrFileSystemNotEmpty and before any write, to delete
// a file system that holds data unless spec.ForceDeleteData: the
// migrated files must never go by accident. EFS meters the size
// (SizeInBytes) with a lag of up to a few hours after writes, so data
// written just before the delete may not count yet; a transfer's files
// do, well before the transfer ends. A file system of the env's creation
// token without its ownership tag is left in place (and so is the group,
// which its mount targets may use). Missing resources are no-ops. A dry
// run reports what it would delete.
func DeleteFileSystem(ctx context.Context, env Env, c FileSystemClients, spec FileSystemSpec) error {
	name := FileSystemName(env)
	if err := Validate(env, spec); err != nil {
		return fmt.Errorf("delete efs file system %q: %w", name, err)
	}
	if c.EFS == nil || c.EC2 == nil {
		return fmt.Errorf("delete efs file system %q: the EFS and EC2 clients are required", name)
	}
	if err := deleteFileSystem(ctx, env, c, spec, name); err != nil {
		return fmt.Errorf("delete efs file system %q: %w", name, err)
	}
	return nil
}

func deleteFileSystem(ctx context.Context, env Env, c FileSystemClients, spec FileSystemSpec, name string) error {
	d, owned, err := lookupFileSystem(ctx, env, c.EFS)
	if err != nil {
		return err
	}
	if d != nil && !owned {
		env.Report(Change{Kind: KindFileSystem, Name: name, ID: aws.ToString(d.FileSystemId), Action: ActionNoop,
			Note: "has the env's creation token but not its ownership tag; left in place, with the security group its mount targets may use"})
		return nil
	}
	if d == nil {
		env.ReportGone(KindFileSystem, name)
		return deleteFileSystemGroup(ctx, env, c.EC2)
	}
	id := aws.ToString(d.FileSystemId)
	var size int64
	if d.SizeInBytes != nil {
		size = d.SizeInBytes.Value
	}
	data := size > emptyFileSystemBytes
	if data && !spec.ForceDeleteData && d.LifeCycleState != efstypes.LifeCycleStateDeleting {
		return fmt.Errorf("%w: %s meters %d bytes, the migrated files; refusing to delete it (set ForceDeleteData to destroy the file system with its data)", ErrFileSystemNotEmpty, id, size)
	}
	mts, err := listMountTargets(ctx, c.EFS, id)
	if err != nil {
		return err
	}
	var ids []string
	for _, m := range mts {
		mid, sn := aws.ToString(m.MountTargetId), aws.ToString(m.SubnetId)
		ids = append(ids, mid)
		if !env.DryRun && !gone(m.LifeCycleState) {
			if _, err := c.EFS.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: aws.String(mid)}); err != nil && !awsx.HasCode(err, "MountTargetNotFound") {
				return fmt.Errorf("delete mount target %s: %w", mid, err)
			}
		}
		env.Report(Change{Kind: KindMountTarget, Name: name + "/" + sn, ID: mid, Action: ActionDelete})
	}
	note := ""
	if data {
		note = fmt.Sprintf("deleted with %d bytes of data (ForceDeleteData)", size)
	}
	if env.DryRun {
		if data {
			note = fmt.Sprintf("deletes %d bytes of data (ForceDeleteData)", size)
		}
		env.Report(Change{Kind: KindFileSystem, Name: name, ID: id, Action: ActionDelete, Note: note})
		return deleteFileSystemGroup(ctx, env, c.EC2)
	}
	if len(ids) > 0 {
		if err := waitMountTargets(ctx, env, c.EFS, id, ids, false); err != nil {
			return err
		}
	}
	err = env.Retry(ctx, []string{"FileSystemInUse"}, func(ctx context.Context) error {
		_, err := c.EFS.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
		return err
	})
	if err != nil && !awsx.HasCode(err, "FileSystemNotFound") {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if err := env.Poll(ctx, "efs file system "+id+" to be deleted", 5*time.Second, fileSystemTimeout, func(ctx context.Context) (string, bool, error) {
		out, err := c.EFS.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
		switch {
		case awsx.HasCode(err, "FileSystemNotFound"):
			return "", true, nil
		case err != nil:
			return "", false, err
		case len(out.FileSystems) == 0:
			return "", true, nil
		}
		return string(out.FileSystems[0].LifeCycleState), false, nil
	}); err != nil {
		return err
	}
	env.Report(Change{Kind: KindFileSystem, Name: name, ID: id, Action: ActionDelete, Note: note})
	return deleteFileSystemGroup(ctx, env, c.EC2)
}

// deleteFileSystemGroup deletes the env's mount target group, retrying
// while network interfaces still hold it.
func deleteFileSystemGroup(ctx context.Context, env Env, api EFSNetworkAPI) error {
	name := FileSystemSecurityGroupName(env)
	g, err := findOwnedGroup(ctx, env, api, name)
	if err != nil {
		return err
	}
	if g == nil {
		env.ReportGone(KindSecurityGroup, name)
		return nil
	}
	id := aws.ToString(g.GroupId)
	if !env.DryRun {
		err := env.Retry(ctx, []string{"DependencyViolation"}, func(ctx context.Context) error {
			_, err := api.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			return err
		})
		if err != nil && !awsx.HasCode(err, "InvalidGroup.NotFound") {
			return fmt.Errorf("delete security group %s: %w", id, err)
		}
	}
	env.Report(Change{Kind: KindSecurityGroup, Name: name, ID: id, Action: ActionDelete})
	return nil
}
