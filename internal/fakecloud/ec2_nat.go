package fakecloud

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type fakeAddress struct {
	ID       string            `json:"id"`
	PublicIP string            `json:"publicIp"`
	NATID    string            `json:"natId,omitempty"` // the NAT gateway holding it
	AssocID  string            `json:"assocId,omitempty"`
	ENI      string            `json:"eni,omitempty"`
	Tags     map[string]string `json:"tags"`
}

type fakeNAT struct {
	ID        string            `json:"id"`
	VPCID     string            `json:"vpcId"`
	SubnetID  string            `json:"subnetId"`
	AllocID   string            `json:"allocationId"`
	ENI       string            `json:"eni"`
	PrivateIP string            `json:"privateIp"`
	Tags      map[string]string `json:"tags"`
	Created   time.Time         `json:"created"`
	// FailCode, when set, makes the gateway go from pending to failed.
	FailCode string    `json:"failCode,omitempty"`
	FailMsg  string    `json:"failMsg,omitempty"`
	Deleted  time.Time `json:"deleted,omitzero"`
}

// NAT gateway timings on the fake clock.
const (
	natPendingFor  = 2 * time.Minute
	natFailAfter   = 30 * time.Second
	natDeletingFor = time.Minute
	natVisibleFor  = time.Hour // a deleted gateway stays visible this long, as in EC2
)

func init() {
	taggable["eipalloc-"] = func(c *Cloud, id string) (map[string]string, bool) {
		a, ok := c.EC2().st().Addresses[id]
		if !ok {
			return nil, false
		}
		return a.Tags, true
	}
	taggable["nat-"] = func(c *Cloud, id string) (map[string]string, bool) {
		n, ok := c.EC2().st().NATs[id]
		if !ok || n.state(c) == "deleted" {
			return nil, false
		}
		return n.Tags, true
	}
	subnetDependents = append(subnetDependents, func(c *Cloud, subnetID string) string {
		for _, id := range sortedKeys(c.EC2().st().NATs) {
			n := c.EC2().st().NATs[id]
			if n.SubnetID == subnetID && n.holdsENI(c) {
				return "NAT gateway " + id
			}
		}
		return ""
	})
}

func (n *fakeNAT) state(c *Cloud) string {
	switch {
	case !n.Deleted.IsZero() && c.elapsed(n.Deleted, natDeletingFor):
		return "deleted"
	case !n.Deleted.IsZero():
		return "deleting"
	case n.FailCode != "" && c.elapsed(n.Created, natFailAfter):
		return "failed"
	case n.FailCode == "" && c.elapsed(n.Created, natPendingFor):
		return "available"
	}
	return "pending"
}

// failed reports whether the gateway failed (before any delete).
func (n *fakeNAT) failed(c *Cloud) bool {
	if n.FailCode == "" {
		return false
	}
	at := n.Created.Add(natFailAfter)
	return !n.Deleted.IsZero() && !n.Deleted.Before(at) || n.Deleted.IsZero() && c.elapsed(n.Created, natFailAfter)
}

// holdsENI reports whether the gateway still has its network interface
// (and so its Elastic IP): pending, available or deleting, unless it
// failed (a failed gateway releases its interface and address).
func (n *fakeNAT) holdsENI(c *Cloud) bool {
	if n.failed(c) {
		return false
	}
	switch n.state(c) {
	case "pending", "available", "deleting":
		return true
	}
	return false
}

func (n *fakeNAT) out(c *Cloud) types.NatGateway {
	state := n.state(c)
	o := types.NatGateway{
		NatGatewayId: aws.String(n.ID), SubnetId: aws.String(n.SubnetID), VpcId: aws.String(n.VPCID),
		State: types.NatGatewayState(state), CreateTime: aws.Time(n.Created), ConnectivityType: types.ConnectivityTypePublic,
		Tags: toEC2Tags(n.Tags),
	}
	if !n.Deleted.IsZero() {
		o.DeleteTime = aws.Time(n.Deleted)
	}
	if state == "failed" {
		o.FailureCode, o.FailureMessage = aws.String(n.FailCode), aws.String(n.FailMsg)
	}
	if a, ok := c.EC2().st().Addresses[n.AllocID]; ok && n.holdsENI(c) {
		o.NatGatewayAddresses = []types.NatGatewayAddress{{
			AllocationId: aws.String(n.AllocID), PublicIp: aws.String(a.PublicIP), NetworkInterfaceId: aws.String(n.ENI),
			PrivateIp: aws.String(n.PrivateIP), IsPrimary: aws.Bool(true), Status: types.NatGatewayAddressStatusSucceeded,
		}}
	}
	return o
}

// associated reports whether the address is mapped to a live NAT gateway.
func (a *fakeAddress) associated(c *Cloud) bool {
	n, ok := c.EC2().st().NATs[a.NATID]
	return ok && n.holdsENI(c)
}

func (a *fakeAddress) out(c *Cloud) types.Address {
	o := types.Address{
		AllocationId: aws.String(a.ID), PublicIp: aws.String(a.PublicIP), Domain: types.DomainTypeVpc,
		NetworkBorderGroup: aws.String(c.region), PublicIpv4Pool: aws.String("amazon"), Tags: toEC2Tags(a.Tags),
	}
	if a.associated(c) {
		n := c.EC2().st().NATs[a.NATID]
		o.AssociationId, o.NetworkInterfaceId, o.PrivateIpAddress = aws.String(a.AssocID), aws.String(n.ENI), aws.String(n.PrivateIP)
		o.NetworkInterfaceOwnerId = aws.String(c.account)
	}
	return o
}

// mappedAddress returns an Elastic IP mapped to a live NAT gateway of the
// VPC, or "". Call with mu held.
func (f *EC2) mappedAddress(vpcID string) string {
	s := f.st()
	for _, id := range sortedKeys(s.Addresses) {
		a := s.Addresses[id]
		if a.associated(f.c) && s.NATs[a.NATID].VPCID == vpcID {
			return id
		}
	}
	return ""
}

func (f *EC2) address(id string) (*fakeAddress, error) {
	a, ok := f.st().Addresses[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
	}
	return a, nil
}

// AllocateAddress allocates a VPC Elastic IP address.
func (f *EC2) AllocateAddress(ctx context.Context, in *ec2.AllocateAddressInput, _ ...func(*ec2.Options)) (*ec2.AllocateAddressOutput, error) {
	var out *ec2.AllocateAddressOutput
	err := f.c.call(ctx, ec2.ServiceID, "AllocateAddress", true, func() error {
		id := f.c.newID("eipalloc")
		x := mix(f.c.seq)
		a := &fakeAddress{ID: id, PublicIP: fmt.Sprintf("52.%d.%d.%d", 1+x%254, (x>>8)%256, 1+(x>>16)%254), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeElasticIp)}
		f.st().Addresses[id] = a
		f.c.created(id)
		out = &ec2.AllocateAddressOutput{AllocationId: aws.String(id), PublicIp: aws.String(a.PublicIP), Domain: types.DomainTypeVpc, NetworkBorderGroup: aws.String(f.c.region), PublicIpv4Pool: aws.String("amazon")}
		return nil
	})
	return out, err
}

// DescribeAddresses lists Elastic IPs by allocation ID and filters (tag:*,
// allocation-id, association-id, domain, public-ip, network-interface-id).
func (f *EC2) DescribeAddresses(ctx context.Context, in *ec2.DescribeAddressesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error) {
	var out *ec2.DescribeAddressesOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeAddresses", false, func() error {
		for _, id := range in.AllocationIds {
			if _, err := f.address(id); err != nil {
				return err
			}
		}
		out = &ec2.DescribeAddressesOutput{}
		s := f.st()
		for _, id := range sortedKeys(s.Addresses) {
			a := s.Addresses[id]
			if len(in.AllocationIds) > 0 && !slices.Contains(in.AllocationIds, id) {
				continue
			}
			o := a.out(f.c)
			ok, err := matchFilters(in.Filters, a.Tags, map[string]string{
				"allocation-id": id, "association-id": aws.ToString(o.AssociationId), "domain": "vpc",
				"public-ip": a.PublicIP, "network-interface-id": aws.ToString(o.NetworkInterfaceId),
			})
			if err != nil {
				return err
			}
			if ok && (len(in.AllocationIds) > 0 || !f.c.hidden(id)) {
				out.Addresses = append(out.Addresses, o)
			}
		}
		return nil
	})
	return out, err
}

// ReleaseAddress releases an Elastic IP; one still mapped to a NAT gateway
// fails with InvalidIPAddress.InUse.
func (f *EC2) ReleaseAddress(ctx context.Context, in *ec2.ReleaseAddressInput, _ ...func(*ec2.Options)) (*ec2.ReleaseAddressOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "ReleaseAddress", true, func() error {
		a, err := f.address(aws.ToString(in.AllocationId))
		if err != nil {
			return err
		}
		if a.associated(f.c) {
			return apiError("InvalidIPAddress.InUse", "Address %s is in use.", a.PublicIP)
		}
		delete(f.st().Addresses, a.ID)
		return nil
	})
	return &ec2.ReleaseAddressOutput{}, err
}

func (f *EC2) nat(id string) (*fakeNAT, error) {
	n, ok := f.st().NATs[id]
	if !ok || f.c.hidden(id) || f.c.elapsed(n.Deleted, natVisibleFor) && !n.Deleted.IsZero() {
		return nil, apiError("NatGatewayNotFound", "NAT gateway %s was not found", id)
	}
	return n, nil
}

// CreateNatGateway creates a public NAT gateway in a subnet with an
// unassociated Elastic IP. It goes pending → available after two minutes
// of fake time (or → failed, see FailNextNatGateways). A retried create
// with the same ClientToken returns the same gateway.
func (f *EC2) CreateNatGateway(ctx context.Context, in *ec2.CreateNatGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateNatGatewayOutput, error) {
	var out *ec2.CreateNatGatewayOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateNatGateway", true, func() error {
		dg := digest(aws.ToString(in.SubnetId), aws.ToString(in.AllocationId))
		prev, err := f.tokenCreated("CreateNatGateway", in.ClientToken, dg)
		if err != nil {
			return err
		}
		s := f.st()
		if n, ok := s.NATs[prev]; ok {
			o := n.out(f.c)
			out = &ec2.CreateNatGatewayOutput{NatGateway: &o, ClientToken: in.ClientToken}
			return nil
		} else if prev != "" {
			// EC2 remembers a token longer than it lists a deleted
			// gateway: the same request answers with the gone gateway.
			out = &ec2.CreateNatGatewayOutput{NatGateway: &types.NatGateway{NatGatewayId: aws.String(prev), State: types.NatGatewayStateDeleted, SubnetId: in.SubnetId}, ClientToken: in.ClientToken}
			return nil
		}
		if in.ConnectivityType != "" && in.ConnectivityType != types.ConnectivityTypePublic {
			return apiError("InvalidParameterValue", "only public NAT gateways are supported by the fake")
		}
		sn, err := f.subnet(aws.ToString(in.SubnetId))
		if err != nil {
			return err
		}
		if in.AllocationId == nil {
			return apiError("MissingParameter", "The request must contain the parameter AllocationId for a public NAT gateway")
		}
		a, err := f.address(aws.ToString(in.AllocationId))
		if err != nil {
			return err
		}
		if a.associated(f.c) {
			return apiError("Resource.AlreadyAssociated", "Elastic IP address [%s] is already associated", a.ID)
		}
		n := &fakeNAT{
			ID: f.c.newID("nat"), VPCID: sn.VPCID, SubnetID: sn.ID, AllocID: a.ID, ENI: f.c.newID("eni"),
			Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeNatgateway), Created: f.c.now(),
		}
		n.PrivateIP = hostIn(sn.CIDR, 10+len(s.NATs))
		if s.NATFailures > 0 {
			s.NATFailures--
			n.FailCode, n.FailMsg = "InsufficientFreeAddressesInSubnet", "Subnet "+sn.ID+" has insufficient free addresses to create this NAT gateway"
		}
		a.NATID, a.AssocID = n.ID, f.c.newID("eipassoc")
		s.NATs[n.ID] = n
		f.recordToken("CreateNatGateway", in.ClientToken, dg, n.ID)
		f.c.created(n.ID)
		o := n.out(f.c)
		out = &ec2.CreateNatGatewayOutput{NatGateway: &o, ClientToken: in.ClientToken}
		return nil
	})
	return out, err
}

// DescribeNatGateways lists NAT gateways by ID and filters (tag:*,
// nat-gateway-id, state, subnet-id, vpc-id), paginated when MaxResults is
// set. Deleted gateways stay visible for an hour.
func (f *EC2) DescribeNatGateways(ctx context.Context, in *ec2.DescribeNatGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	var out *ec2.DescribeNatGatewaysOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeNatGateways", false, func() error {
		for _, id := range in.NatGatewayIds {
			if _, err := f.nat(id); err != nil {
				return err
			}
		}
		var all []types.NatGateway
		s := f.st()
		for _, id := range sortedKeys(s.NATs) {
			n := s.NATs[id]
			if !n.Deleted.IsZero() && f.c.elapsed(n.Deleted, natVisibleFor) {
				delete(s.NATs, id)
				continue
			}
			if len(in.NatGatewayIds) > 0 && !slices.Contains(in.NatGatewayIds, id) {
				continue
			}
			ok, err := matchFilters(in.Filter, n.Tags, map[string]string{"nat-gateway-id": id, "state": n.state(f.c), "subnet-id": n.SubnetID, "vpc-id": n.VPCID})
			if err != nil {
				return err
			}
			if ok && (len(in.NatGatewayIds) > 0 || !f.c.hidden(id)) {
				all = append(all, n.out(f.c))
			}
		}
		items, next, err := ec2Page(all, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out = &ec2.DescribeNatGatewaysOutput{NatGateways: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteNatGateway starts deleting a NAT gateway (deleting → deleted after
// a minute); its Elastic IP is released from it once deleted.
func (f *EC2) DeleteNatGateway(ctx context.Context, in *ec2.DeleteNatGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteNatGatewayOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteNatGateway", true, func() error {
		n, err := f.nat(aws.ToString(in.NatGatewayId))
		if err != nil {
			return err
		}
		if n.Deleted.IsZero() {
			n.Deleted = f.c.now()
		}
		return nil
	})
	return &ec2.DeleteNatGatewayOutput{NatGatewayId: in.NatGatewayId}, err
}

// FailNextNatGateways makes the next n CreateNatGateway calls make
// gateways that go from pending to failed, as AWS does when a subnet has
// no free address.
func (f *EC2) FailNextNatGateways(n int) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().NATFailures = n
}

// NatGatewayStates returns the state of every NAT gateway still visible,
// by ID, for assertions.
func (f *EC2) NatGatewayStates() map[string]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	out := map[string]string{}
	for id, n := range f.st().NATs {
		out[id] = n.state(f.c)
	}
	return out
}

// Addresses returns the allocation IDs of the Elastic IPs, for assertions.
func (f *EC2) Addresses() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Addresses)
}
