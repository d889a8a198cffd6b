package fakecloud

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mgn"
	"github.com/aws/aws-sdk-go-v2/service/mgn/types"
	"github.com/aws/smithy-go"
)

// MGN is the fake AWS Application Migration Service client. Get it with
// Cloud.MGN.
//
// Until InitializeService every call answers UninitializedAccountException,
// as MGN does in a Region where it was never initialized; InitializeService
// also creates the service-linked role and the instance profiles of the
// MGN roles that exist, as the MGN guide says it does.
//
// Source servers are scripted (AddSourceServer: an agent was installed on
// an on-premises server). Their data replication advances on the fake
// clock: INITIATING for five minutes, INITIAL_SYNC for the sync time
// (SetInitialSync), then CONTINUOUS, when the lifecycle becomes
// READY_FOR_TEST. StartTest, ChangeServerLifeCycleState, StartCutover and
// FinalizeCutover move the lifecycle with the rules of the API reference
// (TESTING, READY_FOR_CUTOVER, CUTTING_OVER, CUTOVER); launches are LAUNCH
// jobs that complete after ten minutes with an instance per server, or
// fail for a server scripted with FailNextLaunch.
//
// DescribeSourceServers pages by 10 when MaxResults is not set, fewer
// than MGN does, so that callers' pagination is exercised.
type MGN struct{ c *Cloud }

// MGN returns the MGN client of the cloud.
func (c *Cloud) MGN() *MGN { return &MGN{c: c} }

func init() { register("mgn", func() any { return &mgnState{} }) }

type mgnState struct {
	Initialized bool                    `json:"initialized"`
	Templates   map[string]*mgnTemplate `json:"templates"`
	Servers     map[string]*mgnServer   `json:"servers"`
	Jobs        map[string]*mgnJob      `json:"jobs"`
}

type mgnTemplate struct {
	ID               string            `json:"id"`
	ARN              string            `json:"arn"`
	AssociateDefault bool              `json:"associateDefaultSecurityGroup"`
	Bandwidth        int64             `json:"bandwidthThrottling"`
	CreatePublicIP   bool              `json:"createPublicIp"`
	DataPlane        string            `json:"dataPlaneRouting"`
	DiskType         string            `json:"defaultLargeStagingDiskType"`
	EBSEncryption    string            `json:"ebsEncryption"`
	EBSKey           string            `json:"ebsEncryptionKeyArn,omitempty"`
	InstanceType     string            `json:"replicationServerInstanceType"`
	SecurityGroups   []string          `json:"replicationServersSecurityGroupsIds"`
	Subnet           string            `json:"stagingAreaSubnetId"`
	StagingTags      map[string]string `json:"stagingAreaTags"`
	Dedicated        bool              `json:"useDedicatedReplicationServer"`
	Tags             map[string]string `json:"tags"`
}

type mgnServer struct {
	ID         string            `json:"id"`
	ARN        string            `json:"arn"`
	Hostname   string            `json:"hostname"`
	Tags       map[string]string `json:"tags"`
	Added      time.Time         `json:"added"`
	DiskBytes  int64             `json:"diskBytes"`
	Sync       time.Duration     `json:"sync"`
	Archived   bool              `json:"archived,omitempty"`
	Lifecycle  string            `json:"lifecycle,omitempty"` // set once the API moved it; "" follows replication
	StalledAt  time.Time         `json:"stalledAt,omitzero"`
	Finalized  bool              `json:"finalized,omitempty"`
	LaunchJob  string            `json:"launchJob,omitempty"`
	FailLaunch bool              `json:"failLaunch,omitempty"`
	// LastTestJob and LastCutoverJob are the last launch jobs StartTest
	// and StartCutover initiated for the server (LifeCycle.LastTest and
	// LastCutover).
	LastTestJob    string `json:"lastTestJob,omitempty"`
	LastCutoverJob string `json:"lastCutoverJob,omitempty"`
}

type mgnJob struct {
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	InitiatedBy string            `json:"initiatedBy"`
	Created     time.Time         `json:"created"`
	Servers     []string          `json:"servers"`
	Failed      []string          `json:"failed,omitempty"`
	Instances   map[string]string `json:"instances"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// Timings of the simulated service.
const (
	mgnInitiating      = 5 * time.Minute
	mgnDefaultSync     = 2 * time.Hour
	mgnDefaultDisk     = 100 << 30
	mgnJobPending      = 30 * time.Second
	mgnJobLaunch       = 10 * time.Minute
	mgnContinuousLag   = 2 * time.Second
	mgnDefaultPageSize = 10
)

func (f *MGN) st() *mgnState {
	s := state[mgnState](f.c, "mgn")
	if s.Templates == nil {
		s.Templates = map[string]*mgnTemplate{}
		s.Servers = map[string]*mgnServer{}
		s.Jobs = map[string]*mgnJob{}
	}
	return s
}

func mgnValidation(format string, args ...any) error {
	return apiError("ValidationException", format, args...)
}

func (f *MGN) initialized() error {
	if !f.st().Initialized {
		return &apiErr{code: "UninitializedAccountException", msg: "Account not initialized", status: http.StatusBadRequest, fault: smithy.FaultClient}
	}
	return nil
}

// InitializeService initializes MGN in the Region. It creates the
// service-linked role when missing and the instance profiles of the
// EC2-trusted MGN roles that exist; calling it again is harmless.
func (f *MGN) InitializeService(ctx context.Context, in *mgn.InitializeServiceInput, _ ...func(*mgn.Options)) (*mgn.InitializeServiceOutput, error) {
	err := f.c.call(ctx, mgn.ServiceID, "InitializeService", true, func() error {
		iamSt := f.c.IAM().st()
		slr := serviceLinkedRoleNames["mgn.amazonaws.com"]
		if _, ok := iamSt.Roles[strings.ToLower(slr)]; !ok {
			path := "/aws-service-role/mgn.amazonaws.com/"
			iamSt.Roles[strings.ToLower(slr)] = &fakeRole{Name: slr, Path: path, ID: "AROA" + strings.ToUpper(f.c.newID("x")[3:]), ARN: f.c.globalARN("iam", f.c.account, "role"+path+slr),
				Trust:      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"mgn.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
				MaxSession: 3600, Tags: map[string]string{}, Inline: map[string]string{}, Created: f.c.now()}
		}
		for _, name := range []string{"AWSApplicationMigrationReplicationServerRole", "AWSApplicationMigrationConversionServerRole",
			"AWSApplicationMigrationLaunchInstanceWithDrsRole", "AWSApplicationMigrationLaunchInstanceWithSsmRole"} {
			r, ok := iamSt.Roles[strings.ToLower(name)]
			if _, has := iamSt.Profiles[strings.ToLower(name)]; !ok || has {
				continue
			}
			iamSt.Profiles[strings.ToLower(name)] = &fakeProfile{Name: name, Path: r.Path, ID: "AIPA" + strings.ToUpper(f.c.newID("x")[3:]),
				ARN: f.c.globalARN("iam", f.c.account, "instance-profile"+r.Path+name), Roles: []string{r.Name}}
		}
		f.st().Initialized = true
		return nil
	})
	return &mgn.InitializeServiceOutput{}, err
}

var (
	mgnDataPlanes = []string{"PRIVATE_IP", "PUBLIC_IP"}
	mgnDiskTypes  = []string{"GP2", "GP3", "ST1"}
	mgnEncryption = []string{"DEFAULT", "CUSTOM"}
)

func (t *mgnTemplate) check() error {
	switch {
	case !slices.Contains(mgnDataPlanes, t.DataPlane):
		return mgnValidation("invalid dataPlaneRouting %q", t.DataPlane)
	case !slices.Contains(mgnDiskTypes, t.DiskType):
		return mgnValidation("invalid defaultLargeStagingDiskType %q", t.DiskType)
	case !slices.Contains(mgnEncryption, t.EBSEncryption):
		return mgnValidation("invalid ebsEncryption %q", t.EBSEncryption)
	case t.EBSEncryption == "CUSTOM" && t.EBSKey == "":
		return mgnValidation("ebsEncryptionKeyArn is required when ebsEncryption is CUSTOM")
	case t.EBSEncryption == "DEFAULT" && t.EBSKey != "":
		return mgnValidation("ebsEncryptionKeyArn must not be set when ebsEncryption is DEFAULT")
	case !strings.HasPrefix(t.Subnet, "subnet-"):
		return mgnValidation("invalid stagingAreaSubnetId %q", t.Subnet)
	case t.InstanceType == "":
		return mgnValidation("replicationServerInstanceType is required")
	case t.Bandwidth < 0:
		return mgnValidation("bandwidthThrottling must be at least 0")
	}
	for _, sg := range t.SecurityGroups {
		if !strings.HasPrefix(sg, "sg-") {
			return mgnValidation("invalid security group ID %q", sg)
		}
	}
	return nil
}

func (t *mgnTemplate) out() types.ReplicationConfigurationTemplate {
	r := types.ReplicationConfigurationTemplate{
		ReplicationConfigurationTemplateID: aws.String(t.ID), Arn: aws.String(t.ARN),
		AssociateDefaultSecurityGroup: aws.Bool(t.AssociateDefault), BandwidthThrottling: t.Bandwidth, CreatePublicIP: aws.Bool(t.CreatePublicIP),
		DataPlaneRouting: types.ReplicationConfigurationDataPlaneRouting(t.DataPlane), DefaultLargeStagingDiskType: types.ReplicationConfigurationDefaultLargeStagingDiskType(t.DiskType),
		EbsEncryption: types.ReplicationConfigurationEbsEncryption(t.EBSEncryption), ReplicationServerInstanceType: aws.String(t.InstanceType),
		ReplicationServersSecurityGroupsIDs: slices.Clone(t.SecurityGroups), StagingAreaSubnetId: aws.String(t.Subnet),
		StagingAreaTags: maps.Clone(t.StagingTags), UseDedicatedReplicationServer: aws.Bool(t.Dedicated), Tags: maps.Clone(t.Tags),
		InternetProtocol: types.InternetProtocolIpv4, UseFipsEndpoint: aws.Bool(false), StoreSnapshotOnLocalZone: aws.Bool(false),
	}
	if t.EBSKey != "" {
		r.EbsEncryptionKeyArn = aws.String(t.EBSKey)
	}
	return r
}

// CreateReplicationConfigurationTemplate creates a template; every field
// the API marks required must be given.
func (f *MGN) CreateReplicationConfigurationTemplate(ctx context.Context, in *mgn.CreateReplicationConfigurationTemplateInput, _ ...func(*mgn.Options)) (*mgn.CreateReplicationConfigurationTemplateOutput, error) {
	var out *mgn.CreateReplicationConfigurationTemplateOutput
	err := f.c.call(ctx, mgn.ServiceID, "CreateReplicationConfigurationTemplate", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		if in.AssociateDefaultSecurityGroup == nil || in.CreatePublicIP == nil || in.UseDedicatedReplicationServer == nil ||
			in.ReplicationServersSecurityGroupsIDs == nil || in.StagingAreaTags == nil || in.ReplicationServerInstanceType == nil || in.StagingAreaSubnetId == nil {
			return mgnValidation("a required field is missing")
		}
		id := f.c.newID("rct")
		t := &mgnTemplate{ID: id, ARN: f.c.arn("mgn", "replication-configuration-template/"+id),
			AssociateDefault: *in.AssociateDefaultSecurityGroup, Bandwidth: in.BandwidthThrottling, CreatePublicIP: *in.CreatePublicIP,
			DataPlane: string(in.DataPlaneRouting), DiskType: string(in.DefaultLargeStagingDiskType), EBSEncryption: string(in.EbsEncryption),
			EBSKey: aws.ToString(in.EbsEncryptionKeyArn), InstanceType: *in.ReplicationServerInstanceType, SecurityGroups: slices.Clone(in.ReplicationServersSecurityGroupsIDs),
			Subnet: *in.StagingAreaSubnetId, StagingTags: maps.Clone(in.StagingAreaTags), Dedicated: *in.UseDedicatedReplicationServer, Tags: maps.Clone(in.Tags)}
		if t.Tags == nil {
			t.Tags = map[string]string{}
		}
		if err := t.check(); err != nil {
			return err
		}
		f.st().Templates[id] = t
		f.c.created(id)
		o := t.out()
		out = &mgn.CreateReplicationConfigurationTemplateOutput{ReplicationConfigurationTemplateID: o.ReplicationConfigurationTemplateID, Arn: o.Arn,
			AssociateDefaultSecurityGroup: o.AssociateDefaultSecurityGroup, BandwidthThrottling: o.BandwidthThrottling, CreatePublicIP: o.CreatePublicIP,
			DataPlaneRouting: o.DataPlaneRouting, DefaultLargeStagingDiskType: o.DefaultLargeStagingDiskType, EbsEncryption: o.EbsEncryption,
			EbsEncryptionKeyArn: o.EbsEncryptionKeyArn, ReplicationServerInstanceType: o.ReplicationServerInstanceType,
			ReplicationServersSecurityGroupsIDs: o.ReplicationServersSecurityGroupsIDs, StagingAreaSubnetId: o.StagingAreaSubnetId,
			StagingAreaTags: o.StagingAreaTags, Tags: o.Tags, UseDedicatedReplicationServer: o.UseDedicatedReplicationServer}
		return nil
	})
	return out, err
}

func (f *MGN) template(id string) (*mgnTemplate, error) {
	t, ok := f.st().Templates[id]
	if !ok || f.c.hidden(id) {
		return nil, notFound("ResourceNotFoundException", "Replication Configuration Template %s not found", id)
	}
	return t, nil
}

// UpdateReplicationConfigurationTemplate changes the fields set. Like the
// SDK, which omits a zero BandwidthThrottling from the request, it cannot
// set the throttle back to 0.
func (f *MGN) UpdateReplicationConfigurationTemplate(ctx context.Context, in *mgn.UpdateReplicationConfigurationTemplateInput, _ ...func(*mgn.Options)) (*mgn.UpdateReplicationConfigurationTemplateOutput, error) {
	var out *mgn.UpdateReplicationConfigurationTemplateOutput
	err := f.c.call(ctx, mgn.ServiceID, "UpdateReplicationConfigurationTemplate", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		t, err := f.template(aws.ToString(in.ReplicationConfigurationTemplateID))
		if err != nil {
			return err
		}
		n := *t
		if in.AssociateDefaultSecurityGroup != nil {
			n.AssociateDefault = *in.AssociateDefaultSecurityGroup
		}
		if in.BandwidthThrottling != 0 {
			n.Bandwidth = in.BandwidthThrottling
		}
		if in.CreatePublicIP != nil {
			n.CreatePublicIP = *in.CreatePublicIP
		}
		if in.DataPlaneRouting != "" {
			n.DataPlane = string(in.DataPlaneRouting)
		}
		if in.DefaultLargeStagingDiskType != "" {
			n.DiskType = string(in.DefaultLargeStagingDiskType)
		}
		if in.EbsEncryption != "" {
			n.EBSEncryption = string(in.EbsEncryption)
			n.EBSKey = ""
		}
		if in.EbsEncryptionKeyArn != nil {
			n.EBSKey = *in.EbsEncryptionKeyArn
		}
		if in.ReplicationServerInstanceType != nil {
			n.InstanceType = *in.ReplicationServerInstanceType
		}
		if in.ReplicationServersSecurityGroupsIDs != nil {
			n.SecurityGroups = slices.Clone(in.ReplicationServersSecurityGroupsIDs)
		}
		if in.StagingAreaSubnetId != nil {
			n.Subnet = *in.StagingAreaSubnetId
		}
		if in.StagingAreaTags != nil {
			n.StagingTags = maps.Clone(in.StagingAreaTags)
		}
		if in.UseDedicatedReplicationServer != nil {
			n.Dedicated = *in.UseDedicatedReplicationServer
		}
		if err := n.check(); err != nil {
			return err
		}
		*t = n
		out = &mgn.UpdateReplicationConfigurationTemplateOutput{ReplicationConfigurationTemplateID: aws.String(t.ID), Arn: aws.String(t.ARN)}
		return nil
	})
	return out, err
}

// DescribeReplicationConfigurationTemplates lists templates, by ID or all,
// paginated.
func (f *MGN) DescribeReplicationConfigurationTemplates(ctx context.Context, in *mgn.DescribeReplicationConfigurationTemplatesInput, _ ...func(*mgn.Options)) (*mgn.DescribeReplicationConfigurationTemplatesOutput, error) {
	var out *mgn.DescribeReplicationConfigurationTemplatesOutput
	err := f.c.call(ctx, mgn.ServiceID, "DescribeReplicationConfigurationTemplates", false, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		var all []types.ReplicationConfigurationTemplate
		for _, id := range sortedKeys(f.st().Templates) {
			if (len(in.ReplicationConfigurationTemplateIDs) > 0 && !slices.Contains(in.ReplicationConfigurationTemplateIDs, id)) || f.c.hidden(id) {
				continue
			}
			all = append(all, f.st().Templates[id].out())
		}
		items, next, err := page(all, in.NextToken, mgnPageSize(in.MaxResults))
		if err != nil {
			return err
		}
		out = &mgn.DescribeReplicationConfigurationTemplatesOutput{Items: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteReplicationConfigurationTemplate deletes a template.
func (f *MGN) DeleteReplicationConfigurationTemplate(ctx context.Context, in *mgn.DeleteReplicationConfigurationTemplateInput, _ ...func(*mgn.Options)) (*mgn.DeleteReplicationConfigurationTemplateOutput, error) {
	err := f.c.call(ctx, mgn.ServiceID, "DeleteReplicationConfigurationTemplate", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		t, err := f.template(aws.ToString(in.ReplicationConfigurationTemplateID))
		if err != nil {
			return err
		}
		delete(f.st().Templates, t.ID)
		return nil
	})
	return &mgn.DeleteReplicationConfigurationTemplateOutput{}, err
}

func mgnPageSize(n *int32) int {
	if n == nil || *n <= 0 {
		return mgnDefaultPageSize
	}
	return int(*n)
}

// tagsByARN returns the tag map of a template or source server.
func (f *MGN) tagsByARN(arn string) (map[string]string, error) {
	for _, t := range f.st().Templates {
		if t.ARN == arn && !f.c.hidden(t.ID) {
			return t.Tags, nil
		}
	}
	for _, s := range f.st().Servers {
		if s.ARN == arn {
			return s.Tags, nil
		}
	}
	return nil, notFound("ResourceNotFoundException", "Resource %s not found", arn)
}

// ListTagsForResource lists the tags of a template or source server.
func (f *MGN) ListTagsForResource(ctx context.Context, in *mgn.ListTagsForResourceInput, _ ...func(*mgn.Options)) (*mgn.ListTagsForResourceOutput, error) {
	var out *mgn.ListTagsForResourceOutput
	err := f.c.call(ctx, mgn.ServiceID, "ListTagsForResource", false, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		m, err := f.tagsByARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		out = &mgn.ListTagsForResourceOutput{Tags: maps.Clone(m)}
		return nil
	})
	return out, err
}

// TagResource adds or overwrites tags.
func (f *MGN) TagResource(ctx context.Context, in *mgn.TagResourceInput, _ ...func(*mgn.Options)) (*mgn.TagResourceOutput, error) {
	err := f.c.call(ctx, mgn.ServiceID, "TagResource", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		m, err := f.tagsByARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		maps.Copy(m, in.Tags)
		if len(m) > 50 {
			return mgnValidation("at most 50 tags")
		}
		return nil
	})
	return &mgn.TagResourceOutput{}, err
}

// UntagResource removes tags.
func (f *MGN) UntagResource(ctx context.Context, in *mgn.UntagResourceInput, _ ...func(*mgn.Options)) (*mgn.UntagResourceOutput, error) {
	err := f.c.call(ctx, mgn.ServiceID, "UntagResource", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		m, err := f.tagsByARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(m, k)
		}
		return nil
	})
	return &mgn.UntagResourceOutput{}, err
}

// replication computes a server's data replication state, the bytes
// replicated and the lag. Call with mu held.
func (f *MGN) replication(s *mgnServer) (state string, replicated int64, lag time.Duration, launchable bool) {
	el := f.c.now().Sub(s.Added)
	switch {
	case s.Finalized:
		return "DISCONNECTED", s.DiskBytes, 0, false
	case el < mgnInitiating:
		return "INITIATING", 0, 0, false
	case el < mgnInitiating+s.Sync:
		frac := float64(el-mgnInitiating) / float64(s.Sync)
		return "INITIAL_SYNC", int64(float64(s.DiskBytes) * frac), 0, false
	case !s.StalledAt.IsZero():
		return "STALLED", s.DiskBytes, f.c.now().Sub(s.StalledAt), true
	default:
		return "CONTINUOUS", s.DiskBytes, mgnContinuousLag, true
	}
}

// lifecycle computes a server's lifecycle state. Call with mu held.
func (f *MGN) lifecycle(s *mgnServer) string {
	if s.Lifecycle != "" {
		return s.Lifecycle
	}
	if _, _, _, launchable := f.replication(s); launchable {
		return "READY_FOR_TEST"
	}
	return "NOT_READY"
}

// jobState computes a job's status and each server's launch status.
// Call with mu held.
func (f *MGN) jobState(j *mgnJob) (types.JobStatus, map[string]types.LaunchStatus) {
	el := f.c.now().Sub(j.Created)
	out := map[string]types.LaunchStatus{}
	status := types.JobStatusCompleted
	for _, id := range j.Servers {
		switch {
		case el < mgnJobPending:
			out[id], status = types.LaunchStatusPending, types.JobStatusPending
		case el < mgnJobLaunch:
			out[id], status = types.LaunchStatusInProgress, types.JobStatusStarted
		case slices.Contains(j.Failed, id):
			out[id] = types.LaunchStatusFailed
		default:
			out[id] = types.LaunchStatusLaunched
		}
	}
	return status, out
}

func isoDuration(d time.Duration) string {
	return fmt.Sprintf("PT%dS", int64(d.Round(time.Second)/time.Second))
}

func (f *MGN) serverOut(s *mgnServer) types.SourceServer {
	state, replicated, lag, launchable := f.replication(s)
	info := &types.DataReplicationInfo{DataReplicationState: types.DataReplicationState(state),
		ReplicatedDisks: []types.DataReplicationInfoReplicatedDisk{{DeviceName: aws.String("/dev/sda"), TotalStorageBytes: s.DiskBytes, ReplicatedStorageBytes: replicated}}}
	if launchable {
		info.LagDuration = aws.String(isoDuration(lag))
	}
	if state == "INITIAL_SYNC" {
		info.EtaDateTime = aws.String(s.Added.Add(mgnInitiating + s.Sync).Format(time.RFC3339))
	}
	out := types.SourceServer{
		SourceServerID: aws.String(s.ID), Arn: aws.String(s.ARN), Tags: maps.Clone(s.Tags), IsArchived: aws.Bool(s.Archived),
		ReplicationType: types.ReplicationTypeAgentBased, DataReplicationInfo: info,
		LifeCycle: &types.LifeCycle{State: types.LifeCycleState(f.lifecycle(s)), AddedToServiceDateTime: aws.String(s.Added.Format(time.RFC3339))},
		SourceProperties: &types.SourceProperties{IdentificationHints: &types.IdentificationHints{Hostname: aws.String(s.Hostname), Fqdn: aws.String(s.Hostname + ".corp.example.com")},
			RamBytes: 16 << 30, RecommendedInstanceType: aws.String("m5.xlarge")},
	}
	if j, ok := f.st().Jobs[s.LastTestJob]; ok {
		out.LifeCycle.LastTest = &types.LifeCycleLastTest{Initiated: &types.LifeCycleLastTestInitiated{JobID: aws.String(j.ID), ApiCallDateTime: aws.String(j.Created.Format(time.RFC3339))}}
	}
	if j, ok := f.st().Jobs[s.LastCutoverJob]; ok {
		out.LifeCycle.LastCutover = &types.LifeCycleLastCutover{Initiated: &types.LifeCycleLastCutoverInitiated{JobID: aws.String(j.ID), ApiCallDateTime: aws.String(j.Created.Format(time.RFC3339))}}
	}
	if j, ok := f.st().Jobs[s.LaunchJob]; ok {
		if _, launches := f.jobState(j); launches[s.ID] == types.LaunchStatusLaunched {
			out.LaunchedInstance = &types.LaunchedInstance{Ec2InstanceID: aws.String(j.Instances[s.ID]), JobID: aws.String(j.ID), FirstBoot: types.FirstBootSucceeded}
		}
	}
	return out
}

// DescribeSourceServers lists source servers, filtered by ID, archived
// flag and lifecycle state, paginated.
func (f *MGN) DescribeSourceServers(ctx context.Context, in *mgn.DescribeSourceServersInput, _ ...func(*mgn.Options)) (*mgn.DescribeSourceServersOutput, error) {
	var out *mgn.DescribeSourceServersOutput
	err := f.c.call(ctx, mgn.ServiceID, "DescribeSourceServers", false, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		var all []types.SourceServer
		for _, id := range sortedKeys(f.st().Servers) {
			s := f.st().Servers[id]
			if flt := in.Filters; flt != nil {
				if len(flt.SourceServerIDs) > 0 && !slices.Contains(flt.SourceServerIDs, id) ||
					flt.IsArchived != nil && *flt.IsArchived != s.Archived ||
					len(flt.LifeCycleStates) > 0 && !slices.Contains(flt.LifeCycleStates, types.LifeCycleState(f.lifecycle(s))) {
					continue
				}
			}
			all = append(all, f.serverOut(s))
		}
		items, next, err := page(all, in.NextToken, mgnPageSize(in.MaxResults))
		if err != nil {
			return err
		}
		out = &mgn.DescribeSourceServersOutput{Items: items, NextToken: next}
		return nil
	})
	return out, err
}

func (f *MGN) server(id string) (*mgnServer, error) {
	s, ok := f.st().Servers[id]
	if !ok {
		return nil, notFound("ResourceNotFoundException", "Source server %s not found", id)
	}
	return s, nil
}

// launch starts a LAUNCH job for servers whose lifecycle allows it and
// moves them to next. Call with mu held.
func (f *MGN) launch(ids []string, tags map[string]string, initiatedBy types.InitiatedBy, allowed []string, next string) (*types.Job, error) {
	if len(ids) == 0 || len(ids) > 200 {
		return nil, mgnValidation("1 to 200 source server IDs required")
	}
	var servers []*mgnServer
	for _, id := range ids {
		s, err := f.server(id)
		if err != nil {
			return nil, err
		}
		if _, _, _, launchable := f.replication(s); !launchable || s.Archived {
			return nil, mgnValidation("Source server %s is not launchable: data replication has not completed its initial sync", id)
		}
		if st := f.lifecycle(s); !slices.Contains(allowed, st) {
			return nil, mgnValidation("Source server %s is in lifecycle state %s; %s needs one of %v", id, st, initiatedBy, allowed)
		}
		servers = append(servers, s)
	}
	jid := f.c.newID("mgnjob")
	j := &mgnJob{ID: jid, ARN: f.c.arn("mgn", "job/"+jid), InitiatedBy: string(initiatedBy), Created: f.c.now(), Instances: map[string]string{}, Tags: maps.Clone(tags)}
	for _, s := range servers {
		j.Servers = append(j.Servers, s.ID)
		j.Instances[s.ID] = f.c.newID("i")
		if s.FailLaunch {
			j.Failed = append(j.Failed, s.ID)
			s.FailLaunch = false
		}
		s.Lifecycle, s.LaunchJob = next, jid
		if initiatedBy == types.InitiatedByStartCutover {
			s.LastCutoverJob = jid
		} else {
			s.LastTestJob = jid
		}
	}
	f.st().Jobs[jid] = j
	out := f.jobOut(j)
	return &out, nil
}

func (f *MGN) jobOut(j *mgnJob) types.Job {
	status, launches := f.jobState(j)
	out := types.Job{JobID: aws.String(j.ID), Arn: aws.String(j.ARN), Type: types.JobTypeLaunch, InitiatedBy: types.InitiatedBy(j.InitiatedBy),
		Status: status, CreationDateTime: aws.String(j.Created.Format(time.RFC3339)), Tags: maps.Clone(j.Tags)}
	if status == types.JobStatusCompleted {
		out.EndDateTime = aws.String(j.Created.Add(mgnJobLaunch).Format(time.RFC3339))
	}
	for _, id := range j.Servers {
		ps := types.ParticipatingServer{SourceServerID: aws.String(id), LaunchStatus: launches[id]}
		if launches[id] == types.LaunchStatusLaunched {
			ps.LaunchedEc2InstanceID = aws.String(j.Instances[id])
		}
		out.ParticipatingServers = append(out.ParticipatingServers, ps)
	}
	return out
}

// StartTest launches test instances: servers READY_FOR_TEST, TESTING or
// READY_FOR_CUTOVER move to TESTING.
func (f *MGN) StartTest(ctx context.Context, in *mgn.StartTestInput, _ ...func(*mgn.Options)) (*mgn.StartTestOutput, error) {
	var out *mgn.StartTestOutput
	err := f.c.call(ctx, mgn.ServiceID, "StartTest", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		j, err := f.launch(in.SourceServerIDs, in.Tags, types.InitiatedByStartTest, []string{"READY_FOR_TEST", "TESTING", "READY_FOR_CUTOVER"}, "TESTING")
		if err != nil {
			return err
		}
		out = &mgn.StartTestOutput{Job: j}
		return nil
	})
	return out, err
}

// StartCutover launches cutover instances: servers READY_FOR_CUTOVER (or
// CUTTING_OVER, relaunching) move to CUTTING_OVER.
func (f *MGN) StartCutover(ctx context.Context, in *mgn.StartCutoverInput, _ ...func(*mgn.Options)) (*mgn.StartCutoverOutput, error) {
	var out *mgn.StartCutoverOutput
	err := f.c.call(ctx, mgn.ServiceID, "StartCutover", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		j, err := f.launch(in.SourceServerIDs, in.Tags, types.InitiatedByStartCutover, []string{"READY_FOR_CUTOVER", "CUTTING_OVER"}, "CUTTING_OVER")
		if err != nil {
			return err
		}
		out = &mgn.StartCutoverOutput{Job: j}
		return nil
	})
	return out, err
}

// ChangeServerLifeCycleState sets READY_FOR_TEST (from TESTING or
// READY_FOR_CUTOVER), READY_FOR_CUTOVER (from READY_FOR_TEST or TESTING)
// or CUTOVER (from CUTTING_OVER), on a launchable server only.
func (f *MGN) ChangeServerLifeCycleState(ctx context.Context, in *mgn.ChangeServerLifeCycleStateInput, _ ...func(*mgn.Options)) (*mgn.ChangeServerLifeCycleStateOutput, error) {
	var out *mgn.ChangeServerLifeCycleStateOutput
	err := f.c.call(ctx, mgn.ServiceID, "ChangeServerLifeCycleState", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		s, err := f.server(aws.ToString(in.SourceServerID))
		if err != nil {
			return err
		}
		if in.LifeCycle == nil {
			return mgnValidation("lifeCycle is required")
		}
		if _, _, _, launchable := f.replication(s); !launchable {
			return mgnValidation("Source server %s is not launchable (lagDuration is null)", s.ID)
		}
		to := string(in.LifeCycle.State)
		allowed := map[string][]string{
			"READY_FOR_TEST":    {"TESTING", "READY_FOR_CUTOVER"},
			"READY_FOR_CUTOVER": {"READY_FOR_TEST", "TESTING"},
			"CUTOVER":           {"CUTTING_OVER"},
		}[to]
		if from := f.lifecycle(s); !slices.Contains(allowed, from) {
			return mgnValidation("cannot change lifecycle state of %s from %s to %s", s.ID, from, to)
		}
		s.Lifecycle = to
		o := f.serverOut(s)
		out = &mgn.ChangeServerLifeCycleStateOutput{SourceServerID: o.SourceServerID, Arn: o.Arn, LifeCycle: o.LifeCycle, DataReplicationInfo: o.DataReplicationInfo}
		return nil
	})
	return out, err
}

// FinalizeCutover finalizes a server CUTTING_OVER whose cutover instance
// launched: it becomes CUTOVER and its replication stops (DISCONNECTED).
func (f *MGN) FinalizeCutover(ctx context.Context, in *mgn.FinalizeCutoverInput, _ ...func(*mgn.Options)) (*mgn.FinalizeCutoverOutput, error) {
	var out *mgn.FinalizeCutoverOutput
	err := f.c.call(ctx, mgn.ServiceID, "FinalizeCutover", true, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		s, err := f.server(aws.ToString(in.SourceServerID))
		if err != nil {
			return err
		}
		if st := f.lifecycle(s); st != "CUTTING_OVER" {
			return mgnValidation("Source server %s is in lifecycle state %s; FinalizeCutover needs CUTTING_OVER", s.ID, st)
		}
		if f.serverOut(s).LaunchedInstance == nil {
			return mgnValidation("Source server %s has no launched cutover instance", s.ID)
		}
		s.Lifecycle, s.Finalized = "CUTOVER", true
		o := f.serverOut(s)
		out = &mgn.FinalizeCutoverOutput{SourceServerID: o.SourceServerID, Arn: o.Arn, LifeCycle: o.LifeCycle, DataReplicationInfo: o.DataReplicationInfo, LaunchedInstance: o.LaunchedInstance}
		return nil
	})
	return out, err
}

// DescribeJobs lists jobs, filtered by ID, paginated.
func (f *MGN) DescribeJobs(ctx context.Context, in *mgn.DescribeJobsInput, _ ...func(*mgn.Options)) (*mgn.DescribeJobsOutput, error) {
	var out *mgn.DescribeJobsOutput
	err := f.c.call(ctx, mgn.ServiceID, "DescribeJobs", false, func() error {
		if err := f.initialized(); err != nil {
			return err
		}
		var all []types.Job
		for _, id := range sortedKeys(f.st().Jobs) {
			if in.Filters != nil && len(in.Filters.JobIDs) > 0 && !slices.Contains(in.Filters.JobIDs, id) {
				continue
			}
			all = append(all, f.jobOut(f.st().Jobs[id]))
		}
		items, next, err := page(all, in.NextToken, mgnPageSize(in.MaxResults))
		if err != nil {
			return err
		}
		out = &mgn.DescribeJobsOutput{Items: items, NextToken: next}
		return nil
	})
	return out, err
}

// AddSourceServer registers a source server as an agent installation
// would: hostname as the agent reports it, tags, a 100 GiB disk that takes
// two hours of initial sync (see SetInitialSync). It returns the ID.
func (f *MGN) AddSourceServer(hostname string, tags map[string]string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	id := f.c.newID("s")
	if tags == nil {
		tags = map[string]string{}
	}
	f.st().Servers[id] = &mgnServer{ID: id, ARN: f.c.arn("mgn", "source-server/"+id), Hostname: hostname, Tags: maps.Clone(tags),
		Added: f.c.now(), DiskBytes: mgnDefaultDisk, Sync: mgnDefaultSync}
	return id
}

// SetInitialSync sets a server's disk size and how long its initial sync
// takes.
func (f *MGN) SetInitialSync(id string, diskBytes int64, sync time.Duration) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if s, ok := f.st().Servers[id]; ok {
		s.DiskBytes, s.Sync = diskBytes, max(sync, time.Second)
	}
}

// StallReplication makes a server's replication STALLED from now on (lag
// grows); ResumeReplication makes it CONTINUOUS again.
func (f *MGN) StallReplication(id string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if s, ok := f.st().Servers[id]; ok {
		s.StalledAt = f.c.now()
	}
}

// ResumeReplication ends a StallReplication.
func (f *MGN) ResumeReplication(id string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if s, ok := f.st().Servers[id]; ok {
		s.StalledAt = time.Time{}
	}
}

// FailNextLaunch makes the server's next test or cutover launch fail.
func (f *MGN) FailNextLaunch(id string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if s, ok := f.st().Servers[id]; ok {
		s.FailLaunch = true
	}
}

// ArchiveServer marks a server archived, as MarkAsArchived does to the
// record of a server whose agent was reinstalled.
func (f *MGN) ArchiveServer(id string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if s, ok := f.st().Servers[id]; ok {
		s.Archived = true
	}
}

// ServerLifecycle returns a server's lifecycle state, for assertions.
func (f *MGN) ServerLifecycle(id string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	s, ok := f.st().Servers[id]
	if !ok {
		return ""
	}
	return f.lifecycle(s)
}

// Initialized reports whether InitializeService was called.
func (f *MGN) Initialized() bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return f.st().Initialized
}

// Templates returns the IDs of every replication template, for
// assertions.
func (f *MGN) Templates() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Templates)
}
