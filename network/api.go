package network

// EC2API is every EC2 operation the package uses: the union of the narrow
// interfaces of its Ensure and Delete functions. The SDK's *ec2.Client and
// the fake cloud's EC2 satisfy it; a caller composing the whole network
// (the example's runbook) can hold one value of this type.
type EC2API interface {
	VPCAPI
	SubnetsAPI
	InternetGatewayAPI
	NATGatewaysAPI
	RouteTablesAPI
	SecurityGroupsAPI
	FlowLogsEC2API
	VPNGatewayAPI
	VPNConnectionEC2API
}
