package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// NATGatewaysAPI is the part of the EC2 client EnsureNATGateways and
// DeleteNATGateways use.
type NATGatewaysAPI interface {
	AllocateAddress(context.Context, *ec2.AllocateAddressInput, ...func(*ec2.Options)) (*ec2.AllocateAddressOutput, error)
	DescribeAddresses(context.Context, *ec2.DescribeAddressesInput, ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error)
	ReleaseAddress(context.Context, *ec2.ReleaseAddressInput, ...func(*ec2.Options)) (*ec2.ReleaseAddressOutput, error)
	CreateNatGateway(context.Context, *ec2.CreateNatGatewayInput, ...func(*ec2.Options)) (*ec2.CreateNatGatewayOutput, error)
	DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
	DeleteNatGateway(context.Context, *ec2.DeleteNatGatewayInput, ...func(*ec2.Options)) (*ec2.DeleteNatGatewayOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// Change kinds of the NAT gateways and their addresses.
const (
	KindNATGateway = "nat-gateway"
	KindElasticIP  = "elastic-ip"
)

// NATMode says how many NAT gateways the VPC gets.
type NATMode string

// The NAT modes.
const (
	// NATPerAZ puts one NAT gateway in every zone: a zone outage takes
	// only its own egress down. The default.
	NATPerAZ NATMode = "per-az"
	// NATSingle shares one NAT gateway (in the first zone) between all
	// zones: cheaper, and every zone loses egress when that zone fails.
	NATSingle NATMode = "single"
)

// NATGatewaysSpec describes the NAT gateways of the VPC.
type NATGatewaysSpec struct {
	// Mode is NATPerAZ (default when empty) or NATSingle.
	Mode NATMode
	// PublicSubnets are the subnets to place them in (Subnets.Public),
	// one per zone; required by Ensure.
	PublicSubnets []Subnet
}

// Validate checks the spec.
func (s NATGatewaysSpec) Validate() error {
	var errs []error
	if s.Mode != "" && s.Mode != NATPerAZ && s.Mode != NATSingle {
		errs = append(errs, fmt.Errorf("natGateways.mode: %q is not %q or %q", s.Mode, NATPerAZ, NATSingle))
	}
	if err := checkSubnets("natGateways.publicSubnets", s.PublicSubnets); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, sn := range s.PublicSubnets {
		if seen[sn.AZ] {
			errs = append(errs, fmt.Errorf("natGateways.publicSubnets[%d].az: %s appears twice; one public subnet per zone", i, sn.AZ))
		}
		seen[sn.AZ] = true
	}
	return errors.Join(errs...)
}

// targets returns the public subnets that get a NAT gateway, in zone
// order.
func (s NATGatewaysSpec) targets() []Subnet {
	subnets := slices.Clone(s.PublicSubnets)
	slices.SortFunc(subnets, func(a, b Subnet) int { return strings.Compare(a.AZ, b.AZ) })
	if s.Mode == NATSingle && len(subnets) > 0 {
		return subnets[:1]
	}
	return subnets
}

// NATGateway is one ensured NAT gateway.
type NATGateway struct {
	ID           string
	Name         string
	AZ           string
	SubnetID     string
	AllocationID string
	PublicIP     string
}

// NATGateways are the ensured NAT gateways.
type NATGateways struct {
	Gateways []NATGateway
	// ByAZ maps every zone of the spec's public subnets to the NAT gateway
	// its private subnet routes through: its own in NATPerAZ mode, the
	// shared one in NATSingle mode.
	ByAZ map[string]string
}

// natTimeout bounds the wait for a NAT gateway to become available or
// deleted.
const natTimeout = 15 * time.Minute

func natName(env migration.Env, az string) string { return env.Name("nat-" + az) }
func eipName(env migration.Env, az string) string { return env.Name("eip-nat-" + az) }

// EnsureNATGateways makes the env's NAT gateways "nat-<az>-<suffix>", each
// with its own Elastic IP "eip-nat-<az>-<suffix>", exist and converge.
//
// Gateways and addresses are found by the ownership tag and Name. An
// address is allocated with its tags in the AllocateAddress call; a
// gateway is created with its tags and a client token derived from the
// env, the name, the subnet and the address, so a create retried after a
// crash returns the same gateway. It waits until every gateway is
// available. A gateway in state "failed" is treated as gone: it is
// deleted, its address released, and a new address and gateway are made.
// A gateway that failed during this call's wait is an error; the next run
// replaces it. A live gateway in another subnet than the spec's is
// refused (the subnet of a NAT gateway is immutable). Missing tags
// converge. In NATSingle mode gateways of other zones from an earlier
// per-AZ layout are left in place and reported: DeleteNATGateways removes
// them once no route uses them.
func EnsureNATGateways(ctx context.Context, env migration.Env, api NATGatewaysAPI, spec NATGatewaysSpec) (NATGateways, error) {
	name := env.Name("nat-*")
	if err := migration.Validate(env, spec); err != nil {
		return NATGateways{}, fmt.Errorf("ensure nat gateways %q: %w", name, err)
	}
	if len(spec.PublicSubnets) == 0 {
		return NATGateways{}, fmt.Errorf("ensure nat gateways %q: natGateways.publicSubnets: required", name)
	}
	if err := realIDs(env, pairs("natGateways.publicSubnets.id", subnetIDs(spec.PublicSubnets))...); err != nil {
		return NATGateways{}, fmt.Errorf("ensure nat gateways %q: %w", name, err)
	}
	out := NATGateways{ByAZ: map[string]string{}}
	for _, sn := range spec.targets() {
		g, err := ensureNAT(ctx, env, api, sn)
		if err != nil {
			return NATGateways{}, fmt.Errorf("ensure nat gateway %q: %w", natName(env, sn.AZ), err)
		}
		out.Gateways = append(out.Gateways, g)
		out.ByAZ[sn.AZ] = g.ID
	}
	for _, sn := range spec.PublicSubnets {
		if _, ok := out.ByAZ[sn.AZ]; !ok {
			out.ByAZ[sn.AZ] = out.Gateways[0].ID
		}
	}
	if spec.Mode == NATSingle && !migration.AnyPending(subnetIDs(spec.PublicSubnets)...) {
		if err := reportStrayNATs(ctx, env, api, out); err != nil {
			return NATGateways{}, fmt.Errorf("ensure nat gateways %q: %w", name, err)
		}
	}
	return out, nil
}

// pairs turns a field name and values into the field/value pairs realIDs
// takes.
func pairs(field string, values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, field, v)
	}
	return out
}

func ensureNAT(ctx context.Context, env migration.Env, api NATGatewaysAPI, sn Subnet) (NATGateway, error) {
	name, ename := natName(env, sn.AZ), eipName(env, sn.AZ)
	g := NATGateway{Name: name, AZ: sn.AZ, SubnetID: sn.ID}
	if migration.IsPending(sn.ID) { // dry run with a pending subnet
		g.ID, g.AllocationID = migration.Pending(name), migration.Pending(ename)
		report(env, KindElasticIP, ename, g.AllocationID, migration.ActionCreate, nil, "")
		report(env, KindNATGateway, name, g.ID, migration.ActionCreate, []migration.FieldDiff{{Field: "subnet", To: sn.ID}}, "")
		return g, nil
	}
	nats, err := ownedNATs(ctx, env, api, name)
	if err != nil {
		return NATGateway{}, err
	}
	var live, failed []types.NatGateway
	for _, n := range nats {
		switch n.State {
		case types.NatGatewayStatePending, types.NatGatewayStateAvailable:
			live = append(live, n)
		case types.NatGatewayStateFailed:
			failed = append(failed, n)
		}
	}
	if len(live) > 1 {
		return NATGateway{}, fmt.Errorf("%d live NAT gateways carry %s=%s and Name=%s; expected one: delete the extras", len(live), migration.OwnerTag, env.Suffix, name)
	}
	addrs, err := ownedAddresses(ctx, env, api, ename)
	if err != nil {
		return NATGateway{}, err
	}

	if len(live) == 1 {
		n := live[0]
		g.ID = aws.ToString(n.NatGatewayId)
		if s := aws.ToString(n.SubnetId); s != sn.ID {
			return NATGateway{}, fmt.Errorf("subnet is immutable: %s is in %s, the spec wants %s; delete it (DeleteNATGateways) and apply again", g.ID, s, sn.ID)
		}
		for _, a := range n.NatGatewayAddresses {
			g.AllocationID, g.PublicIP = aws.ToString(a.AllocationId), aws.ToString(a.PublicIp)
		}
		if err := convergeTags(ctx, env, api, KindElasticIP, ename, addrs, func(a types.Address) (string, []types.Tag) { return aws.ToString(a.AllocationId), a.Tags }); err != nil {
			return NATGateway{}, err
		}
		var c migration.Converge
		c.Tags(awsx.FromEC2Tags(n.Tags), env.NameTags(name), tagEC2(ctx, api, g.ID))
		if n.State == types.NatGatewayStatePending {
			c.Fix("state", string(n.State), string(types.NatGatewayStateAvailable), func() error { return waitNAT(ctx, env, api, g.ID) })
		}
		if err := c.Apply(env, migration.Change{Kind: KindNATGateway, Name: name, ID: g.ID}); err != nil {
			return NATGateway{}, err
		}
		return g, nil
	}

	// Missing, or only failed ones: make a new gateway.
	var note string
	var replaced []string
	for _, n := range failed {
		id := aws.ToString(n.NatGatewayId)
		replaced = append(replaced, fmt.Sprintf("%s (%s: %s)", id, aws.ToString(n.FailureCode), aws.ToString(n.FailureMessage)))
		if !env.DryRun {
			if _, err := api.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(id)}); err != nil && !awsx.IsNotFound(err) {
				return NATGateway{}, fmt.Errorf("delete failed gateway %s: %w", id, err)
			}
		}
	}
	if len(replaced) > 0 {
		note = "replaces failed " + strings.Join(replaced, ", ")
	}
	// The addresses of this name that no live gateway holds: after a
	// failure they are released (they went back with the failed gateway,
	// as LESSONS.md asks), otherwise one is reused (an allocation whose
	// gateway create never happened) and any extra is released as a leak.
	var reuse *types.Address
	for _, a := range addrs {
		id := aws.ToString(a.AllocationId)
		switch {
		case a.AssociationId != nil:
			return NATGateway{}, fmt.Errorf("elastic IP %s (%s) is associated with %s, not with a NAT gateway of this env", id, ename, aws.ToString(a.NetworkInterfaceId))
		case len(failed) == 0 && reuse == nil:
			a := a
			reuse = &a
		default:
			if !env.DryRun {
				if err := releaseAddress(ctx, env, api, id); err != nil {
					return NATGateway{}, err
				}
			}
			why := "left over by an interrupted create"
			if len(failed) > 0 {
				why = "held by a failed NAT gateway"
			}
			report(env, KindElasticIP, ename, id, migration.ActionDelete, nil, why)
		}
	}
	if env.DryRun {
		g.ID = migration.Pending(name)
		if reuse == nil {
			g.AllocationID = migration.Pending(ename)
			report(env, KindElasticIP, ename, g.AllocationID, migration.ActionCreate, nil, "")
		} else {
			g.AllocationID = aws.ToString(reuse.AllocationId)
			report(env, KindElasticIP, ename, g.AllocationID, migration.ActionNoop, nil, "")
		}
		report(env, KindNATGateway, name, g.ID, migration.ActionCreate, []migration.FieldDiff{{Field: "subnet", To: sn.ID}}, note)
		return g, nil
	}
	if reuse == nil {
		out, err := api.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc, TagSpecifications: awsx.TagSpec(types.ResourceTypeElasticIp, env.NameTags(ename))})
		if err != nil {
			return NATGateway{}, fmt.Errorf("allocate address: %w", err)
		}
		g.AllocationID, g.PublicIP = aws.ToString(out.AllocationId), aws.ToString(out.PublicIp)
		report(env, KindElasticIP, ename, g.AllocationID, migration.ActionCreate, nil, "")
	} else {
		g.AllocationID, g.PublicIP = aws.ToString(reuse.AllocationId), aws.ToString(reuse.PublicIp)
		report(env, KindElasticIP, ename, g.AllocationID, migration.ActionNoop, nil, "")
	}
	// The token is derived from the env, name, subnet and address. EC2
	// remembers it longer than it lists a deleted gateway, so after a
	// gateway was deleted by hand the same request answers with the gone
	// one: then the token is salted with that gateway's ID (still
	// deterministic, so a retry after a crash finds the same gateway).
	token := clientToken(env, name, sn.ID, g.AllocationID)
	var created *ec2.CreateNatGatewayOutput
	for attempt := 0; ; attempt++ {
		err = env.Retry(ctx, []string{"InvalidAllocationID.NotFound", "InvalidSubnetID.NotFound"}, func(ctx context.Context) error {
			var err error
			created, err = api.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
				SubnetId: aws.String(sn.ID), AllocationId: aws.String(g.AllocationID), ConnectivityType: types.ConnectivityTypePublic,
				ClientToken: aws.String(token), TagSpecifications: awsx.TagSpec(types.ResourceTypeNatgateway, env.NameTags(name)),
			})
			return err
		})
		if err != nil {
			return NATGateway{}, fmt.Errorf("create: %w", err)
		}
		switch created.NatGateway.State {
		case types.NatGatewayStateDeleting, types.NatGatewayStateDeleted, types.NatGatewayStateFailed:
			if attempt < 3 {
				token = clientToken(env, name, sn.ID, g.AllocationID, aws.ToString(created.NatGateway.NatGatewayId))
				continue
			}
		}
		break
	}
	g.ID = aws.ToString(created.NatGateway.NatGatewayId)
	if err := waitNAT(ctx, env, api, g.ID); err != nil {
		return NATGateway{}, err
	}
	report(env, KindNATGateway, name, g.ID, migration.ActionCreate, []migration.FieldDiff{{Field: "subnet", To: sn.ID}}, note)
	return g, nil
}

func waitNAT(ctx context.Context, env migration.Env, api NATGatewaysAPI, id string) error {
	var accept awsx.Acceptor[ec2.DescribeNatGatewaysInput, ec2.DescribeNatGatewaysOutput]
	ec2.NewNatGatewayAvailableWaiter(api, func(o *ec2.NatGatewayAvailableWaiterOptions) { accept = o.Retryable })
	out, err := migration.Wait(ctx, env, "nat gateway "+id+" to be available", api.DescribeNatGateways, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}, accept, natTimeout, "NatGatewayNotFound")
	if err != nil && out != nil && len(out.NatGateways) == 1 && out.NatGateways[0].State == types.NatGatewayStateFailed {
		n := out.NatGateways[0]
		return fmt.Errorf("nat gateway %s failed (%s: %s); the next apply replaces it", id, aws.ToString(n.FailureCode), aws.ToString(n.FailureMessage))
	}
	return err
}

func releaseAddress(ctx context.Context, env migration.Env, api NATGatewaysAPI, id string) error {
	err := deleteRetrying(ctx, env, "elastic IP "+id, func(ctx context.Context) error {
		_, err := api.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(id)})
		return err
	}, "InvalidIPAddress.InUse", "AuthFailure")
	if err != nil {
		return fmt.Errorf("release address %s: %w", id, err)
	}
	return nil
}

// ownedNATs returns the env's NAT gateways of a Name (a pattern with *
// matches several), in every state but deleted.
func ownedNATs(ctx context.Context, env migration.Env, api NATGatewaysAPI, name string) ([]types.NatGateway, error) {
	var out []types.NatGateway
	p := ec2.NewDescribeNatGatewaysPaginator(api, &ec2.DescribeNatGatewaysInput{Filter: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe nat gateways: %w", err)
		}
		for _, n := range page.NatGateways {
			if env.Owns(awsx.FromEC2Tags(n.Tags)) && n.State != types.NatGatewayStateDeleted {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// ownedAddresses returns the env's Elastic IPs of a Name (or pattern).
func ownedAddresses(ctx context.Context, env migration.Env, api NATGatewaysAPI, name string) ([]types.Address, error) {
	out, err := api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name)})
	if err != nil {
		return nil, fmt.Errorf("describe addresses: %w", err)
	}
	var owned []types.Address
	for _, a := range out.Addresses {
		if env.Owns(awsx.FromEC2Tags(a.Tags)) {
			owned = append(owned, a)
		}
	}
	return owned, nil
}

// convergeTags restores missing tags on the named resources and reports
// one Change for each.
func convergeTags[T any](ctx context.Context, env migration.Env, api ec2Tagger, kind, name string, items []T, get func(T) (string, []types.Tag)) error {
	for _, it := range items {
		id, tags := get(it)
		var c migration.Converge
		c.Tags(awsx.FromEC2Tags(tags), env.NameTags(name), tagEC2(ctx, api, id))
		if err := c.Apply(env, migration.Change{Kind: kind, Name: name, ID: id}); err != nil {
			return err
		}
	}
	return nil
}

// reportStrayNATs reports the env's live NAT gateways the spec no longer
// names (after a switch to NATSingle), so the plan shows them.
func reportStrayNATs(ctx context.Context, env migration.Env, api NATGatewaysAPI, want NATGateways) error {
	all, err := ownedNATs(ctx, env, api, env.Name("nat-*"))
	if err != nil {
		return err
	}
	for _, n := range all {
		id := aws.ToString(n.NatGatewayId)
		if n.State == types.NatGatewayStateDeleting || slices.ContainsFunc(want.Gateways, func(g NATGateway) bool { return g.ID == id }) {
			continue
		}
		report(env, KindNATGateway, awsx.FromEC2Tags(n.Tags)["Name"], id, migration.ActionNoop, nil, "not used in single mode; DeleteNATGateways removes it")
	}
	return nil
}

// DeleteNATGateways deletes every NAT gateway of the env (Name
// nat-*-<suffix> with the ownership tag, whatever the mode), waits until
// they are deleted, then releases the env's Elastic IPs (eip-nat-*-<suffix>).
// Look-alikes without the ownership tag are left alone; nothing found is a
// no-op.
func DeleteNATGateways(ctx context.Context, env migration.Env, api NATGatewaysAPI, spec NATGatewaysSpec) error {
	name := env.Name("nat-*")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete nat gateways %q: %w", name, err)
	}
	if err := deleteNATs(ctx, env, api, name); err != nil {
		return fmt.Errorf("delete nat gateways %q: %w", name, err)
	}
	return nil
}

func deleteNATs(ctx context.Context, env migration.Env, api NATGatewaysAPI, name string) error {
	nats, err := ownedNATs(ctx, env, api, name)
	if err != nil {
		return err
	}
	addrs, err := ownedAddresses(ctx, env, api, env.Name("eip-nat-*"))
	if err != nil {
		return err
	}
	if len(nats) == 0 && len(addrs) == 0 {
		env.ReportGone(KindNATGateway, name)
		return nil
	}
	for _, n := range nats {
		id := aws.ToString(n.NatGatewayId)
		if !env.DryRun {
			if n.State != types.NatGatewayStateDeleting {
				if _, err := api.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(id)}); err != nil && !awsx.IsNotFound(err) {
					return fmt.Errorf("delete %s: %w", id, err)
				}
			}
			var accept awsx.Acceptor[ec2.DescribeNatGatewaysInput, ec2.DescribeNatGatewaysOutput]
			ec2.NewNatGatewayDeletedWaiter(api, func(o *ec2.NatGatewayDeletedWaiterOptions) { accept = o.Retryable })
			if _, err := migration.Wait(ctx, env, "nat gateway "+id+" to be deleted", api.DescribeNatGateways, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}, accept, natTimeout); err != nil {
				return err
			}
		}
		report(env, KindNATGateway, awsx.FromEC2Tags(n.Tags)["Name"], id, migration.ActionDelete, nil, "")
	}
	for _, a := range addrs {
		id := aws.ToString(a.AllocationId)
		if !env.DryRun {
			if err := releaseAddress(ctx, env, api, id); err != nil {
				return err
			}
		}
		report(env, KindElasticIP, awsx.FromEC2Tags(a.Tags)["Name"], id, migration.ActionDelete, nil, "")
	}
	return nil
}
