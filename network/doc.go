// Package network provisions the network half of a migration: the VPC
// that receives the workload, and (as the package grows) its subnets over
// several Availability Zones, internet and NAT gateways, route tables,
// security groups, flow logs, the Site-to-Site VPN with BGP, Direct
// Connect as the backup path and the Route 53 Resolver inbound endpoint.
//
// Every resource has an Ensure and a Delete function with one contract
// (see the cutover package documentation): the spec is validated before
// any call; the resource is found by its ownership tag and Name; missing
// resources are created with their tags in the create call; mutable
// fields converge and immutable ones are refused with an error; a
// converged resource costs no write; a dry run reads only; Delete touches
// only what carries the env's ownership tag.
package network
