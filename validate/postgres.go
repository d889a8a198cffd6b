package validate

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/cutoverkit/cutover/internal/pgdial"
	"github.com/cutoverkit/cutover/migration"
)

// SecretsAPI is the part of the Secrets Manager client ComparePostgres
// uses: it reads the two databases' credentials.
type SecretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// PostgresEndpoint is one side of a comparison. The connection is always
// TLS with verify-full semantics: the server certificate must chain to
// RootCAs and name Host. The credentials come from a Secrets Manager
// secret and live only in memory.
type PostgresEndpoint struct {
	// Host is the server's DNS name (or IP address) as in its certificate.
	Host string
	// Port is 5432 when 0.
	Port int
	// Database is the database name.
	Database string
	// SecretARN is a Secrets Manager secret holding a JSON object with
	// "username" and "password" (the RDS format).
	SecretARN string
	// RootCAs verify the server certificate; nil means the system pool.
	RootCAs *x509.CertPool
}

func (e PostgresEndpoint) validate(field string) error {
	var errs []error
	if !match(PatternHost, e.Host) {
		errs = append(errs, fmt.Errorf("%s.host: %q is not a host name", field, e.Host))
	}
	if e.Port < 0 || e.Port > 65535 {
		errs = append(errs, fmt.Errorf("%s.port: %d is not a TCP port", field, e.Port))
	}
	if !match(PatternDBName, e.Database) {
		errs = append(errs, fmt.Errorf("%s.database: %q must match %s", field, e.Database, PatternDBName))
	}
	if !match(PatternSecretARN, e.SecretARN) {
		errs = append(errs, fmt.Errorf("%s.secretArn: %q is not a Secrets Manager secret ARN (credentials come only from Secrets Manager)", field, e.SecretARN))
	}
	return errors.Join(errs...)
}

// PostgresCompare compares tables between the source and the target
// database: row counts and, with Checksums, a checksum of the rows.
//
// The checksum is order-independent — the sum of the first 64 bits of the
// MD5 of each row's text form — so it needs no sort and reads each table
// once. It compares the text form of rows: a column whose type the
// migration maps differently (a timestamp precision, a numeric scale)
// makes it differ although the data is the same; compare counts only for
// such tables. A live source under change data capture differs from the
// target by the changes in flight; compare after writes stop (the cutover
// freeze) or when the replication lag is zero.
type PostgresCompare struct {
	// Name of the result, for example "rows-orders-db".
	Name   string
	Source PostgresEndpoint
	Target PostgresEndpoint
	// Tables are "schema.table" or "table" (schema public).
	Tables []string
	// Checksums compares row checksums as well as counts.
	Checksums bool
	// Timeout bounds the whole comparison; 30 minutes when 0.
	Timeout time.Duration
}

var tableRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$`)

// Validate checks the spec.
func (c PostgresCompare) Validate() error {
	var errs []error
	if c.Name == "" || len(c.Name) > 128 {
		errs = append(errs, errors.New("postgresCompare.name: 1..128 characters required"))
	}
	if err := c.Source.validate("postgresCompare.source"); err != nil {
		errs = append(errs, err)
	}
	if err := c.Target.validate("postgresCompare.target"); err != nil {
		errs = append(errs, err)
	}
	if len(c.Tables) == 0 {
		errs = append(errs, errors.New("postgresCompare.tables: at least one table required"))
	}
	for i, t := range c.Tables {
		if !tableRe.MatchString(t) {
			errs = append(errs, fmt.Errorf("postgresCompare.tables[%d]: %q is not schema.table", i, t))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("postgresCompare.timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

// tableStats is what one side reports of one table.
type tableStats struct {
	rows     int64
	checksum string
}

// ComparePostgres connects to both databases (TLS, verify-full,
// credentials from Secrets Manager), reads every table on both sides in
// parallel and returns one InstanceResult per table: StatusMatch,
// StatusMismatch (with both counts and checksums) or StatusError (a
// missing table, a refused connection). The result passes when every
// table matches. Credentials never appear in results or errors.
func ComparePostgres(ctx context.Context, env migration.Env, secrets SecretsAPI, rec Recorder, c PostgresCompare) (migration.ValidationResult, error) {
	if err := migration.Validate(env, c); err != nil {
		return migration.ValidationResult{}, fmt.Errorf("compare postgres %q: %w", c.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(c.Timeout, 30*time.Minute))
	defer cancel()
	var src, dst *pgx.Conn
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { src, err = connect(gctx, secrets, c.Source, "source"); return err })
	g.Go(func() (err error) { dst, err = connect(gctx, secrets, c.Target, "target"); return err })
	err := g.Wait()
	for _, conn := range []*pgx.Conn{src, dst} {
		if conn != nil {
			defer conn.Close(context.WithoutCancel(ctx))
		}
	}
	insts := make([]migration.InstanceResult, len(c.Tables))
	for i, table := range c.Tables {
		insts[i] = migration.InstanceResult{InstanceID: table}
		if err != nil {
			insts[i].Status, insts[i].Output = StatusError, err.Error()
			continue
		}
		var s, d tableStats
		var serr, derr error
		tg, tctx := errgroup.WithContext(ctx)
		tg.Go(func() error { s, serr = stats(tctx, src, table, c.Checksums); return nil })
		tg.Go(func() error { d, derr = stats(tctx, dst, table, c.Checksums); return nil })
		_ = tg.Wait()
		switch {
		case serr != nil || derr != nil:
			insts[i].Status, insts[i].Output = StatusError, strings.TrimSpace(fmt.Sprintf("%s %s", sideErr("source", serr), sideErr("target", derr)))
		case s != d:
			insts[i].Status, insts[i].Output = StatusMismatch, describeStats(s, d, c.Checksums)
		default:
			insts[i].Status, insts[i].Passed, insts[i].Output = StatusMatch, true, describeStats(s, d, c.Checksums)
		}
	}
	return finishLocal(ctx, env, rec, c.Name, insts...)
}

func sideErr(side string, err error) string {
	if err == nil {
		return ""
	}
	return side + ": " + err.Error() + ";"
}

func describeStats(s, d tableStats, checksums bool) string {
	out := fmt.Sprintf("rows: source %d, target %d", s.rows, d.rows)
	if checksums {
		out += fmt.Sprintf("; checksum: source %s, target %s", s.checksum, d.checksum)
	}
	return out
}

// connect opens a verify-full TLS connection with the secret's
// credentials (see pgdial), in read-only sessions.
func connect(ctx context.Context, secrets SecretsAPI, e PostgresEndpoint, side string) (*pgx.Conn, error) {
	conn, err := pgdial.Dial(ctx, secrets, pgdial.Endpoint(e), map[string]string{"application_name": "cutover-validate", "default_transaction_read_only": "on"})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", side, err)
	}
	return conn, nil
}

// stats counts a table's rows and, if asked, sums the first 64 bits of
// each row's MD5.
func stats(ctx context.Context, conn *pgx.Conn, table string, checksum bool) (tableStats, error) {
	ident := pgx.Identifier{"public", table}
	if schema, name, ok := strings.Cut(table, "."); ok {
		ident = pgx.Identifier{schema, name}
	}
	q := "SELECT count(*), '' FROM " + ident.Sanitize()
	if checksum {
		q = "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM " + ident.Sanitize() + " AS t"
	}
	var s tableStats
	if err := conn.QueryRow(ctx, q).Scan(&s.rows, &s.checksum); err != nil {
		return tableStats{}, err
	}
	return s, nil
}
