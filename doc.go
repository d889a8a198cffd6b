// Package cutover is a library of migration primitives for moving an
// on-premises monolith to AWS with minimal downtime and the ability to roll
// back at any moment: a web tier, API services, application servers, a
// PostgreSQL database and a file share, moved over a Site-to-Site VPN (with
// Direct Connect as the backup path), replicated continuously, validated,
// and cut over by weighted DNS in steps that roll back on their own when
// the new side misbehaves.
//
// # Packages
//
//   - migration: the spine. Env (naming, tags, clock, reporting), Change
//     and Report, the Phase state machine, the Runbook (a DAG of steps that
//     plans, applies and destroys in parallel), the env's KMS key, IAM roles,
//     log groups, and server replication (MGN, CloudEndure) and DataSync.
//   - network: VPC, subnets, gateways, routes, security groups, flow logs,
//     Site-to-Site VPN with BGP, Direct Connect, the Resolver inbound
//     endpoint and the BGP advertisement plan.
//   - dms: the replication instance, TLS endpoints with Secrets Manager
//     credentials, full-load + CDC and reverse CDC tasks, their lag, and
//     the database switch (SwitchToReverse) behind a write fence on the
//     source (PostgresFence), so there is one writer at a time.
//   - dns: the private hosted zone and the weighted blue/green records that
//     move traffic, one atomic change batch at a time.
//   - tracking: the migration's state in DynamoDB with guarded phase
//     transitions and a lease, SNS notifications and the dashboard.
//   - rollback: the policy engine, alarms, the cutover controller, the
//     rollback executor and its Lambda, reached by the composite alarm
//     directly and through an EventBridge rule.
//   - validate: SSM validation documents, runs and associations.
//
// The example program examples/fullstack composes them into the complete
// platform; with -sim it runs on a simulated cloud and needs no account.
//
// # The Ensure contract
//
// Every resource has an Ensure and a Delete function of one shape:
//
//	func EnsureVPC(ctx context.Context, env migration.Env, api VPCAPI, spec VPCSpec) (VPC, error)
//	func DeleteVPC(ctx context.Context, env migration.Env, api VPCAPI, spec VPCSpec) error
//
// Ensure validates the spec before any call and names the bad field; finds
// the resource by its unique name or by the ownership tag cutover:env=<suffix>;
// creates what is missing (tags in the create call, deterministic client
// tokens where the API takes one, so a crash never makes a duplicate);
// converges what is mutable and refuses to change what is immutable; and
// reports one migration.Change per resource. A converged resource costs no
// write call. With env.DryRun it only reads, and a resource that would be
// created gets a pending ID so that everything downstream plans too.
// Delete removes only what carries the env's ownership tag, is a no-op when
// the resource is gone and waits out dependencies. Throttling is the SDK
// retryer's job (adaptive mode); eventual consistency is absorbed with
// bounded retries on the env's clock, which tests and the simulated cloud
// control, so nothing ever sleeps for real in a test.
//
// Each package declares narrow client interfaces holding only the methods
// it calls; the aws-sdk-go-v2 clients and the simulated cloud
// (internal/fakecloud) both satisfy them.
package cutover
