package fakecloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
)

// DataSync is the fake DataSync client. Get it with Cloud.DataSync.
//
// Agents are scripted (AddAgent, SetAgentStatus): they run on-premises and
// are activated by hand. NFS, SMB, S3 and EFS (datasync_efs.go)
// locations, tasks and task executions follow the API: an S3 location
// needs a bucket of this account
// and a role DataSync can assume (a role not visible yet fails the create,
// as IAM propagation does); an execution goes LAUNCHING → PREPARING →
// TRANSFERRING → VERIFYING → SUCCESS on the fake clock, moving the bytes
// of the source (SetSourceData, ChangeSourceData) at the task's
// BytesPerSecond, and writes objects into the destination bucket, or adds
// the bytes to the destination file system, when it succeeds.
// FailNextExecution scripts a failure.
//
// Errors are InvalidRequestException, as DataSync reports a missing
// resource too.
type DataSync struct{ c *Cloud }

// DataSync returns the DataSync client of the cloud.
func (c *Cloud) DataSync() *DataSync { return &DataSync{c: c} }

func init() { register("datasync", func() any { return &dataSyncState{} }) }

type dataSyncState struct {
	Agents     map[string]*dsAgent     `json:"agents"`
	Locations  map[string]*dsLocation  `json:"locations"`
	Tasks      map[string]*dsTask      `json:"tasks"`
	Executions map[string]*dsExecution `json:"executions"`
}

type dsAgent struct {
	ARN     string            `json:"arn"`
	Name    string            `json:"name"`
	Status  string            `json:"status"`
	Tags    map[string]string `json:"tags"`
	Created time.Time         `json:"created"`
}

type dsLocation struct {
	ARN        string            `json:"arn"`
	Type       string            `json:"type"` // NFS, SMB, S3, EFS
	Hostname   string            `json:"hostname,omitempty"`
	Subdir     string            `json:"subdir"`
	AgentARNs  []string          `json:"agentArns,omitempty"`
	Version    string            `json:"version,omitempty"` // NFS or SMB mount version
	User       string            `json:"user,omitempty"`
	Domain     string            `json:"domain,omitempty"`
	PasswordFP string            `json:"passwordFingerprint,omitempty"` // SHA-256 of the password; the password itself is never kept
	Bucket     string            `json:"bucket,omitempty"`
	RoleARN    string            `json:"roleArn,omitempty"`
	Class      string            `json:"storageClass,omitempty"`
	Tags       map[string]string `json:"tags"`
	Created    time.Time         `json:"created"`
	// The data on a source: its size and what changed since the last
	// successful transfer.
	Bytes        int64 `json:"bytes,omitempty"`
	Files        int64 `json:"files,omitempty"`
	ChangedBytes int64 `json:"changedBytes,omitempty"`
	ChangedFiles int64 `json:"changedFiles,omitempty"`
	// An EFS location: its file system, the subnet and security groups of
	// DataSync's network interfaces, the role DataSync mounts with and
	// the in-transit encryption. Hostname is "<region>.<file system ID>".
	FileSystemID      string   `json:"fileSystemId,omitempty"`
	SubnetARN         string   `json:"subnetArn,omitempty"`
	SecurityGroupARNs []string `json:"securityGroupArns,omitempty"`
	AccessRoleARN     string   `json:"accessRoleArn,omitempty"`
	InTransit         string   `json:"inTransitEncryption,omitempty"`
}

type dsTask struct {
	ARN      string            `json:"arn"`
	Name     string            `json:"name"`
	Source   string            `json:"source"`
	Dest     string            `json:"dest"`
	LogGroup string            `json:"logGroup,omitempty"`
	Options  dsTaskOptions     `json:"options"`
	Tags     map[string]string `json:"tags"`
	Created  time.Time         `json:"created"`
	// Synced says whether a transfer has succeeded once: a CHANGED run
	// afterwards moves only what changed.
	Synced   bool   `json:"synced"`
	FailNext string `json:"failNext,omitempty"` // "code: detail"
}

type dsTaskOptions struct {
	VerifyMode           string `json:"verifyMode"`
	TransferMode         string `json:"transferMode"`
	BytesPerSecond       int64  `json:"bytesPerSecond"`
	LogLevel             string `json:"logLevel"`
	PreserveDeletedFiles string `json:"preserveDeletedFiles"`
	OverwriteMode        string `json:"overwriteMode"`
}

type dsExecution struct {
	ARN       string        `json:"arn"`
	Task      string        `json:"task"`
	Started   time.Time     `json:"started"`
	Bytes     int64         `json:"bytes"`
	Files     int64         `json:"files"`
	Options   dsTaskOptions `json:"options"`
	Fail      string        `json:"fail,omitempty"`
	Cancelled bool          `json:"cancelled,omitempty"`
	Recorded  bool          `json:"recorded,omitempty"` // success applied to the task and the bucket
}

// Phase lengths of a simulated execution.
const (
	dsLaunching = 30 * time.Second
	dsPreparing = 2 * time.Minute
	dsVerifying = 5 * time.Minute
	// dsAgentRate is the unthrottled rate of an agent: 1 Gbit/s.
	dsAgentRate = 125_000_000
)

func (f *DataSync) st() *dataSyncState {
	s := state[dataSyncState](f.c, "datasync")
	if s.Agents == nil {
		s.Agents = map[string]*dsAgent{}
		s.Locations = map[string]*dsLocation{}
		s.Tasks = map[string]*dsTask{}
		s.Executions = map[string]*dsExecution{}
	}
	return s
}

func dsInvalid(format string, args ...any) error {
	return apiError("InvalidRequestException", format, args...)
}

func dsTags(in []types.TagListEntry) (map[string]string, error) {
	m := map[string]string{}
	for _, t := range in {
		k := aws.ToString(t.Key)
		if k == "" || len(k) > 256 || len(aws.ToString(t.Value)) > 256 {
			return nil, dsInvalid("invalid tag %q", k)
		}
		m[k] = aws.ToString(t.Value)
	}
	if len(m) > 50 {
		return nil, dsInvalid("at most 50 tags")
	}
	return m, nil
}

func (f *DataSync) location(arn, typ string) (*dsLocation, error) {
	l, ok := f.st().Locations[arn]
	if !ok || f.c.hidden(arn) {
		return nil, dsInvalid("Location %s is not found.", arn)
	}
	if typ != "" && l.Type != typ {
		return nil, dsInvalid("Location %s is not a %s location.", arn, typ)
	}
	return l, nil
}

func (f *DataSync) task(arn string) (*dsTask, error) {
	t, ok := f.st().Tasks[arn]
	if !ok || f.c.hidden(arn) {
		return nil, dsInvalid("Unable to find task %s.", arn)
	}
	return t, nil
}

func (f *DataSync) checkAgents(arns []string) error {
	if len(arns) == 0 || len(arns) > 4 {
		return dsInvalid("1 to 4 agent ARNs are required")
	}
	for _, a := range arns {
		if _, ok := f.st().Agents[a]; !ok {
			return dsInvalid("Agent %s is not found.", a)
		}
	}
	return nil
}

var dsSubdirRe = regexp.MustCompile(`^/[\P{C}]*$`)

func (f *DataSync) newLocation(typ, uri string, tags []types.TagListEntry) (*dsLocation, error) {
	m, err := dsTags(tags)
	if err != nil {
		return nil, err
	}
	arn := f.c.arn("datasync", "location/"+f.c.newID("loc"))
	l := &dsLocation{ARN: arn, Type: typ, Tags: m, Created: f.c.now()}
	f.st().Locations[arn] = l
	f.c.created(arn)
	return l, nil
}

// CreateLocationNfs creates an NFS source reached through agents.
func (f *DataSync) CreateLocationNfs(ctx context.Context, in *datasync.CreateLocationNfsInput, _ ...func(*datasync.Options)) (*datasync.CreateLocationNfsOutput, error) {
	var out *datasync.CreateLocationNfsOutput
	err := f.c.call(ctx, datasync.ServiceID, "CreateLocationNfs", true, func() error {
		host, sub := aws.ToString(in.ServerHostname), aws.ToString(in.Subdirectory)
		if host == "" || len(host) > 255 {
			return dsInvalid("ServerHostname is required (at most 255 characters)")
		}
		if !dsSubdirRe.MatchString(sub) {
			return dsInvalid("Subdirectory must be an absolute export path")
		}
		if in.OnPremConfig == nil {
			return dsInvalid("OnPremConfig is required")
		}
		if err := f.checkAgents(in.OnPremConfig.AgentArns); err != nil {
			return err
		}
		l, err := f.newLocation("NFS", "", in.Tags)
		if err != nil {
			return err
		}
		l.Hostname, l.Subdir, l.AgentARNs = host, sub, slices.Clone(in.OnPremConfig.AgentArns)
		l.Version = string(types.NfsVersionAutomatic)
		if in.MountOptions != nil && in.MountOptions.Version != "" {
			l.Version = string(in.MountOptions.Version)
		}
		out = &datasync.CreateLocationNfsOutput{LocationArn: aws.String(l.ARN)}
		return nil
	})
	return out, err
}

// CreateLocationSmb creates an SMB source reached through agents. The
// password is checked and then dropped: DescribeLocationSmb never returns
// it, and the fake keeps only its fingerprint.
func (f *DataSync) CreateLocationSmb(ctx context.Context, in *datasync.CreateLocationSmbInput, _ ...func(*datasync.Options)) (*datasync.CreateLocationSmbOutput, error) {
	var out *datasync.CreateLocationSmbOutput
	err := f.c.call(ctx, datasync.ServiceID, "CreateLocationSmb", true, func() error {
		host, sub := aws.ToString(in.ServerHostname), aws.ToString(in.Subdirectory)
		if host == "" || len(host) > 255 {
			return dsInvalid("ServerHostname is required (at most 255 characters)")
		}
		if !dsSubdirRe.MatchString(sub) {
			return dsInvalid("Subdirectory must be an absolute share path")
		}
		if err := f.checkAgents(in.AgentArns); err != nil {
			return err
		}
		if (in.AuthenticationType == "" || in.AuthenticationType == types.SmbAuthenticationTypeNtlm) && (aws.ToString(in.User) == "" || aws.ToString(in.Password) == "") {
			return dsInvalid("User and Password are required for NTLM authentication")
		}
		l, err := f.newLocation("SMB", "", in.Tags)
		if err != nil {
			return err
		}
		l.Hostname, l.Subdir, l.AgentARNs = host, sub, slices.Clone(in.AgentArns)
		l.User, l.Domain, l.PasswordFP = aws.ToString(in.User), aws.ToString(in.Domain), SMBPasswordFingerprint(aws.ToString(in.Password))
		l.Version = string(types.SmbVersionAutomatic)
		if in.MountOptions != nil && in.MountOptions.Version != "" {
			l.Version = string(in.MountOptions.Version)
		}
		out = &datasync.CreateLocationSmbOutput{LocationArn: aws.String(l.ARN)}
		return nil
	})
	return out, err
}

// SMBPasswordFingerprint is how the fake remembers an SMB password: tests
// compare fingerprints, never passwords.
func SMBPasswordFingerprint(password string) string {
	if password == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:8])
}

// CreateLocationS3 creates an S3 location. DataSync checks that it can
// assume the role: a role that does not exist yet (or is not visible yet)
// fails the create.
func (f *DataSync) CreateLocationS3(ctx context.Context, in *datasync.CreateLocationS3Input, _ ...func(*datasync.Options)) (*datasync.CreateLocationS3Output, error) {
	var out *datasync.CreateLocationS3Output
	err := f.c.call(ctx, datasync.ServiceID, "CreateLocationS3", true, func() error {
		bucketARN := aws.ToString(in.S3BucketArn)
		name, ok := strings.CutPrefix(bucketARN, "arn:aws:s3:::")
		if !ok || name == "" {
			return dsInvalid("S3BucketArn %q is not a bucket ARN", bucketARN)
		}
		if in.S3Config == nil || aws.ToString(in.S3Config.BucketAccessRoleArn) == "" {
			return dsInvalid("S3Config.BucketAccessRoleArn is required")
		}
		role := aws.ToString(in.S3Config.BucketAccessRoleArn)
		if _, err := f.c.IAM().role(role[strings.LastIndex(role, "/")+1:]); err != nil {
			return dsInvalid("Unable to assume role. Reason: Access denied when calling sts:AssumeRole on %s", role)
		}
		if _, err := f.c.S3().bucket(name, nil); err != nil {
			return dsInvalid("DataSync location access test failed: could not perform s3:ListObjectsV2 on bucket %s. Access denied.", name)
		}
		sub := aws.ToString(in.Subdirectory)
		if sub == "" {
			sub = "/"
		}
		l, err := f.newLocation("S3", "", in.Tags)
		if err != nil {
			return err
		}
		l.Bucket, l.Subdir, l.RoleARN = name, sub, role
		l.Class = string(types.S3StorageClassStandard)
		if in.S3StorageClass != "" {
			l.Class = string(in.S3StorageClass)
		}
		out = &datasync.CreateLocationS3Output{LocationArn: aws.String(l.ARN)}
		return nil
	})
	return out, err
}

func (l *dsLocation) uri() string {
	sub := strings.TrimSuffix(l.Subdir, "/") + "/"
	switch l.Type {
	case "S3":
		return "s3://" + l.Bucket + sub
	default:
		return strings.ToLower(l.Type) + "://" + l.Hostname + sub
	}
}

// DescribeLocationNfs describes an NFS location.
func (f *DataSync) DescribeLocationNfs(ctx context.Context, in *datasync.DescribeLocationNfsInput, _ ...func(*datasync.Options)) (*datasync.DescribeLocationNfsOutput, error) {
	var out *datasync.DescribeLocationNfsOutput
	err := f.c.call(ctx, datasync.ServiceID, "DescribeLocationNfs", false, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "NFS")
		if err != nil {
			return err
		}
		out = &datasync.DescribeLocationNfsOutput{LocationArn: aws.String(l.ARN), LocationUri: aws.String(l.uri()), CreationTime: aws.Time(l.Created),
			OnPremConfig: &types.OnPremConfig{AgentArns: slices.Clone(l.AgentARNs)}, MountOptions: &types.NfsMountOptions{Version: types.NfsVersion(l.Version)}}
		return nil
	})
	return out, err
}

// DescribeLocationSmb describes an SMB location (never its password).
func (f *DataSync) DescribeLocationSmb(ctx context.Context, in *datasync.DescribeLocationSmbInput, _ ...func(*datasync.Options)) (*datasync.DescribeLocationSmbOutput, error) {
	var out *datasync.DescribeLocationSmbOutput
	err := f.c.call(ctx, datasync.ServiceID, "DescribeLocationSmb", false, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "SMB")
		if err != nil {
			return err
		}
		out = &datasync.DescribeLocationSmbOutput{LocationArn: aws.String(l.ARN), LocationUri: aws.String(l.uri()), CreationTime: aws.Time(l.Created),
			AgentArns: slices.Clone(l.AgentARNs), User: aws.String(l.User), Domain: aws.String(l.Domain), AuthenticationType: types.SmbAuthenticationTypeNtlm,
			MountOptions: &types.SmbMountOptions{Version: types.SmbVersion(l.Version)}}
		return nil
	})
	return out, err
}

// DescribeLocationS3 describes an S3 location.
func (f *DataSync) DescribeLocationS3(ctx context.Context, in *datasync.DescribeLocationS3Input, _ ...func(*datasync.Options)) (*datasync.DescribeLocationS3Output, error) {
	var out *datasync.DescribeLocationS3Output
	err := f.c.call(ctx, datasync.ServiceID, "DescribeLocationS3", false, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "S3")
		if err != nil {
			return err
		}
		out = &datasync.DescribeLocationS3Output{LocationArn: aws.String(l.ARN), LocationUri: aws.String(l.uri()), CreationTime: aws.Time(l.Created),
			S3Config: &types.S3Config{BucketAccessRoleArn: aws.String(l.RoleARN)}, S3StorageClass: types.S3StorageClass(l.Class)}
		return nil
	})
	return out, err
}

// UpdateLocationNfs changes an NFS location's subdirectory, agents or
// mount version (not its server).
func (f *DataSync) UpdateLocationNfs(ctx context.Context, in *datasync.UpdateLocationNfsInput, _ ...func(*datasync.Options)) (*datasync.UpdateLocationNfsOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "UpdateLocationNfs", true, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "NFS")
		if err != nil {
			return err
		}
		if in.ServerHostname != nil {
			l.Hostname = *in.ServerHostname
		}
		if in.Subdirectory != nil {
			if !dsSubdirRe.MatchString(*in.Subdirectory) {
				return dsInvalid("Subdirectory must be an absolute export path")
			}
			l.Subdir = *in.Subdirectory
		}
		if in.OnPremConfig != nil {
			if err := f.checkAgents(in.OnPremConfig.AgentArns); err != nil {
				return err
			}
			l.AgentARNs = slices.Clone(in.OnPremConfig.AgentArns)
		}
		if in.MountOptions != nil && in.MountOptions.Version != "" {
			l.Version = string(in.MountOptions.Version)
		}
		return nil
	})
	return &datasync.UpdateLocationNfsOutput{}, err
}

// UpdateLocationSmb changes an SMB location.
func (f *DataSync) UpdateLocationSmb(ctx context.Context, in *datasync.UpdateLocationSmbInput, _ ...func(*datasync.Options)) (*datasync.UpdateLocationSmbOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "UpdateLocationSmb", true, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "SMB")
		if err != nil {
			return err
		}
		if in.ServerHostname != nil {
			l.Hostname = *in.ServerHostname
		}
		if in.Subdirectory != nil {
			if !dsSubdirRe.MatchString(*in.Subdirectory) {
				return dsInvalid("Subdirectory must be an absolute share path")
			}
			l.Subdir = *in.Subdirectory
		}
		if in.AgentArns != nil {
			if err := f.checkAgents(in.AgentArns); err != nil {
				return err
			}
			l.AgentARNs = slices.Clone(in.AgentArns)
		}
		if in.User != nil {
			l.User = *in.User
		}
		if in.Domain != nil {
			l.Domain = *in.Domain
		}
		if in.Password != nil {
			l.PasswordFP = SMBPasswordFingerprint(*in.Password)
		}
		if in.MountOptions != nil && in.MountOptions.Version != "" {
			l.Version = string(in.MountOptions.Version)
		}
		return nil
	})
	return &datasync.UpdateLocationSmbOutput{}, err
}

// UpdateLocationS3 changes an S3 location's storage class or subdirectory.
func (f *DataSync) UpdateLocationS3(ctx context.Context, in *datasync.UpdateLocationS3Input, _ ...func(*datasync.Options)) (*datasync.UpdateLocationS3Output, error) {
	err := f.c.call(ctx, datasync.ServiceID, "UpdateLocationS3", true, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "S3")
		if err != nil {
			return err
		}
		if in.Subdirectory != nil {
			l.Subdir = *in.Subdirectory
		}
		if in.S3StorageClass != "" {
			l.Class = string(in.S3StorageClass)
		}
		if in.S3Config != nil && in.S3Config.BucketAccessRoleArn != nil {
			l.RoleARN = *in.S3Config.BucketAccessRoleArn
		}
		return nil
	})
	return &datasync.UpdateLocationS3Output{}, err
}

func dsMatch(have string, op types.Operator, values []string) bool {
	for _, v := range values {
		switch op {
		case types.OperatorEq, types.OperatorIn:
			if have == v {
				return true
			}
		case types.OperatorBeginsWith:
			if strings.HasPrefix(have, v) {
				return true
			}
		case types.OperatorContains:
			if strings.Contains(have, v) {
				return true
			}
		}
	}
	return false
}

func dsPageSize(n *int32) int {
	if n == nil || *n <= 0 || *n > 100 {
		return 100
	}
	return int(*n)
}

// ListLocations lists locations, filtered by LocationType or LocationUri
// (Equals, In, BeginsWith, Contains), paginated.
func (f *DataSync) ListLocations(ctx context.Context, in *datasync.ListLocationsInput, _ ...func(*datasync.Options)) (*datasync.ListLocationsOutput, error) {
	var out *datasync.ListLocationsOutput
	err := f.c.call(ctx, datasync.ServiceID, "ListLocations", false, func() error {
		var all []types.LocationListEntry
	next:
		for _, arn := range sortedKeys(f.st().Locations) {
			l := f.st().Locations[arn]
			if f.c.hidden(arn) {
				continue
			}
			for _, flt := range in.Filters {
				have := l.uri()
				if flt.Name == types.LocationFilterNameLocationType {
					have = l.Type
				}
				if !dsMatch(have, flt.Operator, flt.Values) {
					continue next
				}
			}
			all = append(all, types.LocationListEntry{LocationArn: aws.String(arn), LocationUri: aws.String(l.uri())})
		}
		items, next, err := page(all, in.NextToken, dsPageSize(in.MaxResults))
		if err != nil {
			return err
		}
		out = &datasync.ListLocationsOutput{Locations: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteLocation deletes a location.
func (f *DataSync) DeleteLocation(ctx context.Context, in *datasync.DeleteLocationInput, _ ...func(*datasync.Options)) (*datasync.DeleteLocationOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "DeleteLocation", true, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "")
		if err != nil {
			return err
		}
		delete(f.st().Locations, l.ARN)
		return nil
	})
	return &datasync.DeleteLocationOutput{}, err
}

var (
	dsVerifyModes   = []string{"POINT_IN_TIME_CONSISTENT", "ONLY_FILES_TRANSFERRED", "NONE"}
	dsTransferModes = []string{"CHANGED", "ALL"}
	dsLogLevels     = []string{"OFF", "BASIC", "TRANSFER"}
)

// applyOptions merges the options set in o into t and checks the result
// the way DataSync does.
func dsApplyOptions(t *dsTaskOptions, o *types.Options) error {
	if o != nil {
		if o.VerifyMode != "" {
			t.VerifyMode = string(o.VerifyMode)
		}
		if o.TransferMode != "" {
			t.TransferMode = string(o.TransferMode)
		}
		if o.BytesPerSecond != nil {
			t.BytesPerSecond = *o.BytesPerSecond
		}
		if o.LogLevel != "" {
			t.LogLevel = string(o.LogLevel)
		}
		if o.PreserveDeletedFiles != "" {
			t.PreserveDeletedFiles = string(o.PreserveDeletedFiles)
		}
		if o.OverwriteMode != "" {
			t.OverwriteMode = string(o.OverwriteMode)
		}
	}
	switch {
	case !slices.Contains(dsVerifyModes, t.VerifyMode):
		return dsInvalid("invalid VerifyMode %q", t.VerifyMode)
	case !slices.Contains(dsTransferModes, t.TransferMode):
		return dsInvalid("invalid TransferMode %q", t.TransferMode)
	case !slices.Contains(dsLogLevels, t.LogLevel):
		return dsInvalid("invalid LogLevel %q", t.LogLevel)
	case t.BytesPerSecond < -1:
		return dsInvalid("BytesPerSecond must be -1 (unlimited) or positive")
	case t.PreserveDeletedFiles == "REMOVE" && t.TransferMode == "ALL":
		return dsInvalid("PreserveDeletedFiles REMOVE cannot be used with TransferMode ALL")
	}
	return nil
}

func dsDefaultOptions() dsTaskOptions {
	return dsTaskOptions{VerifyMode: "POINT_IN_TIME_CONSISTENT", TransferMode: "CHANGED", BytesPerSecond: -1, LogLevel: "OFF", PreserveDeletedFiles: "PRESERVE", OverwriteMode: "ALWAYS"}
}

func (f *DataSync) checkLogGroup(t *dsTask) error {
	if t.LogGroup == "" {
		if t.Options.LogLevel != "OFF" {
			return dsInvalid("LogLevel %s needs a CloudWatchLogGroupArn", t.Options.LogLevel)
		}
		return nil
	}
	if _, err := f.c.Logs().groupByARN(t.LogGroup); err != nil {
		return dsInvalid("CloudWatch log group %s does not exist", t.LogGroup)
	}
	return nil
}

// CreateTask creates a task between two existing locations.
func (f *DataSync) CreateTask(ctx context.Context, in *datasync.CreateTaskInput, _ ...func(*datasync.Options)) (*datasync.CreateTaskOutput, error) {
	var out *datasync.CreateTaskOutput
	err := f.c.call(ctx, datasync.ServiceID, "CreateTask", true, func() error {
		src, err := f.location(aws.ToString(in.SourceLocationArn), "")
		if err != nil {
			return err
		}
		dst, err := f.location(aws.ToString(in.DestinationLocationArn), "")
		if err != nil {
			return err
		}
		if len(aws.ToString(in.Name)) > 256 {
			return dsInvalid("Name is at most 256 characters")
		}
		tags, err := dsTags(in.Tags)
		if err != nil {
			return err
		}
		t := &dsTask{ARN: f.c.arn("datasync", "task/"+f.c.newID("task")), Name: aws.ToString(in.Name), Source: src.ARN, Dest: dst.ARN,
			LogGroup: aws.ToString(in.CloudWatchLogGroupArn), Options: dsDefaultOptions(), Tags: tags, Created: f.c.now()}
		if err := dsApplyOptions(&t.Options, in.Options); err != nil {
			return err
		}
		if err := f.checkLogGroup(t); err != nil {
			return err
		}
		f.st().Tasks[t.ARN] = t
		f.c.created(t.ARN)
		out = &datasync.CreateTaskOutput{TaskArn: aws.String(t.ARN)}
		return nil
	})
	return out, err
}

func (o dsTaskOptions) out() *types.Options {
	return &types.Options{VerifyMode: types.VerifyMode(o.VerifyMode), TransferMode: types.TransferMode(o.TransferMode), BytesPerSecond: aws.Int64(o.BytesPerSecond),
		LogLevel: types.LogLevel(o.LogLevel), PreserveDeletedFiles: types.PreserveDeletedFiles(o.PreserveDeletedFiles), OverwriteMode: types.OverwriteMode(o.OverwriteMode)}
}

// dsTaskCreating is how long a new task stays CREATING.
const dsTaskCreating = 10 * time.Second

// current returns the task's running execution, or nil. Call with mu held.
func (f *DataSync) current(t *dsTask) *dsExecution {
	for _, e := range f.st().Executions {
		if e.Task == t.ARN {
			if st, _ := f.phase(e); !dsTerminal(st) {
				return e
			}
		}
	}
	return nil
}

func dsTerminal(st types.TaskExecutionStatus) bool {
	return st == types.TaskExecutionStatusSuccess || st == types.TaskExecutionStatusError
}

// DescribeTask describes a task: CREATING for a moment, then AVAILABLE,
// or RUNNING while an execution runs.
func (f *DataSync) DescribeTask(ctx context.Context, in *datasync.DescribeTaskInput, _ ...func(*datasync.Options)) (*datasync.DescribeTaskOutput, error) {
	var out *datasync.DescribeTaskOutput
	err := f.c.call(ctx, datasync.ServiceID, "DescribeTask", false, func() error {
		t, err := f.task(aws.ToString(in.TaskArn))
		if err != nil {
			return err
		}
		f.settle()
		status := types.TaskStatusAvailable
		if f.c.now().Sub(t.Created) < dsTaskCreating {
			status = types.TaskStatusCreating
		}
		out = &datasync.DescribeTaskOutput{TaskArn: aws.String(t.ARN), Name: aws.String(t.Name), SourceLocationArn: aws.String(t.Source), DestinationLocationArn: aws.String(t.Dest),
			Options: t.Options.out(), CreationTime: aws.Time(t.Created), Status: status, TaskMode: types.TaskModeBasic}
		if t.LogGroup != "" {
			out.CloudWatchLogGroupArn = aws.String(t.LogGroup)
		}
		if e := f.current(t); e != nil {
			out.Status, out.CurrentTaskExecutionArn = types.TaskStatusRunning, aws.String(e.ARN)
		}
		return nil
	})
	return out, err
}

// UpdateTask changes a task's name, options or log group.
func (f *DataSync) UpdateTask(ctx context.Context, in *datasync.UpdateTaskInput, _ ...func(*datasync.Options)) (*datasync.UpdateTaskOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "UpdateTask", true, func() error {
		t, err := f.task(aws.ToString(in.TaskArn))
		if err != nil {
			return err
		}
		next := *t
		if in.Name != nil {
			next.Name = *in.Name
		}
		if in.CloudWatchLogGroupArn != nil {
			next.LogGroup = *in.CloudWatchLogGroupArn
		}
		if err := dsApplyOptions(&next.Options, in.Options); err != nil {
			return err
		}
		if err := f.checkLogGroup(&next); err != nil {
			return err
		}
		*t = next
		return nil
	})
	return &datasync.UpdateTaskOutput{}, err
}

// ListTasks lists tasks, filtered by LocationId, paginated.
func (f *DataSync) ListTasks(ctx context.Context, in *datasync.ListTasksInput, _ ...func(*datasync.Options)) (*datasync.ListTasksOutput, error) {
	var out *datasync.ListTasksOutput
	err := f.c.call(ctx, datasync.ServiceID, "ListTasks", false, func() error {
		var all []types.TaskListEntry
	next:
		for _, arn := range sortedKeys(f.st().Tasks) {
			t := f.st().Tasks[arn]
			if f.c.hidden(arn) {
				continue
			}
			for _, flt := range in.Filters {
				if flt.Name == types.TaskFilterNameLocationId && !dsMatch(t.Source, flt.Operator, flt.Values) && !dsMatch(t.Dest, flt.Operator, flt.Values) {
					continue next
				}
			}
			all = append(all, types.TaskListEntry{TaskArn: aws.String(arn), Name: aws.String(t.Name), Status: types.TaskStatusAvailable, TaskMode: types.TaskModeBasic})
		}
		items, next, err := page(all, in.NextToken, dsPageSize(in.MaxResults))
		if err != nil {
			return err
		}
		out = &datasync.ListTasksOutput{Tasks: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteTask deletes a task.
func (f *DataSync) DeleteTask(ctx context.Context, in *datasync.DeleteTaskInput, _ ...func(*datasync.Options)) (*datasync.DeleteTaskOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "DeleteTask", true, func() error {
		t, err := f.task(aws.ToString(in.TaskArn))
		if err != nil {
			return err
		}
		delete(f.st().Tasks, t.ARN)
		return nil
	})
	return &datasync.DeleteTaskOutput{}, err
}

// StartTaskExecution starts a run of the task; a task runs one execution
// at a time. What it moves is the whole source the first time (or with
// TransferMode ALL) and what changed since the last success otherwise.
func (f *DataSync) StartTaskExecution(ctx context.Context, in *datasync.StartTaskExecutionInput, _ ...func(*datasync.Options)) (*datasync.StartTaskExecutionOutput, error) {
	var out *datasync.StartTaskExecutionOutput
	err := f.c.call(ctx, datasync.ServiceID, "StartTaskExecution", true, func() error {
		t, err := f.task(aws.ToString(in.TaskArn))
		if err != nil {
			return err
		}
		f.settle()
		if f.current(t) != nil {
			return dsInvalid("Task %s already has an execution running.", t.ARN)
		}
		opts := t.Options
		if err := dsApplyOptions(&opts, in.OverrideOptions); err != nil {
			return err
		}
		src := f.st().Locations[t.Source]
		var bytes, files int64
		if src != nil {
			bytes, files = src.Bytes, src.Files
			if t.Synced && opts.TransferMode == "CHANGED" {
				bytes, files = src.ChangedBytes, src.ChangedFiles
			}
		}
		e := &dsExecution{ARN: t.ARN + "/execution/" + f.c.newID("exec"), Task: t.ARN, Started: f.c.now(), Bytes: bytes, Files: files, Options: opts, Fail: t.FailNext}
		t.FailNext = ""
		f.st().Executions[e.ARN] = e
		f.c.created(e.ARN)
		out = &datasync.StartTaskExecutionOutput{TaskExecutionArn: aws.String(e.ARN)}
		return nil
	})
	return out, err
}

// phase computes an execution's status and the bytes moved so far from
// the fake clock. Call with mu held.
func (f *DataSync) phase(e *dsExecution) (types.TaskExecutionStatus, int64) {
	if e.Cancelled {
		return types.TaskExecutionStatusError, 0
	}
	rate := int64(dsAgentRate)
	if e.Options.BytesPerSecond > 0 && e.Options.BytesPerSecond < rate {
		rate = e.Options.BytesPerSecond
	}
	transfer := time.Duration(float64(e.Bytes) / float64(rate) * float64(time.Second))
	el := f.c.now().Sub(e.Started)
	prepEnd := dsLaunching + dsPreparing
	xferEnd := prepEnd + transfer
	if e.Fail != "" && el >= prepEnd+transfer/2 {
		return types.TaskExecutionStatusError, e.Bytes / 2
	}
	switch {
	case el < dsLaunching:
		return types.TaskExecutionStatusLaunching, 0
	case el < prepEnd:
		return types.TaskExecutionStatusPreparing, 0
	case el < xferEnd:
		return types.TaskExecutionStatusTransferring, int64(float64(e.Bytes) * float64(el-prepEnd) / float64(transfer))
	case el < xferEnd+dsVerifying:
		return types.TaskExecutionStatusVerifying, e.Bytes
	default:
		return types.TaskExecutionStatusSuccess, e.Bytes
	}
}

// settle applies every execution that has succeeded: the task is synced,
// the source's changes are consumed and the files land in the bucket or
// on the file system of the destination.
// Call with mu held.
func (f *DataSync) settle() {
	s := f.st()
	for _, arn := range sortedKeys(s.Executions) {
		e := s.Executions[arn]
		if e.Recorded {
			continue
		}
		st, _ := f.phase(e)
		if !dsTerminal(st) {
			continue
		}
		e.Recorded = true
		if st != types.TaskExecutionStatusSuccess {
			continue
		}
		t, ok := s.Tasks[e.Task]
		if !ok {
			continue
		}
		t.Synced = true
		if src := s.Locations[t.Source]; src != nil {
			src.ChangedBytes, src.ChangedFiles = 0, 0
		}
		dst := s.Locations[t.Dest]
		if dst != nil && dst.Type == "EFS" {
			f.c.EFS().addDataLocked(dst.FileSystemID, e.Bytes) // the files are on the file system
			continue
		}
		if dst == nil || dst.Type != "S3" || e.Files == 0 {
			continue
		}
		b, ok := f.c.S3().st().Buckets[dst.Bucket]
		if !ok {
			continue
		}
		// Up to 100 objects stand for the files moved.
		n := min(e.Files, 100)
		prefix := strings.TrimPrefix(strings.TrimSuffix(dst.Subdir, "/")+"/", "/")
		for i := range n {
			f.c.S3().putObjectLocked(b, fmt.Sprintf("%sfile-%06d", prefix, i), e.Bytes/n)
		}
	}
}

// DescribeTaskExecution reports an execution's status and progress.
func (f *DataSync) DescribeTaskExecution(ctx context.Context, in *datasync.DescribeTaskExecutionInput, _ ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error) {
	var out *datasync.DescribeTaskExecutionOutput
	err := f.c.call(ctx, datasync.ServiceID, "DescribeTaskExecution", false, func() error {
		e, ok := f.st().Executions[aws.ToString(in.TaskExecutionArn)]
		if !ok || f.c.hidden(aws.ToString(in.TaskExecutionArn)) {
			return dsInvalid("Unable to find task execution %s.", aws.ToString(in.TaskExecutionArn))
		}
		f.settle()
		st, moved := f.phase(e)
		out = &datasync.DescribeTaskExecutionOutput{TaskExecutionArn: aws.String(e.ARN), Status: st, StartTime: aws.Time(e.Started), Options: e.Options.out(),
			BytesTransferred: moved, BytesWritten: moved, TaskMode: types.TaskModeBasic, Result: &types.TaskExecutionResultDetail{}}
		if st != types.TaskExecutionStatusLaunching && st != types.TaskExecutionStatusPreparing {
			out.EstimatedBytesToTransfer, out.EstimatedFilesToTransfer = e.Bytes, e.Files
			if e.Bytes > 0 {
				out.FilesTransferred = e.Files * moved / e.Bytes
			}
		}
		if st == types.TaskExecutionStatusSuccess {
			out.FilesVerified = e.Files
		}
		if st == types.TaskExecutionStatusError {
			code, detail, _ := strings.Cut(e.Fail, ": ")
			if e.Cancelled {
				code, detail = "Cancelled", "The task execution was cancelled."
			}
			out.Result.ErrorCode, out.Result.ErrorDetail = aws.String(code), aws.String(detail)
			out.Result.TransferStatus = types.PhaseStatusError
		}
		return nil
	})
	return out, err
}

// ListTaskExecutions lists a task's executions, paginated.
func (f *DataSync) ListTaskExecutions(ctx context.Context, in *datasync.ListTaskExecutionsInput, _ ...func(*datasync.Options)) (*datasync.ListTaskExecutionsOutput, error) {
	var out *datasync.ListTaskExecutionsOutput
	err := f.c.call(ctx, datasync.ServiceID, "ListTaskExecutions", false, func() error {
		f.settle()
		var all []types.TaskExecutionListEntry
		for _, arn := range sortedKeys(f.st().Executions) {
			e := f.st().Executions[arn]
			if in.TaskArn != nil && e.Task != *in.TaskArn {
				continue
			}
			st, _ := f.phase(e)
			all = append(all, types.TaskExecutionListEntry{TaskExecutionArn: aws.String(arn), Status: st, TaskMode: types.TaskModeBasic})
		}
		items, next, err := page(all, in.NextToken, dsPageSize(in.MaxResults))
		if err != nil {
			return err
		}
		out = &datasync.ListTaskExecutionsOutput{TaskExecutions: items, NextToken: next}
		return nil
	})
	return out, err
}

// CancelTaskExecution stops a running execution.
func (f *DataSync) CancelTaskExecution(ctx context.Context, in *datasync.CancelTaskExecutionInput, _ ...func(*datasync.Options)) (*datasync.CancelTaskExecutionOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "CancelTaskExecution", true, func() error {
		e, ok := f.st().Executions[aws.ToString(in.TaskExecutionArn)]
		if !ok {
			return dsInvalid("Unable to find task execution %s.", aws.ToString(in.TaskExecutionArn))
		}
		if st, _ := f.phase(e); dsTerminal(st) {
			return dsInvalid("Task execution %s is not running.", e.ARN)
		}
		e.Cancelled = true
		return nil
	})
	return &datasync.CancelTaskExecutionOutput{}, err
}

// DescribeAgent describes an agent.
func (f *DataSync) DescribeAgent(ctx context.Context, in *datasync.DescribeAgentInput, _ ...func(*datasync.Options)) (*datasync.DescribeAgentOutput, error) {
	var out *datasync.DescribeAgentOutput
	err := f.c.call(ctx, datasync.ServiceID, "DescribeAgent", false, func() error {
		a, ok := f.st().Agents[aws.ToString(in.AgentArn)]
		if !ok {
			return dsInvalid("Agent %s is not found.", aws.ToString(in.AgentArn))
		}
		out = &datasync.DescribeAgentOutput{AgentArn: aws.String(a.ARN), Name: aws.String(a.Name), Status: types.AgentStatus(a.Status),
			CreationTime: aws.Time(a.Created), EndpointType: types.EndpointTypePrivateLink}
		return nil
	})
	return out, err
}

// ListAgents lists the account's agents with their names, paginated.
func (f *DataSync) ListAgents(ctx context.Context, in *datasync.ListAgentsInput, _ ...func(*datasync.Options)) (*datasync.ListAgentsOutput, error) {
	var out *datasync.ListAgentsOutput
	err := f.c.call(ctx, datasync.ServiceID, "ListAgents", false, func() error {
		s := f.st()
		var all []types.AgentListEntry
		for _, arn := range sortedKeys(s.Agents) {
			a := s.Agents[arn]
			all = append(all, types.AgentListEntry{AgentArn: aws.String(a.ARN), Name: aws.String(a.Name), Status: types.AgentStatus(a.Status)})
		}
		size := 100
		if in.MaxResults != nil {
			size = int(*in.MaxResults)
		}
		items, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &datasync.ListAgentsOutput{Agents: items, NextToken: next}
		return nil
	})
	return out, err
}

// resourceTags returns the tags of an agent, location or task.
func (f *DataSync) resourceTags(arn string) (map[string]string, error) {
	s := f.st()
	if a, ok := s.Agents[arn]; ok {
		return a.Tags, nil
	}
	if l, ok := s.Locations[arn]; ok && !f.c.hidden(arn) {
		return l.Tags, nil
	}
	if t, ok := s.Tasks[arn]; ok && !f.c.hidden(arn) {
		return t.Tags, nil
	}
	return nil, dsInvalid("Resource %s is not found.", arn)
}

// ListTagsForResource lists the tags of an agent, location or task.
func (f *DataSync) ListTagsForResource(ctx context.Context, in *datasync.ListTagsForResourceInput, _ ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error) {
	var out *datasync.ListTagsForResourceOutput
	err := f.c.call(ctx, datasync.ServiceID, "ListTagsForResource", false, func() error {
		m, err := f.resourceTags(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		var all []types.TagListEntry
		for _, k := range sortedKeys(m) {
			all = append(all, types.TagListEntry{Key: aws.String(k), Value: aws.String(m[k])})
		}
		items, next, err := page(all, in.NextToken, 55)
		if err != nil {
			return err
		}
		out = &datasync.ListTagsForResourceOutput{Tags: items, NextToken: next}
		return nil
	})
	return out, err
}

// TagResource adds or overwrites tags.
func (f *DataSync) TagResource(ctx context.Context, in *datasync.TagResourceInput, _ ...func(*datasync.Options)) (*datasync.TagResourceOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "TagResource", true, func() error {
		m, err := f.resourceTags(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		add, err := dsTags(in.Tags)
		if err != nil {
			return err
		}
		for k, v := range add {
			m[k] = v
		}
		if len(m) > 50 {
			return dsInvalid("at most 50 tags")
		}
		return nil
	})
	return &datasync.TagResourceOutput{}, err
}

// UntagResource removes tags.
func (f *DataSync) UntagResource(ctx context.Context, in *datasync.UntagResourceInput, _ ...func(*datasync.Options)) (*datasync.UntagResourceOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "UntagResource", true, func() error {
		m, err := f.resourceTags(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, k := range in.Keys {
			delete(m, k)
		}
		return nil
	})
	return &datasync.UntagResourceOutput{}, err
}

// AddAgent registers an activated agent (as CreateAgent with the key an
// operator fetched from the on-premises VM would) and returns its ARN.
func (f *DataSync) AddAgent(name string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	arn := f.c.arn("datasync", "agent/"+f.c.newID("agent"))
	f.st().Agents[arn] = &dsAgent{ARN: arn, Name: name, Status: string(types.AgentStatusOnline), Tags: map[string]string{}, Created: f.c.now()}
	return arn
}

// SetAgentStatus sets an agent ONLINE or OFFLINE.
func (f *DataSync) SetAgentStatus(arn string, status types.AgentStatus) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if a, ok := f.st().Agents[arn]; ok {
		a.Status = string(status)
	}
}

// SetSourceData sets the size of the data on a source location (2 TB of
// files, say); the first transfer moves all of it.
func (f *DataSync) SetSourceData(locationARN string, bytes, files int64) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if l, ok := f.st().Locations[locationARN]; ok {
		l.Bytes, l.Files = bytes, files
	}
}

// ChangeSourceData records bytes and files changed on a source since the
// last transfer: what an incremental (CHANGED) run moves.
func (f *DataSync) ChangeSourceData(locationARN string, bytes, files int64) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if l, ok := f.st().Locations[locationARN]; ok {
		l.ChangedBytes += bytes
		l.ChangedFiles += files
		l.Bytes += bytes
	}
}

// FailNextExecution makes the task's next execution fail half way through
// its transfer with the given error code and detail.
func (f *DataSync) FailNextExecution(taskARN, code, detail string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if t, ok := f.st().Tasks[taskARN]; ok {
		t.FailNext = code + ": " + detail
	}
}

// Locations returns the ARNs of every location, for assertions.
func (f *DataSync) Locations() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Locations)
}

// Tasks returns the ARNs of every task, for assertions.
func (f *DataSync) Tasks() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Tasks)
}

// LocationPasswordFingerprint returns the SMBPasswordFingerprint of the password
// an SMB location was given, for assertions.
func (f *DataSync) LocationPasswordFingerprint(locationARN string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if l, ok := f.st().Locations[locationARN]; ok {
		return l.PasswordFP
	}
	return ""
}
