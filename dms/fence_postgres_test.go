//go:build unix

package dms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/internal/pgtest"
)

// The passwords the leak checks look for; the DMS user's holds the
// characters that need quoting in SQL and connection strings.
const (
	fenceDMSPassword = `dms-P4ss'w0rd: never shown`
	fenceAppPassword = "app-P4ssw0rd-never-shown"
	fenceBadPassword = "wrong-P4ssw0rd-never-shown"
)

// fenceDB is a real PostgreSQL set up as an on-premises source: the
// database "monolith" owned by the DMS user "dms" (not a superuser: it
// has exactly the privileges the fence documents for exempting itself —
// ownership, pg_signal_backend, pg_read_all_stats — plus REPLICATION as
// DMS needs), an application role "app" that writes the orders table, two
// logical slots in monolith standing for DMS's and another consumer's,
// one slot in the database "other", and the database "empty" with none.
type fenceDB struct {
	pg      *pgtest.Server
	cloud   *fakecloud.Cloud
	secret  string // the DMS user's secret ARN
	dms     *pgx.Conn
	log     *lockedBuffer
	nextRow int
}

func startFenceDB(t *testing.T) *fenceDB {
	t.Helper()
	pg := pgtest.Start(t, "wal_level = logical", "max_replication_slots = 10", "max_wal_senders = 10")
	pg.Exec(t, "postgres",
		"CREATE ROLE dms LOGIN REPLICATION PASSWORD "+sqlLiteral(fenceDMSPassword),
		"GRANT pg_signal_backend, pg_read_all_stats TO dms",
		"CREATE ROLE app LOGIN PASSWORD "+sqlLiteral(fenceAppPassword),
		"CREATE DATABASE monolith OWNER dms", "CREATE DATABASE other OWNER dms", "CREATE DATABASE empty OWNER dms")
	d := &fenceDB{pg: pg, cloud: fakecloud.New(), log: &lockedBuffer{}}
	d.secret = d.createSecret(t, "onprem/pg13/dms", "dms", fenceDMSPassword)
	other := pg.Connect(t, "other", "dms", fenceDMSPassword)
	_, err := other.Exec(context.Background(), "SELECT pg_create_logical_replication_slot('elsewhere', 'test_decoding')")
	require.NoError(t, err)
	d.dms = pg.Connect(t, "monolith", "dms", fenceDMSPassword)
	d.exec(t, d.dms,
		"CREATE TABLE orders (id int PRIMARY KEY, item text)",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO app",
		"CREATE TABLE heartbeat (id int PRIMARY KEY, at timestamptz)",
		"SELECT pg_create_logical_replication_slot('dms_slot', 'test_decoding')",
		"SELECT pg_create_logical_replication_slot('other_slot', 'test_decoding')")
	t.Cleanup(func() {
		for _, p := range []string{fenceDMSPassword, fenceAppPassword, fenceBadPassword} {
			assert.NotContains(t, d.log.String(), p, "the fence's log")
		}
	})
	return d
}

func (d *fenceDB) createSecret(t *testing.T, name, user, password string) string {
	t.Helper()
	out, err := d.cloud.SecretsManager().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q,"host":"localhost","port":%d}`, user, password, d.pg.Port)),
	})
	require.NoError(t, err)
	return aws.ToString(out.ARN)
}

// fence returns a fence on db with the DMS user's secret.
func (d *fenceDB) fence(db, slot string) dms.PostgresFence {
	return dms.PostgresFence{
		Host: "localhost", Port: d.pg.Port, Database: db, SecretARN: d.secret, RootCAs: d.pg.CA,
		Secrets: d.cloud.SecretsManager(), SlotName: slot, Log: slog.New(slog.NewTextHandler(d.log, nil)),
	}
}

func (d *fenceDB) exec(t *testing.T, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, st := range stmts {
		_, err := conn.Exec(context.Background(), st)
		require.NoError(t, err, st)
	}
}

// try runs stmt in a new session of user in monolith and returns the
// SQLSTATE of its error ("" when it succeeds).
func (d *fenceDB) try(t *testing.T, user, stmt string) string {
	t.Helper()
	pw := map[string]string{"dms": fenceDMSPassword, "app": fenceAppPassword}[user]
	conn := d.pg.Connect(t, "monolith", user, pw)
	defer conn.Close(context.Background())
	d.nextRow++
	_, err := conn.Exec(context.Background(), strings.ReplaceAll(stmt, "$row", fmt.Sprint(d.nextRow)))
	return sqlState(t, err)
}

// lsnAtLeast compares two WAL locations in the server.
func (d *fenceDB) lsnAtLeast(t *testing.T, a, b string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, d.dms.QueryRow(context.Background(), "SELECT $1::text::pg_lsn >= $2::text::pg_lsn", a, b).Scan(&ok))
	return ok
}

// readOnlySettings lists the database's and roles' default_transaction_
// read_only settings in monolith, as "role=value" ("*" for the database).
func (d *fenceDB) readOnlySettings(t *testing.T) []string {
	t.Helper()
	rows, err := d.dms.Query(context.Background(), `
		SELECT coalesce(r.rolname::text, '*') || '=' || split_part(c, '=', 2)
		FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole CROSS JOIN LATERAL unnest(s.setconfig) AS c
		WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = 'monolith') AND c LIKE 'default_transaction_read_only=%'
		ORDER BY 1`)
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return got
}

func sqlState(t *testing.T, err error) string {
	t.Helper()
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pgErr):
		return pgErr.Code
	}
	t.Fatalf("not a PostgreSQL error: %v", err)
	return ""
}

func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// What each kind of session may do in monolith, frozen and thawed: ""
// is success, else the SQLSTATE (25006 read_only_sql_transaction).
var fenceProbes = []struct {
	name, user, stmt string
	frozen, thawed   string
}{
	{"an application reads", "app", "SELECT count(*) FROM orders", "", ""},
	{"an application inserts", "app", "INSERT INTO orders VALUES ($row, 'new')", "25006", ""},
	{"an application updates", "app", "UPDATE orders SET item = 'changed'", "25006", ""},
	{"DMS writes its heartbeat", "dms", "INSERT INTO heartbeat VALUES ($row, now())", "", ""},
	{"DMS applies a reverse change", "dms", "INSERT INTO orders VALUES ($row, 'from AWS')", "", ""},
}

func TestPostgresFence(t *testing.T) {
	d := startFenceDB(t)
	ctx := context.Background()
	fence := d.fence("monolith", "")

	var pos string
	t.Run("freeze", func(t *testing.T) {
		appIdle := d.pg.Connect(t, "monolith", "app", fenceAppPassword)
		appInTx := d.pg.Connect(t, "monolith", "app", fenceAppPassword)
		tx, err := appInTx.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "INSERT INTO orders VALUES (-1, 'in flight')")
		require.NoError(t, err)

		pos, err = fence.Freeze(ctx)
		require.NoError(t, err)
		assert.Regexp(t, `^[0-9A-F]+/[0-9A-F]+$`, pos)

		_, err = appIdle.Exec(ctx, "SELECT 1")
		require.Error(t, err, "a session open at the freeze is terminated")
		require.Error(t, tx.Commit(ctx), "its transaction in flight rolls back")
		var n int
		require.NoError(t, d.dms.QueryRow(ctx, "SELECT count(*) FROM orders WHERE id = -1").Scan(&n))
		assert.Zero(t, n, "the in-flight insert rolled back")
		d.exec(t, d.dms, "INSERT INTO heartbeat VALUES (-1, now())") // a DMS session open at the freeze lives on
		assert.Contains(t, d.log.String(), "terminated an application session")
		assert.Contains(t, d.log.String(), "user=app")

		for _, p := range fenceProbes {
			assert.Equal(t, p.frozen, d.try(t, p.user, p.stmt), p.name)
		}
		frozen, err := fence.Frozen(ctx)
		require.NoError(t, err)
		assert.True(t, frozen)
		assert.Equal(t, []string{"*=on", "dms=off"}, d.readOnlySettings(t))
	})

	t.Run("freeze again", func(t *testing.T) {
		again, err := fence.Freeze(ctx)
		require.NoError(t, err)
		assert.True(t, d.lsnAtLeast(t, again, pos), "%s precedes %s", again, pos)
		d.exec(t, d.dms, "INSERT INTO heartbeat VALUES (-2, now())")
		assert.Equal(t, "25006", d.try(t, "app", "INSERT INTO orders VALUES ($row, 'x')"))
		assert.Equal(t, []string{"*=on", "dms=off"}, d.readOnlySettings(t))
	})

	t.Run("confirmed", func(t *testing.T) {
		// The slots were created before the freeze's writes: nothing is
		// confirmed yet. Then DMS confirms, as its heartbeat makes it do,
		// everything up to the position (advance to exactly it), and
		// then another consumer does.
		steps := []struct {
			advance string
			want    map[string]bool // by SlotName
		}{
			{"", map[string]bool{"": false, "dms_slot": false, "other_slot": false}},
			{"dms_slot", map[string]bool{"": false, "dms_slot": true, "other_slot": false}},
			{"other_slot", map[string]bool{"": true, "dms_slot": true, "other_slot": true}},
		}
		d.exec(t, d.dms, "INSERT INTO heartbeat VALUES (-3, now())") // WAL up to pos is flushed
		for _, s := range steps {
			if s.advance != "" {
				d.exec(t, d.dms, fmt.Sprintf("SELECT pg_replication_slot_advance(%s, %s)", sqlLiteral(s.advance), sqlLiteral(pos)))
			}
			for slot, want := range s.want {
				ok, err := d.fence("monolith", slot).Confirmed(ctx, pos)
				require.NoError(t, err)
				assert.Equal(t, want, ok, "after advancing %q, slot %q", s.advance, slot)
			}
		}
	})

	t.Run("confirmed errors", func(t *testing.T) {
		for _, c := range []struct {
			name, db, slot, pos, want string
		}{
			{"no such slot", "monolith", "missing", pos, `postgres fence "monolith": confirmed: no logical replication slot "missing" for database monolith: is the forward task running?`},
			{"the slot is another database's", "monolith", "elsewhere", pos, `no logical replication slot "elsewhere" for database monolith`},
			{"no slot in the database", "empty", "", pos, `postgres fence "empty": confirmed: no logical replication slot for database empty: is the forward task running?`},
			{"malformed position", "monolith", "", "sim/2026-01-01T00:00:00Z", `position "sim/2026-01-01T00:00:00Z" is not a WAL location`},
			{"empty position", "monolith", "", "", `position "" is not a WAL location`},
		} {
			t.Run(c.name, func(t *testing.T) {
				ok, err := d.fence(c.db, c.slot).Confirmed(ctx, c.pos)
				require.ErrorContains(t, err, c.want)
				assert.False(t, ok)
			})
		}
	})

	t.Run("thaw", func(t *testing.T) {
		for range 2 {
			require.NoError(t, fence.Thaw(ctx))
			for _, p := range fenceProbes {
				assert.Equal(t, p.thawed, d.try(t, p.user, p.stmt), p.name)
			}
			frozen, err := fence.Frozen(ctx)
			require.NoError(t, err)
			assert.False(t, frozen)
			assert.Empty(t, d.readOnlySettings(t))
		}
	})

	t.Run("a freeze that cannot hold changes nothing", func(t *testing.T) {
		const blindPassword = "blind-P4ssw0rd-never-shown"
		d.pg.Exec(t, "postgres", "CREATE ROLE blind LOGIN PASSWORD "+sqlLiteral(blindPassword), "GRANT pg_signal_backend TO blind")
		blind := d.createSecret(t, "onprem/pg13/blind", "blind", blindPassword)
		for _, c := range []struct {
			name        string
			secret      string
			exempt      []string
			setup, undo string
			want        string
		}{
			{"a fence user that cannot see other roles' sessions", blind, []string{"dms"}, "", "",
				"role blind cannot see and end the applications' sessions: make it a superuser or GRANT pg_read_all_stats, pg_signal_backend TO it"},
			{"an exempt role that does not exist", "", []string{"dms", "ghost"}, "", "", `role "ghost" does not exist`},
			{"an application role that sets read-write itself", "", nil,
				"ALTER ROLE app SET default_transaction_read_only = off", "ALTER ROLE app RESET default_transaction_read_only",
				"role(s) app set default_transaction_read_only themselves"},
			{"... in this database only", "", nil,
				"ALTER ROLE app IN DATABASE monolith SET default_transaction_read_only = false", "ALTER ROLE app IN DATABASE monolith RESET default_transaction_read_only",
				"role(s) app set default_transaction_read_only themselves"},
		} {
			t.Run(c.name, func(t *testing.T) {
				if c.setup != "" {
					d.pg.Exec(t, "postgres", c.setup)
					t.Cleanup(func() { d.pg.Exec(t, "postgres", c.undo) })
				}
				f := fence
				f.ExemptRoles = c.exempt
				if c.secret != "" {
					f.SecretARN = c.secret
				}
				_, err := f.Freeze(ctx)
				require.ErrorContains(t, err, c.want)
				require.ErrorContains(t, err, `postgres fence "monolith": freeze: `)
				frozen, err := f.Frozen(ctx)
				require.NoError(t, err)
				assert.False(t, frozen)
				assert.Equal(t, "", d.try(t, "app", "INSERT INTO orders VALUES ($row, 'still writable')"))
			})
		}
	})

	t.Run("a session the fence may not end fails the freeze, which Thaw undoes", func(t *testing.T) {
		d.pg.Connect(t, "monolith", "postgres", d.pg.SuperPassword) // a DBA's session
		_, err := fence.Freeze(ctx)
		require.ErrorContains(t, err, `postgres fence "monolith": freeze: terminate the applications' sessions: `)
		require.ErrorContains(t, err, "; the database is left frozen (Thaw undoes it)")
		frozen, err := fence.Frozen(ctx)
		require.NoError(t, err)
		assert.True(t, frozen)
		require.NoError(t, fence.Thaw(ctx))
		assert.Empty(t, d.readOnlySettings(t))
	})

	t.Run("credentials never appear in errors", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closedPort := l.Addr().(*net.TCPAddr).Port
		require.NoError(t, l.Close())
		wrongPassword := d.createSecret(t, "onprem/pg13/wrong", "dms", fenceBadPassword)
		for _, c := range []struct {
			name   string
			change func(*dms.PostgresFence)
			want   string
		}{
			{"wrong password", func(f *dms.PostgresFence) { f.SecretARN = wrongPassword }, "password authentication failed"},
			{"wrong host", func(f *dms.PostgresFence) { f.Port = closedPort }, fmt.Sprintf("connect to localhost:%d/monolith: ", closedPort)},
			{"unverified server", func(f *dms.PostgresFence) { f.RootCAs = nil }, "certificate"},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := d.fence("monolith", "")
				c.change(&f)
				calls := map[string]func() error{
					"freeze":    func() error { _, err := f.Freeze(ctx); return err },
					"frozen":    func() error { _, err := f.Frozen(ctx); return err },
					"confirmed": func() error { _, err := f.Confirmed(ctx, pos); return err },
					"thaw":      func() error { return f.Thaw(ctx) },
				}
				for op, call := range calls {
					err := call()
					require.ErrorContains(t, err, fmt.Sprintf("postgres fence %q: %s: ", "monolith", op))
					assert.ErrorContains(t, err, c.want)
					for _, p := range []string{fenceDMSPassword, fenceBadPassword} {
						assert.NotContains(t, err.Error(), p)
					}
				}
				for _, s := range []string{f.String(), fmt.Sprintf("%+v", f), fmt.Sprintf("%#v", f)} {
					assert.NotContains(t, s, fenceDMSPassword)
				}
			})
		}
	})
}

// countingSecrets counts the secret reads, each the first step of a
// connection.
type countingSecrets struct {
	mu    sync.Mutex
	calls int
}

func (c *countingSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return nil, errors.New("no secret here")
}

func TestPostgresFenceValidate(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:onprem/pg13/dms-AbCdEf"
	secrets := &countingSecrets{}
	good := dms.PostgresFence{Host: "pg13.dc1.example.internal", Database: "monolith", SecretARN: arn, Secrets: secrets}
	require.NoError(t, good.Validate())
	for _, c := range []struct {
		name   string
		change func(*dms.PostgresFence)
		want   string
	}{
		{"no host", func(f *dms.PostgresFence) { f.Host = "" }, "postgresFence.host"},
		{"a host with a connection parameter", func(f *dms.PostgresFence) { f.Host = "db sslmode=disable" }, "postgresFence.host"},
		{"negative port", func(f *dms.PostgresFence) { f.Port = -1 }, "postgresFence.port"},
		{"port too large", func(f *dms.PostgresFence) { f.Port = 65536 }, "postgresFence.port"},
		{"no database", func(f *dms.PostgresFence) { f.Database = "" }, "postgresFence.database"},
		{"database with a quote", func(f *dms.PostgresFence) { f.Database = `x"; DROP` }, "postgresFence.database"},
		{"password instead of a secret", func(f *dms.PostgresFence) { f.SecretARN = "dms:hunter2" }, "postgresFence.secretArn"},
		{"partial secret ARN", func(f *dms.PostgresFence) { f.SecretARN = strings.TrimSuffix(arn, "-AbCdEf") }, "postgresFence.secretArn"},
		{"pending secret ARN", func(f *dms.PostgresFence) { f.SecretARN = "pending:source-secret" }, "postgresFence.secretArn"},
		{"no Secrets Manager client", func(f *dms.PostgresFence) { f.Secrets = nil }, "postgresFence.secrets"},
		{"bad slot name", func(f *dms.PostgresFence) { f.SlotName = "DMS-slot" }, "postgresFence.slotName"},
		{"empty exempt role", func(f *dms.PostgresFence) { f.ExemptRoles = []string{"dms", ""} }, "postgresFence.exemptRoles[1]"},
		{"exempt role too long", func(f *dms.PostgresFence) { f.ExemptRoles = []string{strings.Repeat("r", 64)} }, "postgresFence.exemptRoles[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := good
			c.change(&f)
			require.ErrorContains(t, f.Validate(), c.want)
			assert.NotContains(t, f.Validate().Error(), "hunter2", "a misplaced password is not quoted")
			_, err := f.Freeze(context.Background())
			require.ErrorContains(t, err, c.want)
			_, err = f.Frozen(context.Background())
			require.ErrorContains(t, err, c.want)
			_, err = f.Confirmed(context.Background(), "0/0")
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, f.Thaw(context.Background()), c.want)
		})
	}
	var zero dms.PostgresFence
	err := zero.Validate()
	for _, field := range []string{"host", "database", "secretArn", "secrets"} {
		assert.ErrorContains(t, err, "postgresFence."+field)
	}
	assert.Zero(t, secrets.calls, "no call read the secret, so none connected")
}
