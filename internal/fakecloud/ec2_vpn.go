package fakecloud

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type fakeVGW struct {
	ID      string            `json:"id"`
	ASN     int64             `json:"asn"`
	Tags    map[string]string `json:"tags"`
	Created time.Time         `json:"created"`
	Deleted time.Time         `json:"deleted,omitzero"`
	// The VPC attachment: AttachedAt / DetachedAt drive attaching →
	// attached and detaching → detached on the clock.
	VPCID      string    `json:"vpcId,omitempty"`
	AttachedAt time.Time `json:"attachedAt,omitzero"`
	DetachedAt time.Time `json:"detachedAt,omitzero"`
}

type fakeCGW struct {
	ID         string            `json:"id"`
	IP         string            `json:"ip"`
	ASN        int64             `json:"asn"`
	DeviceName string            `json:"deviceName,omitempty"`
	Tags       map[string]string `json:"tags"`
	Deleted    time.Time         `json:"deleted,omitzero"`
}

type fakeVPN struct {
	ID            string            `json:"id"`
	CGWID         string            `json:"cgwId"`
	VGWID         string            `json:"vgwId"`
	StaticOnly    bool              `json:"staticOnly"`
	LocalCIDR     string            `json:"localCidr"`
	RemoteCIDR    string            `json:"remoteCidr"`
	Tunnels       []fakeTunnel      `json:"tunnels"`
	Tags          map[string]string `json:"tags"`
	Created       time.Time         `json:"created"`
	ModifiedUntil time.Time         `json:"modifiedUntil,omitzero"`
	Deleted       time.Time         `json:"deleted,omitzero"`
}

type fakeTunnel struct {
	OutsideIP     string   `json:"outsideIp"`
	InsideCIDR    string   `json:"insideCidr"`
	PSK           string   `json:"psk"`
	IKE           []string `json:"ike"`
	P1Enc         []string `json:"p1Enc"`
	P1Int         []string `json:"p1Int"`
	P1DH          []int32  `json:"p1Dh"`
	P2Enc         []string `json:"p2Enc"`
	P2Int         []string `json:"p2Int"`
	P2DH          []int32  `json:"p2Dh"`
	P1Life        int32    `json:"p1Life"`
	P2Life        int32    `json:"p2Life"`
	RekeyMargin   int32    `json:"rekeyMargin"`
	RekeyFuzz     int32    `json:"rekeyFuzz"`
	ReplayWindow  int32    `json:"replayWindow"`
	DPDTimeout    int32    `json:"dpdTimeout"`
	DPDAction     string   `json:"dpdAction"`
	StartupAction string   `json:"startupAction"`
	LogEnabled    bool     `json:"logEnabled"`
	LogGroupARN   string   `json:"logGroupArn,omitempty"`
	LogFormat     string   `json:"logFormat,omitempty"`
}

// VPN timings on the fake clock.
const (
	vgwPendingFor     = 30 * time.Second
	vgwAttachingFor   = time.Minute
	vpnPendingFor     = 5 * time.Minute
	vpnModifyingFor   = 2 * time.Minute
	vpnDeletingFor    = time.Minute
	vpnDeletedVisible = time.Hour
)

// vgwDependents are checks, one per kind of resource outside EC2 that
// depends on a virtual private gateway (Direct Connect gateway
// associations), returning a description or "". Called with mu held.
var vgwDependents []func(c *Cloud, vgwID string) string

func init() {
	taggable["vgw-"] = func(c *Cloud, id string) (map[string]string, bool) {
		g, ok := c.EC2().st().VGWs[id]
		if !ok || !g.Deleted.IsZero() {
			return nil, false
		}
		return g.Tags, true
	}
	taggable["cgw-"] = func(c *Cloud, id string) (map[string]string, bool) {
		g, ok := c.EC2().st().CGWs[id]
		if !ok || !g.Deleted.IsZero() {
			return nil, false
		}
		return g.Tags, true
	}
	taggable["vpn-"] = func(c *Cloud, id string) (map[string]string, bool) {
		v, ok := c.EC2().st().VPNs[id]
		if !ok || !v.Deleted.IsZero() {
			return nil, false
		}
		return v.Tags, true
	}
	vpcDependents = append(vpcDependents, func(c *Cloud, vpcID string) string {
		for _, id := range sortedKeys(c.EC2().st().VGWs) {
			if c.EC2().st().VGWs[id].attachedTo(c) == vpcID {
				return "virtual private gateway " + id + " attached"
			}
		}
		return ""
	})
	vgwDependents = append(vgwDependents, func(c *Cloud, vgwID string) string {
		for _, id := range sortedKeys(c.EC2().st().VPNs) {
			v := c.EC2().st().VPNs[id]
			if v.VGWID == vgwID && v.state(c) != "deleted" {
				return "VPN connection " + id
			}
		}
		return ""
	})
}

func (g *fakeVGW) state(c *Cloud) string {
	switch {
	case !g.Deleted.IsZero():
		return "deleted"
	case c.elapsed(g.Created, vgwPendingFor):
		return "available"
	}
	return "pending"
}

// attachment returns the VPC and the attachment state, or "", "".
func (g *fakeVGW) attachment(c *Cloud) (string, string) {
	switch {
	case g.VPCID == "":
		return "", ""
	case !g.DetachedAt.IsZero() && c.elapsed(g.DetachedAt, vgwAttachingFor):
		return g.VPCID, "detached"
	case !g.DetachedAt.IsZero():
		return g.VPCID, "detaching"
	case c.elapsed(g.AttachedAt, vgwAttachingFor):
		return g.VPCID, "attached"
	}
	return g.VPCID, "attaching"
}

// attachedTo returns the VPC the gateway is attached (or attaching,
// detaching) to, or "".
func (g *fakeVGW) attachedTo(c *Cloud) string {
	if g.Deleted.IsZero() {
		if vpc, st := g.attachment(c); st != "" && st != "detached" {
			return vpc
		}
	}
	return ""
}

func (g *fakeVGW) out(c *Cloud) types.VpnGateway {
	o := types.VpnGateway{VpnGatewayId: aws.String(g.ID), State: types.VpnState(g.state(c)), Type: types.GatewayTypeIpsec1, AmazonSideAsn: aws.Int64(g.ASN), Tags: toEC2Tags(g.Tags)}
	if vpc, st := g.attachment(c); st != "" {
		o.VpcAttachments = []types.VpcAttachment{{VpcId: aws.String(vpc), State: types.AttachmentStatus(st)}}
	}
	return o
}

func (f *EC2) vgw(id string) (*fakeVGW, error) {
	g, ok := f.st().VGWs[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidVpnGatewayID.NotFound", "The virtual private gateway ID '%s' does not exist", id)
	}
	return g, nil
}

// privateASN reports whether asn is one AWS accepts as an Amazon-side ASN.
func privateASN(asn int64) bool {
	return asn >= 64512 && asn <= 65534 || asn >= 4200000000 && asn <= 4294967294
}

// CreateVpnGateway creates a virtual private gateway (pending → available
// after 30 s). AmazonSideAsn must be private; the default is 64512.
func (f *EC2) CreateVpnGateway(ctx context.Context, in *ec2.CreateVpnGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateVpnGatewayOutput, error) {
	var out *ec2.CreateVpnGatewayOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateVpnGateway", true, func() error {
		if in.Type != types.GatewayTypeIpsec1 {
			return apiError("InvalidParameterValue", "Invalid value '%s' for type", in.Type)
		}
		asn := int64(64512)
		if in.AmazonSideAsn != nil {
			asn = *in.AmazonSideAsn
		}
		if !privateASN(asn) {
			return apiError("InvalidParameterValue", "The Amazon side ASN %d is not a private ASN (64512-65534 or 4200000000-4294967294)", asn)
		}
		g := &fakeVGW{ID: f.c.newID("vgw"), ASN: asn, Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeVpnGateway), Created: f.c.now()}
		f.st().VGWs[g.ID] = g
		f.c.created(g.ID)
		o := g.out(f.c)
		out = &ec2.CreateVpnGatewayOutput{VpnGateway: &o}
		return nil
	})
	return out, err
}

// DescribeVpnGateways lists gateways by ID and filters (tag:*,
// vpn-gateway-id, state, attachment.vpc-id, attachment.state,
// amazon-side-asn). Deleted gateways stay visible for an hour.
func (f *EC2) DescribeVpnGateways(ctx context.Context, in *ec2.DescribeVpnGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpnGatewaysOutput, error) {
	var out *ec2.DescribeVpnGatewaysOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeVpnGateways", false, func() error {
		for _, id := range in.VpnGatewayIds {
			if _, err := f.vgw(id); err != nil {
				return err
			}
		}
		out = &ec2.DescribeVpnGatewaysOutput{}
		s := f.st()
		for _, id := range sortedKeys(s.VGWs) {
			g := s.VGWs[id]
			if !g.Deleted.IsZero() && f.c.elapsed(g.Deleted, vpnDeletedVisible) {
				delete(s.VGWs, id)
				continue
			}
			if len(in.VpnGatewayIds) > 0 && !slices.Contains(in.VpnGatewayIds, id) {
				continue
			}
			vpc, ast := g.attachment(f.c)
			ok, err := matchFilters(in.Filters, g.Tags, map[string]string{"vpn-gateway-id": id, "state": g.state(f.c), "attachment.vpc-id": vpc, "attachment.state": ast, "amazon-side-asn": strconv.FormatInt(g.ASN, 10), "type": "ipsec.1"})
			if err != nil {
				return err
			}
			if ok && (len(in.VpnGatewayIds) > 0 || !f.c.hidden(id)) {
				out.VpnGateways = append(out.VpnGateways, g.out(f.c))
			}
		}
		return nil
	})
	return out, err
}

// AttachVpnGateway attaches a gateway to a VPC (attaching → attached after
// a minute). A VPC holds one virtual private gateway.
func (f *EC2) AttachVpnGateway(ctx context.Context, in *ec2.AttachVpnGatewayInput, _ ...func(*ec2.Options)) (*ec2.AttachVpnGatewayOutput, error) {
	var out *ec2.AttachVpnGatewayOutput
	err := f.c.call(ctx, ec2.ServiceID, "AttachVpnGateway", true, func() error {
		g, err := f.vgw(aws.ToString(in.VpnGatewayId))
		if err != nil {
			return err
		}
		if g.state(f.c) != "available" {
			return apiError("IncorrectState", "The vpn gateway %s is in state %s", g.ID, g.state(f.c))
		}
		v, err := f.vpc(aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		if cur := g.attachedTo(f.c); cur != "" {
			return apiError("Resource.AlreadyAssociated", "The vpn gateway %s is already attached to %s", g.ID, cur)
		}
		for _, o := range f.st().VGWs {
			if o.attachedTo(f.c) == v.ID {
				return apiError("VpnGatewayAttachmentLimitExceeded", "The VPC %s already has a virtual private gateway attached", v.ID)
			}
		}
		g.VPCID, g.AttachedAt, g.DetachedAt = v.ID, f.c.now(), time.Time{}
		out = &ec2.AttachVpnGatewayOutput{VpcAttachment: &types.VpcAttachment{VpcId: aws.String(v.ID), State: types.AttachmentStatusAttaching}}
		return nil
	})
	return out, err
}

// DetachVpnGateway starts detaching a gateway from its VPC; route tables
// stop propagating its routes.
func (f *EC2) DetachVpnGateway(ctx context.Context, in *ec2.DetachVpnGatewayInput, _ ...func(*ec2.Options)) (*ec2.DetachVpnGatewayOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DetachVpnGateway", true, func() error {
		g, err := f.vgw(aws.ToString(in.VpnGatewayId))
		if err != nil {
			return err
		}
		vpc := aws.ToString(in.VpcId)
		if cur, st := g.attachment(f.c); cur != vpc || st == "detached" || st == "detaching" {
			return apiError("InvalidVpnGatewayAttachment.NotFound", "The attachment with vpn gateway ID '%s' and vpc ID '%s' does not exist", g.ID, vpc)
		}
		g.DetachedAt = f.c.now()
		for _, rt := range f.st().RouteTables {
			rt.Propagating = slices.DeleteFunc(rt.Propagating, func(id string) bool { return id == g.ID })
		}
		return nil
	})
	return &ec2.DetachVpnGatewayOutput{}, err
}

// DeleteVpnGateway deletes a detached gateway. One still attached is
// IncorrectState; one with VPN connections or Direct Connect gateway
// associations is DependencyViolation.
func (f *EC2) DeleteVpnGateway(ctx context.Context, in *ec2.DeleteVpnGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteVpnGatewayOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteVpnGateway", true, func() error {
		g, err := f.vgw(aws.ToString(in.VpnGatewayId))
		if err != nil {
			return err
		}
		if !g.Deleted.IsZero() {
			return nil
		}
		if vpc := g.attachedTo(f.c); vpc != "" {
			return apiError("IncorrectState", "The vpn gateway %s is attached to %s; detach it first", g.ID, vpc)
		}
		for _, dep := range vgwDependents {
			if what := dep(f.c, g.ID); what != "" {
				return apiError("DependencyViolation", "The vpn gateway '%s' has dependencies and cannot be deleted (%s).", g.ID, what)
			}
		}
		g.Deleted = f.c.now()
		return nil
	})
	return &ec2.DeleteVpnGatewayOutput{}, err
}

func (g *fakeCGW) out() types.CustomerGateway {
	state := "available"
	if !g.Deleted.IsZero() {
		state = "deleted"
	}
	o := types.CustomerGateway{CustomerGatewayId: aws.String(g.ID), IpAddress: aws.String(g.IP), State: aws.String(state), Type: aws.String("ipsec.1"), Tags: toEC2Tags(g.Tags)}
	if g.ASN > 2147483647 {
		o.BgpAsnExtended = aws.String(strconv.FormatInt(g.ASN, 10))
	} else {
		o.BgpAsn = aws.String(strconv.FormatInt(g.ASN, 10))
	}
	if g.DeviceName != "" {
		o.DeviceName = aws.String(g.DeviceName)
	}
	return o
}

func (f *EC2) cgw(id string) (*fakeCGW, error) {
	g, ok := f.st().CGWs[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidCustomerGatewayID.NotFound", "The customerGateway ID '%s' does not exist", id)
	}
	return g, nil
}

// reservedCGWASN are ASNs AWS refuses for a customer gateway in one
// Region; 7224 (reservedCGWASNEverywhere) it refuses in every Region.
var reservedCGWASN = map[string]int64{"eu-west-1": 9059, "ap-northeast-1": 10124, "ap-southeast-1": 17943}

const reservedCGWASNEverywhere = 7224

// CreateCustomerGateway creates a customer gateway. As in EC2, a request
// identical to an existing gateway (type, IP, ASN and device name) returns
// that gateway, with its own tags, instead of creating one.
func (f *EC2) CreateCustomerGateway(ctx context.Context, in *ec2.CreateCustomerGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateCustomerGatewayOutput, error) {
	var out *ec2.CreateCustomerGatewayOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateCustomerGateway", true, func() error {
		if in.Type != types.GatewayTypeIpsec1 {
			return apiError("InvalidParameterValue", "Invalid value '%s' for type", in.Type)
		}
		ip, err := netip.ParseAddr(aws.ToString(in.IpAddress))
		if err != nil || !ip.Is4() {
			return apiError("InvalidParameterValue", "Invalid value '%s' for ipAddress", aws.ToString(in.IpAddress))
		}
		asn := int64(65000)
		switch {
		case in.BgpAsnExtended != nil:
			asn = *in.BgpAsnExtended
			if asn < 2147483648 || asn > 4294967295 {
				return apiError("InvalidParameterValue", "BgpAsnExtended %d is outside 2147483648-4294967295", asn)
			}
		case in.BgpAsn != nil:
			asn = int64(*in.BgpAsn)
			if asn < 1 {
				return apiError("InvalidParameterValue", "BgpAsn %d is outside 1-2147483647", asn)
			}
		}
		if r, ok := reservedCGWASN[f.c.region]; asn == reservedCGWASNEverywhere || ok && asn == r {
			return apiError("InvalidParameterValue", "The ASN %d is reserved in %s", asn, f.c.region)
		}
		s := f.st()
		for _, id := range sortedKeys(s.CGWs) {
			g := s.CGWs[id]
			if g.Deleted.IsZero() && g.IP == ip.String() && g.ASN == asn && g.DeviceName == aws.ToString(in.DeviceName) {
				o := g.out()
				out = &ec2.CreateCustomerGatewayOutput{CustomerGateway: &o}
				return nil
			}
		}
		g := &fakeCGW{ID: f.c.newID("cgw"), IP: ip.String(), ASN: asn, DeviceName: aws.ToString(in.DeviceName), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeCustomerGateway)}
		s.CGWs[g.ID] = g
		f.c.created(g.ID)
		o := g.out()
		out = &ec2.CreateCustomerGatewayOutput{CustomerGateway: &o}
		return nil
	})
	return out, err
}

// DescribeCustomerGateways lists customer gateways by ID and filters
// (tag:*, customer-gateway-id, ip-address, bgp-asn, state).
func (f *EC2) DescribeCustomerGateways(ctx context.Context, in *ec2.DescribeCustomerGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeCustomerGatewaysOutput, error) {
	var out *ec2.DescribeCustomerGatewaysOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeCustomerGateways", false, func() error {
		for _, id := range in.CustomerGatewayIds {
			if _, err := f.cgw(id); err != nil {
				return err
			}
		}
		out = &ec2.DescribeCustomerGatewaysOutput{}
		s := f.st()
		for _, id := range sortedKeys(s.CGWs) {
			g := s.CGWs[id]
			if !g.Deleted.IsZero() && f.c.elapsed(g.Deleted, vpnDeletedVisible) {
				delete(s.CGWs, id)
				continue
			}
			if len(in.CustomerGatewayIds) > 0 && !slices.Contains(in.CustomerGatewayIds, id) {
				continue
			}
			o := g.out()
			ok, err := matchFilters(in.Filters, g.Tags, map[string]string{"customer-gateway-id": id, "ip-address": g.IP, "bgp-asn": strconv.FormatInt(g.ASN, 10), "state": aws.ToString(o.State), "type": "ipsec.1"})
			if err != nil {
				return err
			}
			if ok && (len(in.CustomerGatewayIds) > 0 || !f.c.hidden(id)) {
				out.CustomerGateways = append(out.CustomerGateways, o)
			}
		}
		return nil
	})
	return out, err
}

// DeleteCustomerGateway deletes a customer gateway; one still used by a
// VPN connection is IncorrectState.
func (f *EC2) DeleteCustomerGateway(ctx context.Context, in *ec2.DeleteCustomerGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteCustomerGatewayOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteCustomerGateway", true, func() error {
		g, err := f.cgw(aws.ToString(in.CustomerGatewayId))
		if err != nil {
			return err
		}
		for _, id := range sortedKeys(f.st().VPNs) {
			v := f.st().VPNs[id]
			if v.CGWID == g.ID && v.state(f.c) != "deleted" {
				return apiError("IncorrectState", "The customer gateway %s is in use by VPN connection %s", g.ID, id)
			}
		}
		if g.Deleted.IsZero() {
			g.Deleted = f.c.now()
		}
		return nil
	})
	return &ec2.DeleteCustomerGatewayOutput{}, err
}

func (v *fakeVPN) state(c *Cloud) string {
	switch {
	case !v.Deleted.IsZero() && c.elapsed(v.Deleted, vpnDeletingFor):
		return "deleted"
	case !v.Deleted.IsZero():
		return "deleting"
	case !c.elapsed(v.Created, vpnPendingFor):
		return "pending"
	case !v.ModifiedUntil.IsZero() && !c.elapsed(v.ModifiedUntil, 0):
		return "modifying"
	}
	return "available"
}

func (f *EC2) vpnOut(v *fakeVPN) types.VpnConnection {
	state := v.state(f.c)
	o := types.VpnConnection{
		VpnConnectionId: aws.String(v.ID), CustomerGatewayId: aws.String(v.CGWID), VpnGatewayId: aws.String(v.VGWID),
		State: types.VpnState(state), Type: types.GatewayTypeIpsec1, Category: aws.String("VPN"), Tags: toEC2Tags(v.Tags),
		Options: &types.VpnConnectionOptions{
			StaticRoutesOnly: aws.Bool(v.StaticOnly), LocalIpv4NetworkCidr: aws.String(v.LocalCIDR), RemoteIpv4NetworkCidr: aws.String(v.RemoteCIDR),
			TunnelInsideIpVersion: types.TunnelInsideIpVersionIpv4, OutsideIpAddressType: aws.String("PublicIpv4"), EnableAcceleration: aws.Bool(false),
		},
	}
	if state == "pending" || state == "available" || state == "modifying" {
		// As in EC2, the device configuration (which holds the pre-shared
		// keys) is only returned in these states.
		o.CustomerGatewayConfiguration = aws.String(fmt.Sprintf("<vpn_connection id=%q><!-- %d tunnels --></vpn_connection>", v.ID, len(v.Tunnels)))
	}
	for _, t := range v.Tunnels {
		to := types.TunnelOption{
			OutsideIpAddress: aws.String(t.OutsideIP), TunnelInsideCidr: aws.String(t.InsideCIDR), PreSharedKey: aws.String(t.PSK),
			Phase1LifetimeSeconds: aws.Int32(t.P1Life), Phase2LifetimeSeconds: aws.Int32(t.P2Life), RekeyMarginTimeSeconds: aws.Int32(t.RekeyMargin),
			RekeyFuzzPercentage: aws.Int32(t.RekeyFuzz), ReplayWindowSize: aws.Int32(t.ReplayWindow), DpdTimeoutSeconds: aws.Int32(t.DPDTimeout),
			DpdTimeoutAction: aws.String(t.DPDAction), StartupAction: aws.String(t.StartupAction),
			LogOptions: &types.VpnTunnelLogOptions{CloudWatchLogOptions: &types.CloudWatchLogOptions{LogEnabled: aws.Bool(t.LogEnabled), LogGroupArn: nilIfEmpty(t.LogGroupARN), LogOutputFormat: nilIfEmpty(t.LogFormat)}},
		}
		for _, s := range t.IKE {
			to.IkeVersions = append(to.IkeVersions, types.IKEVersionsListValue{Value: aws.String(s)})
		}
		for _, s := range t.P1Enc {
			to.Phase1EncryptionAlgorithms = append(to.Phase1EncryptionAlgorithms, types.Phase1EncryptionAlgorithmsListValue{Value: aws.String(s)})
		}
		for _, s := range t.P1Int {
			to.Phase1IntegrityAlgorithms = append(to.Phase1IntegrityAlgorithms, types.Phase1IntegrityAlgorithmsListValue{Value: aws.String(s)})
		}
		for _, n := range t.P1DH {
			to.Phase1DHGroupNumbers = append(to.Phase1DHGroupNumbers, types.Phase1DHGroupNumbersListValue{Value: aws.Int32(n)})
		}
		for _, s := range t.P2Enc {
			to.Phase2EncryptionAlgorithms = append(to.Phase2EncryptionAlgorithms, types.Phase2EncryptionAlgorithmsListValue{Value: aws.String(s)})
		}
		for _, s := range t.P2Int {
			to.Phase2IntegrityAlgorithms = append(to.Phase2IntegrityAlgorithms, types.Phase2IntegrityAlgorithmsListValue{Value: aws.String(s)})
		}
		for _, n := range t.P2DH {
			to.Phase2DHGroupNumbers = append(to.Phase2DHGroupNumbers, types.Phase2DHGroupNumbersListValue{Value: aws.Int32(n)})
		}
		o.Options.TunnelOptions = append(o.Options.TunnelOptions, to)
		o.VgwTelemetry = append(o.VgwTelemetry, types.VgwTelemetry{OutsideIpAddress: aws.String(t.OutsideIP), Status: types.TelemetryStatusDown, StatusMessage: aws.String("IPSEC IS DOWN"), AcceptedRouteCount: aws.Int32(0), LastStatusChange: aws.Time(v.Created)})
	}
	return o
}

func (f *EC2) vpn(id string) (*fakeVPN, error) {
	v, ok := f.st().VPNs[id]
	if !ok || f.c.hidden(id) {
		return nil, apiError("InvalidVpnConnectionID.NotFound", "The vpnConnection ID '%s' does not exist", id)
	}
	return v, nil
}

var (
	pskRe            = regexp.MustCompile(`^[A-Za-z1-9._][A-Za-z0-9._]{7,63}$`)
	tunnelInsideBase = netip.MustParsePrefix("169.254.0.0/16")
	reservedInside   = []string{"169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"}
	validEnc         = []string{"AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16"}
	validInt         = []string{"SHA1", "SHA2-256", "SHA2-384", "SHA2-512"}
	validP1DH        = []int32{2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}
	validP2DH        = []int32{2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}
)

// defaultTunnel is what AWS sets for options a request leaves out.
func defaultTunnel() fakeTunnel {
	return fakeTunnel{
		IKE: []string{"ikev1", "ikev2"}, P1Enc: slices.Clone(validEnc), P1Int: slices.Clone(validInt), P1DH: slices.Clone(validP1DH),
		P2Enc: slices.Clone(validEnc), P2Int: slices.Clone(validInt), P2DH: slices.Clone(validP2DH),
		P1Life: 28800, P2Life: 3600, RekeyMargin: 270, RekeyFuzz: 100, ReplayWindow: 1024, DPDTimeout: 30, DPDAction: "clear", StartupAction: "add",
	}
}

// applyTunnel sets the options a specification names on t and validates
// the result the way EC2 does.
func (f *EC2) applyTunnel(t *fakeTunnel, o types.VpnTunnelOptionsSpecification) error {
	if o.TunnelInsideCidr != nil {
		p, err := netip.ParsePrefix(*o.TunnelInsideCidr)
		if err != nil || p.Bits() != 30 || p.Masked() != p || !tunnelInsideBase.Contains(p.Addr()) {
			return apiError("InvalidParameterValue", "The tunnel inside CIDR %s is not a /30 in 169.254.0.0/16", *o.TunnelInsideCidr)
		}
		if slices.Contains(reservedInside, p.String()) {
			return apiError("InvalidParameterValue", "The tunnel inside CIDR %s is reserved", p)
		}
		t.InsideCIDR = p.String()
	}
	if o.PreSharedKey != nil {
		if !pskRe.MatchString(*o.PreSharedKey) {
			return apiError("InvalidParameterValue", "The pre-shared key must be 8-64 characters of letters, digits, . and _, and cannot start with 0")
		}
		t.PSK = *o.PreSharedKey
	}
	if o.IKEVersions != nil {
		t.IKE = nil
		for _, v := range o.IKEVersions {
			if s := aws.ToString(v.Value); s != "ikev1" && s != "ikev2" {
				return apiError("InvalidParameterValue", "Invalid IKE version %s", s)
			}
			t.IKE = append(t.IKE, aws.ToString(v.Value))
		}
	}
	strs := func(dst *[]string, valid []string, vals []*string, what string) error {
		if vals == nil {
			return nil
		}
		*dst = nil
		for _, v := range vals {
			if !slices.Contains(valid, aws.ToString(v)) {
				return apiError("InvalidParameterValue", "Invalid %s %s", what, aws.ToString(v))
			}
			*dst = append(*dst, aws.ToString(v))
		}
		return nil
	}
	nums := func(dst *[]int32, valid []int32, vals []*int32, what string) error {
		if vals == nil {
			return nil
		}
		*dst = nil
		for _, v := range vals {
			if !slices.Contains(valid, aws.ToInt32(v)) {
				return apiError("InvalidParameterValue", "Invalid %s %d", what, aws.ToInt32(v))
			}
			*dst = append(*dst, aws.ToInt32(v))
		}
		return nil
	}
	var p1e, p1i, p2e, p2i []*string
	var p1d, p2d []*int32
	for _, v := range o.Phase1EncryptionAlgorithms {
		p1e = append(p1e, v.Value)
	}
	for _, v := range o.Phase1IntegrityAlgorithms {
		p1i = append(p1i, v.Value)
	}
	for _, v := range o.Phase2EncryptionAlgorithms {
		p2e = append(p2e, v.Value)
	}
	for _, v := range o.Phase2IntegrityAlgorithms {
		p2i = append(p2i, v.Value)
	}
	for _, v := range o.Phase1DHGroupNumbers {
		p1d = append(p1d, v.Value)
	}
	for _, v := range o.Phase2DHGroupNumbers {
		p2d = append(p2d, v.Value)
	}
	if o.Phase1EncryptionAlgorithms == nil {
		p1e = nil
	}
	for _, err := range []error{
		strs(&t.P1Enc, validEnc, p1e, "phase 1 encryption algorithm"), strs(&t.P1Int, validInt, p1i, "phase 1 integrity algorithm"),
		strs(&t.P2Enc, validEnc, p2e, "phase 2 encryption algorithm"), strs(&t.P2Int, validInt, p2i, "phase 2 integrity algorithm"),
		nums(&t.P1DH, validP1DH, p1d, "phase 1 DH group"), nums(&t.P2DH, validP2DH, p2d, "phase 2 DH group"),
	} {
		if err != nil {
			return err
		}
	}
	set := func(dst *int32, v *int32) {
		if v != nil {
			*dst = *v
		}
	}
	set(&t.P1Life, o.Phase1LifetimeSeconds)
	set(&t.P2Life, o.Phase2LifetimeSeconds)
	set(&t.RekeyMargin, o.RekeyMarginTimeSeconds)
	set(&t.RekeyFuzz, o.RekeyFuzzPercentage)
	set(&t.ReplayWindow, o.ReplayWindowSize)
	set(&t.DPDTimeout, o.DPDTimeoutSeconds)
	if o.DPDTimeoutAction != nil {
		t.DPDAction = *o.DPDTimeoutAction
	}
	if o.StartupAction != nil {
		t.StartupAction = *o.StartupAction
	}
	switch {
	case t.P1Life < 900 || t.P1Life > 28800:
		return apiError("InvalidParameterValue", "Phase1LifetimeSeconds must be 900-28800")
	case t.P2Life < 900 || t.P2Life > 3600 || t.P2Life >= t.P1Life:
		return apiError("InvalidParameterValue", "Phase2LifetimeSeconds must be 900-3600 and less than Phase1LifetimeSeconds")
	case t.RekeyMargin < 60 || t.RekeyMargin > t.P2Life/2:
		return apiError("InvalidParameterValue", "RekeyMarginTimeSeconds must be between 60 and half of Phase2LifetimeSeconds")
	case t.RekeyFuzz < 0 || t.RekeyFuzz > 100:
		return apiError("InvalidParameterValue", "RekeyFuzzPercentage must be 0-100")
	case t.ReplayWindow < 64 || t.ReplayWindow > 2048:
		return apiError("InvalidParameterValue", "ReplayWindowSize must be 64-2048")
	case t.DPDTimeout < 30:
		return apiError("InvalidParameterValue", "DPDTimeoutSeconds must be at least 30")
	case !slices.Contains([]string{"clear", "none", "restart"}, t.DPDAction):
		return apiError("InvalidParameterValue", "Invalid DPDTimeoutAction %s", t.DPDAction)
	case t.StartupAction != "add" && t.StartupAction != "start":
		return apiError("InvalidParameterValue", "Invalid StartupAction %s", t.StartupAction)
	}
	if o.LogOptions != nil && o.LogOptions.CloudWatchLogOptions != nil {
		cw := o.LogOptions.CloudWatchLogOptions
		t.LogEnabled = aws.ToBool(cw.LogEnabled)
		t.LogGroupARN, t.LogFormat = "", ""
		if t.LogEnabled {
			if _, err := f.c.Logs().groupByARN(aws.ToString(cw.LogGroupArn)); err != nil {
				return apiError("InvalidParameterValue", "The CloudWatch Logs log group %s does not exist", aws.ToString(cw.LogGroupArn))
			}
			t.LogGroupARN = aws.ToString(cw.LogGroupArn)
			t.LogFormat = aws.ToString(cw.LogOutputFormat)
			if t.LogFormat == "" {
				t.LogFormat = "json"
			}
		}
	}
	return nil
}

// insideInUse reports whether a tunnel of another live connection on the
// same gateway uses cidr. Call with mu held.
func (f *EC2) insideInUse(vgw, self, cidr string) bool {
	for _, v := range f.st().VPNs {
		if v.VGWID != vgw || v.ID == self || v.state(f.c) == "deleted" {
			continue
		}
		for _, t := range v.Tunnels {
			if t.InsideCIDR == cidr {
				return true
			}
		}
	}
	return false
}

// CreateVpnConnection creates a Site-to-Site VPN connection with two
// tunnels between a customer gateway and a virtual private gateway
// (pending → available after five minutes of fake time). Tunnel options
// are validated as EC2 does; unset inside CIDRs and pre-shared keys are
// generated.
func (f *EC2) CreateVpnConnection(ctx context.Context, in *ec2.CreateVpnConnectionInput, _ ...func(*ec2.Options)) (*ec2.CreateVpnConnectionOutput, error) {
	var out *ec2.CreateVpnConnectionOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateVpnConnection", true, func() error {
		if aws.ToString(in.Type) != "ipsec.1" {
			return apiError("InvalidParameterValue", "Invalid value '%s' for type", aws.ToString(in.Type))
		}
		cg, err := f.cgw(aws.ToString(in.CustomerGatewayId))
		if err != nil {
			return err
		}
		if !cg.Deleted.IsZero() {
			return apiError("IncorrectState", "The customer gateway %s is deleted", cg.ID)
		}
		g, err := f.vgw(aws.ToString(in.VpnGatewayId))
		if err != nil {
			return err
		}
		if g.state(f.c) != "available" {
			return apiError("IncorrectState", "The vpn gateway %s is in state %s", g.ID, g.state(f.c))
		}
		if g.ASN == cg.ASN {
			return apiError("InvalidParameterValue", "The customer gateway ASN %d must differ from the Amazon side ASN", cg.ASN)
		}
		v := &fakeVPN{ID: f.c.newID("vpn"), CGWID: cg.ID, VGWID: g.ID, LocalCIDR: "0.0.0.0/0", RemoteCIDR: "0.0.0.0/0", Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeVpnConnection), Created: f.c.now()}
		var specs []types.VpnTunnelOptionsSpecification
		if o := in.Options; o != nil {
			v.StaticOnly = aws.ToBool(o.StaticRoutesOnly)
			if o.LocalIpv4NetworkCidr != nil {
				v.LocalCIDR = *o.LocalIpv4NetworkCidr
			}
			if o.RemoteIpv4NetworkCidr != nil {
				v.RemoteCIDR = *o.RemoteIpv4NetworkCidr
			}
			specs = o.TunnelOptions
		}
		if len(specs) > 2 {
			return apiError("InvalidParameterValue", "At most two tunnel option sets may be given")
		}
		for i := range 2 {
			t := defaultTunnel()
			x := mix(f.c.seq + uint64(i))
			t.OutsideIP = fmt.Sprintf("3.%d.%d.%d", 1+x%254, (x>>8)%256, 1+(x>>16)%254)
			if i < len(specs) {
				if err := f.applyTunnel(&t, specs[i]); err != nil {
					return err
				}
			}
			taken := func(cidr string) bool {
				return f.insideInUse(g.ID, v.ID, cidr) || slices.ContainsFunc(v.Tunnels, func(o fakeTunnel) bool { return o.InsideCIDR == cidr })
			}
			if t.InsideCIDR != "" && taken(t.InsideCIDR) {
				return apiError("InvalidParameterValue", "The tunnel inside CIDR %s is already in use on gateway %s", t.InsideCIDR, g.ID)
			}
			for t.InsideCIDR == "" || slices.Contains(reservedInside, t.InsideCIDR) || taken(t.InsideCIDR) { // AWS picks a free one
				x = mix(x)
				t.InsideCIDR = fmt.Sprintf("169.254.%d.%d/30", 10+x%240, (x>>8)%64*4)
			}
			if t.PSK == "" {
				t.PSK = fmt.Sprintf("k%016x%015x", mix(x), mix(x+1)>>4)
			}
			v.Tunnels = append(v.Tunnels, t)
		}
		f.c.seq += 2
		f.st().VPNs[v.ID] = v
		f.c.created(v.ID)
		o := f.vpnOut(v)
		out = &ec2.CreateVpnConnectionOutput{VpnConnection: &o}
		return nil
	})
	return out, err
}

// DescribeVpnConnections lists connections by ID and filters (tag:*,
// vpn-connection-id, state, customer-gateway-id, vpn-gateway-id). Deleted
// connections stay visible for an hour.
func (f *EC2) DescribeVpnConnections(ctx context.Context, in *ec2.DescribeVpnConnectionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpnConnectionsOutput, error) {
	var out *ec2.DescribeVpnConnectionsOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeVpnConnections", false, func() error {
		for _, id := range in.VpnConnectionIds {
			if _, err := f.vpn(id); err != nil {
				return err
			}
		}
		out = &ec2.DescribeVpnConnectionsOutput{}
		s := f.st()
		for _, id := range sortedKeys(s.VPNs) {
			v := s.VPNs[id]
			if !v.Deleted.IsZero() && f.c.elapsed(v.Deleted, vpnDeletedVisible) {
				delete(s.VPNs, id)
				continue
			}
			if len(in.VpnConnectionIds) > 0 && !slices.Contains(in.VpnConnectionIds, id) {
				continue
			}
			ok, err := matchFilters(in.Filters, v.Tags, map[string]string{"vpn-connection-id": id, "state": v.state(f.c), "customer-gateway-id": v.CGWID, "vpn-gateway-id": v.VGWID, "type": "ipsec.1"})
			if err != nil {
				return err
			}
			if ok && (len(in.VpnConnectionIds) > 0 || !f.c.hidden(id)) {
				out.VpnConnections = append(out.VpnConnections, f.vpnOut(v))
			}
		}
		return nil
	})
	return out, err
}

// ModifyVpnTunnelOptions changes the options of one tunnel, named by its
// outside IP. The connection must be available; it is "modifying" for two
// minutes afterwards, and EC2 accepts no other modification meanwhile.
func (f *EC2) ModifyVpnTunnelOptions(ctx context.Context, in *ec2.ModifyVpnTunnelOptionsInput, _ ...func(*ec2.Options)) (*ec2.ModifyVpnTunnelOptionsOutput, error) {
	var out *ec2.ModifyVpnTunnelOptionsOutput
	err := f.c.call(ctx, ec2.ServiceID, "ModifyVpnTunnelOptions", true, func() error {
		v, err := f.vpn(aws.ToString(in.VpnConnectionId))
		if err != nil {
			return err
		}
		if st := v.state(f.c); st != "available" {
			return apiError("IncorrectState", "The VPN connection %s is in state %s and cannot be modified", v.ID, st)
		}
		i := slices.IndexFunc(v.Tunnels, func(t fakeTunnel) bool { return t.OutsideIP == aws.ToString(in.VpnTunnelOutsideIpAddress) })
		if i < 0 {
			return apiError("InvalidParameterValue", "The VPN tunnel outside IP %s does not belong to %s", aws.ToString(in.VpnTunnelOutsideIpAddress), v.ID)
		}
		if in.TunnelOptions == nil {
			return apiError("MissingParameter", "The request must contain the parameter TunnelOptions")
		}
		m := in.TunnelOptions
		t := v.Tunnels[i]
		if err := f.applyTunnel(&t, types.VpnTunnelOptionsSpecification{
			DPDTimeoutAction: m.DPDTimeoutAction, DPDTimeoutSeconds: m.DPDTimeoutSeconds, IKEVersions: m.IKEVersions, LogOptions: m.LogOptions,
			Phase1DHGroupNumbers: m.Phase1DHGroupNumbers, Phase1EncryptionAlgorithms: m.Phase1EncryptionAlgorithms, Phase1IntegrityAlgorithms: m.Phase1IntegrityAlgorithms,
			Phase1LifetimeSeconds: m.Phase1LifetimeSeconds, Phase2DHGroupNumbers: m.Phase2DHGroupNumbers, Phase2EncryptionAlgorithms: m.Phase2EncryptionAlgorithms,
			Phase2IntegrityAlgorithms: m.Phase2IntegrityAlgorithms, Phase2LifetimeSeconds: m.Phase2LifetimeSeconds, PreSharedKey: m.PreSharedKey,
			RekeyFuzzPercentage: m.RekeyFuzzPercentage, RekeyMarginTimeSeconds: m.RekeyMarginTimeSeconds, ReplayWindowSize: m.ReplayWindowSize,
			StartupAction: m.StartupAction, TunnelInsideCidr: m.TunnelInsideCidr,
		}); err != nil {
			return err
		}
		if t.InsideCIDR != v.Tunnels[1-i].InsideCIDR && f.insideInUse(v.VGWID, v.ID, t.InsideCIDR) || t.InsideCIDR == v.Tunnels[1-i].InsideCIDR {
			return apiError("InvalidParameterValue", "The tunnel inside CIDR %s is already in use on gateway %s", t.InsideCIDR, v.VGWID)
		}
		v.Tunnels[i] = t
		v.ModifiedUntil = f.c.now().Add(vpnModifyingFor)
		o := f.vpnOut(v)
		out = &ec2.ModifyVpnTunnelOptionsOutput{VpnConnection: &o}
		return nil
	})
	return out, err
}

// DeleteVpnConnection starts deleting a connection (deleting → deleted
// after a minute).
func (f *EC2) DeleteVpnConnection(ctx context.Context, in *ec2.DeleteVpnConnectionInput, _ ...func(*ec2.Options)) (*ec2.DeleteVpnConnectionOutput, error) {
	err := f.c.call(ctx, ec2.ServiceID, "DeleteVpnConnection", true, func() error {
		v, err := f.vpn(aws.ToString(in.VpnConnectionId))
		if err != nil {
			return err
		}
		if v.Deleted.IsZero() {
			v.Deleted = f.c.now()
		}
		return nil
	})
	return &ec2.DeleteVpnConnectionOutput{}, err
}

// VpnGateways returns the IDs of the virtual private gateways not deleted,
// for assertions.
func (f *EC2) VpnGateways() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(f.st().VGWs) {
		if f.st().VGWs[id].Deleted.IsZero() {
			out = append(out, id)
		}
	}
	return out
}

// CustomerGateways returns the IDs of the customer gateways not deleted,
// for assertions.
func (f *EC2) CustomerGateways() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(f.st().CGWs) {
		if f.st().CGWs[id].Deleted.IsZero() {
			out = append(out, id)
		}
	}
	return out
}

// VpnConnections returns the IDs of the VPN connections not deleted or
// deleting, for assertions.
func (f *EC2) VpnConnections() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(f.st().VPNs) {
		if f.st().VPNs[id].Deleted.IsZero() {
			out = append(out, id)
		}
	}
	return out
}
