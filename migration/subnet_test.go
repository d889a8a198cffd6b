package migration_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// subnetWorld is a VPC with an internet gateway and a subnet per case.
type subnetWorld struct {
	ctx   context.Context
	t     *testing.T
	cloud *fakecloud.Cloud
	vpc   *string
	igw   *string
	n     int
}

func newSubnetWorld(t *testing.T) *subnetWorld {
	ctx := context.Background()
	cloud := fakecloud.New()
	e := cloud.EC2()
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	igw, err := e.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	require.NoError(t, err)
	_, err = e.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId})
	require.NoError(t, err)
	return &subnetWorld{ctx: ctx, t: t, cloud: cloud, vpc: vpc.Vpc.VpcId, igw: igw.InternetGateway.InternetGatewayId}
}

// subnet makes a subnet; with routes, an explicitly associated route
// table holding them (destination → gateway, "igw" for the VPC's).
func (w *subnetWorld) subnet(publicIPs bool, routes map[string]string) string {
	e := w.cloud.EC2()
	w.n++
	sn, err := e.CreateSubnet(w.ctx, &ec2.CreateSubnetInput{VpcId: w.vpc, CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", w.n)), AvailabilityZone: aws.String("us-east-1a")})
	require.NoError(w.t, err)
	if publicIPs {
		_, err := e.ModifySubnetAttribute(w.ctx, &ec2.ModifySubnetAttributeInput{SubnetId: sn.Subnet.SubnetId, MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
		require.NoError(w.t, err)
	}
	if routes != nil {
		rt, err := e.CreateRouteTable(w.ctx, &ec2.CreateRouteTableInput{VpcId: w.vpc})
		require.NoError(w.t, err)
		w.routes(rt.RouteTable.RouteTableId, routes)
		_, err = e.AssociateRouteTable(w.ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: sn.Subnet.SubnetId})
		require.NoError(w.t, err)
	}
	return aws.ToString(sn.Subnet.SubnetId)
}

func (w *subnetWorld) routes(table *string, routes map[string]string) {
	for dest, gw := range routes {
		if gw == "igw" {
			gw = aws.ToString(w.igw)
		}
		_, err := w.cloud.EC2().CreateRoute(w.ctx, &ec2.CreateRouteInput{RouteTableId: table, DestinationCidrBlock: aws.String(dest), GatewayId: aws.String(gw)})
		require.NoError(w.t, err)
	}
}

// mainTable returns the VPC's main route table.
func (w *subnetWorld) mainTable() *string {
	out, err := w.cloud.EC2().DescribeRouteTables(w.ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{aws.ToString(w.vpc)}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	require.NoError(w.t, err)
	require.Len(w.t, out.RouteTables, 1)
	return out.RouteTables[0].RouteTableId
}

func TestVerifyPrivateSubnet(t *testing.T) {
	tests := []struct {
		name    string
		subnet  func(w *subnetWorld) string
		wantErr string // "" for private
		public  bool
	}{
		{"own table without internet route", func(w *subnetWorld) string { return w.subnet(false, map[string]string{}) }, "", false},
		{"main table, local only", func(w *subnetWorld) string { return w.subnet(false, nil) }, "", false},
		{"own table with a default route to the internet gateway", func(w *subnetWorld) string {
			return w.subnet(false, map[string]string{"0.0.0.0/0": "igw"})
		}, "routes 0.0.0.0/0 to internet gateway igw-", true},
		{"own table with a narrow route to the internet gateway", func(w *subnetWorld) string {
			return w.subnet(false, map[string]string{"198.51.100.0/24": "igw"})
		}, "routes 198.51.100.0/24 to internet gateway igw-", true},
		{"public IPs on launch", func(w *subnetWorld) string { return w.subnet(true, map[string]string{}) }, "public IP addresses on launch", true},
		{"main table routing to the internet", func(w *subnetWorld) string {
			w.routes(w.mainTable(), map[string]string{"0.0.0.0/0": "igw"})
			return w.subnet(false, nil)
		}, "to internet gateway", true},
		{"own table overrides a public main table", func(w *subnetWorld) string {
			w.routes(w.mainTable(), map[string]string{"0.0.0.0/0": "igw"})
			return w.subnet(false, map[string]string{})
		}, "", false},
		{"no such subnet", func(*subnetWorld) string { return "subnet-0123456789abcdef0" }, "verify subnet subnet-0123456789abcdef0", false},
		{"not a subnet ID", func(*subnetWorld) string { return "sg-0123" }, `"sg-0123" is not a subnet ID`, false},
		{"pending in a dry run", func(*subnetWorld) string { return migration.Pending("subnet-private-a") }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSubnetWorld(t)
			id := tt.subnet(w)
			mark := len(w.cloud.Calls())
			err := migration.VerifyPrivateSubnet(w.ctx, w.cloud.EC2(), id)
			for _, c := range w.cloud.Calls()[mark:] {
				assert.False(t, c.Write, "it only reads: %s", c.Op)
			}
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			assert.Equal(t, tt.public, errors.Is(err, migration.ErrPublicSubnet))
		})
	}
}
