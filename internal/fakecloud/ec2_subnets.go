package fakecloud

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type fakeSubnet struct {
	ID          string            `json:"id"`
	VPCID       string            `json:"vpcId"`
	CIDR        string            `json:"cidr"`
	AZ          string            `json:"az"`
	MapPublicIP bool              `json:"mapPublicIp"`
	Tags        map[string]string `json:"tags"`
	Created     time.Time         `json:"created"`
}

// subnetPendingFor is how long a new subnet stays "pending".
const subnetPendingFor = time.Second

// subnetDependents are checks, one per kind of resource with a network
// interface in a subnet (NAT gateways, Resolver endpoints), returning a
// description of a dependent of the subnet or "". Called with mu held.
var subnetDependents []func(c *Cloud, subnetID string) string

func init() {
	taggable["subnet-"] = func(c *Cloud, id string) (map[string]string, bool) {
		s, ok := c.EC2().st().Subnets[id]
		if !ok {
			return nil, false
		}
		return s.Tags, true
	}
	vpcDependents = append(vpcDependents, func(c *Cloud, vpcID string) string {
		for _, id := range sortedKeys(c.EC2().st().Subnets) {
			if c.EC2().st().Subnets[id].VPCID == vpcID {
				return "subnet " + id
			}
		}
		return ""
	})
}

func (s *fakeSubnet) state(c *Cloud) string {
	if c.elapsed(s.Created, subnetPendingFor) {
		return "available"
	}
	return "pending"
}

func (s *fakeSubnet) out(c *Cloud) types.Subnet {
	p := netip.MustParsePrefix(s.CIDR)
	free := int32(1)<<(32-p.Bits()) - 5 // AWS reserves five addresses per subnet
	return types.Subnet{
		SubnetId: aws.String(s.ID), VpcId: aws.String(s.VPCID), CidrBlock: aws.String(s.CIDR),
		AvailabilityZone: aws.String(s.AZ), AvailabilityZoneId: aws.String(c.azID(s.AZ)),
		State: types.SubnetState(s.state(c)), MapPublicIpOnLaunch: aws.Bool(s.MapPublicIP),
		AvailableIpAddressCount: aws.Int32(free), DefaultForAz: aws.Bool(false),
		SubnetArn: aws.String(c.arn("ec2", "subnet/"+s.ID)), OwnerId: aws.String(c.account),
		Tags: toEC2Tags(s.Tags),
	}
}

// azNames returns the Region's zone names. Call with mu held.
func (c *Cloud) azNames() []string {
	if names := c.EC2().st().AZs; names != nil {
		return names
	}
	return []string{c.region + "a", c.region + "b", c.region + "c"}
}

func (c *Cloud) azID(name string) string {
	i := slices.Index(c.azNames(), name)
	return abbrev(c.region) + "-az" + string(rune('1'+max(i, 0)))
}

func (f *EC2) subnet(id string) (*fakeSubnet, error) {
	s, ok := f.st().Subnets[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	}
	return s, nil
}

// CreateSubnet creates a subnet: the CIDR must be a /16 to /28 inside the
// VPC's block that overlaps no other subnet of the VPC, in a zone of the
// Region.
func (f *EC2) CreateSubnet(ctx context.Context, in *ec2.CreateSubnetInput, _ ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error) {
	var out *ec2.CreateSubnetOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateSubnet", true, func() error {
		v, err := f.vpc(aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		p, err := netip.ParsePrefix(aws.ToString(in.CidrBlock))
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return apiError("InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", aws.ToString(in.CidrBlock))
		}
		vp := netip.MustParsePrefix(v.CIDR)
		if p.Bits() < 16 || p.Bits() > 28 || p.Bits() < vp.Bits() || !vp.Contains(p.Addr()) {
			return apiError("InvalidSubnet.Range", "The CIDR '%s' is invalid.", p)
		}
		az := aws.ToString(in.AvailabilityZone)
		if az == "" {
			az = f.c.azNames()[0]
		}
		if !slices.Contains(f.c.azNames(), az) {
			return apiError("InvalidParameterValue", "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %v.", az, f.c.azNames())
		}
		s := f.st()
		for _, id := range sortedKeys(s.Subnets) {
			o := s.Subnets[id]
			if o.VPCID == v.ID && prefixOverlaps(netip.MustParsePrefix(o.CIDR), p) {
				return apiError("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", p)
			}
		}
		sn := &fakeSubnet{ID: f.c.newID("subnet"), VPCID: v.ID, CIDR: p.String(), AZ: az, Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeSubnet), Created: f.c.now()}
		s.Subnets[sn.ID] = sn
		f.c.created(sn.ID)
		o := sn.out(f.c)
		out = &ec2.CreateSubnetOutput{Subnet: &o}
		return nil
	})
	return out, err
}

// DescribeSubnets lists subnets by ID and filters (tag:*, tag-key,
// subnet-id, vpc-id, cidr-block, availability-zone, state), paginated
// when MaxResults is set.
func (f *EC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	var out *ec2.DescribeSubnetsOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeSubnets", false, func() error {
		for _, id := range in.SubnetIds {
			if _, err := f.subnet(id); err != nil {
				return err
			}
		}
		var all []types.Subnet
		s := f.st()
		for _, id := range sortedKeys(s.Subnets) {
			sn := s.Subnets[id]
			if len(in.SubnetIds) > 0 && !slices.Contains(in.SubnetIds, id) {
				continue
			}
			ok, err := matchFilters(in.Filters, sn.Tags, map[string]string{
				"subnet-id": sn.ID, "vpc-id": sn.VPCID, "cidr-block": sn.CIDR, "cidrBlock": sn.CIDR, "cidr": sn.CIDR,
				"availability-zone": sn.AZ, "availabilityZone": sn.AZ, "state": sn.state(f.c),
				"map-public-ip-on-launch": boolStr(sn.MapPublicIP), "default-for-az": "false",
			})
			if err != nil {
				return err
			}
			if !ok || (len(in.SubnetIds) == 0 && f.c.hidden(id)) {
				continue
			}
			all = append(all, sn.out(f.c))
		}
		items, next, err := ec2Page(all, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out = &ec2.DescribeSubnetsOutput{Subnets: items, NextToken: next}
		return nil
	})
	return out, err
}

// ModifySubnetAttribute sets MapPublicIpOnLaunch.
func (f *EC2) ModifySubnetAttribute(ctx context.Context, in *ec2.ModifySubnetAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifySubnetAttributeOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "ModifySubnetAttribute", true, func() error {
		sn, err := f.subnet(aws.ToString(in.SubnetId))
		if err != nil {
			return err
		}
		if in.MapPublicIpOnLaunch == nil {
			return apiError("InvalidParameterValue", "only MapPublicIpOnLaunch is supported by the fake")
		}
		sn.MapPublicIP = aws.ToBool(in.MapPublicIpOnLaunch.Value)
		return nil
	})
	return &ec2.ModifySubnetAttributeOutput{}, err
}

// DeleteSubnet deletes a subnet. A subnet that still holds network
// interfaces (NAT gateways, Resolver endpoints) fails with
// DependencyViolation; its route table association goes with it.
func (f *EC2) DeleteSubnet(ctx context.Context, in *ec2.DeleteSubnetInput, _ ...func(*ec2.Options)) (*ec2.DeleteSubnetOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteSubnet", true, func() error {
		id := aws.ToString(in.SubnetId)
		if _, err := f.subnet(id); err != nil {
			return err
		}
		for _, dep := range subnetDependents {
			if what := dep(f.c, id); what != "" {
				return apiError("DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted (%s).", id, what)
			}
		}
		s := f.st()
		delete(s.Subnets, id)
		for _, rt := range s.RouteTables {
			rt.Assocs = slices.DeleteFunc(rt.Assocs, func(a fakeRTAssoc) bool { return a.SubnetID == id })
		}
		return nil
	})
	return &ec2.DeleteSubnetOutput{}, err
}

// Subnets returns the IDs of the subnets in the cloud, for assertions.
func (f *EC2) Subnets() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Subnets)
}
