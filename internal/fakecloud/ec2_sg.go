package fakecloud

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type fakeSG struct {
	ID          string            `json:"id"`
	VPCID       string            `json:"vpcId"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Default     bool              `json:"default,omitempty"`
	Ingress     []fakePerm        `json:"ingress,omitempty"`
	Egress      []fakePerm        `json:"egress,omitempty"`
	Tags        map[string]string `json:"tags"`
}

// fakePerm is one atomic rule: a protocol and port range from (or to) one
// CIDR or one group.
type fakePerm struct {
	Proto   string `json:"proto"`
	From    int32  `json:"from,omitempty"`
	To      int32  `json:"to,omitempty"`
	CIDR    string `json:"cidr,omitempty"`
	GroupID string `json:"groupId,omitempty"`
	Desc    string `json:"desc,omitempty"`
}

func (p fakePerm) same(q fakePerm) bool {
	return p.Proto == q.Proto && p.From == q.From && p.To == q.To && p.CIDR == q.CIDR && p.GroupID == q.GroupID
}

// sgDependents are checks, one per kind of resource that uses security
// groups outside EC2 (Resolver endpoints), returning a description of a
// user of the group or "". Called with mu held.
var sgDependents []func(c *Cloud, groupID string) string

func init() {
	taggable["sg-"] = func(c *Cloud, id string) (map[string]string, bool) {
		g, ok := c.EC2().st().SGs[id]
		if !ok {
			return nil, false
		}
		return g.Tags, true
	}
	vpcDependents = append(vpcDependents, func(c *Cloud, vpcID string) string {
		for _, id := range sortedKeys(c.EC2().st().SGs) {
			g := c.EC2().st().SGs[id]
			if g.VPCID == vpcID && !g.Default {
				return "security group " + id
			}
		}
		return ""
	})
}

func normProto(p string) string {
	switch strings.ToLower(p) {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "all":
		return "-1"
	}
	return strings.ToLower(p)
}

// atomize splits API permissions into atomic rules, validating them.
func (f *EC2) atomize(sg *fakeSG, perms []types.IpPermission) ([]fakePerm, error) {
	var out []fakePerm
	for _, p := range perms {
		proto := normProto(aws.ToString(p.IpProtocol))
		var from, to int32
		switch proto {
		case "-1":
		case "tcp", "udp", "icmp":
			from, to = aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)
			if proto != "icmp" && (from < 0 || to > 65535 || from > to) {
				return nil, apiError("InvalidParameterValue", "Invalid port range %d-%d", from, to)
			}
		default:
			return nil, apiError("InvalidParameterValue", "Invalid value '%s' for IP protocol. Unknown protocol.", proto)
		}
		if len(p.IpRanges) == 0 && len(p.UserIdGroupPairs) == 0 {
			return nil, apiError("MissingParameter", "A source or destination is required")
		}
		for _, r := range p.IpRanges {
			c, err := netip.ParsePrefix(aws.ToString(r.CidrIp))
			if err != nil || !c.Addr().Is4() || c.Masked() != c {
				return nil, apiError("InvalidParameterValue", "CIDR block %s is malformed", aws.ToString(r.CidrIp))
			}
			out = append(out, fakePerm{Proto: proto, From: from, To: to, CIDR: c.String(), Desc: aws.ToString(r.Description)})
		}
		for _, g := range p.UserIdGroupPairs {
			ref, ok := f.st().SGs[aws.ToString(g.GroupId)]
			if !ok {
				return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", aws.ToString(g.GroupId))
			}
			if ref.VPCID != sg.VPCID {
				return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", ref.ID, sg.VPCID)
			}
			out = append(out, fakePerm{Proto: proto, From: from, To: to, GroupID: ref.ID, Desc: aws.ToString(g.Description)})
		}
	}
	return out, nil
}

// permsOut groups atomic rules into API permissions, as EC2 returns them.
func (f *EC2) permsOut(rules []fakePerm) []types.IpPermission {
	var out []types.IpPermission
	for _, r := range rules {
		i := slices.IndexFunc(out, func(p types.IpPermission) bool {
			return aws.ToString(p.IpProtocol) == r.Proto && aws.ToInt32(p.FromPort) == r.From && aws.ToInt32(p.ToPort) == r.To
		})
		if i < 0 {
			p := types.IpPermission{IpProtocol: aws.String(r.Proto)}
			if r.Proto != "-1" {
				p.FromPort, p.ToPort = aws.Int32(r.From), aws.Int32(r.To)
			}
			out = append(out, p)
			i = len(out) - 1
		}
		if r.CIDR != "" {
			out[i].IpRanges = append(out[i].IpRanges, types.IpRange{CidrIp: aws.String(r.CIDR), Description: nilIfEmpty(r.Desc)})
		} else {
			out[i].UserIdGroupPairs = append(out[i].UserIdGroupPairs, types.UserIdGroupPair{GroupId: aws.String(r.GroupID), UserId: aws.String(f.c.account), Description: nilIfEmpty(r.Desc)})
		}
	}
	return out
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (f *EC2) sgOut(g *fakeSG) types.SecurityGroup {
	return types.SecurityGroup{
		GroupId: aws.String(g.ID), GroupName: aws.String(g.Name), Description: aws.String(g.Description), VpcId: aws.String(g.VPCID),
		OwnerId: aws.String(f.c.account), IpPermissions: f.permsOut(g.Ingress), IpPermissionsEgress: f.permsOut(g.Egress),
		SecurityGroupArn: aws.String(f.c.arn("ec2", "security-group/"+g.ID)), Tags: toEC2Tags(g.Tags),
	}
}

func (f *EC2) sg(id string) (*fakeSG, error) {
	g, ok := f.st().SGs[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	return g, nil
}

// CreateSecurityGroup creates a VPC security group with the default
// allow-all egress rule. Names are unique per VPC and may not start with
// "sg-".
func (f *EC2) CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error) {
	var out *ec2.CreateSecurityGroupOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateSecurityGroup", true, func() error {
		name, desc := aws.ToString(in.GroupName), aws.ToString(in.Description)
		switch {
		case name == "" || len(name) > 255:
			return apiError("InvalidParameterValue", "Invalid value '%s' for groupName", name)
		case strings.HasPrefix(strings.ToLower(name), "sg-"):
			return apiError("InvalidParameterValue", "Group names may not be in the format sg-*.")
		case desc == "" || len(desc) > 255:
			return apiError("InvalidParameterValue", "Invalid value for GroupDescription")
		}
		v, err := f.vpc(aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		s := f.st()
		for _, g := range s.SGs {
			if g.VPCID == v.ID && g.Name == name {
				return apiError("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, v.ID)
			}
		}
		g := &fakeSG{ID: f.c.newID("sg"), VPCID: v.ID, Name: name, Description: desc, Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeSecurityGroup)}
		g.Egress = []fakePerm{{Proto: "-1", CIDR: "0.0.0.0/0"}}
		s.SGs[g.ID] = g
		f.c.created(g.ID)
		out = &ec2.CreateSecurityGroupOutput{GroupId: aws.String(g.ID), SecurityGroupArn: aws.String(f.c.arn("ec2", "security-group/"+g.ID)), Tags: toEC2Tags(g.Tags)}
		return nil
	})
	return out, err
}

// DescribeSecurityGroups lists groups by ID and filters (tag:*, group-id,
// group-name, vpc-id), paginated when MaxResults is set.
func (f *EC2) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	var out *ec2.DescribeSecurityGroupsOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeSecurityGroups", false, func() error {
		for _, id := range in.GroupIds {
			if _, err := f.sg(id); err != nil {
				return err
			}
		}
		var all []types.SecurityGroup
		s := f.st()
		for _, id := range sortedKeys(s.SGs) {
			g := s.SGs[id]
			if len(in.GroupIds) > 0 && !slices.Contains(in.GroupIds, id) {
				continue
			}
			ok, err := matchFilters(in.Filters, g.Tags, map[string]string{"group-id": id, "group-name": g.Name, "vpc-id": g.VPCID, "owner-id": f.c.account, "description": g.Description})
			if err != nil {
				return err
			}
			if ok && (len(in.GroupIds) > 0 || !f.c.hidden(id)) {
				all = append(all, f.sgOut(g))
			}
		}
		items, next, err := ec2Page(all, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out = &ec2.DescribeSecurityGroupsOutput{SecurityGroups: items, NextToken: next}
		return nil
	})
	return out, err
}

// authorize adds rules to one direction of a group; an existing rule is
// InvalidPermission.Duplicate and nothing is added.
func (f *EC2) authorize(id string, perms []types.IpPermission, egress bool) error {
	g, err := f.sg(id)
	if err != nil {
		return err
	}
	rules, err := f.atomize(g, perms)
	if err != nil {
		return err
	}
	have := &g.Ingress
	if egress {
		have = &g.Egress
	}
	for _, r := range rules {
		if slices.ContainsFunc(*have, r.same) {
			return apiError("InvalidPermission.Duplicate", "the specified rule \"peer: %s%s, %s, from port: %d, to port: %d, ALLOW\" already exists", r.CIDR, r.GroupID, r.Proto, r.From, r.To)
		}
	}
	*have = append(*have, rules...)
	return nil
}

// revoke removes rules; a rule that does not exist is
// InvalidPermission.NotFound and nothing is removed.
func (f *EC2) revoke(id string, perms []types.IpPermission, egress bool) error {
	g, err := f.sg(id)
	if err != nil {
		return err
	}
	rules, err := f.atomize(g, perms)
	if err != nil {
		return err
	}
	have := &g.Ingress
	if egress {
		have = &g.Egress
	}
	for _, r := range rules {
		if !slices.ContainsFunc(*have, r.same) {
			return apiError("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
	}
	for _, r := range rules {
		*have = slices.DeleteFunc(*have, r.same)
	}
	return nil
}

// AuthorizeSecurityGroupIngress adds inbound rules.
func (f *EC2) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "AuthorizeSecurityGroupIngress", true, func() error {
		return f.authorize(aws.ToString(in.GroupId), in.IpPermissions, false)
	})
	return &ec2.AuthorizeSecurityGroupIngressOutput{Return: aws.Bool(err == nil)}, err
}

// AuthorizeSecurityGroupEgress adds outbound rules.
func (f *EC2) AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "AuthorizeSecurityGroupEgress", true, func() error {
		return f.authorize(aws.ToString(in.GroupId), in.IpPermissions, true)
	})
	return &ec2.AuthorizeSecurityGroupEgressOutput{Return: aws.Bool(err == nil)}, err
}

// RevokeSecurityGroupIngress removes inbound rules.
func (f *EC2) RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "RevokeSecurityGroupIngress", true, func() error {
		return f.revoke(aws.ToString(in.GroupId), in.IpPermissions, false)
	})
	return &ec2.RevokeSecurityGroupIngressOutput{Return: aws.Bool(err == nil)}, err
}

// RevokeSecurityGroupEgress removes outbound rules.
func (f *EC2) RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "RevokeSecurityGroupEgress", true, func() error {
		return f.revoke(aws.ToString(in.GroupId), in.IpPermissions, true)
	})
	return &ec2.RevokeSecurityGroupEgressOutput{Return: aws.Bool(err == nil)}, err
}

// DeleteSecurityGroup deletes a group. The default group cannot be
// deleted; a group referenced by another group's rule, or used by a
// network interface (a Resolver endpoint's), fails with DependencyViolation.
func (f *EC2) DeleteSecurityGroup(ctx context.Context, in *ec2.DeleteSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteSecurityGroup", true, func() error {
		g, err := f.sg(aws.ToString(in.GroupId))
		if err != nil {
			return err
		}
		if g.Default {
			return apiError("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
		}
		s := f.st()
		for _, oid := range sortedKeys(s.SGs) {
			o := s.SGs[oid]
			if oid == g.ID {
				continue
			}
			refs := func(p fakePerm) bool { return p.GroupID == g.ID }
			if slices.ContainsFunc(o.Ingress, refs) || slices.ContainsFunc(o.Egress, refs) {
				return apiError("DependencyViolation", "resource %s has a dependent object (referenced by %s)", g.ID, oid)
			}
		}
		for _, dep := range sgDependents {
			if what := dep(f.c, g.ID); what != "" {
				return apiError("DependencyViolation", "resource %s has a dependent object (%s)", g.ID, what)
			}
		}
		delete(s.SGs, g.ID)
		return nil
	})
	return &ec2.DeleteSecurityGroupOutput{Return: aws.Bool(err == nil), GroupId: in.GroupId}, err
}

// SecurityGroups returns the IDs of the security groups (default ones
// included), for assertions.
func (f *EC2) SecurityGroups() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().SGs)
}
