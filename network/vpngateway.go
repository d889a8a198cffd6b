package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// VPNGatewayAPI is the part of the EC2 client EnsureVPNGateway and
// DeleteVPNGateway use.
type VPNGatewayAPI interface {
	CreateVpnGateway(context.Context, *ec2.CreateVpnGatewayInput, ...func(*ec2.Options)) (*ec2.CreateVpnGatewayOutput, error)
	DescribeVpnGateways(context.Context, *ec2.DescribeVpnGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeVpnGatewaysOutput, error)
	AttachVpnGateway(context.Context, *ec2.AttachVpnGatewayInput, ...func(*ec2.Options)) (*ec2.AttachVpnGatewayOutput, error)
	DetachVpnGateway(context.Context, *ec2.DetachVpnGatewayInput, ...func(*ec2.Options)) (*ec2.DetachVpnGatewayOutput, error)
	DeleteVpnGateway(context.Context, *ec2.DeleteVpnGatewayInput, ...func(*ec2.Options)) (*ec2.DeleteVpnGatewayOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	EnableVgwRoutePropagation(context.Context, *ec2.EnableVgwRoutePropagationInput, ...func(*ec2.Options)) (*ec2.EnableVgwRoutePropagationOutput, error)
	DisableVgwRoutePropagation(context.Context, *ec2.DisableVgwRoutePropagationInput, ...func(*ec2.Options)) (*ec2.DisableVgwRoutePropagationOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// KindVPNGateway is the Change kind of a virtual private gateway.
const KindVPNGateway = "vpn-gateway"

// VPNGatewaySpec describes the virtual private gateway both paths to
// on-premises end on: the Site-to-Site VPN and the Direct Connect gateway
// association.
type VPNGatewaySpec struct {
	// VPCID is the VPC to attach to (VPC.ID); required by Ensure.
	VPCID string
	// AmazonSideASN is the gateway's BGP ASN, private (64512-65534 or
	// 4200000000-4294967294). It cannot change after creation.
	AmazonSideASN int64
	// RouteTableIDs are the tables that learn the on-premises routes from
	// the gateway (RouteTables.PrivateIDs).
	RouteTableIDs []string
}

// Validate checks the spec.
func (s VPNGatewaySpec) Validate() error {
	errs := []error{checkID("vpnGateway.vpcId", s.VPCID, "vpc-"), checkAmazonASN("vpnGateway.amazonSideAsn", s.AmazonSideASN)}
	for i, id := range s.RouteTableIDs {
		errs = append(errs, checkID(fmt.Sprintf("vpnGateway.routeTableIds[%d]", i), id, "rtb-"))
	}
	return errors.Join(errs...)
}

// VPNGateway is an ensured virtual private gateway.
type VPNGateway struct {
	ID   string
	Name string
	ASN  int64
}

// vgwTimeout bounds the waits for a gateway to become available, attached
// or detached.
const vgwTimeout = 10 * time.Minute

// EnsureVPNGateway makes the env's virtual private gateway "vgw-<suffix>"
// exist with the spec's Amazon-side ASN, attached to the VPC, and
// propagating its routes to every table of RouteTableIDs.
//
// It is found by the ownership tag and Name (deleted gateways are
// ignored) and created with its tags (EC2 takes no client token here). It
// waits until the gateway is available and attached. A changed ASN, or an
// attachment to another VPC, is refused. Missing propagation and tags
// converge; propagation to other tables is left alone. Idempotent.
func EnsureVPNGateway(ctx context.Context, env migration.Env, api VPNGatewayAPI, spec VPNGatewaySpec) (VPNGateway, error) {
	name := env.Name("vgw")
	if err := migration.Validate(env, spec); err != nil {
		return VPNGateway{}, fmt.Errorf("ensure vpn gateway %q: %w", name, err)
	}
	if err := errors.Join(required("vpnGateway.vpcId", spec.VPCID), realIDs(env, append([]string{"vpnGateway.vpcId", spec.VPCID}, pairs("vpnGateway.routeTableIds", spec.RouteTableIDs)...)...)); err != nil {
		return VPNGateway{}, fmt.Errorf("ensure vpn gateway %q: %w", name, err)
	}
	g, err := ensureVPNGateway(ctx, env, api, spec, name)
	if err != nil {
		return VPNGateway{}, fmt.Errorf("ensure vpn gateway %q: %w", name, err)
	}
	return g, nil
}

func ensureVPNGateway(ctx context.Context, env migration.Env, api VPNGatewayAPI, spec VPNGatewaySpec, name string) (VPNGateway, error) {
	out := VPNGateway{Name: name, ASN: spec.AmazonSideASN}
	createDiff := []migration.FieldDiff{{Field: "amazonSideAsn", To: fmt.Sprint(spec.AmazonSideASN)}, {Field: "vpc", To: spec.VPCID}, {Field: "propagation", To: fmt.Sprint(spec.RouteTableIDs)}}
	var found *types.VpnGateway
	if !migration.IsPending(spec.VPCID) { // a pending VPC has no gateway yet
		var err error
		if found, err = findVPNGateway(ctx, env, api, name); err != nil {
			return VPNGateway{}, err
		}
	}
	created := false
	if found == nil {
		if env.DryRun || migration.IsPending(spec.VPCID) {
			out.ID = migration.Pending(name)
			report(env, KindVPNGateway, name, out.ID, migration.ActionCreate, createDiff, "")
			return out, nil
		}
		c, err := api.CreateVpnGateway(ctx, &ec2.CreateVpnGatewayInput{
			Type: types.GatewayTypeIpsec1, AmazonSideAsn: aws.Int64(spec.AmazonSideASN),
			TagSpecifications: awsx.TagSpec(types.ResourceTypeVpnGateway, env.NameTags(name)),
		})
		if err != nil {
			return VPNGateway{}, fmt.Errorf("create: %w", err)
		}
		found, created = c.VpnGateway, true
	}
	out.ID = aws.ToString(found.VpnGatewayId)
	if asn := aws.ToInt64(found.AmazonSideAsn); asn != spec.AmazonSideASN {
		return VPNGateway{}, fmt.Errorf("amazonSideAsn is immutable: %s has %d, the spec wants %d; change the spec back, or delete the VPN and the gateway and apply again", out.ID, asn, spec.AmazonSideASN)
	}
	attached, state := "", ""
	for _, a := range found.VpcAttachments {
		if a.State != types.AttachmentStatusDetached {
			attached, state = aws.ToString(a.VpcId), string(a.State)
		}
	}
	if attached != "" && attached != spec.VPCID && !migration.IsPending(spec.VPCID) {
		return VPNGateway{}, fmt.Errorf("vpc attachment is immutable here: %s is attached to %s, the spec wants %s", out.ID, attached, spec.VPCID)
	}
	var c migration.Converge
	if found.State == types.VpnStatePending {
		c.Then(func() error { return waitVGW(ctx, env, api, out.ID) })
	}
	if attached == "" {
		c.Fix("vpc", "", spec.VPCID, func() error {
			err := env.Retry(ctx, []string{"InvalidVpnGatewayID.NotFound", "IncorrectState"}, func(ctx context.Context) error {
				_, err := api.AttachVpnGateway(ctx, &ec2.AttachVpnGatewayInput{VpnGatewayId: aws.String(out.ID), VpcId: aws.String(spec.VPCID)})
				return err
			})
			if err != nil {
				return fmt.Errorf("attach to %s: %w", spec.VPCID, err)
			}
			return waitAttachment(ctx, env, api, out.ID, types.AttachmentStatusAttached)
		})
	} else if state != string(types.AttachmentStatusAttached) {
		c.Then(func() error {
			return waitAttachment(ctx, env, api, out.ID, types.AttachmentStatusAttached)
		})
	}
	if err := propagationDiff(ctx, env, api, out.ID, spec.RouteTableIDs, &c); err != nil {
		return VPNGateway{}, err
	}
	c.Tags(awsx.FromEC2Tags(found.Tags), env.NameTags(name), tagEC2(ctx, api, out.ID))
	if created { // converged right after the create: reported as the create
		if err := c.Run(env); err != nil {
			return VPNGateway{}, err
		}
		report(env, KindVPNGateway, name, out.ID, migration.ActionCreate, createDiff, "")
		return out, nil
	}
	if err := c.Apply(env, migration.Change{Kind: KindVPNGateway, Name: name, ID: out.ID}); err != nil {
		return VPNGateway{}, err
	}
	return out, nil
}

// propagationDiff records on c the tables of ids that do not propagate
// the gateway's routes yet, and the writes that enable it.
func propagationDiff(ctx context.Context, env migration.Env, api VPNGatewayAPI, vgwID string, ids []string, c *migration.Converge) error {
	var real []string
	for _, id := range ids {
		if !migration.IsPending(id) {
			real = append(real, id)
		}
	}
	propagating := map[string]bool{}
	if len(real) > 0 && !migration.IsPending(vgwID) {
		out, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: real})
		if err != nil {
			return fmt.Errorf("describe route tables: %w", err)
		}
		for _, rt := range out.RouteTables {
			if slices.ContainsFunc(rt.PropagatingVgws, func(p types.PropagatingVgw) bool { return aws.ToString(p.GatewayId) == vgwID }) {
				propagating[aws.ToString(rt.RouteTableId)] = true
			}
		}
	}
	for _, id := range ids {
		if propagating[id] {
			continue
		}
		c.Fix("propagation "+id, "off", "on", func() error {
			err := env.Retry(ctx, []string{"InvalidRouteTableID.NotFound", "Gateway.NotAttached"}, func(ctx context.Context) error {
				_, err := api.EnableVgwRoutePropagation(ctx, &ec2.EnableVgwRoutePropagationInput{GatewayId: aws.String(vgwID), RouteTableId: aws.String(id)})
				return err
			})
			if err != nil {
				return fmt.Errorf("enable propagation on %s: %w", id, err)
			}
			return nil
		})
	}
	return nil
}

// waitVGW waits for a gateway to become available.
func waitVGW(ctx context.Context, env migration.Env, api VPNGatewayAPI, id string) error {
	return env.Poll(ctx, "vpn gateway "+id+" to be available", 5*time.Second, vgwTimeout, func(ctx context.Context) (string, bool, error) {
		out, err := api.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{VpnGatewayIds: []string{id}})
		if awsx.HasCode(err, "InvalidVpnGatewayID.NotFound") {
			return "not visible yet", false, nil
		}
		if err != nil {
			return "", false, err
		}
		if len(out.VpnGateways) != 1 {
			return "not visible yet", false, nil
		}
		st := out.VpnGateways[0].State
		return string(st), st == types.VpnStateAvailable, nil
	})
}

// waitAttachment waits for a gateway's VPC attachment to reach want.
func waitAttachment(ctx context.Context, env migration.Env, api VPNGatewayAPI, id string, want types.AttachmentStatus) error {
	return env.Poll(ctx, "vpn gateway "+id+" to be "+string(want), 5*time.Second, vgwTimeout, func(ctx context.Context) (string, bool, error) {
		out, err := api.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{VpnGatewayIds: []string{id}})
		if awsx.HasCode(err, "InvalidVpnGatewayID.NotFound") {
			return "not visible yet", false, nil
		}
		if err != nil {
			return "", false, err
		}
		state := types.AttachmentStatusDetached // no attachment at all
		for _, g := range out.VpnGateways {
			for _, a := range g.VpcAttachments {
				state = a.State
			}
		}
		return string(state), state == want, nil
	})
}

// findVPNGateway returns the env's live (not deleted) gateway, nil when
// there is none, or an error when more than one carries the ownership tag
// and the Name.
func findVPNGateway(ctx context.Context, env migration.Env, api VPNGatewayAPI, name string) (*types.VpnGateway, error) {
	out, err := api.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{Filters: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name)})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	var live []types.VpnGateway
	for _, g := range out.VpnGateways {
		if env.Owns(awsx.FromEC2Tags(g.Tags)) && g.State != types.VpnStateDeleted && g.State != types.VpnStateDeleting {
			live = append(live, g)
		}
	}
	switch len(live) {
	case 0:
		return nil, nil
	case 1:
		return &live[0], nil
	}
	return nil, fmt.Errorf("%d virtual private gateways carry %s=%s and Name=%s; expected one: delete the extras", len(live), migration.OwnerTag, env.Suffix, name)
}

// DeleteVPNGateway deletes the env's virtual private gateway: it turns
// its route propagation off, detaches it from its VPC, waits until it is
// detached, then deletes it — retrying on the env clock while VPN
// connections or a Direct Connect gateway association still use it
// (DependencyViolation). A look-alike without the ownership tag is left
// alone; a missing gateway is a no-op.
func DeleteVPNGateway(ctx context.Context, env migration.Env, api VPNGatewayAPI, spec VPNGatewaySpec) error {
	name := env.Name("vgw")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete vpn gateway %q: %w", name, err)
	}
	found, err := findVPNGateway(ctx, env, api, name)
	if err != nil {
		return fmt.Errorf("delete vpn gateway %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindVPNGateway, name)
		return nil
	}
	id := aws.ToString(found.VpnGatewayId)
	if !env.DryRun {
		if err := deleteVPNGateway(ctx, env, api, found); err != nil {
			return fmt.Errorf("delete vpn gateway %q: %w", name, err)
		}
	}
	report(env, KindVPNGateway, name, id, migration.ActionDelete, nil, "")
	return nil
}

func deleteVPNGateway(ctx context.Context, env migration.Env, api VPNGatewayAPI, g *types.VpnGateway) error {
	id := aws.ToString(g.VpnGatewayId)
	for _, a := range g.VpcAttachments {
		if a.State == types.AttachmentStatusDetached {
			continue
		}
		vpc := aws.ToString(a.VpcId)
		tables, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{awsx.Filter("vpc-id", vpc)}})
		if err != nil {
			return fmt.Errorf("describe route tables of %s: %w", vpc, err)
		}
		for _, rt := range tables.RouteTables {
			if slices.ContainsFunc(rt.PropagatingVgws, func(p types.PropagatingVgw) bool { return aws.ToString(p.GatewayId) == id }) {
				if _, err := api.DisableVgwRoutePropagation(ctx, &ec2.DisableVgwRoutePropagationInput{GatewayId: aws.String(id), RouteTableId: rt.RouteTableId}); err != nil && !awsx.IsNotFound(err) {
					return fmt.Errorf("disable propagation on %s: %w", aws.ToString(rt.RouteTableId), err)
				}
			}
		}
		if a.State != types.AttachmentStatusDetaching {
			_, err := api.DetachVpnGateway(ctx, &ec2.DetachVpnGatewayInput{VpnGatewayId: aws.String(id), VpcId: aws.String(vpc)})
			if err != nil && !awsx.IsNotFound(err) {
				return fmt.Errorf("detach from %s: %w", vpc, err)
			}
		}
		if err := waitAttachment(ctx, env, api, id, types.AttachmentStatusDetached); err != nil {
			return err
		}
	}
	return deleteRetrying(ctx, env, "vpn gateway "+id, func(ctx context.Context) error {
		_, err := api.DeleteVpnGateway(ctx, &ec2.DeleteVpnGatewayInput{VpnGatewayId: aws.String(id)})
		return err
	}, "IncorrectState")
}
