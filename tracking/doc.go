// Package tracking keeps a migration's state where every participant can
// see it and none can corrupt it: a DynamoDB table with guarded phase
// transitions, an event history and a lease; an SNS topic and a Notifier
// for the operators; a CloudWatch dashboard and its progress metrics.
//
// # Resources
//
//   - EnsureTable / DeleteTable: the table "migration-tracking-<suffix>",
//     on-demand, encrypted with the env's KMS key (never the AWS owned
//     key), point-in-time recovery on, deletion protection off by default
//     so the env stays destroyable. DeleteTable takes a final on-demand
//     backup first, so the history outlives the env.
//   - EnsureTopic / DeleteTopic: the topic "migration-notifications-<suffix>",
//     encrypted with the env key, with TopicPolicy (publishers limited to
//     the account and, on its behalf, CloudWatch and EventBridge; publishing
//     without TLS denied) and the spec's subscriptions.
//   - EnsureDashboard / DeleteDashboard: the dashboard "migration-<suffix>",
//     its body built from Go types (BuildDashboard).
//
// Each follows the library's Ensure contract: validate first, find by
// name, refuse what is not the env's, create with tags, converge what may
// change, one Change per resource, no write when converged, dry run reads
// only.
//
// # Table design
//
// One table per env, one partition per env: every item has
// pk = "env#<suffix>" and a sort key that says what it is:
//
//	sk                           item                               written by
//	state#migration              phase, version, epoch, since,      Transition (conditional on
//	                             reason, actor                      phase and version)
//	state#lease                  owner, token, acquired, expires    AcquireLease, Renew, Release
//	state#split                  blue, green, changeId, at          RecordSplit
//	state#server#<name>          one per application server         RecordServer
//	state#database#<task>        one per DMS task (lag, status)     RecordDatabase
//	state#transfer#<task>        one per file transfer              RecordTransfer
//	state#validation#<name>      latest result of each validation   RecordValidation
//	event#<time>#<seq>#<random>  the history, one item per event    Record and every writer above
//
// The key attributes are pk and sk (strings); "kind" names the item type.
// Times are RFC 3339 UTC with a fixed nine-digit fraction, so event keys
// sort by time and "at" attributes compare as strings. Because "state#"
// sorts after "event#", one descending Query of the partition returns the
// current state first and then the newest events: Status reads the
// whole picture in one paginated Query and stops once it has the last
// events it shows. Events(since) is a range Query on the event keys.
//
// There is no secondary index: the dozen servers of a migration live in
// the one partition and Status reads them all; "servers by status" is a
// filter over that, and an index would double every server write.
//
// # Concurrency
//
// Several writers share the table: operators, the cutover controller,
// the rollback Lambda. Transition is one TransactWriteItems that updates
// the phase conditional on the phase and version read before it and
// appends the event, so of any number of racing transitions exactly one
// wins and the others get ErrConflict with nothing written. The state
// records (servers, databases, transfers, validations, split) are
// written under "newer wins": a record older than the stored one is
// dropped, so a late poller cannot move a server backwards. The lease
// is a conditional put that an expired lease cannot block (a crashed
// applier frees the env after its TTL), with a token so that only its
// holder can renew or release it; Lock adapts it to migration.Locker.
package tracking
