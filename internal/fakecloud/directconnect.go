package fakecloud

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/directconnect"
	"github.com/aws/aws-sdk-go-v2/service/directconnect/types"
)

// DirectConnect is the fake AWS Direct Connect client. Get it with
// Cloud.DirectConnect. Every error is a DirectConnectClientException, as in
// the service, including for resources that do not exist.
type DirectConnect struct{ c *Cloud }

// DirectConnect returns the Direct Connect client of the cloud.
func (c *Cloud) DirectConnect() *DirectConnect { return &DirectConnect{c: c} }

func init() {
	register("directconnect", func() any { return &dxState{} })
	// A virtual private gateway associated with a Direct Connect gateway
	// cannot be deleted.
	vgwDependents = append(vgwDependents, func(c *Cloud, vgwID string) string {
		s := c.DirectConnect().st()
		for _, id := range sortedKeys(s.Assocs) {
			if a := s.Assocs[id]; a.VGWID == vgwID && a.state(c) != "disassociated" {
				return "Direct Connect gateway association " + id
			}
		}
		return ""
	})
}

type dxState struct {
	Gateways    map[string]*fakeDXGW    `json:"gateways"`
	Assocs      map[string]*fakeDXAssoc `json:"assocs"`
	VIFs        map[string]*fakeVIF     `json:"vifs"`
	Connections map[string]*fakeDXConn  `json:"connections"`
}

type fakeDXGW struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	ASN     int64             `json:"asn"`
	Tags    map[string]string `json:"tags"`
	Created time.Time         `json:"created"`
	Deleted time.Time         `json:"deleted,omitzero"`
}

type fakeDXAssoc struct {
	ID        string    `json:"id"`
	GatewayID string    `json:"gatewayId"`
	VGWID     string    `json:"vgwId"`
	Prefixes  []string  `json:"prefixes"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated,omitzero"`
	Deleted   time.Time `json:"deleted,omitzero"`
}

type fakeVIF struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	ConnectionID    string            `json:"connectionId"`
	VLAN            int32             `json:"vlan"`
	ASN             int64             `json:"asn"`
	AuthKey         string            `json:"authKey"`
	AmazonAddress   string            `json:"amazonAddress"`
	CustomerAddress string            `json:"customerAddress"`
	MTU             int32             `json:"mtu"`
	GatewayID       string            `json:"gatewayId"`
	Tags            map[string]string `json:"tags"`
	Created         time.Time         `json:"created"`
	Deleted         time.Time         `json:"deleted,omitzero"`
}

type fakeDXConn struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Location string `json:"location"`
	State    string `json:"state"`
}

// Direct Connect timings on the fake clock.
const (
	dxgwPendingFor    = 30 * time.Second
	dxAssociatingFor  = 3 * time.Minute
	dxUpdatingFor     = time.Minute
	dxDeletingFor     = time.Minute
	dxVIFPendingFor   = 2 * time.Minute
	dxDeletedVisible  = 10 * time.Minute
	dxMaxAllowedPrefs = 20
)

func (f *DirectConnect) st() *dxState {
	s := state[dxState](f.c, "directconnect")
	if s.Gateways == nil {
		s.Gateways = map[string]*fakeDXGW{}
		s.Assocs = map[string]*fakeDXAssoc{}
		s.VIFs = map[string]*fakeVIF{}
		s.Connections = map[string]*fakeDXConn{}
	}
	return s
}

func dxError(format string, args ...any) error {
	return apiError("DirectConnectClientException", format, args...)
}

func (f *DirectConnect) gwARN(id string) string {
	return f.c.globalARN("directconnect", f.c.account, "dx-gateway/"+id)
}

func (f *DirectConnect) vifARN(id string) string { return f.c.arn("directconnect", "dxvif/"+id) }

func (g *fakeDXGW) state(c *Cloud) string {
	switch {
	case !g.Deleted.IsZero() && c.elapsed(g.Deleted, dxDeletingFor):
		return "deleted"
	case !g.Deleted.IsZero():
		return "deleting"
	case c.elapsed(g.Created, dxgwPendingFor):
		return "available"
	}
	return "pending"
}

func (g *fakeDXGW) out(c *Cloud) types.DirectConnectGateway {
	return types.DirectConnectGateway{
		DirectConnectGatewayId: aws.String(g.ID), DirectConnectGatewayName: aws.String(g.Name), AmazonSideAsn: aws.Int64(g.ASN),
		DirectConnectGatewayState: types.DirectConnectGatewayState(g.state(c)), OwnerAccount: aws.String(c.account), Tags: dxTags(g.Tags),
	}
}

func (a *fakeDXAssoc) state(c *Cloud) string {
	switch {
	case !a.Deleted.IsZero() && c.elapsed(a.Deleted, dxAssociatingFor):
		return "disassociated"
	case !a.Deleted.IsZero():
		return "disassociating"
	case !c.elapsed(a.Created, dxAssociatingFor):
		return "associating"
	case !a.Updated.IsZero() && !c.elapsed(a.Updated, dxUpdatingFor):
		return "updating"
	}
	return "associated"
}

func (a *fakeDXAssoc) out(c *Cloud) types.DirectConnectGatewayAssociation {
	o := types.DirectConnectGatewayAssociation{
		AssociationId: aws.String(a.ID), DirectConnectGatewayId: aws.String(a.GatewayID), VirtualGatewayId: aws.String(a.VGWID),
		AssociationState: types.DirectConnectGatewayAssociationState(a.state(c)), DirectConnectGatewayOwnerAccount: aws.String(c.account),
		VirtualGatewayOwnerAccount: aws.String(c.account),
		AssociatedGateway:          &types.AssociatedGateway{Id: aws.String(a.VGWID), Type: types.GatewayTypeVirtualPrivateGateway, OwnerAccount: aws.String(c.account), Region: aws.String(c.region)},
	}
	for _, p := range a.Prefixes {
		o.AllowedPrefixesToDirectConnectGateway = append(o.AllowedPrefixesToDirectConnectGateway, types.RouteFilterPrefix{Cidr: aws.String(p)})
	}
	return o
}

func (v *fakeVIF) state(c *Cloud) string {
	switch {
	case !v.Deleted.IsZero() && c.elapsed(v.Deleted, dxDeletingFor):
		return "deleted"
	case !v.Deleted.IsZero():
		return "deleting"
	case c.elapsed(v.Created, dxVIFPendingFor):
		return "available"
	}
	return "pending"
}

func (f *DirectConnect) vifOut(v *fakeVIF) types.VirtualInterface {
	conn := f.st().Connections[v.ConnectionID]
	loc := ""
	if conn != nil {
		loc = conn.Location
	}
	// The BGP session stays down: nothing on-premises answers in the fake.
	peer := types.BGPPeer{
		BgpPeerId: aws.String("dxpeer-" + v.ID[len("dxvif-"):]), AddressFamily: types.AddressFamilyIPv4, Asn: int32(min(v.ASN, 2147483647)), AsnLong: aws.Int64(v.ASN),
		AuthKey: aws.String(v.AuthKey), AmazonAddress: aws.String(v.AmazonAddress), CustomerAddress: aws.String(v.CustomerAddress),
		BgpPeerState: types.BGPPeerStateAvailable, BgpStatus: types.BGPStatusDown,
	}
	return types.VirtualInterface{
		VirtualInterfaceId: aws.String(v.ID), VirtualInterfaceName: aws.String(v.Name), VirtualInterfaceType: aws.String("private"),
		VirtualInterfaceState: types.VirtualInterfaceState(v.state(f.c)), ConnectionId: aws.String(v.ConnectionID), Vlan: v.VLAN,
		Asn: int32(min(v.ASN, 2147483647)), AsnLong: aws.Int64(v.ASN), AuthKey: aws.String(v.AuthKey), AmazonAddress: aws.String(v.AmazonAddress),
		CustomerAddress: aws.String(v.CustomerAddress), AddressFamily: types.AddressFamilyIPv4, Mtu: aws.Int32(v.MTU), JumboFrameCapable: aws.Bool(true),
		DirectConnectGatewayId: aws.String(v.GatewayID), OwnerAccount: aws.String(f.c.account), Region: aws.String(f.c.region), Location: aws.String(loc),
		BgpPeers: []types.BGPPeer{peer}, Tags: dxTags(v.Tags),
	}
}

func dxTags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func fromDXTags(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (f *DirectConnect) gateway(id string) (*fakeDXGW, error) {
	g, ok := f.st().Gateways[id]
	if !ok || f.c.hidden(id) || g.state(f.c) == "deleted" {
		return nil, dxError("Direct Connect Gateway %s does not exist", id)
	}
	return g, nil
}

// CreateDirectConnectGateway creates a Direct Connect gateway (pending →
// available after 30 s) with a private Amazon-side ASN (default 64512).
func (f *DirectConnect) CreateDirectConnectGateway(ctx context.Context, in *directconnect.CreateDirectConnectGatewayInput, _ ...func(*directconnect.Options)) (*directconnect.CreateDirectConnectGatewayOutput, error) {
	var out *directconnect.CreateDirectConnectGatewayOutput
	err := f.c.call(ctx, directconnect.ServiceID, "CreateDirectConnectGateway", true, func() error {
		name := aws.ToString(in.DirectConnectGatewayName)
		if name == "" || len(name) > 100 {
			return dxError("Direct Connect gateway name must be 1-100 characters")
		}
		asn := int64(64512)
		if in.AmazonSideAsn != nil {
			asn = *in.AmazonSideAsn
		}
		if !privateASN(asn) {
			return dxError("Amazon side ASN %d is not a private ASN (64512-65534 or 4200000000-4294967294)", asn)
		}
		g := &fakeDXGW{ID: f.c.newUUID(), Name: name, ASN: asn, Tags: fromDXTags(in.Tags), Created: f.c.now()}
		f.st().Gateways[g.ID] = g
		f.c.created(g.ID)
		o := g.out(f.c)
		out = &directconnect.CreateDirectConnectGatewayOutput{DirectConnectGateway: &o}
		return nil
	})
	return out, err
}

// DescribeDirectConnectGateways lists gateways (one, by ID), paginated.
// Deleted gateways stay visible for ten minutes.
func (f *DirectConnect) DescribeDirectConnectGateways(ctx context.Context, in *directconnect.DescribeDirectConnectGatewaysInput, _ ...func(*directconnect.Options)) (*directconnect.DescribeDirectConnectGatewaysOutput, error) {
	var out *directconnect.DescribeDirectConnectGatewaysOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DescribeDirectConnectGateways", false, func() error {
		s := f.st()
		id := aws.ToString(in.DirectConnectGatewayId)
		if id != "" {
			if _, ok := s.Gateways[id]; !ok || f.c.hidden(id) {
				return dxError("Direct Connect Gateway %s does not exist", id)
			}
		}
		var all []types.DirectConnectGateway
		for _, gid := range sortedKeys(s.Gateways) {
			g := s.Gateways[gid]
			if !g.Deleted.IsZero() && f.c.elapsed(g.Deleted, dxDeletedVisible) {
				delete(s.Gateways, gid)
				continue
			}
			if (id != "" && gid != id) || (id == "" && f.c.hidden(gid)) {
				continue
			}
			all = append(all, g.out(f.c))
		}
		size := 100
		if in.MaxResults != nil && *in.MaxResults > 0 {
			size = int(*in.MaxResults)
		}
		items, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &directconnect.DescribeDirectConnectGatewaysOutput{DirectConnectGateways: items, NextToken: next}
		return nil
	})
	return out, err
}

// UpdateDirectConnectGateway renames a gateway.
func (f *DirectConnect) UpdateDirectConnectGateway(ctx context.Context, in *directconnect.UpdateDirectConnectGatewayInput, _ ...func(*directconnect.Options)) (*directconnect.UpdateDirectConnectGatewayOutput, error) {
	var out *directconnect.UpdateDirectConnectGatewayOutput
	err := f.c.call(ctx, directconnect.ServiceID, "UpdateDirectConnectGateway", true, func() error {
		g, err := f.gateway(aws.ToString(in.DirectConnectGatewayId))
		if err != nil {
			return err
		}
		name := aws.ToString(in.NewDirectConnectGatewayName)
		if name == "" || len(name) > 100 {
			return dxError("Direct Connect gateway name must be 1-100 characters")
		}
		g.Name = name
		o := g.out(f.c)
		out = &directconnect.UpdateDirectConnectGatewayOutput{DirectConnectGateway: &o}
		return nil
	})
	return out, err
}

// DeleteDirectConnectGateway deletes a gateway without associations or
// virtual interfaces.
func (f *DirectConnect) DeleteDirectConnectGateway(ctx context.Context, in *directconnect.DeleteDirectConnectGatewayInput, _ ...func(*directconnect.Options)) (*directconnect.DeleteDirectConnectGatewayOutput, error) {
	var out *directconnect.DeleteDirectConnectGatewayOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DeleteDirectConnectGateway", true, func() error {
		g, err := f.gateway(aws.ToString(in.DirectConnectGatewayId))
		if err != nil {
			return err
		}
		s := f.st()
		for _, id := range sortedKeys(s.Assocs) {
			if a := s.Assocs[id]; a.GatewayID == g.ID && a.state(f.c) != "disassociated" {
				return dxError("Direct Connect Gateway %s has associations (%s) and cannot be deleted", g.ID, id)
			}
		}
		for _, id := range sortedKeys(s.VIFs) {
			if v := s.VIFs[id]; v.GatewayID == g.ID && v.state(f.c) != "deleted" {
				return dxError("Direct Connect Gateway %s has virtual interface %s attached and cannot be deleted", g.ID, id)
			}
		}
		if g.Deleted.IsZero() {
			g.Deleted = f.c.now()
		}
		o := g.out(f.c)
		out = &directconnect.DeleteDirectConnectGatewayOutput{DirectConnectGateway: &o}
		return nil
	})
	return out, err
}

func (f *DirectConnect) checkPrefixes(prefixes []types.RouteFilterPrefix) ([]string, error) {
	var out []string
	for _, p := range prefixes {
		c, err := netip.ParsePrefix(aws.ToString(p.Cidr))
		if err != nil || c.Masked() != c {
			return nil, dxError("Invalid allowed prefix %s", aws.ToString(p.Cidr))
		}
		if !slices.Contains(out, c.String()) {
			out = append(out, c.String())
		}
	}
	if len(out) > dxMaxAllowedPrefs {
		return nil, dxError("At most %d allowed prefixes per association", dxMaxAllowedPrefs)
	}
	return out, nil
}

// coversVPC checks that the allowed prefixes cover the VGW's VPC CIDR.
// Call with mu held.
func (f *DirectConnect) coversVPC(vgwID string, prefixes []string) error {
	g := f.c.EC2().st().VGWs[vgwID]
	v, ok := f.c.EC2().st().VPCs[g.attachedTo(f.c)]
	if !ok {
		return nil
	}
	vp := netip.MustParsePrefix(v.CIDR)
	for _, p := range prefixes {
		pp := netip.MustParsePrefix(p)
		if pp.Bits() <= vp.Bits() && pp.Contains(vp.Addr()) {
			return nil
		}
	}
	return dxError("The allowed prefixes %v do not cover the VPC CIDR %s of %s", prefixes, v.CIDR, vgwID)
}

// CreateDirectConnectGatewayAssociation associates a virtual private
// gateway (attached to a VPC, not associated elsewhere) with a Direct
// Connect gateway, advertising the allowed prefixes (associating →
// associated after three minutes).
func (f *DirectConnect) CreateDirectConnectGatewayAssociation(ctx context.Context, in *directconnect.CreateDirectConnectGatewayAssociationInput, _ ...func(*directconnect.Options)) (*directconnect.CreateDirectConnectGatewayAssociationOutput, error) {
	var out *directconnect.CreateDirectConnectGatewayAssociationOutput
	err := f.c.call(ctx, directconnect.ServiceID, "CreateDirectConnectGatewayAssociation", true, func() error {
		g, err := f.gateway(aws.ToString(in.DirectConnectGatewayId))
		if err != nil {
			return err
		}
		if g.state(f.c) != "available" {
			return dxError("Direct Connect Gateway %s is in state %s", g.ID, g.state(f.c))
		}
		vgwID := aws.ToString(in.VirtualGatewayId)
		if vgwID == "" {
			vgwID = aws.ToString(in.GatewayId)
		}
		vgw, ok := f.c.EC2().st().VGWs[vgwID]
		if !ok || !vgw.Deleted.IsZero() {
			return dxError("Virtual private gateway %s does not exist", vgwID)
		}
		if vpc, st := vgw.attachment(f.c); st != "attached" {
			return dxError("Virtual private gateway %s must be attached to a VPC (attachment: %q %q)", vgwID, vpc, st)
		}
		s := f.st()
		for _, id := range sortedKeys(s.Assocs) {
			if a := s.Assocs[id]; a.VGWID == vgwID && a.state(f.c) != "disassociated" {
				return dxError("Virtual private gateway %s is already associated with Direct Connect gateway %s", vgwID, a.GatewayID)
			}
		}
		prefixes, err := f.checkPrefixes(in.AddAllowedPrefixesToDirectConnectGateway)
		if err != nil {
			return err
		}
		if err := f.coversVPC(vgwID, prefixes); err != nil {
			return err
		}
		a := &fakeDXAssoc{ID: f.c.newUUID(), GatewayID: g.ID, VGWID: vgwID, Prefixes: prefixes, Created: f.c.now()}
		s.Assocs[a.ID] = a
		f.c.created(a.ID)
		o := a.out(f.c)
		out = &directconnect.CreateDirectConnectGatewayAssociationOutput{DirectConnectGatewayAssociation: &o}
		return nil
	})
	return out, err
}

// DescribeDirectConnectGatewayAssociations lists associations by
// association, gateway or virtual gateway ID, paginated. Disassociated
// ones stay visible for ten minutes.
func (f *DirectConnect) DescribeDirectConnectGatewayAssociations(ctx context.Context, in *directconnect.DescribeDirectConnectGatewayAssociationsInput, _ ...func(*directconnect.Options)) (*directconnect.DescribeDirectConnectGatewayAssociationsOutput, error) {
	var out *directconnect.DescribeDirectConnectGatewayAssociationsOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DescribeDirectConnectGatewayAssociations", false, func() error {
		s := f.st()
		var all []types.DirectConnectGatewayAssociation
		for _, id := range sortedKeys(s.Assocs) {
			a := s.Assocs[id]
			if !a.Deleted.IsZero() && f.c.elapsed(a.Deleted, dxAssociatingFor+dxDeletedVisible) {
				delete(s.Assocs, id)
				continue
			}
			if x := aws.ToString(in.AssociationId); x != "" && x != id {
				continue
			}
			if x := aws.ToString(in.DirectConnectGatewayId); x != "" && x != a.GatewayID {
				continue
			}
			if x := aws.ToString(in.VirtualGatewayId); x != "" && x != a.VGWID {
				continue
			}
			if x := aws.ToString(in.AssociatedGatewayId); x != "" && x != a.VGWID {
				continue
			}
			if f.c.hidden(id) {
				continue
			}
			all = append(all, a.out(f.c))
		}
		size := 100
		if in.MaxResults != nil && *in.MaxResults > 0 {
			size = int(*in.MaxResults)
		}
		items, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &directconnect.DescribeDirectConnectGatewayAssociationsOutput{DirectConnectGatewayAssociations: items, NextToken: next}
		return nil
	})
	return out, err
}

func (f *DirectConnect) assoc(id string) (*fakeDXAssoc, error) {
	a, ok := f.st().Assocs[id]
	if !ok || f.c.hidden(id) || a.state(f.c) == "disassociated" {
		return nil, dxError("Direct Connect gateway association %s does not exist", id)
	}
	return a, nil
}

// UpdateDirectConnectGatewayAssociation adds and removes allowed prefixes
// of an associated association (updating for a minute).
func (f *DirectConnect) UpdateDirectConnectGatewayAssociation(ctx context.Context, in *directconnect.UpdateDirectConnectGatewayAssociationInput, _ ...func(*directconnect.Options)) (*directconnect.UpdateDirectConnectGatewayAssociationOutput, error) {
	var out *directconnect.UpdateDirectConnectGatewayAssociationOutput
	err := f.c.call(ctx, directconnect.ServiceID, "UpdateDirectConnectGatewayAssociation", true, func() error {
		a, err := f.assoc(aws.ToString(in.AssociationId))
		if err != nil {
			return err
		}
		if st := a.state(f.c); st != "associated" {
			return dxError("Direct Connect gateway association %s is in state %s", a.ID, st)
		}
		add, err := f.checkPrefixes(in.AddAllowedPrefixesToDirectConnectGateway)
		if err != nil {
			return err
		}
		remove, err := f.checkPrefixes(in.RemoveAllowedPrefixesToDirectConnectGateway)
		if err != nil {
			return err
		}
		next := slices.DeleteFunc(slices.Clone(a.Prefixes), func(p string) bool { return slices.Contains(remove, p) })
		for _, p := range add {
			if !slices.Contains(next, p) {
				next = append(next, p)
			}
		}
		if _, err := f.checkPrefixes(toRouteFilter(next)); err != nil {
			return err
		}
		if err := f.coversVPC(a.VGWID, next); err != nil {
			return err
		}
		a.Prefixes, a.Updated = next, f.c.now()
		o := a.out(f.c)
		out = &directconnect.UpdateDirectConnectGatewayAssociationOutput{DirectConnectGatewayAssociation: &o}
		return nil
	})
	return out, err
}

func toRouteFilter(cidrs []string) []types.RouteFilterPrefix {
	var out []types.RouteFilterPrefix
	for _, c := range cidrs {
		out = append(out, types.RouteFilterPrefix{Cidr: aws.String(c)})
	}
	return out
}

// DeleteDirectConnectGatewayAssociation starts disassociating (→
// disassociated after three minutes).
func (f *DirectConnect) DeleteDirectConnectGatewayAssociation(ctx context.Context, in *directconnect.DeleteDirectConnectGatewayAssociationInput, _ ...func(*directconnect.Options)) (*directconnect.DeleteDirectConnectGatewayAssociationOutput, error) {
	var out *directconnect.DeleteDirectConnectGatewayAssociationOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DeleteDirectConnectGatewayAssociation", true, func() error {
		id := aws.ToString(in.AssociationId)
		if id == "" {
			for _, aid := range sortedKeys(f.st().Assocs) {
				a := f.st().Assocs[aid]
				if a.GatewayID == aws.ToString(in.DirectConnectGatewayId) && a.VGWID == aws.ToString(in.VirtualGatewayId) && a.state(f.c) != "disassociated" {
					id = aid
				}
			}
		}
		a, err := f.assoc(id)
		if err != nil {
			return err
		}
		if a.Deleted.IsZero() {
			a.Deleted = f.c.now()
		}
		o := a.out(f.c)
		out = &directconnect.DeleteDirectConnectGatewayAssociationOutput{DirectConnectGatewayAssociation: &o}
		return nil
	})
	return out, err
}

// DescribeConnections lists dedicated connections (see AddConnection).
func (f *DirectConnect) DescribeConnections(ctx context.Context, in *directconnect.DescribeConnectionsInput, _ ...func(*directconnect.Options)) (*directconnect.DescribeConnectionsOutput, error) {
	var out *directconnect.DescribeConnectionsOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DescribeConnections", false, func() error {
		s := f.st()
		id := aws.ToString(in.ConnectionId)
		if _, ok := s.Connections[id]; id != "" && !ok {
			return dxError("Connection ID %s has an invalid format or does not exist", id)
		}
		out = &directconnect.DescribeConnectionsOutput{}
		for _, cid := range sortedKeys(s.Connections) {
			c := s.Connections[cid]
			if id != "" && cid != id {
				continue
			}
			out.Connections = append(out.Connections, types.Connection{
				ConnectionId: aws.String(c.ID), ConnectionName: aws.String(c.Name), ConnectionState: types.ConnectionState(c.State),
				Location: aws.String(c.Location), Bandwidth: aws.String("1Gbps"), OwnerAccount: aws.String(f.c.account), Region: aws.String(f.c.region),
			})
		}
		return nil
	})
	return out, err
}

// CreatePrivateVirtualInterface creates a private VIF on an available
// connection, attached to a Direct Connect gateway (pending → available
// after two minutes; the BGP session stays down).
func (f *DirectConnect) CreatePrivateVirtualInterface(ctx context.Context, in *directconnect.CreatePrivateVirtualInterfaceInput, _ ...func(*directconnect.Options)) (*directconnect.CreatePrivateVirtualInterfaceOutput, error) {
	var out *directconnect.CreatePrivateVirtualInterfaceOutput
	err := f.c.call(ctx, directconnect.ServiceID, "CreatePrivateVirtualInterface", true, func() error {
		s := f.st()
		conn, ok := s.Connections[aws.ToString(in.ConnectionId)]
		if !ok {
			return dxError("Connection ID %s has an invalid format or does not exist", aws.ToString(in.ConnectionId))
		}
		if conn.State != "available" {
			return dxError("Connection %s is in state %s", conn.ID, conn.State)
		}
		n := in.NewPrivateVirtualInterface
		if n == nil {
			return dxError("newPrivateVirtualInterface is required")
		}
		name := aws.ToString(n.VirtualInterfaceName)
		asn := int64(n.Asn)
		if n.AsnLong != nil {
			asn = *n.AsnLong
		}
		mtu := int32(1500)
		if n.Mtu != nil {
			mtu = *n.Mtu
		}
		switch {
		case name == "" || len(name) > 100:
			return dxError("Virtual interface name must be 1-100 characters")
		case n.Vlan < 1 || n.Vlan > 4094:
			return dxError("VLAN %d is outside 1-4094", n.Vlan)
		case asn < 1 || asn > 4294967294:
			return dxError("ASN %d is outside 1-4294967294", asn)
		case n.AuthKey != nil && (len(*n.AuthKey) < 6 || len(*n.AuthKey) > 80):
			return dxError("BGP authentication key must be 6-80 characters")
		case mtu != 1500 && mtu != 8500 && mtu != 9001:
			return dxError("MTU %d is not supported", mtu)
		case n.AddressFamily != "" && n.AddressFamily != types.AddressFamilyIPv4:
			return dxError("only ipv4 is supported by the fake")
		case (n.AmazonAddress == nil) != (n.CustomerAddress == nil):
			return dxError("amazonAddress and customerAddress must be given together")
		case aws.ToString(n.VirtualGatewayId) != "":
			return dxError("the fake supports Direct Connect gateway attachments only")
		}
		g, err := f.gateway(aws.ToString(n.DirectConnectGatewayId))
		if err != nil {
			return err
		}
		for _, id := range sortedKeys(s.VIFs) {
			if v := s.VIFs[id]; v.ConnectionID == conn.ID && v.VLAN == n.Vlan && v.state(f.c) != "deleted" {
				return dxError("VLAN %d is already in use on connection %s by %s", n.Vlan, conn.ID, id)
			}
		}
		x := mix(f.c.seq + 1)
		v := &fakeVIF{
			ID: fmt.Sprintf("dxvif-%08x", uint32(x)), Name: name, ConnectionID: conn.ID, VLAN: n.Vlan, ASN: asn, MTU: mtu, GatewayID: g.ID,
			AuthKey: aws.ToString(n.AuthKey), AmazonAddress: aws.ToString(n.AmazonAddress), CustomerAddress: aws.ToString(n.CustomerAddress),
			Tags: fromDXTags(n.Tags), Created: f.c.now(),
		}
		f.c.seq++
		if v.AmazonAddress == "" {
			base := fmt.Sprintf("169.254.%d.%d", 100+x%100, (x>>8)%32*8)
			v.AmazonAddress, v.CustomerAddress = hostIn(base+"/29", -3)+"/29", hostIn(base+"/29", -2)+"/29"
		}
		if v.AuthKey == "" {
			v.AuthKey = fmt.Sprintf("0x%x", mix(x))
		}
		s.VIFs[v.ID] = v
		f.c.created(v.ID)
		o := f.vifOut(v)
		out = &directconnect.CreatePrivateVirtualInterfaceOutput{
			VirtualInterfaceId: o.VirtualInterfaceId, VirtualInterfaceName: o.VirtualInterfaceName, VirtualInterfaceType: o.VirtualInterfaceType,
			VirtualInterfaceState: o.VirtualInterfaceState, ConnectionId: o.ConnectionId, Vlan: o.Vlan, Asn: o.Asn, AsnLong: o.AsnLong,
			AmazonAddress: o.AmazonAddress, CustomerAddress: o.CustomerAddress, AddressFamily: o.AddressFamily, Mtu: o.Mtu,
			DirectConnectGatewayId: o.DirectConnectGatewayId, OwnerAccount: o.OwnerAccount, Region: o.Region, BgpPeers: o.BgpPeers, Tags: o.Tags,
		}
		return nil
	})
	return out, err
}

// DescribeVirtualInterfaces lists VIFs by connection or VIF ID. Deleted
// VIFs stay visible for ten minutes.
func (f *DirectConnect) DescribeVirtualInterfaces(ctx context.Context, in *directconnect.DescribeVirtualInterfacesInput, _ ...func(*directconnect.Options)) (*directconnect.DescribeVirtualInterfacesOutput, error) {
	var out *directconnect.DescribeVirtualInterfacesOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DescribeVirtualInterfaces", false, func() error {
		s := f.st()
		id := aws.ToString(in.VirtualInterfaceId)
		if _, ok := s.VIFs[id]; id != "" && (!ok || f.c.hidden(id)) {
			return dxError("Virtual interface %s does not exist", id)
		}
		out = &directconnect.DescribeVirtualInterfacesOutput{}
		for _, vid := range sortedKeys(s.VIFs) {
			v := s.VIFs[vid]
			if !v.Deleted.IsZero() && f.c.elapsed(v.Deleted, dxDeletingFor+dxDeletedVisible) {
				delete(s.VIFs, vid)
				continue
			}
			if (id != "" && vid != id) || (id == "" && f.c.hidden(vid)) {
				continue
			}
			if c := aws.ToString(in.ConnectionId); c != "" && c != v.ConnectionID {
				continue
			}
			out.VirtualInterfaces = append(out.VirtualInterfaces, f.vifOut(v))
		}
		return nil
	})
	return out, err
}

func (f *DirectConnect) vif(id string) (*fakeVIF, error) {
	v, ok := f.st().VIFs[id]
	if !ok || f.c.hidden(id) || v.state(f.c) == "deleted" {
		return nil, dxError("Virtual interface %s does not exist", id)
	}
	return v, nil
}

// UpdateVirtualInterfaceAttributes changes a VIF's MTU or name.
func (f *DirectConnect) UpdateVirtualInterfaceAttributes(ctx context.Context, in *directconnect.UpdateVirtualInterfaceAttributesInput, _ ...func(*directconnect.Options)) (*directconnect.UpdateVirtualInterfaceAttributesOutput, error) {
	var out *directconnect.UpdateVirtualInterfaceAttributesOutput
	err := f.c.call(ctx, directconnect.ServiceID, "UpdateVirtualInterfaceAttributes", true, func() error {
		v, err := f.vif(aws.ToString(in.VirtualInterfaceId))
		if err != nil {
			return err
		}
		if in.Mtu != nil {
			if m := *in.Mtu; m != 1500 && m != 8500 && m != 9001 {
				return dxError("MTU %d is not supported", m)
			}
			v.MTU = *in.Mtu
		}
		if in.VirtualInterfaceName != nil {
			v.Name = *in.VirtualInterfaceName
		}
		o := f.vifOut(v)
		out = &directconnect.UpdateVirtualInterfaceAttributesOutput{VirtualInterfaceId: o.VirtualInterfaceId, VirtualInterfaceName: o.VirtualInterfaceName, Mtu: o.Mtu, VirtualInterfaceState: o.VirtualInterfaceState}
		return nil
	})
	return out, err
}

// DeleteVirtualInterface starts deleting a VIF (→ deleted after a minute).
func (f *DirectConnect) DeleteVirtualInterface(ctx context.Context, in *directconnect.DeleteVirtualInterfaceInput, _ ...func(*directconnect.Options)) (*directconnect.DeleteVirtualInterfaceOutput, error) {
	var out *directconnect.DeleteVirtualInterfaceOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DeleteVirtualInterface", true, func() error {
		v, err := f.vif(aws.ToString(in.VirtualInterfaceId))
		if err != nil {
			return err
		}
		if v.Deleted.IsZero() {
			v.Deleted = f.c.now()
		}
		out = &directconnect.DeleteVirtualInterfaceOutput{VirtualInterfaceState: types.VirtualInterfaceState(v.state(f.c))}
		return nil
	})
	return out, err
}

// tagsByARN resolves a gateway or VIF ARN to its tag map. Call with mu held.
func (f *DirectConnect) tagsByARN(arn string) (map[string]string, error) {
	s := f.st()
	for _, id := range sortedKeys(s.Gateways) {
		if f.gwARN(id) == arn && s.Gateways[id].state(f.c) != "deleted" {
			return s.Gateways[id].Tags, nil
		}
	}
	for _, id := range sortedKeys(s.VIFs) {
		if f.vifARN(id) == arn && s.VIFs[id].state(f.c) != "deleted" {
			return s.VIFs[id].Tags, nil
		}
	}
	return nil, dxError("Resource %s does not exist", arn)
}

// TagResource adds or overwrites tags on a gateway or VIF, by ARN.
func (f *DirectConnect) TagResource(ctx context.Context, in *directconnect.TagResourceInput, _ ...func(*directconnect.Options)) (*directconnect.TagResourceOutput, error) {
	err := f.c.call(ctx, directconnect.ServiceID, "TagResource", true, func() error {
		tags, err := f.tagsByARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if len(tags) > 50 {
			return apiError("TooManyTagsException", "a resource can have at most 50 tags")
		}
		return nil
	})
	return &directconnect.TagResourceOutput{}, err
}

// UntagResource removes tags from a gateway or VIF, by ARN.
func (f *DirectConnect) UntagResource(ctx context.Context, in *directconnect.UntagResourceInput, _ ...func(*directconnect.Options)) (*directconnect.UntagResourceOutput, error) {
	err := f.c.call(ctx, directconnect.ServiceID, "UntagResource", true, func() error {
		tags, err := f.tagsByARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	return &directconnect.UntagResourceOutput{}, err
}

// DescribeTags returns the tags of gateways and VIFs, by ARN.
func (f *DirectConnect) DescribeTags(ctx context.Context, in *directconnect.DescribeTagsInput, _ ...func(*directconnect.Options)) (*directconnect.DescribeTagsOutput, error) {
	var out *directconnect.DescribeTagsOutput
	err := f.c.call(ctx, directconnect.ServiceID, "DescribeTags", false, func() error {
		out = &directconnect.DescribeTagsOutput{}
		for _, arn := range in.ResourceArns {
			tags, err := f.tagsByARN(arn)
			if err != nil {
				return err
			}
			out.ResourceTags = append(out.ResourceTags, types.ResourceTag{ResourceArn: aws.String(arn), Tags: dxTags(tags)})
		}
		return nil
	})
	return out, err
}

// AddConnection adds a dedicated connection (a cross-connect that exists
// outside the API) in state "available", "down" or "ordering", and
// returns its ID.
func (f *DirectConnect) AddConnection(name, location, state string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.c.seq++
	c := &fakeDXConn{ID: fmt.Sprintf("dxcon-%08x", uint32(mix(f.c.seq))), Name: name, Location: location, State: state}
	f.st().Connections[c.ID] = c
	return c.ID
}

// Gateways returns the IDs of the Direct Connect gateways not deleted, for
// assertions.
func (f *DirectConnect) Gateways() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(f.st().Gateways) {
		if f.st().Gateways[id].Deleted.IsZero() {
			out = append(out, id)
		}
	}
	return out
}

// VirtualInterfaces returns the IDs of the VIFs not deleted, for
// assertions.
func (f *DirectConnect) VirtualInterfaces() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(f.st().VIFs) {
		if f.st().VIFs[id].Deleted.IsZero() {
			out = append(out, id)
		}
	}
	return out
}

// AssociationPrefixes returns the allowed prefixes of the live association
// of a virtual private gateway, for assertions.
func (f *DirectConnect) AssociationPrefixes(vgwID string) []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for _, id := range sortedKeys(f.st().Assocs) {
		if a := f.st().Assocs[id]; a.VGWID == vgwID && a.Deleted.IsZero() {
			return slices.Clone(a.Prefixes)
		}
	}
	return nil
}
