package migration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mgn"
	mgntypes "github.com/aws/aws-sdk-go-v2/service/mgn/types"
	"golang.org/x/sync/errgroup"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// ProgressRecorder records migration progress; the tracking Store
// implements it. Implementations must be safe for concurrent use: wave
// helpers record servers in parallel.
type ProgressRecorder interface {
	RecordServer(ctx context.Context, s ServerStatus) error
	RecordTransfer(ctx context.Context, t TransferStatus) error
}

// MGNAPI is the part of the MGN client EnsureMGNService and the
// replication template use.
type MGNAPI interface {
	InitializeService(context.Context, *mgn.InitializeServiceInput, ...func(*mgn.Options)) (*mgn.InitializeServiceOutput, error)
	DescribeReplicationConfigurationTemplates(context.Context, *mgn.DescribeReplicationConfigurationTemplatesInput, ...func(*mgn.Options)) (*mgn.DescribeReplicationConfigurationTemplatesOutput, error)
	CreateReplicationConfigurationTemplate(context.Context, *mgn.CreateReplicationConfigurationTemplateInput, ...func(*mgn.Options)) (*mgn.CreateReplicationConfigurationTemplateOutput, error)
	UpdateReplicationConfigurationTemplate(context.Context, *mgn.UpdateReplicationConfigurationTemplateInput, ...func(*mgn.Options)) (*mgn.UpdateReplicationConfigurationTemplateOutput, error)
	DeleteReplicationConfigurationTemplate(context.Context, *mgn.DeleteReplicationConfigurationTemplateInput, ...func(*mgn.Options)) (*mgn.DeleteReplicationConfigurationTemplateOutput, error)
	TagResource(context.Context, *mgn.TagResourceInput, ...func(*mgn.Options)) (*mgn.TagResourceOutput, error)
}

// MGNServersAPI is the part of the MGN client the server status reader
// and the wave helpers use.
type MGNServersAPI interface {
	DescribeSourceServers(context.Context, *mgn.DescribeSourceServersInput, ...func(*mgn.Options)) (*mgn.DescribeSourceServersOutput, error)
	DescribeJobs(context.Context, *mgn.DescribeJobsInput, ...func(*mgn.Options)) (*mgn.DescribeJobsOutput, error)
	StartTest(context.Context, *mgn.StartTestInput, ...func(*mgn.Options)) (*mgn.StartTestOutput, error)
	ChangeServerLifeCycleState(context.Context, *mgn.ChangeServerLifeCycleStateInput, ...func(*mgn.Options)) (*mgn.ChangeServerLifeCycleStateOutput, error)
	StartCutover(context.Context, *mgn.StartCutoverInput, ...func(*mgn.Options)) (*mgn.StartCutoverOutput, error)
	FinalizeCutover(context.Context, *mgn.FinalizeCutoverInput, ...func(*mgn.Options)) (*mgn.FinalizeCutoverOutput, error)
}

// Change kinds of MGN.
const (
	KindMGNService          = "mgn-service"
	KindReplicationTemplate = "mgn-replication-template"
)

// errUninitialized is the code MGN answers in a Region where it was never
// initialized.
const errUninitialized = "UninitializedAccountException"

// mgnServiceName names the service in Changes.
func mgnServiceName(env Env) string { return "application-migration-service-" + env.Region }

// EnsureMGNService initializes AWS Application Migration Service in the
// env's Region when it is not (MGN answers reads with
// UninitializedAccountException until then). Call it after
// EnsureMGNRoles: InitializeService expects the roles. A dry run reports
// the initialization without doing it. Idempotent: an initialized Region
// costs one read.
func EnsureMGNService(ctx context.Context, env Env, api MGNAPI) error {
	name := mgnServiceName(env)
	if err := env.Validate(); err != nil {
		return fmt.Errorf("ensure mgn service: %w", err)
	}
	_, err := api.DescribeReplicationConfigurationTemplates(ctx, &mgn.DescribeReplicationConfigurationTemplatesInput{MaxResults: aws.Int32(1)})
	switch {
	case err == nil:
		env.Report(Change{Kind: KindMGNService, Name: name, ID: name, Action: ActionNoop})
		return nil
	case !awsx.HasCode(err, errUninitialized):
		return fmt.Errorf("ensure mgn service: %w", err)
	}
	if !env.DryRun {
		if _, err := api.InitializeService(ctx, &mgn.InitializeServiceInput{}); err != nil {
			return fmt.Errorf("ensure mgn service: initialize: %w", err)
		}
	}
	env.Report(Change{Kind: KindMGNService, Name: name, ID: name, Action: ActionCreate, Note: "InitializeService"})
	return nil
}

// DeleteMGNService leaves MGN initialized — the API has no operation to
// undo InitializeService — and reports a noop saying so.
func DeleteMGNService(_ context.Context, env Env, _ MGNAPI) error {
	if err := env.Validate(); err != nil {
		return fmt.Errorf("delete mgn service: %w", err)
	}
	env.Report(Change{Kind: KindMGNService, Name: mgnServiceName(env), Action: ActionNoop, Note: "MGN stays initialized: the API cannot undo InitializeService"})
	return nil
}

// Staging disk types of the replication servers.
const (
	StagingDiskGP3 = "GP3"
	StagingDiskGP2 = "GP2"
	StagingDiskST1 = "ST1"
)

// ReplicationTemplateSpec describes MGN's replication configuration
// template: how every new source server replicates.
type ReplicationTemplateSpec struct {
	// StagingSubnetID is a private subnet of the VPC (subnet-...) where
	// MGN runs the replication servers and keeps the staging disks
	// (VerifyPrivateSubnet checks that it is private).
	StagingSubnetID string
	// SecurityGroupIDs are the replication servers' security groups
	// (they must allow TCP 1500 from the source servers); the VPC's
	// default group is never added.
	SecurityGroupIDs []string
	// KMSKeyARN is the env key: staging disks are EBS-encrypted with it
	// (EbsEncryption CUSTOM).
	KMSKeyARN string
	// InstanceType of the replication servers; "t3.small" (MGN's
	// default) when empty.
	InstanceType string
	// BandwidthMbps throttles replication per source server, in Mbps, so
	// that it leaves room on the VPN / Direct Connect link; 0 means
	// unthrottled. MGN's update operation cannot set it back to 0 once
	// set (the SDK omits a zero), which EnsureReplicationTemplate reports
	// as an error rather than pretend to converge.
	BandwidthMbps int64
	// StagingDiskType is StagingDiskGP3 (default), StagingDiskGP2 or
	// StagingDiskST1 for large staging disks.
	StagingDiskType string
	// DedicatedReplicationServer gives every source server its own
	// replication server.
	DedicatedReplicationServer bool
	// AdoptTemplateID is an existing template of the account (say the one
	// the MGN console created at initialization) that the env takes over:
	// EnsureReplicationTemplate tags it with the env's tags and converges
	// it. Without it, EnsureReplicationTemplate refuses to create a
	// template next to one the env does not own.
	AdoptTemplateID string
}

var (
	instanceTypeRe = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	templateIDRe   = regexp.MustCompile(`^rct-[0-9a-zA-Z]{17}$`)
)

// Validate checks the spec.
func (s ReplicationTemplateSpec) Validate() error {
	var errs []error
	if !IsPending(s.StagingSubnetID) && !subnetIDRe.MatchString(s.StagingSubnetID) {
		errs = append(errs, fmt.Errorf("replicationTemplate.stagingSubnetId: %q is not a subnet ID (a private subnet is required)", s.StagingSubnetID))
	}
	if len(s.SecurityGroupIDs) == 0 || len(s.SecurityGroupIDs) > 32 {
		errs = append(errs, errors.New("replicationTemplate.securityGroupIds: 1 to 32 security groups required"))
	}
	for i, id := range s.SecurityGroupIDs {
		if !IsPending(id) && !sgIDRe.MatchString(id) {
			errs = append(errs, fmt.Errorf("replicationTemplate.securityGroupIds[%d]: %q is not a security group ID", i, id))
		}
	}
	if !IsPending(s.KMSKeyARN) && !strings.HasPrefix(s.KMSKeyARN, "arn:aws") {
		errs = append(errs, fmt.Errorf("replicationTemplate.kmsKeyArn: %q is not a KMS key ARN (required: staging disks are encrypted with the env key)", s.KMSKeyARN))
	}
	if s.InstanceType != "" && !instanceTypeRe.MatchString(s.InstanceType) {
		errs = append(errs, fmt.Errorf("replicationTemplate.instanceType: %q is not an EC2 instance type", s.InstanceType))
	}
	if s.BandwidthMbps < 0 {
		errs = append(errs, fmt.Errorf("replicationTemplate.bandwidthMbps: %d must be 0 (unthrottled) or positive", s.BandwidthMbps))
	}
	if s.StagingDiskType != "" && !slices.Contains([]string{StagingDiskGP3, StagingDiskGP2, StagingDiskST1}, s.StagingDiskType) {
		errs = append(errs, fmt.Errorf("replicationTemplate.stagingDiskType: %q is not GP3, GP2 or ST1", s.StagingDiskType))
	}
	if s.AdoptTemplateID != "" && !templateIDRe.MatchString(s.AdoptTemplateID) {
		errs = append(errs, fmt.Errorf("replicationTemplate.adoptTemplateId: %q is not a template ID (rct-...)", s.AdoptTemplateID))
	}
	return errors.Join(errs...)
}

func (s ReplicationTemplateSpec) instanceType() string {
	if s.InstanceType == "" {
		return "t3.small"
	}
	return s.InstanceType
}

func (s ReplicationTemplateSpec) diskType() string {
	if s.StagingDiskType == "" {
		return StagingDiskGP3
	}
	return s.StagingDiskType
}

// ReplicationTemplate is the ensured template.
type ReplicationTemplate struct {
	ID  string
	ARN string
}

// ReplicationTemplateName returns the Name tag of the env's template.
func ReplicationTemplateName(env Env) string { return env.Name("mgn-replication-template") }

// stagingTags are the tags MGN puts on the replication servers and
// staging disks it creates: the env's tags without the ownership tag and
// ManagedBy — those resources are MGN's to create and delete, never the
// env's.
func stagingTags(env Env) map[string]string {
	t := env.Tags()
	delete(t, OwnerTag)
	delete(t, TagManagedBy)
	return t
}

// EnsureReplicationTemplate makes the env's replication configuration
// template exist and converge: the staging subnet, the spec's security
// groups and not the default one, EBS encryption CUSTOM with the env key,
// the replication server instance type, data routing over private IPs
// (PRIVATE_IP, CreatePublicIP false: replication flows over the VPN or
// Direct Connect, never the internet), the bandwidth throttle, the staging
// disk type, staging tags, and the env's tags on the template.
//
// MGN applies its template to every new source server of the account and
// Region, so the env owns at most one: found by the ownership tag (more
// than one is an error), created when missing, and refused when another
// template the env does not own exists, unless the spec adopts it
// (AdoptTemplateID). Pending inputs (dry run) report a create without
// calling AWS; an uninitialized MGN (EnsureMGNService not yet applied)
// reports a create in a dry run and is an error otherwise. Idempotent: a
// converged template costs reads only. It does not read the network: call
// VerifyPrivateSubnet on StagingSubnetID first, as the example does, to
// refuse a staging subnet that is not private.
func EnsureReplicationTemplate(ctx context.Context, env Env, api MGNAPI, spec ReplicationTemplateSpec) (ReplicationTemplate, error) {
	name := ReplicationTemplateName(env)
	if err := Validate(env, spec); err != nil {
		return ReplicationTemplate{}, fmt.Errorf("ensure mgn replication template %q: %w", name, err)
	}
	t, err := ensureReplicationTemplate(ctx, env, api, spec, name)
	if err != nil {
		return ReplicationTemplate{}, fmt.Errorf("ensure mgn replication template %q: %w", name, err)
	}
	return t, nil
}

func listTemplates(ctx context.Context, api MGNAPI) ([]mgntypes.ReplicationConfigurationTemplate, error) {
	var all []mgntypes.ReplicationConfigurationTemplate
	p := mgn.NewDescribeReplicationConfigurationTemplatesPaginator(api, &mgn.DescribeReplicationConfigurationTemplatesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
	}
	return all, nil
}

// findTemplate returns the env's template (nil when none) and the IDs of
// the account's templates the env does not own.
func findTemplate(ctx context.Context, env Env, api MGNAPI, adopt string) (*mgntypes.ReplicationConfigurationTemplate, []string, error) {
	all, err := listTemplates(ctx, api)
	if err != nil {
		return nil, nil, err
	}
	var owned []mgntypes.ReplicationConfigurationTemplate
	var others []string
	for _, t := range all {
		id := aws.ToString(t.ReplicationConfigurationTemplateID)
		if env.Owns(t.Tags) || id == adopt {
			owned = append(owned, t)
		} else {
			others = append(others, id)
		}
	}
	if adopt != "" && !slices.ContainsFunc(all, func(t mgntypes.ReplicationConfigurationTemplate) bool {
		return aws.ToString(t.ReplicationConfigurationTemplateID) == adopt
	}) {
		return nil, nil, fmt.Errorf("template %s to adopt does not exist", adopt)
	}
	switch len(owned) {
	case 0:
		return nil, others, nil
	case 1:
		return &owned[0], others, nil
	}
	ids := make([]string, len(owned))
	for i, t := range owned {
		ids[i] = aws.ToString(t.ReplicationConfigurationTemplateID)
	}
	return nil, nil, fmt.Errorf("%d templates belong to the env (%v); MGN applies one: delete the extras", len(owned), ids)
}

func ensureReplicationTemplate(ctx context.Context, env Env, api MGNAPI, spec ReplicationTemplateSpec, name string) (ReplicationTemplate, error) {
	if AnyPending(append([]string{spec.StagingSubnetID, spec.KMSKeyARN}, spec.SecurityGroupIDs...)...) {
		env.Report(Change{Kind: KindReplicationTemplate, Name: name, ID: Pending(name), Action: ActionCreate})
		return ReplicationTemplate{ID: Pending(name), ARN: Pending(name)}, nil
	}
	found, others, err := findTemplate(ctx, env, api, spec.AdoptTemplateID)
	if awsx.HasCode(err, errUninitialized) {
		if env.DryRun {
			env.Report(Change{Kind: KindReplicationTemplate, Name: name, ID: Pending(name), Action: ActionCreate, Note: "MGN is not initialized yet"})
			return ReplicationTemplate{ID: Pending(name), ARN: Pending(name)}, nil
		}
		return ReplicationTemplate{}, fmt.Errorf("MGN is not initialized in %s: apply EnsureMGNService first: %w", env.Region, err)
	}
	if err != nil {
		return ReplicationTemplate{}, err
	}
	tags := env.NameTags(name)
	if found == nil {
		if len(others) > 0 {
			return ReplicationTemplate{}, fmt.Errorf("the account already has replication template(s) %v that this env does not own; MGN applies one template to new source servers, so a second one is refused: adopt it (ReplicationTemplateSpec.AdoptTemplateID) or delete it", others)
		}
		if env.DryRun {
			env.Report(Change{Kind: KindReplicationTemplate, Name: name, ID: Pending(name), Action: ActionCreate})
			return ReplicationTemplate{ID: Pending(name), ARN: Pending(name)}, nil
		}
		out, err := api.CreateReplicationConfigurationTemplate(ctx, &mgn.CreateReplicationConfigurationTemplateInput{
			StagingAreaSubnetId: aws.String(spec.StagingSubnetID), ReplicationServersSecurityGroupsIDs: spec.SecurityGroupIDs,
			AssociateDefaultSecurityGroup: aws.Bool(false), ReplicationServerInstanceType: aws.String(spec.instanceType()),
			UseDedicatedReplicationServer: aws.Bool(spec.DedicatedReplicationServer),
			DefaultLargeStagingDiskType:   mgntypes.ReplicationConfigurationDefaultLargeStagingDiskType(spec.diskType()),
			EbsEncryption:                 mgntypes.ReplicationConfigurationEbsEncryptionCustom, EbsEncryptionKeyArn: aws.String(spec.KMSKeyARN),
			BandwidthThrottling: spec.BandwidthMbps, DataPlaneRouting: mgntypes.ReplicationConfigurationDataPlaneRoutingPrivateIp,
			CreatePublicIP: aws.Bool(false), StagingAreaTags: stagingTags(env), Tags: tags,
		})
		if err != nil {
			return ReplicationTemplate{}, fmt.Errorf("create: %w", err)
		}
		t := ReplicationTemplate{ID: aws.ToString(out.ReplicationConfigurationTemplateID), ARN: aws.ToString(out.Arn)}
		env.Report(Change{Kind: KindReplicationTemplate, Name: name, ID: t.ID, Action: ActionCreate})
		return t, nil
	}

	t := ReplicationTemplate{ID: aws.ToString(found.ReplicationConfigurationTemplateID), ARN: aws.ToString(found.Arn)}
	diff := templateDiff(*found, spec, env)
	if found.BandwidthThrottling != 0 && spec.BandwidthMbps == 0 {
		return ReplicationTemplate{}, fmt.Errorf("bandwidth throttle of %s is %d Mbps and the spec wants none: MGN's update cannot set it back to 0 (the SDK omits a zero); set it to 0 in the MGN console or set BandwidthMbps", t.ID, found.BandwidthThrottling)
	}
	var c Converge
	c.Differs(diff...)
	// Tag first: an adopted template is the env's from then on.
	c.Tags(found.Tags, tags, func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &mgn.TagResourceInput{ResourceArn: aws.String(t.ARN), Tags: missing}); err != nil {
			return fmt.Errorf("tag %s: %w", t.ID, err)
		}
		return nil
	})
	if len(diff) > 0 {
		c.Then(func() error {
			if _, err := api.UpdateReplicationConfigurationTemplate(ctx, &mgn.UpdateReplicationConfigurationTemplateInput{
				ReplicationConfigurationTemplateID: aws.String(t.ID), StagingAreaSubnetId: aws.String(spec.StagingSubnetID),
				ReplicationServersSecurityGroupsIDs: spec.SecurityGroupIDs, AssociateDefaultSecurityGroup: aws.Bool(false),
				ReplicationServerInstanceType: aws.String(spec.instanceType()), UseDedicatedReplicationServer: aws.Bool(spec.DedicatedReplicationServer),
				DefaultLargeStagingDiskType: mgntypes.ReplicationConfigurationDefaultLargeStagingDiskType(spec.diskType()),
				EbsEncryption:               mgntypes.ReplicationConfigurationEbsEncryptionCustom, EbsEncryptionKeyArn: aws.String(spec.KMSKeyARN),
				BandwidthThrottling: spec.BandwidthMbps, DataPlaneRouting: mgntypes.ReplicationConfigurationDataPlaneRoutingPrivateIp,
				CreatePublicIP: aws.Bool(false), StagingAreaTags: mergeTags(found.StagingAreaTags, stagingTags(env)),
			}); err != nil {
				return fmt.Errorf("update %s: %w", t.ID, err)
			}
			return nil
		})
	}
	note := ""
	if c.Changed() && spec.AdoptTemplateID == t.ID && !env.Owns(found.Tags) {
		note = "adopted"
	}
	if err := c.Apply(env, Change{Kind: KindReplicationTemplate, Name: name, ID: t.ID, Note: note}); err != nil {
		return ReplicationTemplate{}, err
	}
	return t, nil
}

func mergeTags(have, want map[string]string) map[string]string {
	m := maps.Clone(have)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, want)
	return m
}

// templateDiff compares a template with the spec, field by field.
func templateDiff(t mgntypes.ReplicationConfigurationTemplate, spec ReplicationTemplateSpec, env Env) []FieldDiff {
	var diff []FieldDiff
	cmp := func(field, have, want string) {
		if have != want {
			diff = append(diff, FieldDiff{Field: field, From: have, To: want})
		}
	}
	cmp("stagingAreaSubnetId", aws.ToString(t.StagingAreaSubnetId), spec.StagingSubnetID)
	if !sameSet(t.ReplicationServersSecurityGroupsIDs, spec.SecurityGroupIDs) {
		diff = append(diff, FieldDiff{Field: "securityGroupIds", From: strings.Join(t.ReplicationServersSecurityGroupsIDs, ","), To: strings.Join(spec.SecurityGroupIDs, ",")})
	}
	cmp("associateDefaultSecurityGroup", strconv.FormatBool(aws.ToBool(t.AssociateDefaultSecurityGroup)), "false")
	cmp("replicationServerInstanceType", aws.ToString(t.ReplicationServerInstanceType), spec.instanceType())
	cmp("useDedicatedReplicationServer", strconv.FormatBool(aws.ToBool(t.UseDedicatedReplicationServer)), strconv.FormatBool(spec.DedicatedReplicationServer))
	cmp("defaultLargeStagingDiskType", string(t.DefaultLargeStagingDiskType), spec.diskType())
	cmp("ebsEncryption", string(t.EbsEncryption), string(mgntypes.ReplicationConfigurationEbsEncryptionCustom))
	cmp("ebsEncryptionKeyArn", aws.ToString(t.EbsEncryptionKeyArn), spec.KMSKeyARN)
	if spec.BandwidthMbps != 0 {
		cmp("bandwidthThrottling", strconv.FormatInt(t.BandwidthThrottling, 10), strconv.FormatInt(spec.BandwidthMbps, 10))
	}
	cmp("dataPlaneRouting", string(t.DataPlaneRouting), string(mgntypes.ReplicationConfigurationDataPlaneRoutingPrivateIp))
	cmp("createPublicIP", strconv.FormatBool(aws.ToBool(t.CreatePublicIP)), "false")
	if missing := awsx.MissingTags(t.StagingAreaTags, stagingTags(env)); len(missing) > 0 {
		diff = append(diff, FieldDiff{Field: "stagingAreaTags", From: "(missing)", To: fmt.Sprint(slices.Sorted(maps.Keys(missing)))})
	}
	return diff
}

// DeleteReplicationTemplate deletes the env's template: only one carrying
// the env's ownership tag (an adopted template carries it too); a missing
// one, or an uninitialized MGN, is a no-op. Source servers keep the
// replication settings they were given.
func DeleteReplicationTemplate(ctx context.Context, env Env, api MGNAPI, spec ReplicationTemplateSpec) error {
	name := ReplicationTemplateName(env)
	if err := Validate(env, spec); err != nil {
		return fmt.Errorf("delete mgn replication template %q: %w", name, err)
	}
	found, _, err := findTemplate(ctx, env, api, "")
	if awsx.HasCode(err, errUninitialized) {
		env.Report(Change{Kind: KindReplicationTemplate, Name: name, Action: ActionNoop, Note: "MGN not initialized"})
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete mgn replication template %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindReplicationTemplate, name)
		return nil
	}
	id := aws.ToString(found.ReplicationConfigurationTemplateID)
	if !env.DryRun {
		if _, err := api.DeleteReplicationConfigurationTemplate(ctx, &mgn.DeleteReplicationConfigurationTemplateInput{ReplicationConfigurationTemplateID: aws.String(id)}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete mgn replication template %q: %w", name, err)
		}
	}
	env.Report(Change{Kind: KindReplicationTemplate, Name: name, ID: id, Action: ActionDelete})
	return nil
}

// SourceServerRef names one application server of the migration and how
// to find its MGN source server: by the hostname the replication agent
// reports, or by a tag of the source server.
type SourceServerRef struct {
	// Name is the server's name in the runbook and in tracking ("app-01").
	Name string
	// Hostname matches, case-insensitively, the source server's hostname,
	// its FQDN, or the FQDN's first label.
	Hostname string
	// TagKey and TagValue match a tag of the source server instead (set
	// when the agent was installed with tags).
	TagKey, TagValue string
}

// ServerStateNoSourceServer is the ServerStatus.State of a server no MGN
// source server matches yet: its replication agent is not installed.
const ServerStateNoSourceServer = "NO_SOURCE_SERVER"

func validateRefs(refs []SourceServerRef) error {
	var errs []error
	seen := map[string]bool{}
	if len(refs) == 0 {
		errs = append(errs, errors.New("servers: at least one server required"))
	}
	for i, r := range refs {
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("servers[%d].name: required", i))
		case seen[r.Name]:
			errs = append(errs, fmt.Errorf("servers[%d].name: %q twice", i, r.Name))
		}
		seen[r.Name] = true
		if (r.Hostname == "") == (r.TagKey == "") {
			errs = append(errs, fmt.Errorf("servers[%d] (%s): set exactly one of hostname and tagKey", i, r.Name))
		}
		if r.Hostname != "" && (len(r.Hostname) > 255 || !hostnameRe.MatchString(r.Hostname)) {
			errs = append(errs, fmt.Errorf("servers[%d].hostname: %q is not a host name", i, r.Hostname))
		}
	}
	return errors.Join(errs...)
}

func (r SourceServerRef) matches(s mgntypes.SourceServer) bool {
	if r.TagKey != "" {
		v, ok := s.Tags[r.TagKey]
		return ok && v == r.TagValue
	}
	if s.SourceProperties == nil || s.SourceProperties.IdentificationHints == nil {
		return false
	}
	h := s.SourceProperties.IdentificationHints
	fqdn := aws.ToString(h.Fqdn)
	first, _, _ := strings.Cut(fqdn, ".")
	for _, c := range []string{aws.ToString(h.Hostname), fqdn, first} {
		if c != "" && strings.EqualFold(c, r.Hostname) {
			return true
		}
	}
	return false
}

// resolved is a ref and the source server it matched (nil: none).
type resolved struct {
	ref    SourceServerRef
	server *mgntypes.SourceServer
	err    error
}

// resolveServers lists the account's source servers that are not
// archived and matches each ref to exactly one.
func resolveServers(ctx context.Context, api MGNServersAPI, refs []SourceServerRef) ([]resolved, error) {
	var all []mgntypes.SourceServer
	p := mgn.NewDescribeSourceServersPaginator(api, &mgn.DescribeSourceServersInput{Filters: &mgntypes.DescribeSourceServersRequestFilters{IsArchived: aws.Bool(false)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe source servers: %w", err)
		}
		all = append(all, page.Items...)
	}
	out := make([]resolved, len(refs))
	for i, r := range refs {
		out[i].ref = r
		var ids []string
		for j := range all {
			if r.matches(all[j]) && !aws.ToBool(all[j].IsArchived) {
				if out[i].server == nil {
					out[i].server = &all[j]
				}
				ids = append(ids, aws.ToString(all[j].SourceServerID))
			}
		}
		if len(ids) > 1 {
			out[i].server = nil
			out[i].err = fmt.Errorf("server %q: %d source servers match (%v); archive the stale ones (MarkAsArchived)", r.Name, len(ids), ids)
		}
	}
	return out, nil
}

// serverStatus turns a source server into the tracking record.
func serverStatus(env Env, name string, s *mgntypes.SourceServer) ServerStatus {
	st := ServerStatus{Name: name, State: ServerStateNoSourceServer, At: env.Now()}
	if s == nil {
		return st
	}
	st.ID = aws.ToString(s.SourceServerID)
	if s.LifeCycle != nil {
		st.State = string(s.LifeCycle.State)
	}
	if d := s.DataReplicationInfo; d != nil {
		st.Replication = string(d.DataReplicationState)
		var done, total int64
		for _, disk := range d.ReplicatedDisks {
			done += disk.ReplicatedStorageBytes
			total += disk.TotalStorageBytes
		}
		if total > 0 {
			st.Percent = 100 * float64(done) / float64(total)
		}
		if d.LagDuration != nil {
			st.Lag, _ = ParseISODuration(*d.LagDuration)
		}
	}
	return st
}

// ReadServers reads the replication state of the spec's servers from
// DescribeSourceServers (every page; archived servers ignored): lifecycle
// state, data replication state, initial sync progress and lag. It
// returns one ServerStatus per ref, in order — ServerStateNoSourceServer
// when no source server matches yet — and records each through rec (nil
// records nothing). A ref matching more than one source server, and every
// failed record, is an error; all of them are returned together, along
// with the statuses read.
func ReadServers(ctx context.Context, env Env, api MGNServersAPI, refs []SourceServerRef, rec ProgressRecorder) ([]ServerStatus, error) {
	if err := env.Validate(); err != nil {
		return nil, fmt.Errorf("read servers: %w", err)
	}
	if err := validateRefs(refs); err != nil {
		return nil, fmt.Errorf("read servers: %w", err)
	}
	res, err := resolveServers(ctx, api, refs)
	if err != nil {
		return nil, fmt.Errorf("read servers: %w", err)
	}
	var errs []error
	out := make([]ServerStatus, len(res))
	for i, r := range res {
		out[i] = serverStatus(env, r.ref.Name, r.server)
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		if rec != nil {
			if err := rec.RecordServer(ctx, out[i]); err != nil {
				errs = append(errs, fmt.Errorf("record server %q: %w", r.ref.Name, err))
			}
		}
	}
	return out, errors.Join(errs...)
}

// isoDurationRe matches the ISO 8601 durations MGN reports ("PT1M30S",
// "P1DT2H").
var isoDurationRe = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseISODuration parses an ISO 8601 duration of days, hours, minutes
// and seconds, as MGN's LagDuration is written.
func ParseISODuration(s string) (time.Duration, error) {
	m := isoDurationRe.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, err := strconv.ParseInt(m[i+1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%q: %w", s, err)
			}
			d += time.Duration(n) * unit
		}
	}
	if m[4] != "" {
		sec, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		d += time.Duration(sec * float64(time.Second))
	}
	return d, nil
}

// Wave is a group of application servers that move together.
type Wave struct {
	// Name names the wave in errors and Changes ("wave-1").
	Name string
	// Servers are the wave's servers.
	Servers []SourceServerRef
	// Concurrency bounds how many servers are worked on at once: 4 when
	// zero, at most 20.
	Concurrency int
	// LaunchTimeout bounds the wait for a launch job: 30 minutes when zero.
	LaunchTimeout time.Duration
	// MaxCutoverLag is the replication lag above which StartWaveCutover
	// refuses a server: cutting over then would lose the writes made since.
	// 5 minutes when zero.
	MaxCutoverLag time.Duration
}

// Validate checks the wave.
func (w Wave) Validate() error {
	var errs []error
	if w.Name == "" {
		errs = append(errs, errors.New("wave.name: required"))
	}
	if w.Concurrency < 0 || w.Concurrency > 20 {
		errs = append(errs, fmt.Errorf("wave.concurrency: %d outside 0..20", w.Concurrency))
	}
	if w.LaunchTimeout < 0 || w.MaxCutoverLag < 0 {
		errs = append(errs, errors.New("wave: durations must not be negative"))
	}
	if err := validateRefs(w.Servers); err != nil {
		errs = append(errs, fmt.Errorf("wave: %w", err))
	}
	return errors.Join(errs...)
}

func (w Wave) concurrency() int {
	if w.Concurrency == 0 {
		return 4
	}
	return w.Concurrency
}

func (w Wave) launchTimeout() time.Duration {
	if w.LaunchTimeout == 0 {
		return 30 * time.Minute
	}
	return w.LaunchTimeout
}

func (w Wave) maxLag() time.Duration {
	if w.MaxCutoverLag == 0 {
		return 5 * time.Minute
	}
	return w.MaxCutoverLag
}

// ServerOutcome is what a wave step did for one server.
type ServerOutcome struct {
	Name string
	// ID is the MGN source server ID ("" when none matched).
	ID string
	// State is the lifecycle state after the step.
	State string
	// JobID and InstanceID are the launch job and the instance it
	// launched, for the launch steps. For a server a launch step skips
	// (already launched, or already past the step) they are the job and
	// instance MGN last launched for it, so that a re-run still tells the
	// caller which instances to validate.
	JobID, InstanceID string
	// Skipped says the server was already where the step takes it.
	Skipped bool
	// Err is the server's failure; nil on success.
	Err error
}

// WaveResult is the outcome of a wave step, one entry per server in the
// wave's order.
type WaveResult struct {
	Wave    string
	Servers []ServerOutcome
}

// Failed returns the names of the servers that failed.
func (r WaveResult) Failed() []string {
	var out []string
	for _, s := range r.Servers {
		if s.Err != nil {
			out = append(out, s.Name)
		}
	}
	return out
}

// Change kinds of the wave steps.
const (
	KindTestLaunch       = "mgn-test-launch"
	KindReadyForCutover  = "mgn-ready-for-cutover"
	KindCutoverLaunch    = "mgn-cutover-launch"
	KindCutoverFinalized = "mgn-cutover-finalized"
)

// lifecycleOrder is the order a server moves through MGN's lifecycle.
var lifecycleOrder = []string{
	string(mgntypes.LifeCycleStateNotReady), string(mgntypes.LifeCycleStateReadyForTest), string(mgntypes.LifeCycleStateTesting),
	string(mgntypes.LifeCycleStateReadyForCutover), string(mgntypes.LifeCycleStateCuttingOver), string(mgntypes.LifeCycleStateCutover),
}

// past reports whether lifecycle state is beyond done.
func past(state, done string) bool {
	i, j := slices.Index(lifecycleOrder, state), slices.Index(lifecycleOrder, done)
	return i >= 0 && j >= 0 && i > j
}

// waveStep is one lifecycle step applied to every server of a wave.
type waveStep struct {
	kind string
	// op names the MGN operation in errors.
	op string
	// from are the lifecycle states the step accepts; done is the state
	// it leads to (a server already there is skipped).
	from []string
	done string
	// launches says the step launches instances: a server in the done
	// state without a launched instance (its launch failed) is launched
	// again rather than skipped.
	launches bool
	// lastJob returns the launch job this step last initiated for the
	// server (MGN's LifeCycle.LastTest or LastCutover), for the launch
	// steps: a relaunch waits for it while it still runs instead of
	// starting a second launch.
	lastJob func(*mgntypes.SourceServer) string
	// check refuses a server for a reason beyond its lifecycle state.
	check func(context.Context, ServerStatus, *mgntypes.SourceServer) error
	// run does the step and returns the launch job to wait for, if any.
	run func(ctx context.Context, id string) (job string, err error)
}

// LaunchTestInstances launches test instances (StartTest) for the wave's
// servers that are READY_FOR_TEST, at most wave.Concurrency at a time,
// waits for each launch job and records each server through rec. A server
// already TESTING with a launched instance is skipped; one whose launch
// failed is launched again; one whose launch is still under way (a re-run
// after a crash lost StartTest's answer) is waited for, never launched
// twice. A server already past this step (a cutover
// retried after a rollback) is skipped too. A server in any other state —
// NOT_READY while its initial sync runs — is refused with an error naming
// it and its state. Every server's error is returned,
// joined, each naming the wave and the server; the other servers proceed.
// A dry run reads and checks states only.
func LaunchTestInstances(ctx context.Context, env Env, api MGNServersAPI, wave Wave, rec ProgressRecorder) (WaveResult, error) {
	return runWave(ctx, env, api, wave, rec, waveStep{
		kind: KindTestLaunch, op: "StartTest", launches: true, from: []string{string(mgntypes.LifeCycleStateReadyForTest)}, done: string(mgntypes.LifeCycleStateTesting),
		lastJob: func(s *mgntypes.SourceServer) string {
			if l := s.LifeCycle; l != nil && l.LastTest != nil && l.LastTest.Initiated != nil {
				return aws.ToString(l.LastTest.Initiated.JobID)
			}
			return ""
		},
		run: func(ctx context.Context, id string) (string, error) {
			out, err := api.StartTest(ctx, &mgn.StartTestInput{SourceServerIDs: []string{id}, Tags: env.Tags()})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Job.JobID), nil
		},
	})
}

// MarkReadyForCutover marks the wave's tested servers READY_FOR_CUTOVER
// (ChangeServerLifeCycleState) once their test instance launched. Servers
// already READY_FOR_CUTOVER are skipped; others are refused. Same
// concurrency, recording and error rules as LaunchTestInstances.
func MarkReadyForCutover(ctx context.Context, env Env, api MGNServersAPI, wave Wave, rec ProgressRecorder) (WaveResult, error) {
	return runWave(ctx, env, api, wave, rec, waveStep{
		kind: KindReadyForCutover, op: "ChangeServerLifeCycleState", from: []string{string(mgntypes.LifeCycleStateTesting)}, done: string(mgntypes.LifeCycleStateReadyForCutover),
		check: func(_ context.Context, _ ServerStatus, s *mgntypes.SourceServer) error {
			if s.LaunchedInstance == nil || aws.ToString(s.LaunchedInstance.Ec2InstanceID) == "" {
				return errors.New("its test instance has not launched; launch and test it first")
			}
			return nil
		},
		run: func(ctx context.Context, id string) (string, error) {
			_, err := api.ChangeServerLifeCycleState(ctx, &mgn.ChangeServerLifeCycleStateInput{SourceServerID: aws.String(id),
				LifeCycle: &mgntypes.ChangeServerLifeCycleStateSourceServerLifecycle{State: mgntypes.ChangeServerLifeCycleStateSourceServerLifecycleStateReadyForCutover}})
			return "", err
		},
	})
}

// StartWaveCutover launches cutover instances (StartCutover) for the
// wave's servers that are READY_FOR_CUTOVER and waits for each launch.
// It refuses a server whose replication is not CONTINUOUS or lags more
// than wave.MaxCutoverLag: its cutover instance would miss recent writes.
// Servers already CUTTING_OVER with a launched instance are skipped, and
// a cutover launch still under way is waited for, as LaunchTestInstances
// does. Same concurrency, recording and error rules as LaunchTestInstances.
func StartWaveCutover(ctx context.Context, env Env, api MGNServersAPI, wave Wave, rec ProgressRecorder) (WaveResult, error) {
	return runWave(ctx, env, api, wave, rec, waveStep{
		kind: KindCutoverLaunch, op: "StartCutover", launches: true, from: []string{string(mgntypes.LifeCycleStateReadyForCutover)}, done: string(mgntypes.LifeCycleStateCuttingOver),
		lastJob: func(s *mgntypes.SourceServer) string {
			if l := s.LifeCycle; l != nil && l.LastCutover != nil && l.LastCutover.Initiated != nil {
				return aws.ToString(l.LastCutover.Initiated.JobID)
			}
			return ""
		},
		check: func(_ context.Context, st ServerStatus, _ *mgntypes.SourceServer) error {
			if st.Replication != string(mgntypes.DataReplicationStateContinuous) {
				return fmt.Errorf("data replication is %s (lag %s), not CONTINUOUS; cutting over now would lose recent writes", st.Replication, st.Lag)
			}
			if st.Lag > wave.maxLag() {
				return fmt.Errorf("replication lags %s, more than %s; cutting over now would lose recent writes", st.Lag, wave.maxLag())
			}
			return nil
		},
		run: func(ctx context.Context, id string) (string, error) {
			out, err := api.StartCutover(ctx, &mgn.StartCutoverInput{SourceServerIDs: []string{id}, Tags: env.Tags()})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Job.JobID), nil
		},
	})
}

// FinalizeWaveCutover finalizes the cutover (FinalizeCutover) of the
// wave's servers that are CUTTING_OVER with a launched cutover instance:
// MGN then stops replication and removes its replication resources, and
// the launched instances stay. Servers already CUTOVER are skipped. Same
// concurrency, recording and error rules as LaunchTestInstances.
func FinalizeWaveCutover(ctx context.Context, env Env, api MGNServersAPI, wave Wave, rec ProgressRecorder) (WaveResult, error) {
	return runWave(ctx, env, api, wave, rec, waveStep{
		kind: KindCutoverFinalized, op: "FinalizeCutover", from: []string{string(mgntypes.LifeCycleStateCuttingOver)}, done: string(mgntypes.LifeCycleStateCutover),
		check: func(ctx context.Context, _ ServerStatus, s *mgntypes.SourceServer) error {
			if s.LaunchedInstance == nil || aws.ToString(s.LaunchedInstance.Ec2InstanceID) == "" {
				return errors.New("its cutover instance has not launched")
			}
			// The launched instance must come from a cutover launch, not
			// from an earlier test.
			job := aws.ToString(s.LaunchedInstance.JobID)
			out, err := api.DescribeJobs(ctx, &mgn.DescribeJobsInput{Filters: &mgntypes.DescribeJobsRequestFilters{JobIDs: []string{job}}})
			if err != nil {
				return fmt.Errorf("describe launch job %s: %w", job, err)
			}
			if len(out.Items) == 0 || out.Items[0].InitiatedBy != mgntypes.InitiatedByStartCutover {
				return fmt.Errorf("instance %s was not launched by a cutover (job %s)", aws.ToString(s.LaunchedInstance.Ec2InstanceID), job)
			}
			return nil
		},
		run: func(ctx context.Context, id string) (string, error) {
			_, err := api.FinalizeCutover(ctx, &mgn.FinalizeCutoverInput{SourceServerID: aws.String(id)})
			return "", err
		},
	})
}

func runWave(ctx context.Context, env Env, api MGNServersAPI, wave Wave, rec ProgressRecorder, step waveStep) (WaveResult, error) {
	result := WaveResult{Wave: wave.Name}
	if err := Validate(env, wave); err != nil {
		return result, fmt.Errorf("wave %q: %s: %w", wave.Name, step.op, err)
	}
	res, err := resolveServers(ctx, api, wave.Servers)
	if err != nil {
		return result, fmt.Errorf("wave %q: %s: %w", wave.Name, step.op, err)
	}
	result.Servers = make([]ServerOutcome, len(res))
	var g errgroup.Group
	g.SetLimit(wave.concurrency())
	for i, r := range res {
		result.Servers[i] = ServerOutcome{Name: r.ref.Name}
		g.Go(func() error {
			out := &result.Servers[i] // each goroutine owns its entry
			*out = serverStep(ctx, env, api, wave, rec, step, r)
			if out.Err != nil {
				id := ""
				if out.ID != "" {
					id = " (" + out.ID + ")"
				}
				out.Err = fmt.Errorf("wave %q: server %q%s: %s: %w", wave.Name, r.ref.Name, id, step.op, out.Err)
			}
			return nil // every server's error is kept in its outcome
		})
	}
	_ = g.Wait()
	var errs []error
	for _, o := range result.Servers {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	return result, errors.Join(errs...)
}

// serverStep applies a step to one server.
func serverStep(ctx context.Context, env Env, api MGNServersAPI, wave Wave, rec ProgressRecorder, step waveStep, r resolved) ServerOutcome {
	out := ServerOutcome{Name: r.ref.Name}
	if r.err != nil {
		out.Err = r.err
		return out
	}
	if r.server == nil {
		out.State, out.Err = ServerStateNoSourceServer, errors.New("no MGN source server matches: install the replication agent first")
		return out
	}
	st := serverStatus(env, r.ref.Name, r.server)
	out.ID, out.State = st.ID, st.State
	launched := r.server.LaunchedInstance != nil && aws.ToString(r.server.LaunchedInstance.Ec2InstanceID) != ""
	skip := func() {
		out.Skipped = true
		if step.launches && launched {
			out.JobID, out.InstanceID = aws.ToString(r.server.LaunchedInstance.JobID), aws.ToString(r.server.LaunchedInstance.Ec2InstanceID)
		}
	}
	relaunch := step.launches && st.State == step.done && !launched
	if st.State == step.done && !relaunch {
		skip()
		env.Report(Change{Kind: step.kind, Name: r.ref.Name, ID: st.ID, Action: ActionNoop, Note: "already " + step.done})
		return out
	}
	if past(st.State, step.done) {
		// Already beyond this step (a cutover retried after a rollback
		// finds its servers CUTTING_OVER): nothing to do, nothing wrong.
		skip()
		env.Report(Change{Kind: step.kind, Name: r.ref.Name, ID: st.ID, Action: ActionNoop, Note: "already " + st.State})
		return out
	}
	if !relaunch && !slices.Contains(step.from, st.State) {
		out.Err = fmt.Errorf("lifecycle state %s (replication %s, %.0f%% synced); %s needs %s", st.State, st.Replication, st.Percent, step.op, strings.Join(step.from, " or "))
		return out
	}
	if step.check != nil {
		if err := step.check(ctx, st, r.server); err != nil {
			out.Err = err
			return out
		}
	}
	// A server in the step's state without a launched instance may have a
	// launch still under way — one whose answer a crash lost: wait for
	// it rather than start a second.
	job, note := "", step.op
	if relaunch && step.lastJob != nil {
		running, err := launchRunning(ctx, api, step.lastJob(r.server))
		if err != nil {
			out.Err = err
			return out
		}
		if running != "" {
			job, note = running, "waits for launch job "+running+" started earlier"
		}
	}
	if env.DryRun {
		env.Report(Change{Kind: step.kind, Name: r.ref.Name, ID: st.ID, Action: ActionCreate, Note: note})
		return out
	}
	if job == "" {
		var err error
		if job, err = step.run(ctx, st.ID); err != nil {
			out.Err = err
			return out
		}
	}
	out.JobID = job
	if job != "" {
		instance, err := waitLaunch(ctx, env, api, wave, job, st.ID)
		out.InstanceID = instance
		if err != nil {
			out.Err = err
		}
	}
	// Record where the server is now, failed or not.
	if now, err := readServer(ctx, env, api, r.ref.Name, st.ID); err != nil {
		out.Err = errors.Join(out.Err, err)
	} else {
		out.State = now.State
		if rec != nil {
			if err := rec.RecordServer(ctx, now); err != nil {
				out.Err = errors.Join(out.Err, fmt.Errorf("record: %w", err))
			}
		}
	}
	if out.Err == nil {
		env.Report(Change{Kind: step.kind, Name: r.ref.Name, ID: st.ID, Action: ActionCreate, Note: strings.TrimSpace(job + " " + out.InstanceID)})
	}
	return out
}

// launchRunning returns jobID when that launch job has not completed yet,
// else "" (no job, or one that ended).
func launchRunning(ctx context.Context, api MGNServersAPI, jobID string) (string, error) {
	if jobID == "" {
		return "", nil
	}
	out, err := api.DescribeJobs(ctx, &mgn.DescribeJobsInput{Filters: &mgntypes.DescribeJobsRequestFilters{JobIDs: []string{jobID}}})
	if err != nil {
		return "", fmt.Errorf("describe launch job %s: %w", jobID, err)
	}
	if len(out.Items) == 0 || out.Items[0].Status == mgntypes.JobStatusCompleted {
		return "", nil
	}
	return jobID, nil
}

// waitLaunch waits for a launch job and returns the instance it launched
// for the server, or an error when the launch failed.
func waitLaunch(ctx context.Context, env Env, api MGNServersAPI, wave Wave, jobID, serverID string) (string, error) {
	var instance string
	var failed error
	err := env.Poll(ctx, "mgn launch job "+jobID, 30*time.Second, wave.launchTimeout(), func(ctx context.Context) (string, bool, error) {
		out, err := api.DescribeJobs(ctx, &mgn.DescribeJobsInput{Filters: &mgntypes.DescribeJobsRequestFilters{JobIDs: []string{jobID}}})
		if err != nil {
			return "", false, fmt.Errorf("describe job %s: %w", jobID, err)
		}
		if len(out.Items) == 0 {
			return "not visible", false, nil
		}
		j := out.Items[0]
		if j.Status != mgntypes.JobStatusCompleted {
			return string(j.Status), false, nil
		}
		failed = fmt.Errorf("launch job %s completed without source server %s among its participating servers", jobID, serverID)
		for _, p := range j.ParticipatingServers {
			if aws.ToString(p.SourceServerID) != serverID {
				continue
			}
			if p.LaunchStatus == mgntypes.LaunchStatusLaunched {
				instance, failed = aws.ToString(p.LaunchedEc2InstanceID), nil
			} else {
				failed = fmt.Errorf("launch job %s ended with launch status %s", jobID, p.LaunchStatus)
			}
		}
		return string(j.Status), true, nil
	})
	if err != nil {
		return "", err
	}
	return instance, failed
}

// readServer reads one source server's status.
func readServer(ctx context.Context, env Env, api MGNServersAPI, name, id string) (ServerStatus, error) {
	out, err := api.DescribeSourceServers(ctx, &mgn.DescribeSourceServersInput{Filters: &mgntypes.DescribeSourceServersRequestFilters{SourceServerIDs: []string{id}}})
	if err != nil {
		return ServerStatus{}, fmt.Errorf("describe source server %s: %w", id, err)
	}
	if len(out.Items) == 0 {
		return ServerStatus{}, fmt.Errorf("source server %s disappeared", id)
	}
	return serverStatus(env, name, &out.Items[0]), nil
}
