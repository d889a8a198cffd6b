package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// VPNConnectionEC2API is the part of the EC2 client EnsureVPNConnection
// and DeleteVPNConnection use.
type VPNConnectionEC2API interface {
	CreateCustomerGateway(context.Context, *ec2.CreateCustomerGatewayInput, ...func(*ec2.Options)) (*ec2.CreateCustomerGatewayOutput, error)
	DescribeCustomerGateways(context.Context, *ec2.DescribeCustomerGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeCustomerGatewaysOutput, error)
	DeleteCustomerGateway(context.Context, *ec2.DeleteCustomerGatewayInput, ...func(*ec2.Options)) (*ec2.DeleteCustomerGatewayOutput, error)
	DescribeVpnGateways(context.Context, *ec2.DescribeVpnGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeVpnGatewaysOutput, error)
	CreateVpnConnection(context.Context, *ec2.CreateVpnConnectionInput, ...func(*ec2.Options)) (*ec2.CreateVpnConnectionOutput, error)
	DescribeVpnConnections(context.Context, *ec2.DescribeVpnConnectionsInput, ...func(*ec2.Options)) (*ec2.DescribeVpnConnectionsOutput, error)
	ModifyVpnTunnelOptions(context.Context, *ec2.ModifyVpnTunnelOptionsInput, ...func(*ec2.Options)) (*ec2.ModifyVpnTunnelOptionsOutput, error)
	DeleteVpnConnection(context.Context, *ec2.DeleteVpnConnectionInput, ...func(*ec2.Options)) (*ec2.DeleteVpnConnectionOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// VPNConnectionClients are the clients EnsureVPNConnection and
// DeleteVPNConnection use. Secrets may be nil when no tunnel names a
// pre-shared key secret.
type VPNConnectionClients struct {
	EC2     VPNConnectionEC2API
	Logs    migration.LogsAPI
	Secrets SecretReader
}

// Change kinds of the VPN.
const (
	KindCustomerGateway = "customer-gateway"
	KindVPNConnection   = "vpn-connection"
)

// TunnelCrypto are the IKE and IPsec options of both tunnels. Only strong
// choices pass validation: IKEv2, AES-256 (CBC or GCM), SHA2-256 or
// stronger, Diffie-Hellman group 14 or higher.
type TunnelCrypto struct {
	IKEVersions                        []string // ikev2
	Phase1Encryption, Phase2Encryption []string // AES256, AES256-GCM-16
	Phase1Integrity, Phase2Integrity   []string // SHA2-256, SHA2-384, SHA2-512
	Phase1DHGroups, Phase2DHGroups     []int32  // 14..24
	// Phase1Lifetime (900-28800 s) and Phase2Lifetime (900-3600 s, less
	// than Phase1Lifetime).
	Phase1Lifetime, Phase2Lifetime time.Duration
	// RekeyMargin is 60 s to half of Phase2Lifetime.
	RekeyMargin time.Duration
	// DPDTimeout is at least 30 s; DPDAction is clear, none or restart.
	DPDTimeout time.Duration
	DPDAction  string
	// StartupAction is "start" (AWS initiates IKE) or "add" (the
	// on-premises device must).
	StartupAction string
}

// DefaultTunnelCrypto returns the options EnsureVPNConnection uses when
// the spec leaves Crypto zero: IKEv2; AES256 and AES256-GCM-16;
// SHA2-256/384/512; DH groups 14, 19, 20 and 21 in both phases; the AWS
// default lifetimes (8 h, 1 h) and rekey margin (270 s); DPD 30 s with
// restart; AWS starts the tunnels.
func DefaultTunnelCrypto() TunnelCrypto {
	return TunnelCrypto{
		IKEVersions:      []string{"ikev2"},
		Phase1Encryption: []string{"AES256", "AES256-GCM-16"}, Phase2Encryption: []string{"AES256", "AES256-GCM-16"},
		Phase1Integrity: []string{"SHA2-256", "SHA2-384", "SHA2-512"}, Phase2Integrity: []string{"SHA2-256", "SHA2-384", "SHA2-512"},
		Phase1DHGroups: []int32{14, 19, 20, 21}, Phase2DHGroups: []int32{14, 19, 20, 21},
		Phase1Lifetime: 8 * time.Hour, Phase2Lifetime: time.Hour, RekeyMargin: 270 * time.Second,
		DPDTimeout: 30 * time.Second, DPDAction: "restart", StartupAction: "start",
	}
}

func (c TunnelCrypto) isZero() bool {
	return len(c.IKEVersions) == 0 && len(c.Phase1Encryption) == 0 && len(c.Phase2Encryption) == 0 && len(c.Phase1Integrity) == 0 &&
		len(c.Phase2Integrity) == 0 && len(c.Phase1DHGroups) == 0 && len(c.Phase2DHGroups) == 0 && c.Phase1Lifetime == 0 &&
		c.Phase2Lifetime == 0 && c.RekeyMargin == 0 && c.DPDTimeout == 0 && c.DPDAction == "" && c.StartupAction == ""
}

// Validate checks that every option is one AWS accepts and strong enough.
func (c TunnelCrypto) Validate() error {
	var errs []error
	oneOf := func(field string, have, allowed []string, why string) {
		if len(have) == 0 {
			errs = append(errs, fmt.Errorf("vpn.crypto.%s: required", field))
		}
		for _, v := range have {
			if !slices.Contains(allowed, v) {
				errs = append(errs, fmt.Errorf("vpn.crypto.%s: %q is not allowed (%s)", field, v, why))
			}
		}
	}
	oneOf("ikeVersions", c.IKEVersions, []string{"ikev2"}, "IKEv2 only")
	enc := []string{"AES256", "AES256-GCM-16"}
	oneOf("phase1Encryption", c.Phase1Encryption, enc, "AES-256 only")
	oneOf("phase2Encryption", c.Phase2Encryption, enc, "AES-256 only")
	integ := []string{"SHA2-256", "SHA2-384", "SHA2-512"}
	oneOf("phase1Integrity", c.Phase1Integrity, integ, "SHA2-256 or stronger")
	oneOf("phase2Integrity", c.Phase2Integrity, integ, "SHA2-256 or stronger")
	dh := func(field string, groups []int32) {
		if len(groups) == 0 {
			errs = append(errs, fmt.Errorf("vpn.crypto.%s: required", field))
		}
		for _, g := range groups {
			if g < 14 || g > 24 {
				errs = append(errs, fmt.Errorf("vpn.crypto.%s: group %d is not allowed (14 to 24)", field, g))
			}
		}
	}
	dh("phase1DhGroups", c.Phase1DHGroups)
	dh("phase2DhGroups", c.Phase2DHGroups)
	p1, p2, rk := c.Phase1Lifetime, c.Phase2Lifetime, c.RekeyMargin
	switch {
	case p1 < 900*time.Second || p1 > 28800*time.Second || p1%time.Second != 0:
		errs = append(errs, fmt.Errorf("vpn.crypto.phase1Lifetime: %v outside 900s..28800s (whole seconds)", p1))
	case p2 < 900*time.Second || p2 > 3600*time.Second || p2 >= p1 || p2%time.Second != 0:
		errs = append(errs, fmt.Errorf("vpn.crypto.phase2Lifetime: %v outside 900s..3600s or not less than phase1Lifetime", p2))
	case rk < 60*time.Second || rk > p2/2 || rk%time.Second != 0:
		errs = append(errs, fmt.Errorf("vpn.crypto.rekeyMargin: %v outside 60s..phase2Lifetime/2", rk))
	}
	if c.DPDTimeout < 30*time.Second || c.DPDTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("vpn.crypto.dpdTimeout: %v is less than 30s", c.DPDTimeout))
	}
	if !slices.Contains([]string{"clear", "none", "restart"}, c.DPDAction) {
		errs = append(errs, fmt.Errorf("vpn.crypto.dpdAction: %q is not clear, none or restart", c.DPDAction))
	}
	if c.StartupAction != "add" && c.StartupAction != "start" {
		errs = append(errs, fmt.Errorf("vpn.crypto.startupAction: %q is not add or start", c.StartupAction))
	}
	return errors.Join(errs...)
}

// TunnelSpec is one tunnel's addressing and key.
type TunnelSpec struct {
	// InsideCIDR is the tunnel's /30 inside 169.254.0.0/16, outside the
	// ranges AWS reserves (169.254.0.0/30 to 169.254.5.0/30 and
	// 169.254.169.252/30) and unique on the gateway. Empty lets AWS pick
	// one (and then any value is accepted on converge).
	InsideCIDR string
	// PreSharedKeySecretARN is the Secrets Manager secret holding the
	// tunnel's pre-shared key (8-64 letters, digits, . and _, not starting
	// with 0). Empty lets AWS generate one. The key itself never appears
	// in a spec, a log, a Change or an error.
	PreSharedKeySecretARN string
}

// reservedInside are the tunnel inside CIDRs AWS refuses.
var reservedInside = []string{"169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"}

// VPNConnectionSpec describes the Site-to-Site VPN: the customer gateway
// (the on-premises device) and a connection with dynamic (BGP) routing
// and two tunnels to the virtual private gateway, logging to CloudWatch
// Logs.
type VPNConnectionSpec struct {
	// VPNGatewayID is the virtual private gateway (VPNGateway.ID);
	// required by Ensure.
	VPNGatewayID string
	// AmazonSideASN is the gateway's ASN (VPNGatewaySpec.AmazonSideASN);
	// the two sides of a BGP session need different ASNs.
	AmazonSideASN int64
	// CustomerGatewayIP is the on-premises device's static public IPv4
	// address.
	CustomerGatewayIP string
	// CustomerASN is the on-premises BGP ASN: a public ASN you own or a
	// private one (64512-65534 or 4200000000-4294967294).
	CustomerASN int64
	// OnPremCIDR and VPCCIDR are the two networks the VPN joins; they must
	// not overlap.
	OnPremCIDR, VPCCIDR string
	// Tunnels are the two tunnels' inside CIDRs and key secrets.
	Tunnels [2]TunnelSpec
	// Crypto are the tunnel options; the zero value means
	// DefaultTunnelCrypto().
	Crypto TunnelCrypto
	// KMSKeyARN encrypts the tunnel log group (migration.Key.ARN).
	KMSKeyARN string
	// LogRetentionDays is one of migration.LogRetentionDays.
	LogRetentionDays int
	// RetainLogGroup makes DeleteVPNConnection leave the tunnel logs.
	RetainLogGroup bool
}

func (s VPNConnectionSpec) crypto() TunnelCrypto {
	if s.Crypto.isZero() {
		return DefaultTunnelCrypto()
	}
	return s.Crypto
}

func (s VPNConnectionSpec) logGroup(env migration.Env) migration.LogGroupSpec {
	return migration.LogGroupSpec{Name: env.LogGroup("vpn-tunnels"), RetentionDays: s.LogRetentionDays, KMSKeyARN: s.KMSKeyARN}
}

// Validate checks the spec: the two networks do not overlap, the ASNs are
// legal and differ, the customer gateway IP is a public IPv4 address, the
// tunnel inside CIDRs are legal and distinct, the key secrets are ARNs and
// the crypto is strong.
func (s VPNConnectionSpec) Validate() error {
	errs := []error{
		checkID("vpn.vpnGatewayId", s.VPNGatewayID, "vgw-"),
		checkAmazonASN("vpn.amazonSideAsn", s.AmazonSideASN),
		checkCustomerASN("vpn.customerAsn", s.CustomerASN),
	}
	if s.AmazonSideASN == s.CustomerASN {
		errs = append(errs, fmt.Errorf("vpn.customerAsn: %d equals the Amazon side ASN; the two BGP peers need different ASNs", s.CustomerASN))
	}
	if ip, err := netip.ParseAddr(s.CustomerGatewayIP); err != nil || !ip.Is4() {
		errs = append(errs, fmt.Errorf("vpn.customerGatewayIp: %q is not an IPv4 address", s.CustomerGatewayIP))
	} else if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() || netip.MustParsePrefix("100.64.0.0/10").Contains(ip) {
		errs = append(errs, fmt.Errorf("vpn.customerGatewayIp: %s is not a public address; the tunnels run over the internet", ip))
	}
	onprem, err1 := parseCIDR("vpn.onPremCidr", s.OnPremCIDR)
	vpc, err2 := parseCIDR("vpn.vpcCidr", s.VPCCIDR)
	errs = append(errs, err1, err2)
	if err1 == nil && err2 == nil && onprem.Overlaps(vpc) {
		errs = append(errs, fmt.Errorf("vpn.onPremCidr: %s overlaps the VPC's %s; routing between them would be ambiguous", onprem, vpc))
	}
	for i, t := range s.Tunnels {
		field := fmt.Sprintf("vpn.tunnels[%d]", i)
		if t.InsideCIDR != "" {
			p, err := parseCIDR(field+".insideCidr", t.InsideCIDR)
			switch {
			case err != nil:
				errs = append(errs, err)
			case p.Bits() != 30 || !netip.MustParsePrefix("169.254.0.0/16").Contains(p.Addr()):
				errs = append(errs, fmt.Errorf("%s.insideCidr: %s is not a /30 inside 169.254.0.0/16", field, p))
			case slices.Contains(reservedInside, p.String()):
				errs = append(errs, fmt.Errorf("%s.insideCidr: %s is reserved by AWS (169.254.0.0/30 to 169.254.5.0/30 and 169.254.169.252/30)", field, p))
			}
		}
		errs = append(errs, checkSecretARN(field+".preSharedKeySecretArn", t.PreSharedKeySecretARN))
	}
	if a, b := s.Tunnels[0].InsideCIDR, s.Tunnels[1].InsideCIDR; a != "" && a == b {
		errs = append(errs, fmt.Errorf("vpn.tunnels[1].insideCidr: %s is also tunnel 0's; each tunnel needs its own", b))
	}
	if !s.Crypto.isZero() {
		errs = append(errs, s.Crypto.Validate())
	}
	if !slices.Contains(migration.LogRetentionDays, s.LogRetentionDays) {
		errs = append(errs, fmt.Errorf("vpn.logRetentionDays: %d is not one of %v", s.LogRetentionDays, migration.LogRetentionDays))
	}
	if !migration.IsPending(s.KMSKeyARN) && !isARN(s.KMSKeyARN, "kms") {
		errs = append(errs, fmt.Errorf("vpn.kmsKeyArn: %q is not a KMS key ARN (required: tunnel logs are encrypted with the env key)", s.KMSKeyARN))
	}
	return errors.Join(errs...)
}

// Tunnel is one tunnel of an ensured connection, with the addresses the
// on-premises device is configured with.
type Tunnel struct {
	OutsideIP  string
	InsideCIDR string
	// AWSInsideIP and CustomerInsideIP are the BGP peer addresses: the
	// first and second host of InsideCIDR.
	AWSInsideIP, CustomerInsideIP string
}

// VPNConnection is an ensured Site-to-Site VPN.
type VPNConnection struct {
	ID                string
	Name              string
	CustomerGatewayID string
	State             string
	Tunnels           []Tunnel
	LogGroupARN       string
}

// vpnTimeout bounds the waits for a connection to become available (AWS
// takes minutes) or deleted.
const vpnTimeout = 30 * time.Minute

// EnsureVPNConnection makes the env's Site-to-Site VPN exist and converge:
// the tunnel log group env.LogGroup("vpn-tunnels") (encrypted, with
// retention), the customer gateway "cgw-<suffix>" and the connection
// "vpn-<suffix>" with BGP routing and the spec's tunnel options.
//
// The customer gateway is created with DeviceName "cgw-<suffix>": EC2
// returns an existing gateway for an identical type, IP, ASN and device
// name instead of creating one, and a returned gateway without this env's
// ownership tag is refused rather than used. A customer gateway cannot be
// modified: a changed IP or ASN is refused with an error. The virtual
// private gateway's ASN must equal the spec's AmazonSideASN.
//
// A missing connection is created with its tags and both tunnels' options
// (pre-shared keys read through c.Secrets when the spec names secrets),
// then waited for until available. On an existing connection tunnel
// options that differ (crypto, lifetimes, DPD, startup action, inside
// CIDRs, keys, logging) are modified one tunnel at a time, waiting for
// the connection to be available in between, so one tunnel stays up; a
// connection to another customer or virtual private gateway, or with
// static routing, is refused. Reports one Change each for the log group,
// the customer gateway and the connection.
func EnsureVPNConnection(ctx context.Context, env migration.Env, c VPNConnectionClients, spec VPNConnectionSpec) (VPNConnection, error) {
	name := env.Name("vpn")
	if err := migration.Validate(env, spec); err != nil {
		return VPNConnection{}, fmt.Errorf("ensure vpn connection %q: %w", name, err)
	}
	if err := errors.Join(required("vpn.vpnGatewayId", spec.VPNGatewayID), realIDs(env, "vpn.vpnGatewayId", spec.VPNGatewayID, "vpn.kmsKeyArn", spec.KMSKeyARN)); err != nil {
		return VPNConnection{}, fmt.Errorf("ensure vpn connection %q: %w", name, err)
	}
	v, err := ensureVPNConnection(ctx, env, c, spec, name)
	if err != nil {
		return VPNConnection{}, fmt.Errorf("ensure vpn connection %q: %w", name, err)
	}
	return v, nil
}

func ensureVPNConnection(ctx context.Context, env migration.Env, c VPNConnectionClients, spec VPNConnectionSpec, name string) (VPNConnection, error) {
	// Read the keys and check the gateway first: a missing secret or a
	// wrong ASN must fail before any write.
	keys := [2]string{}
	for i, t := range spec.Tunnels {
		if t.PreSharedKeySecretARN != "" {
			var err error
			if keys[i], err = readSecret(ctx, c.Secrets, fmt.Sprintf("vpn.tunnels[%d].preSharedKeySecretArn", i), t.PreSharedKeySecretARN); err != nil {
				return VPNConnection{}, err
			}
		}
	}
	if !migration.IsPending(spec.VPNGatewayID) {
		if err := checkGatewayASN(ctx, c.EC2, spec); err != nil {
			return VPNConnection{}, err
		}
	}
	group, err := migration.EnsureLogGroup(ctx, env, c.Logs, spec.logGroup(env))
	if err != nil {
		return VPNConnection{}, err
	}
	out := VPNConnection{Name: name, LogGroupARN: group.ARN}
	if out.CustomerGatewayID, err = ensureCustomerGateway(ctx, env, c.EC2, spec); err != nil {
		return VPNConnection{}, err
	}
	createDiff := []migration.FieldDiff{{Field: "customerGateway", To: out.CustomerGatewayID}, {Field: "vpnGateway", To: spec.VPNGatewayID}, {Field: "routing", To: "BGP"}}
	if migration.IsPending(spec.VPNGatewayID) { // a pending gateway has no connection yet
		out.ID = migration.Pending(name)
		report(env, KindVPNConnection, name, out.ID, migration.ActionCreate, createDiff, "")
		return out, nil
	}
	found, err := findVPNConnection(ctx, env, c.EC2, name)
	if err != nil {
		return VPNConnection{}, err
	}
	want := spec.crypto()
	if found == nil {
		if env.DryRun || migration.IsPending(out.CustomerGatewayID) {
			out.ID = migration.Pending(name)
			report(env, KindVPNConnection, name, out.ID, migration.ActionCreate, createDiff, "")
			return out, nil
		}
		var opts []types.VpnTunnelOptionsSpecification
		for i, t := range spec.Tunnels {
			opts = append(opts, tunnelSpec(want, t, keys[i], group.ARN))
		}
		var created *ec2.CreateVpnConnectionOutput
		// A customer gateway just created may not be visible yet.
		err := env.Retry(ctx, []string{"InvalidCustomerGatewayID.NotFound"}, func(ctx context.Context) error {
			var err error
			created, err = c.EC2.CreateVpnConnection(ctx, &ec2.CreateVpnConnectionInput{
				Type: aws.String(string(types.GatewayTypeIpsec1)), CustomerGatewayId: aws.String(out.CustomerGatewayID), VpnGatewayId: aws.String(spec.VPNGatewayID),
				Options:           &types.VpnConnectionOptionsSpecification{StaticRoutesOnly: aws.Bool(false), TunnelOptions: opts},
				TagSpecifications: awsx.TagSpec(types.ResourceTypeVpnConnection, env.NameTags(name)),
			})
			return err
		})
		if err != nil {
			return VPNConnection{}, fmt.Errorf("create: %w", err)
		}
		out.ID = aws.ToString(created.VpnConnection.VpnConnectionId)
		v, err := waitVPN(ctx, env, c.EC2, out.ID)
		if err != nil {
			return VPNConnection{}, err
		}
		fillVPN(&out, v)
		report(env, KindVPNConnection, name, out.ID, migration.ActionCreate, createDiff, "")
		return out, nil
	}

	out.ID = aws.ToString(found.VpnConnectionId)
	var conflicts []string
	if g := aws.ToString(found.CustomerGatewayId); g != out.CustomerGatewayID && !migration.IsPending(out.CustomerGatewayID) {
		conflicts = append(conflicts, fmt.Sprintf("customer gateway is %s, the spec's is %s", g, out.CustomerGatewayID))
	}
	if g := aws.ToString(found.VpnGatewayId); g != spec.VPNGatewayID {
		conflicts = append(conflicts, fmt.Sprintf("virtual private gateway is %s, the spec's is %s", g, spec.VPNGatewayID))
	}
	if found.Options != nil && aws.ToBool(found.Options.StaticRoutesOnly) {
		conflicts = append(conflicts, "routing is static, the spec wants BGP")
	}
	if len(conflicts) > 0 {
		return VPNConnection{}, fmt.Errorf("immutable: %s: %s; delete the connection (DeleteVPNConnection) and apply again", out.ID, strings.Join(conflicts, "; "))
	}
	var conv migration.Converge
	var mods []*ec2.ModifyVpnTunnelOptionsInput
	var have []types.TunnelOption
	if found.Options != nil {
		have = found.Options.TunnelOptions
	}
	for i, h := range matchTunnels(have, spec.Tunnels) {
		if h < 0 {
			continue
		}
		d := tunnelDiff(fmt.Sprintf("tunnel%d.", i+1), have[h], want, spec.Tunnels[i], keys[i], group.ARN)
		if len(d) > 0 {
			conv.Differs(d...)
			m := tunnelSpec(want, spec.Tunnels[i], keys[i], group.ARN)
			mods = append(mods, &ec2.ModifyVpnTunnelOptionsInput{VpnConnectionId: aws.String(out.ID), VpnTunnelOutsideIpAddress: have[h].OutsideIpAddress, TunnelOptions: modifySpec(m)})
		}
	}
	// Tag first, then the tunnels, while the diff lists the tunnels first.
	conv.Tags(awsx.FromEC2Tags(found.Tags), env.NameTags(name), tagEC2(ctx, c.EC2, out.ID))
	fillVPN(&out, found)
	for _, m := range mods {
		conv.Then(func() error {
			// One tunnel at a time, each on an available connection, so
			// the other tunnel carries traffic meanwhile.
			if _, err := waitVPN(ctx, env, c.EC2, out.ID); err != nil {
				return err
			}
			if _, err := c.EC2.ModifyVpnTunnelOptions(ctx, m); err != nil {
				return fmt.Errorf("modify tunnel %s: %w", aws.ToString(m.VpnTunnelOutsideIpAddress), err)
			}
			return nil
		})
	}
	if len(mods) > 0 {
		conv.Then(func() error {
			v, err := waitVPN(ctx, env, c.EC2, out.ID)
			if err != nil {
				return err
			}
			fillVPN(&out, v)
			return nil
		})
	}
	if err := conv.Apply(env, migration.Change{Kind: KindVPNConnection, Name: name, ID: out.ID}); err != nil {
		return VPNConnection{}, err
	}
	return out, nil
}

// matchTunnels pairs the spec's tunnels with the connection's: a spec
// tunnel naming an inside CIDR takes the tunnel with that CIDR, the others
// take the remaining tunnels in the order EC2 lists them. It returns, for
// each spec tunnel, the index in have (or -1).
func matchTunnels(have []types.TunnelOption, want [2]TunnelSpec) [2]int {
	out := [2]int{-1, -1}
	used := make([]bool, len(have))
	for i, t := range want {
		for h, o := range have {
			if t.InsideCIDR != "" && !used[h] && aws.ToString(o.TunnelInsideCidr) == t.InsideCIDR {
				out[i], used[h] = h, true
				break
			}
		}
	}
	for i := range want {
		if out[i] >= 0 {
			continue
		}
		for h := range have {
			if !used[h] {
				out[i], used[h] = h, true
				break
			}
		}
	}
	return out
}

func fillVPN(out *VPNConnection, v *types.VpnConnection) {
	out.State = string(v.State)
	out.Tunnels = nil
	if v.Options == nil {
		return
	}
	for _, t := range v.Options.TunnelOptions {
		tt := Tunnel{OutsideIP: aws.ToString(t.OutsideIpAddress), InsideCIDR: aws.ToString(t.TunnelInsideCidr)}
		if p, err := netip.ParsePrefix(tt.InsideCIDR); err == nil {
			tt.AWSInsideIP = p.Addr().Next().String()
			tt.CustomerInsideIP = p.Addr().Next().Next().String()
		}
		out.Tunnels = append(out.Tunnels, tt)
	}
}

// tunnelSpec builds one tunnel's options. key is the pre-shared key, ""
// to let AWS generate one.
func tunnelSpec(c TunnelCrypto, t TunnelSpec, key, logGroupARN string) types.VpnTunnelOptionsSpecification {
	o := types.VpnTunnelOptionsSpecification{
		Phase1LifetimeSeconds: aws.Int32(int32(c.Phase1Lifetime / time.Second)), Phase2LifetimeSeconds: aws.Int32(int32(c.Phase2Lifetime / time.Second)),
		RekeyMarginTimeSeconds: aws.Int32(int32(c.RekeyMargin / time.Second)), DPDTimeoutSeconds: aws.Int32(int32(c.DPDTimeout / time.Second)),
		DPDTimeoutAction: aws.String(c.DPDAction), StartupAction: aws.String(c.StartupAction),
		LogOptions: &types.VpnTunnelLogOptionsSpecification{CloudWatchLogOptions: &types.CloudWatchLogOptionsSpecification{
			LogEnabled: aws.Bool(true), LogGroupArn: aws.String(logGroupARN), LogOutputFormat: aws.String("json"),
		}},
	}
	for _, v := range c.IKEVersions {
		o.IKEVersions = append(o.IKEVersions, types.IKEVersionsRequestListValue{Value: aws.String(v)})
	}
	for _, v := range c.Phase1Encryption {
		o.Phase1EncryptionAlgorithms = append(o.Phase1EncryptionAlgorithms, types.Phase1EncryptionAlgorithmsRequestListValue{Value: aws.String(v)})
	}
	for _, v := range c.Phase2Encryption {
		o.Phase2EncryptionAlgorithms = append(o.Phase2EncryptionAlgorithms, types.Phase2EncryptionAlgorithmsRequestListValue{Value: aws.String(v)})
	}
	for _, v := range c.Phase1Integrity {
		o.Phase1IntegrityAlgorithms = append(o.Phase1IntegrityAlgorithms, types.Phase1IntegrityAlgorithmsRequestListValue{Value: aws.String(v)})
	}
	for _, v := range c.Phase2Integrity {
		o.Phase2IntegrityAlgorithms = append(o.Phase2IntegrityAlgorithms, types.Phase2IntegrityAlgorithmsRequestListValue{Value: aws.String(v)})
	}
	for _, v := range c.Phase1DHGroups {
		o.Phase1DHGroupNumbers = append(o.Phase1DHGroupNumbers, types.Phase1DHGroupNumbersRequestListValue{Value: aws.Int32(v)})
	}
	for _, v := range c.Phase2DHGroups {
		o.Phase2DHGroupNumbers = append(o.Phase2DHGroupNumbers, types.Phase2DHGroupNumbersRequestListValue{Value: aws.Int32(v)})
	}
	if t.InsideCIDR != "" {
		o.TunnelInsideCidr = aws.String(t.InsideCIDR)
	}
	if key != "" {
		o.PreSharedKey = aws.String(key)
	}
	return o
}

// modifySpec converts creation options to the modification type (the
// same fields).
func modifySpec(o types.VpnTunnelOptionsSpecification) *types.ModifyVpnTunnelOptionsSpecification {
	return &types.ModifyVpnTunnelOptionsSpecification{
		DPDTimeoutAction: o.DPDTimeoutAction, DPDTimeoutSeconds: o.DPDTimeoutSeconds, IKEVersions: o.IKEVersions, LogOptions: o.LogOptions,
		Phase1DHGroupNumbers: o.Phase1DHGroupNumbers, Phase1EncryptionAlgorithms: o.Phase1EncryptionAlgorithms, Phase1IntegrityAlgorithms: o.Phase1IntegrityAlgorithms,
		Phase1LifetimeSeconds: o.Phase1LifetimeSeconds, Phase2DHGroupNumbers: o.Phase2DHGroupNumbers, Phase2EncryptionAlgorithms: o.Phase2EncryptionAlgorithms,
		Phase2IntegrityAlgorithms: o.Phase2IntegrityAlgorithms, Phase2LifetimeSeconds: o.Phase2LifetimeSeconds, PreSharedKey: o.PreSharedKey,
		RekeyMarginTimeSeconds: o.RekeyMarginTimeSeconds, StartupAction: o.StartupAction, TunnelInsideCidr: o.TunnelInsideCidr,
	}
}

// tunnelDiff compares one tunnel with the spec. The pre-shared key is
// compared in constant time and reported without its value.
func tunnelDiff(prefix string, have types.TunnelOption, c TunnelCrypto, t TunnelSpec, key, logGroupARN string) []migration.FieldDiff {
	var diff []migration.FieldDiff
	set := func(field string, have, want []string) {
		h, w := slices.Sorted(slices.Values(have)), slices.Sorted(slices.Values(want))
		if !slices.Equal(h, w) {
			diff = append(diff, migration.FieldDiff{Field: prefix + field, From: strings.Join(h, ","), To: strings.Join(w, ",")})
		}
	}
	num := func(field string, have int32, want time.Duration) {
		if int64(have) != int64(want/time.Second) {
			diff = append(diff, migration.FieldDiff{Field: prefix + field, From: fmt.Sprint(have), To: fmt.Sprint(int64(want / time.Second))})
		}
	}
	str := func(field, have, want string) {
		if have != want {
			diff = append(diff, migration.FieldDiff{Field: prefix + field, From: have, To: want})
		}
	}
	strs := func(vals []*string) []string {
		var out []string
		for _, v := range vals {
			out = append(out, aws.ToString(v))
		}
		return out
	}
	ints := func(vals []*int32) []string {
		var out []string
		for _, v := range vals {
			out = append(out, strconv.Itoa(int(aws.ToInt32(v))))
		}
		return out
	}
	itoa := func(vals []int32) []string {
		var out []string
		for _, v := range vals {
			out = append(out, strconv.Itoa(int(v)))
		}
		return out
	}
	var ike, e1, e2, i1, i2 []*string
	var d1, d2 []*int32
	for _, v := range have.IkeVersions {
		ike = append(ike, v.Value)
	}
	for _, v := range have.Phase1EncryptionAlgorithms {
		e1 = append(e1, v.Value)
	}
	for _, v := range have.Phase2EncryptionAlgorithms {
		e2 = append(e2, v.Value)
	}
	for _, v := range have.Phase1IntegrityAlgorithms {
		i1 = append(i1, v.Value)
	}
	for _, v := range have.Phase2IntegrityAlgorithms {
		i2 = append(i2, v.Value)
	}
	for _, v := range have.Phase1DHGroupNumbers {
		d1 = append(d1, v.Value)
	}
	for _, v := range have.Phase2DHGroupNumbers {
		d2 = append(d2, v.Value)
	}
	set("ikeVersions", strs(ike), c.IKEVersions)
	set("phase1Encryption", strs(e1), c.Phase1Encryption)
	set("phase2Encryption", strs(e2), c.Phase2Encryption)
	set("phase1Integrity", strs(i1), c.Phase1Integrity)
	set("phase2Integrity", strs(i2), c.Phase2Integrity)
	set("phase1DhGroups", ints(d1), itoa(c.Phase1DHGroups))
	set("phase2DhGroups", ints(d2), itoa(c.Phase2DHGroups))
	num("phase1LifetimeSeconds", aws.ToInt32(have.Phase1LifetimeSeconds), c.Phase1Lifetime)
	num("phase2LifetimeSeconds", aws.ToInt32(have.Phase2LifetimeSeconds), c.Phase2Lifetime)
	num("rekeyMarginSeconds", aws.ToInt32(have.RekeyMarginTimeSeconds), c.RekeyMargin)
	num("dpdTimeoutSeconds", aws.ToInt32(have.DpdTimeoutSeconds), c.DPDTimeout)
	str("dpdAction", aws.ToString(have.DpdTimeoutAction), c.DPDAction)
	str("startupAction", aws.ToString(have.StartupAction), c.StartupAction)
	if t.InsideCIDR != "" {
		str("insideCidr", aws.ToString(have.TunnelInsideCidr), t.InsideCIDR)
	}
	if key != "" && !sameSecret(aws.ToString(have.PreSharedKey), key) {
		diff = append(diff, migration.FieldDiff{Field: prefix + "preSharedKey", From: "(differs)", To: "(from " + t.PreSharedKeySecretARN + ")"})
	}
	var logOn bool
	var logARN, logFormat string
	if have.LogOptions != nil && have.LogOptions.CloudWatchLogOptions != nil {
		cw := have.LogOptions.CloudWatchLogOptions
		logOn, logARN, logFormat = aws.ToBool(cw.LogEnabled), aws.ToString(cw.LogGroupArn), aws.ToString(cw.LogOutputFormat)
	}
	if !logOn || logARN != logGroupARN || logFormat != "json" {
		diff = append(diff, migration.FieldDiff{Field: prefix + "logging", From: fmt.Sprintf("%t %s %s", logOn, logARN, logFormat), To: "true " + logGroupARN + " json"})
	}
	return diff
}

// checkGatewayASN refuses a virtual private gateway whose ASN is not the
// spec's AmazonSideASN (the ASN validation compared against).
func checkGatewayASN(ctx context.Context, api VPNConnectionEC2API, spec VPNConnectionSpec) error {
	out, err := api.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{VpnGatewayIds: []string{spec.VPNGatewayID}})
	if err != nil {
		return fmt.Errorf("describe vpn gateway %s: %w", spec.VPNGatewayID, err)
	}
	for _, g := range out.VpnGateways {
		if asn := aws.ToInt64(g.AmazonSideAsn); asn != spec.AmazonSideASN {
			return fmt.Errorf("vpn.amazonSideAsn: %s has ASN %d, the spec says %d", spec.VPNGatewayID, asn, spec.AmazonSideASN)
		}
	}
	return nil
}

func cgwName(env migration.Env) string { return env.Name("cgw") }

// ensureCustomerGateway makes the env's customer gateway exist and
// returns its ID (a Pending ID in a dry run when missing).
func ensureCustomerGateway(ctx context.Context, env migration.Env, api VPNConnectionEC2API, spec VPNConnectionSpec) (string, error) {
	name := cgwName(env)
	found, err := findCustomerGateway(ctx, env, api, name)
	if err != nil {
		return "", err
	}
	createDiff := []migration.FieldDiff{{Field: "ip", To: spec.CustomerGatewayIP}, {Field: "bgpAsn", To: fmt.Sprint(spec.CustomerASN)}}
	if found == nil {
		if env.DryRun {
			id := migration.Pending(name)
			report(env, KindCustomerGateway, name, id, migration.ActionCreate, createDiff, "")
			return id, nil
		}
		in := &ec2.CreateCustomerGatewayInput{
			Type: types.GatewayTypeIpsec1, IpAddress: aws.String(spec.CustomerGatewayIP), DeviceName: aws.String(name),
			TagSpecifications: awsx.TagSpec(types.ResourceTypeCustomerGateway, env.NameTags(name)),
		}
		if spec.CustomerASN > 2147483647 {
			in.BgpAsnExtended = aws.Int64(spec.CustomerASN)
		} else {
			in.BgpAsn = aws.Int32(int32(spec.CustomerASN))
		}
		out, err := api.CreateCustomerGateway(ctx, in)
		if err != nil {
			return "", fmt.Errorf("create customer gateway: %w", err)
		}
		id := aws.ToString(out.CustomerGateway.CustomerGatewayId)
		if !env.Owns(awsx.FromEC2Tags(out.CustomerGateway.Tags)) {
			return "", fmt.Errorf("create customer gateway: EC2 returned the existing %s (same type, IP, ASN and device name) which lacks %s=%s; refusing to use a gateway this env does not own", id, migration.OwnerTag, env.Suffix)
		}
		report(env, KindCustomerGateway, name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	id := aws.ToString(found.CustomerGatewayId)
	asn := aws.ToString(found.BgpAsn)
	if asn == "" {
		asn = aws.ToString(found.BgpAsnExtended)
	}
	if ip := aws.ToString(found.IpAddress); ip != spec.CustomerGatewayIP || asn != fmt.Sprint(spec.CustomerASN) {
		return "", fmt.Errorf("customer gateway is immutable: %s has IP %s and ASN %s, the spec wants %s and %d; delete the VPN (DeleteVPNConnection) and apply again", id, ip, asn, spec.CustomerGatewayIP, spec.CustomerASN)
	}
	var c migration.Converge
	c.Tags(awsx.FromEC2Tags(found.Tags), env.NameTags(name), tagEC2(ctx, api, id))
	if err := c.Apply(env, migration.Change{Kind: KindCustomerGateway, Name: name, ID: id}); err != nil {
		return "", err
	}
	return id, nil
}

func findCustomerGateway(ctx context.Context, env migration.Env, api VPNConnectionEC2API, name string) (*types.CustomerGateway, error) {
	out, err := api.DescribeCustomerGateways(ctx, &ec2.DescribeCustomerGatewaysInput{Filters: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name)})
	if err != nil {
		return nil, fmt.Errorf("describe customer gateways: %w", err)
	}
	var live []types.CustomerGateway
	for _, g := range out.CustomerGateways {
		if env.Owns(awsx.FromEC2Tags(g.Tags)) && aws.ToString(g.State) != "deleted" && aws.ToString(g.State) != "deleting" {
			live = append(live, g)
		}
	}
	switch len(live) {
	case 0:
		return nil, nil
	case 1:
		return &live[0], nil
	}
	return nil, fmt.Errorf("%d customer gateways carry %s=%s and Name=%s; expected one: delete the extras", len(live), migration.OwnerTag, env.Suffix, name)
}

func findVPNConnection(ctx context.Context, env migration.Env, api VPNConnectionEC2API, name string) (*types.VpnConnection, error) {
	out, err := api.DescribeVpnConnections(ctx, &ec2.DescribeVpnConnectionsInput{Filters: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name)})
	if err != nil {
		return nil, fmt.Errorf("describe vpn connections: %w", err)
	}
	var live []types.VpnConnection
	for _, v := range out.VpnConnections {
		if env.Owns(awsx.FromEC2Tags(v.Tags)) && v.State != types.VpnStateDeleted && v.State != types.VpnStateDeleting {
			live = append(live, v)
		}
	}
	switch len(live) {
	case 0:
		return nil, nil
	case 1:
		return &live[0], nil
	}
	return nil, fmt.Errorf("%d VPN connections carry %s=%s and Name=%s; expected one: delete the extras", len(live), migration.OwnerTag, env.Suffix, name)
}

// waitVPN waits until the connection is available (after a create or a
// tunnel modification) and returns it.
func waitVPN(ctx context.Context, env migration.Env, api VPNConnectionEC2API, id string) (*types.VpnConnection, error) {
	var accept awsx.Acceptor[ec2.DescribeVpnConnectionsInput, ec2.DescribeVpnConnectionsOutput]
	ec2.NewVpnConnectionAvailableWaiter(api, func(o *ec2.VpnConnectionAvailableWaiterOptions) { accept = o.Retryable })
	out, err := migration.Wait(ctx, env, "vpn connection "+id+" to be available", api.DescribeVpnConnections, &ec2.DescribeVpnConnectionsInput{VpnConnectionIds: []string{id}}, accept, vpnTimeout, "InvalidVpnConnectionID.NotFound")
	if err != nil {
		return nil, err
	}
	return &out.VpnConnections[0], nil
}

// DeleteVPNConnection deletes the env's VPN connection (waiting until it
// is deleted), its customer gateway and, unless RetainLogGroup, the tunnel
// log group. Only resources with the env's ownership tag are touched;
// missing ones are no-ops.
func DeleteVPNConnection(ctx context.Context, env migration.Env, c VPNConnectionClients, spec VPNConnectionSpec) error {
	name := env.Name("vpn")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete vpn connection %q: %w", name, err)
	}
	if err := deleteVPNConnection(ctx, env, c, spec, name); err != nil {
		return fmt.Errorf("delete vpn connection %q: %w", name, err)
	}
	return nil
}

func deleteVPNConnection(ctx context.Context, env migration.Env, c VPNConnectionClients, spec VPNConnectionSpec, name string) error {
	found, err := findVPNConnection(ctx, env, c.EC2, name)
	if err != nil {
		return err
	}
	if found == nil {
		env.ReportGone(KindVPNConnection, name)
	} else {
		id := aws.ToString(found.VpnConnectionId)
		if !env.DryRun {
			if _, err := c.EC2.DeleteVpnConnection(ctx, &ec2.DeleteVpnConnectionInput{VpnConnectionId: aws.String(id)}); err != nil && !awsx.IsNotFound(err) {
				return fmt.Errorf("delete %s: %w", id, err)
			}
			var accept awsx.Acceptor[ec2.DescribeVpnConnectionsInput, ec2.DescribeVpnConnectionsOutput]
			ec2.NewVpnConnectionDeletedWaiter(c.EC2, func(o *ec2.VpnConnectionDeletedWaiterOptions) { accept = o.Retryable })
			if _, err := migration.Wait(ctx, env, "vpn connection "+id+" to be deleted", c.EC2.DescribeVpnConnections, &ec2.DescribeVpnConnectionsInput{VpnConnectionIds: []string{id}}, accept, vpnTimeout); err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
		report(env, KindVPNConnection, name, id, migration.ActionDelete, nil, "")
	}
	cname := cgwName(env)
	cg, err := findCustomerGateway(ctx, env, c.EC2, cname)
	if err != nil {
		return err
	}
	if cg == nil {
		env.ReportGone(KindCustomerGateway, cname)
	} else {
		id := aws.ToString(cg.CustomerGatewayId)
		if !env.DryRun {
			err := deleteRetrying(ctx, env, "customer gateway "+id, func(ctx context.Context) error {
				_, err := c.EC2.DeleteCustomerGateway(ctx, &ec2.DeleteCustomerGatewayInput{CustomerGatewayId: aws.String(id)})
				return err
			}, "IncorrectState")
			if err != nil {
				return err
			}
		}
		report(env, KindCustomerGateway, cname, id, migration.ActionDelete, nil, "")
	}
	group := spec.logGroup(env)
	if spec.RetainLogGroup {
		report(env, migration.KindLogGroup, group.Name, migration.LogGroupARN(env, group.Name), migration.ActionNoop, nil, "retained (retainLogGroup)")
		return nil
	}
	return migration.DeleteLogGroup(ctx, env, c.Logs, group)
}
