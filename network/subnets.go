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
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// SubnetsAPI is the part of the EC2 client EnsureSubnets and DeleteSubnets
// use.
type SubnetsAPI interface {
	DescribeAvailabilityZones(context.Context, *ec2.DescribeAvailabilityZonesInput, ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	CreateSubnet(context.Context, *ec2.CreateSubnetInput, ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error)
	ModifySubnetAttribute(context.Context, *ec2.ModifySubnetAttributeInput, ...func(*ec2.Options)) (*ec2.ModifySubnetAttributeOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteSubnet(context.Context, *ec2.DeleteSubnetInput, ...func(*ec2.Options)) (*ec2.DeleteSubnetOutput, error)
}

// KindSubnet is the Change kind of a subnet.
const KindSubnet = "subnet"

// MaxAZs bounds SubnetsSpec.AZCount.
const MaxAZs = 6

// SubnetsSpec describes the subnets of the VPC: one public and one
// private subnet in each of AZCount Availability Zones.
type SubnetsSpec struct {
	// VPCID is the VPC (VPC.ID); required by EnsureSubnets.
	VPCID string
	// VPCCIDR is the VPC's block (VPCSpec.CIDR); the subnets are carved
	// from it.
	VPCCIDR string
	// AZCount is the number of Availability Zones, 2 to MaxAZs. The zones
	// are the Region's available zones in name order (zones already in use
	// first); a Region with fewer is an error.
	AZCount int
	// PublicPrefix and PrivatePrefix are the prefix lengths of the public
	// and private subnets, for example 24 and 20. They cannot change once
	// the subnets exist.
	PublicPrefix, PrivatePrefix int
}

// Validate checks the spec, including that the layout fits in the VPC.
func (s SubnetsSpec) Validate() error {
	var errs []error
	if err := checkID("subnets.vpcId", s.VPCID, "vpc-"); err != nil {
		errs = append(errs, err)
	}
	if s.AZCount < 2 || s.AZCount > MaxAZs {
		errs = append(errs, fmt.Errorf("subnets.azCount: %d outside 2..%d (two zones at least: the Resolver endpoint and Multi-AZ databases need them)", s.AZCount, MaxAZs))
	}
	vpc, err := parseCIDR("subnets.vpcCidr", s.VPCCIDR)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, f := range []struct {
		name string
		bits int
	}{{"subnets.publicPrefix", s.PublicPrefix}, {"subnets.privatePrefix", s.PrivatePrefix}} {
		if f.bits <= vpc.Bits() || f.bits > 28 {
			errs = append(errs, fmt.Errorf("%s: /%d must be longer than the VPC's /%d and at most /28", f.name, f.bits, vpc.Bits()))
		}
	}
	if len(errs) == 0 {
		azs := make([]string, s.AZCount)
		for i := range azs {
			azs[i] = fmt.Sprintf("az%d", i+1)
		}
		if _, err := PlanSubnets(s.VPCCIDR, azs, s.PublicPrefix, s.PrivatePrefix); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PlanSubnets computes the subnet layout: for the i-th zone, the private
// subnet is the i-th block of PrivatePrefix from the start of the VPC and
// the public subnet the i-th block of PublicPrefix from its end. Adding a
// zone therefore never moves an existing subnet. Subnets that would
// overlap (the VPC is exhausted) are an error. Names and IDs are left
// empty. PlanSubnets is pure.
func PlanSubnets(vpcCIDR string, azs []string, publicPrefix, privatePrefix int) ([]Subnet, error) {
	vpc, err := parseCIDR("subnets.vpcCidr", vpcCIDR)
	if err != nil {
		return nil, err
	}
	base := addrU32(vpc.Addr())
	end := uint64(base) + 1<<(32-vpc.Bits())
	priv, pub := uint64(1)<<(32-privatePrefix), uint64(1)<<(32-publicPrefix)
	n := uint64(len(azs))
	if uint64(base)+n*priv > end-n*pub || publicPrefix <= vpc.Bits() || privatePrefix <= vpc.Bits() {
		return nil, fmt.Errorf("subnets.privatePrefix, subnets.publicPrefix: %d private /%d and %d public /%d subnets do not fit in %s without overlapping", n, privatePrefix, n, publicPrefix, vpc)
	}
	var out []Subnet
	for i, az := range azs {
		out = append(out,
			Subnet{AZ: az, CIDR: netip.PrefixFrom(u32Addr(uint32(uint64(base)+uint64(i)*priv)), privatePrefix).String()},
			Subnet{AZ: az, Public: true, CIDR: netip.PrefixFrom(u32Addr(uint32(end-uint64(i+1)*pub)), publicPrefix).String()},
		)
	}
	return out, nil
}

func addrU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func u32Addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// subnetName is "subnet-public-<az>-<suffix>" or "subnet-private-<az>-<suffix>".
func subnetName(env migration.Env, az string, public bool) string {
	if public {
		return env.Name("subnet-public-" + az)
	}
	return env.Name("subnet-private-" + az)
}

// Subnets are the ensured subnets, in zone order.
type Subnets struct {
	AZs     []string
	Public  []Subnet
	Private []Subnet
}

// PublicIDs returns the IDs of the public subnets, in zone order.
func (s Subnets) PublicIDs() []string { return subnetIDs(s.Public) }

// PrivateIDs returns the IDs of the private subnets, in zone order.
func (s Subnets) PrivateIDs() []string { return subnetIDs(s.Private) }

// subnetTimeout bounds the wait for a new subnet to become available.
const subnetTimeout = 5 * time.Minute

// EnsureSubnets makes the env's public and private subnets exist and
// converge in AZCount zones of the Region.
//
// The zones come from DescribeAvailabilityZones (available zones of type
// availability-zone, in name order, zones the env already uses first); the
// CIDRs from PlanSubnets. Each subnet is found by the ownership tag and
// its Name; a missing one is created with its tags in the CreateSubnet
// call (EC2 takes no client token for subnets, so a lost response is
// found again by the tags). A planned CIDR that overlaps a subnet the env
// does not own is refused before any write. On existing subnets it turns
// MapPublicIpOnLaunch off (nothing here needs public IPs: load balancers
// and NAT gateways bring their own) and restores missing tags; a changed
// CIDR or zone is refused — a subnet cannot move without deleting what
// runs in it. With a pending VPC in a dry run it reads only the Region's
// zones and reports every subnet as a create.
func EnsureSubnets(ctx context.Context, env migration.Env, api SubnetsAPI, spec SubnetsSpec) (Subnets, error) {
	name := env.Name("subnet-*")
	if err := migration.Validate(env, spec); err != nil {
		return Subnets{}, fmt.Errorf("ensure subnets %q: %w", name, err)
	}
	if err := errors.Join(required("subnets.vpcId", spec.VPCID), realIDs(env, "subnets.vpcId", spec.VPCID)); err != nil {
		return Subnets{}, fmt.Errorf("ensure subnets %q: %w", name, err)
	}
	out, err := ensureSubnets(ctx, env, api, spec)
	if err != nil {
		return Subnets{}, fmt.Errorf("ensure subnets %q: %w", name, err)
	}
	return out, nil
}

// subnetPlan is one subnet's decision.
type subnetPlan struct {
	want Subnet
	have *types.Subnet
	fix  migration.Converge // what an existing subnet needs
}

func ensureSubnets(ctx context.Context, env migration.Env, api SubnetsAPI, spec SubnetsSpec) (Subnets, error) {
	var existing []types.Subnet
	if !migration.IsPending(spec.VPCID) {
		var err error
		if existing, err = vpcSubnets(ctx, api, spec.VPCID); err != nil {
			return Subnets{}, err
		}
	}
	azs, err := chooseAZs(ctx, env, api, spec.AZCount, existing)
	if err != nil {
		return Subnets{}, err
	}
	layout, err := PlanSubnets(spec.VPCCIDR, azs, spec.PublicPrefix, spec.PrivatePrefix)
	if err != nil {
		return Subnets{}, err
	}

	// Decide everything first: a refused change must write nothing.
	owned := map[string][]types.Subnet{}
	for _, s := range existing {
		if tags := awsx.FromEC2Tags(s.Tags); env.Owns(tags) {
			owned[tags["Name"]] = append(owned[tags["Name"]], s)
		}
	}
	var plans []*subnetPlan
	var errs []error
	for _, want := range layout {
		want.Name = subnetName(env, want.AZ, want.Public)
		p := &subnetPlan{want: want}
		plans = append(plans, p)
		switch found := owned[want.Name]; len(found) {
		case 0:
			for _, o := range existing {
				if prefixOverlap(aws.ToString(o.CidrBlock), want.CIDR) {
					errs = append(errs, fmt.Errorf("%s: planned %s overlaps %s (%s, Name=%q)", want.Name, want.CIDR, aws.ToString(o.SubnetId), aws.ToString(o.CidrBlock), awsx.FromEC2Tags(o.Tags)["Name"]))
				}
			}
		case 1:
			have := found[0]
			p.have = &have
			id := aws.ToString(have.SubnetId)
			if c := aws.ToString(have.CidrBlock); c != want.CIDR {
				errs = append(errs, fmt.Errorf("%s: cidr is immutable: %s has %s, the layout wants %s (a changed vpcCidr, prefix length or zone order); change the spec back, or delete the subnet and what runs in it", want.Name, id, c, want.CIDR))
			}
			if az := aws.ToString(have.AvailabilityZone); az != want.AZ {
				errs = append(errs, fmt.Errorf("%s: availability zone is immutable: %s is in %s, the layout wants %s", want.Name, id, az, want.AZ))
			}
			if aws.ToBool(have.MapPublicIpOnLaunch) {
				p.fix.Fix("mapPublicIpOnLaunch", "true", "false", func() error {
					if _, err := api.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(id), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
						return fmt.Errorf("turn off mapPublicIpOnLaunch: %w", err)
					}
					return nil
				})
			}
			p.fix.Tags(awsx.FromEC2Tags(have.Tags), env.NameTags(want.Name), tagEC2(ctx, api, id))
		default:
			errs = append(errs, fmt.Errorf("%s: %d subnets carry %s=%s and this Name; expected one: delete the extras", want.Name, len(found), migration.OwnerTag, env.Suffix))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Subnets{}, err
	}

	out := Subnets{AZs: azs}
	for _, p := range plans {
		s := p.want
		switch {
		case p.have == nil && env.DryRun:
			s.ID = migration.Pending(s.Name)
			report(env, KindSubnet, s.Name, s.ID, migration.ActionCreate, []migration.FieldDiff{{Field: "cidr", To: s.CIDR}, {Field: "az", To: s.AZ}}, "")
		case p.have == nil:
			if s.ID, err = createSubnet(ctx, env, api, spec.VPCID, s); err != nil {
				return Subnets{}, fmt.Errorf("%s: %w", s.Name, err)
			}
			report(env, KindSubnet, s.Name, s.ID, migration.ActionCreate, []migration.FieldDiff{{Field: "cidr", To: s.CIDR}, {Field: "az", To: s.AZ}}, "")
		default:
			s.ID = aws.ToString(p.have.SubnetId)
			if err := p.fix.Apply(env, migration.Change{Kind: KindSubnet, Name: s.Name, ID: s.ID}); err != nil {
				return Subnets{}, fmt.Errorf("%s: %w", s.Name, err)
			}
		}
		if s.Public {
			out.Public = append(out.Public, s)
		} else {
			out.Private = append(out.Private, s)
		}
	}
	return out, nil
}

func createSubnet(ctx context.Context, env migration.Env, api SubnetsAPI, vpcID string, s Subnet) (string, error) {
	created, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId: aws.String(vpcID), CidrBlock: aws.String(s.CIDR), AvailabilityZone: aws.String(s.AZ),
		TagSpecifications: awsx.TagSpec(types.ResourceTypeSubnet, env.NameTags(s.Name)),
	})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	id := aws.ToString(created.Subnet.SubnetId)
	var accept awsx.Acceptor[ec2.DescribeSubnetsInput, ec2.DescribeSubnetsOutput]
	ec2.NewSubnetAvailableWaiter(api, func(o *ec2.SubnetAvailableWaiterOptions) { accept = o.Retryable })
	if _, err := migration.Wait(ctx, env, "subnet "+id+" to be available", api.DescribeSubnets, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}}, accept, subnetTimeout, "InvalidSubnetID.NotFound"); err != nil {
		return "", err
	}
	return id, nil
}

// vpcSubnets lists every subnet of a VPC, owned or not.
func vpcSubnets(ctx context.Context, api SubnetsAPI, vpcID string) ([]types.Subnet, error) {
	var out []types.Subnet
	p := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{Filters: []types.Filter{awsx.Filter("vpc-id", vpcID)}, MaxResults: aws.Int32(200)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe subnets: %w", err)
		}
		out = append(out, page.Subnets...)
	}
	return out, nil
}

// chooseAZs returns count zone names: the zones of the env's existing
// subnets (in name order), then the Region's other available zones in name
// order. A Region with fewer zones is an error.
func chooseAZs(ctx context.Context, env migration.Env, api SubnetsAPI, count int, existing []types.Subnet) ([]string, error) {
	out, err := api.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{Filters: []types.Filter{
		awsx.Filter("state", "available"), awsx.Filter("zone-type", "availability-zone"),
	}})
	if err != nil {
		return nil, fmt.Errorf("describe availability zones: %w", err)
	}
	var available []string
	for _, az := range out.AvailabilityZones {
		available = append(available, aws.ToString(az.ZoneName))
	}
	slices.Sort(available)
	var azs []string
	for _, s := range existing {
		tags := awsx.FromEC2Tags(s.Tags)
		az := aws.ToString(s.AvailabilityZone)
		if env.Owns(tags) && strings.HasPrefix(tags["Name"], "subnet-") && !slices.Contains(azs, az) {
			azs = append(azs, az)
		}
	}
	slices.Sort(azs)
	for _, az := range available {
		if len(azs) >= count {
			break
		}
		if !slices.Contains(azs, az) {
			azs = append(azs, az)
		}
	}
	if len(azs) < count {
		return nil, fmt.Errorf("subnets.azCount: Region %s has %d available zones (%s); the spec wants %d", env.Region, len(available), strings.Join(available, ", "), count)
	}
	return azs[:count], nil
}

func prefixOverlap(a, b string) bool {
	pa, err1 := netip.ParsePrefix(a)
	pb, err2 := netip.ParsePrefix(b)
	return err1 == nil && err2 == nil && pa.Overlaps(pb)
}

// deleteTimeout bounds how long a Delete waits for dependents (network
// interfaces AWS services release late, gateways still deleting) to go.
const deleteTimeout = 15 * time.Minute

// DeleteSubnets deletes the env's subnets: every subnet carrying the
// env's ownership tag and a Name of the form subnet-public-*-<suffix> or
// subnet-private-*-<suffix>, in any VPC (the spec's IDs are not needed:
// Delete finds by tags). Look-alikes without the ownership tag are left
// alone; a missing subnet is a no-op. While a subnet still holds network
// interfaces (DependencyViolation) it retries on the env clock.
func DeleteSubnets(ctx context.Context, env migration.Env, api SubnetsAPI, spec SubnetsSpec) error {
	name := env.Name("subnet-*")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete subnets %q: %w", name, err)
	}
	out, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		awsx.TagFilter(migration.OwnerTag, env.Suffix), awsx.TagFilter("Name", env.Name("subnet-public-*"), env.Name("subnet-private-*")),
	}})
	if err != nil {
		return fmt.Errorf("delete subnets %q: describe: %w", name, err)
	}
	var found []types.Subnet
	for _, s := range out.Subnets {
		if tags := awsx.FromEC2Tags(s.Tags); env.Owns(tags) && strings.HasSuffix(tags["Name"], "-"+env.Suffix) {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		env.ReportGone(KindSubnet, name)
		return nil
	}
	for _, s := range found {
		id, sname := aws.ToString(s.SubnetId), awsx.FromEC2Tags(s.Tags)["Name"]
		if !env.DryRun {
			err := deleteRetrying(ctx, env, "subnet "+id, func(ctx context.Context) error {
				_, err := api.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)})
				return err
			})
			if err != nil {
				return fmt.Errorf("delete subnet %q: %w", sname, err)
			}
		}
		report(env, KindSubnet, sname, id, migration.ActionDelete, nil, "")
	}
	return nil
}

// deleteRetrying calls del until it succeeds or reports the resource gone,
// retrying DependencyViolation (and the other "still in use" codes of
// awsx.IsDependencyViolation plus extra) on the env clock for up to
// deleteTimeout, then reports the last refusal.
func deleteRetrying(ctx context.Context, env migration.Env, what string, del func(context.Context) error, extra ...string) error {
	var last error
	err := env.Poll(ctx, what+" dependents to go", 15*time.Second, deleteTimeout, func(ctx context.Context) (string, bool, error) {
		err := del(ctx)
		switch {
		case err == nil || awsx.IsNotFound(err):
			return "", true, nil
		case awsx.IsDependencyViolation(err) || awsx.HasCode(err, extra...):
			last = err
			return "has dependents", false, nil
		default:
			return "", false, err
		}
	})
	if err != nil && errors.Is(err, awsx.ErrTimeout) && last != nil {
		return fmt.Errorf("%w (last: %v)", err, last)
	}
	return err
}
