// Package pgtest starts a throwaway PostgreSQL server for integration
// tests: the system's server binaries in a temporary directory, TLS only,
// with a certificate for localhost and 127.0.0.1 signed by a test CA. Only
// tests import it.
//
// A test whose machine lacks the binaries is skipped, not failed, unless
// CUTOVER_REQUIRE_POSTGRES is set (CI sets it, after installing them).
package pgtest
