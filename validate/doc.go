// Package validate checks a migrated workload before the migration may
// advance: the application answers, the database is reachable over TLS,
// the services run and the file share is mounted — on every migrated
// server, through AWS Systems Manager.
//
// # Documents
//
// The checks (ApplicationHealth, DatabaseConnectivity, ServiceAvailability,
// FileStorage) are Go values that render schema 2.2 Command documents
// (CommandDocument, built with encoding/json, never from string templates).
// Every generated document is checked locally before it is sent:
// CheckSchema applies the schema rules (declared parameters, valid actions,
// unique step names, precondition form) and CheckInjection the rules that
// make shell injection through parameters impossible (allowed patterns
// without shell metacharacters, ENV_VAR interpolation, single-quoted
// fallbacks, no command tracing). Credentials never appear in a document,
// a parameter or an output: the database check reads them on the instance
// from a Secrets Manager ARN with the instance role (InstancePolicy).
//
// EnsureDocument creates a document or adds a version when the content
// differs — compared by the library's own ContentHash, since SSM's
// DocumentHash is not specified — and makes it the default version.
// EnsureAssociation keeps a State Manager association re-running the
// configuration check on a schedule. Both follow the library's Ensure
// contract: validation before any call, ownership by tag, one Change per
// resource, no write when converged, reads only in a dry run, and Delete
// touching only what the env owns.
//
// # Runs and the gate
//
// Run sends a document, at its pinned version, to the servers selected by
// tag, with the output in an encrypted CloudWatch Logs group, waits on the
// env clock, and returns a migration.ValidationResult with one
// InstanceResult per server (passed or not, with a bounded, redacted
// excerpt of its output) which it records through a Recorder (the
// tracking store). Passed and Gate decide whether the migration may
// advance: any failing server blocks it, and the error names every one.
//
// EnsureSuite, RunSuite and DeleteSuite compose all of it for one env
// from a Spec; Steps gives the same as runbook steps for plan, apply and
// destroy.
//
// # Local checks
//
// CheckHTTP, CheckTCP and ComparePostgres run from the operator's machine:
// an HTTPS endpoint with certificate verification, a TCP port, and row
// counts and checksums of tables between the source and target databases.
package validate
