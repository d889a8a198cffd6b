package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// VPCAPI is the part of the EC2 client EnsureVPC and DeleteVPC use.
type VPCAPI interface {
	CreateVpc(context.Context, *ec2.CreateVpcInput, ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error)
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeVpcAttribute(context.Context, *ec2.DescribeVpcAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error)
	ModifyVpcAttribute(context.Context, *ec2.ModifyVpcAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyVpcAttributeOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteVpc(context.Context, *ec2.DeleteVpcInput, ...func(*ec2.Options)) (*ec2.DeleteVpcOutput, error)
}

// KindVPC is the Change kind of a VPC.
const KindVPC = "vpc"

// VPCSpec describes the migration's VPC. DNS support and DNS hostnames
// are always on: the private hosted zone of the cutover needs both.
type VPCSpec struct {
	// CIDR is the VPC's IPv4 block, /16 to /28, for example
	// "10.0.0.0/16". It cannot change after creation.
	CIDR string
}

// Validate checks the spec: CIDR must be an IPv4 network address with a
// prefix length AWS accepts for a VPC (/16 to /28).
func (s VPCSpec) Validate() error {
	p, err := netip.ParsePrefix(s.CIDR)
	switch {
	case err != nil:
		return fmt.Errorf("vpc.cidr: %q is not a CIDR block", s.CIDR)
	case !p.Addr().Is4():
		return fmt.Errorf("vpc.cidr: %q is not IPv4", s.CIDR)
	case p.Masked() != p:
		return fmt.Errorf("vpc.cidr: %q has host bits set; did you mean %s?", s.CIDR, p.Masked())
	case p.Bits() < 16 || p.Bits() > 28:
		return fmt.Errorf("vpc.cidr: prefix /%d outside the /16../28 AWS allows for a VPC", p.Bits())
	}
	return nil
}

// VPC is an ensured VPC.
type VPC struct {
	ID   string
	Name string
	CIDR string
}

// vpcTimeout bounds the wait for a new VPC to become available.
const vpcTimeout = 5 * time.Minute

// EnsureVPC makes the env's VPC "vpc-<suffix>" exist and converge.
//
// It finds the VPC by the ownership tag and Name; more than one match is
// an error. A missing VPC is created with all its tags in the CreateVpc
// call (EC2 takes no client token for VPCs, so a create whose response was
// lost is found again by these tags), waited for until available, and
// given DNS support and hostnames. On an existing VPC it converges DNS
// support, DNS hostnames and missing tags, and refuses a CIDR change: the
// CIDR of a VPC is immutable, and replacing a VPC would take everything
// in it down.
func EnsureVPC(ctx context.Context, env migration.Env, api VPCAPI, spec VPCSpec) (VPC, error) {
	name := env.Name("vpc")
	if err := migration.Validate(env, spec); err != nil {
		return VPC{}, fmt.Errorf("ensure vpc %q: %w", name, err)
	}
	v, err := ensureVPC(ctx, env, api, spec, name)
	if err != nil {
		return VPC{}, fmt.Errorf("ensure vpc %q: %w", name, err)
	}
	return v, nil
}

func ensureVPC(ctx context.Context, env migration.Env, api VPCAPI, spec VPCSpec, name string) (VPC, error) {
	found, err := findVPC(ctx, env, api, name)
	if err != nil {
		return VPC{}, err
	}
	if found == nil {
		if env.DryRun {
			id := migration.Pending(name)
			env.Report(migration.Change{Kind: KindVPC, Name: name, ID: id, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "cidr", From: "", To: spec.CIDR}}})
			return VPC{ID: id, Name: name, CIDR: spec.CIDR}, nil
		}
		out, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{
			CidrBlock:         aws.String(spec.CIDR),
			TagSpecifications: awsx.TagSpec(types.ResourceTypeVpc, env.NameTags(name)),
		})
		if err != nil {
			return VPC{}, fmt.Errorf("create: %w", err)
		}
		id := aws.ToString(out.Vpc.VpcId)
		var accept awsx.Acceptor[ec2.DescribeVpcsInput, ec2.DescribeVpcsOutput]
		ec2.NewVpcAvailableWaiter(api, func(o *ec2.VpcAvailableWaiterOptions) { accept = o.Retryable })
		if _, err := migration.Wait(ctx, env, "vpc "+id+" to be available", api.DescribeVpcs, &ec2.DescribeVpcsInput{VpcIds: []string{id}}, accept, vpcTimeout, "InvalidVpcID.NotFound"); err != nil {
			return VPC{}, err
		}
		// EnableDnsSupport first: EC2 refuses hostnames without support.
		for _, attr := range []types.VpcAttributeName{types.VpcAttributeNameEnableDnsSupport, types.VpcAttributeNameEnableDnsHostnames} {
			if err := setVPCAttribute(ctx, env, api, id, attr); err != nil {
				return VPC{}, err
			}
		}
		env.Report(migration.Change{Kind: KindVPC, Name: name, ID: id, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "cidr", From: "", To: spec.CIDR}}})
		return VPC{ID: id, Name: name, CIDR: spec.CIDR}, nil
	}

	id := aws.ToString(found.VpcId)
	if have := aws.ToString(found.CidrBlock); have != spec.CIDR {
		return VPC{}, fmt.Errorf("cidr is immutable: %s has %s, the spec wants %s; change the spec back, or destroy the env and apply again", id, have, spec.CIDR)
	}
	var c migration.Converge
	for _, attr := range []types.VpcAttributeName{types.VpcAttributeNameEnableDnsSupport, types.VpcAttributeNameEnableDnsHostnames} {
		on, err := vpcAttribute(ctx, api, id, attr)
		if err != nil {
			return VPC{}, err
		}
		if !on {
			c.Fix(string(attr), "false", "true", func() error { return setVPCAttribute(ctx, env, api, id, attr) })
		}
	}
	c.Tags(awsx.FromEC2Tags(found.Tags), env.NameTags(name), tagEC2(ctx, api, id))
	if err := c.Apply(env, migration.Change{Kind: KindVPC, Name: name, ID: id}); err != nil {
		return VPC{}, err
	}
	return VPC{ID: id, Name: name, CIDR: spec.CIDR}, nil
}

// findVPC returns the env's VPC, nil when there is none, or an error when
// more than one VPC carries the env's ownership tag and the Name.
func findVPC(ctx context.Context, env migration.Env, api VPCAPI, name string) (*types.Vpc, error) {
	out, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name)})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	var live []types.Vpc
	for _, v := range out.Vpcs {
		if env.Owns(awsx.FromEC2Tags(v.Tags)) { // the filter already says so; the tag is the contract
			live = append(live, v)
		}
	}
	switch len(live) {
	case 0:
		return nil, nil
	case 1:
		return &live[0], nil
	}
	ids := make([]string, len(live))
	for i, v := range live {
		ids[i] = aws.ToString(v.VpcId)
	}
	return nil, fmt.Errorf("%d VPCs carry %s=%s and Name=%s (%v); expected one: delete the extras", len(live), migration.OwnerTag, env.Suffix, name, ids)
}

func vpcAttribute(ctx context.Context, api VPCAPI, id string, attr types.VpcAttributeName) (bool, error) {
	out, err := api.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(id), Attribute: attr})
	if err != nil {
		return false, fmt.Errorf("describe %s of %s: %w", attr, id, err)
	}
	v := out.EnableDnsSupport
	if attr == types.VpcAttributeNameEnableDnsHostnames {
		v = out.EnableDnsHostnames
	}
	return v != nil && aws.ToBool(v.Value), nil
}

// setVPCAttribute turns one DNS attribute on (EC2 takes one per call),
// retrying while a new VPC is not visible yet.
func setVPCAttribute(ctx context.Context, env migration.Env, api VPCAPI, id string, attr types.VpcAttributeName) error {
	in := &ec2.ModifyVpcAttributeInput{VpcId: aws.String(id)}
	on := &types.AttributeBooleanValue{Value: aws.Bool(true)}
	if attr == types.VpcAttributeNameEnableDnsSupport {
		in.EnableDnsSupport = on
	} else {
		in.EnableDnsHostnames = on
	}
	err := env.Retry(ctx, []string{"InvalidVpcID.NotFound"}, func(ctx context.Context) error {
		_, err := api.ModifyVpcAttribute(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("enable %s on %s: %w", attr, id, err)
	}
	return nil
}

// vpcDeleteTimeout bounds how long DeleteVPC waits for dependents (ENIs
// that AWS services release late) to go.
const vpcDeleteTimeout = 10 * time.Minute

// DeleteVPC deletes the env's VPC. It touches only a VPC carrying the
// env's ownership tag — a look-alike with the same Name but no ownership
// tag is left alone — and is a no-op when the VPC is gone. While
// dependents remain (DependencyViolation) it retries on the env clock for
// up to ten minutes, then reports what still depends on the VPC.
func DeleteVPC(ctx context.Context, env migration.Env, api VPCAPI, spec VPCSpec) error {
	name := env.Name("vpc")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete vpc %q: %w", name, err)
	}
	found, err := findVPC(ctx, env, api, name)
	if err != nil {
		return fmt.Errorf("delete vpc %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindVPC, name)
		return nil
	}
	id := aws.ToString(found.VpcId)
	if !env.DryRun {
		var last error
		err := env.Poll(ctx, "vpc "+id+" dependents to go", 15*time.Second, vpcDeleteTimeout, func(ctx context.Context) (string, bool, error) {
			_, err := api.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
			switch {
			case err == nil || awsx.IsNotFound(err):
				return "", true, nil
			case awsx.IsDependencyViolation(err):
				last = err
				return "has dependents", false, nil
			default:
				return "", false, err
			}
		})
		if err != nil {
			if errors.Is(err, awsx.ErrTimeout) && last != nil {
				err = fmt.Errorf("%w (last: %v)", err, last)
			}
			return fmt.Errorf("delete vpc %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindVPC, Name: name, ID: id, Action: migration.ActionDelete})
	return nil
}
