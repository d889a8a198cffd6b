// Package awsx holds the AWS mechanics every domain package shares: error
// classification over smithy API error codes, waiting on the Env clock, EC2
// tag filters and the SDK configuration used against real AWS.
//
// Nothing here re-implements what aws-sdk-go-v2 already does. Retries of
// throttled and 5xx calls are the SDK retryer's job (adaptive mode, see
// [LoadConfig]); waits reuse the acceptors the SDK generates for its waiters
// (see [Wait]) and only replace the sleeping, so that every wait runs on the
// Env clock and tests and the simulated cloud never sleep for real.
package awsx
