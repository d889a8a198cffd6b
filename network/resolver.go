package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	r53rtypes "github.com/aws/aws-sdk-go-v2/service/route53resolver/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// ResolverAPI is the part of the Route 53 Resolver client
// EnsureResolverEndpoint and DeleteResolverEndpoint use.
type ResolverAPI interface {
	CreateResolverEndpoint(context.Context, *route53resolver.CreateResolverEndpointInput, ...func(*route53resolver.Options)) (*route53resolver.CreateResolverEndpointOutput, error)
	GetResolverEndpoint(context.Context, *route53resolver.GetResolverEndpointInput, ...func(*route53resolver.Options)) (*route53resolver.GetResolverEndpointOutput, error)
	ListResolverEndpoints(context.Context, *route53resolver.ListResolverEndpointsInput, ...func(*route53resolver.Options)) (*route53resolver.ListResolverEndpointsOutput, error)
	ListResolverEndpointIpAddresses(context.Context, *route53resolver.ListResolverEndpointIpAddressesInput, ...func(*route53resolver.Options)) (*route53resolver.ListResolverEndpointIpAddressesOutput, error)
	AssociateResolverEndpointIpAddress(context.Context, *route53resolver.AssociateResolverEndpointIpAddressInput, ...func(*route53resolver.Options)) (*route53resolver.AssociateResolverEndpointIpAddressOutput, error)
	DisassociateResolverEndpointIpAddress(context.Context, *route53resolver.DisassociateResolverEndpointIpAddressInput, ...func(*route53resolver.Options)) (*route53resolver.DisassociateResolverEndpointIpAddressOutput, error)
	DeleteResolverEndpoint(context.Context, *route53resolver.DeleteResolverEndpointInput, ...func(*route53resolver.Options)) (*route53resolver.DeleteResolverEndpointOutput, error)
	ListTagsForResource(context.Context, *route53resolver.ListTagsForResourceInput, ...func(*route53resolver.Options)) (*route53resolver.ListTagsForResourceOutput, error)
	TagResource(context.Context, *route53resolver.TagResourceInput, ...func(*route53resolver.Options)) (*route53resolver.TagResourceOutput, error)
}

// ResolverClients are the clients of the Resolver endpoint: EC2 for its
// security group, Route 53 Resolver for the endpoint.
type ResolverClients struct {
	EC2      SecurityGroupsAPI
	Resolver ResolverAPI
}

// KindResolverEndpoint is the Change kind of a Resolver endpoint.
const KindResolverEndpoint = "resolver-endpoint"

// ResolverEndpointSpec describes the inbound Resolver endpoint that lets
// on-premises DNS servers resolve the VPC's private hosted zone: an
// address in each of two to six private subnets of different zones,
// reachable on TCP and UDP 53 from the on-premises network only.
type ResolverEndpointSpec struct {
	// VPCID is the VPC (VPC.ID); required by Ensure.
	VPCID string
	// OnPremCIDR is the on-premises network allowed to query.
	OnPremCIDR string
	// Subnets are private subnets (Subnets.Private) in at least two zones.
	Subnets []Subnet
}

// Validate checks the spec: two to six subnets in at least two zones, one
// address per subnet.
func (s ResolverEndpointSpec) Validate() error {
	errs := []error{checkID("resolver.vpcId", s.VPCID, "vpc-"), checkSubnets("resolver.subnets", s.Subnets)}
	if p, err := parseCIDR("resolver.onPremCidr", s.OnPremCIDR); err != nil {
		errs = append(errs, err)
	} else if p.Bits() == 0 {
		errs = append(errs, errors.New("resolver.onPremCidr: 0.0.0.0/0 would open DNS to everyone; name the on-premises network"))
	}
	azs := map[string]bool{}
	ids := map[string]bool{}
	for i, sn := range s.Subnets {
		if ids[sn.ID] && sn.ID != "" {
			errs = append(errs, fmt.Errorf("resolver.subnets[%d]: %s appears twice", i, sn.ID))
		}
		ids[sn.ID], azs[sn.AZ] = true, true
	}
	if len(s.Subnets) < 2 || len(s.Subnets) > 6 || len(azs) < 2 {
		errs = append(errs, fmt.Errorf("resolver.subnets: %d subnets in %d zones; an endpoint needs 2 to 6 subnets in at least two zones", len(s.Subnets), len(azs)))
	}
	return errors.Join(errs...)
}

// ResolverEndpoint is the ensured inbound endpoint.
type ResolverEndpoint struct {
	ID              string
	ARN             string
	SecurityGroupID string
	// IPs are the endpoint's addresses in subnet order: the targets of the
	// on-premises conditional forwarders.
	IPs []string
}

// resolverTimeout bounds the waits for the endpoint.
const resolverTimeout = 15 * time.Minute

func resolverName(env migration.Env) string { return env.Name("resolver-inbound") }

func resolverGroup(env migration.Env, onPrem string) groupSpec {
	return groupSpec{role: "resolver", name: env.Name("sg-resolver-inbound"), desc: "cutover Route 53 Resolver inbound endpoint", rules: []rule{
		tcp(dnsPort, onPrem, false, "DNS over TCP from on-premises"),
		udp(dnsPort, onPrem, false, "DNS over UDP from on-premises"),
	}}
}

// EnsureResolverEndpoint makes the env's inbound Resolver endpoint
// "resolver-inbound-<suffix>" exist and converge, with its security group
// "sg-resolver-inbound-<suffix>" (TCP and UDP 53 from the on-premises
// network, no egress rule: answers leave through connection tracking).
//
// The endpoint is found by name and the ownership tag (look-alikes are
// ignored) and created with its tags and a CreatorRequestId derived from
// the env, so a retried create cannot make a second one. It waits until
// the endpoint is OPERATIONAL. The subnets converge: addresses are added
// in subnets the spec adds (first) and removed from subnets it dropped,
// waiting in between; the security group of an endpoint cannot change,
// and another group is refused. Returns the endpoint's IPs.
func EnsureResolverEndpoint(ctx context.Context, env migration.Env, c ResolverClients, spec ResolverEndpointSpec) (ResolverEndpoint, error) {
	name := resolverName(env)
	if err := migration.Validate(env, spec); err != nil {
		return ResolverEndpoint{}, fmt.Errorf("ensure resolver endpoint %q: %w", name, err)
	}
	if err := errors.Join(required("resolver.vpcId", spec.VPCID), realIDs(env, append([]string{"resolver.vpcId", spec.VPCID}, pairs("resolver.subnets.id", subnetIDs(spec.Subnets))...)...)); err != nil {
		return ResolverEndpoint{}, fmt.Errorf("ensure resolver endpoint %q: %w", name, err)
	}
	out, err := ensureResolverEndpoint(ctx, env, c, spec, name)
	if err != nil {
		return ResolverEndpoint{}, fmt.Errorf("ensure resolver endpoint %q: %w", name, err)
	}
	return out, nil
}

func ensureResolverEndpoint(ctx context.Context, env migration.Env, c ResolverClients, spec ResolverEndpointSpec, name string) (ResolverEndpoint, error) {
	ids, err := ensureGroups(ctx, env, c.EC2, spec.VPCID, []groupSpec{resolverGroup(env, spec.OnPremCIDR)})
	if err != nil {
		return ResolverEndpoint{}, err
	}
	out := ResolverEndpoint{SecurityGroupID: ids["resolver"]}
	createDiff := []migration.FieldDiff{{Field: "subnets", To: fmt.Sprint(subnetIDs(spec.Subnets))}, {Field: "securityGroup", To: out.SecurityGroupID}}
	var found *r53rtypes.ResolverEndpoint
	if !migration.IsPending(spec.VPCID) { // a pending VPC has no endpoint yet
		if found, err = findResolverEndpoint(ctx, env, c.Resolver, name); err != nil {
			return ResolverEndpoint{}, err
		}
	}
	if found == nil {
		if env.DryRun || migration.AnyPending(append(subnetIDs(spec.Subnets), spec.VPCID, out.SecurityGroupID)...) {
			out.ID = migration.Pending(name)
			report(env, KindResolverEndpoint, name, out.ID, migration.ActionCreate, createDiff, "")
			return out, nil
		}
		var addrs []r53rtypes.IpAddressRequest
		for _, sn := range spec.Subnets {
			addrs = append(addrs, r53rtypes.IpAddressRequest{SubnetId: aws.String(sn.ID)})
		}
		var tags []r53rtypes.Tag
		for k, v := range env.NameTags(name) {
			tags = append(tags, r53rtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		slices.SortFunc(tags, func(a, b r53rtypes.Tag) int { return strings.Compare(aws.ToString(a.Key), aws.ToString(b.Key)) })
		in := &route53resolver.CreateResolverEndpointInput{
			CreatorRequestId: aws.String(clientToken(env, name, spec.VPCID)), Name: aws.String(name), Direction: r53rtypes.ResolverEndpointDirectionInbound,
			SecurityGroupIds: []string{out.SecurityGroupID}, IpAddresses: addrs, Tags: tags,
		}
		var created *route53resolver.CreateResolverEndpointOutput
		for attempt := 0; ; attempt++ {
			created, err = c.Resolver.CreateResolverEndpoint(ctx, in)
			if !awsx.HasCode(err, "ResourceExistsException") || attempt >= 3 {
				break
			}
			// The request ID was used: by a create whose response was
			// lost (the endpoint shows up within the consistency window,
			// and is converged below), or by an endpoint deleted since
			// (then the ID is salted, deterministically).
			err = env.Poll(ctx, "resolver endpoint "+name+" to be listed", 10*time.Second, time.Minute, func(ctx context.Context) (string, bool, error) {
				var ferr error
				found, ferr = findResolverEndpoint(ctx, env, c.Resolver, name)
				return "not listed yet", found != nil, ferr
			})
			if found != nil || !errors.Is(err, awsx.ErrTimeout) {
				break
			}
			in.CreatorRequestId = aws.String(clientToken(env, name, spec.VPCID, fmt.Sprint(attempt+1)))
		}
		switch {
		case found != nil: // converge the endpoint a lost response made
		case err != nil:
			return ResolverEndpoint{}, fmt.Errorf("create: %w", err)
		default:
			out.ID, out.ARN = aws.ToString(created.ResolverEndpoint.Id), aws.ToString(created.ResolverEndpoint.Arn)
			if err := waitResolver(ctx, env, c.Resolver, out.ID); err != nil {
				return ResolverEndpoint{}, err
			}
			if out.IPs, err = resolverIPs(ctx, c.Resolver, out.ID, spec.Subnets); err != nil {
				return ResolverEndpoint{}, err
			}
			report(env, KindResolverEndpoint, name, out.ID, migration.ActionCreate, createDiff, "")
			return out, nil
		}
	}

	out.ID, out.ARN = aws.ToString(found.Id), aws.ToString(found.Arn)
	if v := aws.ToString(found.HostVPCId); v != spec.VPCID && !migration.IsPending(spec.VPCID) {
		return ResolverEndpoint{}, fmt.Errorf("vpc is immutable: %s is in %s, the spec wants %s", out.ID, v, spec.VPCID)
	}
	if sgs := found.SecurityGroupIds; !migration.IsPending(out.SecurityGroupID) && !slices.Equal(sgs, []string{out.SecurityGroupID}) {
		return ResolverEndpoint{}, fmt.Errorf("security groups are immutable: %s uses %v, the spec's group is %s; delete the endpoint (DeleteResolverEndpoint) and apply again", out.ID, sgs, out.SecurityGroupID)
	}
	have, err := listResolverIPs(ctx, c.Resolver, out.ID)
	if err != nil {
		return ResolverEndpoint{}, err
	}
	var conv migration.Converge
	if found.Status != r53rtypes.ResolverEndpointStatusOperational {
		conv.Then(func() error { return waitResolver(ctx, env, c.Resolver, out.ID) })
	}
	for _, sn := range spec.Subnets {
		if !slices.ContainsFunc(have, func(ip r53rtypes.IpAddressResponse) bool { return aws.ToString(ip.SubnetId) == sn.ID }) {
			conv.Fix("subnet "+sn.ID, "", "address", func() error {
				if _, err := c.Resolver.AssociateResolverEndpointIpAddress(ctx, &route53resolver.AssociateResolverEndpointIpAddressInput{ResolverEndpointId: aws.String(out.ID), IpAddress: &r53rtypes.IpAddressUpdate{SubnetId: aws.String(sn.ID)}}); err != nil {
					return fmt.Errorf("add an address in %s: %w", sn.ID, err)
				}
				return waitResolver(ctx, env, c.Resolver, out.ID)
			})
		}
	}
	for _, ip := range have {
		if !slices.ContainsFunc(spec.Subnets, func(sn Subnet) bool { return sn.ID == aws.ToString(ip.SubnetId) }) {
			conv.Fix("subnet "+aws.ToString(ip.SubnetId), aws.ToString(ip.Ip), "", func() error {
				if _, err := c.Resolver.DisassociateResolverEndpointIpAddress(ctx, &route53resolver.DisassociateResolverEndpointIpAddressInput{ResolverEndpointId: aws.String(out.ID), IpAddress: &r53rtypes.IpAddressUpdate{IpId: ip.IpId}}); err != nil {
					return fmt.Errorf("remove address %s: %w", aws.ToString(ip.Ip), err)
				}
				return waitResolver(ctx, env, c.Resolver, out.ID)
			})
		}
	}
	tagsOut, err := c.Resolver.ListTagsForResource(ctx, &route53resolver.ListTagsForResourceInput{ResourceArn: aws.String(out.ARN)})
	if err != nil {
		return ResolverEndpoint{}, fmt.Errorf("list tags: %w", err)
	}
	conv.Tags(resolverTags(tagsOut.Tags), env.NameTags(name), func(missing map[string]string) error {
		var tags []r53rtypes.Tag
		for _, k := range slices.Sorted(mapKeys(missing)) {
			tags = append(tags, r53rtypes.Tag{Key: aws.String(k), Value: aws.String(missing[k])})
		}
		if _, err := c.Resolver.TagResource(ctx, &route53resolver.TagResourceInput{ResourceArn: aws.String(out.ARN), Tags: tags}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	})
	if err := conv.Apply(env, migration.Change{Kind: KindResolverEndpoint, Name: name, ID: out.ID}); err != nil {
		return ResolverEndpoint{}, err
	}
	if out.IPs, err = resolverIPs(ctx, c.Resolver, out.ID, spec.Subnets); err != nil {
		return ResolverEndpoint{}, err
	}
	return out, nil
}

func resolverTags(tags []r53rtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// findResolverEndpoint returns the env's endpoint (by name and ownership
// tag), nil when there is none, or an error when there are several.
func findResolverEndpoint(ctx context.Context, env migration.Env, api ResolverAPI, name string) (*r53rtypes.ResolverEndpoint, error) {
	var owned []r53rtypes.ResolverEndpoint
	p := route53resolver.NewListResolverEndpointsPaginator(api, &route53resolver.ListResolverEndpointsInput{Filters: []r53rtypes.Filter{{Name: aws.String("Name"), Values: []string{name}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list resolver endpoints: %w", err)
		}
		for _, e := range page.ResolverEndpoints {
			if aws.ToString(e.Name) != name || e.Status == r53rtypes.ResolverEndpointStatusDeleting {
				continue
			}
			tags, err := api.ListTagsForResource(ctx, &route53resolver.ListTagsForResourceInput{ResourceArn: e.Arn})
			if err != nil {
				return nil, fmt.Errorf("list tags of %s: %w", aws.ToString(e.Id), err)
			}
			if env.Owns(resolverTags(tags.Tags)) {
				owned = append(owned, e)
			}
		}
	}
	switch len(owned) {
	case 0:
		return nil, nil
	case 1:
		return &owned[0], nil
	}
	return nil, fmt.Errorf("%d Resolver endpoints are named %s with %s=%s; expected one: delete the extras", len(owned), name, migration.OwnerTag, env.Suffix)
}

func listResolverIPs(ctx context.Context, api ResolverAPI, id string) ([]r53rtypes.IpAddressResponse, error) {
	var out []r53rtypes.IpAddressResponse
	p := route53resolver.NewListResolverEndpointIpAddressesPaginator(api, &route53resolver.ListResolverEndpointIpAddressesInput{ResolverEndpointId: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", id, err)
		}
		out = append(out, page.IpAddresses...)
	}
	return out, nil
}

// resolverIPs returns the endpoint's addresses ordered like subnets.
func resolverIPs(ctx context.Context, api ResolverAPI, id string, subnets []Subnet) ([]string, error) {
	have, err := listResolverIPs(ctx, api, id)
	if err != nil {
		return nil, err
	}
	var ips []string
	for _, sn := range subnets {
		for _, ip := range have {
			if aws.ToString(ip.SubnetId) == sn.ID {
				ips = append(ips, aws.ToString(ip.Ip))
			}
		}
	}
	return ips, nil
}

// waitResolver waits until the endpoint is OPERATIONAL; ACTION_NEEDED is
// an error.
func waitResolver(ctx context.Context, env migration.Env, api ResolverAPI, id string) error {
	return env.Poll(ctx, "resolver endpoint "+id+" to be operational", 10*time.Second, resolverTimeout, func(ctx context.Context) (string, bool, error) {
		out, err := api.GetResolverEndpoint(ctx, &route53resolver.GetResolverEndpointInput{ResolverEndpointId: aws.String(id)})
		if awsx.HasCode(err, "ResourceNotFoundException") {
			return "not visible yet", false, nil
		}
		if err != nil {
			return "", false, err
		}
		switch st := out.ResolverEndpoint.Status; st {
		case r53rtypes.ResolverEndpointStatusOperational:
			return "", true, nil
		case r53rtypes.ResolverEndpointStatusActionNeeded:
			return "", false, fmt.Errorf("resolver endpoint %s needs action: %s", id, aws.ToString(out.ResolverEndpoint.StatusMessage))
		default:
			return string(st), false, nil
		}
	})
}

// DeleteResolverEndpoint deletes the env's inbound endpoint (waiting until
// it is gone with its network interfaces), then its security group. Only
// resources with the env's ownership tag are touched; missing ones are
// no-ops.
func DeleteResolverEndpoint(ctx context.Context, env migration.Env, c ResolverClients, spec ResolverEndpointSpec) error {
	name := resolverName(env)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete resolver endpoint %q: %w", name, err)
	}
	found, err := findResolverEndpoint(ctx, env, c.Resolver, name)
	if err != nil {
		return fmt.Errorf("delete resolver endpoint %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindResolverEndpoint, name)
	} else {
		id := aws.ToString(found.Id)
		if !env.DryRun {
			if _, err := c.Resolver.DeleteResolverEndpoint(ctx, &route53resolver.DeleteResolverEndpointInput{ResolverEndpointId: aws.String(id)}); err != nil && !awsx.IsNotFound(err) {
				return fmt.Errorf("delete resolver endpoint %q: %w", name, err)
			}
			err := env.Poll(ctx, "resolver endpoint "+id+" to be deleted", 10*time.Second, resolverTimeout, func(ctx context.Context) (string, bool, error) {
				out, err := c.Resolver.GetResolverEndpoint(ctx, &route53resolver.GetResolverEndpointInput{ResolverEndpointId: aws.String(id)})
				if awsx.IsNotFound(err) {
					return "", true, nil
				}
				if err != nil {
					return "", false, err
				}
				return string(out.ResolverEndpoint.Status), false, nil
			})
			if err != nil {
				return fmt.Errorf("delete resolver endpoint %q: %w", name, err)
			}
		}
		report(env, KindResolverEndpoint, name, id, migration.ActionDelete, nil, "")
	}
	if err := deleteGroups(ctx, env, c.EC2, resolverGroup(env, spec.OnPremCIDR).name, []string{resolverGroup(env, spec.OnPremCIDR).name}); err != nil {
		return fmt.Errorf("delete resolver endpoint %q: %w", name, err)
	}
	return nil
}
