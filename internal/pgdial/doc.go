// Package pgdial opens the library's PostgreSQL connections the one way
// the library allows: TLS with verify-full semantics (the server
// certificate must chain to the given roots and name the host), and
// credentials read from a Secrets Manager secret at connect time, kept
// only in memory and never put into an error.
//
// validate (row comparisons) and dms (the source write fence) connect
// through it; the example reads the source's host and port with
// ReadAddress to point the write fence at it.
package pgdial
