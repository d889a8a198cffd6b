package network

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Path is one of the two ways between on-premises and the VPC.
type Path string

// The paths.
const (
	PathVPN           Path = "vpn"
	PathDirectConnect Path = "direct-connect"
)

func (p Path) title() string {
	if p == PathVPN {
		return "Site-to-Site VPN"
	}
	return "Direct Connect"
}

// BGP limits that break a session or drop routes when exceeded: a VGW
// accepts 100 routes from a customer gateway over BGP, and a private VIF
// session goes down above 100 prefixes.
const (
	maxVPNRoutes = 100
	maxVIFRoutes = 100
)

// BGPPlanSpec is the input of PlanBGP.
type BGPPlanSpec struct {
	// OnPremPrefixes are the on-premises networks, for example
	// ["192.168.0.0/16"].
	OnPremPrefixes []string
	// VPCCIDR is the VPC's block.
	VPCCIDR string
	// DXAllowedPrefixes are the allowed prefixes of the Direct Connect
	// gateway association (what AWS advertises over Direct Connect);
	// default [VPCCIDR].
	DXAllowedPrefixes []string
	// Primary is the path traffic takes while both are up.
	Primary Path
	// VPNAmazonASN, DXAmazonASN and CustomerASN, when set, name the BGP
	// peers in the text.
	VPNAmazonASN, DXAmazonASN, CustomerASN int64
}

// BGPPlan says what each side advertises on each path so that the
// primary path wins and the backup takes over when the primary withdraws
// its routes. See PlanBGP for the rule.
type BGPPlan struct {
	Primary, Backup Path
	// AdvertiseOverVPN and AdvertiseOverDX are the prefixes the
	// on-premises routers advertise to AWS on each path.
	AdvertiseOverVPN, AdvertiseOverDX []string
	// LearnOverVPN and LearnOverDX are the prefixes AWS advertises to
	// on-premises on each path: the VPC CIDR from the virtual private
	// gateway, the allowed prefixes from the Direct Connect gateway.
	LearnOverVPN, LearnOverDX []string
	// LocalPreference is what the on-premises routers set on routes
	// learned on each path, so traffic to AWS also takes the primary.
	LocalPreference map[Path]int
	// Text is the plan as a block an on-premises network engineer can
	// apply.
	Text string
}

// PlanBGP computes the BGP advertisements for two paths to the same VPC
// through one virtual private gateway. It is pure.
//
// The rule. For traffic from the VPC to on-premises, AWS picks the route
// by longest prefix first; for the same prefix it prefers routes learned
// over Direct Connect, then static VPN routes, then BGP VPN routes (AS
// path prepending cannot override this). Hence:
//
//   - Direct Connect primary: advertise the same prefixes over both
//     paths. Direct Connect wins; the VPN routes take over when the VIF's
//     BGP session withdraws.
//   - VPN primary (Direct Connect as backup): advertise over the VPN a
//     more specific split of every prefix (each prefix as its two halves)
//     and over Direct Connect only the prefixes themselves. The halves
//     win by length while the VPN is up; when it goes down they are
//     withdrawn and the Direct Connect prefixes carry the traffic. A /32
//     cannot be split and is an error.
//
// For traffic from on-premises to AWS the on-premises routers choose:
// AWS advertises the VPC CIDR over the VPN and the allowed prefixes over
// Direct Connect, and the plan gives the primary path the higher
// local preference (200 against 100). Local preference only decides
// between routes of the same length, so the allowed prefixes must not
// out-match the primary: with Direct Connect primary they must include
// the VPC CIDR itself (a wider prefix alone loses to the VPN's VPC CIDR),
// and with the VPN primary none may be more specific than the VPC CIDR.
//
// Refused: no prefixes, a prefix given twice, a prefix that is not an
// IPv4 network or that overlaps the VPC, allowed prefixes that do not
// cover the VPC or that would out-match the primary path as above, an
// unknown primary path, and a plan over the BGP route limits (100 routes
// per VPN session, 100 per private VIF session: a VIF session goes down
// beyond that).
func PlanBGP(spec BGPPlanSpec) (BGPPlan, error) {
	vpc, err := parseCIDR("bgp.vpcCidr", spec.VPCCIDR)
	if err != nil {
		return BGPPlan{}, err
	}
	var errs []error
	if spec.Primary != PathVPN && spec.Primary != PathDirectConnect {
		errs = append(errs, fmt.Errorf("bgp.primary: %q is not %q or %q", spec.Primary, PathVPN, PathDirectConnect))
	}
	if len(spec.OnPremPrefixes) == 0 {
		errs = append(errs, errors.New("bgp.onPremPrefixes: at least one prefix required"))
	}
	var prefixes []netip.Prefix
	for i, s := range spec.OnPremPrefixes {
		p, err := parseCIDR(fmt.Sprintf("bgp.onPremPrefixes[%d]", i), s)
		switch {
		case err != nil:
			errs = append(errs, err)
		case slices.Contains(prefixes, p):
			errs = append(errs, fmt.Errorf("bgp.onPremPrefixes[%d]: %s appears twice", i, p))
		case p.Overlaps(vpc):
			errs = append(errs, fmt.Errorf("bgp.onPremPrefixes[%d]: %s overlaps the VPC's %s", i, p, vpc))
		case spec.Primary == PathVPN && p.Bits() == 32:
			errs = append(errs, fmt.Errorf("bgp.onPremPrefixes[%d]: %s cannot be split into more specific prefixes for the VPN; advertise its /31 or shorter", i, p))
		default:
			prefixes = append(prefixes, p)
		}
	}
	learnDX := spec.DXAllowedPrefixes
	if len(learnDX) == 0 {
		learnDX = []string{vpc.String()}
	}
	errs = append(errs, checkDXLearned(learnDX, vpc, spec.Primary))
	if err := errors.Join(errs...); err != nil {
		return BGPPlan{}, err
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	plan := BGPPlan{
		Primary: spec.Primary, Backup: PathDirectConnect,
		LearnOverVPN: []string{vpc.String()}, LearnOverDX: slices.Clone(learnDX),
		LocalPreference: map[Path]int{spec.Primary: 200},
	}
	if spec.Primary == PathDirectConnect {
		plan.Backup = PathVPN
	}
	plan.LocalPreference[plan.Backup] = 100
	for _, p := range prefixes {
		plan.AdvertiseOverDX = append(plan.AdvertiseOverDX, p.String())
		if spec.Primary == PathVPN {
			lo, hi := halves(p)
			plan.AdvertiseOverVPN = append(plan.AdvertiseOverVPN, lo.String(), hi.String())
		} else {
			plan.AdvertiseOverVPN = append(plan.AdvertiseOverVPN, p.String())
		}
	}
	if n := len(plan.AdvertiseOverVPN); n > maxVPNRoutes {
		return BGPPlan{}, fmt.Errorf("bgp.onPremPrefixes: the plan advertises %d routes over the VPN; a virtual private gateway accepts at most %d over BGP: summarize the prefixes", n, maxVPNRoutes)
	}
	if n := len(plan.AdvertiseOverDX); n > maxVIFRoutes {
		return BGPPlan{}, fmt.Errorf("bgp.onPremPrefixes: the plan advertises %d routes over Direct Connect; a private VIF session goes down above %d: summarize the prefixes", n, maxVIFRoutes)
	}
	plan.Text = plan.text(spec)
	return plan, nil
}

// checkDXLearned checks the prefixes AWS advertises over Direct Connect
// against the VPC CIDR the VPN advertises: they must cover the VPC, and
// on-premises longest-prefix matching must not override the local
// preference that makes primary win (see PlanBGP).
func checkDXLearned(learnDX []string, vpc netip.Prefix, primary Path) error {
	var errs []error
	covered, exact := false, false
	for i, s := range learnDX {
		field := fmt.Sprintf("bgp.dxAllowedPrefixes[%d]", i)
		p, err := parseCIDR(field, s)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !p.Overlaps(vpc):
		case p.Bits() > vpc.Bits():
			if primary == PathVPN {
				errs = append(errs, fmt.Errorf("%s: %s is more specific than the VPC's %s, which the VPN advertises: on-premises routers would prefer Direct Connect whatever the local preference; allow %s or wider", field, p, vpc, vpc))
			}
		default:
			covered, exact = true, exact || p == vpc
		}
	}
	switch {
	case len(errs) > 0:
	case !covered:
		errs = append(errs, fmt.Errorf("bgp.dxAllowedPrefixes: none covers the VPC's %s; on-premises would learn no route to it over Direct Connect", vpc))
	case primary == PathDirectConnect && !exact:
		errs = append(errs, fmt.Errorf("bgp.dxAllowedPrefixes: %s are wider than the VPC's %s, which the VPN advertises: on-premises routers would prefer the VPN's longer prefix whatever the local preference; with Direct Connect primary allow %s itself", strings.Join(learnDX, ", "), vpc, vpc))
	}
	return errors.Join(errs...)
}

// halves splits p into its two halves.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	lo := netip.PrefixFrom(p.Addr(), p.Bits()+1)
	v := addrU32(p.Addr()) | 1<<(31-p.Bits())
	return lo, netip.PrefixFrom(u32Addr(v), p.Bits()+1)
}

func (p BGPPlan) text(spec BGPPlanSpec) string {
	var b strings.Builder
	peer := func(asn int64) string {
		if asn == 0 {
			return ""
		}
		return fmt.Sprintf(" (AWS peer ASN %d)", asn)
	}
	fmt.Fprintf(&b, "BGP plan: primary path %s, backup %s\n", p.Primary.title(), p.Backup.title())
	if spec.CustomerASN != 0 {
		fmt.Fprintf(&b, "On-premises ASN: %d\n", spec.CustomerASN)
	}
	b.WriteString("\nRule: AWS routes to on-premises by longest prefix first; for the same prefix\n")
	b.WriteString("it prefers Direct Connect over VPN. ")
	if p.Primary == PathVPN {
		b.WriteString("So the VPN carries more specific prefixes\nthan Direct Connect; when the VPN goes down they are withdrawn and Direct\nConnect takes over.\n")
	} else {
		b.WriteString("So both paths carry the same prefixes;\nwhen Direct Connect goes down the VPN routes take over.\n")
	}
	fmt.Fprintf(&b, "\n1. Advertise to AWS over both VPN tunnels%s:\n", peer(spec.VPNAmazonASN))
	for _, s := range p.AdvertiseOverVPN {
		fmt.Fprintf(&b, "     %s\n", s)
	}
	fmt.Fprintf(&b, "2. Advertise to AWS over the Direct Connect private VIF%s:\n", peer(spec.DXAmazonASN))
	for _, s := range p.AdvertiseOverDX {
		fmt.Fprintf(&b, "     %s\n", s)
	}
	b.WriteString("3. Expect from AWS:\n")
	fmt.Fprintf(&b, "     over the VPN:            %s\n", strings.Join(p.LearnOverVPN, ", "))
	fmt.Fprintf(&b, "     over Direct Connect:     %s\n", strings.Join(p.LearnOverDX, ", "))
	b.WriteString("4. Prefer the primary path for traffic to AWS:\n")
	for _, path := range []Path{p.Primary, p.Backup} {
		fmt.Fprintf(&b, "     set local-preference %d on routes learned over %s\n", p.LocalPreference[path], path.title())
	}
	return b.String()
}
