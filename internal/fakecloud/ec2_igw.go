package fakecloud

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type fakeIGW struct {
	ID    string            `json:"id"`
	VPCID string            `json:"vpcId,omitempty"` // attached VPC, "" when detached
	Tags  map[string]string `json:"tags"`
}

func init() {
	taggable["igw-"] = func(c *Cloud, id string) (map[string]string, bool) {
		g, ok := c.EC2().st().IGWs[id]
		if !ok {
			return nil, false
		}
		return g.Tags, true
	}
	vpcDependents = append(vpcDependents, func(c *Cloud, vpcID string) string {
		for _, id := range sortedKeys(c.EC2().st().IGWs) {
			if c.EC2().st().IGWs[id].VPCID == vpcID {
				return "internet gateway " + id + " attached"
			}
		}
		return ""
	})
}

func (g *fakeIGW) out(c *Cloud) types.InternetGateway {
	o := types.InternetGateway{InternetGatewayId: aws.String(g.ID), OwnerId: aws.String(c.account), Tags: toEC2Tags(g.Tags)}
	if g.VPCID != "" {
		o.Attachments = []types.InternetGatewayAttachment{{VpcId: aws.String(g.VPCID), State: types.AttachmentStatus("available")}}
	}
	return o
}

func (f *EC2) igw(id string) (*fakeIGW, error) {
	g, ok := f.st().IGWs[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	}
	return g, nil
}

// CreateInternetGateway creates a detached internet gateway.
func (f *EC2) CreateInternetGateway(ctx context.Context, in *ec2.CreateInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateInternetGatewayOutput, error) {
	var out *ec2.CreateInternetGatewayOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateInternetGateway", true, func() error {
		g := &fakeIGW{ID: f.c.newID("igw"), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeInternetGateway)}
		f.st().IGWs[g.ID] = g
		f.c.created(g.ID)
		o := g.out(f.c)
		out = &ec2.CreateInternetGatewayOutput{InternetGateway: &o}
		return nil
	})
	return out, err
}

// DescribeInternetGateways lists internet gateways by ID and filters
// (tag:*, internet-gateway-id, attachment.vpc-id, attachment.state).
func (f *EC2) DescribeInternetGateways(ctx context.Context, in *ec2.DescribeInternetGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	var out *ec2.DescribeInternetGatewaysOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeInternetGateways", false, func() error {
		for _, id := range in.InternetGatewayIds {
			if _, err := f.igw(id); err != nil {
				return err
			}
		}
		out = &ec2.DescribeInternetGatewaysOutput{}
		s := f.st()
		for _, id := range sortedKeys(s.IGWs) {
			g := s.IGWs[id]
			if len(in.InternetGatewayIds) > 0 && !slices.Contains(in.InternetGatewayIds, id) {
				continue
			}
			state := ""
			if g.VPCID != "" {
				state = "available"
			}
			ok, err := matchFilters(in.Filters, g.Tags, map[string]string{"internet-gateway-id": g.ID, "attachment.vpc-id": g.VPCID, "attachment.state": state, "owner-id": f.c.account})
			if err != nil {
				return err
			}
			if ok && (len(in.InternetGatewayIds) > 0 || !f.c.hidden(id)) {
				out.InternetGateways = append(out.InternetGateways, g.out(f.c))
			}
		}
		return nil
	})
	return out, err
}

// AttachInternetGateway attaches a gateway to a VPC. A gateway attaches
// to one VPC and a VPC holds one internet gateway.
func (f *EC2) AttachInternetGateway(ctx context.Context, in *ec2.AttachInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.AttachInternetGatewayOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "AttachInternetGateway", true, func() error {
		g, err := f.igw(aws.ToString(in.InternetGatewayId))
		if err != nil {
			return err
		}
		v, err := f.vpc(aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		if g.VPCID != "" {
			return apiError("Resource.AlreadyAssociated", "resource %s is already attached to network %s", g.ID, g.VPCID)
		}
		for _, o := range f.st().IGWs {
			if o.VPCID == v.ID {
				return apiError("InvalidParameterValue", "Network %s already has an internet gateway attached", v.ID)
			}
		}
		g.VPCID = v.ID
		return nil
	})
	return &ec2.AttachInternetGatewayOutput{}, err
}

// DetachInternetGateway detaches a gateway. While an Elastic IP address
// in the VPC is mapped (a NAT gateway's) it fails with
// DependencyViolation, as in EC2.
func (f *EC2) DetachInternetGateway(ctx context.Context, in *ec2.DetachInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.DetachInternetGatewayOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DetachInternetGateway", true, func() error {
		g, err := f.igw(aws.ToString(in.InternetGatewayId))
		if err != nil {
			return err
		}
		vpc := aws.ToString(in.VpcId)
		if g.VPCID == "" || g.VPCID != vpc {
			return apiError("Gateway.NotAttached", "resource %s is not attached to network %s", g.ID, vpc)
		}
		if f.mappedAddress(vpc) != "" {
			return apiError("DependencyViolation", "Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", vpc)
		}
		g.VPCID = ""
		return nil
	})
	return &ec2.DetachInternetGatewayOutput{}, err
}

// DeleteInternetGateway deletes a detached gateway; an attached one fails
// with DependencyViolation.
func (f *EC2) DeleteInternetGateway(ctx context.Context, in *ec2.DeleteInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteInternetGatewayOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteInternetGateway", true, func() error {
		g, err := f.igw(aws.ToString(in.InternetGatewayId))
		if err != nil {
			return err
		}
		if g.VPCID != "" {
			return apiError("DependencyViolation", "The internetGateway '%s' has dependencies and cannot be deleted.", g.ID)
		}
		delete(f.st().IGWs, g.ID)
		return nil
	})
	return &ec2.DeleteInternetGatewayOutput{}, err
}

// InternetGateways returns the IDs of the internet gateways, for
// assertions.
func (f *EC2) InternetGateways() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().IGWs)
}
