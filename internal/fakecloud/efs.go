package fakecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/smithy-go"
)

// EFS is the fake Amazon Elastic File System client. Get it with
// Cloud.EFS.
//
// What it models, because a reconciler depends on it:
//
//   - file systems identified by their CreationToken: a second
//     CreateFileSystem with a token in use fails with
//     FileSystemAlreadyExists (HTTP 409), whatever its parameters, as EFS
//     documents it, so a retried create never makes a second file system
//     and the caller finds the first by its token;
//   - life cycle on the fake clock: creating for efsCreatingFor, then
//     available; updating for efsUpdatingFor after UpdateFileSystem;
//     deleting for efsDeletingFor, then gone;
//   - encryption: KmsKeyId needs Encrypted and a usable key of the fake
//     KMS; Encrypted without a key means the AWS managed key;
//   - the metered size (SizeInBytes): emptyFileSystemBytes for a new file
//     system, plus what PutData or a DataSync transfer into it added;
//   - file system policies (InvalidPolicyException for a malformed policy
//     or an IAM role principal that does not exist, PolicyNotFound when
//     none is set), lifecycle configuration and backup policy;
//   - mount targets: only on an available file system, in an existing
//     subnet, with security groups of the subnet's VPC (at most five), one
//     per Availability Zone and all in one VPC (MountTargetConflict);
//     creating for efsMountCreatingFor, deleting for efsMountDeletingFor;
//     ModifyMountTargetSecurityGroups only when available;
//   - DeleteFileSystem refused with FileSystemInUse while any mount target
//     exists, deleting ones included;
//   - a mount target's network interface holds its subnet and security
//     groups: EC2 refuses to delete them (DependencyViolation) until it is
//     gone.
//
// Missing resources are FileSystemNotFound, MountTargetNotFound (HTTP
// 404); bad parameters BadRequest.
type EFS struct{ c *Cloud }

// EFS returns the EFS client of the cloud.
func (c *Cloud) EFS() *EFS { return &EFS{c: c} }

// EFS timings on the fake clock.
const (
	efsCreatingFor      = 30 * time.Second
	efsUpdatingFor      = 30 * time.Second
	efsDeletingFor      = 30 * time.Second
	efsMountCreatingFor = 90 * time.Second
	efsMountDeletingFor = time.Minute
)

// emptyFileSystemBytes is the metered size of an empty file system: its
// root directory's metadata.
const emptyFileSystemBytes = 6144

// efsDefaultKey is the key ID standing for the AWS managed key
// aws/elasticfilesystem.
const efsDefaultKey = "aws-elasticfilesystem-default"

func init() {
	register("efs", func() any { return &efsState{} })
	subnetDependents = append(subnetDependents, func(c *Cloud, subnetID string) string {
		s := c.EFS().st()
		for _, id := range sortedKeys(s.MountTargets) {
			if s.MountTargets[id].SubnetID == subnetID {
				return "EFS mount target " + id
			}
		}
		return ""
	})
	sgDependents = append(sgDependents, func(c *Cloud, groupID string) string {
		s := c.EFS().st()
		for _, id := range sortedKeys(s.MountTargets) {
			if slices.Contains(s.MountTargets[id].SGs, groupID) {
				return "network interface of EFS mount target " + id
			}
		}
		return ""
	})
}

type efsState struct {
	FileSystems  map[string]*efsFileSystem  `json:"fileSystems"`
	MountTargets map[string]*efsMountTarget `json:"mountTargets"`
}

type efsFileSystem struct {
	ID               string            `json:"id"`
	ARN              string            `json:"arn"`
	Token            string            `json:"creationToken"`
	Encrypted        bool              `json:"encrypted"`
	KMSKey           string            `json:"kmsKey,omitempty"`
	Performance      string            `json:"performanceMode"`
	Throughput       string            `json:"throughputMode"`
	ProvisionedMiBps float64           `json:"provisionedMiBps,omitempty"`
	Tags             map[string]string `json:"tags"`
	Policy           string            `json:"policy,omitempty"`
	Lifecycle        []efsLifecycle    `json:"lifecycle,omitempty"`
	Backup           string            `json:"backup,omitempty"` // "" (never set), ENABLED, DISABLED
	DataBytes        int64             `json:"dataBytes,omitempty"`
	Created          time.Time         `json:"created"`
	Updated          time.Time         `json:"updated,omitzero"`
	Deleted          time.Time         `json:"deleted,omitzero"`
}

// efsLifecycle is one lifecycle policy: exactly one rule is set.
type efsLifecycle struct {
	IA      string `json:"ia,omitempty"`
	Archive string `json:"archive,omitempty"`
	Primary string `json:"primary,omitempty"`
}

type efsMountTarget struct {
	ID           string    `json:"id"`
	FileSystemID string    `json:"fileSystemId"`
	SubnetID     string    `json:"subnetId"`
	VPCID        string    `json:"vpcId"`
	AZ           string    `json:"az"`
	IP           string    `json:"ip"`
	ENI          string    `json:"eni"`
	SGs          []string  `json:"securityGroups"`
	Created      time.Time `json:"created"`
	Deleted      time.Time `json:"deleted,omitzero"`
}

// st returns the state with every resource whose deletion has finished
// removed. Call with mu held.
func (f *EFS) st() *efsState {
	s := state[efsState](f.c, "efs")
	if s.FileSystems == nil {
		s.FileSystems = map[string]*efsFileSystem{}
		s.MountTargets = map[string]*efsMountTarget{}
	}
	for id, m := range s.MountTargets {
		if !m.Deleted.IsZero() && f.c.elapsed(m.Deleted, efsMountDeletingFor) {
			delete(s.MountTargets, id)
		}
	}
	for id, fs := range s.FileSystems {
		if !fs.Deleted.IsZero() && f.c.elapsed(fs.Deleted, efsDeletingFor) {
			delete(s.FileSystems, id)
		}
	}
	return s
}

// efsConflict returns an HTTP 409 client error, as EFS reports conflicts.
func efsConflict(code, format string, args ...any) error {
	return &apiErr{code: code, msg: fmt.Sprintf(format, args...), status: http.StatusConflict, fault: smithy.FaultClient}
}

func efsBadRequest(format string, args ...any) error { return apiError("BadRequest", format, args...) }

func (fs *efsFileSystem) state(c *Cloud) types.LifeCycleState {
	switch {
	case !fs.Deleted.IsZero():
		return types.LifeCycleStateDeleting
	case !c.elapsed(fs.Created, efsCreatingFor):
		return types.LifeCycleStateCreating
	case !fs.Updated.IsZero() && !c.elapsed(fs.Updated, efsUpdatingFor):
		return types.LifeCycleStateUpdating
	}
	return types.LifeCycleStateAvailable
}

func (m *efsMountTarget) state(c *Cloud) types.LifeCycleState {
	switch {
	case !m.Deleted.IsZero():
		return types.LifeCycleStateDeleting
	case !c.elapsed(m.Created, efsMountCreatingFor):
		return types.LifeCycleStateCreating
	}
	return types.LifeCycleStateAvailable
}

// mountTargetsOf returns the file system's mount targets, sorted by ID.
// Call with mu held.
func (f *EFS) mountTargetsOf(fsID string) []*efsMountTarget {
	s := f.st()
	var out []*efsMountTarget
	for _, id := range sortedKeys(s.MountTargets) {
		if m := s.MountTargets[id]; m.FileSystemID == fsID {
			out = append(out, m)
		}
	}
	return out
}

func (f *EFS) describe(fs *efsFileSystem) types.FileSystemDescription {
	d := types.FileSystemDescription{
		FileSystemId: aws.String(fs.ID), FileSystemArn: aws.String(fs.ARN), CreationToken: aws.String(fs.Token),
		CreationTime: aws.Time(fs.Created), LifeCycleState: fs.state(f.c), OwnerId: aws.String(f.c.account),
		NumberOfMountTargets: int32(len(f.mountTargetsOf(fs.ID))), PerformanceMode: types.PerformanceMode(fs.Performance),
		ThroughputMode: types.ThroughputMode(fs.Throughput), Encrypted: aws.Bool(fs.Encrypted), Tags: efsTagList(fs.Tags),
		SizeInBytes: &types.FileSystemSize{
			Value: emptyFileSystemBytes + fs.DataBytes, ValueInStandard: aws.Int64(emptyFileSystemBytes + fs.DataBytes),
			ValueInIA: aws.Int64(0), ValueInArchive: aws.Int64(0), Timestamp: aws.Time(f.c.now()),
		},
		FileSystemProtection: &types.FileSystemProtectionDescription{ReplicationOverwriteProtection: types.ReplicationOverwriteProtectionEnabled},
	}
	if name, ok := fs.Tags["Name"]; ok {
		d.Name = aws.String(name)
	}
	if fs.KMSKey != "" {
		d.KmsKeyId = aws.String(fs.KMSKey)
	}
	if fs.Throughput == string(types.ThroughputModeProvisioned) {
		d.ProvisionedThroughputInMibps = aws.Float64(fs.ProvisionedMiBps)
	}
	return d
}

func efsTagList(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// efsTags validates tags as EFS does and adds them to m.
func efsTags(m map[string]string, in []types.Tag) error {
	for _, t := range in {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		switch {
		case k == "" || len(k) > 128:
			return apiError("ValidationException", "Tag key %q must be 1 to 128 characters", k)
		case len(v) > 256:
			return apiError("ValidationException", "Tag value of %q must be at most 256 characters", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return apiError("ValidationException", "Tag key %q: the aws: prefix is reserved", k)
		}
		m[k] = v
	}
	if len(m) > 50 {
		return efsBadRequest("A resource can have at most 50 tags")
	}
	return nil
}

// fileSystem returns a file system that exists (deleting ones included).
// Call with mu held.
func (f *EFS) fileSystem(id string) (*efsFileSystem, error) {
	fs, ok := f.st().FileSystems[id]
	if !ok || f.c.hidden(id) {
		return nil, notFound("FileSystemNotFound", "File system '%s' does not exist.", id)
	}
	return fs, nil
}

// live returns a file system that is not being deleted.
func (f *EFS) live(id string) (*efsFileSystem, error) {
	fs, err := f.fileSystem(id)
	if err != nil {
		return nil, err
	}
	if fs.state(f.c) == types.LifeCycleStateDeleting {
		return nil, efsConflict("IncorrectFileSystemLifeCycleState", "File system '%s' is being deleted.", id)
	}
	return fs, nil
}

func checkThroughput(mode types.ThroughputMode, mibps *float64, performance string) error {
	switch mode {
	case types.ThroughputModeProvisioned:
		if mibps == nil || *mibps < 1 || *mibps > 3414 {
			return efsBadRequest("ProvisionedThroughputInMibps must be 1 to 3414 with the provisioned throughput mode")
		}
	case types.ThroughputModeBursting, types.ThroughputModeElastic:
		if mibps != nil {
			return efsBadRequest("ProvisionedThroughputInMibps is only valid with the provisioned throughput mode")
		}
		if mode == types.ThroughputModeElastic && performance == string(types.PerformanceModeMaxIo) {
			return efsBadRequest("The maxIO performance mode is not supported with the elastic throughput mode")
		}
	default:
		return efsBadRequest("Invalid ThroughputMode %q", mode)
	}
	return nil
}

// CreateFileSystem creates a file system, creating for efsCreatingFor. A
// CreationToken in use fails with FileSystemAlreadyExists, whatever the
// other parameters.
func (f *EFS) CreateFileSystem(ctx context.Context, in *efs.CreateFileSystemInput, _ ...func(*efs.Options)) (*efs.CreateFileSystemOutput, error) {
	var out *efs.CreateFileSystemOutput
	err := f.c.call(ctx, efs.ServiceID, "CreateFileSystem", true, func() error {
		token := aws.ToString(in.CreationToken)
		if token == "" || len(token) > 64 {
			return efsBadRequest("CreationToken must be 1 to 64 characters")
		}
		s := f.st()
		for _, id := range sortedKeys(s.FileSystems) {
			if s.FileSystems[id].Token == token {
				return efsConflict("FileSystemAlreadyExists", "File system '%s' already exists with creation token '%s'", id, token)
			}
		}
		perf := types.PerformanceModeGeneralPurpose
		if in.PerformanceMode != "" {
			perf = in.PerformanceMode
		}
		if perf != types.PerformanceModeGeneralPurpose && perf != types.PerformanceModeMaxIo {
			return efsBadRequest("Invalid PerformanceMode %q", perf)
		}
		mode := types.ThroughputModeBursting
		if in.ThroughputMode != "" {
			mode = in.ThroughputMode
		}
		if err := checkThroughput(mode, in.ProvisionedThroughputInMibps, string(perf)); err != nil {
			return err
		}
		if in.AvailabilityZoneName != nil {
			return efsBadRequest("One Zone file systems are not modelled by the fake")
		}
		fs := &efsFileSystem{Token: token, Encrypted: aws.ToBool(in.Encrypted), Performance: string(perf), Throughput: string(mode),
			ProvisionedMiBps: aws.ToFloat64(in.ProvisionedThroughputInMibps), Tags: map[string]string{}, Created: f.c.now()}
		switch {
		case in.KmsKeyId != nil && !fs.Encrypted:
			return efsBadRequest("KmsKeyId requires Encrypted to be true")
		case in.KmsKeyId != nil:
			k, err := f.c.KMS().key(aws.ToString(in.KmsKeyId))
			if err != nil {
				return efsBadRequest("The KMS key '%s' is not found or not accessible", aws.ToString(in.KmsKeyId))
			}
			if k.State != "Enabled" {
				return efsBadRequest("The KMS key '%s' is %s", k.ARN, k.State)
			}
			fs.KMSKey = k.ARN
		case fs.Encrypted:
			fs.KMSKey = f.c.arn("kms", "key/"+efsDefaultKey)
		}
		if err := efsTags(fs.Tags, in.Tags); err != nil {
			return err
		}
		if aws.ToBool(in.Backup) {
			fs.Backup = string(types.StatusEnabled)
		}
		fs.ID = f.c.newID("fs")
		fs.ARN = f.c.arn("elasticfilesystem", "file-system/"+fs.ID)
		s.FileSystems[fs.ID] = fs
		f.c.created(fs.ID)
		d := f.describe(fs)
		out = &efs.CreateFileSystemOutput{FileSystemId: d.FileSystemId, FileSystemArn: d.FileSystemArn, CreationToken: d.CreationToken,
			CreationTime: d.CreationTime, LifeCycleState: d.LifeCycleState, OwnerId: d.OwnerId, PerformanceMode: d.PerformanceMode,
			ThroughputMode: d.ThroughputMode, ProvisionedThroughputInMibps: d.ProvisionedThroughputInMibps, Encrypted: d.Encrypted,
			KmsKeyId: d.KmsKeyId, Tags: d.Tags, Name: d.Name, SizeInBytes: d.SizeInBytes, FileSystemProtection: d.FileSystemProtection}
		return nil
	})
	return out, err
}

func efsPageSize(n *int32) int {
	if n == nil || *n <= 0 || *n > 100 {
		return 100
	}
	return int(*n)
}

// DescribeFileSystems describes one file system (FileSystemId), the one
// of a creation token (CreationToken; none is an empty list), or all of
// them, paginated with Marker.
func (f *EFS) DescribeFileSystems(ctx context.Context, in *efs.DescribeFileSystemsInput, _ ...func(*efs.Options)) (*efs.DescribeFileSystemsOutput, error) {
	var out *efs.DescribeFileSystemsOutput
	err := f.c.call(ctx, efs.ServiceID, "DescribeFileSystems", false, func() error {
		if in.FileSystemId != nil && in.CreationToken != nil {
			return efsBadRequest("Specify FileSystemId or CreationToken, not both")
		}
		var all []types.FileSystemDescription
		if in.FileSystemId != nil {
			fs, err := f.fileSystem(*in.FileSystemId)
			if err != nil {
				return err
			}
			all = append(all, f.describe(fs))
		} else {
			s := f.st()
			for _, id := range sortedKeys(s.FileSystems) {
				fs := s.FileSystems[id]
				if in.CreationToken != nil && fs.Token != *in.CreationToken {
					continue
				}
				if f.c.hidden(id) {
					continue
				}
				all = append(all, f.describe(fs))
			}
		}
		items, next, err := page(all, in.Marker, efsPageSize(in.MaxItems))
		if err != nil {
			return apiError("BadRequest", "Invalid Marker")
		}
		out = &efs.DescribeFileSystemsOutput{FileSystems: items, Marker: in.Marker, NextMarker: next}
		return nil
	})
	return out, err
}

// UpdateFileSystem changes the throughput mode or the provisioned
// throughput of an available file system; it is updating for
// efsUpdatingFor.
func (f *EFS) UpdateFileSystem(ctx context.Context, in *efs.UpdateFileSystemInput, _ ...func(*efs.Options)) (*efs.UpdateFileSystemOutput, error) {
	var out *efs.UpdateFileSystemOutput
	err := f.c.call(ctx, efs.ServiceID, "UpdateFileSystem", true, func() error {
		fs, err := f.fileSystem(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		if st := fs.state(f.c); st != types.LifeCycleStateAvailable {
			return efsConflict("IncorrectFileSystemLifeCycleState", "File system '%s' is %s; it must be available.", fs.ID, st)
		}
		mode := types.ThroughputMode(fs.Throughput)
		if in.ThroughputMode != "" {
			mode = in.ThroughputMode
		}
		mibps := in.ProvisionedThroughputInMibps
		if mibps == nil && mode == types.ThroughputModeProvisioned && fs.Throughput == string(types.ThroughputModeProvisioned) {
			mibps = aws.Float64(fs.ProvisionedMiBps)
		}
		if err := checkThroughput(mode, mibps, fs.Performance); err != nil {
			return err
		}
		fs.Throughput, fs.ProvisionedMiBps, fs.Updated = string(mode), aws.ToFloat64(mibps), f.c.now()
		d := f.describe(fs)
		out = &efs.UpdateFileSystemOutput{FileSystemId: d.FileSystemId, FileSystemArn: d.FileSystemArn, LifeCycleState: d.LifeCycleState,
			ThroughputMode: d.ThroughputMode, ProvisionedThroughputInMibps: d.ProvisionedThroughputInMibps, PerformanceMode: d.PerformanceMode,
			Encrypted: d.Encrypted, KmsKeyId: d.KmsKeyId, CreationToken: d.CreationToken, Tags: d.Tags}
		return nil
	})
	return out, err
}

// DeleteFileSystem deletes a file system and its data. It fails with
// FileSystemInUse while the file system has mount targets (deleting ones
// included); a file system already being deleted is a no-op.
func (f *EFS) DeleteFileSystem(ctx context.Context, in *efs.DeleteFileSystemInput, _ ...func(*efs.Options)) (*efs.DeleteFileSystemOutput, error) {
	err := f.c.call(ctx, efs.ServiceID, "DeleteFileSystem", true, func() error {
		fs, err := f.fileSystem(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		if mts := f.mountTargetsOf(fs.ID); len(mts) > 0 {
			return efsConflict("FileSystemInUse", "File system '%s' has %d mount target(s), e.g. %s; delete them first.", fs.ID, len(mts), mts[0].ID)
		}
		if fs.Deleted.IsZero() {
			fs.Deleted = f.c.now()
		}
		return nil
	})
	return &efs.DeleteFileSystemOutput{}, err
}

// efsPolicy is what the fake reads of a file system policy.
type efsPolicy struct {
	Statement []struct {
		Principal json.RawMessage `json:"Principal"`
	} `json:"Statement"`
}

var efsRoleARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]+)$`)

// checkPrincipals rejects a policy naming an IAM role of this account
// that does not exist: IAM resolves principals when the policy is set.
func (f *EFS) checkPrincipals(doc string) error {
	var p efsPolicy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return apiError("InvalidPolicyException", "Policy could not be parsed: %v", err)
	}
	for _, st := range p.Statement {
		var star string
		if json.Unmarshal(st.Principal, &star) == nil {
			continue // "*"
		}
		var pr struct {
			AWS json.RawMessage `json:"AWS"`
		}
		if len(st.Principal) == 0 || json.Unmarshal(st.Principal, &pr) != nil {
			return apiError("InvalidPolicyException", "Every statement needs a Principal")
		}
		var arns []string
		if json.Unmarshal(pr.AWS, &arns) != nil {
			var one string
			if json.Unmarshal(pr.AWS, &one) == nil {
				arns = []string{one}
			}
		}
		for _, a := range arns {
			m := efsRoleARNRe.FindStringSubmatch(a)
			if m == nil || m[1] != f.c.account {
				continue
			}
			if _, err := f.c.IAM().role(m[2]); err != nil {
				return apiError("InvalidPolicyException", "Policy contains invalid principal %s", a)
			}
		}
	}
	return nil
}

// PutFileSystemPolicy sets a file system's policy.
func (f *EFS) PutFileSystemPolicy(ctx context.Context, in *efs.PutFileSystemPolicyInput, _ ...func(*efs.Options)) (*efs.PutFileSystemPolicyOutput, error) {
	var out *efs.PutFileSystemPolicyOutput
	err := f.c.call(ctx, efs.ServiceID, "PutFileSystemPolicy", true, func() error {
		fs, err := f.live(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		doc := aws.ToString(in.Policy)
		if len(doc) > 20000 {
			return apiError("InvalidPolicyException", "A file system policy is at most 20000 characters")
		}
		if err := checkPolicyJSON("InvalidPolicyException", doc); err != nil {
			return err
		}
		if err := f.checkPrincipals(doc); err != nil {
			return err
		}
		fs.Policy = doc
		out = &efs.PutFileSystemPolicyOutput{FileSystemId: aws.String(fs.ID), Policy: aws.String(doc)}
		return nil
	})
	return out, err
}

// DescribeFileSystemPolicy returns a file system's policy, or
// PolicyNotFound when the default policy is in effect.
func (f *EFS) DescribeFileSystemPolicy(ctx context.Context, in *efs.DescribeFileSystemPolicyInput, _ ...func(*efs.Options)) (*efs.DescribeFileSystemPolicyOutput, error) {
	var out *efs.DescribeFileSystemPolicyOutput
	err := f.c.call(ctx, efs.ServiceID, "DescribeFileSystemPolicy", false, func() error {
		fs, err := f.fileSystem(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		if fs.Policy == "" {
			return notFound("PolicyNotFound", "File system policy not found for file system '%s'.", fs.ID)
		}
		out = &efs.DescribeFileSystemPolicyOutput{FileSystemId: aws.String(fs.ID), Policy: aws.String(fs.Policy)}
		return nil
	})
	return out, err
}

func (l efsLifecycle) out() types.LifecyclePolicy {
	return types.LifecyclePolicy{TransitionToIA: types.TransitionToIARules(l.IA), TransitionToArchive: types.TransitionToArchiveRules(l.Archive),
		TransitionToPrimaryStorageClass: types.TransitionToPrimaryStorageClassRules(l.Primary)}
}

// PutLifecycleConfiguration replaces a file system's lifecycle policies;
// an empty list turns lifecycle management off.
func (f *EFS) PutLifecycleConfiguration(ctx context.Context, in *efs.PutLifecycleConfigurationInput, _ ...func(*efs.Options)) (*efs.PutLifecycleConfigurationOutput, error) {
	var out *efs.PutLifecycleConfigurationOutput
	err := f.c.call(ctx, efs.ServiceID, "PutLifecycleConfiguration", true, func() error {
		fs, err := f.live(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		var rules []efsLifecycle
		seen := map[string]bool{}
		for _, p := range in.LifecyclePolicies {
			l := efsLifecycle{IA: string(p.TransitionToIA), Archive: string(p.TransitionToArchive), Primary: string(p.TransitionToPrimaryStorageClass)}
			n := 0
			for kind, v := range map[string]string{"ia": l.IA, "archive": l.Archive, "primary": l.Primary} {
				if v != "" {
					n++
					if seen[kind] {
						return efsBadRequest("Each lifecycle rule may appear once")
					}
					seen[kind] = true
				}
			}
			if n != 1 {
				return efsBadRequest("Each LifecyclePolicy must hold exactly one rule")
			}
			switch {
			case l.IA != "" && !slices.Contains(types.TransitionToIARules("").Values(), types.TransitionToIARules(l.IA)),
				l.Archive != "" && !slices.Contains(types.TransitionToArchiveRules("").Values(), types.TransitionToArchiveRules(l.Archive)),
				l.Primary != "" && !slices.Contains(types.TransitionToPrimaryStorageClassRules("").Values(), types.TransitionToPrimaryStorageClassRules(l.Primary)):
				return efsBadRequest("Invalid lifecycle rule %+v", l)
			}
			rules = append(rules, l)
		}
		fs.Lifecycle = rules
		out = &efs.PutLifecycleConfigurationOutput{LifecyclePolicies: slices.Clone(in.LifecyclePolicies)}
		return nil
	})
	return out, err
}

// DescribeLifecycleConfiguration returns a file system's lifecycle
// policies (none when lifecycle management is off).
func (f *EFS) DescribeLifecycleConfiguration(ctx context.Context, in *efs.DescribeLifecycleConfigurationInput, _ ...func(*efs.Options)) (*efs.DescribeLifecycleConfigurationOutput, error) {
	var out *efs.DescribeLifecycleConfigurationOutput
	err := f.c.call(ctx, efs.ServiceID, "DescribeLifecycleConfiguration", false, func() error {
		fs, err := f.fileSystem(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		out = &efs.DescribeLifecycleConfigurationOutput{LifecyclePolicies: []types.LifecyclePolicy{}}
		for _, l := range fs.Lifecycle {
			out.LifecyclePolicies = append(out.LifecyclePolicies, l.out())
		}
		return nil
	})
	return out, err
}

// PutBackupPolicy turns automatic backups on (ENABLED) or off (DISABLED).
func (f *EFS) PutBackupPolicy(ctx context.Context, in *efs.PutBackupPolicyInput, _ ...func(*efs.Options)) (*efs.PutBackupPolicyOutput, error) {
	var out *efs.PutBackupPolicyOutput
	err := f.c.call(ctx, efs.ServiceID, "PutBackupPolicy", true, func() error {
		fs, err := f.live(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		if in.BackupPolicy == nil || (in.BackupPolicy.Status != types.StatusEnabled && in.BackupPolicy.Status != types.StatusDisabled) {
			return apiError("ValidationException", "BackupPolicy.Status must be ENABLED or DISABLED")
		}
		fs.Backup = string(in.BackupPolicy.Status)
		out = &efs.PutBackupPolicyOutput{BackupPolicy: &types.BackupPolicy{Status: in.BackupPolicy.Status}}
		return nil
	})
	return out, err
}

// DescribeBackupPolicy returns a file system's backup policy, or
// PolicyNotFound when none was ever set.
func (f *EFS) DescribeBackupPolicy(ctx context.Context, in *efs.DescribeBackupPolicyInput, _ ...func(*efs.Options)) (*efs.DescribeBackupPolicyOutput, error) {
	var out *efs.DescribeBackupPolicyOutput
	err := f.c.call(ctx, efs.ServiceID, "DescribeBackupPolicy", false, func() error {
		fs, err := f.fileSystem(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		if fs.Backup == "" {
			return notFound("PolicyNotFound", "Backup policy not found for file system '%s'.", fs.ID)
		}
		out = &efs.DescribeBackupPolicyOutput{BackupPolicy: &types.BackupPolicy{Status: types.Status(fs.Backup)}}
		return nil
	})
	return out, err
}

// TagResource adds or overwrites tags of a file system.
func (f *EFS) TagResource(ctx context.Context, in *efs.TagResourceInput, _ ...func(*efs.Options)) (*efs.TagResourceOutput, error) {
	err := f.c.call(ctx, efs.ServiceID, "TagResource", true, func() error {
		fs, err := f.live(aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		next := map[string]string{}
		for k, v := range fs.Tags {
			next[k] = v
		}
		if err := efsTags(next, in.Tags); err != nil {
			return err
		}
		fs.Tags = next
		return nil
	})
	return &efs.TagResourceOutput{}, err
}

// UntagResource removes tags of a file system.
func (f *EFS) UntagResource(ctx context.Context, in *efs.UntagResourceInput, _ ...func(*efs.Options)) (*efs.UntagResourceOutput, error) {
	err := f.c.call(ctx, efs.ServiceID, "UntagResource", true, func() error {
		fs, err := f.live(aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(fs.Tags, k)
		}
		return nil
	})
	return &efs.UntagResourceOutput{}, err
}

// ListTagsForResource lists a file system's tags, paginated.
func (f *EFS) ListTagsForResource(ctx context.Context, in *efs.ListTagsForResourceInput, _ ...func(*efs.Options)) (*efs.ListTagsForResourceOutput, error) {
	var out *efs.ListTagsForResourceOutput
	err := f.c.call(ctx, efs.ServiceID, "ListTagsForResource", false, func() error {
		fs, err := f.fileSystem(aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		items, next, err := page(efsTagList(fs.Tags), in.NextToken, efsPageSize(in.MaxResults))
		if err != nil {
			return err
		}
		out = &efs.ListTagsForResourceOutput{Tags: items, NextToken: next}
		return nil
	})
	return out, err
}

// checkGroups resolves a mount target's security groups: those given
// (one to five, all in vpcID) or, when none, the VPC's default group.
func (f *EFS) checkGroups(ids []string, vpcID string) ([]string, error) {
	ec := f.c.EC2().st()
	if len(ids) == 0 {
		for _, id := range sortedKeys(ec.SGs) {
			if g := ec.SGs[id]; g.Default && g.VPCID == vpcID {
				return []string{id}, nil
			}
		}
		return nil, apiError("SecurityGroupNotFound", "VPC %s has no default security group", vpcID)
	}
	if len(ids) > 5 {
		return nil, apiError("SecurityGroupLimitExceeded", "A mount target takes at most 5 security groups")
	}
	for _, id := range ids {
		g, ok := ec.SGs[id]
		if !ok || g.VPCID != vpcID {
			return nil, apiError("SecurityGroupNotFound", "Security group %s does not exist in VPC %s", id, vpcID)
		}
	}
	return slices.Clone(ids), nil
}

func (f *EFS) describeMount(m *efsMountTarget) types.MountTargetDescription {
	return types.MountTargetDescription{
		MountTargetId: aws.String(m.ID), FileSystemId: aws.String(m.FileSystemID), SubnetId: aws.String(m.SubnetID), VpcId: aws.String(m.VPCID),
		AvailabilityZoneName: aws.String(m.AZ), AvailabilityZoneId: aws.String(f.c.azID(m.AZ)), IpAddress: aws.String(m.IP),
		NetworkInterfaceId: aws.String(m.ENI), OwnerId: aws.String(f.c.account), LifeCycleState: m.state(f.c),
	}
}

// CreateMountTarget creates a mount target of an available file system in
// a subnet, creating for efsMountCreatingFor. A file system's mount
// targets share one VPC and take one Availability Zone each.
func (f *EFS) CreateMountTarget(ctx context.Context, in *efs.CreateMountTargetInput, _ ...func(*efs.Options)) (*efs.CreateMountTargetOutput, error) {
	var out *efs.CreateMountTargetOutput
	err := f.c.call(ctx, efs.ServiceID, "CreateMountTarget", true, func() error {
		fs, err := f.fileSystem(aws.ToString(in.FileSystemId))
		if err != nil {
			return err
		}
		if st := fs.state(f.c); st != types.LifeCycleStateAvailable {
			return efsConflict("IncorrectFileSystemLifeCycleState", "File system '%s' is %s; it must be available.", fs.ID, st)
		}
		sn, ok := f.c.EC2().st().Subnets[aws.ToString(in.SubnetId)]
		if !ok {
			return apiError("SubnetNotFound", "The subnet ID '%s' does not exist", aws.ToString(in.SubnetId))
		}
		for _, m := range f.mountTargetsOf(fs.ID) {
			if m.VPCID != sn.VPCID {
				return efsConflict("MountTargetConflict", "File system '%s' has mount targets in VPC %s, not %s", fs.ID, m.VPCID, sn.VPCID)
			}
			if m.AZ == sn.AZ {
				return efsConflict("MountTargetConflict", "File system '%s' already has mount target %s in Availability Zone %s", fs.ID, m.ID, sn.AZ)
			}
		}
		sgs, err := f.checkGroups(in.SecurityGroups, sn.VPCID)
		if err != nil {
			return err
		}
		used := map[string]bool{}
		for _, m := range f.st().MountTargets {
			used[m.IP] = true
		}
		ip := aws.ToString(in.IpAddress)
		if ip == "" {
			for n := 100; ; n++ {
				if ip = hostIn(sn.CIDR, n); !used[ip] {
					break
				}
			}
		} else if used[ip] {
			return efsConflict("IpAddressInUse", "IP address %s is in use", ip)
		}
		m := &efsMountTarget{ID: f.c.newID("fsmt"), FileSystemID: fs.ID, SubnetID: sn.ID, VPCID: sn.VPCID, AZ: sn.AZ, IP: ip,
			ENI: f.c.newID("eni"), SGs: sgs, Created: f.c.now()}
		f.st().MountTargets[m.ID] = m
		f.c.created(m.ID)
		d := f.describeMount(m)
		out = &efs.CreateMountTargetOutput{MountTargetId: d.MountTargetId, FileSystemId: d.FileSystemId, SubnetId: d.SubnetId, VpcId: d.VpcId,
			AvailabilityZoneName: d.AvailabilityZoneName, AvailabilityZoneId: d.AvailabilityZoneId, IpAddress: d.IpAddress,
			NetworkInterfaceId: d.NetworkInterfaceId, OwnerId: d.OwnerId, LifeCycleState: d.LifeCycleState}
		return nil
	})
	return out, err
}

// mountTarget returns a mount target that exists (deleting ones
// included). Call with mu held.
func (f *EFS) mountTarget(id string) (*efsMountTarget, error) {
	m, ok := f.st().MountTargets[id]
	if !ok || f.c.hidden(id) {
		return nil, notFound("MountTargetNotFound", "Mount target '%s' does not exist.", id)
	}
	return m, nil
}

// DescribeMountTargets describes one mount target (MountTargetId) or a
// file system's (FileSystemId), paginated with Marker.
func (f *EFS) DescribeMountTargets(ctx context.Context, in *efs.DescribeMountTargetsInput, _ ...func(*efs.Options)) (*efs.DescribeMountTargetsOutput, error) {
	var out *efs.DescribeMountTargetsOutput
	err := f.c.call(ctx, efs.ServiceID, "DescribeMountTargets", false, func() error {
		var all []types.MountTargetDescription
		switch {
		case in.AccessPointId != nil:
			return efsBadRequest("Access points are not modelled by the fake")
		case in.MountTargetId != nil && in.FileSystemId == nil:
			m, err := f.mountTarget(*in.MountTargetId)
			if err != nil {
				return err
			}
			all = append(all, f.describeMount(m))
		case in.FileSystemId != nil && in.MountTargetId == nil:
			if _, err := f.fileSystem(*in.FileSystemId); err != nil {
				return err
			}
			for _, m := range f.mountTargetsOf(*in.FileSystemId) {
				if !f.c.hidden(m.ID) {
					all = append(all, f.describeMount(m))
				}
			}
		default:
			return efsBadRequest("Specify exactly one of FileSystemId and MountTargetId")
		}
		items, next, err := page(all, in.Marker, efsPageSize(in.MaxItems))
		if err != nil {
			return apiError("BadRequest", "Invalid Marker")
		}
		out = &efs.DescribeMountTargetsOutput{MountTargets: items, Marker: in.Marker, NextMarker: next}
		return nil
	})
	return out, err
}

// DeleteMountTarget deletes a mount target (deleting for
// efsMountDeletingFor); one already being deleted is a no-op.
func (f *EFS) DeleteMountTarget(ctx context.Context, in *efs.DeleteMountTargetInput, _ ...func(*efs.Options)) (*efs.DeleteMountTargetOutput, error) {
	err := f.c.call(ctx, efs.ServiceID, "DeleteMountTarget", true, func() error {
		m, err := f.mountTarget(aws.ToString(in.MountTargetId))
		if err != nil {
			return err
		}
		if m.Deleted.IsZero() {
			m.Deleted = f.c.now()
		}
		return nil
	})
	return &efs.DeleteMountTargetOutput{}, err
}

// DescribeMountTargetSecurityGroups returns a mount target's security
// groups.
func (f *EFS) DescribeMountTargetSecurityGroups(ctx context.Context, in *efs.DescribeMountTargetSecurityGroupsInput, _ ...func(*efs.Options)) (*efs.DescribeMountTargetSecurityGroupsOutput, error) {
	var out *efs.DescribeMountTargetSecurityGroupsOutput
	err := f.c.call(ctx, efs.ServiceID, "DescribeMountTargetSecurityGroups", false, func() error {
		m, err := f.mountTarget(aws.ToString(in.MountTargetId))
		if err != nil {
			return err
		}
		out = &efs.DescribeMountTargetSecurityGroupsOutput{SecurityGroups: slices.Clone(m.SGs)}
		return nil
	})
	return out, err
}

// ModifyMountTargetSecurityGroups replaces an available mount target's
// security groups.
func (f *EFS) ModifyMountTargetSecurityGroups(ctx context.Context, in *efs.ModifyMountTargetSecurityGroupsInput, _ ...func(*efs.Options)) (*efs.ModifyMountTargetSecurityGroupsOutput, error) {
	err := f.c.call(ctx, efs.ServiceID, "ModifyMountTargetSecurityGroups", true, func() error {
		m, err := f.mountTarget(aws.ToString(in.MountTargetId))
		if err != nil {
			return err
		}
		if st := m.state(f.c); st != types.LifeCycleStateAvailable {
			return efsConflict("IncorrectMountTargetState", "Mount target '%s' is %s; it must be available.", m.ID, st)
		}
		sgs, err := f.checkGroups(in.SecurityGroups, m.VPCID)
		if err != nil {
			return err
		}
		m.SGs = sgs
		return nil
	})
	return &efs.ModifyMountTargetSecurityGroupsOutput{}, err
}

// PutData adds bytes of files to a file system, as clients writing to it
// would: its metered size (SizeInBytes) grows by that much.
func (f *EFS) PutData(fileSystemID string, bytes int64) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.addDataLocked(fileSystemID, bytes)
}

// addDataLocked adds bytes to a file system. Call with mu held.
func (f *EFS) addDataLocked(fileSystemID string, bytes int64) {
	if fs, ok := f.st().FileSystems[fileSystemID]; ok {
		fs.DataBytes += bytes
	}
}

// FileSystems returns the IDs of the file systems (deleting ones
// included), for assertions.
func (f *EFS) FileSystems() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().FileSystems)
}

// MountTargets returns the IDs of a file system's mount targets
// (deleting ones included), for assertions.
func (f *EFS) MountTargets(fileSystemID string) []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var ids []string
	for _, m := range f.mountTargetsOf(fileSystemID) {
		ids = append(ids, m.ID)
	}
	return ids
}

// FileSystemBytes returns the data a file system holds (without the
// metadata of an empty one), for assertions.
func (f *EFS) FileSystemBytes(fileSystemID string) int64 {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if fs, ok := f.st().FileSystems[fileSystemID]; ok {
		return fs.DataBytes
	}
	return 0
}
