package network

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// InternetGatewayAPI is the part of the EC2 client EnsureInternetGateway
// and DeleteInternetGateway use.
type InternetGatewayAPI interface {
	CreateInternetGateway(context.Context, *ec2.CreateInternetGatewayInput, ...func(*ec2.Options)) (*ec2.CreateInternetGatewayOutput, error)
	DescribeInternetGateways(context.Context, *ec2.DescribeInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error)
	AttachInternetGateway(context.Context, *ec2.AttachInternetGatewayInput, ...func(*ec2.Options)) (*ec2.AttachInternetGatewayOutput, error)
	DetachInternetGateway(context.Context, *ec2.DetachInternetGatewayInput, ...func(*ec2.Options)) (*ec2.DetachInternetGatewayOutput, error)
	DeleteInternetGateway(context.Context, *ec2.DeleteInternetGatewayInput, ...func(*ec2.Options)) (*ec2.DeleteInternetGatewayOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// KindInternetGateway is the Change kind of an internet gateway.
const KindInternetGateway = "internet-gateway"

// InternetGatewaySpec describes the VPC's internet gateway.
type InternetGatewaySpec struct {
	// VPCID is the VPC to attach to (VPC.ID); required by Ensure.
	VPCID string
}

// Validate checks the spec.
func (s InternetGatewaySpec) Validate() error {
	return checkID("internetGateway.vpcId", s.VPCID, "vpc-")
}

// InternetGateway is an ensured internet gateway.
type InternetGateway struct {
	ID   string
	Name string
}

// EnsureInternetGateway makes the env's internet gateway "igw-<suffix>"
// exist, attached to the spec's VPC, with the env's tags. It is found by
// the ownership tag and Name; a missing one is created with its tags (EC2
// takes no client token here) and attached. A detached gateway is
// attached again; one attached to another VPC is refused (moving it would
// cut that VPC off). Idempotent; a converged gateway costs one read.
func EnsureInternetGateway(ctx context.Context, env migration.Env, api InternetGatewayAPI, spec InternetGatewaySpec) (InternetGateway, error) {
	name := env.Name("igw")
	if err := migration.Validate(env, spec); err != nil {
		return InternetGateway{}, fmt.Errorf("ensure internet gateway %q: %w", name, err)
	}
	if err := errors.Join(required("internetGateway.vpcId", spec.VPCID), realIDs(env, "internetGateway.vpcId", spec.VPCID)); err != nil {
		return InternetGateway{}, fmt.Errorf("ensure internet gateway %q: %w", name, err)
	}
	g, err := ensureInternetGateway(ctx, env, api, spec, name)
	if err != nil {
		return InternetGateway{}, fmt.Errorf("ensure internet gateway %q: %w", name, err)
	}
	return g, nil
}

func ensureInternetGateway(ctx context.Context, env migration.Env, api InternetGatewayAPI, spec InternetGatewaySpec, name string) (InternetGateway, error) {
	attachDiff := []migration.FieldDiff{{Field: "vpc", To: spec.VPCID}}
	var found *types.InternetGateway
	if !migration.IsPending(spec.VPCID) { // a pending VPC has no gateway yet
		var err error
		if found, err = findInternetGateway(ctx, env, api, name); err != nil {
			return InternetGateway{}, err
		}
	}
	if found == nil {
		if env.DryRun {
			id := migration.Pending(name)
			report(env, KindInternetGateway, name, id, migration.ActionCreate, attachDiff, "")
			return InternetGateway{ID: id, Name: name}, nil
		}
		out, err := api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{TagSpecifications: awsx.TagSpec(types.ResourceTypeInternetGateway, env.NameTags(name))})
		if err != nil {
			return InternetGateway{}, fmt.Errorf("create: %w", err)
		}
		id := aws.ToString(out.InternetGateway.InternetGatewayId)
		if err := attachInternetGateway(ctx, env, api, id, spec.VPCID); err != nil {
			return InternetGateway{}, err
		}
		report(env, KindInternetGateway, name, id, migration.ActionCreate, attachDiff, "")
		return InternetGateway{ID: id, Name: name}, nil
	}

	id := aws.ToString(found.InternetGatewayId)
	attached := ""
	for _, a := range found.Attachments {
		if a.State != types.AttachmentStatusDetached && a.State != types.AttachmentStatusDetaching {
			attached = aws.ToString(a.VpcId)
		}
	}
	if attached != "" && attached != spec.VPCID && !migration.IsPending(spec.VPCID) {
		return InternetGateway{}, fmt.Errorf("vpc attachment is immutable here: %s is attached to %s, the spec wants %s; detach it by hand if that VPC is gone", id, attached, spec.VPCID)
	}
	var c migration.Converge
	if attached != spec.VPCID {
		c.Fix("vpc", attached, spec.VPCID, func() error { return attachInternetGateway(ctx, env, api, id, spec.VPCID) })
	}
	c.Tags(awsx.FromEC2Tags(found.Tags), env.NameTags(name), tagEC2(ctx, api, id))
	if err := c.Apply(env, migration.Change{Kind: KindInternetGateway, Name: name, ID: id}); err != nil {
		return InternetGateway{}, err
	}
	return InternetGateway{ID: id, Name: name}, nil
}

func attachInternetGateway(ctx context.Context, env migration.Env, api InternetGatewayAPI, id, vpcID string) error {
	err := env.Retry(ctx, []string{"InvalidInternetGatewayID.NotFound", "InvalidVpcID.NotFound"}, func(ctx context.Context) error {
		_, err := api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(id), VpcId: aws.String(vpcID)})
		return err
	})
	if err != nil {
		return fmt.Errorf("attach %s to %s: %w", id, vpcID, err)
	}
	return nil
}

// findInternetGateway returns the env's gateway, nil when there is none,
// or an error when more than one carries the ownership tag and the Name.
func findInternetGateway(ctx context.Context, env migration.Env, api InternetGatewayAPI, name string) (*types.InternetGateway, error) {
	out, err := api.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name)})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	var live []types.InternetGateway
	for _, g := range out.InternetGateways {
		if env.Owns(awsx.FromEC2Tags(g.Tags)) {
			live = append(live, g)
		}
	}
	switch len(live) {
	case 0:
		return nil, nil
	case 1:
		return &live[0], nil
	}
	return nil, fmt.Errorf("%d internet gateways carry %s=%s and Name=%s; expected one: delete the extras", len(live), migration.OwnerTag, env.Suffix, name)
}

// DeleteInternetGateway detaches and deletes the env's internet gateway.
// Only a gateway carrying the ownership tag is touched; a missing one is a
// no-op. While the VPC still has mapped public addresses (NAT gateways
// being deleted) the detach fails with DependencyViolation, and it retries
// on the env clock.
func DeleteInternetGateway(ctx context.Context, env migration.Env, api InternetGatewayAPI, spec InternetGatewaySpec) error {
	name := env.Name("igw")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete internet gateway %q: %w", name, err)
	}
	found, err := findInternetGateway(ctx, env, api, name)
	if err != nil {
		return fmt.Errorf("delete internet gateway %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindInternetGateway, name)
		return nil
	}
	id := aws.ToString(found.InternetGatewayId)
	if !env.DryRun {
		for _, a := range found.Attachments {
			vpc := aws.ToString(a.VpcId)
			err := deleteRetrying(ctx, env, "internet gateway "+id+" detach", func(ctx context.Context) error {
				_, err := api.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(id), VpcId: aws.String(vpc)})
				if awsx.HasCode(err, "Gateway.NotAttached") {
					return nil
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("delete internet gateway %q: detach from %s: %w", name, vpc, err)
			}
		}
		err := deleteRetrying(ctx, env, "internet gateway "+id, func(ctx context.Context) error {
			_, err := api.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(id)})
			return err
		})
		if err != nil {
			return fmt.Errorf("delete internet gateway %q: %w", name, err)
		}
	}
	report(env, KindInternetGateway, name, id, migration.ActionDelete, nil, "")
	return nil
}
