package migration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// DataSyncAPI is the part of the DataSync client the file transfer uses.
type DataSyncAPI interface {
	DescribeAgent(context.Context, *datasync.DescribeAgentInput, ...func(*datasync.Options)) (*datasync.DescribeAgentOutput, error)
	CreateLocationNfs(context.Context, *datasync.CreateLocationNfsInput, ...func(*datasync.Options)) (*datasync.CreateLocationNfsOutput, error)
	CreateLocationSmb(context.Context, *datasync.CreateLocationSmbInput, ...func(*datasync.Options)) (*datasync.CreateLocationSmbOutput, error)
	CreateLocationS3(context.Context, *datasync.CreateLocationS3Input, ...func(*datasync.Options)) (*datasync.CreateLocationS3Output, error)
	DescribeLocationNfs(context.Context, *datasync.DescribeLocationNfsInput, ...func(*datasync.Options)) (*datasync.DescribeLocationNfsOutput, error)
	DescribeLocationSmb(context.Context, *datasync.DescribeLocationSmbInput, ...func(*datasync.Options)) (*datasync.DescribeLocationSmbOutput, error)
	DescribeLocationS3(context.Context, *datasync.DescribeLocationS3Input, ...func(*datasync.Options)) (*datasync.DescribeLocationS3Output, error)
	UpdateLocationNfs(context.Context, *datasync.UpdateLocationNfsInput, ...func(*datasync.Options)) (*datasync.UpdateLocationNfsOutput, error)
	UpdateLocationSmb(context.Context, *datasync.UpdateLocationSmbInput, ...func(*datasync.Options)) (*datasync.UpdateLocationSmbOutput, error)
	UpdateLocationS3(context.Context, *datasync.UpdateLocationS3Input, ...func(*datasync.Options)) (*datasync.UpdateLocationS3Output, error)
	CreateLocationEfs(context.Context, *datasync.CreateLocationEfsInput, ...func(*datasync.Options)) (*datasync.CreateLocationEfsOutput, error)
	DescribeLocationEfs(context.Context, *datasync.DescribeLocationEfsInput, ...func(*datasync.Options)) (*datasync.DescribeLocationEfsOutput, error)
	UpdateLocationEfs(context.Context, *datasync.UpdateLocationEfsInput, ...func(*datasync.Options)) (*datasync.UpdateLocationEfsOutput, error)
	ListLocations(context.Context, *datasync.ListLocationsInput, ...func(*datasync.Options)) (*datasync.ListLocationsOutput, error)
	DeleteLocation(context.Context, *datasync.DeleteLocationInput, ...func(*datasync.Options)) (*datasync.DeleteLocationOutput, error)
	ListTagsForResource(context.Context, *datasync.ListTagsForResourceInput, ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error)
	TagResource(context.Context, *datasync.TagResourceInput, ...func(*datasync.Options)) (*datasync.TagResourceOutput, error)
	CreateTask(context.Context, *datasync.CreateTaskInput, ...func(*datasync.Options)) (*datasync.CreateTaskOutput, error)
	DescribeTask(context.Context, *datasync.DescribeTaskInput, ...func(*datasync.Options)) (*datasync.DescribeTaskOutput, error)
	UpdateTask(context.Context, *datasync.UpdateTaskInput, ...func(*datasync.Options)) (*datasync.UpdateTaskOutput, error)
	ListTasks(context.Context, *datasync.ListTasksInput, ...func(*datasync.Options)) (*datasync.ListTasksOutput, error)
	DeleteTask(context.Context, *datasync.DeleteTaskInput, ...func(*datasync.Options)) (*datasync.DeleteTaskOutput, error)
	StartTaskExecution(context.Context, *datasync.StartTaskExecutionInput, ...func(*datasync.Options)) (*datasync.StartTaskExecutionOutput, error)
	DescribeTaskExecution(context.Context, *datasync.DescribeTaskExecutionInput, ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error)
}

// DataSyncLogsAPI is the part of the CloudWatch Logs client the transfer's
// log group and its resource policy use.
type DataSyncLogsAPI interface {
	LogsAPI
	PutResourcePolicy(context.Context, *cloudwatchlogs.PutResourcePolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutResourcePolicyOutput, error)
	DescribeResourcePolicies(context.Context, *cloudwatchlogs.DescribeResourcePoliciesInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeResourcePoliciesOutput, error)
	DeleteResourcePolicy(context.Context, *cloudwatchlogs.DeleteResourcePolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteResourcePolicyOutput, error)
}

// SecretReader reads a Secrets Manager secret; *secretsmanager.Client
// satisfies it. The file transfer uses it for the SMB password only, and
// only when it creates the SMB location or RefreshSMBPassword is called:
// the value goes to DataSync and nowhere else (never a log, a Change or an
// error).
type SecretReader interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Change kinds of the file transfer.
const (
	KindDataSyncLocation = "datasync-location"
	KindDataSyncTask     = "datasync-task"
	KindDataSyncRun      = "datasync-execution"
	KindLogsPolicy       = "logs-resource-policy"
)

// FileTarget is where the file share is migrated to.
type FileTarget string

// The targets a FileTransferSpec can name.
const (
	// FileTargetS3 is an S3 bucket (EnsureBucket): the default.
	FileTargetS3 FileTarget = "s3"
	// FileTargetEFS is an EFS file system (EnsureFileSystem), for servers
	// that keep reading the share over NFS after the cutover.
	FileTargetEFS FileTarget = "efs"
)

// File share protocols.
const (
	ProtocolNFS = "NFS"
	ProtocolSMB = "SMB"
)

// FileShareSpec is the on-premises file share DataSync reads through an
// agent that runs next to it.
type FileShareSpec struct {
	// Protocol is ProtocolNFS or ProtocolSMB. It cannot change once the
	// source location exists.
	Protocol string
	// ServerHostname is the file server's DNS name or IPv4 address as
	// the agent reaches it.
	ServerHostname string
	// Subdirectory is the NFS export path or the SMB share path, for
	// example "/exports/share".
	Subdirectory string
	// AgentARNs are the activated DataSync agents (1 to 4) of the env's
	// account and Region. Activation is a manual step on the agent VM (an
	// activation key expires after 30 minutes), so the library takes the
	// ARNs rather than activating agents itself.
	AgentARNs []string
	// NFSVersion is AUTOMATIC (default), NFS3, NFS4_0 or NFS4_1.
	NFSVersion string
	// SMBUser and SMBDomain name the SMB account (SMB only).
	SMBUser, SMBDomain string
	// SMBPasswordSecretARN is the Secrets Manager secret holding the SMB
	// password: a plain string, or JSON with a "password" key. The
	// password is never accepted any other way. SMB only; required there.
	SMBPasswordSecretARN string
	// SMBVersion is AUTOMATIC (default), SMB1, SMB2, SMB2_0 or SMB3.
	SMBVersion string
}

// FileTransferSpec describes the migration of the file share: the target
// (an S3 bucket or an EFS file system), the DataSync role, the source and
// destination locations, the task and its CloudWatch logs.
type FileTransferSpec struct {
	// Target is FileTargetS3 (the default when empty) or FileTargetEFS.
	Target FileTarget
	// Source is the on-premises share.
	Source FileShareSpec
	// KMSKeyARN is the env key: it encrypts the bucket or the file system,
	// and the log group.
	KMSKeyARN string
	// BucketSubdirectory is the prefix the files land under, "/" by
	// default. S3 target only.
	BucketSubdirectory string
	// EFS is the file system of an EFS target (FileTargetEFS only): its
	// VPC, private subnets and client security groups are required (see
	// FileSystemSpec). Leave EFS.KMSKeyARN empty (KMSKeyARN encrypts it)
	// and EFS.RootAccessRoleARNs empty (the transfer gives root access to
	// its DataSync role, DataSyncEFSRoleSpec, and to no one else).
	EFS FileSystemSpec
	// EFSSubdirectory is the directory of the file system the files land
	// in, "/" by default. EFS target only.
	EFSSubdirectory string
	// BytesPerSecond caps the transfer's bandwidth, so that it leaves room
	// on the VPN or Direct Connect link for replication and users; -1 means
	// unlimited, and must be said explicitly. Required.
	BytesPerSecond int64
	// LogLevel is BASIC (default) or TRANSFER (every file). Logs go to the
	// env's log group "/cutover/<suffix>/datasync"; OFF is refused.
	LogLevel string
	// LogRetentionDays is one of LogRetentionDays; 90 when zero.
	LogRetentionDays int
	// ForceDeleteObjects lets DeleteFileTransfer destroy the bucket with
	// the migrated files in it (see BucketSpec.ForceDeleteObjects). S3
	// target only; an EFS target has EFS.ForceDeleteData.
	ForceDeleteObjects bool
}

var (
	agentARNRe  = regexp.MustCompile(`^arn:aws[a-z-]*:datasync:([a-z0-9-]+):([0-9]{12}):agent/agent-[0-9a-z]{17}$`)
	secretARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$`)
	hostnameRe  = regexp.MustCompile(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$`)
	nfsVersions = []string{"", "AUTOMATIC", "NFS3", "NFS4_0", "NFS4_1"}
	smbVersions = []string{"", "AUTOMATIC", "SMB1", "SMB2", "SMB2_0", "SMB3"}
)

// Validate checks the spec, naming each bad field and its rule.
func (s FileTransferSpec) Validate() error {
	var errs []error
	switch s.Target {
	case "", FileTargetS3:
		if !s.EFS.isZero() || s.EFSSubdirectory != "" {
			errs = append(errs, errors.New("transfer.efs: set, but the target is s3"))
		}
	case FileTargetEFS:
		errs = append(errs, s.validateEFS())
	default:
		errs = append(errs, fmt.Errorf("transfer.target: %q is not s3 or efs", s.Target))
	}
	src := s.Source
	switch src.Protocol {
	case ProtocolNFS:
		if src.SMBUser != "" || src.SMBDomain != "" || src.SMBPasswordSecretARN != "" || src.SMBVersion != "" {
			errs = append(errs, errors.New("transfer.source: SMB fields set on an NFS share"))
		}
		if !slices.Contains(nfsVersions, src.NFSVersion) {
			errs = append(errs, fmt.Errorf("transfer.source.nfsVersion: %q is not one of AUTOMATIC, NFS3, NFS4_0, NFS4_1", src.NFSVersion))
		}
	case ProtocolSMB:
		if src.SMBUser == "" || len(src.SMBUser) > 104 {
			errs = append(errs, errors.New("transfer.source.smbUser: required for SMB (at most 104 characters)"))
		}
		if !secretARNRe.MatchString(src.SMBPasswordSecretARN) {
			errs = append(errs, fmt.Errorf("transfer.source.smbPasswordSecretArn: %q is not a Secrets Manager secret ARN (required for SMB: the password is only read from Secrets Manager)", src.SMBPasswordSecretARN))
		}
		if !slices.Contains(smbVersions, src.SMBVersion) {
			errs = append(errs, fmt.Errorf("transfer.source.smbVersion: %q is not one of AUTOMATIC, SMB1, SMB2, SMB2_0, SMB3", src.SMBVersion))
		}
		if src.NFSVersion != "" {
			errs = append(errs, errors.New("transfer.source.nfsVersion: set on an SMB share"))
		}
	default:
		errs = append(errs, fmt.Errorf("transfer.source.protocol: %q is not NFS or SMB", src.Protocol))
	}
	if len(src.ServerHostname) > 255 || !hostnameRe.MatchString(src.ServerHostname) {
		errs = append(errs, fmt.Errorf("transfer.source.serverHostname: %q is not a host name or IPv4 address", src.ServerHostname))
	}
	if !strings.HasPrefix(src.Subdirectory, "/") || len(src.Subdirectory) > 4096 {
		errs = append(errs, fmt.Errorf("transfer.source.subdirectory: %q must be an absolute path (at most 4096 characters)", src.Subdirectory))
	}
	if len(src.AgentARNs) < 1 || len(src.AgentARNs) > 4 {
		errs = append(errs, fmt.Errorf("transfer.source.agentArns: 1 to 4 activated agents required, got %d", len(src.AgentARNs)))
	}
	for i, a := range src.AgentARNs {
		if !agentARNRe.MatchString(a) {
			errs = append(errs, fmt.Errorf("transfer.source.agentArns[%d]: %q is not a DataSync agent ARN", i, a))
		}
	}
	if !IsPending(s.KMSKeyARN) && !strings.HasPrefix(s.KMSKeyARN, "arn:aws") {
		errs = append(errs, fmt.Errorf("transfer.kmsKeyArn: %q is not a KMS key ARN (required)", s.KMSKeyARN))
	}
	if s.BucketSubdirectory != "" && !strings.HasPrefix(s.BucketSubdirectory, "/") {
		errs = append(errs, fmt.Errorf("transfer.bucketSubdirectory: %q must start with /", s.BucketSubdirectory))
	}
	if s.BytesPerSecond == 0 || s.BytesPerSecond < -1 {
		errs = append(errs, fmt.Errorf("transfer.bytesPerSecond: %d: a bandwidth limit in bytes per second is required (104857600 is 100 MiB/s), or -1 for unlimited", s.BytesPerSecond))
	}
	switch s.LogLevel {
	case "", "BASIC", "TRANSFER":
	default:
		errs = append(errs, fmt.Errorf("transfer.logLevel: %q is not BASIC or TRANSFER (logs to CloudWatch are required)", s.LogLevel))
	}
	if s.LogRetentionDays != 0 && !slices.Contains(LogRetentionDays, s.LogRetentionDays) {
		errs = append(errs, fmt.Errorf("transfer.logRetentionDays: %d is not one of %v", s.LogRetentionDays, LogRetentionDays))
	}
	return errors.Join(errs...)
}

// validateEFS checks the fields of an EFS target.
func (s FileTransferSpec) validateEFS() error {
	var errs []error
	if s.BucketSubdirectory != "" {
		errs = append(errs, errors.New("transfer.bucketSubdirectory: set, but the target is efs (see efsSubdirectory)"))
	}
	if s.ForceDeleteObjects {
		errs = append(errs, errors.New("transfer.forceDeleteObjects: set, but the target is efs (see efs.forceDeleteData)"))
	}
	if s.EFS.KMSKeyARN != "" {
		errs = append(errs, errors.New("transfer.efs.kmsKeyArn: leave empty: transfer.kmsKeyArn encrypts the file system"))
	}
	if len(s.EFS.RootAccessRoleARNs) > 0 {
		errs = append(errs, errors.New("transfer.efs.rootAccessRoleArns: leave empty: the transfer gives root access to its DataSync role only"))
	}
	if s.EFSSubdirectory != "" && (!strings.HasPrefix(s.EFSSubdirectory, "/") || len(s.EFSSubdirectory) > 4096) {
		errs = append(errs, fmt.Errorf("transfer.efsSubdirectory: %q must be an absolute path (at most 4096 characters)", s.EFSSubdirectory))
	}
	errs = append(errs, s.EFS.validateFields("transfer.efs"))
	return errors.Join(errs...)
}

// isZero reports whether no field of the spec is set.
func (s FileSystemSpec) isZero() bool {
	return s.KMSKeyARN == "" && s.VPCID == "" && len(s.SubnetIDs) == 0 && len(s.ClientSecurityGroupIDs) == 0 && len(s.ClientRoleARNs) == 0 &&
		len(s.RootAccessRoleARNs) == 0 && s.ThroughputMode == "" && s.ProvisionedThroughputMiBps == 0 && s.TransitionToIA == "" && !s.DisableBackup && !s.ForceDeleteData
}

// fileSystemSpec returns the spec of an EFS target's file system: the
// transfer's key, root access for the DataSync role.
func (s FileTransferSpec) fileSystemSpec(env Env) FileSystemSpec {
	fs := s.EFS
	fs.KMSKeyARN = s.KMSKeyARN
	fs.RootAccessRoleARNs = []string{RoleARN(env, DataSyncEFSRoleSpec(env))}
	return fs
}

func (s FileTransferSpec) efsSubdir() string {
	if s.EFSSubdirectory == "" {
		return "/"
	}
	return s.EFSSubdirectory
}

// validateIn checks what needs the env: the agents serve one account and
// Region, the env's.
func (s FileTransferSpec) validateIn(env Env) error {
	if err := Validate(env, s); err != nil {
		return err
	}
	for i, a := range s.Source.AgentARNs {
		m := agentARNRe.FindStringSubmatch(a)
		if m[1] != env.Region || m[2] != env.Account {
			return fmt.Errorf("transfer.source.agentArns[%d]: agent of account %s in %s; the env is account %s in %s (an agent serves one account and Region)", i, m[2], m[1], env.Account, env.Region)
		}
	}
	return nil
}

func (s FileTransferSpec) logLevel() string {
	if s.LogLevel == "" {
		return "BASIC"
	}
	return s.LogLevel
}

func (s FileTransferSpec) retention() int {
	if s.LogRetentionDays == 0 {
		return 90
	}
	return s.LogRetentionDays
}

func (s FileTransferSpec) bucketSubdir() string {
	if s.BucketSubdirectory == "" {
		return "/"
	}
	return s.BucketSubdirectory
}

func (s FileShareSpec) version() string {
	v := s.NFSVersion
	if s.Protocol == ProtocolSMB {
		v = s.SMBVersion
	}
	if v == "" {
		return "AUTOMATIC"
	}
	return v
}

// Names of the file transfer's resources.
func sourceLocationName(env Env) string { return env.Name("datasync-source-files") }
func targetLocationName(env Env) string { return env.Name("datasync-target-files") }

// TransferTaskName returns the name of the env's DataSync task,
// "datasync-task-files-<suffix>".
func TransferTaskName(env Env) string { return env.Name("datasync-task-files") }

// DataSyncLogGroup returns the name of the transfer's log group.
func DataSyncLogGroup(env Env) string { return env.LogGroup("datasync") }

func logsPolicyName(env Env) string { return env.Name("datasync-logs") }

// DataSyncRoleSpec returns the role DataSync assumes to write the bucket:
// trusted by datasync.amazonaws.com for this account's DataSync resources
// only (aws:SourceAccount and aws:SourceArn, against the confused deputy),
// allowed the bucket-level and object-level S3 actions of a DataSync S3
// location on BucketName(env) only, and the env key through S3 only.
func DataSyncRoleSpec(env Env, spec FileTransferSpec) RoleSpec {
	bucket := BucketARN(BucketName(env))
	return RoleSpec{
		Name:        env.Name("datasync-s3-access"),
		Description: "DataSync writes the migrated file share to " + BucketName(env),
		Trust: NewPolicy(Statement{
			Effect: "Allow", Principal: ServicePrincipal("datasync.amazonaws.com"), Action: Strings{"sts:AssumeRole"},
			Condition: Condition{
				"StringEquals": {"aws:SourceAccount": {env.Account}},
				"ArnLike":      {"aws:SourceArn": {"arn:aws:datasync:" + env.Region + ":" + env.Account + ":*"}},
			},
		}),
		Inline: map[string]PolicyDocument{"s3-bucket": NewPolicy(
			Allow("Bucket", []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}, []string{bucket}),
			Allow("Objects", []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion",
				"s3:GetObjectVersionTagging", "s3:ListMultipartUploadParts", "s3:PutObject", "s3:PutObjectTagging"}, []string{bucket + "/*"}),
			Statement{Sid: "BucketKey", Effect: "Allow", Action: Strings{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: Strings{spec.KMSKeyARN},
				Condition: Condition{"StringEquals": {"kms:ViaService": {"s3." + env.Region + ".amazonaws.com"}}}},
		)},
	}
}

// EnsureDataSyncRole ensures DataSyncRoleSpec through EnsureRole.
func EnsureDataSyncRole(ctx context.Context, env Env, api IAMAPI, spec FileTransferSpec) (Role, error) {
	if err := spec.validateIn(env); err != nil {
		return Role{}, fmt.Errorf("ensure datasync role: %w", err)
	}
	return EnsureRole(ctx, env, api, DataSyncRoleSpec(env, spec))
}

// DeleteDataSyncRole deletes DataSyncRoleSpec through DeleteRole.
func DeleteDataSyncRole(ctx context.Context, env Env, api IAMAPI, spec FileTransferSpec) error {
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("delete datasync role: %w", err)
	}
	return DeleteRole(ctx, env, api, DataSyncRoleSpec(env, spec))
}

// Location is an ensured DataSync location.
type Location struct {
	Name string
	ARN  string
}

// locationFound is a location of the env found by its tags.
type locationFound struct {
	arn, uri string
	tags     map[string]string
}

// findLocation returns the env's location of that Name tag, nil when
// there is none, or an error when more than one carries it.
func findLocation(ctx context.Context, env Env, api DataSyncAPI, name string) (*locationFound, error) {
	var found []locationFound
	p := datasync.NewListLocationsPaginator(api, &datasync.ListLocationsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list locations: %w", err)
		}
		for _, l := range page.Locations {
			tags, err := dataSyncTags(ctx, api, aws.ToString(l.LocationArn))
			if err != nil {
				return nil, err
			}
			if env.Owns(tags) && tags["Name"] == name {
				found = append(found, locationFound{arn: aws.ToString(l.LocationArn), uri: aws.ToString(l.LocationUri), tags: tags})
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	}
	arns := make([]string, len(found))
	for i, f := range found {
		arns[i] = f.arn
	}
	return nil, fmt.Errorf("%d locations carry %s=%s and Name=%s (%v); expected one: delete the extras", len(found), OwnerTag, env.Suffix, name, arns)
}

func dataSyncTags(ctx context.Context, api DataSyncAPI, arn string) (map[string]string, error) {
	m := map[string]string{}
	p := datasync.NewListTagsForResourcePaginator(api, &datasync.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", arn, err)
		}
		for _, t := range page.Tags {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return m, nil
}

// tagDataSync returns the write that adds missing tags to a DataSync
// location or task.
func tagDataSync(ctx context.Context, api DataSyncAPI, arn string) func(missing map[string]string) error {
	return func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &datasync.TagResourceInput{ResourceArn: aws.String(arn), Tags: dataSyncTagList(missing)}); err != nil {
			return fmt.Errorf("tag %s: %w", arn, err)
		}
		return nil
	}
}

func dataSyncTagList(m map[string]string) []dstypes.TagListEntry {
	out := make([]dstypes.TagListEntry, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, dstypes.TagListEntry{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// splitURI splits "nfs://host/path/" into its scheme, host and path
// without the trailing slash ("/" stays "/").
func splitURI(uri string) (scheme, host, path string) {
	scheme, rest, _ := strings.Cut(uri, "://")
	host, path, _ = strings.Cut(rest, "/")
	return scheme, host, cleanSubdir("/" + path)
}

func cleanSubdir(p string) string {
	if p = strings.TrimSuffix(p, "/"); p == "" {
		return "/"
	}
	return p
}

// EnsureSourceLocation makes the env's source location
// "datasync-source-files-<suffix>" exist and converge: NFS or SMB, the
// spec's server, path, agents and mount version, and the env's tags.
//
// The agents must exist in DataSync (activated); one that is not ONLINE is
// reported in the Change's Note. The SMB password is read through secrets
// only when the location is created (see RefreshSMBPassword after a
// rotation). The protocol is immutable: a location of the other protocol
// is refused, never replaced. A look-alike without the ownership tag is
// not adopted. Idempotent.
func EnsureSourceLocation(ctx context.Context, env Env, api DataSyncAPI, secrets SecretReader, spec FileTransferSpec) (Location, error) {
	name := sourceLocationName(env)
	if err := spec.validateIn(env); err != nil {
		return Location{}, fmt.Errorf("ensure datasync location %q: %w", name, err)
	}
	l, err := ensureSourceLocation(ctx, env, api, secrets, spec, name)
	if err != nil {
		return Location{}, fmt.Errorf("ensure datasync location %q: %w", name, err)
	}
	return l, nil
}

func ensureSourceLocation(ctx context.Context, env Env, api DataSyncAPI, secrets SecretReader, spec FileTransferSpec, name string) (Location, error) {
	src := spec.Source
	note, err := agentsNote(ctx, api, src.AgentARNs)
	if err != nil {
		return Location{}, err
	}
	found, err := findLocation(ctx, env, api, name)
	if err != nil {
		return Location{}, err
	}
	tags := env.NameTags(name)
	if found == nil {
		if env.DryRun {
			env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: Pending(name), Action: ActionCreate, Note: note})
			return Location{Name: name, ARN: Pending(name)}, nil
		}
		arn, err := createSourceLocation(ctx, api, secrets, spec, tags)
		if err != nil {
			return Location{}, err
		}
		env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: arn, Action: ActionCreate, Note: note})
		return Location{Name: name, ARN: arn}, nil
	}

	scheme, host, path := splitURI(found.uri)
	if !strings.EqualFold(scheme, src.Protocol) {
		return Location{}, fmt.Errorf("protocol is immutable: %s is %s, the spec wants %s; delete the source location and apply again", found.arn, strings.ToUpper(scheme), src.Protocol)
	}
	var diff []FieldDiff
	var agents []string
	var version string
	var user, domain string
	if src.Protocol == ProtocolNFS {
		d, err := api.DescribeLocationNfs(ctx, &datasync.DescribeLocationNfsInput{LocationArn: aws.String(found.arn)})
		if err != nil {
			return Location{}, fmt.Errorf("describe %s: %w", found.arn, err)
		}
		if d.OnPremConfig != nil {
			agents = d.OnPremConfig.AgentArns
		}
		if d.MountOptions != nil {
			version = string(d.MountOptions.Version)
		}
	} else {
		d, err := api.DescribeLocationSmb(ctx, &datasync.DescribeLocationSmbInput{LocationArn: aws.String(found.arn)})
		if err != nil {
			return Location{}, fmt.Errorf("describe %s: %w", found.arn, err)
		}
		agents, user, domain = d.AgentArns, aws.ToString(d.User), aws.ToString(d.Domain)
		if d.MountOptions != nil {
			version = string(d.MountOptions.Version)
		}
	}
	if host != src.ServerHostname {
		diff = append(diff, FieldDiff{Field: "serverHostname", From: host, To: src.ServerHostname})
	}
	if path != cleanSubdir(src.Subdirectory) {
		diff = append(diff, FieldDiff{Field: "subdirectory", From: path, To: cleanSubdir(src.Subdirectory)})
	}
	if !sameSet(agents, src.AgentARNs) {
		diff = append(diff, FieldDiff{Field: "agentArns", From: strings.Join(agents, ","), To: strings.Join(src.AgentARNs, ",")})
	}
	if version != src.version() {
		diff = append(diff, FieldDiff{Field: "version", From: version, To: src.version()})
	}
	if src.Protocol == ProtocolSMB && (user != src.SMBUser || domain != src.SMBDomain) {
		diff = append(diff, FieldDiff{Field: "user", From: domain + `\` + user, To: src.SMBDomain + `\` + src.SMBUser})
	}
	var c Converge
	c.FixAll(diff, func() error { return updateSourceLocation(ctx, api, spec, found.arn) })
	c.Tags(found.tags, tags, tagDataSync(ctx, api, found.arn))
	if err := c.Apply(env, Change{Kind: KindDataSyncLocation, Name: name, ID: found.arn, Note: note}); err != nil {
		return Location{}, err
	}
	return Location{Name: name, ARN: found.arn}, nil
}

// agentsNote checks that every agent exists and returns a note naming
// those that are not ONLINE.
func agentsNote(ctx context.Context, api DataSyncAPI, arns []string) (string, error) {
	var offline []string
	for _, a := range arns {
		out, err := api.DescribeAgent(ctx, &datasync.DescribeAgentInput{AgentArn: aws.String(a)})
		if err != nil {
			return "", fmt.Errorf("agent %s: not an activated agent of this account and Region (activate it on the agent VM first): %w", a, err)
		}
		if out.Status != dstypes.AgentStatusOnline {
			offline = append(offline, a+" is "+string(out.Status))
		}
	}
	if len(offline) == 0 {
		return "", nil
	}
	return "agent " + strings.Join(offline, "; ") + ": transfers wait until it is ONLINE", nil
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func createSourceLocation(ctx context.Context, api DataSyncAPI, secrets SecretReader, spec FileTransferSpec, tags map[string]string) (string, error) {
	src := spec.Source
	if src.Protocol == ProtocolNFS {
		out, err := api.CreateLocationNfs(ctx, &datasync.CreateLocationNfsInput{
			ServerHostname: aws.String(src.ServerHostname), Subdirectory: aws.String(src.Subdirectory),
			OnPremConfig: &dstypes.OnPremConfig{AgentArns: src.AgentARNs}, MountOptions: &dstypes.NfsMountOptions{Version: dstypes.NfsVersion(src.version())},
			Tags: dataSyncTagList(tags),
		})
		if err != nil {
			return "", fmt.Errorf("create nfs location: %w", err)
		}
		return aws.ToString(out.LocationArn), nil
	}
	password, err := smbPassword(ctx, secrets, src.SMBPasswordSecretARN)
	if err != nil {
		return "", err
	}
	in := &datasync.CreateLocationSmbInput{
		ServerHostname: aws.String(src.ServerHostname), Subdirectory: aws.String(src.Subdirectory), AgentArns: src.AgentARNs,
		User: aws.String(src.SMBUser), Password: aws.String(password), AuthenticationType: dstypes.SmbAuthenticationTypeNtlm,
		MountOptions: &dstypes.SmbMountOptions{Version: dstypes.SmbVersion(src.version())}, Tags: dataSyncTagList(tags),
	}
	if src.SMBDomain != "" {
		in.Domain = aws.String(src.SMBDomain)
	}
	out, err := api.CreateLocationSmb(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create smb location: %w", err)
	}
	return aws.ToString(out.LocationArn), nil
}

func updateSourceLocation(ctx context.Context, api DataSyncAPI, spec FileTransferSpec, arn string) error {
	src := spec.Source
	var err error
	if src.Protocol == ProtocolNFS {
		_, err = api.UpdateLocationNfs(ctx, &datasync.UpdateLocationNfsInput{
			LocationArn: aws.String(arn), ServerHostname: aws.String(src.ServerHostname), Subdirectory: aws.String(src.Subdirectory),
			OnPremConfig: &dstypes.OnPremConfig{AgentArns: src.AgentARNs}, MountOptions: &dstypes.NfsMountOptions{Version: dstypes.NfsVersion(src.version())},
		})
	} else {
		_, err = api.UpdateLocationSmb(ctx, &datasync.UpdateLocationSmbInput{
			LocationArn: aws.String(arn), ServerHostname: aws.String(src.ServerHostname), Subdirectory: aws.String(src.Subdirectory),
			AgentArns: src.AgentARNs, User: aws.String(src.SMBUser), Domain: aws.String(src.SMBDomain),
			MountOptions: &dstypes.SmbMountOptions{Version: dstypes.SmbVersion(src.version())},
		})
	}
	if err != nil {
		return fmt.Errorf("update %s: %w", arn, err)
	}
	return nil
}

// smbPassword reads the SMB password from Secrets Manager: the secret
// string itself, or its "password" key when it is a JSON object. Errors
// name the secret, never its value.
func smbPassword(ctx context.Context, secrets SecretReader, arn string) (string, error) {
	if secrets == nil {
		return "", fmt.Errorf("an SMB share needs a SecretReader to read %s", arn)
	}
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read SMB password secret %s: %w", arn, err)
	}
	s := aws.ToString(out.SecretString)
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		var v struct {
			Password string `json:"password"`
		}
		if json.Unmarshal([]byte(s), &v) != nil || v.Password == "" {
			return "", fmt.Errorf("SMB password secret %s is a JSON object without a \"password\" key", arn)
		}
		return v.Password, nil
	}
	if s == "" {
		return "", fmt.Errorf("SMB password secret %s has no secret string", arn)
	}
	return s, nil
}

// RefreshSMBPassword reads the SMB password from its secret again and
// gives it to the env's SMB source location, after the secret was
// rotated. It is a no-op for an NFS share and in a dry run.
func RefreshSMBPassword(ctx context.Context, env Env, api DataSyncAPI, secrets SecretReader, spec FileTransferSpec) error {
	name := sourceLocationName(env)
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("refresh smb password of %q: %w", name, err)
	}
	if spec.Source.Protocol != ProtocolSMB || env.DryRun {
		return nil
	}
	found, err := findLocation(ctx, env, api, name)
	if err != nil {
		return fmt.Errorf("refresh smb password of %q: %w", name, err)
	}
	if found == nil {
		return fmt.Errorf("refresh smb password of %q: the location does not exist", name)
	}
	password, err := smbPassword(ctx, secrets, spec.Source.SMBPasswordSecretARN)
	if err != nil {
		return fmt.Errorf("refresh smb password of %q: %w", name, err)
	}
	if _, err := api.UpdateLocationSmb(ctx, &datasync.UpdateLocationSmbInput{LocationArn: aws.String(found.arn), Password: aws.String(password)}); err != nil {
		return fmt.Errorf("refresh smb password of %q: %w", name, err)
	}
	env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: found.arn, Action: ActionUpdate, Diff: []FieldDiff{{Field: "password", From: "(hidden)", To: "(from " + spec.Source.SMBPasswordSecretARN + ")"}}})
	return nil
}

// EnsureS3Location makes the env's destination location
// "datasync-target-files-<suffix>" exist and converge: BucketName(env)
// under spec.BucketSubdirectory, written through DataSyncRoleSpec's role,
// storage class STANDARD, the env's tags. The bucket is immutable (a
// location of another bucket is refused). A new role is not assumable by
// DataSync for some seconds: the create is retried, bounded, while
// DataSync reports it cannot assume it. Idempotent.
func EnsureS3Location(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec) (Location, error) {
	name := targetLocationName(env)
	if err := spec.validateIn(env); err != nil {
		return Location{}, fmt.Errorf("ensure datasync location %q: %w", name, err)
	}
	l, err := ensureS3Location(ctx, env, api, spec, name)
	if err != nil {
		return Location{}, fmt.Errorf("ensure datasync location %q: %w", name, err)
	}
	return l, nil
}

func ensureS3Location(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec, name string) (Location, error) {
	bucket := BucketName(env)
	role := RoleARN(env, DataSyncRoleSpec(env, spec))
	subdir := spec.bucketSubdir()
	found, err := findLocation(ctx, env, api, name)
	if err != nil {
		return Location{}, err
	}
	tags := env.NameTags(name)
	if found == nil {
		if env.DryRun {
			env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: Pending(name), Action: ActionCreate})
			return Location{Name: name, ARN: Pending(name)}, nil
		}
		var arn string
		// DataSync tests the role when the location is created: retry
		// while a new role is not assumable yet (IAM propagation).
		err := env.Retry(ctx, []string{"InvalidRequestException"}, func(ctx context.Context) error {
			out, err := api.CreateLocationS3(ctx, &datasync.CreateLocationS3Input{
				S3BucketArn: aws.String(BucketARN(bucket)), Subdirectory: aws.String(subdir), S3StorageClass: dstypes.S3StorageClassStandard,
				S3Config: &dstypes.S3Config{BucketAccessRoleArn: aws.String(role)}, Tags: dataSyncTagList(tags),
			})
			if err == nil {
				arn = aws.ToString(out.LocationArn)
			}
			return err
		})
		if err != nil {
			return Location{}, fmt.Errorf("create s3 location: %w", err)
		}
		env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: arn, Action: ActionCreate})
		return Location{Name: name, ARN: arn}, nil
	}
	scheme, host, path := splitURI(found.uri)
	if scheme != "s3" || host != bucket {
		return Location{}, fmt.Errorf("bucket is immutable: %s is %s, the spec wants s3://%s; delete the location and apply again", found.arn, found.uri, bucket)
	}
	d, err := api.DescribeLocationS3(ctx, &datasync.DescribeLocationS3Input{LocationArn: aws.String(found.arn)})
	if err != nil {
		return Location{}, fmt.Errorf("describe %s: %w", found.arn, err)
	}
	var diff []FieldDiff
	haveRole := ""
	if d.S3Config != nil {
		haveRole = aws.ToString(d.S3Config.BucketAccessRoleArn)
	}
	if path != cleanSubdir(subdir) {
		diff = append(diff, FieldDiff{Field: "subdirectory", From: path, To: cleanSubdir(subdir)})
	}
	if haveRole != role {
		diff = append(diff, FieldDiff{Field: "bucketAccessRole", From: haveRole, To: role})
	}
	if d.S3StorageClass != dstypes.S3StorageClassStandard {
		diff = append(diff, FieldDiff{Field: "storageClass", From: string(d.S3StorageClass), To: string(dstypes.S3StorageClassStandard)})
	}
	var c Converge
	c.FixAll(diff, func() error {
		if _, err := api.UpdateLocationS3(ctx, &datasync.UpdateLocationS3Input{LocationArn: aws.String(found.arn), Subdirectory: aws.String(subdir),
			S3StorageClass: dstypes.S3StorageClassStandard, S3Config: &dstypes.S3Config{BucketAccessRoleArn: aws.String(role)}}); err != nil {
			return fmt.Errorf("update %s: %w", found.arn, err)
		}
		return nil
	})
	c.Tags(found.tags, tags, tagDataSync(ctx, api, found.arn))
	if err := c.Apply(env, Change{Kind: KindDataSyncLocation, Name: name, ID: found.arn}); err != nil {
		return Location{}, err
	}
	return Location{Name: name, ARN: found.arn}, nil
}

// deleteLocation deletes the env's location of that name; a look-alike
// without the ownership tag is never found, a missing one is a no-op.
func deleteLocation(ctx context.Context, env Env, api DataSyncAPI, name string) error {
	found, err := findLocation(ctx, env, api, name)
	if err != nil {
		return fmt.Errorf("delete datasync location %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindDataSyncLocation, name)
		return nil
	}
	if !env.DryRun {
		if _, err := api.DeleteLocation(ctx, &datasync.DeleteLocationInput{LocationArn: aws.String(found.arn)}); err != nil {
			return fmt.Errorf("delete datasync location %q: %w", name, err)
		}
	}
	env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: found.arn, Action: ActionDelete})
	return nil
}

// DeleteSourceLocation deletes the env's source location. Only a location
// carrying the env's ownership tag and Name is touched; a missing one is a
// no-op. Delete the task first (DeleteTransferTask).
func DeleteSourceLocation(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec) error {
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("delete datasync location %q: %w", sourceLocationName(env), err)
	}
	return deleteLocation(ctx, env, api, sourceLocationName(env))
}

// DeleteS3Location deletes the env's destination location (not the
// bucket: see DeleteBucket). Same rules as DeleteSourceLocation.
func DeleteS3Location(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec) error {
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("delete datasync location %q: %w", targetLocationName(env), err)
	}
	return deleteLocation(ctx, env, api, targetLocationName(env))
}

// DataSyncLogsPolicy returns the CloudWatch Logs resource policy that lets
// DataSync tasks of this account and Region write to the transfer's log
// group, and to no other group.
func DataSyncLogsPolicy(env Env) PolicyDocument {
	return NewPolicy(Statement{
		Sid: "DataSyncLogsToCloudWatchLogs", Effect: "Allow", Principal: ServicePrincipal("datasync.amazonaws.com"),
		Action:   Strings{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: Strings{LogGroupARN(env, DataSyncLogGroup(env)) + ":*"},
		Condition: Condition{
			"StringEquals": {"aws:SourceAccount": {env.Account}},
			"ArnLike":      {"aws:SourceArn": {"arn:aws:datasync:" + env.Region + ":" + env.Account + ":task/*"}},
		},
	})
}

// EnsureDataSyncLogs makes the transfer's log group DataSyncLogGroup(env)
// exist (EnsureLogGroup: the env key, the spec's retention) and the
// CloudWatch Logs resource policy "datasync-logs-<suffix>" that lets
// DataSync write to it (DataSyncLogsPolicy). It reports one Change for
// each. CloudWatch Logs allows 10 resource policies per account and
// Region; the env uses one. Idempotent.
func EnsureDataSyncLogs(ctx context.Context, env Env, api DataSyncLogsAPI, spec FileTransferSpec) (LogGroup, error) {
	if err := spec.validateIn(env); err != nil {
		return LogGroup{}, fmt.Errorf("ensure datasync logs: %w", err)
	}
	g, err := EnsureLogGroup(ctx, env, api, LogGroupSpec{Name: DataSyncLogGroup(env), RetentionDays: spec.retention(), KMSKeyARN: spec.KMSKeyARN})
	if err != nil {
		return LogGroup{}, err
	}
	name := logsPolicyName(env)
	doc := DataSyncLogsPolicy(env).JSON()
	have, found, err := findLogsPolicy(ctx, api, name)
	if err != nil {
		return LogGroup{}, fmt.Errorf("ensure logs resource policy %q: %w", name, err)
	}
	action := ActionCreate
	var diff []FieldDiff
	switch {
	case !found:
	case PolicyEqual(have, doc):
		action = ActionNoop
	default:
		action = ActionUpdate
		diff = []FieldDiff{{Field: "policy", From: "(differs)", To: "DataSyncLogsPolicy(env)"}}
	}
	if action != ActionNoop && !env.DryRun {
		if _, err := api.PutResourcePolicy(ctx, &cloudwatchlogs.PutResourcePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			return LogGroup{}, fmt.Errorf("ensure logs resource policy %q: %w", name, err)
		}
	}
	env.Report(Change{Kind: KindLogsPolicy, Name: name, ID: name, Action: action, Diff: diff})
	return g, nil
}

func findLogsPolicy(ctx context.Context, api DataSyncLogsAPI, name string) (string, bool, error) {
	in := &cloudwatchlogs.DescribeResourcePoliciesInput{}
	for {
		out, err := api.DescribeResourcePolicies(ctx, in)
		if err != nil {
			return "", false, fmt.Errorf("describe resource policies: %w", err)
		}
		for _, p := range out.ResourcePolicies {
			if aws.ToString(p.PolicyName) == name {
				return aws.ToString(p.PolicyDocument), true, nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return "", false, nil
		}
		in.NextToken = out.NextToken
	}
}

// DeleteDataSyncLogs deletes the resource policy and the log group (and
// its logs; see DeleteLogGroup). Both are no-ops when gone.
func DeleteDataSyncLogs(ctx context.Context, env Env, api DataSyncLogsAPI, spec FileTransferSpec) error {
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("delete datasync logs: %w", err)
	}
	name := logsPolicyName(env)
	_, found, err := findLogsPolicy(ctx, api, name)
	if err != nil {
		return fmt.Errorf("delete logs resource policy %q: %w", name, err)
	}
	if !found {
		env.ReportGone(KindLogsPolicy, name)
	} else {
		if !env.DryRun {
			if _, err := api.DeleteResourcePolicy(ctx, &cloudwatchlogs.DeleteResourcePolicyInput{PolicyName: aws.String(name)}); err != nil && !awsx.IsNotFound(err) {
				return fmt.Errorf("delete logs resource policy %q: %w", name, err)
			}
		}
		env.Report(Change{Kind: KindLogsPolicy, Name: name, ID: name, Action: ActionDelete})
	}
	return DeleteLogGroup(ctx, env, api, LogGroupSpec{Name: DataSyncLogGroup(env), RetentionDays: spec.retention(), KMSKeyARN: spec.KMSKeyARN})
}

// TaskLinks are the parents of the transfer task: its locations and log
// group. Pending IDs (dry run) make EnsureTransferTask report a create
// without calling AWS.
type TaskLinks struct {
	SourceLocationARN      string
	DestinationLocationARN string
	LogGroupARN            string
}

// TransferTask is an ensured DataSync task.
type TransferTask struct {
	Name string
	ARN  string
}

// taskOptions returns the options the task converges to: verify what was
// transferred, move only what changed (incremental re-runs), keep files
// deleted at the source, the spec's bandwidth limit and log level.
func (s FileTransferSpec) taskOptions() *dstypes.Options {
	return &dstypes.Options{
		VerifyMode: dstypes.VerifyModeOnlyFilesTransferred, TransferMode: dstypes.TransferModeChanged,
		BytesPerSecond: aws.Int64(s.BytesPerSecond), LogLevel: dstypes.LogLevel(s.logLevel()),
		PreserveDeletedFiles: dstypes.PreserveDeletedFilesPreserve, OverwriteMode: dstypes.OverwriteModeAlways,
	}
}

// taskTimeout bounds the wait for a new task to become AVAILABLE.
const taskTimeout = 5 * time.Minute

// EnsureTransferTask makes the env's task TransferTaskName(env) exist and
// converge: from links.SourceLocationARN to links.DestinationLocationARN,
// VerifyMode ONLY_FILES_TRANSFERRED, TransferMode CHANGED (every re-run is
// incremental), PreserveDeletedFiles PRESERVE (nothing the source deleted
// is deleted in the bucket), the spec's BytesPerSecond and LogLevel,
// logging to links.LogGroupARN, the env's tags.
//
// A task's locations are immutable: a task between other locations is
// refused, never replaced. A same-named task without the ownership tag is
// not adopted. A new task is waited for until AVAILABLE. Idempotent.
func EnsureTransferTask(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec, links TaskLinks) (TransferTask, error) {
	name := TransferTaskName(env)
	if err := spec.validateIn(env); err != nil {
		return TransferTask{}, fmt.Errorf("ensure datasync task %q: %w", name, err)
	}
	if links.SourceLocationARN == "" || links.DestinationLocationARN == "" || links.LogGroupARN == "" {
		return TransferTask{}, fmt.Errorf("ensure datasync task %q: links: source, destination and log group ARNs are required", name)
	}
	t, err := ensureTransferTask(ctx, env, api, spec, links, name)
	if err != nil {
		return TransferTask{}, fmt.Errorf("ensure datasync task %q: %w", name, err)
	}
	return t, nil
}

func findTask(ctx context.Context, env Env, api DataSyncAPI, name string) (string, map[string]string, error) {
	var arns []string
	var tags map[string]string
	p := datasync.NewListTasksPaginator(api, &datasync.ListTasksInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", nil, fmt.Errorf("list tasks: %w", err)
		}
		for _, t := range page.Tasks {
			if aws.ToString(t.Name) != name {
				continue
			}
			m, err := dataSyncTags(ctx, api, aws.ToString(t.TaskArn))
			if err != nil {
				return "", nil, err
			}
			if env.Owns(m) {
				arns, tags = append(arns, aws.ToString(t.TaskArn)), m
			}
		}
	}
	switch len(arns) {
	case 0:
		return "", nil, nil
	case 1:
		return arns[0], tags, nil
	}
	return "", nil, fmt.Errorf("%d tasks named %s carry %s=%s (%v); expected one: delete the extras", len(arns), name, OwnerTag, env.Suffix, arns)
}

func ensureTransferTask(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec, links TaskLinks, name string) (TransferTask, error) {
	if AnyPending(links.SourceLocationARN, links.DestinationLocationARN, links.LogGroupARN) {
		// A parent is still to be created (dry run): so is the task.
		env.Report(Change{Kind: KindDataSyncTask, Name: name, ID: Pending(name), Action: ActionCreate})
		return TransferTask{Name: name, ARN: Pending(name)}, nil
	}
	arn, haveTags, err := findTask(ctx, env, api, name)
	if err != nil {
		return TransferTask{}, err
	}
	tags := env.NameTags(name)
	want := spec.taskOptions()
	if arn == "" {
		if env.DryRun {
			env.Report(Change{Kind: KindDataSyncTask, Name: name, ID: Pending(name), Action: ActionCreate})
			return TransferTask{Name: name, ARN: Pending(name)}, nil
		}
		out, err := api.CreateTask(ctx, &datasync.CreateTaskInput{
			Name: aws.String(name), SourceLocationArn: aws.String(links.SourceLocationARN), DestinationLocationArn: aws.String(links.DestinationLocationARN),
			CloudWatchLogGroupArn: aws.String(links.LogGroupARN), Options: want, Tags: dataSyncTagList(tags),
		})
		if err != nil {
			return TransferTask{}, fmt.Errorf("create: %w", err)
		}
		arn = aws.ToString(out.TaskArn)
		if err := waitTask(ctx, env, api, arn); err != nil {
			return TransferTask{}, err
		}
		env.Report(Change{Kind: KindDataSyncTask, Name: name, ID: arn, Action: ActionCreate})
		return TransferTask{Name: name, ARN: arn}, nil
	}

	d, err := api.DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(arn)})
	if err != nil {
		return TransferTask{}, fmt.Errorf("describe %s: %w", arn, err)
	}
	src, dst := aws.ToString(d.SourceLocationArn), aws.ToString(d.DestinationLocationArn)
	if src != links.SourceLocationARN || dst != links.DestinationLocationARN {
		return TransferTask{}, fmt.Errorf("locations are immutable: task %s runs %s -> %s, the spec wants %s -> %s; delete the task and apply again", arn, src, dst, links.SourceLocationARN, links.DestinationLocationARN)
	}
	var diff []FieldDiff
	have := d.Options
	if have == nil {
		have = &dstypes.Options{}
	}
	for _, f := range []struct{ field, from, to string }{
		{"verifyMode", string(have.VerifyMode), string(want.VerifyMode)},
		{"transferMode", string(have.TransferMode), string(want.TransferMode)},
		{"bytesPerSecond", fmt.Sprint(aws.ToInt64(have.BytesPerSecond)), fmt.Sprint(*want.BytesPerSecond)},
		{"logLevel", string(have.LogLevel), string(want.LogLevel)},
		{"preserveDeletedFiles", string(have.PreserveDeletedFiles), string(want.PreserveDeletedFiles)},
		{"overwriteMode", string(have.OverwriteMode), string(want.OverwriteMode)},
		{"cloudWatchLogGroupArn", aws.ToString(d.CloudWatchLogGroupArn), links.LogGroupARN},
	} {
		if f.from != f.to {
			diff = append(diff, FieldDiff{Field: f.field, From: f.from, To: f.to})
		}
	}
	var c Converge
	c.FixAll(diff, func() error {
		if _, err := api.UpdateTask(ctx, &datasync.UpdateTaskInput{TaskArn: aws.String(arn), Options: want, CloudWatchLogGroupArn: aws.String(links.LogGroupARN)}); err != nil {
			return fmt.Errorf("update %s: %w", arn, err)
		}
		return nil
	})
	c.Tags(haveTags, tags, tagDataSync(ctx, api, arn))
	if err := c.Apply(env, Change{Kind: KindDataSyncTask, Name: name, ID: arn}); err != nil {
		return TransferTask{}, err
	}
	return TransferTask{Name: name, ARN: arn}, nil
}

func waitTask(ctx context.Context, env Env, api DataSyncAPI, arn string) error {
	return env.Poll(ctx, "datasync task "+arn+" to be AVAILABLE", 5*time.Second, taskTimeout, func(ctx context.Context) (string, bool, error) {
		d, err := api.DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(arn)})
		if err != nil {
			if awsx.HasCode(err, "InvalidRequestException") { // not visible yet
				return "not visible", false, nil
			}
			return "", false, err
		}
		switch d.Status {
		case dstypes.TaskStatusAvailable, dstypes.TaskStatusRunning, dstypes.TaskStatusQueued:
			return string(d.Status), true, nil
		case dstypes.TaskStatusUnavailable:
			return "", false, fmt.Errorf("task %s is UNAVAILABLE: %s %s", arn, aws.ToString(d.ErrorCode), aws.ToString(d.ErrorDetail))
		}
		return string(d.Status), false, nil
	})
}

// ErrTransferRunning is wrapped by the error DeleteTransferTask returns
// while an execution of the task runs.
var ErrTransferRunning = errors.New("a transfer is running")

// DeleteTransferTask deletes the env's task. It refuses (ErrTransferRunning)
// while an execution runs: cancel it deliberately first. A task without
// the ownership tag is left in place; a missing task is a no-op.
func DeleteTransferTask(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec) error {
	name := TransferTaskName(env)
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("delete datasync task %q: %w", name, err)
	}
	arn, _, err := findTask(ctx, env, api, name)
	if err != nil {
		return fmt.Errorf("delete datasync task %q: %w", name, err)
	}
	if arn == "" {
		env.ReportGone(KindDataSyncTask, name)
		return nil
	}
	d, err := api.DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("delete datasync task %q: describe: %w", name, err)
	}
	if cur := aws.ToString(d.CurrentTaskExecutionArn); cur != "" {
		return fmt.Errorf("delete datasync task %q: %w (%s); wait for it or cancel it first", name, ErrTransferRunning, cur)
	}
	if !env.DryRun {
		if _, err := api.DeleteTask(ctx, &datasync.DeleteTaskInput{TaskArn: aws.String(arn)}); err != nil {
			return fmt.Errorf("delete datasync task %q: %w", name, err)
		}
	}
	env.Report(Change{Kind: KindDataSyncTask, Name: name, ID: arn, Action: ActionDelete})
	return nil
}

// FileTransferClients are the clients EnsureFileTransfer and
// DeleteFileTransfer use. Secrets may be nil for an NFS share; S3 may be
// nil for an EFS target, EFS and EC2 for an S3 target.
type FileTransferClients struct {
	S3       S3API
	DataSync DataSyncAPI
	IAM      IAMAPI
	Logs     DataSyncLogsAPI
	Secrets  SecretReader
	EFS      EFSAPI
	EC2      EFSNetworkAPI
}

// check reports a client the spec's target needs and c lacks.
func (c FileTransferClients) check(spec FileTransferSpec) error {
	if c.DataSync == nil || c.IAM == nil || c.Logs == nil {
		return errors.New("clients: DataSync, IAM and Logs are required")
	}
	if spec.Target == FileTargetEFS && (c.EFS == nil || c.EC2 == nil) {
		return errors.New("clients: an EFS target needs the EFS and EC2 clients")
	}
	if spec.Target != FileTargetEFS && c.S3 == nil {
		return errors.New("clients: an S3 target needs the S3 client")
	}
	return nil
}

// FileTransfer is the ensured file transfer.
type FileTransfer struct {
	// Bucket is the S3 target's bucket (zero for an EFS target).
	Bucket Bucket
	// FileSystem is the EFS target's file system (zero for an S3 target).
	FileSystem FileSystem
	// Role is the DataSync role: DataSyncRoleSpec's for an S3 target,
	// DataSyncEFSRoleSpec's for an EFS target.
	Role           Role
	LogGroup       LogGroup
	SourceLocation Location
	TargetLocation Location
	Task           TransferTask
}

// EnsureFileTransfer ensures, in dependency order, the bucket
// (EnsureBucket), the DataSync role (EnsureDataSyncRole), the log group
// and its resource policy (EnsureDataSyncLogs), the source and destination
// locations and the task. Each reports its own Change. Idempotent.
//
// For an EFS target (FileTargetEFS) the bucket and the S3 role give way
// to the DataSync EFS role (DataSyncEFSRoleSpec) first and, after the
// source location, the file system with its security group and mount
// targets (EnsureFileSystem) and the EFS location (EnsureEFSLocation);
// the task is the same.
func EnsureFileTransfer(ctx context.Context, env Env, c FileTransferClients, spec FileTransferSpec) (FileTransfer, error) {
	if err := spec.validateIn(env); err != nil {
		return FileTransfer{}, fmt.Errorf("ensure file transfer: %w", err)
	}
	if err := c.check(spec); err != nil {
		return FileTransfer{}, fmt.Errorf("ensure file transfer: %w", err)
	}
	if spec.Target == FileTargetEFS {
		return ensureEFSFileTransfer(ctx, env, c, spec)
	}
	var ft FileTransfer
	var err error
	if ft.Bucket, err = EnsureBucket(ctx, env, c.S3, BucketSpec{KMSKeyARN: spec.KMSKeyARN, ForceDeleteObjects: spec.ForceDeleteObjects}); err != nil {
		return ft, err
	}
	if ft.Role, err = EnsureDataSyncRole(ctx, env, c.IAM, spec); err != nil {
		return ft, err
	}
	if ft.LogGroup, err = EnsureDataSyncLogs(ctx, env, c.Logs, spec); err != nil {
		return ft, err
	}
	if ft.SourceLocation, err = EnsureSourceLocation(ctx, env, c.DataSync, c.Secrets, spec); err != nil {
		return ft, err
	}
	if ft.TargetLocation, err = EnsureS3Location(ctx, env, c.DataSync, spec); err != nil {
		return ft, err
	}
	links := TaskLinks{SourceLocationARN: ft.SourceLocation.ARN, DestinationLocationARN: ft.TargetLocation.ARN, LogGroupARN: ft.LogGroup.ARN}
	if ft.Task, err = EnsureTransferTask(ctx, env, c.DataSync, spec, links); err != nil {
		return ft, err
	}
	return ft, nil
}

// DeleteFileTransfer deletes the file transfer in reverse order: the task
// (refused while a transfer runs), the locations, the logs, the role, and
// the bucket last — which DeleteBucket refuses while it holds the migrated
// files, unless spec.ForceDeleteObjects. Every step runs even when one
// fails (except that nothing is deleted under a running task), and every
// error is returned.
//
// For an EFS target the file system goes (DeleteFileSystem: refused while
// it holds the migrated files, unless spec.EFS.ForceDeleteData) before
// the DataSync EFS role, which is kept while the file system stays: its
// policy names the role.
func DeleteFileTransfer(ctx context.Context, env Env, c FileTransferClients, spec FileTransferSpec) error {
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("delete file transfer: %w", err)
	}
	if err := c.check(spec); err != nil {
		return fmt.Errorf("delete file transfer: %w", err)
	}
	if err := DeleteTransferTask(ctx, env, c.DataSync, spec); err != nil {
		return err // the locations are in use by the running task
	}
	if spec.Target == FileTargetEFS {
		return deleteEFSFileTransfer(ctx, env, c, spec)
	}
	return errors.Join(
		DeleteSourceLocation(ctx, env, c.DataSync, spec),
		DeleteS3Location(ctx, env, c.DataSync, spec),
		DeleteDataSyncLogs(ctx, env, c.Logs, spec),
		DeleteDataSyncRole(ctx, env, c.IAM, spec),
		DeleteBucket(ctx, env, c.S3, BucketSpec{KMSKeyARN: spec.KMSKeyARN, ForceDeleteObjects: spec.ForceDeleteObjects}),
	)
}

// StartTransfer starts a run of the task (StartTaskExecution) and returns
// the execution ARN. When an execution of the task is already running —
// a re-run after a crash — it returns that one instead of starting a
// second. Every run after the first moves only what changed (TransferMode
// CHANGED). In a dry run it starts nothing and returns a Pending ID.
func StartTransfer(ctx context.Context, env Env, api DataSyncAPI, taskARN string) (string, error) {
	if err := env.Validate(); err != nil {
		return "", fmt.Errorf("start transfer: %w", err)
	}
	if IsPending(taskARN) || env.DryRun {
		id := Pending("execution")
		env.Report(Change{Kind: KindDataSyncRun, Name: taskARN, ID: id, Action: ActionCreate})
		return id, nil
	}
	d, err := api.DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(taskARN)})
	if err != nil {
		return "", fmt.Errorf("start transfer of %s: describe: %w", taskARN, err)
	}
	if cur := aws.ToString(d.CurrentTaskExecutionArn); cur != "" {
		env.Report(Change{Kind: KindDataSyncRun, Name: taskARN, ID: cur, Action: ActionNoop, Note: "already running"})
		return cur, nil
	}
	out, err := api.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskARN), Tags: dataSyncTagList(env.Tags())})
	if err != nil {
		return "", fmt.Errorf("start transfer of %s: %w", taskARN, err)
	}
	arn := aws.ToString(out.TaskExecutionArn)
	env.Report(Change{Kind: KindDataSyncRun, Name: taskARN, ID: arn, Action: ActionCreate})
	return arn, nil
}

// ReadTransfer reads an execution's progress (DescribeTaskExecution) as a
// TransferStatus and records it through rec (nil records nothing). An
// execution in ERROR is a status, not an error of ReadTransfer; its error
// code and detail are in the returned error of WaitTransfer.
func ReadTransfer(ctx context.Context, env Env, api DataSyncAPI, executionARN string, rec ProgressRecorder) (TransferStatus, error) {
	st, _, err := readTransfer(ctx, env, api, executionARN)
	if err != nil {
		return st, err
	}
	if rec != nil {
		if err := rec.RecordTransfer(ctx, st); err != nil {
			return st, fmt.Errorf("record transfer %s: %w", executionARN, err)
		}
	}
	return st, nil
}

func readTransfer(ctx context.Context, env Env, api DataSyncAPI, executionARN string) (TransferStatus, *dstypes.TaskExecutionResultDetail, error) {
	out, err := api.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(executionARN)})
	if err != nil {
		return TransferStatus{}, nil, fmt.Errorf("read transfer %s: %w", executionARN, err)
	}
	task, _, _ := strings.Cut(executionARN, "/execution/")
	return TransferStatus{
		Task: task, Execution: executionARN, Status: string(out.Status),
		BytesDone: out.BytesTransferred, BytesTotal: out.EstimatedBytesToTransfer, FilesDone: out.FilesTransferred, At: env.Now(),
	}, out.Result, nil
}

// ErrTransferFailed is wrapped by the error WaitTransfer returns for an
// execution that ends in ERROR.
var ErrTransferFailed = errors.New("transfer failed")

// WaitTransfer polls an execution every interval (a minute when zero) on
// the env clock until it ends or timeout passes, recording every reading
// through rec. It returns the last status, and an error wrapping
// ErrTransferFailed with DataSync's error code and detail when the
// execution ends in ERROR.
func WaitTransfer(ctx context.Context, env Env, api DataSyncAPI, executionARN string, rec ProgressRecorder, interval, timeout time.Duration) (TransferStatus, error) {
	if interval <= 0 {
		interval = time.Minute
	}
	var last TransferStatus
	var failed error
	err := env.Poll(ctx, "datasync execution "+executionARN, interval, timeout, func(ctx context.Context) (string, bool, error) {
		st, result, err := readTransfer(ctx, env, api, executionARN)
		if err != nil {
			return "", false, err
		}
		last = st
		if rec != nil {
			if err := rec.RecordTransfer(ctx, st); err != nil {
				return "", false, fmt.Errorf("record transfer %s: %w", executionARN, err)
			}
		}
		switch dstypes.TaskExecutionStatus(st.Status) {
		case dstypes.TaskExecutionStatusSuccess:
			return st.Status, true, nil
		case dstypes.TaskExecutionStatusError:
			code, detail := "", ""
			if result != nil {
				code, detail = aws.ToString(result.ErrorCode), aws.ToString(result.ErrorDetail)
			}
			failed = fmt.Errorf("%w: %s: %s %s (%d of %d bytes moved)", ErrTransferFailed, executionARN, code, detail, st.BytesDone, st.BytesTotal)
			return st.Status, true, nil
		}
		return fmt.Sprintf("%s %d/%d bytes", st.Status, st.BytesDone, st.BytesTotal), false, nil
	})
	if err != nil {
		return last, err
	}
	return last, failed
}
