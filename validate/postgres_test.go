//go:build unix

package validate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/validate"
)

// pgServer is a PostgreSQL started from the system binaries in a temp dir,
// accepting only TLS connections with a certificate for localhost signed
// by a test CA.
type pgServer struct {
	port      int
	ca        *x509.CertPool
	superPass string
}

// pgBinDir finds initdb and pg_ctl: pg_config --bindir, else the newest
// /usr/lib/postgresql/*/bin.
func pgBinDir() string {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(versions[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(versions[j])))
		return vi > vj
	})
	for _, d := range append(dirs, versions...) {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startPostgres starts the server, or skips the test when the binaries are
// not installed. The only waiting is pg_ctl's own bounded wait for the
// server to accept connections (-w -t 60).
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		const msg = "PostgreSQL server binaries (initdb, pg_ctl) are not installed: install the postgresql package to run this integration test"
		if os.Getenv("CUTOVER_REQUIRE_POSTGRES") != "" {
			t.Fatal(msg + " (CUTOVER_REQUIRE_POSTGRES is set)")
		}
		t.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "cutover-pg-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	data := filepath.Join(dir, "data")

	// initdb refuses to run as root: run the server as postgres (or nobody).
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		require.NoError(t, err, "running as root needs an unprivileged user for PostgreSQL")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
	}
	writeFile := func(path string, body []byte, mode os.FileMode) {
		t.Helper()
		require.NoError(t, os.WriteFile(path, body, mode))
		if cred != nil {
			require.NoError(t, os.Chown(path, int(cred.Uid), int(cred.Gid)))
		}
	}

	s := &pgServer{superPass: "super-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	pwfile := filepath.Join(dir, "pw")
	writeFile(pwfile, []byte(s.superPass), 0o600)
	run("initdb", "-D", data, "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--no-sync")

	caPEM, certPEM, keyPEM := testCertificates(t)
	s.ca = x509.NewCertPool()
	require.True(t, s.ca.AppendCertsFromPEM(caPEM))
	writeFile(filepath.Join(data, "server.crt"), certPEM, 0o644)
	writeFile(filepath.Join(data, "server.key"), keyPEM, 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	fmt.Fprintf(conf, "\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nfsync = off\n", s.port, dir)
	require.NoError(t, conf.Close())
	// TLS only: no plain "host" line.
	writeFile(filepath.Join(data, "pg_hba.conf"), []byte("hostssl all all 127.0.0.1/32 scram-sha-256\n"), 0o600)

	run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start")
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		_ = cmd.Run()
		os.RemoveAll(dir)
	})
	return s
}

// testCertificates returns a CA and a server certificate for localhost
// and 127.0.0.1 signed by it, as PEM.
func testCertificates(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cutover test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// exec runs statements as the superuser on a database, over TLS.
func (s *pgServer) exec(t *testing.T, db string, stmts ...string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=localhost port=%d dbname=%s user=postgres sslmode=verify-full", s.port, db))
	require.NoError(t, err)
	cfg.Password = s.superPass
	cfg.TLSConfig.RootCAs = s.ca
	cfg.Fallbacks = nil
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, st := range stmts {
		_, err := conn.Exec(ctx, st)
		require.NoError(t, err, st)
	}
}

func TestComparePostgres(t *testing.T) {
	pg := startPostgres(t)
	const password = "v4lid:at0r'pw"
	pg.exec(t, "postgres",
		"CREATE ROLE validator LOGIN PASSWORD 'v4lid:at0r''pw'",
		"CREATE DATABASE source", "CREATE DATABASE target")
	common := []string{
		"CREATE TABLE orders (id int PRIMARY KEY, item text, amount numeric(10,2), created timestamptz)",
		"INSERT INTO orders SELECT g, 'item-' || g, g * 1.5, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 1000) g",
		"CREATE SCHEMA sales",
		"CREATE TABLE sales.customers (id int PRIMARY KEY, name text)",
		"INSERT INTO sales.customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g",
		"CREATE TABLE items (id int PRIMARY KEY, sku text)",
		"INSERT INTO items SELECT g, 'sku-' || g FROM generate_series(1, 20) g",
		"GRANT USAGE ON SCHEMA sales TO validator",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public, sales TO validator",
	}
	pg.exec(t, "source", append(common, "CREATE TABLE audit (id int)", "GRANT SELECT ON audit TO validator")...)
	pg.exec(t, "target", append(common,
		"DELETE FROM sales.customers WHERE id = 50",
		"UPDATE items SET sku = 'sku-changed' WHERE id = 7")...)

	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	secret := func(name, user, pass string) string {
		out, err := cloud.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass)),
		})
		require.NoError(t, err)
		return aws.ToString(out.ARN)
	}
	good := secret("validate/source", "validator", password)
	bad := secret("validate/wrong", "validator", "not-the-password")
	endpoint := func(db, arn string, ca bool) validate.PostgresEndpoint {
		e := validate.PostgresEndpoint{Host: "localhost", Port: pg.port, Database: db, SecretARN: arn}
		if ca {
			e.RootCAs = pg.ca
		}
		return e
	}
	tables := []string{"orders", "sales.customers", "items", "audit"}

	t.Run("counts and checksums name every differing table", func(t *testing.T) {
		rec := &recorder{}
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), rec, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, true), Target: endpoint("target", good, true), Tables: tables, Checksums: true,
		})
		require.NoError(t, err)
		assert.False(t, r.Passed)
		require.Len(t, r.Instances, 4)
		byTable := map[string]string{}
		for _, inst := range r.Instances {
			byTable[inst.InstanceID] = inst.Status + ": " + inst.Output
			assert.NotContains(t, inst.Output, password)
		}
		assert.Contains(t, byTable["orders"], "Match: rows: source 1000, target 1000; checksum: source ")
		assert.Contains(t, byTable["sales.customers"], "Mismatch: rows: source 50, target 49")
		assert.Contains(t, byTable["items"], "Mismatch: rows: source 20, target 20; checksum")
		assert.Contains(t, byTable["audit"], "Error: target: ")
		assert.Contains(t, byTable["audit"], `relation "public.audit" does not exist`)
		gate := validate.Passed(r)
		require.ErrorIs(t, gate, validate.ErrNotValidated)
		for _, table := range []string{"sales.customers", "items", "audit"} {
			assert.Contains(t, gate.Error(), "rows on "+table)
		}
		assert.NotContains(t, gate.Error(), "rows on orders")
		require.Len(t, rec.results, 1)
	})

	t.Run("counts only: same row counts match", func(t *testing.T) {
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, true), Target: endpoint("target", good, true), Tables: []string{"orders", "items"},
		})
		require.NoError(t, err)
		assert.True(t, r.Passed, "%+v", r.Instances)
		require.NoError(t, validate.Passed(r))
	})

	t.Run("the server certificate is verified", func(t *testing.T) {
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, false), Target: endpoint("target", good, true), Tables: []string{"orders"},
		})
		require.NoError(t, err)
		assert.False(t, r.Passed)
		assert.Equal(t, validate.StatusError, r.Instances[0].Status)
		assert.Contains(t, r.Instances[0].Output, "certificate")
	})

	t.Run("a wrong password fails without showing any password", func(t *testing.T) {
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, true), Target: endpoint("target", bad, true), Tables: []string{"orders"},
		})
		require.NoError(t, err)
		assert.False(t, r.Passed)
		out := r.Instances[0].Output
		assert.Contains(t, out, "password authentication failed")
		assert.NotContains(t, out, "not-the-password")
		assert.NotContains(t, out, password)
	})

	t.Run("credentials come only from a secret ARN", func(t *testing.T) {
		e := endpoint("source", good, true)
		e.SecretARN = "validator:" + password
		_, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{Name: "rows", Source: e, Target: e, Tables: []string{"orders"}})
		require.ErrorContains(t, err, "postgresCompare.source.secretArn")
	})
}

// The fake cloud type is used for the secrets above.
var _ validate.SecretsAPI = (*fakecloud.SecretsManager)(nil)
