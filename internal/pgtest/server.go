//go:build unix

package pgtest

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

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Server is a running PostgreSQL that accepts only TLS connections, on
// 127.0.0.1, with scram-sha-256 passwords. It is stopped and its files
// removed when the test that started it ends.
type Server struct {
	// Port is the TCP port on 127.0.0.1 (the host name localhost works).
	Port int
	// CA verifies the server certificate (verify-full).
	CA *x509.CertPool
	// SuperPassword is the password of the superuser "postgres".
	SuperPassword string
}

// BinDir finds initdb and pg_ctl: pg_config --bindir, else the newest
// /usr/lib/postgresql/*/bin; "" when neither has them.
func BinDir() string {
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

// Start starts a server, or skips the test when the binaries are not
// installed (fails it when CUTOVER_REQUIRE_POSTGRES is set). conf holds
// extra postgresql.conf lines, for example "wal_level = logical". The only
// waiting is pg_ctl's own bounded wait for the server to accept
// connections (-w -t 60).
func Start(t testing.TB, conf ...string) *Server {
	t.Helper()
	bin := BinDir()
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

	s := &Server{SuperPassword: "super-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	pwfile := filepath.Join(dir, "pw")
	writeFile(pwfile, []byte(s.SuperPassword), 0o600)
	run("initdb", "-D", data, "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--no-sync")

	caPEM, certPEM, keyPEM := certificates(t)
	s.CA = x509.NewCertPool()
	require.True(t, s.CA.AppendCertsFromPEM(caPEM))
	writeFile(filepath.Join(data, "server.crt"), certPEM, 0o644)
	writeFile(filepath.Join(data, "server.key"), keyPEM, 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	fmt.Fprintf(f, "\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nfsync = off\n", s.Port, dir)
	for _, line := range conf {
		fmt.Fprintln(f, line)
	}
	require.NoError(t, f.Close())
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

// certificates returns a CA and a server certificate for localhost and
// 127.0.0.1 signed by it, as PEM.
func certificates(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
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

// Connect opens a verify-full TLS connection to db as user, closed when
// the test ends.
func (s *Server) Connect(t testing.TB, db, user, password string) *pgx.Conn {
	t.Helper()
	conn, err := s.TryConnect(db, user, password)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TryConnect is Connect for a test that expects it may fail; the caller
// closes the connection.
func (s *Server) TryConnect(db, user, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=localhost port=%d dbname=%s user=%s sslmode=verify-full", s.Port, db, user))
	if err != nil {
		return nil, err
	}
	cfg.Password = password
	cfg.TLSConfig.RootCAs = s.CA
	cfg.Fallbacks = nil
	return pgx.ConnectConfig(context.Background(), cfg)
}

// Exec runs statements, each in its own transaction, as the superuser on
// db, over TLS.
func (s *Server) Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	conn, err := s.TryConnect(db, "postgres", s.SuperPassword)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	for _, st := range stmts {
		_, err := conn.Exec(context.Background(), st)
		require.NoError(t, err, st)
	}
}
