package network_test

import (
	"context"
	"fmt"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// staticSecrets is a SecretReader for the example; real callers use
// network.SecretsManagerReader.
type staticSecrets map[string]string

func (s staticSecrets) SecretValue(_ context.Context, arn string) (string, error) { return s[arn], nil }

// Example composes the whole network as a runbook on the simulated cloud:
// independent groups run in parallel, each step takes its parents'
// outputs. A plan (dry run) first, then apply, then a plan that finds
// nothing to do; and the BGP plan for the on-premises routers.
func Example() {
	ctx := context.Background()
	cloud := fakecloud.New()
	report := &migration.Report{}
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}
	ec2c := cloud.EC2()
	secrets := staticSecrets{"arn:aws:secretsmanager:us-east-1:123456789012:secret:dx-bgp-AbCdEf": "bgp-md5-key-16180"}

	var (
		key      migration.Key
		vpc      network.VPC
		subnets  network.Subnets
		igw      network.InternetGateway
		nats     network.NATGateways
		routes   network.RouteTables
		vgw      network.VPNGateway
		resolver network.ResolverEndpoint
	)
	vpcSpec := network.VPCSpec{CIDR: "10.0.0.0/16"}
	subnetsSpec := func() network.SubnetsSpec {
		return network.SubnetsSpec{VPCID: vpc.ID, VPCCIDR: vpcSpec.CIDR, AZCount: 3, PublicPrefix: 24, PrivatePrefix: 20}
	}
	step := func(name string, deps []string, apply func(context.Context, migration.Env) error) migration.Step {
		return migration.Step{Name: name, DependsOn: deps, Apply: apply}
	}
	rb, err := migration.NewRunbook(migration.Options{},
		step("key", nil, func(ctx context.Context, env migration.Env) (err error) {
			key, err = migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
			return
		}),
		step("vpc", nil, func(ctx context.Context, env migration.Env) (err error) {
			vpc, err = network.EnsureVPC(ctx, env, ec2c, vpcSpec)
			return
		}),
		step("subnets", []string{"vpc"}, func(ctx context.Context, env migration.Env) (err error) {
			subnets, err = network.EnsureSubnets(ctx, env, ec2c, subnetsSpec())
			return
		}),
		step("internet-gateway", []string{"vpc"}, func(ctx context.Context, env migration.Env) (err error) {
			igw, err = network.EnsureInternetGateway(ctx, env, ec2c, network.InternetGatewaySpec{VPCID: vpc.ID})
			return
		}),
		step("security-groups", []string{"vpc"}, func(ctx context.Context, env migration.Env) error {
			_, err := network.EnsureSecurityGroups(ctx, env, ec2c, network.SecurityGroupsSpec{VPCID: vpc.ID, OnPremCIDR: "192.168.0.0/16", WebPort: 443, AppPort: 8080, DBPort: 5432, OnPremDBPort: 5432})
			return err
		}),
		step("flow-logs", []string{"vpc", "key"}, func(ctx context.Context, env migration.Env) error {
			_, err := network.EnsureFlowLogs(ctx, env, network.FlowLogsClients{EC2: ec2c, Logs: cloud.Logs(), IAM: cloud.IAM()}, network.FlowLogsSpec{VPCID: vpc.ID, KMSKeyARN: key.ARN, RetentionDays: 90})
			return err
		}),
		step("nat-gateways", []string{"subnets", "internet-gateway"}, func(ctx context.Context, env migration.Env) (err error) {
			nats, err = network.EnsureNATGateways(ctx, env, ec2c, network.NATGatewaysSpec{PublicSubnets: subnets.Public})
			return
		}),
		step("resolver", []string{"subnets"}, func(ctx context.Context, env migration.Env) (err error) {
			resolver, err = network.EnsureResolverEndpoint(ctx, env, network.ResolverClients{EC2: ec2c, Resolver: cloud.Resolver()}, network.ResolverEndpointSpec{VPCID: vpc.ID, OnPremCIDR: "192.168.0.0/16", Subnets: subnets.Private[:2]})
			return
		}),
		step("route-tables", []string{"nat-gateways"}, func(ctx context.Context, env migration.Env) (err error) {
			routes, err = network.EnsureRouteTables(ctx, env, ec2c, network.RouteTablesSpec{VPCID: vpc.ID, InternetGatewayID: igw.ID, PublicSubnets: subnets.Public, PrivateSubnets: subnets.Private, NATGatewayIDs: nats.ByAZ})
			return
		}),
		step("vpn-gateway", []string{"route-tables"}, func(ctx context.Context, env migration.Env) (err error) {
			vgw, err = network.EnsureVPNGateway(ctx, env, ec2c, network.VPNGatewaySpec{VPCID: vpc.ID, AmazonSideASN: 64512, RouteTableIDs: routes.PrivateIDs})
			return
		}),
		step("vpn", []string{"vpn-gateway", "key"}, func(ctx context.Context, env migration.Env) error {
			_, err := network.EnsureVPNConnection(ctx, env, network.VPNConnectionClients{EC2: ec2c, Logs: cloud.Logs()}, network.VPNConnectionSpec{
				VPNGatewayID: vgw.ID, AmazonSideASN: 64512, CustomerGatewayIP: "203.0.113.10", CustomerASN: 65010,
				OnPremCIDR: "192.168.0.0/16", VPCCIDR: vpcSpec.CIDR, KMSKeyARN: key.ARN, LogRetentionDays: 90,
				Tunnels: [2]network.TunnelSpec{{InsideCIDR: "169.254.10.0/30"}, {InsideCIDR: "169.254.11.0/30"}},
			})
			return err
		}),
		step("direct-connect", []string{"vpn-gateway"}, func(ctx context.Context, env migration.Env) error {
			_, err := network.EnsureDirectConnect(ctx, env, network.DirectConnectClients{DX: cloud.DirectConnect(), Secrets: secrets}, network.DirectConnectSpec{
				AmazonSideASN: 64513, VPNGatewayID: vgw.ID, VPCCIDR: vpcSpec.CIDR, // no connection yet: the VIF waits
			})
			return err
		}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, run := range []struct {
		what string
		do   func(context.Context, migration.Env) error
	}{{"plan:", rb.Plan}, {"apply:", rb.Apply}, {"plan again:", rb.Plan}} {
		*report = migration.Report{}
		if err := run.do(ctx, env); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(run.what, report.Summary())
	}
	fmt.Println("conditional forwarder targets:", resolver.IPs)

	bgp, err := network.PlanBGP(network.BGPPlanSpec{
		OnPremPrefixes: []string{"192.168.0.0/16"}, VPCCIDR: vpcSpec.CIDR, Primary: network.PathVPN,
		VPNAmazonASN: 64512, DXAmazonASN: 64513, CustomerASN: 65010,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(bgp.Text)
	// Output:
	// plan: 35 to create, 0 to update, 0 to delete, 1 unchanged.
	// apply: 35 to create, 0 to update, 0 to delete, 1 unchanged.
	// plan again: 0 to create, 0 to update, 0 to delete, 36 unchanged.
	// conditional forwarder targets: [10.0.0.204 10.0.16.204]
	// BGP plan: primary path Site-to-Site VPN, backup Direct Connect
	// On-premises ASN: 65010
	//
	// Rule: AWS routes to on-premises by longest prefix first; for the same prefix
	// it prefers Direct Connect over VPN. So the VPN carries more specific prefixes
	// than Direct Connect; when the VPN goes down they are withdrawn and Direct
	// Connect takes over.
	//
	// 1. Advertise to AWS over both VPN tunnels (AWS peer ASN 64512):
	//      192.168.0.0/17
	//      192.168.128.0/17
	// 2. Advertise to AWS over the Direct Connect private VIF (AWS peer ASN 64513):
	//      192.168.0.0/16
	// 3. Expect from AWS:
	//      over the VPN:            10.0.0.0/16
	//      over Direct Connect:     10.0.0.0/16
	// 4. Prefer the primary path for traffic to AWS:
	//      set local-preference 200 on routes learned over Site-to-Site VPN
	//      set local-preference 100 on routes learned over Direct Connect
}
