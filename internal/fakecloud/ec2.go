package fakecloud

import (
	"context"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 is the fake EC2 client. Get it with Cloud.EC2.
type EC2 struct{ c *Cloud }

// EC2 returns the EC2 client of the cloud.
func (c *Cloud) EC2() *EC2 { return &EC2{c: c} }

func init() { register("ec2", func() any { return &ec2State{} }) }

type ec2State struct {
	VPCs map[string]*fakeVPC `json:"vpcs"`
	// AZs are the availability zones of the Region; nil means the default
	// three (a, b, c). SetAvailabilityZones changes them.
	AZs []string `json:"azs,omitempty"`

	Subnets     map[string]*fakeSubnet     `json:"subnets,omitempty"`
	IGWs        map[string]*fakeIGW        `json:"igws,omitempty"`
	Addresses   map[string]*fakeAddress    `json:"addresses,omitempty"`
	NATs        map[string]*fakeNAT        `json:"nats,omitempty"`
	RouteTables map[string]*fakeRouteTable `json:"routeTables,omitempty"`
	SGs         map[string]*fakeSG         `json:"securityGroups,omitempty"`
	FlowLogs    map[string]*fakeFlowLog    `json:"flowLogs,omitempty"`
	VGWs        map[string]*fakeVGW        `json:"vgws,omitempty"`
	CGWs        map[string]*fakeCGW        `json:"cgws,omitempty"`
	VPNs        map[string]*fakeVPN        `json:"vpns,omitempty"`
	// Tokens maps "<operation>/<client token>" to the resource a create
	// with that token made, so a retried create returns it (idempotency).
	Tokens map[string]clientTokenUse `json:"tokens,omitempty"`
	// NATFailures is how many of the next NAT gateways fail.
	NATFailures int `json:"natFailures,omitempty"`
}

// clientTokenUse records one client token: the resource it created and a
// digest of the request, to detect IdempotentParameterMismatch.
type clientTokenUse struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
}

type fakeVPC struct {
	ID           string            `json:"id"`
	CIDR         string            `json:"cidr"`
	State        string            `json:"state"`
	DNSSupport   bool              `json:"dnsSupport"`
	DNSHostnames bool              `json:"dnsHostnames"`
	Tags         map[string]string `json:"tags"`
	Created      time.Time         `json:"created"`
}

// vpcPendingFor is how long a new VPC stays "pending".
const vpcPendingFor = 2 * time.Second

func (f *EC2) st() *ec2State {
	s := state[ec2State](f.c, "ec2")
	if s.VPCs == nil {
		s.VPCs = map[string]*fakeVPC{}
	}
	if s.Subnets == nil {
		s.Subnets = map[string]*fakeSubnet{}
	}
	if s.IGWs == nil {
		s.IGWs = map[string]*fakeIGW{}
	}
	if s.Addresses == nil {
		s.Addresses = map[string]*fakeAddress{}
	}
	if s.NATs == nil {
		s.NATs = map[string]*fakeNAT{}
	}
	if s.RouteTables == nil {
		s.RouteTables = map[string]*fakeRouteTable{}
	}
	if s.SGs == nil {
		s.SGs = map[string]*fakeSG{}
	}
	if s.FlowLogs == nil {
		s.FlowLogs = map[string]*fakeFlowLog{}
	}
	if s.VGWs == nil {
		s.VGWs = map[string]*fakeVGW{}
	}
	if s.CGWs == nil {
		s.CGWs = map[string]*fakeCGW{}
	}
	if s.VPNs == nil {
		s.VPNs = map[string]*fakeVPN{}
	}
	if s.Tokens == nil {
		s.Tokens = map[string]clientTokenUse{}
	}
	return s
}

// SetAvailabilityZones sets the zone names DescribeAvailabilityZones
// returns, to simulate a Region with fewer (or more) zones.
func (f *EC2) SetAvailabilityZones(names ...string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().AZs = names
}

// tagsOf returns the tags of a resource, tagged via TagSpecifications.
func tagsFromSpecs(specs []types.TagSpecification, rt types.ResourceType) map[string]string {
	tags := map[string]string{}
	for _, s := range specs {
		if s.ResourceType == rt {
			for _, t := range s.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
	}
	return tags
}

func toEC2Tags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// matchFilters applies EC2 Describe filters: "tag:<key>", "tag-key" and
// the named fields of the resource. Values may use * and ? wildcards. An
// unknown filter name is an error, as in EC2.
func matchFilters(filters []types.Filter, tags map[string]string, fields map[string]string) (bool, error) {
	for _, flt := range filters {
		name := aws.ToString(flt.Name)
		var have []string
		switch {
		case strings.HasPrefix(name, "tag:"):
			if v, ok := tags[strings.TrimPrefix(name, "tag:")]; ok {
				have = []string{v}
			}
		case name == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		default:
			v, ok := fields[name]
			if !ok {
				return false, apiError("InvalidParameterValue", "The filter '%s' is invalid", name)
			}
			have = []string{v}
		}
		if !anyMatch(flt.Values, have) {
			return false, nil
		}
	}
	return true, nil
}

func anyMatch(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if ok, _ := path.Match(p, v); ok {
				return true
			}
		}
	}
	return false
}

func (v *fakeVPC) state(now time.Time) string {
	if v.State == "pending" && now.Sub(v.Created) >= vpcPendingFor {
		return "available"
	}
	return v.State
}

func (v *fakeVPC) out(now time.Time) types.Vpc {
	return types.Vpc{
		VpcId:     aws.String(v.ID),
		CidrBlock: aws.String(v.CIDR),
		State:     types.VpcState(v.state(now)),
		Tags:      toEC2Tags(v.Tags),
		IsDefault: aws.Bool(false),
		CidrBlockAssociationSet: []types.VpcCidrBlockAssociation{{
			CidrBlock:      aws.String(v.CIDR),
			AssociationId:  aws.String("vpc-cidr-assoc-" + strings.TrimPrefix(v.ID, "vpc-")),
			CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated},
		}},
	}
}

// CreateVpc creates a VPC; the CIDR must be a /16 to /28 network.
func (f *EC2) CreateVpc(ctx context.Context, in *ec2.CreateVpcInput, _ ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error) {
	var out *ec2.CreateVpcOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateVpc", true, func() error {
		p, err := netip.ParsePrefix(aws.ToString(in.CidrBlock))
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return apiError("InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", aws.ToString(in.CidrBlock))
		}
		if p.Bits() < 16 || p.Bits() > 28 {
			return apiError("InvalidVpc.Range", "The CIDR '%s' is invalid.", p)
		}
		s := f.st()
		v := &fakeVPC{ID: f.c.newID("vpc"), CIDR: p.String(), State: "pending", DNSSupport: true, Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeVpc), Created: f.c.now()}
		s.VPCs[v.ID] = v
		// Like EC2, a new VPC comes with its main route table (holding the
		// local route) and its default security group, both untagged.
		main := &fakeRouteTable{ID: f.c.newID("rtb"), VPCID: v.ID, Main: true, Tags: map[string]string{}}
		main.Routes = []fakeRoute{{Dest: v.CIDR, GatewayID: "local", Origin: "CreateRouteTable"}}
		main.Assocs = []fakeRTAssoc{{ID: f.c.newID("rtbassoc"), Main: true}}
		s.RouteTables[main.ID] = main
		def := &fakeSG{ID: f.c.newID("sg"), VPCID: v.ID, Name: "default", Description: "default VPC security group", Default: true, Tags: map[string]string{}}
		def.Ingress = []fakePerm{{Proto: "-1", GroupID: def.ID}}
		def.Egress = []fakePerm{{Proto: "-1", CIDR: "0.0.0.0/0"}}
		s.SGs[def.ID] = def
		f.c.created(v.ID)
		o := v.out(f.c.now())
		out = &ec2.CreateVpcOutput{Vpc: &o}
		return nil
	})
	return out, err
}

// DescribeVpcs lists VPCs by ID and filters (tag:*, tag-key, vpc-id,
// cidr, cidr-block, state, is-default).
func (f *EC2) DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	var out *ec2.DescribeVpcsOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeVpcs", false, func() error {
		s := f.st()
		now := f.c.now()
		out = &ec2.DescribeVpcsOutput{}
		for _, id := range in.VpcIds {
			if _, err := f.vpc(id); err != nil {
				return err
			}
		}
		for _, id := range sortedKeys(s.VPCs) {
			v := s.VPCs[id]
			if len(in.VpcIds) > 0 && !slices.Contains(in.VpcIds, id) {
				continue
			}
			ok, err := matchFilters(in.Filters, v.Tags, map[string]string{"vpc-id": v.ID, "cidr": v.CIDR, "cidr-block": v.CIDR, "cidr-block-association.cidr-block": v.CIDR, "state": v.state(now), "is-default": "false"})
			if err != nil {
				return err
			}
			if !ok || (len(in.VpcIds) == 0 && f.c.hidden(id)) {
				continue
			}
			out.Vpcs = append(out.Vpcs, v.out(now))
		}
		return nil
	})
	return out, err
}

func (f *EC2) vpc(id string) (*fakeVPC, error) {
	v, ok := f.st().VPCs[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	}
	return v, nil
}

// ModifyVpcAttribute sets one DNS attribute per call, as EC2 requires.
func (f *EC2) ModifyVpcAttribute(ctx context.Context, in *ec2.ModifyVpcAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyVpcAttributeOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "ModifyVpcAttribute", true, func() error {
		v, err := f.vpc(aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		set := 0
		if in.EnableDnsSupport != nil {
			set++
			v.DNSSupport = aws.ToBool(in.EnableDnsSupport.Value)
		}
		if in.EnableDnsHostnames != nil {
			set++
			if aws.ToBool(in.EnableDnsHostnames.Value) && !v.DNSSupport {
				return apiError("InvalidParameterCombination", "DNS hostnames require DNS support")
			}
			v.DNSHostnames = aws.ToBool(in.EnableDnsHostnames.Value)
		}
		if set != 1 {
			return apiError("InvalidParameterCombination", "Exactly one attribute may be modified per request")
		}
		return nil
	})
	return &ec2.ModifyVpcAttributeOutput{}, err
}

// DescribeVpcAttribute reads enableDnsSupport or enableDnsHostnames.
func (f *EC2) DescribeVpcAttribute(ctx context.Context, in *ec2.DescribeVpcAttributeInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error) {
	var out *ec2.DescribeVpcAttributeOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeVpcAttribute", false, func() error {
		v, err := f.vpc(aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		out = &ec2.DescribeVpcAttributeOutput{VpcId: aws.String(v.ID)}
		switch in.Attribute {
		case types.VpcAttributeNameEnableDnsSupport:
			out.EnableDnsSupport = &types.AttributeBooleanValue{Value: aws.Bool(v.DNSSupport)}
		case types.VpcAttributeNameEnableDnsHostnames:
			out.EnableDnsHostnames = &types.AttributeBooleanValue{Value: aws.Bool(v.DNSHostnames)}
		default:
			return apiError("InvalidParameterValue", "attribute %q not supported by the fake", in.Attribute)
		}
		return nil
	})
	return out, err
}

// DeleteVpc deletes a VPC. Dependents registered by other EC2 resources
// (see vpcDependents) make it fail with DependencyViolation.
func (f *EC2) DeleteVpc(ctx context.Context, in *ec2.DeleteVpcInput, _ ...func(*ec2.Options)) (*ec2.DeleteVpcOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteVpc", true, func() error {
		id := aws.ToString(in.VpcId)
		if _, err := f.vpc(id); err != nil {
			return err
		}
		for _, dep := range vpcDependents {
			if what := dep(f.c, id); what != "" {
				return apiError("DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted (%s).", id, what)
			}
		}
		s := f.st()
		delete(s.VPCs, id)
		for rid, rt := range s.RouteTables { // the main route table goes with the VPC
			if rt.VPCID == id {
				delete(s.RouteTables, rid)
			}
		}
		for gid, g := range s.SGs { // and so does the default security group
			if g.VPCID == id {
				delete(s.SGs, gid)
			}
		}
		for fid, fl := range s.FlowLogs { // and its flow logs
			if fl.ResourceID == id {
				delete(s.FlowLogs, fid)
			}
		}
		return nil
	})
	return &ec2.DeleteVpcOutput{}, err
}

// vpcDependents are checks, one per kind of resource that lives in a VPC,
// returning a description of a dependent of the VPC or "". Each EC2
// resource file adds its own. Called with mu held.
var vpcDependents []func(c *Cloud, vpcID string) string

// taggable resolves a resource ID to its tag map for CreateTags and
// DeleteTags. Each EC2 resource file adds its own prefix. Called with mu
// held.
var taggable = map[string]func(c *Cloud, id string) (map[string]string, bool){
	"vpc-": func(c *Cloud, id string) (map[string]string, bool) {
		v, ok := c.EC2().st().VPCs[id]
		if !ok {
			return nil, false
		}
		return v.Tags, true
	},
}

func (f *EC2) tagsFor(id string) (map[string]string, error) {
	for prefix, get := range taggable {
		if strings.HasPrefix(id, prefix) {
			if tags, ok := get(f.c, id); ok && !f.c.hidden(id) {
				return tags, nil
			}
			return nil, apiError("Invalid"+idKind(prefix)+".NotFound", "The ID '%s' does not exist", id)
		}
	}
	return nil, apiError("InvalidID", "The ID '%s' is not valid", id)
}

// idKind maps an ID prefix to the word EC2 uses in its NotFound codes.
func idKind(prefix string) string {
	switch prefix {
	case "vpc-":
		return "VpcID"
	case "subnet-":
		return "SubnetID"
	case "igw-":
		return "InternetGatewayID"
	case "nat-":
		return "NatGatewayID"
	case "rtb-":
		return "RouteTableID"
	case "sg-":
		return "GroupId"
	case "vgw-":
		return "VpnGatewayID"
	case "cgw-":
		return "CustomerGatewayID"
	case "vpn-":
		return "VpnConnectionID"
	case "eipalloc-":
		return "AllocationID"
	case "fl-":
		return "FlowLogId"
	case "rtbassoc-":
		return "AssociationID"
	}
	return "ResourceID"
}

// CreateTags adds or overwrites tags on resources.
func (f *EC2) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "CreateTags", true, func() error {
		var all []map[string]string
		for _, id := range in.Resources {
			tags, err := f.tagsFor(id)
			if err != nil {
				return err
			}
			all = append(all, tags)
		}
		for _, tags := range all {
			for _, t := range in.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if len(tags) > 50 {
				return apiError("TagLimitExceeded", "a resource can have at most 50 tags")
			}
		}
		return nil
	})
	return &ec2.CreateTagsOutput{}, err
}

// DeleteTags removes tags from resources.
func (f *EC2) DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteTags", true, func() error {
		for _, id := range in.Resources {
			tags, err := f.tagsFor(id)
			if err != nil {
				return err
			}
			for _, t := range in.Tags {
				delete(tags, aws.ToString(t.Key))
			}
		}
		return nil
	})
	return &ec2.DeleteTagsOutput{}, err
}

// DescribeAvailabilityZones lists the Region's zones (all "available").
func (f *EC2) DescribeAvailabilityZones(ctx context.Context, in *ec2.DescribeAvailabilityZonesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error) {
	var out *ec2.DescribeAvailabilityZonesOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeAvailabilityZones", false, func() error {
		names := f.st().AZs
		if names == nil {
			names = []string{f.c.region + "a", f.c.region + "b", f.c.region + "c"}
		}
		out = &ec2.DescribeAvailabilityZonesOutput{}
		for i, n := range names {
			az := types.AvailabilityZone{ZoneName: aws.String(n), ZoneId: aws.String(abbrev(f.c.region) + "-az" + string(rune('1'+i))), RegionName: aws.String(f.c.region), State: types.AvailabilityZoneStateAvailable, ZoneType: aws.String("availability-zone")}
			ok, err := matchFilters(in.Filters, nil, map[string]string{"zone-name": n, "state": "available", "zone-type": "availability-zone", "region-name": f.c.region, "opt-in-status": "opt-in-not-required"})
			if err != nil {
				return err
			}
			if ok && (len(in.ZoneNames) == 0 || slices.Contains(in.ZoneNames, n)) {
				out.AvailabilityZones = append(out.AvailabilityZones, az)
			}
		}
		return nil
	})
	return out, err
}

func abbrev(region string) string {
	parts := strings.Split(region, "-")
	var b strings.Builder
	for i, p := range parts {
		if i == len(parts)-1 {
			b.WriteString(p)
		} else if p != "" {
			b.WriteByte(p[0])
			if i == 0 {
				b.WriteByte(p[1])
			}
		}
	}
	return b.String()
}

// Vpcs returns the IDs of the VPCs in the cloud, for assertions.
func (f *EC2) Vpcs() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().VPCs)
}

// VpcTags returns a copy of a VPC's tags, or nil when it does not exist.
func (f *EC2) VpcTags(id string) map[string]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	v, ok := f.st().VPCs[id]
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, val := range v.Tags {
		out[k] = val
	}
	return out
}
