package fakecloud

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DMS is the fake AWS Database Migration Service client. Get it with
// Cloud.DMS.
//
// What it models, because a reconciler depends on it:
//
//   - replication subnet groups over subnets of one VPC in two or more
//     zones, refused (AccessDeniedFault) until the account role
//     dms-vpc-role exists with AmazonDMSVPCManagementRole and has
//     propagated;
//   - replication instances, "creating" for dmsInstanceCreateFor, then
//     "available" (DnsNameServers, up to four IPv4 addresses, set only
//     at creation); ModifyReplicationInstance applies class, storage,
//     Multi-AZ and engine version at once only with ApplyImmediately, else
//     keeps them in PendingModifiedValues until ApplyPendingMaintenance;
//   - certificates parsed as PEM X.509 (InvalidCertificateFault);
//   - endpoints: SslMode verify-ca/verify-full need a certificate;
//     Secrets Manager credentials (secret + access role) and clear-text
//     credentials are mutually exclusive; the access role must exist, be
//     older than dmsRolePropagation, trust DMS and allow
//     secretsmanager:GetSecretValue on the secret (kms:Decrypt on its
//     key), else AccessDeniedFault;
//   - TestConnection and task runs read the secret: without host and port,
//     or with a password the RDS target no longer accepts, they fail;
//   - tasks: creating → ready → starting → running → stopping → stopped
//     (or failed), with StartReplicationTask's start-replication (first
//     run only for full-load types), resume-processing (previously run
//     only) and reload-target; ModifyReplicationTask and deletes only
//     when not running; table statistics and validation computed from
//     the table mappings and the fake clock; Logging.CloudWatchLogGroup
//     and CloudWatchLogStream refused in settings, as DMS refuses them;
//   - deletes refused with InvalidResourceStateFault while dependents
//     exist (an instance with tasks, an endpoint or certificate in use, a
//     subnet group with an instance);
//   - Describe* with filters that match nothing return
//     ResourceNotFoundFault, as DMS does;
//   - CloudWatch metrics AWS/DMS CDCLatencySource and CDCLatencyTarget
//     (seconds) for every task in its CDC phase, with the dimensions
//     ReplicationInstanceIdentifier and ReplicationTaskIdentifier (the
//     task ARN's resource ID); SetTaskLatency sets them, or scripting the
//     metric with CloudWatch().SetMetricFunc overrides them.
type DMS struct{ c *Cloud }

// DMS returns the DMS client of the cloud.
func (c *Cloud) DMS() *DMS { return &DMS{c: c} }

func init() {
	register("dms", func() any { return &dmsState{} })
	// A subnet that holds a replication instance or a DB instance (their
	// network interfaces) cannot be deleted.
	subnetDependents = append(subnetDependents, func(c *Cloud, subnetID string) string {
		d := c.DMS().st()
		for _, id := range sortedKeys(d.Instances) {
			in := d.Instances[id]
			if g, ok := d.SubnetGroups[in.SubnetGroup]; ok && slices.Contains(g.Subnets, subnetID) {
				return "DMS replication instance " + in.ID
			}
		}
		r := c.RDS().st()
		for _, id := range sortedKeys(r.Instances) {
			db := r.Instances[id]
			if g, ok := r.SubnetGroups[db.SubnetGroup]; ok && slices.Contains(g.Subnets, subnetID) {
				return "RDS DB instance " + db.ID
			}
		}
		return ""
	})
}

// Timings of the simulated DMS.
const (
	dmsInstanceCreateFor = 12 * time.Minute
	dmsInstanceModifyFor = 5 * time.Minute
	dmsInstanceDeleteFor = 5 * time.Minute
	dmsTaskCreateFor     = time.Minute
	dmsTaskStartFor      = time.Minute
	dmsTaskStopFor       = time.Minute
	dmsTaskModifyFor     = 30 * time.Second
	dmsTaskDeleteFor     = 30 * time.Second
	dmsEndpointDeleteFor = 20 * time.Second
	dmsTestConnFor       = 30 * time.Second
	// dmsRolePropagation is how long a new IAM role is unusable by DMS.
	dmsRolePropagation = 10 * time.Second
	// dmsLoadRowsPerMinute is the simulated full-load speed; a load takes
	// at least dmsMinLoad.
	dmsLoadRowsPerMinute = 100_000
	dmsMinLoad           = 5 * time.Minute
)

// DMSEngineVersions are the replication engine versions the fake accepts.
var DMSEngineVersions = []string{"3.4.7", "3.5.1", "3.5.2", "3.5.3", "3.5.4", "3.6.0", "3.6.1"}

const dmsVPCPolicy = "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"

type dmsState struct {
	SubnetGroups map[string]*dmsSubnetGroup `json:"subnetGroups"`
	Instances    map[string]*dmsInstance    `json:"instances"`
	Certificates map[string]*dmsCertificate `json:"certificates"`
	Endpoints    map[string]*dmsEndpoint    `json:"endpoints"`
	Tasks        map[string]*dmsTask        `json:"tasks"`
	Connections  map[string]*dmsConnection  `json:"connections"`
	// Subnets are subnets registered with AddSubnet, for tests that do not
	// build them in the EC2 fake.
	Subnets map[string]registeredSubnet `json:"subnets"`
	// SourceTables are the tables a source endpoint's database holds
	// (SetSourceTables), by endpoint ARN.
	SourceTables map[string][]DMSTable `json:"sourceTables,omitempty"`
	// Fences are the write fences of the forward tasks' source databases
	// (SourceFence), by task ARN.
	Fences map[string]*dmsFence `json:"fences,omitempty"`
}

type registeredSubnet struct {
	VPC string `json:"vpc"`
	AZ  string `json:"az"`
}

// DMSTable is one table of a simulated source database.
type DMSTable struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
}

type dmsSubnetGroup struct {
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	Description string            `json:"description"`
	Subnets     []string          `json:"subnets"`
	VPC         string            `json:"vpc"`
	Tags        map[string]string `json:"tags"`
}

type dmsInstance struct {
	ID            string            `json:"id"`
	ARN           string            `json:"arn"`
	Class         string            `json:"class"`
	Storage       int32             `json:"storage"`
	EngineVersion string            `json:"engineVersion"`
	MultiAZ       bool              `json:"multiAz"`
	KmsKeyID      string            `json:"kmsKeyId"`
	Public        bool              `json:"public"`
	SubnetGroup   string            `json:"subnetGroup"`
	SGs           []string          `json:"sgs"`
	AutoMinor     bool              `json:"autoMinor"`
	Window        string            `json:"window"`
	Tags          map[string]string `json:"tags"`
	Created       time.Time         `json:"created"`
	Status        string            `json:"status"`
	Steps         []rdsStep         `json:"steps,omitempty"`
	Pending       dmsPending        `json:"pending"`
	IP            string            `json:"ip"`
	DNS           string            `json:"dns,omitempty"`
}

type dmsPending struct {
	Class         string `json:"class,omitempty"`
	Storage       int32  `json:"storage,omitempty"`
	MultiAZ       *bool  `json:"multiAz,omitempty"`
	EngineVersion string `json:"engineVersion,omitempty"`
}

func (p dmsPending) empty() bool {
	return p.Class == "" && p.Storage == 0 && p.MultiAZ == nil && p.EngineVersion == ""
}

type dmsCertificate struct {
	ID        string            `json:"id"`
	ARN       string            `json:"arn"`
	PEM       string            `json:"pem"`
	ValidFrom time.Time         `json:"validFrom"`
	ValidTo   time.Time         `json:"validTo"`
	Created   time.Time         `json:"created"`
	Tags      map[string]string `json:"tags"`
}

type dmsEndpoint struct {
	ID       string                    `json:"id"`
	ARN      string                    `json:"arn"`
	Type     string                    `json:"type"`
	Engine   string                    `json:"engine"`
	Database string                    `json:"database,omitempty"`
	SslMode  string                    `json:"sslMode"`
	CertARN  string                    `json:"certArn,omitempty"`
	KmsKeyID string                    `json:"kmsKeyId"`
	PG       *types.PostgreSQLSettings `json:"pg,omitempty"`
	// ClearText records that the endpoint was given a clear-text password
	// (never the password itself).
	ClearText bool              `json:"clearText,omitempty"`
	Server    string            `json:"server,omitempty"`
	Port      int32             `json:"port,omitempty"`
	Username  string            `json:"username,omitempty"`
	Tags      map[string]string `json:"tags"`
	Status    string            `json:"status"`
	Steps     []rdsStep         `json:"steps,omitempty"`
}

type dmsConnection struct {
	InstanceARN string    `json:"instanceArn"`
	EndpointARN string    `json:"endpointArn"`
	Status      string    `json:"status"`
	Steps       []rdsStep `json:"steps,omitempty"`
	Failure     string    `json:"failure,omitempty"`
}

type dmsTask struct {
	ID            string            `json:"id"`
	ARN           string            `json:"arn"`
	MigrationType string            `json:"migrationType"`
	InstanceARN   string            `json:"instanceArn"`
	SourceARN     string            `json:"sourceArn"`
	TargetARN     string            `json:"targetArn"`
	Mappings      string            `json:"mappings"`
	Settings      string            `json:"settings"`
	CdcStartPos   string            `json:"cdcStartPosition,omitempty"`
	CdcStopPos    string            `json:"cdcStopPosition,omitempty"`
	CdcStartTime  time.Time         `json:"cdcStartTime,omitzero"`
	Tags          map[string]string `json:"tags"`
	Created       time.Time         `json:"created"`
	Status        string            `json:"status"`
	Steps         []rdsStep         `json:"steps,omitempty"`
	StartDate     time.Time         `json:"startDate,omitzero"`
	FreshStart    time.Time         `json:"freshStart,omitzero"`
	RunStart      time.Time         `json:"runStart,omitzero"`
	LoadStart     time.Time         `json:"loadStart,omitzero"`
	LoadEnd       time.Time         `json:"loadEnd,omitzero"`
	LoadLeft      time.Duration     `json:"loadLeft,omitempty"`
	LoadDone      bool              `json:"loadDone,omitempty"`
	CDCFrom       time.Time         `json:"cdcFrom,omitzero"`
	StopAt        time.Time         `json:"stopAt,omitzero"`
	StopReason    string            `json:"stopReason,omitempty"`
	Failure       string            `json:"failure,omitempty"`
	// Latency is the simulated CDC latency in seconds; zero means the
	// default (a couple of seconds).
	LatencySource float64 `json:"latencySource,omitempty"`
	LatencyTarget float64 `json:"latencyTarget,omitempty"`
	// ValidationFailures by "schema.table".
	ValidationFailures map[string]int64 `json:"validationFailures,omitempty"`
}

var (
	dmsIDRe    = regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9]|-[a-zA-Z0-9])*$`)
	dmsGroupRe = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,255}$`)
	dmsClassRe = regexp.MustCompile(`^dms\.[a-z0-9]+\.[a-z0-9]+$`)
)

func (f *DMS) st() *dmsState {
	s := state[dmsState](f.c, "dms")
	if s.SubnetGroups == nil {
		s.SubnetGroups = map[string]*dmsSubnetGroup{}
		s.Instances = map[string]*dmsInstance{}
		s.Certificates = map[string]*dmsCertificate{}
		s.Endpoints = map[string]*dmsEndpoint{}
		s.Tasks = map[string]*dmsTask{}
		s.Connections = map[string]*dmsConnection{}
		s.Subnets = map[string]registeredSubnet{}
	}
	now := f.c.now()
	for id, in := range s.Instances {
		in.Steps = rdsSettle(&in.Status, in.Steps, now)
		if in.Status == "deleted" {
			delete(s.Instances, id)
		}
	}
	for id, ep := range s.Endpoints {
		ep.Steps = rdsSettle(&ep.Status, ep.Steps, now)
		if ep.Status == "deleted" {
			delete(s.Endpoints, id)
		}
	}
	for _, cn := range s.Connections {
		cn.Steps = rdsSettle(&cn.Status, cn.Steps, now)
	}
	for id, t := range s.Tasks {
		t.Steps = rdsSettle(&t.Status, t.Steps, now)
		if t.Status == "deleted" {
			delete(s.Tasks, id)
			continue
		}
		if t.Status == "running" && !t.LoadEnd.IsZero() && !now.Before(t.LoadEnd) {
			t.LoadDone = true
		}
		f.registerMetrics(t)
	}
	return s
}

// dmsNotFound returns DMS's modelled ResourceNotFoundFault in the shape
// the SDK deserialises it (an HTTP response error around the typed
// fault): the SDK's DMS waiters match the type, not the code.
func dmsNotFound(format string, args ...any) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{}}},
		Err:      &types.ResourceNotFoundFault{Message: aws.String(fmt.Sprintf(format, args...))},
	}, RequestID: "fake-dms-notfound"}
}

// dbLookupSubnet resolves a subnet to its VPC and zone: a subnet registered
// with DMS().AddSubnet, else the EC2 fake's subnet. Call with mu held.
func dbLookupSubnet(c *Cloud, id string) (vpc, az string, ok bool) {
	if r, ok := c.DMS().st().Subnets[id]; ok {
		return r.VPC, r.AZ, true
	}
	if sn, ok := c.EC2().st().Subnets[id]; ok {
		return sn.VPCID, sn.AZ, true
	}
	return "", "", false
}

// dmsBase32 renders x as 13 characters of the RFC 4648 base32 alphabet,
// the shape of DMS resource IDs.
func dmsBase32(x uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [13]byte
	for i := range b {
		b[i] = alphabet[x&31]
		x >>= 5
	}
	return string(b[:])
}

// resourceID returns a new 26-character DMS resource ID. Call with mu held.
func (f *DMS) resourceID() string {
	f.c.seq++
	return dmsBase32(mix(f.c.seq)) + dmsBase32(mix(f.c.seq^0x5bd1e995))
}

// smReplaceField returns doc (a JSON object) with field set to value;
// a doc that is not an object is returned unchanged.
func smReplaceField(doc, field, value string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return doc
	}
	m[field] = value
	b, _ := json.Marshal(m)
	return string(b)
}

func dmsTagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func dmsTags(arn string, m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k]), ResourceArn: aws.String(arn)})
	}
	return out
}

func checkDMSID(field, id string, maxLen int) error {
	if len(id) == 0 || len(id) > maxLen || !dmsIDRe.MatchString(id) {
		return apiError("InvalidParameterValueException", "The parameter %s is not a valid identifier. Identifiers must begin with a letter and must contain only ASCII letters, digits, and hyphens. They can't end with a hyphen or contain two consecutive hyphens.", field)
	}
	return nil
}

// filterFunc evaluates DMS Filters against a resource's fields; an
// unknown filter name is InvalidParameterValueException.
func dmsFilterMatch(filters []types.Filter, allowed []string, fields map[string]string) (bool, error) {
	for _, fl := range filters {
		name := aws.ToString(fl.Name)
		if !slices.Contains(allowed, name) {
			return false, apiError("InvalidParameterValueException", "Invalid filter name %q; valid names: %s", name, strings.Join(allowed, ", "))
		}
		v := fields[name]
		hit := false
		for _, want := range fl.Values {
			if strings.EqualFold(want, v) {
				hit = true
			}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

// dmsCheckFilters rejects unknown filter names before any matching.
func dmsCheckFilters(filters []types.Filter, allowed ...string) error {
	for _, fl := range filters {
		if !slices.Contains(allowed, aws.ToString(fl.Name)) {
			return apiError("InvalidParameterValueException", "Invalid filter name %q; valid names: %s", aws.ToString(fl.Name), strings.Join(allowed, ", "))
		}
	}
	return nil
}

func dmsPageSize(max *int32) int {
	n := int(aws.ToInt32(max))
	if n == 0 {
		return 100
	}
	return n
}

// --- subnet groups ---

func (f *DMS) checkVPCRole() error {
	r, ok := state[iamState](f.c, "iam").Roles["dms-vpc-role"]
	if !ok || !slices.Contains(r.Attached, dmsVPCPolicy) || f.c.now().Sub(r.Created) < dmsRolePropagation {
		return apiError("AccessDeniedFault", "The IAM Role arn:aws:iam::%s:role/dms-vpc-role is not configured properly.", f.c.account)
	}
	return nil
}

func (g *dmsSubnetGroup) out(c *Cloud) types.ReplicationSubnetGroup {
	o := types.ReplicationSubnetGroup{ReplicationSubnetGroupIdentifier: aws.String(g.ID), ReplicationSubnetGroupDescription: aws.String(g.Description),
		SubnetGroupStatus: aws.String("Complete"), VpcId: aws.String(g.VPC), SupportedNetworkTypes: []string{"IPV4"}}
	for _, id := range g.Subnets {
		_, az, _ := dbLookupSubnet(c, id)
		o.Subnets = append(o.Subnets, types.Subnet{SubnetIdentifier: aws.String(id), SubnetStatus: aws.String("Active"), SubnetAvailabilityZone: &types.AvailabilityZone{Name: aws.String(az)}})
	}
	return o
}

func (f *DMS) checkSubnets(ids []string) (string, error) {
	if len(ids) == 0 {
		return "", apiError("InvalidParameterValueException", "SubnetIds must not be empty")
	}
	vpc, azs, err := f.c.dbSubnetsInfo(ids)
	if err != nil {
		return "", apiError("InvalidSubnet", "The subnet provided isn't valid: %v", err)
	}
	if len(azs) < 2 {
		return "", apiError("ReplicationSubnetGroupDoesNotCoverEnoughAZs", "The replication subnet group does not cover enough Availability Zones (AZs). Edit the replication subnet group and add more AZs.")
	}
	return vpc, nil
}

// CreateReplicationSubnetGroup creates a subnet group.
func (f *DMS) CreateReplicationSubnetGroup(ctx context.Context, in *dms.CreateReplicationSubnetGroupInput, _ ...func(*dms.Options)) (*dms.CreateReplicationSubnetGroupOutput, error) {
	var out *dms.CreateReplicationSubnetGroupOutput
	err := f.c.call(ctx, dms.ServiceID, "CreateReplicationSubnetGroup", true, func() error {
		id := strings.ToLower(aws.ToString(in.ReplicationSubnetGroupIdentifier))
		if !dmsGroupRe.MatchString(id) || id == "default" {
			return apiError("InvalidParameterValueException", "The parameter ReplicationSubnetGroupIdentifier is not valid: at most 255 letters, digits, periods, underscores or hyphens, and not 'default'.")
		}
		if aws.ToString(in.ReplicationSubnetGroupDescription) == "" {
			return apiError("InvalidParameterValueException", "ReplicationSubnetGroupDescription is required")
		}
		if err := f.checkVPCRole(); err != nil {
			return err
		}
		s := f.st()
		if _, ok := s.SubnetGroups[id]; ok {
			return apiError("ResourceAlreadyExistsFault", "Replication Subnet Group %s already exists", id)
		}
		vpc, err := f.checkSubnets(in.SubnetIds)
		if err != nil {
			return err
		}
		g := &dmsSubnetGroup{ID: id, ARN: f.c.arn("dms", "subgrp:"+id), Description: aws.ToString(in.ReplicationSubnetGroupDescription),
			Subnets: slices.Sorted(slices.Values(in.SubnetIds)), VPC: vpc, Tags: dmsTagMap(in.Tags)}
		s.SubnetGroups[id] = g
		f.c.created("dms-subgrp/" + id)
		out = &dms.CreateReplicationSubnetGroupOutput{ReplicationSubnetGroup: rdsPtr(g.out(f.c))}
		return nil
	})
	return out, err
}

// DescribeReplicationSubnetGroups lists subnet groups (filter
// replication-subnet-group-id); no match is ResourceNotFoundFault.
func (f *DMS) DescribeReplicationSubnetGroups(ctx context.Context, in *dms.DescribeReplicationSubnetGroupsInput, _ ...func(*dms.Options)) (*dms.DescribeReplicationSubnetGroupsOutput, error) {
	var out *dms.DescribeReplicationSubnetGroupsOutput
	err := f.c.call(ctx, dms.ServiceID, "DescribeReplicationSubnetGroups", false, func() error {
		if err := dmsCheckFilters(in.Filters, "replication-subnet-group-id"); err != nil {
			return err
		}
		s := f.st()
		var all []types.ReplicationSubnetGroup
		for _, id := range sortedKeys(s.SubnetGroups) {
			g := s.SubnetGroups[id]
			ok, err := dmsFilterMatch(in.Filters, []string{"replication-subnet-group-id"}, map[string]string{"replication-subnet-group-id": g.ID})
			if err != nil {
				return err
			}
			if ok && !f.c.hidden("dms-subgrp/"+id) {
				all = append(all, g.out(f.c))
			}
		}
		if len(all) == 0 && len(in.Filters) > 0 {
			return dmsNotFound("No replication subnet groups found matching provided filters")
		}
		items, next, err := page(all, in.Marker, dmsPageSize(in.MaxRecords))
		if err != nil {
			return err
		}
		out = &dms.DescribeReplicationSubnetGroupsOutput{ReplicationSubnetGroups: items, Marker: next}
		return nil
	})
	return out, err
}

// ModifyReplicationSubnetGroup replaces a group's subnets and description.
func (f *DMS) ModifyReplicationSubnetGroup(ctx context.Context, in *dms.ModifyReplicationSubnetGroupInput, _ ...func(*dms.Options)) (*dms.ModifyReplicationSubnetGroupOutput, error) {
	var out *dms.ModifyReplicationSubnetGroupOutput
	err := f.c.call(ctx, dms.ServiceID, "ModifyReplicationSubnetGroup", true, func() error {
		g, ok := f.st().SubnetGroups[strings.ToLower(aws.ToString(in.ReplicationSubnetGroupIdentifier))]
		if !ok {
			return dmsNotFound("Replication subnet group %s not found", aws.ToString(in.ReplicationSubnetGroupIdentifier))
		}
		vpc, err := f.checkSubnets(in.SubnetIds)
		if err != nil {
			return err
		}
		if vpc != g.VPC {
			return apiError("InvalidSubnet", "The subnets must be in VPC %s", g.VPC)
		}
		g.Subnets = slices.Sorted(slices.Values(in.SubnetIds))
		if in.ReplicationSubnetGroupDescription != nil {
			g.Description = *in.ReplicationSubnetGroupDescription
		}
		out = &dms.ModifyReplicationSubnetGroupOutput{ReplicationSubnetGroup: rdsPtr(g.out(f.c))}
		return nil
	})
	return out, err
}

// DeleteReplicationSubnetGroup deletes a group no instance uses.
func (f *DMS) DeleteReplicationSubnetGroup(ctx context.Context, in *dms.DeleteReplicationSubnetGroupInput, _ ...func(*dms.Options)) (*dms.DeleteReplicationSubnetGroupOutput, error) {
	err := f.c.call(ctx, dms.ServiceID, "DeleteReplicationSubnetGroup", true, func() error {
		s := f.st()
		id := strings.ToLower(aws.ToString(in.ReplicationSubnetGroupIdentifier))
		if _, ok := s.SubnetGroups[id]; !ok {
			return dmsNotFound("Replication subnet group %s not found", id)
		}
		for _, inst := range s.Instances {
			if inst.SubnetGroup == id {
				return apiError("InvalidResourceStateFault", "Cannot delete Replication Subnet Group %s as it is in use by replication instance %s", id, inst.ID)
			}
		}
		delete(s.SubnetGroups, id)
		return nil
	})
	return &dms.DeleteReplicationSubnetGroupOutput{}, err
}

// --- replication instances ---

func (in *dmsInstance) out(c *Cloud, groups map[string]*dmsSubnetGroup) types.ReplicationInstance {
	o := types.ReplicationInstance{
		ReplicationInstanceIdentifier: aws.String(in.ID), ReplicationInstanceArn: aws.String(in.ARN), ReplicationInstanceClass: aws.String(in.Class),
		AllocatedStorage: in.Storage, EngineVersion: aws.String(in.EngineVersion), MultiAZ: in.MultiAZ, KmsKeyId: aws.String(in.KmsKeyID),
		PubliclyAccessible: in.Public, AutoMinorVersionUpgrade: in.AutoMinor, PreferredMaintenanceWindow: aws.String(in.Window),
		InstanceCreateTime: aws.Time(in.Created), ReplicationInstanceStatus: aws.String(in.Status), NetworkType: aws.String("IPV4"),
	}
	if in.DNS != "" {
		o.DnsNameServers = aws.String(in.DNS)
	}
	if g, ok := groups[in.SubnetGroup]; ok {
		o.ReplicationSubnetGroup = rdsPtr(g.out(c))
	}
	for _, sg := range in.SGs {
		o.VpcSecurityGroups = append(o.VpcSecurityGroups, types.VpcSecurityGroupMembership{VpcSecurityGroupId: aws.String(sg), Status: aws.String("active")})
	}
	if in.Status != "creating" {
		o.ReplicationInstancePrivateIpAddresses = []string{in.IP}
	}
	if !in.Pending.empty() {
		p := &types.ReplicationPendingModifiedValues{MultiAZ: in.Pending.MultiAZ}
		if in.Pending.Class != "" {
			p.ReplicationInstanceClass = aws.String(in.Pending.Class)
		}
		if in.Pending.Storage != 0 {
			p.AllocatedStorage = aws.Int32(in.Pending.Storage)
		}
		if in.Pending.EngineVersion != "" {
			p.EngineVersion = aws.String(in.Pending.EngineVersion)
		}
		o.PendingModifiedValues = p
	}
	return o
}

// CreateReplicationInstance creates a replication instance.
func (f *DMS) CreateReplicationInstance(ctx context.Context, in *dms.CreateReplicationInstanceInput, _ ...func(*dms.Options)) (*dms.CreateReplicationInstanceOutput, error) {
	var out *dms.CreateReplicationInstanceOutput
	err := f.c.call(ctx, dms.ServiceID, "CreateReplicationInstance", true, func() error {
		id := strings.ToLower(aws.ToString(in.ReplicationInstanceIdentifier))
		if err := checkDMSID("ReplicationInstanceIdentifier", id, 63); err != nil {
			return err
		}
		class := aws.ToString(in.ReplicationInstanceClass)
		if !dmsClassRe.MatchString(class) {
			return apiError("InvalidParameterValueException", "Invalid replication instance class: %s", class)
		}
		if aws.ToBool(in.MultiAZ) && in.AvailabilityZone != nil {
			return apiError("InvalidParameterCombinationException", "Requesting a specific availability zone is not valid for Multi-AZ instances.")
		}
		storage := aws.ToInt32(in.AllocatedStorage)
		if in.AllocatedStorage == nil {
			storage = 50
		}
		if storage < 5 || storage > 6144 {
			return apiError("InvalidParameterValueException", "Invalid storage size %d GB: must be 5..6144", storage)
		}
		version := aws.ToString(in.EngineVersion)
		if version == "" {
			version = DMSEngineVersions[len(DMSEngineVersions)-1]
		}
		if !slices.Contains(DMSEngineVersions, version) {
			return apiError("InvalidParameterValueException", "No replication engine found with version: %s", version)
		}
		dns := aws.ToString(in.DnsNameServers)
		if err := dmsCheckDNS(dns); err != nil {
			return err
		}
		if err := f.checkVPCRole(); err != nil {
			return err
		}
		s := f.st()
		if _, ok := s.Instances[id]; ok {
			return apiError("ResourceAlreadyExistsFault", "ReplicationInstance %s already exists", id)
		}
		sg := strings.ToLower(aws.ToString(in.ReplicationSubnetGroupIdentifier))
		if _, ok := s.SubnetGroups[sg]; !ok {
			return dmsNotFound("Replication subnet group %q not found", sg)
		}
		key := aws.ToString(in.KmsKeyId)
		if key != "" {
			if !smKeyUsable(f.c, key) {
				return apiError("KMSKeyNotAccessibleFault", "DMS cannot access the KMS key %s", key)
			}
			key = smKeyARN(f.c, key)
		} else {
			key = f.c.arn("kms", "key/aws-dms-default")
		}
		now := f.c.now()
		f.c.seq++
		inst := &dmsInstance{
			ID: id, ARN: f.c.arn("dms", "rep:"+f.resourceID()), Class: class, Storage: storage, EngineVersion: version,
			MultiAZ: aws.ToBool(in.MultiAZ), KmsKeyID: key, Public: in.PubliclyAccessible == nil || *in.PubliclyAccessible,
			SubnetGroup: sg, SGs: slices.Clone(in.VpcSecurityGroupIds), AutoMinor: in.AutoMinorVersionUpgrade == nil || *in.AutoMinorVersionUpgrade,
			Window: aws.ToString(in.PreferredMaintenanceWindow), Tags: dmsTagMap(in.Tags), Created: now, Status: "creating",
			Steps: []rdsStep{{At: now.Add(dmsInstanceCreateFor), Status: "available"}},
			IP:    fmt.Sprintf("10.0.%d.%d", 1+mix(f.c.seq)%200, 4+mix(f.c.seq>>3)%250),
			DNS:   dns,
		}
		if inst.Window == "" {
			inst.Window = "sun:06:00-sun:06:30"
		}
		s.Instances[id] = inst
		f.c.created("dms-rep/" + id)
		out = &dms.CreateReplicationInstanceOutput{ReplicationInstance: rdsPtr(inst.out(f.c, s.SubnetGroups))}
		return nil
	})
	return out, err
}

// dmsCheckDNS checks CreateReplicationInstance's DnsNameServers: a
// comma-separated list of up to four IPv4 addresses, or empty.
func dmsCheckDNS(list string) error {
	if list == "" {
		return nil
	}
	servers := strings.Split(list, ",")
	if len(servers) > 4 {
		return apiError("InvalidParameterValueException", "DnsNameServers: at most 4 name servers, got %d", len(servers))
	}
	for _, ip := range servers {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			return apiError("InvalidParameterValueException", "DnsNameServers: %q is not an IPv4 address", ip)
		}
	}
	return nil
}

// DescribeReplicationInstances lists instances (filters
// replication-instance-id, replication-instance-arn,
// replication-instance-class, engine-version); no match is
// ResourceNotFoundFault.
func (f *DMS) DescribeReplicationInstances(ctx context.Context, in *dms.DescribeReplicationInstancesInput, _ ...func(*dms.Options)) (*dms.DescribeReplicationInstancesOutput, error) {
	var out *dms.DescribeReplicationInstancesOutput
	err := f.c.call(ctx, dms.ServiceID, "DescribeReplicationInstances", false, func() error {
		if err := dmsCheckFilters(in.Filters, "replication-instance-id", "replication-instance-arn", "replication-instance-class", "engine-version"); err != nil {
			return err
		}
		s := f.st()
		var all []types.ReplicationInstance
		for _, id := range sortedKeys(s.Instances) {
			inst := s.Instances[id]
			ok, err := dmsFilterMatch(in.Filters, []string{"replication-instance-id", "replication-instance-arn", "replication-instance-class", "engine-version"},
				map[string]string{"replication-instance-id": inst.ID, "replication-instance-arn": inst.ARN, "replication-instance-class": inst.Class, "engine-version": inst.EngineVersion})
			if err != nil {
				return err
			}
			if ok && !f.c.hidden("dms-rep/"+id) {
				all = append(all, inst.out(f.c, s.SubnetGroups))
			}
		}
		if len(all) == 0 && len(in.Filters) > 0 {
			return dmsNotFound("No replication instance found matching provided filters")
		}
		items, next, err := page(all, in.Marker, dmsPageSize(in.MaxRecords))
		if err != nil {
			return err
		}
		out = &dms.DescribeReplicationInstancesOutput{ReplicationInstances: items, Marker: next}
		return nil
	})
	return out, err
}

func (f *DMS) instanceByARN(arn string) (*dmsInstance, error) {
	for _, inst := range f.st().Instances {
		if inst.ARN == arn {
			return inst, nil
		}
	}
	return nil, dmsNotFound("Replication instance %s not found", arn)
}

// ModifyReplicationInstance changes an available instance.
func (f *DMS) ModifyReplicationInstance(ctx context.Context, in *dms.ModifyReplicationInstanceInput, _ ...func(*dms.Options)) (*dms.ModifyReplicationInstanceOutput, error) {
	var out *dms.ModifyReplicationInstanceOutput
	err := f.c.call(ctx, dms.ServiceID, "ModifyReplicationInstance", true, func() error {
		inst, err := f.instanceByARN(aws.ToString(in.ReplicationInstanceArn))
		if err != nil {
			return err
		}
		if inst.Status != "available" {
			return apiError("InvalidResourceStateFault", "Replication instance %s is not in available state (%s)", inst.ID, inst.Status)
		}
		if in.AllocatedStorage != nil && *in.AllocatedStorage < inst.Storage {
			return apiError("InvalidParameterValueException", "Allocated storage can only grow: %d < %d", *in.AllocatedStorage, inst.Storage)
		}
		if in.ReplicationInstanceClass != nil && !dmsClassRe.MatchString(*in.ReplicationInstanceClass) {
			return apiError("InvalidParameterValueException", "Invalid replication instance class: %s", *in.ReplicationInstanceClass)
		}
		if in.EngineVersion != nil {
			if !slices.Contains(DMSEngineVersions, *in.EngineVersion) {
				return apiError("InvalidParameterValueException", "No replication engine found with version: %s", *in.EngineVersion)
			}
			if dmsCompareVersions(*in.EngineVersion, inst.EngineVersion) < 0 {
				return apiError("InvalidParameterValueException", "DMS doesn't support engine version downgrades (%s to %s)", inst.EngineVersion, *in.EngineVersion)
			}
		}
		if in.AutoMinorVersionUpgrade != nil {
			inst.AutoMinor = *in.AutoMinorVersionUpgrade
		}
		if in.PreferredMaintenanceWindow != nil {
			inst.Window = *in.PreferredMaintenanceWindow
		}
		if in.VpcSecurityGroupIds != nil {
			inst.SGs = slices.Clone(in.VpcSecurityGroupIds)
		}
		p := inst.Pending
		if in.ReplicationInstanceClass != nil && *in.ReplicationInstanceClass != inst.Class {
			p.Class = *in.ReplicationInstanceClass
		}
		if in.AllocatedStorage != nil && *in.AllocatedStorage != inst.Storage {
			p.Storage = *in.AllocatedStorage
		}
		if in.MultiAZ != nil && *in.MultiAZ != inst.MultiAZ {
			p.MultiAZ = aws.Bool(*in.MultiAZ)
		}
		if in.EngineVersion != nil && *in.EngineVersion != inst.EngineVersion {
			p.EngineVersion = *in.EngineVersion
		}
		inst.Pending = p
		if in.ApplyImmediately && !p.empty() {
			inst.applyPending()
			inst.Status = "modifying"
			inst.Steps = []rdsStep{{At: f.c.now().Add(dmsInstanceModifyFor), Status: "available"}}
		}
		out = &dms.ModifyReplicationInstanceOutput{ReplicationInstance: rdsPtr(inst.out(f.c, f.st().SubnetGroups))}
		return nil
	})
	return out, err
}

func (in *dmsInstance) applyPending() {
	p := in.Pending
	if p.Class != "" {
		in.Class = p.Class
	}
	if p.Storage != 0 {
		in.Storage = p.Storage
	}
	if p.MultiAZ != nil {
		in.MultiAZ = *p.MultiAZ
	}
	if p.EngineVersion != "" {
		in.EngineVersion = p.EngineVersion
	}
	in.Pending = dmsPending{}
}

// dmsCompareVersions compares dotted numeric versions.
func dmsCompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// DeleteReplicationInstance deletes an instance without tasks.
func (f *DMS) DeleteReplicationInstance(ctx context.Context, in *dms.DeleteReplicationInstanceInput, _ ...func(*dms.Options)) (*dms.DeleteReplicationInstanceOutput, error) {
	var out *dms.DeleteReplicationInstanceOutput
	err := f.c.call(ctx, dms.ServiceID, "DeleteReplicationInstance", true, func() error {
		inst, err := f.instanceByARN(aws.ToString(in.ReplicationInstanceArn))
		if err != nil {
			return err
		}
		for _, t := range f.st().Tasks {
			if t.InstanceARN == inst.ARN {
				return apiError("InvalidResourceStateFault", "Replication instance %s has replication task %s; delete the tasks first", inst.ID, t.ID)
			}
		}
		if inst.Status == "creating" || inst.Status == "modifying" || inst.Status == "deleting" {
			return apiError("InvalidResourceStateFault", "Replication instance %s is %s", inst.ID, inst.Status)
		}
		inst.Status = "deleting"
		inst.Steps = []rdsStep{{At: f.c.now().Add(dmsInstanceDeleteFor), Status: "deleted"}}
		out = &dms.DeleteReplicationInstanceOutput{ReplicationInstance: rdsPtr(inst.out(f.c, f.st().SubnetGroups))}
		return nil
	})
	return out, err
}

// --- certificates ---

func (ct *dmsCertificate) out() types.Certificate {
	return types.Certificate{CertificateIdentifier: aws.String(ct.ID), CertificateArn: aws.String(ct.ARN), CertificatePem: aws.String(ct.PEM),
		CertificateCreationDate: aws.Time(ct.Created), ValidFromDate: aws.Time(ct.ValidFrom), ValidToDate: aws.Time(ct.ValidTo)}
}

// ImportCertificate imports a PEM certificate (the whole chain in one
// string); anything that is not PEM X.509 is InvalidCertificateFault.
func (f *DMS) ImportCertificate(ctx context.Context, in *dms.ImportCertificateInput, _ ...func(*dms.Options)) (*dms.ImportCertificateOutput, error) {
	var out *dms.ImportCertificateOutput
	err := f.c.call(ctx, dms.ServiceID, "ImportCertificate", true, func() error {
		id := aws.ToString(in.CertificateIdentifier)
		if err := checkDMSID("CertificateIdentifier", id, 255); err != nil {
			return err
		}
		s := f.st()
		if _, ok := s.Certificates[strings.ToLower(id)]; ok {
			return apiError("ResourceAlreadyExistsFault", "Certificate %s already exists", id)
		}
		pemText := aws.ToString(in.CertificatePem)
		block, _ := pem.Decode([]byte(pemText))
		if block == nil || block.Type != "CERTIFICATE" {
			return apiError("InvalidCertificateFault", "The certificate was not valid: not a PEM certificate")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return apiError("InvalidCertificateFault", "The certificate was not valid: %v", err)
		}
		ct := &dmsCertificate{ID: strings.ToLower(id), ARN: f.c.arn("dms", "cert:"+f.resourceID()), PEM: pemText,
			ValidFrom: cert.NotBefore, ValidTo: cert.NotAfter, Created: f.c.now(), Tags: dmsTagMap(in.Tags)}
		s.Certificates[ct.ID] = ct
		f.c.created("dms-cert/" + ct.ID)
		out = &dms.ImportCertificateOutput{Certificate: rdsPtr(ct.out())}
		return nil
	})
	return out, err
}

// DescribeCertificates lists certificates (filters certificate-id,
// certificate-arn); no match is ResourceNotFoundFault.
func (f *DMS) DescribeCertificates(ctx context.Context, in *dms.DescribeCertificatesInput, _ ...func(*dms.Options)) (*dms.DescribeCertificatesOutput, error) {
	var out *dms.DescribeCertificatesOutput
	err := f.c.call(ctx, dms.ServiceID, "DescribeCertificates", false, func() error {
		if err := dmsCheckFilters(in.Filters, "certificate-id", "certificate-arn"); err != nil {
			return err
		}
		s := f.st()
		var all []types.Certificate
		for _, id := range sortedKeys(s.Certificates) {
			ct := s.Certificates[id]
			ok, err := dmsFilterMatch(in.Filters, []string{"certificate-id", "certificate-arn"}, map[string]string{"certificate-id": ct.ID, "certificate-arn": ct.ARN})
			if err != nil {
				return err
			}
			if ok && !f.c.hidden("dms-cert/"+id) {
				all = append(all, ct.out())
			}
		}
		if len(all) == 0 && len(in.Filters) > 0 {
			return dmsNotFound("No certificates found matching provided filters")
		}
		items, next, err := page(all, in.Marker, dmsPageSize(in.MaxRecords))
		if err != nil {
			return err
		}
		out = &dms.DescribeCertificatesOutput{Certificates: items, Marker: next}
		return nil
	})
	return out, err
}

// DeleteCertificate deletes a certificate no endpoint uses.
func (f *DMS) DeleteCertificate(ctx context.Context, in *dms.DeleteCertificateInput, _ ...func(*dms.Options)) (*dms.DeleteCertificateOutput, error) {
	var out *dms.DeleteCertificateOutput
	err := f.c.call(ctx, dms.ServiceID, "DeleteCertificate", true, func() error {
		s := f.st()
		for id, ct := range s.Certificates {
			if ct.ARN != aws.ToString(in.CertificateArn) {
				continue
			}
			for _, ep := range s.Endpoints {
				if ep.CertARN == ct.ARN {
					return apiError("InvalidResourceStateFault", "Certificate %s is in use by endpoint %s", ct.ID, ep.ID)
				}
			}
			delete(s.Certificates, id)
			out = &dms.DeleteCertificateOutput{Certificate: rdsPtr(ct.out())}
			return nil
		}
		return dmsNotFound("Certificate %s not found", aws.ToString(in.CertificateArn))
	})
	return out, err
}

// --- endpoints ---

func (ep *dmsEndpoint) out() types.Endpoint {
	o := types.Endpoint{EndpointIdentifier: aws.String(ep.ID), EndpointArn: aws.String(ep.ARN), EndpointType: types.ReplicationEndpointTypeValue(ep.Type),
		EngineName: aws.String(ep.Engine), EngineDisplayName: aws.String("PostgreSQL"), DatabaseName: smOpt(ep.Database), SslMode: types.DmsSslModeValue(ep.SslMode),
		CertificateArn: smOpt(ep.CertARN), KmsKeyId: aws.String(ep.KmsKeyID), Status: aws.String(ep.Status),
		ServerName: smOpt(ep.Server), Username: smOpt(ep.Username)}
	if ep.Port != 0 {
		o.Port = aws.Int32(ep.Port)
	}
	if ep.PG != nil {
		pg := *ep.PG
		// DMS fills in its defaults.
		if pg.DatabaseName == nil {
			pg.DatabaseName = smOpt(ep.Database)
		}
		if pg.ExecuteTimeout == nil {
			pg.ExecuteTimeout = aws.Int32(60)
		}
		if pg.MaxFileSize == nil {
			pg.MaxFileSize = aws.Int32(32768)
		}
		if pg.HeartbeatFrequency == nil {
			pg.HeartbeatFrequency = aws.Int32(5)
		}
		if pg.CaptureDdls == nil {
			pg.CaptureDdls = aws.Bool(true)
		}
		o.PostgreSQLSettings = &pg
	}
	return o
}

// dmsPolicyAllows reports whether a policy document allows action on
// resource (wildcards * and ? in both).
func dmsPolicyAllows(doc, action, resource string) bool {
	var p struct {
		Statement []struct {
			Effect   string     `json:"Effect"`
			Action   dmsStrings `json:"Action"`
			Resource dmsStrings `json:"Resource"`
		} `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return false
	}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		actionOK, resourceOK := false, false
		for _, a := range s.Action {
			actionOK = actionOK || dmsWildMatch(strings.ToLower(a), strings.ToLower(action))
		}
		for _, r := range s.Resource {
			resourceOK = resourceOK || dmsWildMatch(r, resource)
		}
		if actionOK && resourceOK {
			return true
		}
	}
	return false
}

// dmsTrusts reports whether a trust policy lets one of the services
// assume the role.
func dmsTrusts(doc string, services ...string) bool {
	var p struct {
		Statement []struct {
			Effect    string `json:"Effect"`
			Principal struct {
				Service dmsStrings `json:"Service"`
			} `json:"Principal"`
			Action dmsStrings `json:"Action"`
		} `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return false
	}
	for _, s := range p.Statement {
		if s.Effect == "Allow" && slices.Contains(s.Action, "sts:AssumeRole") {
			for _, svc := range services {
				if slices.Contains(s.Principal.Service, svc) {
					return true
				}
			}
		}
	}
	return false
}

type dmsStrings []string

// UnmarshalJSON reads a policy value written as a string or a list.
func (s *dmsStrings) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// dmsWildMatch matches s against an IAM pattern with * and ?.
func dmsWildMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if dmsWildMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && dmsWildMatch(pattern[1:], s[1:])
	}
	return s != "" && pattern[0] == s[0] && dmsWildMatch(pattern[1:], s[1:])
}

// secretAccessProblem explains why DMS cannot read the secret through the
// role, or returns "". young means a role newer than dmsRolePropagation
// counts as a problem (IAM propagation). Call with mu held.
func (f *DMS) secretAccessProblem(roleARN, secretID string, young bool) string {
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	r, ok := state[iamState](f.c, "iam").Roles[strings.ToLower(name)]
	if !ok || r.ARN != roleARN {
		return "role " + roleARN + " does not exist"
	}
	if young && f.c.now().Sub(r.Created) < dmsRolePropagation {
		return "DMS cannot assume role " + roleARN + " yet"
	}
	if !dmsTrusts(r.Trust, "dms."+f.c.region+".amazonaws.com", "dms.amazonaws.com") {
		return "role " + roleARN + " does not trust dms." + f.c.region + ".amazonaws.com"
	}
	sm := f.c.SecretsManager()
	var sec *fakeSecret
	for _, s := range sm.st().Secrets {
		if s.Name == secretID || s.ARN == secretID {
			sec = s
		}
	}
	if sec == nil || !sec.DeletedAt.IsZero() {
		return "secret " + secretID + " does not exist"
	}
	allows := func(action, resource string) bool {
		for _, doc := range r.Inline {
			if dmsPolicyAllows(doc, action, resource) {
				return true
			}
		}
		return false
	}
	if !allows("secretsmanager:GetSecretValue", sec.ARN) {
		return "role " + roleARN + " is not allowed secretsmanager:GetSecretValue on " + sec.ARN
	}
	if sec.KmsKeyID != "" {
		if k := smKeyARN(f.c, sec.KmsKeyID); k == "" || !allows("kms:Decrypt", k) {
			return "role " + roleARN + " is not allowed kms:Decrypt on the key of " + sec.ARN
		}
	}
	return ""
}

// checkEndpoint validates the fields of an endpoint create or modify.
func (f *DMS) checkEndpoint(ep *dmsEndpoint, clearPassword bool) error {
	pg := ep.PG
	secretID, role := "", ""
	if pg != nil {
		secretID, role = aws.ToString(pg.SecretsManagerSecretId), aws.ToString(pg.SecretsManagerAccessRoleArn)
	}
	clear := clearPassword || ep.Server != "" || ep.Port != 0 || ep.Username != "" ||
		(pg != nil && (pg.Password != nil || pg.ServerName != nil || pg.Port != nil || pg.Username != nil))
	switch {
	case (secretID == "") != (role == ""):
		return apiError("InvalidParameterCombinationException", "SecretsManagerSecretId and SecretsManagerAccessRoleArn must be specified together.")
	case secretID != "" && clear:
		return apiError("InvalidParameterCombinationException", "You can't specify both Secrets Manager credentials (SecretsManagerSecretId, SecretsManagerAccessRoleArn) and clear-text values for UserName, Password, ServerName, and Port.")
	case ep.SslMode != "none" && ep.SslMode != "require" && ep.SslMode != "verify-ca" && ep.SslMode != "verify-full":
		return apiError("InvalidParameterValueException", "Invalid SslMode %q", ep.SslMode)
	case (ep.SslMode == "verify-ca" || ep.SslMode == "verify-full") && ep.CertARN == "":
		return apiError("InvalidParameterCombinationException", "SslMode %s requires a CertificateArn", ep.SslMode)
	}
	if ep.CertARN != "" {
		found := false
		for _, ct := range f.st().Certificates {
			found = found || ct.ARN == ep.CertARN
		}
		if !found {
			return dmsNotFound("Certificate %s not found", ep.CertARN)
		}
	}
	if secretID != "" {
		if p := f.secretAccessProblem(role, secretID, true); p != "" {
			return apiError("AccessDeniedFault", "DMS was denied access to the secret: %s", p)
		}
	}
	if pg != nil { // never keep a credential
		pg.Password, pg.Username = nil, nil
	}
	return nil
}

// CreateEndpoint creates an endpoint.
func (f *DMS) CreateEndpoint(ctx context.Context, in *dms.CreateEndpointInput, _ ...func(*dms.Options)) (*dms.CreateEndpointOutput, error) {
	var out *dms.CreateEndpointOutput
	err := f.c.call(ctx, dms.ServiceID, "CreateEndpoint", true, func() error {
		id := aws.ToString(in.EndpointIdentifier)
		if err := checkDMSID("EndpointIdentifier", id, 255); err != nil {
			return err
		}
		if in.EndpointType != types.ReplicationEndpointTypeValueSource && in.EndpointType != types.ReplicationEndpointTypeValueTarget {
			return apiError("InvalidParameterValueException", "EndpointType must be source or target")
		}
		engine := aws.ToString(in.EngineName)
		if engine != "postgres" && engine != "aurora-postgresql" {
			return apiError("InvalidParameterValueException", "The fake supports engine names postgres and aurora-postgresql, not %q", engine)
		}
		s := f.st()
		if _, ok := s.Endpoints[strings.ToLower(id)]; ok {
			return apiError("ResourceAlreadyExistsFault", "Endpoint %s already exists", id)
		}
		ep := &dmsEndpoint{ID: strings.ToLower(id), Type: string(in.EndpointType), Engine: engine, Database: aws.ToString(in.DatabaseName),
			SslMode: string(in.SslMode), CertARN: aws.ToString(in.CertificateArn), Server: aws.ToString(in.ServerName), Port: aws.ToInt32(in.Port),
			Username: aws.ToString(in.Username), Tags: dmsTagMap(in.Tags), Status: "active"}
		if ep.SslMode == "" {
			ep.SslMode = "none"
		}
		if in.PostgreSQLSettings != nil {
			pg := *in.PostgreSQLSettings
			ep.PG = &pg
		}
		if err := f.checkEndpoint(ep, in.Password != nil); err != nil {
			return err
		}
		ep.ClearText = in.Password != nil || (in.PostgreSQLSettings != nil && in.PostgreSQLSettings.Password != nil)
		key := aws.ToString(in.KmsKeyId)
		if key != "" {
			if !smKeyUsable(f.c, key) {
				return apiError("KMSKeyNotAccessibleFault", "DMS cannot access the KMS key %s", key)
			}
			key = smKeyARN(f.c, key)
		} else {
			key = f.c.arn("kms", "key/aws-dms-default")
		}
		ep.KmsKeyID = key
		ep.ARN = f.c.arn("dms", "endpoint:"+f.resourceID())
		s.Endpoints[ep.ID] = ep
		f.c.created("dms-endpoint/" + ep.ID)
		out = &dms.CreateEndpointOutput{Endpoint: rdsPtr(ep.out())}
		return nil
	})
	return out, err
}

// DescribeEndpoints lists endpoints (filters endpoint-arn, endpoint-type,
// endpoint-id, engine-name); no match is ResourceNotFoundFault.
func (f *DMS) DescribeEndpoints(ctx context.Context, in *dms.DescribeEndpointsInput, _ ...func(*dms.Options)) (*dms.DescribeEndpointsOutput, error) {
	var out *dms.DescribeEndpointsOutput
	err := f.c.call(ctx, dms.ServiceID, "DescribeEndpoints", false, func() error {
		if err := dmsCheckFilters(in.Filters, "endpoint-arn", "endpoint-type", "endpoint-id", "engine-name"); err != nil {
			return err
		}
		s := f.st()
		var all []types.Endpoint
		for _, id := range sortedKeys(s.Endpoints) {
			ep := s.Endpoints[id]
			ok, err := dmsFilterMatch(in.Filters, []string{"endpoint-arn", "endpoint-type", "endpoint-id", "engine-name"},
				map[string]string{"endpoint-arn": ep.ARN, "endpoint-type": ep.Type, "endpoint-id": ep.ID, "engine-name": ep.Engine})
			if err != nil {
				return err
			}
			if ok && !f.c.hidden("dms-endpoint/"+id) {
				all = append(all, ep.out())
			}
		}
		if len(all) == 0 && len(in.Filters) > 0 {
			return dmsNotFound("No Endpoints found matching provided filters")
		}
		items, next, err := page(all, in.Marker, dmsPageSize(in.MaxRecords))
		if err != nil {
			return err
		}
		out = &dms.DescribeEndpointsOutput{Endpoints: items, Marker: next}
		return nil
	})
	return out, err
}

func (f *DMS) endpointByARN(arn string) (*dmsEndpoint, error) {
	for _, ep := range f.st().Endpoints {
		if ep.ARN == arn {
			return ep, nil
		}
	}
	return nil, dmsNotFound("Endpoint %s not found", arn)
}

// ModifyEndpoint changes an endpoint. PostgreSQLSettings merge into the
// current ones unless ExactSettings.
func (f *DMS) ModifyEndpoint(ctx context.Context, in *dms.ModifyEndpointInput, _ ...func(*dms.Options)) (*dms.ModifyEndpointOutput, error) {
	var out *dms.ModifyEndpointOutput
	err := f.c.call(ctx, dms.ServiceID, "ModifyEndpoint", true, func() error {
		ep, err := f.endpointByARN(aws.ToString(in.EndpointArn))
		if err != nil {
			return err
		}
		next := *ep
		if in.SslMode != "" {
			next.SslMode = string(in.SslMode)
		}
		if in.CertificateArn != nil {
			next.CertARN = *in.CertificateArn
		}
		if in.DatabaseName != nil {
			next.Database = *in.DatabaseName
		}
		if in.ServerName != nil {
			next.Server = *in.ServerName
		}
		if in.Port != nil {
			next.Port = *in.Port
		}
		if in.Username != nil {
			next.Username = *in.Username
		}
		if in.PostgreSQLSettings != nil {
			merged := *in.PostgreSQLSettings
			if ep.PG != nil && !aws.ToBool(in.ExactSettings) {
				merged = dmsMergePG(*ep.PG, *in.PostgreSQLSettings)
			}
			next.PG = &merged
		}
		if err := f.checkEndpoint(&next, in.Password != nil); err != nil {
			return err
		}
		next.ClearText = ep.ClearText || in.Password != nil
		*ep = next
		out = &dms.ModifyEndpointOutput{Endpoint: rdsPtr(ep.out())}
		return nil
	})
	return out, err
}

// dmsMergePG overlays the non-nil fields of b on a, through JSON.
func dmsMergePG(a, b types.PostgreSQLSettings) types.PostgreSQLSettings {
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	for k, v := range mb {
		if v != nil && v != "" {
			ma[k] = v
		}
	}
	var out types.PostgreSQLSettings
	j, _ := json.Marshal(ma)
	_ = json.Unmarshal(j, &out)
	return out
}

// DeleteEndpoint deletes an endpoint no task uses.
func (f *DMS) DeleteEndpoint(ctx context.Context, in *dms.DeleteEndpointInput, _ ...func(*dms.Options)) (*dms.DeleteEndpointOutput, error) {
	var out *dms.DeleteEndpointOutput
	err := f.c.call(ctx, dms.ServiceID, "DeleteEndpoint", true, func() error {
		ep, err := f.endpointByARN(aws.ToString(in.EndpointArn))
		if err != nil {
			return err
		}
		for _, t := range f.st().Tasks {
			if t.SourceARN == ep.ARN || t.TargetARN == ep.ARN {
				return apiError("InvalidResourceStateFault", "Endpoint %s is in use by replication task %s", ep.ID, t.ID)
			}
		}
		if ep.Status != "deleting" {
			ep.Status = "deleting"
			ep.Steps = []rdsStep{{At: f.c.now().Add(dmsEndpointDeleteFor), Status: "deleted"}}
		}
		out = &dms.DeleteEndpointOutput{Endpoint: rdsPtr(ep.out())}
		return nil
	})
	return out, err
}

// connectProblem explains why the endpoint cannot connect (its secret,
// its role, its certificate, the target DB's state or password), or "".
// Call with mu held.
func (f *DMS) connectProblem(ep *dmsEndpoint) string {
	if ep.ClearText {
		return ""
	}
	if ep.PG == nil || ep.PG.SecretsManagerSecretId == nil {
		return "no credentials"
	}
	secretID, role := aws.ToString(ep.PG.SecretsManagerSecretId), aws.ToString(ep.PG.SecretsManagerAccessRoleArn)
	if p := f.secretAccessProblem(role, secretID, false); p != "" {
		return p
	}
	var value string
	for _, s := range f.c.SecretsManager().st().Secrets {
		if s.Name == secretID || s.ARN == secretID {
			if v := s.current(); v != nil {
				value = aws.ToString(v.String)
			}
		}
	}
	var cred map[string]any
	if err := json.Unmarshal([]byte(value), &cred); err != nil {
		return "the secret is not a JSON object"
	}
	for _, k := range []string{"username", "password", "host", "port"} {
		if _, ok := cred[k]; !ok {
			return "the secret has no " + k + " field; DMS needs username, password, host and port"
		}
	}
	host, _ := cred["host"].(string)
	for _, db := range f.c.RDS().st().Instances {
		if db.EndpointAddress != host {
			continue
		}
		if db.Status != "available" && db.Status != "modifying" && db.Status != "backing-up" {
			return "could not connect to " + host + ": the DB instance is " + db.Status
		}
		for _, s := range f.c.SecretsManager().st().Secrets {
			if s.ARN != db.MasterSecretARN {
				continue
			}
			var master map[string]any
			if v := s.current(); v != nil && json.Unmarshal([]byte(aws.ToString(v.String)), &master) == nil {
				if master["password"] != cred["password"] || master["username"] != cred["username"] {
					return "FATAL: password authentication failed for user " + fmt.Sprint(cred["username"])
				}
			}
		}
	}
	return ""
}

// TestConnection tests an endpoint from an available instance; the
// result shows in DescribeConnections after a while.
func (f *DMS) TestConnection(ctx context.Context, in *dms.TestConnectionInput, _ ...func(*dms.Options)) (*dms.TestConnectionOutput, error) {
	var out *dms.TestConnectionOutput
	err := f.c.call(ctx, dms.ServiceID, "TestConnection", true, func() error {
		inst, err := f.instanceByARN(aws.ToString(in.ReplicationInstanceArn))
		if err != nil {
			return err
		}
		ep, err := f.endpointByARN(aws.ToString(in.EndpointArn))
		if err != nil {
			return err
		}
		if inst.Status != "available" {
			return apiError("InvalidResourceStateFault", "Replication instance %s is %s", inst.ID, inst.Status)
		}
		cn := &dmsConnection{InstanceARN: inst.ARN, EndpointARN: ep.ARN, Status: "testing"}
		result := "successful"
		if p := f.connectProblem(ep); p != "" {
			result, cn.Failure = "failed", p
		}
		cn.Steps = []rdsStep{{At: f.c.now().Add(dmsTestConnFor), Status: result}}
		f.st().Connections[inst.ARN+"|"+ep.ARN] = cn
		out = &dms.TestConnectionOutput{Connection: f.connOut(cn)}
		return nil
	})
	return out, err
}

func (f *DMS) connOut(cn *dmsConnection) *types.Connection {
	o := &types.Connection{ReplicationInstanceArn: aws.String(cn.InstanceARN), EndpointArn: aws.String(cn.EndpointARN), Status: aws.String(cn.Status)}
	if cn.Status == "failed" {
		o.LastFailureMessage = aws.String(cn.Failure)
	}
	for _, inst := range f.st().Instances {
		if inst.ARN == cn.InstanceARN {
			o.ReplicationInstanceIdentifier = aws.String(inst.ID)
		}
	}
	for _, ep := range f.st().Endpoints {
		if ep.ARN == cn.EndpointARN {
			o.EndpointIdentifier = aws.String(ep.ID)
		}
	}
	return o
}

// DescribeConnections lists connection tests (filters endpoint-arn,
// replication-instance-arn).
func (f *DMS) DescribeConnections(ctx context.Context, in *dms.DescribeConnectionsInput, _ ...func(*dms.Options)) (*dms.DescribeConnectionsOutput, error) {
	var out *dms.DescribeConnectionsOutput
	err := f.c.call(ctx, dms.ServiceID, "DescribeConnections", false, func() error {
		if err := dmsCheckFilters(in.Filters, "endpoint-arn", "replication-instance-arn"); err != nil {
			return err
		}
		s := f.st()
		var all []types.Connection
		for _, k := range sortedKeys(s.Connections) {
			cn := s.Connections[k]
			ok, err := dmsFilterMatch(in.Filters, []string{"endpoint-arn", "replication-instance-arn"}, map[string]string{"endpoint-arn": cn.EndpointARN, "replication-instance-arn": cn.InstanceARN})
			if err != nil {
				return err
			}
			if ok {
				all = append(all, *f.connOut(cn))
			}
		}
		items, next, err := page(all, in.Marker, dmsPageSize(in.MaxRecords))
		if err != nil {
			return err
		}
		out = &dms.DescribeConnectionsOutput{Connections: items, Marker: next}
		return nil
	})
	return out, err
}

// --- tasks ---

// dmsDefaultSettings is the task settings document DMS fills in for what
// a create leaves out (abridged to what the library reads).
const dmsDefaultSettings = `{
 "TargetMetadata": {"TargetSchema": "", "SupportLobs": true, "FullLobMode": false, "LobChunkSize": 0, "LimitedSizeLobMode": true, "LobMaxSize": 32, "InlineLobMaxSize": 0, "BatchApplyEnabled": false, "TaskRecoveryTableEnabled": false},
 "FullLoadSettings": {"TargetTablePrepMode": "DROP_AND_CREATE", "CreatePkAfterFullLoad": false, "StopTaskCachedChangesApplied": false, "StopTaskCachedChangesNotApplied": false, "MaxFullLoadSubTasks": 8, "TransactionConsistencyTimeout": 600, "CommitRate": 10000},
 "Logging": {"EnableLogging": false, "LogComponents": [{"Id": "SOURCE_UNLOAD", "Severity": "LOGGER_SEVERITY_DEFAULT"}, {"Id": "SOURCE_CAPTURE", "Severity": "LOGGER_SEVERITY_DEFAULT"}, {"Id": "TARGET_LOAD", "Severity": "LOGGER_SEVERITY_DEFAULT"}, {"Id": "TARGET_APPLY", "Severity": "LOGGER_SEVERITY_DEFAULT"}, {"Id": "TASK_MANAGER", "Severity": "LOGGER_SEVERITY_DEFAULT"}], "CloudWatchLogGroup": null, "CloudWatchLogStream": null},
 "ControlTablesSettings": {"ControlSchema": "", "HistoryTimeslotInMinutes": 5, "HistoryTableEnabled": false, "SuspendedTablesTableEnabled": false, "StatusTableEnabled": false},
 "ChangeProcessingTuning": {"BatchApplyPreserveTransaction": true, "BatchApplyTimeoutMin": 1, "BatchApplyTimeoutMax": 30, "BatchApplyMemoryLimit": 500, "BatchSplitSize": 0, "MinTransactionSize": 1000, "CommitTimeout": 1, "MemoryLimitTotal": 1024, "MemoryKeepTime": 60, "StatementCacheSize": 50},
 "ValidationSettings": {"EnableValidation": false, "ValidationMode": "ROW_LEVEL", "ThreadCount": 5, "FailureMaxCount": 10000, "TableFailureMaxCount": 1000, "HandleCollationDiff": false, "ValidationOnly": false, "RecordFailureDelayLimitInMinutes": 0, "SkipLobColumns": false, "ValidationPartialLobSize": 0, "ValidationQueryCdcDelaySeconds": 0},
 "ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR", "DataTruncationErrorPolicy": "LOG_ERROR", "TableErrorPolicy": "SUSPEND_TABLE", "RecoverableErrorCount": -1, "RecoverableErrorInterval": 5, "ApplyErrorDeletePolicy": "IGNORE_RECORD", "ApplyErrorInsertPolicy": "LOG_ERROR", "ApplyErrorUpdatePolicy": "LOG_ERROR", "FullLoadIgnoreConflicts": true}
}`

// dmsMergeJSON overlays b on a, recursively for objects.
func dmsMergeJSON(a, b map[string]any) map[string]any {
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := a[k].(map[string]any); ok {
				a[k] = dmsMergeJSON(am, bm)
				continue
			}
		}
		a[k] = v
	}
	return a
}

// effectiveSettings validates the given settings and returns them merged
// into the defaults (base, or DMS's defaults), with the CloudWatch log
// group and stream DMS assigns when logging is on.
func (f *DMS) effectiveSettings(base, given string, instanceID, rid string) (string, error) {
	var defaults map[string]any
	if base == "" {
		base = dmsDefaultSettings
	}
	if err := json.Unmarshal([]byte(base), &defaults); err != nil {
		return "", apiError("InvalidParameterValueException", "bad base settings: %v", err)
	}
	if given != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(given), &m); err != nil {
			return "", apiError("InvalidParameterValueException", "Invalid task settings JSON: %v", err)
		}
		if lg, ok := m["Logging"].(map[string]any); ok {
			for _, k := range []string{"CloudWatchLogGroup", "CloudWatchLogStream"} {
				if v, ok := lg[k]; ok && v != nil {
					return "", apiError("InvalidParameterValueException", "Task Settings %s cannot be set; DMS assigns it", k)
				}
			}
		}
		defaults = dmsMergeJSON(defaults, m)
	}
	if lg, ok := defaults["Logging"].(map[string]any); ok {
		if on, _ := lg["EnableLogging"].(bool); on {
			lg["CloudWatchLogGroup"] = "dms-tasks-" + instanceID
			lg["CloudWatchLogStream"] = "dms-task-" + rid
		} else {
			lg["CloudWatchLogGroup"], lg["CloudWatchLogStream"] = nil, nil
		}
	}
	b, _ := json.Marshal(defaults)
	return string(b), nil
}

type dmsMappingRule struct {
	Type    string `json:"rule-type"`
	ID      string `json:"rule-id"`
	Name    string `json:"rule-name"`
	Action  string `json:"rule-action"`
	Locator *struct {
		Schema string `json:"schema-name"`
		Table  string `json:"table-name"`
	} `json:"object-locator"`
}

func dmsParseMappings(doc string) ([]dmsMappingRule, error) {
	var m struct {
		Rules []dmsMappingRule `json:"rules"`
	}
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return nil, apiError("InvalidParameterValueException", "Invalid table mappings JSON: %v", err)
	}
	names := map[string]bool{}
	include := false
	for _, r := range m.Rules {
		if r.Name == "" || names[r.Name] {
			return nil, apiError("InvalidParameterValueException", "Error in mapping rules: rule name %q is empty or not unique", r.Name)
		}
		names[r.Name] = true
		if _, err := strconv.Atoi(r.ID); err != nil {
			return nil, apiError("InvalidParameterValueException", "Error in mapping rules: rule-id %q must be numeric", r.ID)
		}
		if r.Type == "selection" {
			if r.Locator == nil || r.Locator.Schema == "" || r.Locator.Table == "" {
				return nil, apiError("InvalidParameterValueException", "Error in mapping rules: rule %s has no object-locator", r.Name)
			}
			switch r.Action {
			case "include":
				include = true
			case "exclude", "explicit":
			default:
				return nil, apiError("InvalidParameterValueException", "Error in mapping rules: rule %s has rule-action %q", r.Name, r.Action)
			}
		}
	}
	if !include {
		return nil, apiError("InvalidParameterValueException", "Error in mapping rules: no selection rule includes a table")
	}
	return m.Rules, nil
}

// dmsLike matches s against a DMS object-locator pattern: % is any run
// of characters, _ any one character, [xy] one of a set ([_] a literal
// underscore).
func dmsLike(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if dmsLike(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && dmsLike(pattern[1:], s[1:])
	case '[':
		end := strings.IndexByte(pattern, ']')
		if end < 0 {
			return false
		}
		return s != "" && strings.IndexByte(pattern[1:end], s[0]) >= 0 && dmsLike(pattern[end+1:], s[1:])
	}
	return s != "" && pattern[0] == s[0] && dmsLike(pattern[1:], s[1:])
}

// dmsUnescape turns a pattern's literal parts back into a name.
func dmsUnescape(p string) string { return strings.ReplaceAll(p, "[_]", "_") }

// tables returns the tables a task replicates: the source endpoint's
// tables (SetSourceTables) selected by its mappings, or, without them,
// one table per exact include rule and two per wildcard rule.
func (f *DMS) tables(t *dmsTask) []DMSTable {
	rules, err := dmsParseMappings(t.Mappings)
	if err != nil {
		return nil
	}
	src := f.st().SourceTables[t.SourceARN]
	if src == nil {
		seen := map[string]bool{}
		for _, r := range rules {
			if r.Type != "selection" || r.Action != "include" {
				continue
			}
			table := dmsUnescape(r.Locator.Table)
			names := []string{table}
			if strings.Contains(table, "%") {
				base := strings.Trim(strings.ReplaceAll(table, "%", ""), "_")
				if base == "" {
					base = "table"
				}
				names = []string{base + "_1", base + "_2"}
			}
			schema := strings.ReplaceAll(dmsUnescape(r.Locator.Schema), "%", "public")
			for i, n := range names {
				if !seen[schema+"."+n] {
					seen[schema+"."+n] = true
					src = append(src, DMSTable{Schema: schema, Name: n, Rows: int64(10_000 * (len(src) + i + 1))})
				}
			}
		}
	}
	var out []DMSTable
	for _, tb := range src {
		keep := false
		for _, r := range rules {
			if r.Type != "selection" || !dmsLike(r.Locator.Schema, tb.Schema) || !dmsLike(r.Locator.Table, tb.Name) {
				continue
			}
			switch r.Action {
			case "include", "explicit":
				keep = true
			case "exclude":
				keep = false
				goto decided
			}
		}
	decided:
		if keep {
			out = append(out, tb)
		}
	}
	slices.SortFunc(out, func(a, b DMSTable) int { return strings.Compare(a.Schema+"."+a.Name, b.Schema+"."+b.Name) })
	return out
}

func (f *DMS) loadDuration(t *dmsTask) time.Duration {
	var rows int64
	for _, tb := range f.tables(t) {
		rows += tb.Rows
	}
	return max(dmsMinLoad, time.Duration(rows)*time.Minute/dmsLoadRowsPerMinute)
}

func (t *dmsTask) validation() bool {
	var s struct {
		ValidationSettings struct {
			EnableValidation bool `json:"EnableValidation"`
		} `json:"ValidationSettings"`
	}
	_ = json.Unmarshal([]byte(t.Settings), &s)
	return s.ValidationSettings.EnableValidation
}

func (f *DMS) taskOut(t *dmsTask, withSettings bool) types.ReplicationTask {
	o := types.ReplicationTask{
		ReplicationTaskIdentifier: aws.String(t.ID), ReplicationTaskArn: aws.String(t.ARN), MigrationType: types.MigrationTypeValue(t.MigrationType),
		ReplicationInstanceArn: aws.String(t.InstanceARN), SourceEndpointArn: aws.String(t.SourceARN), TargetEndpointArn: aws.String(t.TargetARN),
		TableMappings: aws.String(t.Mappings), Status: aws.String(t.Status), ReplicationTaskCreationDate: aws.Time(t.Created),
		CdcStartPosition: smOpt(t.CdcStartPos), CdcStopPosition: smOpt(t.CdcStopPos), StopReason: smOpt(t.StopReason),
	}
	if withSettings {
		o.ReplicationTaskSettings = aws.String(t.Settings)
	}
	if t.Status == "failed" {
		o.LastFailureMessage = aws.String(t.Failure)
	}
	if !t.StartDate.IsZero() {
		o.ReplicationTaskStartDate = aws.Time(t.StartDate)
		stats := &types.ReplicationTaskStats{StartDate: aws.Time(t.StartDate), FreshStartDate: aws.Time(t.FreshStart)}
		now := f.c.now()
		if !t.RunStart.IsZero() && now.After(t.RunStart) {
			stats.ElapsedTimeMillis = now.Sub(t.RunStart).Milliseconds()
		}
		for _, ts := range f.tableStats(t) {
			switch aws.ToString(ts.TableState) {
			case "Table completed":
				stats.TablesLoaded++
			case "Full load":
				stats.TablesLoading++
			case "Before load":
				stats.TablesQueued++
			case "Table error":
				stats.TablesErrored++
			}
		}
		if n := stats.TablesLoaded + stats.TablesLoading + stats.TablesQueued + stats.TablesErrored; n > 0 {
			stats.FullLoadProgressPercent = 100 * stats.TablesLoaded / n
		}
		if !t.LoadStart.IsZero() {
			stats.FullLoadStartDate = aws.Time(t.LoadStart)
		}
		if t.LoadDone && !t.LoadEnd.IsZero() {
			stats.FullLoadFinishDate = aws.Time(t.LoadEnd)
		}
		if !t.StopAt.IsZero() && !now.Before(t.StopAt) {
			stats.StopDate = aws.Time(t.StopAt)
		}
		o.ReplicationTaskStats = stats
	}
	return o
}

// CreateReplicationTask creates a task on an available instance between
// a source and a target endpoint.
func (f *DMS) CreateReplicationTask(ctx context.Context, in *dms.CreateReplicationTaskInput, _ ...func(*dms.Options)) (*dms.CreateReplicationTaskOutput, error) {
	var out *dms.CreateReplicationTaskOutput
	err := f.c.call(ctx, dms.ServiceID, "CreateReplicationTask", true, func() error {
		id := aws.ToString(in.ReplicationTaskIdentifier)
		if err := checkDMSID("ReplicationTaskIdentifier", id, 255); err != nil {
			return err
		}
		s := f.st()
		if _, ok := s.Tasks[strings.ToLower(id)]; ok {
			return apiError("ResourceAlreadyExistsFault", "Replication task %s already exists", id)
		}
		switch in.MigrationType {
		case types.MigrationTypeValueFullLoad, types.MigrationTypeValueCdc, types.MigrationTypeValueFullLoadAndCdc:
		default:
			return apiError("InvalidParameterValueException", "Invalid MigrationType %q", in.MigrationType)
		}
		if in.CdcStartTime != nil && in.CdcStartPosition != nil {
			return apiError("InvalidParameterCombinationException", "Specify either CdcStartTime or CdcStartPosition, not both.")
		}
		inst, err := f.instanceByARN(aws.ToString(in.ReplicationInstanceArn))
		if err != nil {
			return err
		}
		if inst.Status != "available" {
			return apiError("InvalidResourceStateFault", "Replication instance %s is %s", inst.ID, inst.Status)
		}
		src, err := f.endpointByARN(aws.ToString(in.SourceEndpointArn))
		if err != nil {
			return err
		}
		tgt, err := f.endpointByARN(aws.ToString(in.TargetEndpointArn))
		if err != nil {
			return err
		}
		if src.Type != "source" || tgt.Type != "target" {
			return apiError("InvalidParameterCombinationException", "SourceEndpointArn must name a source endpoint and TargetEndpointArn a target endpoint")
		}
		if _, err := dmsParseMappings(aws.ToString(in.TableMappings)); err != nil {
			return err
		}
		rid := f.resourceID()
		settings, err := f.effectiveSettings("", aws.ToString(in.ReplicationTaskSettings), inst.ID, rid)
		if err != nil {
			return err
		}
		now := f.c.now()
		t := &dmsTask{ID: strings.ToLower(id), ARN: f.c.arn("dms", "task:"+rid), MigrationType: string(in.MigrationType), InstanceARN: inst.ARN,
			SourceARN: src.ARN, TargetARN: tgt.ARN, Mappings: aws.ToString(in.TableMappings), Settings: settings,
			CdcStartPos: aws.ToString(in.CdcStartPosition), CdcStopPos: aws.ToString(in.CdcStopPosition), Tags: dmsTagMap(in.Tags),
			Created: now, Status: "creating", Steps: []rdsStep{{At: now.Add(dmsTaskCreateFor), Status: "ready"}}}
		if in.CdcStartTime != nil {
			t.CdcStartTime = *in.CdcStartTime
		}
		s.Tasks[t.ID] = t
		f.c.created("dms-task/" + t.ID)
		out = &dms.CreateReplicationTaskOutput{ReplicationTask: rdsPtr(f.taskOut(t, true))}
		return nil
	})
	return out, err
}

// DescribeReplicationTasks lists tasks (filters replication-task-arn,
// replication-task-id, migration-type, endpoint-arn,
// replication-instance-arn); no match is ResourceNotFoundFault.
func (f *DMS) DescribeReplicationTasks(ctx context.Context, in *dms.DescribeReplicationTasksInput, _ ...func(*dms.Options)) (*dms.DescribeReplicationTasksOutput, error) {
	var out *dms.DescribeReplicationTasksOutput
	err := f.c.call(ctx, dms.ServiceID, "DescribeReplicationTasks", false, func() error {
		if err := dmsCheckFilters(in.Filters, "replication-task-arn", "replication-task-id", "migration-type", "endpoint-arn", "replication-instance-arn"); err != nil {
			return err
		}
		s := f.st()
		var all []types.ReplicationTask
		for _, id := range sortedKeys(s.Tasks) {
			t := s.Tasks[id]
			fields := map[string]string{"replication-task-arn": t.ARN, "replication-task-id": t.ID, "migration-type": t.MigrationType, "replication-instance-arn": t.InstanceARN}
			allowed := []string{"replication-task-arn", "replication-task-id", "migration-type", "endpoint-arn", "replication-instance-arn"}
			ok := false
			for _, ep := range []string{t.SourceARN, t.TargetARN} {
				fields["endpoint-arn"] = ep
				hit, err := dmsFilterMatch(in.Filters, allowed, fields)
				if err != nil {
					return err
				}
				ok = ok || hit
			}
			if ok && !f.c.hidden("dms-task/"+id) {
				all = append(all, f.taskOut(t, !aws.ToBool(in.WithoutSettings)))
			}
		}
		if len(all) == 0 && len(in.Filters) > 0 {
			return dmsNotFound("No Tasks found matching provided filters")
		}
		items, next, err := page(all, in.Marker, dmsPageSize(in.MaxRecords))
		if err != nil {
			return err
		}
		out = &dms.DescribeReplicationTasksOutput{ReplicationTasks: items, Marker: next}
		return nil
	})
	return out, err
}

func (f *DMS) taskByARN(arn string) (*dmsTask, error) {
	for _, t := range f.st().Tasks {
		if t.ARN == arn {
			return t, nil
		}
	}
	return nil, dmsNotFound("Replication task %s not found", arn)
}

// ModifyReplicationTask changes a task that is not running (ready,
// stopped or failed); it is "modifying" for a while.
func (f *DMS) ModifyReplicationTask(ctx context.Context, in *dms.ModifyReplicationTaskInput, _ ...func(*dms.Options)) (*dms.ModifyReplicationTaskOutput, error) {
	var out *dms.ModifyReplicationTaskOutput
	err := f.c.call(ctx, dms.ServiceID, "ModifyReplicationTask", true, func() error {
		t, err := f.taskByARN(aws.ToString(in.ReplicationTaskArn))
		if err != nil {
			return err
		}
		if t.Status != "ready" && t.Status != "stopped" && t.Status != "failed" {
			return apiError("InvalidResourceStateFault", "Replication task %s is %s; it must be stopped to be modified", t.ID, t.Status)
		}
		if in.TableMappings != nil {
			if _, err := dmsParseMappings(*in.TableMappings); err != nil {
				return err
			}
		}
		if in.ReplicationTaskSettings != nil {
			inst, _ := f.instanceByARN(t.InstanceARN)
			iid := ""
			if inst != nil {
				iid = inst.ID
			}
			settings, err := f.effectiveSettings(t.Settings, *in.ReplicationTaskSettings, iid, t.ARN[strings.LastIndex(t.ARN, ":")+1:])
			if err != nil {
				return err
			}
			t.Settings = settings
		}
		if in.TableMappings != nil {
			t.Mappings = *in.TableMappings
		}
		if in.MigrationType != "" {
			t.MigrationType = string(in.MigrationType)
		}
		if in.CdcStartPosition != nil {
			t.CdcStartPos = *in.CdcStartPosition
		}
		if in.CdcStopPosition != nil {
			t.CdcStopPos = *in.CdcStopPosition
		}
		back := t.Status
		t.Status = "modifying"
		t.Steps = []rdsStep{{At: f.c.now().Add(dmsTaskModifyFor), Status: back}}
		out = &dms.ModifyReplicationTaskOutput{ReplicationTask: rdsPtr(f.taskOut(t, true))}
		return nil
	})
	return out, err
}

// StartReplicationTask starts a task. start-replication is the only
// start type for the first run and is refused on a full-load task that
// has run before (use resume-processing or reload-target);
// resume-processing needs a previous run.
func (f *DMS) StartReplicationTask(ctx context.Context, in *dms.StartReplicationTaskInput, _ ...func(*dms.Options)) (*dms.StartReplicationTaskOutput, error) {
	var out *dms.StartReplicationTaskOutput
	err := f.c.call(ctx, dms.ServiceID, "StartReplicationTask", true, func() error {
		t, err := f.taskByARN(aws.ToString(in.ReplicationTaskArn))
		if err != nil {
			return err
		}
		if t.Status != "ready" && t.Status != "stopped" && t.Status != "failed" {
			return apiError("InvalidResourceStateFault", "Replication task %s is %s and cannot be started", t.ID, t.Status)
		}
		inst, err := f.instanceByARN(t.InstanceARN)
		if err != nil {
			return err
		}
		if inst.Status != "available" {
			return apiError("InvalidResourceStateFault", "Replication instance %s is %s", inst.ID, inst.Status)
		}
		ran := !t.StartDate.IsZero()
		typ := in.StartReplicationTaskType
		switch typ {
		case types.StartReplicationTaskTypeValueStartReplication:
			if ran && t.MigrationType != "cdc" {
				return apiError("InvalidParameterCombinationException", "Task %s has run before: start it with resume-processing or reload-target", t.ID)
			}
		case types.StartReplicationTaskTypeValueResumeProcessing:
			if !ran {
				return apiError("InvalidParameterCombinationException", "resume-processing is only available for previously executed tasks; use start-replication for the first run")
			}
		case types.StartReplicationTaskTypeValueReloadTarget:
			if !ran {
				return apiError("InvalidParameterCombinationException", "reload-target is only available for previously executed tasks; use start-replication for the first run")
			}
			if t.MigrationType == "cdc" {
				return apiError("InvalidParameterCombinationException", "reload-target is not valid for a cdc task")
			}
		default:
			return apiError("InvalidParameterValueException", "Invalid StartReplicationTaskType %q", typ)
		}
		now := f.c.now()
		run := now.Add(dmsTaskStartFor)
		t.Status, t.Failure, t.StopReason, t.StopAt = "starting", "", "", time.Time{}
		t.StartDate, t.RunStart = now, run
		if typ != types.StartReplicationTaskTypeValueResumeProcessing {
			t.FreshStart = now
		}
		switch {
		case t.MigrationType == "cdc":
			t.LoadStart, t.LoadEnd, t.LoadLeft, t.LoadDone, t.CDCFrom = time.Time{}, time.Time{}, 0, true, run
		case typ == types.StartReplicationTaskTypeValueResumeProcessing && t.LoadDone:
			t.CDCFrom = run
		default:
			left := f.loadDuration(t)
			if typ == types.StartReplicationTaskTypeValueResumeProcessing && t.LoadLeft > 0 {
				left = t.LoadLeft
			}
			t.LoadStart, t.LoadEnd, t.LoadLeft, t.LoadDone, t.CDCFrom = run, run.Add(left), left, false, run.Add(left)
		}
		status := "running"
		for _, arn := range []string{t.SourceARN, t.TargetARN} {
			if ep, err := f.endpointByARN(arn); err == nil {
				if p := f.connectProblem(ep); p != "" {
					status, t.Failure = "failed", "Endpoint "+ep.ID+": "+p
				}
			}
		}
		t.Steps = []rdsStep{{At: run, Status: status}}
		if status == "running" && t.MigrationType == "full-load" {
			t.Steps = append(t.Steps, rdsStep{At: t.LoadEnd, Status: "stopped"})
			t.StopAt, t.StopReason = t.LoadEnd, "Stop Reason FULL_LOAD_ONLY_FINISHED"
		}
		if status == "failed" {
			t.RunStart, t.CDCFrom, t.LoadStart, t.LoadEnd = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		}
		out = &dms.StartReplicationTaskOutput{ReplicationTask: rdsPtr(f.taskOut(t, true))}
		return nil
	})
	return out, err
}

// StopReplicationTask stops a running task.
func (f *DMS) StopReplicationTask(ctx context.Context, in *dms.StopReplicationTaskInput, _ ...func(*dms.Options)) (*dms.StopReplicationTaskOutput, error) {
	var out *dms.StopReplicationTaskOutput
	err := f.c.call(ctx, dms.ServiceID, "StopReplicationTask", true, func() error {
		t, err := f.taskByARN(aws.ToString(in.ReplicationTaskArn))
		if err != nil {
			return err
		}
		if t.Status != "running" && t.Status != "starting" {
			return apiError("InvalidResourceStateFault", "Replication task %s is %s, not running", t.ID, t.Status)
		}
		now := f.c.now()
		stop := now.Add(dmsTaskStopFor)
		t.Status, t.StopAt, t.StopReason = "stopping", stop, "Stop Reason STOPPED_BY_USER"
		t.Steps = []rdsStep{{At: stop, Status: "stopped"}}
		if !t.LoadDone && !t.LoadEnd.IsZero() {
			if stop.Before(t.LoadEnd) {
				t.LoadLeft = t.LoadEnd.Sub(stop)
			} else {
				t.LoadDone = true
			}
		}
		out = &dms.StopReplicationTaskOutput{ReplicationTask: rdsPtr(f.taskOut(t, true))}
		return nil
	})
	return out, err
}

// DeleteReplicationTask deletes a task that is not running.
func (f *DMS) DeleteReplicationTask(ctx context.Context, in *dms.DeleteReplicationTaskInput, _ ...func(*dms.Options)) (*dms.DeleteReplicationTaskOutput, error) {
	var out *dms.DeleteReplicationTaskOutput
	err := f.c.call(ctx, dms.ServiceID, "DeleteReplicationTask", true, func() error {
		t, err := f.taskByARN(aws.ToString(in.ReplicationTaskArn))
		if err != nil {
			return err
		}
		switch t.Status {
		case "running", "starting", "stopping", "modifying", "creating":
			return apiError("InvalidResourceStateFault", "Replication task %s is %s; stop it before deleting it", t.ID, t.Status)
		case "deleting":
		default:
			t.Status = "deleting"
			t.Steps = []rdsStep{{At: f.c.now().Add(dmsTaskDeleteFor), Status: "deleted"}}
		}
		out = &dms.DeleteReplicationTaskOutput{ReplicationTask: rdsPtr(f.taskOut(t, true))}
		return nil
	})
	return out, err
}

// tableStats computes the statistics of a task's tables now. Call with mu
// held.
func (f *DMS) tableStats(t *dmsTask) []types.TableStatistics {
	if t.StartDate.IsZero() || t.RunStart.IsZero() {
		return nil
	}
	now := f.c.now()
	end := now
	if !t.StopAt.IsZero() && t.StopAt.Before(end) {
		end = t.StopAt
	}
	tables := f.tables(t)
	validate := t.validation()
	frac := 1.0
	if !t.LoadDone && !t.LoadEnd.IsZero() {
		total := t.LoadEnd.Sub(t.LoadStart)
		frac = 0
		if total > 0 && end.After(t.LoadStart) {
			frac = min(1, float64(end.Sub(t.LoadStart))/float64(total))
		}
	}
	cdcMinutes := int64(0)
	if !t.CDCFrom.IsZero() && end.After(t.CDCFrom) {
		cdcMinutes = int64(end.Sub(t.CDCFrom) / time.Minute)
	}
	var out []types.TableStatistics
	n := float64(len(tables))
	for i, tb := range tables {
		ts := types.TableStatistics{SchemaName: aws.String(tb.Schema), TableName: aws.String(tb.Name), LastUpdateTime: aws.Time(now)}
		lo, hi := float64(i)/n, float64(i+1)/n
		state, rows := "Table completed", tb.Rows
		switch {
		case t.MigrationType == "cdc":
			rows = 0
		case frac >= hi:
		case frac > lo:
			state, rows = "Full load", int64(float64(tb.Rows)*(frac-lo)/(hi-lo))
		default:
			state, rows = "Before load", 0
		}
		ts.TableState, ts.FullLoadRows = aws.String(state), rows
		ts.Inserts, ts.Updates, ts.Deletes = cdcMinutes*int64(i+3), cdcMinutes*int64(i+1), cdcMinutes/2
		failed := t.ValidationFailures[tb.Schema+"."+tb.Name]
		switch {
		case !validate:
			ts.ValidationState = aws.String("Not enabled")
		case failed > 0:
			ts.ValidationState, ts.ValidationFailedRecords = aws.String("Mismatched records"), failed
		case state == "Table completed":
			ts.ValidationState = aws.String("Validated")
		default:
			ts.ValidationState, ts.ValidationPendingRecords = aws.String("Pending records"), tb.Rows-rows
		}
		out = append(out, ts)
	}
	return out
}

// DescribeTableStatistics returns per-table statistics of a task (filters
// schema-name, table-name, table-state); a task that never ran has none.
func (f *DMS) DescribeTableStatistics(ctx context.Context, in *dms.DescribeTableStatisticsInput, _ ...func(*dms.Options)) (*dms.DescribeTableStatisticsOutput, error) {
	var out *dms.DescribeTableStatisticsOutput
	err := f.c.call(ctx, dms.ServiceID, "DescribeTableStatistics", false, func() error {
		t, err := f.taskByARN(aws.ToString(in.ReplicationTaskArn))
		if err != nil {
			return err
		}
		var all []types.TableStatistics
		for _, ts := range f.tableStats(t) {
			ok, err := dmsFilterMatch(in.Filters, []string{"schema-name", "table-name", "table-state"},
				map[string]string{"schema-name": aws.ToString(ts.SchemaName), "table-name": aws.ToString(ts.TableName), "table-state": aws.ToString(ts.TableState)})
			if err != nil {
				return err
			}
			if ok {
				all = append(all, ts)
			}
		}
		size := dmsPageSize(in.MaxRecords)
		if in.MaxRecords == nil {
			size = 100
		}
		items, next, err := page(all, in.Marker, size)
		if err != nil {
			return err
		}
		out = &dms.DescribeTableStatisticsOutput{ReplicationTaskArn: aws.String(t.ARN), TableStatistics: items, Marker: next}
		return nil
	})
	return out, err
}

// --- tags ---

func (f *DMS) tagsOf(arn string) (map[string]string, error) {
	s := f.st()
	for _, g := range s.SubnetGroups {
		if g.ARN == arn {
			return g.Tags, nil
		}
	}
	for _, x := range s.Instances {
		if x.ARN == arn {
			return x.Tags, nil
		}
	}
	for _, x := range s.Certificates {
		if x.ARN == arn {
			return x.Tags, nil
		}
	}
	for _, x := range s.Endpoints {
		if x.ARN == arn {
			return x.Tags, nil
		}
	}
	for _, x := range s.Tasks {
		if x.ARN == arn {
			return x.Tags, nil
		}
	}
	return nil, dmsNotFound("Resource %s not found", arn)
}

// ListTagsForResource lists the tags of one resource (ResourceArn) or
// several (ResourceArnList).
func (f *DMS) ListTagsForResource(ctx context.Context, in *dms.ListTagsForResourceInput, _ ...func(*dms.Options)) (*dms.ListTagsForResourceOutput, error) {
	var out *dms.ListTagsForResourceOutput
	err := f.c.call(ctx, dms.ServiceID, "ListTagsForResource", false, func() error {
		arns := slices.Clone(in.ResourceArnList)
		if in.ResourceArn != nil {
			arns = append(arns, *in.ResourceArn)
		}
		out = &dms.ListTagsForResourceOutput{}
		for _, arn := range arns {
			tags, err := f.tagsOf(arn)
			if err != nil {
				return err
			}
			out.TagList = append(out.TagList, dmsTags(arn, tags)...)
		}
		return nil
	})
	return out, err
}

// AddTagsToResource adds or overwrites tags (at most 50 per resource).
func (f *DMS) AddTagsToResource(ctx context.Context, in *dms.AddTagsToResourceInput, _ ...func(*dms.Options)) (*dms.AddTagsToResourceOutput, error) {
	err := f.c.call(ctx, dms.ServiceID, "AddTagsToResource", true, func() error {
		tags, err := f.tagsOf(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if len(tags) > 50 {
			return apiError("InvalidParameterValueException", "a resource can have at most 50 tags")
		}
		return nil
	})
	return &dms.AddTagsToResourceOutput{}, err
}

// RemoveTagsFromResource removes tags.
func (f *DMS) RemoveTagsFromResource(ctx context.Context, in *dms.RemoveTagsFromResourceInput, _ ...func(*dms.Options)) (*dms.RemoveTagsFromResourceOutput, error) {
	err := f.c.call(ctx, dms.ServiceID, "RemoveTagsFromResource", true, func() error {
		tags, err := f.tagsOf(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	return &dms.RemoveTagsFromResourceOutput{}, err
}

// --- metrics ---

// registerMetrics scripts CDCLatencySource and CDCLatencyTarget for a
// task, unless a script is already set (a test's own wins). Call with mu
// held.
func (f *DMS) registerMetrics(t *dmsTask) {
	inst, ok := func() (*dmsInstance, bool) {
		for _, in := range state[dmsState](f.c, "dms").Instances {
			if in.ARN == t.InstanceARN {
				return in, true
			}
		}
		return nil, false
	}()
	if !ok {
		return
	}
	dims := map[string]string{"ReplicationInstanceIdentifier": inst.ID, "ReplicationTaskIdentifier": t.ARN[strings.LastIndex(t.ARN, ":")+1:]}
	mf := f.c.CloudWatch().funcs()
	c, arn := f.c, t.ARN
	for _, metric := range []string{"CDCLatencySource", "CDCLatencyTarget"} {
		key := seriesKey("AWS/DMS", metric, dims)
		if _, ok := mf.fns[key]; ok {
			continue
		}
		target := metric == "CDCLatencyTarget"
		mf.fns[key] = func(at time.Time) (float64, bool) {
			var task *dmsTask
			for _, x := range state[dmsState](c, "dms").Tasks {
				if x.ARN == arn {
					task = x
				}
			}
			if task == nil || task.CDCFrom.IsZero() || at.Before(task.CDCFrom) || (!task.StopAt.IsZero() && !at.Before(task.StopAt)) || task.Status == "failed" {
				return 0, false
			}
			return task.latency(at, target), true
		}
		mf.meta[key] = &series{Namespace: "AWS/DMS", Name: metric, Dims: dims}
	}
}

// latency is the task's simulated CDC latency in seconds at a time: the
// one SetTaskLatency set, or by default a few seconds that wobble by the
// minute.
func (t *dmsTask) latency(at time.Time, target bool) float64 {
	wobble := float64((at.Unix()/60)%5) * 0.4
	if target {
		if t.LatencyTarget > 0 {
			return t.LatencyTarget
		}
		return 3 + wobble
	}
	if t.LatencySource > 0 {
		return t.LatencySource
	}
	return 1 + wobble/2
}

// --- test helpers ---

// AddSubnet registers a subnet (its VPC and zone) for subnet groups, for
// tests that do not build subnets in the EC2 fake.
func (f *DMS) AddSubnet(id, vpc, az string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().Subnets[id] = registeredSubnet{VPC: vpc, AZ: az}
}

// SetSourceTables sets the tables of a source endpoint's database; tasks
// from it replicate the ones their mappings select.
func (f *DMS) SetSourceTables(endpointARN string, tables ...DMSTable) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	s := f.st()
	if s.SourceTables == nil {
		s.SourceTables = map[string][]DMSTable{}
	}
	s.SourceTables[endpointARN] = slices.Clone(tables)
}

// SetTaskLatency sets the simulated CDC latency of a task (CDCLatencySource
// and CDCLatencyTarget); zero restores the default.
func (f *DMS) SetTaskLatency(taskARN string, source, target time.Duration) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for _, t := range f.st().Tasks {
		if t.ARN == taskARN {
			t.LatencySource, t.LatencyTarget = source.Seconds(), target.Seconds()
		}
	}
}

// SetValidationFailures sets the number of rows of one table whose
// validation failed.
func (f *DMS) SetValidationFailures(taskARN, schema, table string, n int64) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for _, t := range f.st().Tasks {
		if t.ARN == taskARN {
			if t.ValidationFailures == nil {
				t.ValidationFailures = map[string]int64{}
			}
			t.ValidationFailures[schema+"."+table] = n
		}
	}
}

// FailTask makes a running task fail with message, as a lost source
// connection would.
func (f *DMS) FailTask(taskARN, message string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for _, t := range f.st().Tasks {
		if t.ARN == taskARN {
			t.Status, t.Failure, t.Steps, t.StopAt = "failed", message, nil, f.c.now()
			if !t.LoadDone && !t.LoadEnd.IsZero() && f.c.now().Before(t.LoadEnd) {
				t.LoadLeft = t.LoadEnd.Sub(f.c.now())
			}
		}
	}
}

// TaskStatus returns a task's status by identifier ("" when gone).
func (f *DMS) TaskStatus(id string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if t, ok := f.st().Tasks[strings.ToLower(id)]; ok {
		return t.Status
	}
	return ""
}

// TaskSettings returns a task's effective settings JSON by identifier.
func (f *DMS) TaskSettings(id string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if t, ok := f.st().Tasks[strings.ToLower(id)]; ok {
		return t.Settings
	}
	return ""
}

// InstanceStatus returns an instance's status by identifier ("" when gone).
func (f *DMS) InstanceStatus(id string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if in, ok := f.st().Instances[strings.ToLower(id)]; ok {
		return in.Status
	}
	return ""
}

// ApplyPendingMaintenance applies an instance's pending modifications, as
// its maintenance window would; it reports whether any were pending.
func (f *DMS) ApplyPendingMaintenance(id string) bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	in, ok := f.st().Instances[strings.ToLower(id)]
	if !ok || in.Pending.empty() {
		return false
	}
	in.applyPending()
	return true
}

// EndpointUsesClearText reports whether an endpoint (by identifier) was
// ever given a clear-text password, for assertions.
func (f *DMS) EndpointUsesClearText(id string) bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	ep, ok := f.st().Endpoints[strings.ToLower(id)]
	return ok && ep.ClearText
}

// Resources returns the identifiers of every DMS resource by kind
// ("subnet-group", "instance", "certificate", "endpoint", "task"), for
// assertions.
func (f *DMS) Resources() map[string][]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	s := f.st()
	return map[string][]string{
		"subnet-group": sortedKeys(s.SubnetGroups), "instance": sortedKeys(s.Instances), "certificate": sortedKeys(s.Certificates),
		"endpoint": sortedKeys(s.Endpoints), "task": sortedKeys(s.Tasks),
	}
}
