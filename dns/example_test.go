package dns_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// The cutover's DNS on the simulated cloud: a private zone in the VPC,
// blue/green records for two services, then a first 10 % step to green
// and a rollback.
func Example() {
	ctx := context.Background()
	cloud := fakecloud.New()
	report := &migration.Report{}
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}

	// The VPC comes from the network package; here it is made directly.
	vpc, _ := cloud.EC2().CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})

	zone, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: "corp.example.internal", VPCID: aws.ToString(vpc.Vpc.VpcId)})
	if err != nil {
		fmt.Println(err)
		return
	}
	spec := dns.RecordsSpec{
		ZoneID:   zone.ID,
		ZoneName: zone.Name,
		TTL:      60,
		Services: []dns.Service{
			{Name: "web", Blue: dns.Target{IPs: []string{"192.168.10.10"}}, Green: dns.Target{Alias: &dns.Alias{DNSName: "internal-web-1.us-east-1.elb.amazonaws.com", HostedZoneID: "Z35SXDOTRQ7X7K"}}},
			{Name: "api", Blue: dns.Target{IPs: []string{"192.168.20.10"}}, Green: dns.Target{IPs: []string{"10.0.1.10", "10.0.2.10"}}},
		},
	}
	records, err := dns.EnsureRecords(ctx, env, cloud.Route53(), spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("records:", records.Names)

	router, err := dns.NewRouter(env, cloud.Route53(), zone.ID, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []migration.Split{migration.GreenPercent(10), migration.AllBlue} {
		if _, err := router.Shift(ctx, step); err != nil {
			fmt.Println(err)
			return
		}
		split, err := router.Weights(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("split: %s (%.0f%% green)\n", split, split.GreenShare())
	}
	for _, c := range report.Changes() {
		fmt.Println(c.Action, c.Kind, c.Name)
	}
	// Output:
	// records: [web.corp.example.internal api.corp.example.internal]
	// split: blue 90 / green 10 (10% green)
	// split: blue 100 / green 0 (0% green)
	// create dns-records api.corp.example.internal
	// create dns-records web.corp.example.internal
	// create dns-zone corp.example.internal
	// update dns-weights corp.example.internal
	// update dns-weights corp.example.internal
}
