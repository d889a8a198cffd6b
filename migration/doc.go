// Package migration is the spine of cutover: what every domain package
// builds on, and the parts of a migration that belong to no single AWS
// domain.
//
//   - Env: one migration environment — its suffix (every resource is named
//     "<resource-type>-<suffix>"), Region, account, tags (with the ownership
//     tag cutover:env=<suffix> that alone makes a resource the env's), dry
//     run, clock, change reporter and logger.
//   - Change and Report: every decision of every Ensure and Delete, rendered
//     as the plan table or JSON.
//   - Converge: how every Ensure converges a resource that exists — the
//     fields that differ (the env's tags among them) and the writes that fix
//     them, applied unless a dry run and reported as one update or noop.
//   - Pending: placeholder IDs that let a dry run plan a whole graph.
//   - Phase: the migration lifecycle and its legal transitions.
//   - Runbook: a DAG of steps, applied in parallel (bounded), planned as a
//     dry run, destroyed in reverse order, emitting progress events.
//   - PolicyDocument: IAM, key, topic and bucket policies from Go types,
//     compared semantically and checked for least privilege.
//   - EnsureKey, EnsureRole, EnsureLogGroup: the env's KMS key, IAM roles
//     and encrypted log groups that the domain packages share.
//   - Server replication: the MGN roles and service — AWS Application
//     Migration Service is the default; CloudEndure, retired in most
//     Regions and succeeded by MGN, is supported for the accounts that
//     still run it — the
//     replication template, the status reader and the wave steps (test
//     launch, ready, cutover, finalize) with bounded concurrency.
//   - The file share: an encrypted, TLS-only target — an S3 bucket or an
//     EFS file system with its mount targets — which destroy refuses to
//     empty unless told to; the DataSync role, locations and task, and
//     incremental transfers with their progress.
//   - The value types that cross package boundaries (Split, ReplicationLag,
//     Notification, HistoryEntry, ServerStatus, ...): domain packages never
//     import each other, so they meet in these.
//
// Every Ensure function follows one contract; see the cutover package
// documentation.
package migration
