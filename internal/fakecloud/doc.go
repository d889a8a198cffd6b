// Package fakecloud is one stateful, in-memory AWS for tests and for the
// example's -sim mode.
//
// Each service is a type whose methods have the exact signatures of the
// aws-sdk-go-v2 client methods (cloud.EC2() has CreateVpc, DescribeVpcs,
// ...), so it satisfies the narrow interfaces the domain packages declare.
// It mimics AWS where it matters to a reconciler: ID and ARN formats, error
// codes wrapped the way the SDK wraps them (smithy.OperationError around an
// HTTP response error around the API error), asynchronous states that
// advance on the fake clock, DependencyViolation on delete, eventual
// consistency and throttling.
//
// Every call goes through one path (Cloud.call) that logs it (service,
// operation, read or write, error code), applies the injected faults and
// retries the way the SDK client does — with the retryer the library
// configures for real AWS (awsx.NewRetryer), waiting on the fake clock — so
// a throttled call behaves as it would behind a real client.
//
// Faults are injected on demand (SetFaults): a throttle rate and a 5xx
// rate, latency, NotFound for the first N reads of a resource after its
// create, and a crash at the k-th write, either before it takes effect or
// after with the response lost. After a crash every call fails with
// ErrCrash until Restart, as if the process had died.
//
// The whole state saves to JSON and loads back (Save, Load), so the
// example's -sim mode keeps one simulated cloud across runs.
//
// A service lives in its own file: its state type (registered by name with
// register, JSON-serialisable) and its client type. Adding a service never
// touches the core.
package fakecloud
