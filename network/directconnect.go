package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/directconnect"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/directconnect/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// DirectConnectAPI is the part of the Direct Connect client
// EnsureDirectConnect and DeleteDirectConnect use.
type DirectConnectAPI interface {
	CreateDirectConnectGateway(context.Context, *directconnect.CreateDirectConnectGatewayInput, ...func(*directconnect.Options)) (*directconnect.CreateDirectConnectGatewayOutput, error)
	DescribeDirectConnectGateways(context.Context, *directconnect.DescribeDirectConnectGatewaysInput, ...func(*directconnect.Options)) (*directconnect.DescribeDirectConnectGatewaysOutput, error)
	DeleteDirectConnectGateway(context.Context, *directconnect.DeleteDirectConnectGatewayInput, ...func(*directconnect.Options)) (*directconnect.DeleteDirectConnectGatewayOutput, error)
	CreateDirectConnectGatewayAssociation(context.Context, *directconnect.CreateDirectConnectGatewayAssociationInput, ...func(*directconnect.Options)) (*directconnect.CreateDirectConnectGatewayAssociationOutput, error)
	DescribeDirectConnectGatewayAssociations(context.Context, *directconnect.DescribeDirectConnectGatewayAssociationsInput, ...func(*directconnect.Options)) (*directconnect.DescribeDirectConnectGatewayAssociationsOutput, error)
	UpdateDirectConnectGatewayAssociation(context.Context, *directconnect.UpdateDirectConnectGatewayAssociationInput, ...func(*directconnect.Options)) (*directconnect.UpdateDirectConnectGatewayAssociationOutput, error)
	DeleteDirectConnectGatewayAssociation(context.Context, *directconnect.DeleteDirectConnectGatewayAssociationInput, ...func(*directconnect.Options)) (*directconnect.DeleteDirectConnectGatewayAssociationOutput, error)
	DescribeConnections(context.Context, *directconnect.DescribeConnectionsInput, ...func(*directconnect.Options)) (*directconnect.DescribeConnectionsOutput, error)
	CreatePrivateVirtualInterface(context.Context, *directconnect.CreatePrivateVirtualInterfaceInput, ...func(*directconnect.Options)) (*directconnect.CreatePrivateVirtualInterfaceOutput, error)
	DescribeVirtualInterfaces(context.Context, *directconnect.DescribeVirtualInterfacesInput, ...func(*directconnect.Options)) (*directconnect.DescribeVirtualInterfacesOutput, error)
	UpdateVirtualInterfaceAttributes(context.Context, *directconnect.UpdateVirtualInterfaceAttributesInput, ...func(*directconnect.Options)) (*directconnect.UpdateVirtualInterfaceAttributesOutput, error)
	DeleteVirtualInterface(context.Context, *directconnect.DeleteVirtualInterfaceInput, ...func(*directconnect.Options)) (*directconnect.DeleteVirtualInterfaceOutput, error)
	TagResource(context.Context, *directconnect.TagResourceInput, ...func(*directconnect.Options)) (*directconnect.TagResourceOutput, error)
}

// DirectConnectClients are the clients EnsureDirectConnect uses. Secrets
// reads the BGP authentication key; it may be nil without a connection.
type DirectConnectClients struct {
	DX      DirectConnectAPI
	Secrets SecretReader
}

// Change kinds of Direct Connect.
const (
	KindDXGateway     = "dx-gateway"
	KindDXAssociation = "dx-gateway-association"
	KindPrivateVIF    = "dx-private-vif"
)

// DirectConnectSpec describes the backup path over Direct Connect: a
// Direct Connect gateway associated with the virtual private gateway,
// and a private virtual interface on a connection once one exists.
type DirectConnectSpec struct {
	// AmazonSideASN is the Direct Connect gateway's private ASN. It
	// cannot change after creation.
	AmazonSideASN int64
	// VPNGatewayID is the virtual private gateway to associate
	// (VPNGateway.ID); required by Ensure. It must be attached to the VPC.
	VPNGatewayID string
	// VPCCIDR is the VPC's block; AllowedPrefixes must cover it.
	VPCCIDR string
	// AllowedPrefixes are advertised to on-premises over Direct Connect;
	// default [VPCCIDR]. Each association takes at most 20.
	AllowedPrefixes []string

	// ConnectionID is an existing dedicated or hosted connection (dxcon-
	// or dxlag-). Empty: the gateway and association are made and the
	// VIF waits for a connection (the plan says so).
	ConnectionID string
	// VLAN (1-4094), CustomerASN (the on-premises router's BGP ASN) and
	// AuthKeySecretARN (Secrets Manager secret with the BGP MD5 key, 6-80
	// characters) are required with a ConnectionID.
	VLAN             int
	CustomerASN      int64
	AuthKeySecretARN string
	// AmazonAddress and CustomerAddress are the BGP peer addresses in
	// CIDR form (for example 169.254.255.1/30 and 169.254.255.2/30), both
	// or neither: empty lets AWS assign them.
	AmazonAddress, CustomerAddress string
	// MTU is 1500 (default when 0), 8500 or 9001.
	MTU int
}

func (s DirectConnectSpec) allowed() []string {
	if len(s.AllowedPrefixes) == 0 {
		return []string{s.VPCCIDR}
	}
	var out []string
	for _, p := range s.AllowedPrefixes {
		out = append(out, netip.MustParsePrefix(p).Masked().String())
	}
	return out
}

func (s DirectConnectSpec) mtu() int32 {
	if s.MTU == 0 {
		return 1500
	}
	return int32(s.MTU)
}

func (s DirectConnectSpec) wantsVIF() bool {
	return s.ConnectionID != "" || s.VLAN != 0 || s.CustomerASN != 0 || s.AuthKeySecretARN != "" || s.AmazonAddress != "" || s.CustomerAddress != ""
}

// Validate checks the spec: the ASNs, that the allowed prefixes cover the
// VPC, and the VIF fields when a connection (or any VIF field) is given.
func (s DirectConnectSpec) Validate() error {
	errs := []error{checkID("directConnect.vpnGatewayId", s.VPNGatewayID, "vgw-"), checkAmazonASN("directConnect.amazonSideAsn", s.AmazonSideASN)}
	vpc, err := parseCIDR("directConnect.vpcCidr", s.VPCCIDR)
	errs = append(errs, err)
	if len(s.AllowedPrefixes) > 20 {
		errs = append(errs, fmt.Errorf("directConnect.allowedPrefixes: %d prefixes; an association takes at most 20", len(s.AllowedPrefixes)))
	}
	covered := len(s.AllowedPrefixes) == 0
	for i, p := range s.AllowedPrefixes {
		pp, err := parseCIDR(fmt.Sprintf("directConnect.allowedPrefixes[%d]", i), p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if vpc.IsValid() && pp.Bits() <= vpc.Bits() && pp.Contains(vpc.Addr()) {
			covered = true
		}
	}
	if !covered && vpc.IsValid() {
		errs = append(errs, fmt.Errorf("directConnect.allowedPrefixes: none covers the VPC's %s; on-premises would not learn a route to it", vpc))
	}
	if !s.wantsVIF() {
		return errors.Join(errs...)
	}
	if s.ConnectionID != "" && !strings.HasPrefix(s.ConnectionID, "dxcon-") && !strings.HasPrefix(s.ConnectionID, "dxlag-") {
		errs = append(errs, fmt.Errorf("directConnect.connectionId: %q is not a connection (dxcon-...) or LAG (dxlag-...) ID", s.ConnectionID))
	}
	if s.VLAN < 1 || s.VLAN > 4094 {
		errs = append(errs, fmt.Errorf("directConnect.vlan: %d outside 1..4094", s.VLAN))
	}
	errs = append(errs, checkCustomerASN("directConnect.customerAsn", s.CustomerASN))
	if s.CustomerASN == s.AmazonSideASN {
		errs = append(errs, fmt.Errorf("directConnect.customerAsn: %d equals the Amazon side ASN; the two BGP peers need different ASNs", s.CustomerASN))
	}
	if s.AuthKeySecretARN == "" {
		errs = append(errs, errors.New("directConnect.authKeySecretArn: required with a connection (BGP sessions are authenticated)"))
	}
	errs = append(errs, checkSecretARN("directConnect.authKeySecretArn", s.AuthKeySecretARN))
	if (s.AmazonAddress == "") != (s.CustomerAddress == "") {
		errs = append(errs, errors.New("directConnect.amazonAddress, directConnect.customerAddress: give both or neither"))
	} else if s.AmazonAddress != "" {
		a, err1 := netip.ParsePrefix(s.AmazonAddress)
		c, err2 := netip.ParsePrefix(s.CustomerAddress)
		switch {
		case err1 != nil || !a.Addr().Is4():
			errs = append(errs, fmt.Errorf("directConnect.amazonAddress: %q is not an IPv4 address in CIDR form", s.AmazonAddress))
		case err2 != nil || !c.Addr().Is4():
			errs = append(errs, fmt.Errorf("directConnect.customerAddress: %q is not an IPv4 address in CIDR form", s.CustomerAddress))
		case a.Masked() != c.Masked() || a.Addr() == c.Addr():
			errs = append(errs, fmt.Errorf("directConnect.customerAddress: %s and amazonAddress %s must be two addresses of one subnet", c, a))
		}
	}
	if m := s.MTU; m != 0 && m != 1500 && m != 8500 && m != 9001 {
		errs = append(errs, fmt.Errorf("directConnect.mtu: %d is not 1500, 8500 or 9001", m))
	}
	return errors.Join(errs...)
}

// PrivateVIF is an ensured private virtual interface.
type PrivateVIF struct {
	ID              string
	State           string
	BGPStatus       string
	VLAN            int
	AmazonAddress   string
	CustomerAddress string
}

// DirectConnect is the ensured Direct Connect side.
type DirectConnect struct {
	GatewayID       string
	AssociationID   string
	AllowedPrefixes []string
	// VIF is nil until the spec names a connection that is available.
	VIF *PrivateVIF
}

// dxClientError is the one error code Direct Connect uses for client
// errors, "does not exist" included.
const dxClientError = "DirectConnectClientException"

// dxTimeout bounds the waits for the gateway and the association.
const dxTimeout = 20 * time.Minute

func dxgwName(env migration.Env) string  { return env.Name("dxgw") }
func vifName(env migration.Env) string   { return env.Name("vif-private") }
func assocName(env migration.Env) string { return env.Name("dxgw") + "/" + env.Name("vgw") }

// EnsureDirectConnect makes the env's Direct Connect side exist and
// converge: the gateway "dxgw-<suffix>" with its Amazon-side ASN, its
// association with the virtual private gateway advertising exactly the
// allowed prefixes, and — when the spec names a connection that is
// available — the private VIF "vif-private-<suffix>" on it, attached to
// the gateway, with the BGP key read from the spec's secret through
// c.Secrets.
//
// The gateway is found by its name and the ownership tag (a look-alike
// without the tag is ignored, never adopted) and created with its tags;
// the association of that gateway and the VGW is created or its prefixes
// updated, waiting until associated. Without a connection ID, or while
// the connection is not available, the VIF is reported as waiting for it
// (a noop Change with a note): the gateway and the association do not
// need the circuit. The VIF's BGP session is not waited for: it comes up
// when the on-premises router peers. Refused with an error: a changed
// gateway ASN, or a VIF whose connection, VLAN, ASN, addresses or BGP key
// differ from the spec (none can change in place). The MTU and tags
// converge.
func EnsureDirectConnect(ctx context.Context, env migration.Env, c DirectConnectClients, spec DirectConnectSpec) (DirectConnect, error) {
	name := dxgwName(env)
	if err := migration.Validate(env, spec); err != nil {
		return DirectConnect{}, fmt.Errorf("ensure direct connect %q: %w", name, err)
	}
	if err := errors.Join(required("directConnect.vpnGatewayId", spec.VPNGatewayID), realIDs(env, "directConnect.vpnGatewayId", spec.VPNGatewayID)); err != nil {
		return DirectConnect{}, fmt.Errorf("ensure direct connect %q: %w", name, err)
	}
	out, err := ensureDirectConnect(ctx, env, c, spec)
	if err != nil {
		return DirectConnect{}, fmt.Errorf("ensure direct connect %q: %w", name, err)
	}
	return out, nil
}

func ensureDirectConnect(ctx context.Context, env migration.Env, c DirectConnectClients, spec DirectConnectSpec) (DirectConnect, error) {
	var key string
	if spec.ConnectionID != "" {
		var err error
		if key, err = readSecret(ctx, c.Secrets, "directConnect.authKeySecretArn", spec.AuthKeySecretARN); err != nil {
			return DirectConnect{}, err
		}
	}
	out := DirectConnect{AllowedPrefixes: spec.allowed()}
	var err error
	if out.GatewayID, err = ensureDXGateway(ctx, env, c.DX, spec); err != nil {
		return DirectConnect{}, err
	}
	if out.AssociationID, err = ensureDXAssociation(ctx, env, c.DX, spec, out.GatewayID); err != nil {
		return DirectConnect{}, err
	}
	if out.VIF, err = ensurePrivateVIF(ctx, env, c.DX, spec, out.GatewayID, key); err != nil {
		return DirectConnect{}, err
	}
	return out, nil
}

func (s DirectConnectSpec) gwARN(env migration.Env, id string) string {
	return "arn:aws:directconnect::" + env.Account + ":dx-gateway/" + id
}

func vifARN(env migration.Env, id string) string {
	return "arn:aws:directconnect:" + env.Region + ":" + env.Account + ":dxvif/" + id
}

func dxTags(m map[string]string) []dxtypes.Tag {
	return awsx.Tags(m, func(k, v *string) dxtypes.Tag { return dxtypes.Tag{Key: k, Value: v} })
}

func fromDXTags(tags []dxtypes.Tag) map[string]string {
	return awsx.TagMap(tags, func(t dxtypes.Tag) (*string, *string) { return t.Key, t.Value })
}

// findDXGateway returns the env's live gateway (by name and ownership
// tag), nil when there is none, or an error when there are several.
func findDXGateway(ctx context.Context, env migration.Env, api DirectConnectAPI) (*dxtypes.DirectConnectGateway, error) {
	name := dxgwName(env)
	var live []dxtypes.DirectConnectGateway
	in := &directconnect.DescribeDirectConnectGatewaysInput{MaxResults: aws.Int32(100)}
	for {
		out, err := api.DescribeDirectConnectGateways(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe direct connect gateways: %w", err)
		}
		for _, g := range out.DirectConnectGateways {
			st := g.DirectConnectGatewayState
			if aws.ToString(g.DirectConnectGatewayName) == name && env.Owns(fromDXTags(g.Tags)) && st != dxtypes.DirectConnectGatewayStateDeleted && st != dxtypes.DirectConnectGatewayStateDeleting {
				live = append(live, g)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	switch len(live) {
	case 0:
		return nil, nil
	case 1:
		return &live[0], nil
	}
	return nil, fmt.Errorf("%d Direct Connect gateways are named %s with %s=%s; expected one: delete the extras", len(live), name, migration.OwnerTag, env.Suffix)
}

func ensureDXGateway(ctx context.Context, env migration.Env, api DirectConnectAPI, spec DirectConnectSpec) (string, error) {
	name := dxgwName(env)
	found, err := findDXGateway(ctx, env, api)
	if err != nil {
		return "", err
	}
	if found == nil {
		createDiff := []migration.FieldDiff{{Field: "amazonSideAsn", To: fmt.Sprint(spec.AmazonSideASN)}}
		if env.DryRun {
			id := migration.Pending(name)
			report(env, KindDXGateway, name, id, migration.ActionCreate, createDiff, "")
			return id, nil
		}
		out, err := api.CreateDirectConnectGateway(ctx, &directconnect.CreateDirectConnectGatewayInput{
			DirectConnectGatewayName: aws.String(name), AmazonSideAsn: aws.Int64(spec.AmazonSideASN), Tags: dxTags(env.NameTags(name)),
		})
		if err != nil {
			return "", fmt.Errorf("create gateway: %w", err)
		}
		id := aws.ToString(out.DirectConnectGateway.DirectConnectGatewayId)
		err = env.Poll(ctx, "direct connect gateway "+id+" to be available", 10*time.Second, dxTimeout, func(ctx context.Context) (string, bool, error) {
			g, err := api.DescribeDirectConnectGateways(ctx, &directconnect.DescribeDirectConnectGatewaysInput{DirectConnectGatewayId: aws.String(id)})
			switch {
			case awsx.HasCode(err, dxClientError): // not visible yet: Direct Connect says so with its one client error code
				return "not visible yet", false, nil
			case err != nil:
				return "", false, err
			case len(g.DirectConnectGateways) == 0:
				return "not visible yet", false, nil
			}
			st := g.DirectConnectGateways[0].DirectConnectGatewayState
			return string(st), st == dxtypes.DirectConnectGatewayStateAvailable, nil
		})
		if err != nil {
			return "", err
		}
		report(env, KindDXGateway, name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	id := aws.ToString(found.DirectConnectGatewayId)
	if asn := aws.ToInt64(found.AmazonSideAsn); asn != spec.AmazonSideASN {
		return "", fmt.Errorf("amazonSideAsn is immutable: Direct Connect gateway %s has %d, the spec wants %d", id, asn, spec.AmazonSideASN)
	}
	var c migration.Converge
	c.Tags(fromDXTags(found.Tags), env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &directconnect.TagResourceInput{ResourceArn: aws.String(spec.gwARN(env, id)), Tags: dxTags(missing)}); err != nil {
			return fmt.Errorf("tag gateway %s: %w", id, err)
		}
		return nil
	})
	if err := c.Apply(env, migration.Change{Kind: KindDXGateway, Name: name, ID: id}); err != nil {
		return "", err
	}
	return id, nil
}

// liveAssociation returns the association of the gateway with the VGW
// that is not (being) disassociated, or nil.
func liveAssociation(ctx context.Context, api DirectConnectAPI, in *directconnect.DescribeDirectConnectGatewayAssociationsInput) ([]dxtypes.DirectConnectGatewayAssociation, error) {
	var live []dxtypes.DirectConnectGatewayAssociation
	in.MaxResults = aws.Int32(100)
	for {
		out, err := api.DescribeDirectConnectGatewayAssociations(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe gateway associations: %w", err)
		}
		for _, a := range out.DirectConnectGatewayAssociations {
			if st := a.AssociationState; st != dxtypes.DirectConnectGatewayAssociationStateDisassociated && st != dxtypes.DirectConnectGatewayAssociationStateDisassociating {
				live = append(live, a)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return live, nil
		}
		in.NextToken = out.NextToken
	}
}

func prefixesOf(a dxtypes.DirectConnectGatewayAssociation) []string {
	var out []string
	for _, p := range a.AllowedPrefixesToDirectConnectGateway {
		out = append(out, aws.ToString(p.Cidr))
	}
	slices.Sort(out)
	return out
}

func routeFilters(cidrs []string) []dxtypes.RouteFilterPrefix {
	var out []dxtypes.RouteFilterPrefix
	for _, c := range cidrs {
		out = append(out, dxtypes.RouteFilterPrefix{Cidr: aws.String(c)})
	}
	return out
}

func ensureDXAssociation(ctx context.Context, env migration.Env, api DirectConnectAPI, spec DirectConnectSpec, gwID string) (string, error) {
	name := assocName(env)
	want := slices.Sorted(slices.Values(spec.allowed()))
	createDiff := []migration.FieldDiff{{Field: "virtualGateway", To: spec.VPNGatewayID}, {Field: "allowedPrefixes", To: strings.Join(want, ",")}}
	if migration.AnyPending(gwID, spec.VPNGatewayID) {
		id := migration.Pending(name)
		report(env, KindDXAssociation, name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	live, err := liveAssociation(ctx, api, &directconnect.DescribeDirectConnectGatewayAssociationsInput{DirectConnectGatewayId: aws.String(gwID), VirtualGatewayId: aws.String(spec.VPNGatewayID)})
	if err != nil {
		return "", err
	}
	if len(live) == 0 {
		if env.DryRun {
			id := migration.Pending(name)
			report(env, KindDXAssociation, name, id, migration.ActionCreate, createDiff, "")
			return id, nil
		}
		out, err := api.CreateDirectConnectGatewayAssociation(ctx, &directconnect.CreateDirectConnectGatewayAssociationInput{
			DirectConnectGatewayId: aws.String(gwID), VirtualGatewayId: aws.String(spec.VPNGatewayID), AddAllowedPrefixesToDirectConnectGateway: routeFilters(want),
		})
		if err != nil {
			return "", fmt.Errorf("associate %s: %w", spec.VPNGatewayID, err)
		}
		id := aws.ToString(out.DirectConnectGatewayAssociation.AssociationId)
		if err := waitAssociated(ctx, env, api, id); err != nil {
			return "", err
		}
		report(env, KindDXAssociation, name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	a := live[0]
	id := aws.ToString(a.AssociationId)
	have := prefixesOf(a)
	var add, remove []string
	for _, p := range want {
		if !slices.Contains(have, p) {
			add = append(add, p)
		}
	}
	for _, p := range have {
		if !slices.Contains(want, p) {
			remove = append(remove, p)
		}
	}
	var c migration.Converge
	if a.AssociationState != dxtypes.DirectConnectGatewayAssociationStateAssociated {
		c.Then(func() error { return waitAssociated(ctx, env, api, id) })
	}
	if len(add)+len(remove) > 0 {
		c.Fix("allowedPrefixes", strings.Join(have, ","), strings.Join(want, ","), func() error {
			_, err := api.UpdateDirectConnectGatewayAssociation(ctx, &directconnect.UpdateDirectConnectGatewayAssociationInput{
				AssociationId: aws.String(id), AddAllowedPrefixesToDirectConnectGateway: routeFilters(add), RemoveAllowedPrefixesToDirectConnectGateway: routeFilters(remove),
			})
			if err != nil {
				return fmt.Errorf("update allowed prefixes of %s: %w", id, err)
			}
			return waitAssociated(ctx, env, api, id)
		})
	}
	if err := c.Apply(env, migration.Change{Kind: KindDXAssociation, Name: name, ID: id}); err != nil {
		return "", err
	}
	return id, nil
}

func waitAssociated(ctx context.Context, env migration.Env, api DirectConnectAPI, id string) error {
	return env.Poll(ctx, "direct connect gateway association "+id+" to be associated", 15*time.Second, dxTimeout, func(ctx context.Context) (string, bool, error) {
		out, err := api.DescribeDirectConnectGatewayAssociations(ctx, &directconnect.DescribeDirectConnectGatewayAssociationsInput{AssociationId: aws.String(id)})
		if err != nil {
			return "", false, err
		}
		if len(out.DirectConnectGatewayAssociations) == 0 {
			return "not visible yet", false, nil
		}
		a := out.DirectConnectGatewayAssociations[0]
		switch a.AssociationState {
		case dxtypes.DirectConnectGatewayAssociationStateAssociated:
			return "", true, nil
		case dxtypes.DirectConnectGatewayAssociationStateDisassociated, dxtypes.DirectConnectGatewayAssociationStateDisassociating:
			return "", false, fmt.Errorf("association %s is %s: %s", id, a.AssociationState, aws.ToString(a.StateChangeError))
		}
		return string(a.AssociationState), false, nil
	})
}

// ownedVIFs returns the env's live private VIFs named vif-private-<suffix>
// (on one connection, or on all when connectionID is "").
func ownedVIFs(ctx context.Context, env migration.Env, api DirectConnectAPI, connectionID string) ([]dxtypes.VirtualInterface, error) {
	in := &directconnect.DescribeVirtualInterfacesInput{}
	if connectionID != "" {
		in.ConnectionId = aws.String(connectionID)
	}
	out, err := api.DescribeVirtualInterfaces(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("describe virtual interfaces: %w", err)
	}
	var live []dxtypes.VirtualInterface
	for _, v := range out.VirtualInterfaces {
		switch v.VirtualInterfaceState {
		case dxtypes.VirtualInterfaceStateDeleting, dxtypes.VirtualInterfaceStateDeleted, dxtypes.VirtualInterfaceStateRejected:
			continue
		}
		if aws.ToString(v.VirtualInterfaceName) == vifName(env) && env.Owns(fromDXTags(v.Tags)) {
			live = append(live, v)
		}
	}
	return live, nil
}

func vifOf(v dxtypes.VirtualInterface) *PrivateVIF {
	out := &PrivateVIF{ID: aws.ToString(v.VirtualInterfaceId), State: string(v.VirtualInterfaceState), VLAN: int(v.Vlan), AmazonAddress: aws.ToString(v.AmazonAddress), CustomerAddress: aws.ToString(v.CustomerAddress)}
	for _, p := range v.BgpPeers {
		out.BGPStatus = string(p.BgpStatus)
	}
	return out
}

func ensurePrivateVIF(ctx context.Context, env migration.Env, api DirectConnectAPI, spec DirectConnectSpec, gwID, key string) (*PrivateVIF, error) {
	name := vifName(env)
	if spec.ConnectionID == "" {
		report(env, KindPrivateVIF, name, "", migration.ActionNoop, nil, "waits for a Direct Connect connection: set directConnect.connectionId (and vlan, customerAsn, authKeySecretArn) once the cross-connect is provisioned")
		return nil, nil
	}
	createDiff := []migration.FieldDiff{{Field: "connection", To: spec.ConnectionID}, {Field: "vlan", To: fmt.Sprint(spec.VLAN)}, {Field: "customerAsn", To: fmt.Sprint(spec.CustomerASN)}}
	conns, err := api.DescribeConnections(ctx, &directconnect.DescribeConnectionsInput{ConnectionId: aws.String(spec.ConnectionID)})
	if err != nil && strings.HasPrefix(spec.ConnectionID, "dxcon-") {
		return nil, fmt.Errorf("directConnect.connectionId: %s: %w", spec.ConnectionID, err)
	}
	if err == nil && strings.HasPrefix(spec.ConnectionID, "dxcon-") {
		if len(conns.Connections) == 0 {
			return nil, fmt.Errorf("directConnect.connectionId: %s does not exist", spec.ConnectionID)
		}
		if st := conns.Connections[0].ConnectionState; st != dxtypes.ConnectionStateAvailable {
			report(env, KindPrivateVIF, name, "", migration.ActionNoop, nil, fmt.Sprintf("waits for connection %s, which is %s", spec.ConnectionID, st))
			return nil, nil
		}
	}
	vifs, err := ownedVIFs(ctx, env, api, "")
	if err != nil {
		return nil, err
	}
	if len(vifs) > 1 {
		return nil, fmt.Errorf("%d private VIFs are named %s with %s=%s; expected one: delete the extras", len(vifs), name, migration.OwnerTag, env.Suffix)
	}
	if len(vifs) == 0 {
		if env.DryRun || migration.IsPending(gwID) {
			id := migration.Pending(name)
			report(env, KindPrivateVIF, name, id, migration.ActionCreate, createDiff, "")
			return &PrivateVIF{ID: id, VLAN: spec.VLAN}, nil
		}
		n := &dxtypes.NewPrivateVirtualInterface{
			VirtualInterfaceName: aws.String(name), Vlan: int32(spec.VLAN), AsnLong: aws.Int64(spec.CustomerASN), AuthKey: aws.String(key),
			AddressFamily: dxtypes.AddressFamilyIPv4, Mtu: aws.Int32(spec.mtu()), DirectConnectGatewayId: aws.String(gwID), Tags: dxTags(env.NameTags(name)),
		}
		if spec.AmazonAddress != "" {
			n.AmazonAddress, n.CustomerAddress = aws.String(spec.AmazonAddress), aws.String(spec.CustomerAddress)
		}
		out, err := api.CreatePrivateVirtualInterface(ctx, &directconnect.CreatePrivateVirtualInterfaceInput{ConnectionId: aws.String(spec.ConnectionID), NewPrivateVirtualInterface: n})
		if err != nil {
			return nil, fmt.Errorf("create private VIF on %s: %w", spec.ConnectionID, err)
		}
		v := &PrivateVIF{ID: aws.ToString(out.VirtualInterfaceId), State: string(out.VirtualInterfaceState), VLAN: int(out.Vlan), AmazonAddress: aws.ToString(out.AmazonAddress), CustomerAddress: aws.ToString(out.CustomerAddress)}
		report(env, KindPrivateVIF, name, v.ID, migration.ActionCreate, createDiff, "BGP comes up when the on-premises router peers")
		return v, nil
	}
	have := vifs[0]
	id := aws.ToString(have.VirtualInterfaceId)
	var conflicts []string
	conflict := func(field, h, w string) {
		if h != w {
			conflicts = append(conflicts, fmt.Sprintf("%s is %s, the spec wants %s", field, h, w))
		}
	}
	conflict("connection", aws.ToString(have.ConnectionId), spec.ConnectionID)
	conflict("vlan", fmt.Sprint(have.Vlan), fmt.Sprint(spec.VLAN))
	asn := aws.ToInt64(have.AsnLong)
	if asn == 0 {
		asn = int64(have.Asn)
	}
	conflict("customerAsn", fmt.Sprint(asn), fmt.Sprint(spec.CustomerASN))
	conflict("directConnectGateway", aws.ToString(have.DirectConnectGatewayId), gwID)
	if spec.AmazonAddress != "" {
		conflict("amazonAddress", aws.ToString(have.AmazonAddress), spec.AmazonAddress)
		conflict("customerAddress", aws.ToString(have.CustomerAddress), spec.CustomerAddress)
	}
	haveKey := aws.ToString(have.AuthKey)
	for _, p := range have.BgpPeers {
		if p.AuthKey != nil {
			haveKey = aws.ToString(p.AuthKey)
		}
	}
	if !sameSecret(haveKey, key) {
		conflicts = append(conflicts, "the BGP key differs from the secret "+spec.AuthKeySecretARN+" (recreate the BGP peer with the new key, or restore the secret)")
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("private VIF %s cannot change in place: %s", id, strings.Join(conflicts, "; "))
	}
	var c migration.Converge
	if m := aws.ToInt32(have.Mtu); m != spec.mtu() {
		c.Fix("mtu", fmt.Sprint(m), fmt.Sprint(spec.mtu()), func() error {
			if _, err := api.UpdateVirtualInterfaceAttributes(ctx, &directconnect.UpdateVirtualInterfaceAttributesInput{VirtualInterfaceId: aws.String(id), Mtu: aws.Int32(spec.mtu())}); err != nil {
				return fmt.Errorf("set mtu of %s: %w", id, err)
			}
			return nil
		})
	}
	c.Tags(fromDXTags(have.Tags), env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &directconnect.TagResourceInput{ResourceArn: aws.String(vifARN(env, id)), Tags: dxTags(missing)}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
		return nil
	})
	v := vifOf(have)
	note := ""
	if v.BGPStatus != string(dxtypes.BGPStatusUp) {
		note = "BGP is " + v.BGPStatus + " until the on-premises router peers"
	}
	if err := c.Apply(env, migration.Change{Kind: KindPrivateVIF, Name: name, ID: id, Note: note}); err != nil {
		return nil, err
	}
	return v, nil
}

// DeleteDirectConnect deletes the env's private VIF (waiting until it is
// deleted), the gateway's associations (waiting until disassociated) and
// the Direct Connect gateway. Only resources named for this env with its
// ownership tag are touched; the connection itself (a physical circuit
// ordered outside the API) is never touched. Missing ones are no-ops.
func DeleteDirectConnect(ctx context.Context, env migration.Env, c DirectConnectClients, spec DirectConnectSpec) error {
	name := dxgwName(env)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete direct connect %q: %w", name, err)
	}
	if err := deleteDirectConnect(ctx, env, c.DX, spec); err != nil {
		return fmt.Errorf("delete direct connect %q: %w", name, err)
	}
	return nil
}

func deleteDirectConnect(ctx context.Context, env migration.Env, api DirectConnectAPI, spec DirectConnectSpec) error {
	vifs, err := ownedVIFs(ctx, env, api, "")
	if err != nil {
		return err
	}
	if len(vifs) == 0 {
		env.ReportGone(KindPrivateVIF, vifName(env))
	}
	for _, v := range vifs {
		id := aws.ToString(v.VirtualInterfaceId)
		if !env.DryRun {
			if _, err := api.DeleteVirtualInterface(ctx, &directconnect.DeleteVirtualInterfaceInput{VirtualInterfaceId: aws.String(id)}); err != nil {
				return fmt.Errorf("delete private VIF %s: %w", id, err)
			}
			err := env.Poll(ctx, "private VIF "+id+" to be deleted", 15*time.Second, dxTimeout, func(ctx context.Context) (string, bool, error) {
				out, err := api.DescribeVirtualInterfaces(ctx, &directconnect.DescribeVirtualInterfacesInput{VirtualInterfaceId: aws.String(id)})
				switch {
				case awsx.HasCode(err, dxClientError): // "does not exist": gone
					return "", true, nil
				case err != nil:
					return "", false, err
				case len(out.VirtualInterfaces) == 0:
					return "", true, nil
				}
				st := out.VirtualInterfaces[0].VirtualInterfaceState
				return string(st), st == dxtypes.VirtualInterfaceStateDeleted, nil
			})
			if err != nil {
				return err
			}
		}
		report(env, KindPrivateVIF, vifName(env), id, migration.ActionDelete, nil, "")
	}
	gw, err := findDXGateway(ctx, env, api)
	if err != nil {
		return err
	}
	if gw == nil {
		env.ReportGone(KindDXGateway, dxgwName(env))
		return nil
	}
	gwID := aws.ToString(gw.DirectConnectGatewayId)
	assocs, err := liveAssociation(ctx, api, &directconnect.DescribeDirectConnectGatewayAssociationsInput{DirectConnectGatewayId: aws.String(gwID)})
	if err != nil {
		return err
	}
	for _, a := range assocs {
		id := aws.ToString(a.AssociationId)
		if !env.DryRun {
			if _, err := api.DeleteDirectConnectGatewayAssociation(ctx, &directconnect.DeleteDirectConnectGatewayAssociationInput{AssociationId: aws.String(id)}); err != nil {
				return fmt.Errorf("delete association %s: %w", id, err)
			}
			err := env.Poll(ctx, "association "+id+" to be disassociated", 15*time.Second, dxTimeout, func(ctx context.Context) (string, bool, error) {
				out, err := api.DescribeDirectConnectGatewayAssociations(ctx, &directconnect.DescribeDirectConnectGatewayAssociationsInput{AssociationId: aws.String(id)})
				if err != nil {
					return "", false, err
				}
				if len(out.DirectConnectGatewayAssociations) == 0 {
					return "", true, nil
				}
				st := out.DirectConnectGatewayAssociations[0].AssociationState
				return string(st), st == dxtypes.DirectConnectGatewayAssociationStateDisassociated, nil
			})
			if err != nil {
				return err
			}
		}
		report(env, KindDXAssociation, assocName(env), id, migration.ActionDelete, nil, "")
	}
	if !env.DryRun {
		if _, err := api.DeleteDirectConnectGateway(ctx, &directconnect.DeleteDirectConnectGatewayInput{DirectConnectGatewayId: aws.String(gwID)}); err != nil {
			return fmt.Errorf("delete gateway %s: %w", gwID, err)
		}
	}
	report(env, KindDXGateway, dxgwName(env), gwID, migration.ActionDelete, nil, "")
	return nil
}
