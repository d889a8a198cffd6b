// Package network provisions the network half of a migration: the VPC
// that receives the workload over several Availability Zones, its subnets,
// internet and NAT gateways, route tables, security groups and flow logs;
// the Site-to-Site VPN with BGP to the datacenter; Direct Connect as the
// backup path; the Route 53 Resolver inbound endpoint on-premises DNS
// forwards to; and the BGP advertisement plan for the on-premises routers
// (PlanBGP).
//
// # The contract
//
// Every resource group has an Ensure and a Delete function with one
// contract (see the cutover package documentation): the spec is validated
// before any call, and an error names the field ("vpn.customerAsn: ...");
// resources are found by the env's ownership tag and Name (or name);
// missing ones are created with their tags in the create call and a
// deterministic client token where the API takes one (NAT gateways, route
// tables, flow logs, the Resolver endpoint's CreatorRequestId); mutable
// fields converge and immutable ones are refused with an error that says
// what to do; a converged resource costs no write; a dry run reads only
// and gives missing resources Pending IDs, and an Ensure whose parent ID
// is Pending reports a create without calling the parent's API. Delete
// finds what the env owns by tags and names alone (the spec's IDs are not
// needed, so a destroy works from an empty state), touches only what
// carries the ownership tag, is a no-op when the resources are gone, and
// waits out dependents (DependencyViolation) on the env clock.
//
// # Dependency graph
//
// Each arrow is an output another Ensure's spec takes. Steps on one line
// have no dependency on each other and can run in parallel.
//
//	migration.EnsureKey ─────────────── Key.ARN ───────────────┐
//	EnsureVPC ── VPC.ID ──┬─ EnsureSubnets ── Subnets ──┐      │
//	                      ├─ EnsureInternetGateway ─────┤      │
//	                      ├─ EnsureSecurityGroups       │      │
//	                      └─ EnsureFlowLogs ◄───────────┼──────┤ (Key.ARN)
//	Subnets.Public ──────── EnsureNATGateways ── NATGateways.ByAZ
//	VPC.ID, InternetGateway.ID, Subnets, NATGateways.ByAZ
//	                    ──► EnsureRouteTables ── RouteTables.PrivateIDs
//	VPC.ID, RouteTables.PrivateIDs
//	                    ──► EnsureVPNGateway ── VPNGateway.ID
//	VPNGateway.ID, Key.ARN ──► EnsureVPNConnection   (parallel with ↓)
//	VPNGateway.ID          ──► EnsureDirectConnect
//	VPC.ID, Subnets.Private ──► EnsureResolverEndpoint (parallel with the
//	                            NAT, route table and VPN steps)
//
// In order: key and VPC; then subnets, internet gateway, security groups
// and flow logs in parallel; NAT gateways and the Resolver endpoint; route
// tables; the VPN gateway; then the VPN connection and Direct Connect in
// parallel. PlanBGP is pure and needs only the spec.
//
// # Delete order
//
// The reverse of the graph: VPN connection and Direct Connect (VIF,
// association, gateway); the VPN gateway (propagation off, detached);
// route tables; the Resolver endpoint (its network interfaces leave the
// subnets and its security group); NAT gateways (waited until deleted),
// then their Elastic IPs; the internet gateway (detach fails while NAT
// addresses are still mapped, and is retried); security groups and flow
// logs; subnets; the VPC; the key last. Each Delete retries the
// DependencyViolation of a dependent that is still going away, so the
// order is a guide for speed, and a Delete run early converges once its
// dependents are gone (bounded by a timeout).
//
// # Secrets
//
// VPN pre-shared keys and the Direct Connect BGP key are Secrets Manager
// ARNs in the specs; their values come through a SecretReader and are
// sent to AWS and compared in constant time, never logged, reported or
// put in an error.
package network
