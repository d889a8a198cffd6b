// Package dns moves client traffic from on-premises (blue) to AWS (green)
// with Route 53: a private hosted zone associated with the migration's
// VPC, a pair of weighted records per service name, and a Router that
// shifts the weights of every pair at once.
//
// # Resources
//
// EnsureZone and DeleteZone manage the private hosted zone. It is found
// by name and by the env's ownership tag or CallerReference; its
// CallerReference is derived from the env suffix and the zone name, so a
// retried create never makes a second zone.
//
// EnsureRecords and DeleteRecords manage, for every service name ("web",
// "api", ...), a blue record (SetIdentifier "blue": the on-premises IPs or
// host name) and a green record ("green": an alias to a load balancer, IPs
// or a host name) of the same name and type and one TTL, plus a TXT
// ownership marker "_cutover.<name>". Route 53 records carry no tags; the
// marker is how the library tells its records from everyone else's, and
// DeleteZone and DeleteRecords never delete a record without it.
//
// Router.Shift sets the split, Router.Weights reads it. The weights of
// existing records belong to Shift: EnsureRecords sets them only when it
// creates records and never resets them afterwards, so an apply during a
// cutover cannot undo a step.
//
// # Weighted routing, as Route 53 does it
//
// A weighted record answers with probability weight/sum over the records
// of its name and type, weights 0..255. A record of weight 0 gets no
// traffic, except that when every record of the name has weight 0,
// Route 53 answers with all of them equally. The both-zero split is
// therefore a 50/50 split, not "off"; Shift refuses it unless the Router
// was built with AllowBothZero.
//
// Health checks add fail-open rules that can move traffic without a Shift:
//
//   - a record without a health check is always healthy;
//   - an unhealthy record is left out, and the others share its traffic
//     by weight;
//   - a record of weight 0 answers only when every record of non-zero
//     weight is unhealthy: so with green health-checked and blue at
//     weight 0 after a cutover, a green outage sends clients back to
//     blue (on-premises, where writes would diverge from AWS) unasked;
//     and with blue health-checked and green at 0 before the cutover,
//     a blue outage sends them to green before the data is there;
//   - when no record is healthy, Route 53 treats them all as healthy and
//     answers by weight.
//
// An alias with EvaluateTargetHealth counts as health-checked.
// EnsureRecords and Shift put a WARNING in their Change's Note whenever
// one of these can happen.
//
// # Why one batch
//
// Route 53 applies a change batch atomically. Shift UPSERTs the blue and
// the green record of every service name in one batch, so there is never
// a moment when a name has only one of its records (which would take
// 100 % of its traffic), services never drift apart mid-cutover, and
// concurrent shifts (an operator and the rollback Lambda) end on one of
// the requested splits for every name, never a mix. Route 53 also wants
// all weighted records of a name to share one TTL, which a TTL change can
// only satisfy by writing both records together.
//
// # TTL and the evaluation window
//
// Resolvers and clients cache an answer for the record's TTL. After a
// shift, traffic reaches the new split only a TTL later, and a rollback
// reaches the last client a TTL after it is INSYNC. Keep the TTL short
// during a cutover (DefaultTTL is 60 s) and make each step's bake time
// well above TTL plus the INSYNC time, or the step is judged on traffic
// still following the previous split. With a green alias to a load
// balancer, Route 53 uses the load balancer's TTL of 60 s for green.
//
// Every function follows the library's Ensure contract (see the cutover
// package): validation before any call, zero writes when converged, dry
// runs that only read, Delete that touches only what the env owns, and
// every wait on the env clock.
package dns
