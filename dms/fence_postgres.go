package dms

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cutoverkit/cutover/internal/pgdial"
	"github.com/cutoverkit/cutover/migration"
)

// SecretValueAPI is the part of the Secrets Manager client PostgresFence
// uses: it reads the source's credentials, on every call.
type SecretValueAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// PostgresFence is the Fence of the on-premises PostgreSQL source (13 in
// the reference migration; what it uses exists since 10). Each call
// opens one verify-full TLS connection to Database with the credentials
// in SecretARN, read from Secrets Manager for that call and kept only in
// memory: they never appear in a log line, an error or String.
//
// Freeze, in one transaction, sets default_transaction_read_only=on for
// the database and =off for each exempt role in the database (a role's
// setting in a database overrides the database's); then it terminates
// every other client session of the database not run by an exempt role,
// waits until they have ended (a session can commit until it ends), and
// returns pg_current_wal_insert_lsn(): every write committed before lies
// before it (pg_current_wal_lsn, the write position, can precede an
// asynchronous commit). New sessions of the applications read but cannot
// write (SQLSTATE 25006 read_only_sql_transaction); the exempt roles —
// by default the secret's user, DMS's, whose heartbeat and reverse task
// write — go on writing. Confirmed compares the confirmed_flush_lsn of
// DMS's logical replication slot with that position; Thaw resets the
// settings.
//
// What the freeze does to the applications: a terminated session's
// transaction in flight rolls back and its client sees an error (and,
// once the switch is complete, retries against the AWS database). The
// setting is only a default: a session that sets
// default_transaction_read_only=off itself (SET, a startup option such
// as PGOPTIONS, BEGIN READ WRITE) can still write, which is why the
// sessions open at the freeze are terminated, and why the applications'
// roles must not do so. Only client sessions are terminated: stop
// background workers that write (pg_cron jobs, for example) before the
// switch. A second Freeze terminates the applications' (by then
// read-only) sessions again. After a completed switch the source stays
// frozen on purpose: the reverse task is then its only writer.
//
// The connecting user needs to be a superuser, or: the owner of the
// database (ALTER DATABASE ... SET), CREATEROLE (ALTER ROLE ... IN
// DATABASE ... SET for exempt roles other than itself), a member of
// pg_signal_backend (to terminate other roles' sessions; a superuser's
// session only a superuser can end) and of pg_read_all_stats (to see
// other roles' sessions in pg_stat_activity). The migration user of the
// source secret is a superuser, so Freeze normally connects as DMS does.
//
// The zero value is not usable: Validate says which fields are missing,
// and every method checks them before connecting. A PostgresFence is
// safe for concurrent use; it holds no connection between calls.
type PostgresFence struct {
	// Host is the source server's DNS name (or IP address) as in its
	// certificate, reachable from where the switch runs.
	Host string
	// Port is 5432 when 0.
	Port int
	// Database is the database the forward task migrates.
	Database string
	// SecretARN is the full ARN of a Secrets Manager secret holding a JSON
	// object with username and password (the source endpoint's secret has
	// them, with host and port, which the fence does not read).
	SecretARN string
	// RootCAs verify the server certificate, which must chain to them and
	// name Host; nil means the system pool. There is no unverified or
	// plaintext connection.
	RootCAs *x509.CertPool
	// Secrets reads the secret.
	Secrets SecretValueAPI
	// SlotName is the forward task's logical replication slot (the source
	// endpoint's PostgreSQL.SlotName when it sets one); empty means every
	// logical slot of Database must confirm, and there must be one.
	SlotName string
	// ExemptRoles keep writing when frozen. Empty means the secret's
	// username alone: the DMS user, which writes DMS's heartbeat and,
	// after the switch, the reverse task's changes. When set, it replaces
	// that default, so list the DMS user. Roles are matched exactly (by
	// session user, not membership) and must exist.
	ExemptRoles []string
	// Log receives what the fence did, such as the sessions it terminated;
	// nil discards it. Credentials are never logged.
	Log *slog.Logger
}

var _ Fence = PostgresFence{}

// fenceCallTimeout bounds each call, connecting included, on top of the
// caller's context.
const fenceCallTimeout = 2 * time.Minute

// fenceEndWait bounds how long Freeze waits for the sessions it
// terminated to end, and fenceEndPoll is how often it looks.
const (
	fenceEndWait = 30 * time.Second
	fenceEndPoll = 10 * time.Millisecond
)

var fenceHostRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// String names the fence's database and server; it holds no credentials.
func (f PostgresFence) String() string {
	return fmt.Sprintf("postgres fence %q on %s", f.Database, f.endpoint().Address())
}

// Validate checks the configuration without connecting and names every
// bad field.
func (f PostgresFence) Validate() error {
	var errs []error
	if len(f.Host) > 253 || (!fenceHostRe.MatchString(f.Host) && net.ParseIP(f.Host) == nil) {
		errs = append(errs, fmt.Errorf("postgresFence.host: %q is not a host name or IP address", f.Host))
	}
	if f.Port < 0 || f.Port > 65535 {
		errs = append(errs, fmt.Errorf("postgresFence.port: %d is not a TCP port", f.Port))
	}
	if err := checkIdentifier(f.Database); err != nil {
		errs = append(errs, fmt.Errorf("postgresFence.database: %w", err))
	}
	// The value is not quoted: a misplaced password must not end up in an
	// error.
	if checkSecretARN(f.SecretARN) != nil || migration.IsPending(f.SecretARN) {
		errs = append(errs, errors.New("postgresFence.secretArn: not the full ARN of an existing Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX); credentials come only from Secrets Manager"))
	}
	if f.Secrets == nil {
		errs = append(errs, errors.New("postgresFence.secrets: a Secrets Manager client is required to read the credentials"))
	}
	if f.SlotName != "" && !slotNameRe.MatchString(f.SlotName) {
		errs = append(errs, fmt.Errorf("postgresFence.slotName: %q is not a replication slot name (lower-case letters, digits and _, at most 63)", f.SlotName))
	}
	for i, r := range f.ExemptRoles {
		if r == "" || len(r) > maxIdentifier || strings.ContainsRune(r, 0) {
			errs = append(errs, fmt.Errorf("postgresFence.exemptRoles[%d]: %q is not a role name (1..%d bytes)", i, r, maxIdentifier))
		}
	}
	return errors.Join(errs...)
}

// Freeze stops application writes to Database (see PostgresFence) and
// returns the WAL insert position after the last of them. Idempotent.
//
// It refuses, changing nothing, when the freeze would not hold: when the
// connecting user lacks pg_read_all_stats or pg_signal_backend (and is
// not a superuser), so it could not see or end other roles' sessions;
// when an exempt role does not exist; when a role that is not exempt has
// a default_transaction_read_only setting of its own that is not on
// (ALTER ROLE ... SET, in all databases or this one), which would
// override the database's and let the role write. When it fails later,
// on a session it may not end (a superuser's, unless it is one), the
// database stays frozen and the error says so: Thaw undoes it, as
// SwitchToReverse does on any Freeze error.
func (f PostgresFence) Freeze(ctx context.Context) (string, error) {
	var pos string
	err := f.call(ctx, "freeze", func(ctx context.Context, conn *pgx.Conn, exempt []string) error {
		db := pgx.Identifier{f.Database}.Sanitize()
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if err := f.preflight(ctx, tx, exempt); err != nil {
				return err
			}
			stmts := []string{"ALTER DATABASE " + db + " SET default_transaction_read_only = on"}
			for _, r := range exempt {
				stmts = append(stmts, "ALTER ROLE "+pgx.Identifier{r}.Sanitize()+" IN DATABASE "+db+" SET default_transaction_read_only = off")
			}
			return execAll(ctx, tx, stmts)
		})
		if err != nil {
			return err
		}
		if err := f.endSessions(ctx, conn, exempt); err != nil {
			return fmt.Errorf("%w; the database is left frozen (Thaw undoes it)", err)
		}
		if err := conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&pos); err != nil {
			return err
		}
		f.logger().Info("source writes frozen", "fence", f.String(), "exempt", exempt, "position", pos)
		return nil
	})
	return pos, err
}

// boolOn is true for a pg_db_role_setting entry c whose value is on.
const boolOn = `lower(split_part(c, '=', 2)) IN ('on', 'true', 'yes', '1')`

// preflight fails when the freeze would not hold: when the connecting
// user cannot see or end other roles' sessions (without
// pg_read_all_stats, pg_stat_activity hides their backend type and the
// termination would silently miss them), or when a role that is not
// exempt has a default_transaction_read_only setting of its own, in every
// database or in this one, that is not on.
func (f PostgresFence) preflight(ctx context.Context, tx pgx.Tx, exempt []string) error {
	var user string
	var see, signal bool
	if err := tx.QueryRow(ctx, `SELECT current_user::text, pg_has_role('pg_read_all_stats', 'USAGE'), pg_has_role('pg_signal_backend', 'USAGE')`).Scan(&user, &see, &signal); err != nil {
		return err
	}
	if !see || !signal {
		return fmt.Errorf("role %s cannot see and end the applications' sessions: make it a superuser or GRANT pg_read_all_stats, pg_signal_backend TO it", user)
	}
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT r.rolname::text
		FROM pg_db_role_setting s
		JOIN pg_roles r ON r.oid = s.setrole
		CROSS JOIN LATERAL unnest(s.setconfig) AS c
		WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = $1::text))
		  AND split_part(c, '=', 1) = 'default_transaction_read_only'
		  AND NOT `+boolOn+`
		  AND r.rolname::text <> ALL($2::text[])
		ORDER BY 1`, f.Database, exempt)
	if err != nil {
		return err
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(roles) > 0 {
		return fmt.Errorf("role(s) %s set default_transaction_read_only themselves, which overrides the database's setting: they would keep writing; reset it (ALTER ROLE ... RESET default_transaction_read_only, in the database it was set for) or list them in ExemptRoles", strings.Join(roles, ", "))
	}
	return nil
}

// endSessions terminates the client sessions of the database that are
// not this one's and not an exempt role's, and waits until they have
// ended: a session may commit until it ends, and the freeze position must
// follow its last commit.
func (f PostgresFence) endSessions(ctx context.Context, conn *pgx.Conn, exempt []string) error {
	rows, err := conn.Query(ctx, `
		SELECT pid, usename::text, coalesce(application_name, ''), pg_terminate_backend(pid)
		FROM pg_stat_activity
		WHERE datname = $1::text AND backend_type = 'client backend'
		  AND pid <> pg_backend_pid() AND usename::text <> ALL($2::text[])`, f.Database, exempt)
	if err != nil {
		return fmt.Errorf("terminate the applications' sessions: %w", err)
	}
	var pids []int32
	var (
		pid        int32
		user, app  string
		terminated bool
	)
	_, err = pgx.ForEachRow(rows, []any{&pid, &user, &app, &terminated}, func() error {
		if terminated {
			pids = append(pids, pid)
			f.logger().Info("terminated an application session", "fence", f.String(), "pid", pid, "user", user, "application", app)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("terminate the applications' sessions: %w", err)
	}
	if len(pids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, fenceEndWait)
	defer cancel()
	tick := time.NewTicker(fenceEndPoll)
	defer tick.Stop()
	for {
		var left int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", pids).Scan(&left); err != nil {
			return fmt.Errorf("wait for %d terminated sessions to end: %w", len(pids), err)
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d terminated sessions have not ended: %w", left, len(pids), ctx.Err())
		case <-tick.C:
		}
	}
}

// Frozen reports whether the database's default_transaction_read_only
// setting is on, as Freeze leaves it.
func (f PostgresFence) Frozen(ctx context.Context) (bool, error) {
	var frozen bool
	err := f.call(ctx, "frozen", func(ctx context.Context, conn *pgx.Conn, _ []string) error {
		return conn.QueryRow(ctx, `
			SELECT coalesce(bool_or(`+boolOn+`), false)
			FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) AS c
			WHERE s.setrole = 0 AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $1::text)
			  AND split_part(c, '=', 1) = 'default_transaction_read_only'`, f.Database).Scan(&frozen)
	})
	return frozen, err
}

// Confirmed reports whether the confirmed_flush_lsn of the forward task's
// logical replication slot (SlotName, or every logical slot of Database)
// has reached position, a WAL location as Freeze returns it. No slot is
// an error, and so is a position that is not a WAL location. DMS confirms
// what it has applied to the target; with nothing to apply it confirms
// with its next heartbeat.
func (f PostgresFence) Confirmed(ctx context.Context, position string) (bool, error) {
	var (
		slots int
		ok    bool
	)
	err := f.call(ctx, "confirmed", func(ctx context.Context, conn *pgx.Conn, _ []string) error {
		err := conn.QueryRow(ctx, `
			SELECT count(*), coalesce(bool_and(coalesce(confirmed_flush_lsn >= $1::text::pg_lsn, false)), false)
			FROM pg_replication_slots
			WHERE database = $2::text AND slot_type = 'logical' AND ($3::text = '' OR slot_name = $3::text)`,
			position, f.Database, f.SlotName).Scan(&slots, &ok)
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "22P02": // invalid_text_representation
			return fmt.Errorf("position %q is not a WAL location such as 0/16B3748", position)
		case err != nil:
			return err
		case slots == 0 && f.SlotName != "":
			return fmt.Errorf("no logical replication slot %q for database %s: is the forward task running?", f.SlotName, f.Database)
		case slots == 0:
			return fmt.Errorf("no logical replication slot for database %s: is the forward task running?", f.Database)
		}
		return nil
	})
	return ok, err
}

// Thaw resets the database's default_transaction_read_only setting and
// the exempt roles' settings in it, in one transaction, so the
// applications' new sessions write again. Idempotent.
func (f PostgresFence) Thaw(ctx context.Context) error {
	err := f.call(ctx, "thaw", func(ctx context.Context, conn *pgx.Conn, exempt []string) error {
		db := pgx.Identifier{f.Database}.Sanitize()
		stmts := []string{"ALTER DATABASE " + db + " RESET default_transaction_read_only"}
		for _, r := range exempt {
			stmts = append(stmts, "ALTER ROLE "+pgx.Identifier{r}.Sanitize()+" IN DATABASE "+db+" RESET default_transaction_read_only")
		}
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return execAll(ctx, tx, stmts) })
	})
	if err != nil {
		return err
	}
	f.logger().Info("source writes thawed", "fence", f.String())
	return nil
}

// call validates the configuration, connects and runs fn with the exempt
// roles, wrapping any error with the fence and the operation.
func (f PostgresFence) call(ctx context.Context, op string, fn func(context.Context, *pgx.Conn, []string) error) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("postgres fence %q: %s: %w", f.Database, op, err)
		}
	}()
	if err := f.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, fenceCallTimeout)
	defer cancel()
	// The fence's own session writes whatever the database's and its
	// role's defaults are.
	conn, err := pgdial.Dial(ctx, f.Secrets, f.endpoint(), map[string]string{"application_name": "cutover-fence", "default_transaction_read_only": "off"})
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	exempt := f.ExemptRoles
	if len(exempt) == 0 {
		exempt = []string{conn.Config().User}
	}
	return fn(ctx, conn, exempt)
}

func (f PostgresFence) endpoint() pgdial.Endpoint {
	return pgdial.Endpoint{Host: f.Host, Port: f.Port, Database: f.Database, SecretARN: f.SecretARN, RootCAs: f.RootCAs}
}

func (f PostgresFence) logger() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return f.Log
}

// execAll runs statements in order in tx.
func execAll(ctx context.Context, tx pgx.Tx, stmts []string) error {
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st); err != nil {
			return err
		}
	}
	return nil
}
