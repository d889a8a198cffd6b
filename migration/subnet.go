package migration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// SubnetReader is the part of the EC2 client VerifyPrivateSubnet uses.
type SubnetReader interface {
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
}

// ErrPublicSubnet is wrapped by VerifyPrivateSubnet's error for a subnet
// that is not private.
var ErrPublicSubnet = errors.New("not a private subnet")

// VerifyPrivateSubnet checks that a subnet is private before replication
// servers are put in it (the MGN template's and CloudEndure's staging
// subnet): it must not give instances public IPv4 addresses on launch, and
// the route table that applies to it — its explicit association, or else
// the VPC's main table — must route no destination to an internet gateway
// (a private subnet reaches the internet, if at all, through a NAT
// gateway). The staging subnet receives the replicated disks of every
// server; a public one puts the replication servers on the internet.
//
// It only reads. A pending subnet ID (dry run) is not checked. An error
// wrapping ErrPublicSubnet names the subnet and what makes it public.
func VerifyPrivateSubnet(ctx context.Context, api SubnetReader, subnetID string) error {
	if IsPending(subnetID) {
		return nil
	}
	if !subnetIDRe.MatchString(subnetID) {
		return fmt.Errorf("verify subnet: %q is not a subnet ID", subnetID)
	}
	out, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetID}})
	if err != nil {
		return fmt.Errorf("verify subnet %s: %w", subnetID, err)
	}
	if len(out.Subnets) != 1 {
		return fmt.Errorf("verify subnet %s: %d subnets match", subnetID, len(out.Subnets))
	}
	sn := out.Subnets[0]
	if aws.ToBool(sn.MapPublicIpOnLaunch) {
		return fmt.Errorf("verify subnet %s: it gives instances public IP addresses on launch (MapPublicIpOnLaunch): %w", subnetID, ErrPublicSubnet)
	}
	rt, err := effectiveRouteTable(ctx, api, subnetID, aws.ToString(sn.VpcId))
	if err != nil {
		return fmt.Errorf("verify subnet %s: %w", subnetID, err)
	}
	for _, r := range rt.Routes {
		if gw := aws.ToString(r.GatewayId); strings.HasPrefix(gw, "igw-") {
			dest := cmp.Or(aws.ToString(r.DestinationCidrBlock), aws.ToString(r.DestinationIpv6CidrBlock), aws.ToString(r.DestinationPrefixListId))
			return fmt.Errorf("verify subnet %s: its route table %s routes %s to internet gateway %s: %w", subnetID, aws.ToString(rt.RouteTableId), dest, gw, ErrPublicSubnet)
		}
	}
	return nil
}

// effectiveRouteTable returns the route table that applies to a subnet:
// the one explicitly associated with it, or else the VPC's main table.
func effectiveRouteTable(ctx context.Context, api SubnetReader, subnetID, vpcID string) (ec2types.RouteTable, error) {
	for _, filters := range [][]ec2types.Filter{
		{awsx.Filter("association.subnet-id", subnetID)},
		{awsx.Filter("vpc-id", vpcID), awsx.Filter("association.main", "true")},
	} {
		p := ec2.NewDescribeRouteTablesPaginator(api, &ec2.DescribeRouteTablesInput{Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return ec2types.RouteTable{}, fmt.Errorf("route tables: %w", err)
			}
			if len(page.RouteTables) > 0 {
				return page.RouteTables[0], nil
			}
		}
	}
	return ec2types.RouteTable{}, fmt.Errorf("no route table applies to it (VPC %s has no main route table)", vpcID)
}
