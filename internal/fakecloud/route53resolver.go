package fakecloud

import (
	"context"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver/types"
)

// Resolver is the fake Route 53 Resolver client. Get it with
// Cloud.Resolver.
type Resolver struct{ c *Cloud }

// Resolver returns the Route 53 Resolver client of the cloud.
func (c *Cloud) Resolver() *Resolver { return &Resolver{c: c} }

type resolverState struct {
	Endpoints map[string]*fakeResolverEndpoint `json:"endpoints"`
}

type fakeResolverEndpoint struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	RequestID string            `json:"creatorRequestId"`
	Direction string            `json:"direction"`
	VPCID     string            `json:"vpcId"`
	SGs       []string          `json:"securityGroups"`
	IPs       []fakeResolverIP  `json:"ips"`
	Tags      map[string]string `json:"tags"`
	Created   time.Time         `json:"created"`
	Updated   time.Time         `json:"updated,omitzero"`
	Deleted   time.Time         `json:"deleted,omitzero"`
}

type fakeResolverIP struct {
	ID       string `json:"id"`
	SubnetID string `json:"subnetId"`
	IP       string `json:"ip"`
}

// Resolver timings on the fake clock.
const (
	resolverCreatingFor = 2 * time.Minute
	resolverUpdatingFor = time.Minute
	resolverDeletingFor = time.Minute
)

var resolverNameRe = regexp.MustCompile(`^(?:[A-Za-z0-9 _-]{0,64})$`)

func init() {
	register("route53resolver", func() any { return &resolverState{} })
	// A live endpoint holds network interfaces in its subnets, with its
	// security groups.
	subnetDependents = append(subnetDependents, func(c *Cloud, subnetID string) string {
		s := c.Resolver().st()
		for _, id := range sortedKeys(s.Endpoints) {
			e := s.Endpoints[id]
			if e.status(c) != "DELETED" && slices.ContainsFunc(e.IPs, func(ip fakeResolverIP) bool { return ip.SubnetID == subnetID }) {
				return "Resolver endpoint " + id
			}
		}
		return ""
	})
	sgDependents = append(sgDependents, func(c *Cloud, groupID string) string {
		s := c.Resolver().st()
		for _, id := range sortedKeys(s.Endpoints) {
			if e := s.Endpoints[id]; e.status(c) != "DELETED" && slices.Contains(e.SGs, groupID) {
				return "network interfaces of Resolver endpoint " + id
			}
		}
		return ""
	})
}

func (f *Resolver) st() *resolverState {
	s := state[resolverState](f.c, "route53resolver")
	if s.Endpoints == nil {
		s.Endpoints = map[string]*fakeResolverEndpoint{}
	}
	return s
}

func (f *Resolver) arn(id string) string { return f.c.arn("route53resolver", "resolver-endpoint/"+id) }

func (e *fakeResolverEndpoint) status(c *Cloud) string {
	switch {
	case !e.Deleted.IsZero() && c.elapsed(e.Deleted, resolverDeletingFor):
		return "DELETED"
	case !e.Deleted.IsZero():
		return "DELETING"
	case !c.elapsed(e.Created, resolverCreatingFor):
		return "CREATING"
	case !e.Updated.IsZero() && !c.elapsed(e.Updated, resolverUpdatingFor):
		return "UPDATING"
	}
	return "OPERATIONAL"
}

func (f *Resolver) out(e *fakeResolverEndpoint) *types.ResolverEndpoint {
	return &types.ResolverEndpoint{
		Id: aws.String(e.ID), Arn: aws.String(f.arn(e.ID)), Name: aws.String(e.Name), CreatorRequestId: aws.String(e.RequestID),
		Direction: types.ResolverEndpointDirection(e.Direction), HostVPCId: aws.String(e.VPCID), SecurityGroupIds: slices.Clone(e.SGs),
		IpAddressCount: aws.Int32(int32(len(e.IPs))), Status: types.ResolverEndpointStatus(e.status(f.c)), StatusMessage: aws.String(e.status(f.c)),
		ResolverEndpointType: types.ResolverEndpointTypeIpv4, Protocols: []types.Protocol{types.ProtocolDo53},
		CreationTime: aws.String(e.Created.Format(time.RFC3339)),
	}
}

func (f *Resolver) endpoint(id string) (*fakeResolverEndpoint, error) {
	e, ok := f.st().Endpoints[id]
	if !ok || f.c.hidden(id) || e.status(f.c) == "DELETED" {
		return nil, notFound("ResourceNotFoundException", "Resolver endpoint with ID '%s' does not exist.", id)
	}
	return e, nil
}

// addIP validates one address request against the endpoint's VPC and
// returns the address it gets. Call with mu held.
func (f *Resolver) addIP(e *fakeResolverEndpoint, subnetID, ip string) (fakeResolverIP, error) {
	sn, ok := f.c.EC2().st().Subnets[subnetID]
	if !ok {
		return fakeResolverIP{}, apiError("InvalidParameterException", "Subnet %s does not exist", subnetID)
	}
	if e.VPCID != "" && sn.VPCID != e.VPCID {
		return fakeResolverIP{}, apiError("InvalidParameterException", "Subnet %s is not in VPC %s", subnetID, e.VPCID)
	}
	if ip == "" {
		n := 0
		for {
			ip = hostIn(sn.CIDR, 200+n)
			if !slices.ContainsFunc(e.IPs, func(x fakeResolverIP) bool { return x.IP == ip }) {
				break
			}
			n++
		}
	} else if a, err := netip.ParseAddr(ip); err != nil || !netip.MustParsePrefix(sn.CIDR).Contains(a) {
		return fakeResolverIP{}, apiError("InvalidParameterException", "IP %s is not in subnet %s", ip, subnetID)
	}
	return fakeResolverIP{ID: f.c.newID("rni"), SubnetID: subnetID, IP: ip}, nil
}

// CreateResolverEndpoint creates an endpoint with two to six addresses in
// subnets of one VPC and security groups of that VPC (CREATING →
// OPERATIONAL after two minutes). A reused CreatorRequestId is
// ResourceExistsException.
func (f *Resolver) CreateResolverEndpoint(ctx context.Context, in *route53resolver.CreateResolverEndpointInput, _ ...func(*route53resolver.Options)) (*route53resolver.CreateResolverEndpointOutput, error) {
	var out *route53resolver.CreateResolverEndpointOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "CreateResolverEndpoint", true, func() error {
		s := f.st()
		req := aws.ToString(in.CreatorRequestId)
		switch {
		case req == "" || len(req) > 255:
			return apiError("InvalidParameterException", "CreatorRequestId must be 1-255 characters")
		case !resolverNameRe.MatchString(aws.ToString(in.Name)):
			return apiError("InvalidParameterException", "Name %q is invalid", aws.ToString(in.Name))
		case in.Direction != types.ResolverEndpointDirectionInbound && in.Direction != types.ResolverEndpointDirectionOutbound:
			return apiError("InvalidParameterException", "Direction must be INBOUND or OUTBOUND")
		case len(in.IpAddresses) < 2:
			return apiError("InvalidRequestException", "A Resolver endpoint needs at least two IP addresses")
		case len(in.IpAddresses) > 6:
			return apiError("LimitExceededException", "A Resolver endpoint can have at most six IP addresses")
		case len(in.SecurityGroupIds) == 0:
			return apiError("InvalidParameterException", "At least one security group is required")
		}
		for _, e := range s.Endpoints {
			if e.RequestID == req {
				return apiError("ResourceExistsException", "A Resolver endpoint with CreatorRequestId %s already exists (%s)", req, e.ID)
			}
		}
		e := &fakeResolverEndpoint{
			ID:   f.c.newID("rslvr-" + map[types.ResolverEndpointDirection]string{types.ResolverEndpointDirectionInbound: "in", types.ResolverEndpointDirectionOutbound: "out"}[in.Direction]),
			Name: aws.ToString(in.Name), RequestID: req, Direction: string(in.Direction), Tags: map[string]string{}, Created: f.c.now(),
		}
		for _, ipr := range in.IpAddresses {
			ip, err := f.addIP(e, aws.ToString(ipr.SubnetId), aws.ToString(ipr.Ip))
			if err != nil {
				return err
			}
			e.VPCID = f.c.EC2().st().Subnets[ip.SubnetID].VPCID
			e.IPs = append(e.IPs, ip)
		}
		for _, id := range in.SecurityGroupIds {
			g, ok := f.c.EC2().st().SGs[id]
			if !ok || g.VPCID != e.VPCID {
				return apiError("InvalidParameterException", "Security group %s does not exist in VPC %s", id, e.VPCID)
			}
			e.SGs = append(e.SGs, id)
		}
		for _, t := range in.Tags {
			e.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		s.Endpoints[e.ID] = e
		f.c.created(e.ID)
		out = &route53resolver.CreateResolverEndpointOutput{ResolverEndpoint: f.out(e)}
		return nil
	})
	return out, err
}

// GetResolverEndpoint returns one endpoint.
func (f *Resolver) GetResolverEndpoint(ctx context.Context, in *route53resolver.GetResolverEndpointInput, _ ...func(*route53resolver.Options)) (*route53resolver.GetResolverEndpointOutput, error) {
	var out *route53resolver.GetResolverEndpointOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "GetResolverEndpoint", false, func() error {
		e, err := f.endpoint(aws.ToString(in.ResolverEndpointId))
		if err != nil {
			return err
		}
		out = &route53resolver.GetResolverEndpointOutput{ResolverEndpoint: f.out(e)}
		return nil
	})
	return out, err
}

// ListResolverEndpoints lists endpoints, filtered by Name, Direction,
// HostVPCId, CreatorRequestId or Status, paginated.
func (f *Resolver) ListResolverEndpoints(ctx context.Context, in *route53resolver.ListResolverEndpointsInput, _ ...func(*route53resolver.Options)) (*route53resolver.ListResolverEndpointsOutput, error) {
	var out *route53resolver.ListResolverEndpointsOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "ListResolverEndpoints", false, func() error {
		s := f.st()
		var all []types.ResolverEndpoint
	endpoints:
		for _, id := range sortedKeys(s.Endpoints) {
			e := s.Endpoints[id]
			if e.status(f.c) == "DELETED" {
				delete(s.Endpoints, id)
				continue
			}
			if f.c.hidden(id) {
				continue
			}
			fields := map[string]string{"Name": e.Name, "Direction": e.Direction, "HostVPCId": e.VPCID, "CreatorRequestId": e.RequestID, "Status": e.status(f.c)}
			for _, flt := range in.Filters {
				v, ok := fields[aws.ToString(flt.Name)]
				if !ok {
					return apiError("InvalidParameterException", "Unknown filter %s", aws.ToString(flt.Name))
				}
				if !slices.Contains(flt.Values, v) {
					continue endpoints
				}
			}
			all = append(all, *f.out(e))
		}
		size := 10
		if in.MaxResults != nil && *in.MaxResults > 0 {
			size = int(*in.MaxResults)
		}
		items, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &route53resolver.ListResolverEndpointsOutput{ResolverEndpoints: items, NextToken: next, MaxResults: aws.Int32(int32(size))}
		return nil
	})
	return out, err
}

// ListResolverEndpointIpAddresses lists an endpoint's addresses, paginated.
func (f *Resolver) ListResolverEndpointIpAddresses(ctx context.Context, in *route53resolver.ListResolverEndpointIpAddressesInput, _ ...func(*route53resolver.Options)) (*route53resolver.ListResolverEndpointIpAddressesOutput, error) {
	var out *route53resolver.ListResolverEndpointIpAddressesOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "ListResolverEndpointIpAddresses", false, func() error {
		e, err := f.endpoint(aws.ToString(in.ResolverEndpointId))
		if err != nil {
			return err
		}
		status := types.IpAddressStatusAttached
		if e.status(f.c) == "CREATING" {
			status = types.IpAddressStatusCreating
		}
		var all []types.IpAddressResponse
		for _, ip := range e.IPs {
			all = append(all, types.IpAddressResponse{IpId: aws.String(ip.ID), SubnetId: aws.String(ip.SubnetID), Ip: aws.String(ip.IP), Status: status})
		}
		size := 10
		if in.MaxResults != nil && *in.MaxResults > 0 {
			size = int(*in.MaxResults)
		}
		items, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &route53resolver.ListResolverEndpointIpAddressesOutput{IpAddresses: items, NextToken: next, MaxResults: aws.Int32(int32(size))}
		return nil
	})
	return out, err
}

// busy refuses changes to an endpoint that is not operational.
func (f *Resolver) busy(e *fakeResolverEndpoint) error {
	if st := e.status(f.c); st != "OPERATIONAL" {
		return apiError("InvalidRequestException", "Resolver endpoint %s is %s; try again later", e.ID, st)
	}
	return nil
}

// AssociateResolverEndpointIpAddress adds an address (UPDATING for a
// minute); at most six.
func (f *Resolver) AssociateResolverEndpointIpAddress(ctx context.Context, in *route53resolver.AssociateResolverEndpointIpAddressInput, _ ...func(*route53resolver.Options)) (*route53resolver.AssociateResolverEndpointIpAddressOutput, error) {
	var out *route53resolver.AssociateResolverEndpointIpAddressOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "AssociateResolverEndpointIpAddress", true, func() error {
		e, err := f.endpoint(aws.ToString(in.ResolverEndpointId))
		if err != nil {
			return err
		}
		if err := f.busy(e); err != nil {
			return err
		}
		if in.IpAddress == nil {
			return apiError("InvalidParameterException", "IpAddress is required")
		}
		if len(e.IPs) >= 6 {
			return apiError("LimitExceededException", "A Resolver endpoint can have at most six IP addresses")
		}
		ip, err := f.addIP(e, aws.ToString(in.IpAddress.SubnetId), aws.ToString(in.IpAddress.Ip))
		if err != nil {
			return err
		}
		e.IPs, e.Updated = append(e.IPs, ip), f.c.now()
		out = &route53resolver.AssociateResolverEndpointIpAddressOutput{ResolverEndpoint: f.out(e)}
		return nil
	})
	return out, err
}

// DisassociateResolverEndpointIpAddress removes an address (by IpId, or
// subnet and IP); an endpoint keeps at least two.
func (f *Resolver) DisassociateResolverEndpointIpAddress(ctx context.Context, in *route53resolver.DisassociateResolverEndpointIpAddressInput, _ ...func(*route53resolver.Options)) (*route53resolver.DisassociateResolverEndpointIpAddressOutput, error) {
	var out *route53resolver.DisassociateResolverEndpointIpAddressOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "DisassociateResolverEndpointIpAddress", true, func() error {
		e, err := f.endpoint(aws.ToString(in.ResolverEndpointId))
		if err != nil {
			return err
		}
		if err := f.busy(e); err != nil {
			return err
		}
		if in.IpAddress == nil {
			return apiError("InvalidParameterException", "IpAddress is required")
		}
		u := in.IpAddress
		i := slices.IndexFunc(e.IPs, func(ip fakeResolverIP) bool {
			return ip.ID == aws.ToString(u.IpId) || (u.IpId == nil && ip.SubnetID == aws.ToString(u.SubnetId) && ip.IP == aws.ToString(u.Ip))
		})
		if i < 0 {
			return notFound("ResourceNotFoundException", "IP address not found on endpoint %s", e.ID)
		}
		if len(e.IPs) <= 2 {
			return apiError("InvalidRequestException", "A Resolver endpoint needs at least two IP addresses")
		}
		e.IPs, e.Updated = slices.Delete(e.IPs, i, i+1), f.c.now()
		out = &route53resolver.DisassociateResolverEndpointIpAddressOutput{ResolverEndpoint: f.out(e)}
		return nil
	})
	return out, err
}

// UpdateResolverEndpoint renames an endpoint.
func (f *Resolver) UpdateResolverEndpoint(ctx context.Context, in *route53resolver.UpdateResolverEndpointInput, _ ...func(*route53resolver.Options)) (*route53resolver.UpdateResolverEndpointOutput, error) {
	var out *route53resolver.UpdateResolverEndpointOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "UpdateResolverEndpoint", true, func() error {
		e, err := f.endpoint(aws.ToString(in.ResolverEndpointId))
		if err != nil {
			return err
		}
		if in.Name != nil {
			if !resolverNameRe.MatchString(*in.Name) {
				return apiError("InvalidParameterException", "Name %q is invalid", *in.Name)
			}
			e.Name = *in.Name
		}
		out = &route53resolver.UpdateResolverEndpointOutput{ResolverEndpoint: f.out(e)}
		return nil
	})
	return out, err
}

// DeleteResolverEndpoint starts deleting an endpoint (DELETING for a
// minute, then gone with its network interfaces).
func (f *Resolver) DeleteResolverEndpoint(ctx context.Context, in *route53resolver.DeleteResolverEndpointInput, _ ...func(*route53resolver.Options)) (*route53resolver.DeleteResolverEndpointOutput, error) {
	var out *route53resolver.DeleteResolverEndpointOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "DeleteResolverEndpoint", true, func() error {
		e, err := f.endpoint(aws.ToString(in.ResolverEndpointId))
		if err != nil {
			return err
		}
		if e.Deleted.IsZero() {
			e.Deleted = f.c.now()
		}
		out = &route53resolver.DeleteResolverEndpointOutput{ResolverEndpoint: f.out(e)}
		return nil
	})
	return out, err
}

func (f *Resolver) byARN(arn string) (*fakeResolverEndpoint, error) {
	for _, id := range sortedKeys(f.st().Endpoints) {
		if f.arn(id) == arn {
			return f.endpoint(id)
		}
	}
	return nil, notFound("ResourceNotFoundException", "Resource %s does not exist", arn)
}

// TagResource adds or overwrites tags on an endpoint, by ARN.
func (f *Resolver) TagResource(ctx context.Context, in *route53resolver.TagResourceInput, _ ...func(*route53resolver.Options)) (*route53resolver.TagResourceOutput, error) {
	err := f.c.call(ctx, route53resolver.ServiceID, "TagResource", true, func() error {
		e, err := f.byARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			e.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if len(e.Tags) > 200 {
			return apiError("LimitExceededException", "too many tags")
		}
		return nil
	})
	return &route53resolver.TagResourceOutput{}, err
}

// UntagResource removes tags from an endpoint, by ARN.
func (f *Resolver) UntagResource(ctx context.Context, in *route53resolver.UntagResourceInput, _ ...func(*route53resolver.Options)) (*route53resolver.UntagResourceOutput, error) {
	err := f.c.call(ctx, route53resolver.ServiceID, "UntagResource", true, func() error {
		e, err := f.byARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(e.Tags, k)
		}
		return nil
	})
	return &route53resolver.UntagResourceOutput{}, err
}

// ListTagsForResource returns an endpoint's tags, by ARN.
func (f *Resolver) ListTagsForResource(ctx context.Context, in *route53resolver.ListTagsForResourceInput, _ ...func(*route53resolver.Options)) (*route53resolver.ListTagsForResourceOutput, error) {
	var out *route53resolver.ListTagsForResourceOutput
	err := f.c.call(ctx, route53resolver.ServiceID, "ListTagsForResource", false, func() error {
		e, err := f.byARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		out = &route53resolver.ListTagsForResourceOutput{}
		for _, k := range sortedKeys(e.Tags) {
			out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(e.Tags[k])})
		}
		return nil
	})
	return out, err
}

// Endpoints returns the IDs of the Resolver endpoints not deleted or
// deleting, for assertions.
func (f *Resolver) Endpoints() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(f.st().Endpoints) {
		if f.st().Endpoints[id].Deleted.IsZero() {
			out = append(out, id)
		}
	}
	return out
}
