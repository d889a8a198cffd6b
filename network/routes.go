package network

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// RouteTablesAPI is the part of the EC2 client EnsureRouteTables and
// DeleteRouteTables use.
type RouteTablesAPI interface {
	CreateRouteTable(context.Context, *ec2.CreateRouteTableInput, ...func(*ec2.Options)) (*ec2.CreateRouteTableOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	CreateRoute(context.Context, *ec2.CreateRouteInput, ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error)
	ReplaceRoute(context.Context, *ec2.ReplaceRouteInput, ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error)
	AssociateRouteTable(context.Context, *ec2.AssociateRouteTableInput, ...func(*ec2.Options)) (*ec2.AssociateRouteTableOutput, error)
	ReplaceRouteTableAssociation(context.Context, *ec2.ReplaceRouteTableAssociationInput, ...func(*ec2.Options)) (*ec2.ReplaceRouteTableAssociationOutput, error)
	DisassociateRouteTable(context.Context, *ec2.DisassociateRouteTableInput, ...func(*ec2.Options)) (*ec2.DisassociateRouteTableOutput, error)
	DeleteRouteTable(context.Context, *ec2.DeleteRouteTableInput, ...func(*ec2.Options)) (*ec2.DeleteRouteTableOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// KindRouteTable is the Change kind of a route table.
const KindRouteTable = "route-table"

// defaultRoute is the destination every table of the env manages.
const defaultRoute = "0.0.0.0/0"

// RouteTablesSpec describes the route tables: one public table routing
// to the internet gateway for all public subnets, and one private table
// per zone routing to that zone's NAT gateway.
type RouteTablesSpec struct {
	// VPCID is the VPC (VPC.ID); required by Ensure.
	VPCID string
	// InternetGatewayID is the public tables' default route target
	// (InternetGateway.ID); required by Ensure.
	InternetGatewayID string
	// PublicSubnets and PrivateSubnets are Subnets.Public and
	// Subnets.Private.
	PublicSubnets, PrivateSubnets []Subnet
	// NATGatewayIDs maps every private subnet's zone to the NAT gateway it
	// routes through (NATGateways.ByAZ).
	NATGatewayIDs map[string]string
}

// Validate checks the spec: IDs well formed and a NAT gateway for every
// private subnet's zone.
func (s RouteTablesSpec) Validate() error {
	errs := []error{
		checkID("routeTables.vpcId", s.VPCID, "vpc-"),
		checkID("routeTables.internetGatewayId", s.InternetGatewayID, "igw-"),
		checkSubnets("routeTables.publicSubnets", s.PublicSubnets),
		checkSubnets("routeTables.privateSubnets", s.PrivateSubnets),
	}
	for _, az := range slices.Sorted(mapKeys(s.NATGatewayIDs)) {
		errs = append(errs, checkID("routeTables.natGatewayIds["+az+"]", s.NATGatewayIDs[az], "nat-"))
	}
	for i, sn := range s.PrivateSubnets {
		if len(s.NATGatewayIDs) > 0 && s.NATGatewayIDs[sn.AZ] == "" {
			errs = append(errs, fmt.Errorf("routeTables.natGatewayIds: no NAT gateway for zone %s of privateSubnets[%d]", sn.AZ, i))
		}
	}
	return errors.Join(errs...)
}

// RouteTables are the ensured route tables.
type RouteTables struct {
	PublicID string
	// PrivateByAZ maps each zone to its private table.
	PrivateByAZ map[string]string
	// PrivateIDs are the private tables in zone order (the tables the VGW
	// propagates routes to).
	PrivateIDs []string
}

// tableSpec is one table to converge.
type tableSpec struct {
	name      string
	target    string // igw-... or nat-...
	subnets   []Subnet
	public    bool
	privateAZ string
}

func routeTarget(r types.Route) string {
	if r.NatGatewayId != nil {
		return aws.ToString(r.NatGatewayId)
	}
	return aws.ToString(r.GatewayId)
}

// EnsureRouteTables makes the env's route tables exist and converge:
// "rt-public-<suffix>" with 0.0.0.0/0 to the internet gateway, associated
// with every public subnet, and "rt-private-<az>-<suffix>" with 0.0.0.0/0
// to the zone's NAT gateway, associated with that zone's private subnet.
//
// Tables are found by the ownership tag and Name and created with their
// tags and a client token derived from the env and the name. The default
// route is created, or replaced when it points elsewhere or at a gone
// target (blackhole); other routes (the local route, routes propagated
// from the VGW, routes someone else added) are left alone. A subnet
// associated with another table is moved to this one
// (ReplaceRouteTableAssociation). A table in another VPC than the spec's
// is refused. Idempotent; a converged table costs one read.
func EnsureRouteTables(ctx context.Context, env migration.Env, api RouteTablesAPI, spec RouteTablesSpec) (RouteTables, error) {
	name := env.Name("rt-*")
	if err := migration.Validate(env, spec); err != nil {
		return RouteTables{}, fmt.Errorf("ensure route tables %q: %w", name, err)
	}
	ids := []string{"routeTables.vpcId", spec.VPCID, "routeTables.internetGatewayId", spec.InternetGatewayID}
	for _, az := range slices.Sorted(mapKeys(spec.NATGatewayIDs)) {
		ids = append(ids, "routeTables.natGatewayIds["+az+"]", spec.NATGatewayIDs[az])
	}
	ids = append(ids, pairs("routeTables.publicSubnets.id", subnetIDs(spec.PublicSubnets))...)
	ids = append(ids, pairs("routeTables.privateSubnets.id", subnetIDs(spec.PrivateSubnets))...)
	check := []error{required("routeTables.vpcId", spec.VPCID, "routeTables.internetGatewayId", spec.InternetGatewayID), realIDs(env, ids...)}
	if len(spec.PublicSubnets) == 0 || len(spec.PrivateSubnets) == 0 {
		check = append(check, errors.New("routeTables.publicSubnets, routeTables.privateSubnets: required"))
	}
	if err := errors.Join(check...); err != nil {
		return RouteTables{}, fmt.Errorf("ensure route tables %q: %w", name, err)
	}
	tables := []tableSpec{{name: env.Name("rt-public"), target: spec.InternetGatewayID, subnets: spec.PublicSubnets, public: true}}
	for _, sn := range spec.PrivateSubnets {
		tables = append(tables, tableSpec{name: env.Name("rt-private-" + sn.AZ), target: spec.NATGatewayIDs[sn.AZ], subnets: []Subnet{sn}, privateAZ: sn.AZ})
	}
	out := RouteTables{PrivateByAZ: map[string]string{}}
	for _, t := range tables {
		id, err := ensureRouteTable(ctx, env, api, spec.VPCID, t)
		if err != nil {
			return RouteTables{}, fmt.Errorf("ensure route table %q: %w", t.name, err)
		}
		if t.public {
			out.PublicID = id
		} else {
			out.PrivateByAZ[t.privateAZ] = id
			out.PrivateIDs = append(out.PrivateIDs, id)
		}
	}
	return out, nil
}

func mapKeys(m map[string]string) iter.Seq[string] { return maps.Keys(m) }

func ensureRouteTable(ctx context.Context, env migration.Env, api RouteTablesAPI, vpcID string, t tableSpec) (string, error) {
	createDiff := []migration.FieldDiff{{Field: "route " + defaultRoute, To: t.target}, {Field: "subnets", To: strings.Join(subnetIDs(t.subnets), ",")}}
	if migration.IsPending(vpcID) {
		id := migration.Pending(t.name)
		report(env, KindRouteTable, t.name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	found, err := findRouteTable(ctx, env, api, t.name)
	if err != nil {
		return "", err
	}
	created := false
	if found == nil {
		if env.DryRun {
			id := migration.Pending(t.name)
			report(env, KindRouteTable, t.name, id, migration.ActionCreate, createDiff, "")
			return id, nil
		}
		if found, err = createRouteTable(ctx, env, api, vpcID, t.name); err != nil {
			return "", err
		}
		created = true
	}
	id := aws.ToString(found.RouteTableId)
	if v := aws.ToString(found.VpcId); v != vpcID {
		return "", fmt.Errorf("vpc is immutable: %s is in %s, the spec wants %s", id, v, vpcID)
	}

	var c migration.Converge
	// A table, gateway or subnet just created may not be visible yet.
	retry := func(write func(context.Context) error) func() error {
		return func() error {
			return env.Retry(ctx, []string{"InvalidRouteTableID.NotFound", "InvalidNatGatewayID.NotFound", "NatGatewayNotFound", "InvalidInternetGatewayID.NotFound", "InvalidSubnetID.NotFound"}, write)
		}
	}
	// The default route.
	var have *types.Route
	for _, r := range found.Routes {
		if aws.ToString(r.DestinationCidrBlock) == defaultRoute {
			r := r
			have = &r
		}
	}
	switch {
	case have == nil:
		c.Fix("route "+defaultRoute, "", t.target, retry(func(ctx context.Context) error {
			_, err := api.CreateRoute(ctx, routeInput(id, t.target))
			return err
		}))
	case routeTarget(*have) != t.target || have.State == types.RouteStateBlackhole:
		from := routeTarget(*have)
		if have.State == types.RouteStateBlackhole {
			from += " (blackhole)"
		}
		c.Fix("route "+defaultRoute, from, t.target, retry(func(ctx context.Context) error {
			in := routeInput(id, t.target)
			_, err := api.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: in.RouteTableId, DestinationCidrBlock: in.DestinationCidrBlock, GatewayId: in.GatewayId, NatGatewayId: in.NatGatewayId})
			return err
		}))
	}
	// Associations.
	for _, sn := range t.subnets {
		if slices.ContainsFunc(found.Associations, func(a types.RouteTableAssociation) bool { return aws.ToString(a.SubnetId) == sn.ID }) {
			continue
		}
		if migration.IsPending(sn.ID) {
			c.Differs(migration.FieldDiff{Field: "subnet " + sn.Name, To: "associated"}) // a plan: associated once the subnet exists
			continue
		}
		other, assoc, err := subnetAssociation(ctx, api, sn.ID)
		if err != nil {
			return "", err
		}
		if assoc == "" {
			c.Fix("subnet "+sn.ID, "", "associated", retry(func(ctx context.Context) error {
				_, err := api.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(id), SubnetId: aws.String(sn.ID)})
				return err
			}))
		} else {
			c.Fix("subnet "+sn.ID, "associated with "+other, "associated", retry(func(ctx context.Context) error {
				_, err := api.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: aws.String(assoc), RouteTableId: aws.String(id)})
				return err
			}))
		}
	}
	c.Tags(awsx.FromEC2Tags(found.Tags), env.NameTags(t.name), func(missing map[string]string) error {
		return retry(func(ctx context.Context) error {
			_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: awsx.EC2Tags(missing)})
			return err
		})()
	})
	if created { // its route and subnets, just set: reported as the create
		if err := c.Run(env); err != nil {
			return "", fmt.Errorf("update %s: %w", id, err)
		}
		report(env, KindRouteTable, t.name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	if err := c.Apply(env, migration.Change{Kind: KindRouteTable, Name: t.name, ID: id}); err != nil {
		return "", fmt.Errorf("update %s: %w", id, err)
	}
	return id, nil
}

// createRouteTable creates a table with a client token derived from the
// env, the name and the VPC, and checks that the table it gets exists:
// EC2 remembers a token longer than a table deleted by hand lives, and
// answers a repeated request with the gone table. Then the token is
// salted with that table's ID (deterministic, so a retry after a crash
// still returns the table the first attempt made).
func createRouteTable(ctx context.Context, env migration.Env, api RouteTablesAPI, vpcID, name string) (*types.RouteTable, error) {
	token := clientToken(env, name, vpcID)
	for attempt := 0; ; attempt++ {
		out, err := api.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{
			VpcId: aws.String(vpcID), ClientToken: aws.String(token),
			TagSpecifications: awsx.TagSpec(types.ResourceTypeRouteTable, env.NameTags(name)),
		})
		if err != nil {
			return nil, fmt.Errorf("create: %w", err)
		}
		id := aws.ToString(out.RouteTable.RouteTableId)
		// A new table may not be visible for a moment; a gone one never is.
		err = env.Retry(ctx, []string{"InvalidRouteTableID.NotFound"}, func(ctx context.Context) error {
			_, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
			return err
		})
		switch {
		case err == nil:
			return out.RouteTable, nil
		case awsx.HasCode(err, "InvalidRouteTableID.NotFound") && attempt < 3:
			token = clientToken(env, name, vpcID, id)
		default:
			return nil, fmt.Errorf("create: table %s: %w", id, err)
		}
	}
}

func routeInput(tableID, target string) *ec2.CreateRouteInput {
	in := &ec2.CreateRouteInput{RouteTableId: aws.String(tableID), DestinationCidrBlock: aws.String(defaultRoute)}
	if strings.HasPrefix(target, "nat-") {
		in.NatGatewayId = aws.String(target)
	} else {
		in.GatewayId = aws.String(target)
	}
	return in
}

// subnetAssociation returns the table a subnet is explicitly associated
// with and the association ID, or "", "" (the main table's implicit
// association).
func subnetAssociation(ctx context.Context, api RouteTablesAPI, subnetID string) (string, string, error) {
	out, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{awsx.Filter("association.subnet-id", subnetID)}})
	if err != nil {
		return "", "", fmt.Errorf("describe route tables of %s: %w", subnetID, err)
	}
	for _, rt := range out.RouteTables {
		for _, a := range rt.Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				return aws.ToString(rt.RouteTableId), aws.ToString(a.RouteTableAssociationId), nil
			}
		}
	}
	return "", "", nil
}

// findRouteTable returns the env's table of that Name, nil when there is
// none, or an error when more than one carries the ownership tag and Name.
func findRouteTable(ctx context.Context, env migration.Env, api RouteTablesAPI, name string) (*types.RouteTable, error) {
	tables, err := ownedRouteTables(ctx, env, api, name)
	if err != nil {
		return nil, err
	}
	switch len(tables) {
	case 0:
		return nil, nil
	case 1:
		return &tables[0], nil
	}
	return nil, fmt.Errorf("%d route tables carry %s=%s and Name=%s; expected one: delete the extras", len(tables), migration.OwnerTag, env.Suffix, name)
}

func ownedRouteTables(ctx context.Context, env migration.Env, api RouteTablesAPI, names ...string) ([]types.RouteTable, error) {
	filters := []types.Filter{awsx.TagFilter(migration.OwnerTag, env.Suffix), awsx.TagFilter("Name", names...)}
	var out []types.RouteTable
	p := ec2.NewDescribeRouteTablesPaginator(api, &ec2.DescribeRouteTablesInput{Filters: filters, MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe route tables: %w", err)
		}
		for _, rt := range page.RouteTables {
			if env.Owns(awsx.FromEC2Tags(rt.Tags)) {
				out = append(out, rt)
			}
		}
	}
	return out, nil
}

// DeleteRouteTables deletes the env's route tables (rt-public-<suffix> and
// rt-private-*-<suffix> with the ownership tag): it removes their subnet
// associations, then the tables. Look-alikes without the ownership tag
// are left alone; nothing found is a no-op.
func DeleteRouteTables(ctx context.Context, env migration.Env, api RouteTablesAPI, spec RouteTablesSpec) error {
	name := env.Name("rt-*")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete route tables %q: %w", name, err)
	}
	tables, err := ownedRouteTables(ctx, env, api, env.Name("rt-public"), env.Name("rt-private-*"))
	if err != nil {
		return fmt.Errorf("delete route tables %q: %w", name, err)
	}
	if len(tables) == 0 {
		env.ReportGone(KindRouteTable, name)
		return nil
	}
	for _, rt := range tables {
		id, tname := aws.ToString(rt.RouteTableId), awsx.FromEC2Tags(rt.Tags)["Name"]
		if !env.DryRun {
			for _, a := range rt.Associations {
				if aws.ToBool(a.Main) {
					return fmt.Errorf("delete route table %q: %s is the VPC's main table; make another table main first", tname, id)
				}
				if _, err := api.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId}); err != nil && !awsx.IsNotFound(err) {
					return fmt.Errorf("delete route table %q: disassociate %s: %w", tname, aws.ToString(a.SubnetId), err)
				}
			}
			err := deleteRetrying(ctx, env, "route table "+id, func(ctx context.Context) error {
				_, err := api.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(id)})
				return err
			})
			if err != nil {
				return fmt.Errorf("delete route table %q: %w", tname, err)
			}
		}
		report(env, KindRouteTable, tname, id, migration.ActionDelete, nil, "")
	}
	return nil
}
