// Package dms moves the on-premises PostgreSQL 13 database to RDS for
// PostgreSQL 16 or 17 with AWS Database Migration Service: a Multi-AZ
// replication instance, TLS endpoints whose credentials live only in
// Secrets Manager, a forward task (full load + CDC) and a reverse task
// (CDC only, started at cutover) so that a rollback loses no write made
// on AWS, and Lag, the one value the cutover gates, the rollback policy
// and the dashboard read.
//
// # Resources and their dependencies
//
// Every resource has an Ensure and a Delete with the library's contract
// (see the cutover package): the spec is validated before any call; the
// resource is found by its name (DMS identifiers, RDS identifiers, secret
// and role names are unique in an account and Region) and adopted only
// with the env's ownership tag; mutable fields converge, immutable ones
// are refused with an error; a converged resource costs reads only; a dry
// run reads only and reports pending IDs; a pending parent makes an
// Ensure report a create without calling AWS; Delete touches only what
// the env owns and waits out its dependents.
//
//	dms-vpc-role, dms-cloudwatch-logs-role   (account-wide, shared, never deleted)
//	        │
//	dms-subnet-group ◄── private subnet IDs (network, ≥ 2 zones)
//	        │
//	dms-instance ◄── security group IDs (network sg-dms), env key ARN
//	        │
//	        │        rds-subnet-group ◄── private subnet IDs
//	        │        rds-params (rds.force_ssl=1, rds.logical_replication=1)
//	        │              │
//	        │        rds-target ◄── env key ARN, target security groups
//	        │              │
//	        │        dms-target-endpoint secret (master user + host/port)
//	        │              │         source secret (operator's, inspected)
//	        │              ▼              ▼
//	        │        dms-secrets-role (GetSecretValue on exactly both,
//	        │              │          kms:Decrypt on their keys)
//	        │              │     dms-cert-source, dms-cert-target (CA PEM)
//	        │              ▼              ▼
//	        │        endpoints: dms-source, dms-target (forward),
//	        │                   dms-reverse-source, dms-reverse-target
//	        ▼              ▼
//	dms-task-forward (full-load-and-cdc), dms-task-reverse (cdc)
//
// Steps returns exactly this graph as runbook steps. Deletes run in the
// reverse order: the tasks (stopped first), the endpoints (once no task
// uses them), the certificates and the secrets role, the target secret
// (scheduled for deletion with a 7-day recovery window), the RDS instance
// (a final snapshot is taken and kept unless SkipFinalSnapshot), its
// parameter and subnet groups, the replication instance (refused while it
// still has tasks), its subnet group. The service roles stay: other envs
// and tools share them.
//
// # Secrets
//
// A password never appears in a spec, a log line, an error, a Change or a
// plan. The on-premises source's secret is created by the operator; the
// library only checks its shape (InspectSecret names missing fields,
// never values). The RDS target's master password is generated and kept
// by RDS (ManageMasterUserPassword); RDS's secret lacks the host and port
// DMS needs, so EnsureTargetSecret copies it, with the instance endpoint,
// into "dms-target-endpoint-<suffix>" — recognising a converged copy by a
// version token derived from the RDS secret's version, without reading
// either value, and re-syncing after RDS rotates the password.
//
// # Running the migration
//
// EnsureTask never starts a task. Start starts the forward task with the
// start type its history calls for (start-replication first,
// resume-processing after); at cutover SwitchToReverse freezes the
// source's application writes through a Fence (PostgresFence for the real
// on-premises PostgreSQL), waits until the forward task has confirmed
// them, stops it and starts the reverse one fresh; StartReverse is the
// rollback executor's idempotent "make sure the reverse task runs",
// resuming from its checkpoint. Running both directions at once would
// echo every change back, so StartReverse refuses while the forward task
// runs.
//
// After a rollback the on-premises database holds the writes the reverse
// task applied; before cutting over again, reload the forward task
// (Reload) or verify the target, because resuming it would capture those
// rows again.
//
// # Operational prerequisites (not API calls)
//
// The source needs wal_level=logical, max_replication_slots and
// max_wal_senders above the number of tasks, wal_sender_timeout of 0 or at
// least 10 s, and pg_hba.conf lines for Instance.PrivateIPs on "host all"
// and "host replication"; tables need primary keys for CDC and
// validation. Deleting a task leaves its replication slot on the source:
// drop it by hand. See AWS-FACTS §1.
package dms
