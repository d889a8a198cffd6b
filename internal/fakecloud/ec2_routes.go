package fakecloud

import (
	"context"
	"net/netip"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type fakeRouteTable struct {
	ID          string            `json:"id"`
	VPCID       string            `json:"vpcId"`
	Main        bool              `json:"main,omitempty"`
	Routes      []fakeRoute       `json:"routes"`
	Assocs      []fakeRTAssoc     `json:"assocs,omitempty"`
	Propagating []string          `json:"propagating,omitempty"` // VGW IDs
	Tags        map[string]string `json:"tags"`
}

type fakeRoute struct {
	Dest         string `json:"dest"`
	GatewayID    string `json:"gatewayId,omitempty"` // igw-, vgw- or "local"
	NatGatewayID string `json:"natGatewayId,omitempty"`
	Origin       string `json:"origin"`
}

type fakeRTAssoc struct {
	ID       string `json:"id"`
	SubnetID string `json:"subnetId,omitempty"`
	Main     bool   `json:"main,omitempty"`
}

func init() {
	taggable["rtb-"] = func(c *Cloud, id string) (map[string]string, bool) {
		rt, ok := c.EC2().st().RouteTables[id]
		if !ok {
			return nil, false
		}
		return rt.Tags, true
	}
	vpcDependents = append(vpcDependents, func(c *Cloud, vpcID string) string {
		for _, id := range sortedKeys(c.EC2().st().RouteTables) {
			rt := c.EC2().st().RouteTables[id]
			if rt.VPCID == vpcID && !rt.Main {
				return "route table " + id
			}
		}
		return ""
	})
}

// routeState is "blackhole" when the target is gone, as EC2 reports it.
func (f *EC2) routeState(r fakeRoute) types.RouteState {
	s := f.st()
	switch {
	case r.NatGatewayID != "":
		if n, ok := s.NATs[r.NatGatewayID]; !ok || n.state(f.c) != "available" && n.state(f.c) != "pending" {
			return types.RouteStateBlackhole
		}
	case r.GatewayID != "" && r.GatewayID != "local":
		_, igw := s.IGWs[r.GatewayID]
		_, vgw := s.VGWs[r.GatewayID]
		if !igw && !vgw {
			return types.RouteStateBlackhole
		}
	}
	return types.RouteStateActive
}

func (f *EC2) rtOut(rt *fakeRouteTable) types.RouteTable {
	o := types.RouteTable{RouteTableId: aws.String(rt.ID), VpcId: aws.String(rt.VPCID), OwnerId: aws.String(f.c.account), Tags: toEC2Tags(rt.Tags)}
	for _, r := range rt.Routes {
		rr := types.Route{DestinationCidrBlock: aws.String(r.Dest), Origin: types.RouteOrigin(r.Origin), State: f.routeState(r)}
		if r.GatewayID != "" {
			rr.GatewayId = aws.String(r.GatewayID)
		}
		if r.NatGatewayID != "" {
			rr.NatGatewayId = aws.String(r.NatGatewayID)
		}
		o.Routes = append(o.Routes, rr)
	}
	for _, a := range rt.Assocs {
		ra := types.RouteTableAssociation{RouteTableAssociationId: aws.String(a.ID), RouteTableId: aws.String(rt.ID), Main: aws.Bool(a.Main), AssociationState: &types.RouteTableAssociationState{State: types.RouteTableAssociationStateCodeAssociated}}
		if a.SubnetID != "" {
			ra.SubnetId = aws.String(a.SubnetID)
		}
		o.Associations = append(o.Associations, ra)
	}
	for _, g := range rt.Propagating {
		o.PropagatingVgws = append(o.PropagatingVgws, types.PropagatingVgw{GatewayId: aws.String(g)})
	}
	return o
}

func (f *EC2) routeTable(id string) (*fakeRouteTable, error) {
	rt, ok := f.st().RouteTables[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
	}
	return rt, nil
}

// CreateRouteTable creates a route table holding the local route. A
// retried create with the same ClientToken returns the same table.
func (f *EC2) CreateRouteTable(ctx context.Context, in *ec2.CreateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteTableOutput, error) {
	var out *ec2.CreateRouteTableOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateRouteTable", true, func() error {
		dg := digest(aws.ToString(in.VpcId))
		prev, err := f.tokenCreated("CreateRouteTable", in.ClientToken, dg)
		if err != nil {
			return err
		}
		s := f.st()
		if rt, ok := s.RouteTables[prev]; ok {
			o := f.rtOut(rt)
			out = &ec2.CreateRouteTableOutput{RouteTable: &o, ClientToken: in.ClientToken}
			return nil
		} else if prev != "" {
			// The token outlives a table deleted since: EC2 answers with
			// the original response, for a table that no longer exists.
			out = &ec2.CreateRouteTableOutput{RouteTable: &types.RouteTable{RouteTableId: aws.String(prev), VpcId: in.VpcId, Tags: toEC2Tags(tagsFromSpecs(in.TagSpecifications, types.ResourceTypeRouteTable))}, ClientToken: in.ClientToken}
			return nil
		}
		v, err := f.vpc(aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		rt := &fakeRouteTable{ID: f.c.newID("rtb"), VPCID: v.ID, Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeRouteTable)}
		rt.Routes = []fakeRoute{{Dest: v.CIDR, GatewayID: "local", Origin: "CreateRouteTable"}}
		s.RouteTables[rt.ID] = rt
		f.recordToken("CreateRouteTable", in.ClientToken, dg, rt.ID)
		f.c.created(rt.ID)
		o := f.rtOut(rt)
		out = &ec2.CreateRouteTableOutput{RouteTable: &o, ClientToken: in.ClientToken}
		return nil
	})
	return out, err
}

// DescribeRouteTables lists route tables by ID and filters (tag:*,
// route-table-id, vpc-id, association.subnet-id, association.main),
// paginated when MaxResults is set.
func (f *EC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	var out *ec2.DescribeRouteTablesOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeRouteTables", false, func() error {
		for _, id := range in.RouteTableIds {
			if _, err := f.routeTable(id); err != nil {
				return err
			}
		}
		var all []types.RouteTable
		s := f.st()
	tables:
		for _, id := range sortedKeys(s.RouteTables) {
			rt := s.RouteTables[id]
			if len(in.RouteTableIds) > 0 && !slices.Contains(in.RouteTableIds, id) {
				continue
			}
			// Association filters match any association of the table.
			assocs := rt.Assocs
			if len(assocs) == 0 {
				assocs = []fakeRTAssoc{{}}
			}
			for _, a := range assocs {
				ok, err := matchFilters(in.Filters, rt.Tags, map[string]string{
					"route-table-id": id, "vpc-id": rt.VPCID, "association.subnet-id": a.SubnetID,
					"association.main": boolStr(a.Main), "association.route-table-association-id": a.ID,
				})
				if err != nil {
					return err
				}
				if ok && (len(in.RouteTableIds) > 0 || !f.c.hidden(id)) {
					all = append(all, f.rtOut(rt))
					continue tables
				}
			}
		}
		items, next, err := ec2Page(all, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out = &ec2.DescribeRouteTablesOutput{RouteTables: items, NextToken: next}
		return nil
	})
	return out, err
}

// checkTarget validates a route target the way EC2 does: it must exist
// and belong to the table's VPC.
func (f *EC2) checkTarget(rt *fakeRouteTable, gw, nat string) error {
	switch {
	case gw != "" && nat != "":
		return apiError("InvalidParameterCombination", "More than one target specified")
	case nat != "":
		n, err := f.nat(nat)
		if err != nil {
			return err
		}
		if n.VPCID != rt.VPCID {
			return apiError("InvalidParameterValue", "route table %s and NAT gateway %s belong to different networks", rt.ID, nat)
		}
	case gw != "":
		g, err := f.igw(gw)
		if err != nil {
			return err
		}
		if g.VPCID != rt.VPCID {
			return apiError("InvalidParameterValue", "route table %s and network gateway %s belong to different networks", rt.ID, gw)
		}
	default:
		return apiError("MissingParameter", "The request must contain a route target")
	}
	return nil
}

func routeDest(cidr *string) (string, error) {
	p, err := netip.ParsePrefix(aws.ToString(cidr))
	if err != nil || p.Masked() != p {
		return "", apiError("InvalidParameterValue", "Value (%s) for parameter destinationCidrBlock is invalid.", aws.ToString(cidr))
	}
	return p.String(), nil
}

// CreateRoute adds a route to an internet or NAT gateway.
func (f *EC2) CreateRoute(ctx context.Context, in *ec2.CreateRouteInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "CreateRoute", true, func() error {
		rt, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		dest, err := routeDest(in.DestinationCidrBlock)
		if err != nil {
			return err
		}
		for _, r := range rt.Routes {
			if r.Dest == dest {
				return apiError("RouteAlreadyExists", "The route identified by %s already exists.", dest)
			}
		}
		if err := f.checkTarget(rt, aws.ToString(in.GatewayId), aws.ToString(in.NatGatewayId)); err != nil {
			return err
		}
		rt.Routes = append(rt.Routes, fakeRoute{Dest: dest, GatewayID: aws.ToString(in.GatewayId), NatGatewayID: aws.ToString(in.NatGatewayId), Origin: "CreateRoute"})
		return nil
	})
	return &ec2.CreateRouteOutput{Return: aws.Bool(err == nil)}, err
}

// ReplaceRoute points an existing route at another target.
func (f *EC2) ReplaceRoute(ctx context.Context, in *ec2.ReplaceRouteInput, _ ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "ReplaceRoute", true, func() error {
		rt, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		dest, err := routeDest(in.DestinationCidrBlock)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rt.Routes, func(r fakeRoute) bool { return r.Dest == dest })
		if i < 0 || rt.Routes[i].GatewayID == "local" {
			return apiError("InvalidRoute.NotFound", "no route with destination-cidr-block %s in route table %s", dest, rt.ID)
		}
		if err := f.checkTarget(rt, aws.ToString(in.GatewayId), aws.ToString(in.NatGatewayId)); err != nil {
			return err
		}
		rt.Routes[i] = fakeRoute{Dest: dest, GatewayID: aws.ToString(in.GatewayId), NatGatewayID: aws.ToString(in.NatGatewayId), Origin: "CreateRoute"}
		return nil
	})
	return &ec2.ReplaceRouteOutput{}, err
}

// DeleteRoute removes a route (never the local one).
func (f *EC2) DeleteRoute(ctx context.Context, in *ec2.DeleteRouteInput, _ ...func(*ec2.Options)) (*ec2.DeleteRouteOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteRoute", true, func() error {
		rt, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		dest, err := routeDest(in.DestinationCidrBlock)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rt.Routes, func(r fakeRoute) bool { return r.Dest == dest })
		if i < 0 {
			return apiError("InvalidRoute.NotFound", "no route with destination-cidr-block %s in route table %s", dest, rt.ID)
		}
		if rt.Routes[i].GatewayID == "local" {
			return apiError("InvalidParameterValue", "cannot remove local route %s in route table %s", dest, rt.ID)
		}
		rt.Routes = slices.Delete(rt.Routes, i, i+1)
		return nil
	})
	return &ec2.DeleteRouteOutput{}, err
}

// explicitAssoc returns the table explicitly associated with a subnet and
// the association's index, or nil. Call with mu held.
func (f *EC2) explicitAssoc(subnetID string) (*fakeRouteTable, int) {
	for _, id := range sortedKeys(f.st().RouteTables) {
		rt := f.st().RouteTables[id]
		for i, a := range rt.Assocs {
			if a.SubnetID == subnetID {
				return rt, i
			}
		}
	}
	return nil, -1
}

// AssociateRouteTable associates a subnet of the table's VPC with it; a
// subnet already explicitly associated fails with Resource.AlreadyAssociated.
func (f *EC2) AssociateRouteTable(ctx context.Context, in *ec2.AssociateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.AssociateRouteTableOutput, error) {
	var out *ec2.AssociateRouteTableOutput
	err := f.c.call(ctx, ec2.ServiceID, "AssociateRouteTable", true, func() error {
		rt, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		sn, err := f.subnet(aws.ToString(in.SubnetId))
		if err != nil {
			return err
		}
		if sn.VPCID != rt.VPCID {
			return apiError("InvalidParameterValue", "Route table %s and subnet %s belong to different networks", rt.ID, sn.ID)
		}
		if other, i := f.explicitAssoc(sn.ID); other != nil {
			return apiError("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association (%s)", rt.ID, other.Assocs[i].ID)
		}
		a := fakeRTAssoc{ID: f.c.newID("rtbassoc"), SubnetID: sn.ID}
		rt.Assocs = append(rt.Assocs, a)
		out = &ec2.AssociateRouteTableOutput{AssociationId: aws.String(a.ID), AssociationState: &types.RouteTableAssociationState{State: types.RouteTableAssociationStateCodeAssociated}}
		return nil
	})
	return out, err
}

// ReplaceRouteTableAssociation moves an association to another table.
func (f *EC2) ReplaceRouteTableAssociation(ctx context.Context, in *ec2.ReplaceRouteTableAssociationInput, _ ...func(*ec2.Options)) (*ec2.ReplaceRouteTableAssociationOutput, error) {
	var out *ec2.ReplaceRouteTableAssociationOutput
	err := f.c.call(ctx, ec2.ServiceID, "ReplaceRouteTableAssociation", true, func() error {
		to, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		id := aws.ToString(in.AssociationId)
		for _, rid := range sortedKeys(f.st().RouteTables) {
			from := f.st().RouteTables[rid]
			i := slices.IndexFunc(from.Assocs, func(a fakeRTAssoc) bool { return a.ID == id })
			if i < 0 {
				continue
			}
			if from.VPCID != to.VPCID {
				return apiError("InvalidParameterValue", "route tables %s and %s belong to different networks", from.ID, to.ID)
			}
			a := from.Assocs[i]
			from.Assocs = slices.Delete(from.Assocs, i, i+1)
			if a.Main {
				from.Main, to.Main = false, true
			}
			a.ID = f.c.newID("rtbassoc")
			to.Assocs = append(to.Assocs, a)
			out = &ec2.ReplaceRouteTableAssociationOutput{NewAssociationId: aws.String(a.ID), AssociationState: &types.RouteTableAssociationState{State: types.RouteTableAssociationStateCodeAssociated}}
			return nil
		}
		return apiError("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
	})
	return out, err
}

// DisassociateRouteTable removes a subnet association.
func (f *EC2) DisassociateRouteTable(ctx context.Context, in *ec2.DisassociateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.DisassociateRouteTableOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DisassociateRouteTable", true, func() error {
		id := aws.ToString(in.AssociationId)
		for _, rt := range f.st().RouteTables {
			i := slices.IndexFunc(rt.Assocs, func(a fakeRTAssoc) bool { return a.ID == id })
			if i < 0 {
				continue
			}
			if rt.Assocs[i].Main {
				return apiError("InvalidParameterValue", "cannot disassociate the main route table association %s", id)
			}
			rt.Assocs = slices.Delete(rt.Assocs, i, i+1)
			return nil
		}
		return apiError("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
	})
	return &ec2.DisassociateRouteTableOutput{}, err
}

// DeleteRouteTable deletes a route table without associations; the main
// table and an associated table fail with DependencyViolation.
func (f *EC2) DeleteRouteTable(ctx context.Context, in *ec2.DeleteRouteTableInput, _ ...func(*ec2.Options)) (*ec2.DeleteRouteTableOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteRouteTable", true, func() error {
		rt, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		if rt.Main || len(rt.Assocs) > 0 {
			return apiError("DependencyViolation", "The routeTable '%s' has dependencies and cannot be deleted.", rt.ID)
		}
		delete(f.st().RouteTables, rt.ID)
		return nil
	})
	return &ec2.DeleteRouteTableOutput{}, err
}

// EnableVgwRoutePropagation makes a route table learn the routes of a
// virtual private gateway attached to its VPC.
func (f *EC2) EnableVgwRoutePropagation(ctx context.Context, in *ec2.EnableVgwRoutePropagationInput, _ ...func(*ec2.Options)) (*ec2.EnableVgwRoutePropagationOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "EnableVgwRoutePropagation", true, func() error {
		rt, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		g, err := f.vgw(aws.ToString(in.GatewayId))
		if err != nil {
			return err
		}
		if g.attachedTo(f.c) != rt.VPCID {
			return apiError("Gateway.NotAttached", "gateway %s is not attached to network %s", g.ID, rt.VPCID)
		}
		if !slices.Contains(rt.Propagating, g.ID) {
			rt.Propagating = append(rt.Propagating, g.ID)
		}
		return nil
	})
	return &ec2.EnableVgwRoutePropagationOutput{}, err
}

// DisableVgwRoutePropagation stops a route table learning a gateway's
// routes.
func (f *EC2) DisableVgwRoutePropagation(ctx context.Context, in *ec2.DisableVgwRoutePropagationInput, _ ...func(*ec2.Options)) (*ec2.DisableVgwRoutePropagationOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DisableVgwRoutePropagation", true, func() error {
		rt, err := f.routeTable(aws.ToString(in.RouteTableId))
		if err != nil {
			return err
		}
		rt.Propagating = slices.DeleteFunc(rt.Propagating, func(g string) bool { return g == aws.ToString(in.GatewayId) })
		return nil
	})
	return &ec2.DisableVgwRoutePropagationOutput{}, err
}

// RouteTables returns the IDs of the route tables (main ones included),
// for assertions.
func (f *EC2) RouteTables() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().RouteTables)
}
