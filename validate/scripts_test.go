package validate_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/validate"
)

// The scripts of the generated documents, run under /bin/sh (dash on
// Debian: POSIX only) the way the SSM Agent runs them, against stub or
// real tools.

// agent runs one step of the check's document: every parameter takes its
// default or override, passed as SSM_<name> (envVar: agents with ENV_VAR
// interpolation) or substituted into the '{{ name }}' fallback (older
// agents). stubs are executables put first on PATH.
func agent(t *testing.T, c validate.Check, step string, overrides map[string]string, envVar bool, stubs map[string]string) (string, int) {
	t.Helper()
	doc := validate.DocumentSpec{Name: "validate-test-dev", Checks: []validate.Check{c}}.Content()
	var lines []string
	for _, s := range doc.MainSteps {
		if s.Name == step {
			lines = s.Inputs.RunCommand
		}
	}
	require.NotEmpty(t, lines, "step %s", step)
	values := map[string]string{}
	for name, p := range doc.Parameters {
		values[name] = *p.Default
	}
	for k, v := range overrides {
		values[k] = v
	}
	script := strings.Join(lines, "\n")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	for name, body := range stubs {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	}
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	for name, v := range values {
		if envVar {
			env = append(env, "SSM_"+name+"="+v)
		} else {
			script = strings.ReplaceAll(script, "{{ "+name+" }}", v)
		}
	}
	path := filepath.Join(dir, "_script.sh")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o700))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", path)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	require.NoError(t, err)
	return string(out), 0
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

func TestScriptApplicationHealth(t *testing.T) {
	need(t, "curl")
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"status":"UP"}`) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	plain := httptest.NewServer(mux)
	defer plain.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	port := func(s *httptest.Server) int { return s.Listener.Addr().(*net.TCPAddr).Port }
	// httptest's certificate names example.com; the script resolves it to
	// 127.0.0.1 and verifies the certificate against it.
	tlsCheck := validate.ApplicationHealth{Port: port(srv), Path: "/health", TLS: true, ServerName: "example.com", CAFile: ca, ExpectBody: `"status":"UP"`}

	tests := []struct {
		name      string
		check     validate.ApplicationHealth
		overrides map[string]string
		wantExit  int
		wantOut   string
	}{
		{"healthy over verified TLS", tlsCheck, nil, 0, fmt.Sprintf("PASS http: https://example.com:%d/health returned HTTP 200", port(srv))},
		{"wrong status", tlsCheck, map[string]string{"httpPath": "/down"}, 1, "returned HTTP 503, expected 200"},
		{"body without the expected text", tlsCheck, map[string]string{"httpExpectBody": "DOWN"}, 1, "does not contain the expected text"},
		{"certificate from an untrusted CA", tlsCheck, map[string]string{"httpCaFile": ""}, 1, "FAIL http: cannot fetch"},
		{"certificate for another name", tlsCheck, map[string]string{"httpServerName": "app.corp.example"}, 1, "FAIL http: cannot fetch"},
		{"plain HTTP on 127.0.0.1", validate.ApplicationHealth{Port: port(plain), Path: "/health"}, nil, 0, "PASS http: http://127.0.0.1:"},
	}
	for _, tt := range tests {
		for _, envVar := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/envVar=%v", tt.name, envVar), func(t *testing.T) {
				out, code := agent(t, tt.check, "applicationHealth", tt.overrides, envVar, nil)
				assert.Equal(t, tt.wantExit, code, out)
				assert.Contains(t, out, tt.wantOut)
			})
		}
	}
}

func TestScriptDatabase(t *testing.T) {
	need(t, "python3")
	password := `p:a\ss'w"d`
	secret := fmt.Sprintf(`{"username":"app_user","password":%s,"engine":"postgres"}`, strconv.Quote(password))
	report := filepath.Join(t.TempDir(), "psql.report")
	// The aws stub checks the call and prints the secret string.
	aws := `[ "$1 $2" = "secretsmanager get-secret-value" ] || exit 9
case " $* " in *" --secret-id ` + secretARN + ` "*) ;; *) exit 8;; esac
case " $* " in *" --region us-east-1 "*) ;; *) exit 7;; esac
cat <<'EOF'
` + secret + `
EOF`
	psql := func(result string) string {
		return `{ echo "user=$PGUSER host=$PGHOST port=$PGPORT db=$PGDATABASE timeout=$PGCONNECT_TIMEOUT"
  echo "args=$*"
  echo "mode=$(stat -c %a "$PGPASSFILE")"
  echo "passfile=$PGPASSFILE"
  printf 'line=%s\n' "$(cat "$PGPASSFILE")"
  echo "pgpassword=${PGPASSWORD:-unset}"; } > ` + report + `
printf '` + result + `'`
	}
	tests := []struct {
		name     string
		stubs    map[string]string
		wantExit int
		wantOut  string
	}{
		{"connects over TLS and the query answers", map[string]string{"aws": aws, "psql": psql(`1\nt\n`)}, 0, "PASS database: " + dbCheck.Host + ":5432/orders over TLS (verify-full) as app_user"},
		{"unexpected query result", map[string]string{"aws": aws, "psql": psql(`0\nt\n`)}, 1, "FAIL database: the query returned 0, expected 1"},
		{"unencrypted session", map[string]string{"aws": aws, "psql": psql(`1\nf\n`)}, 1, "is not encrypted"},
		{"connection refused", map[string]string{"aws": aws, "psql": psql(`psql: error: connection refused\n`) + "; exit 2"}, 1, "FAIL database: " + dbCheck.Host + ":5432/orders: psql: error: connection refused"},
		{"the role may not read the secret", map[string]string{"aws": "echo AccessDenied >&2; exit 254", "psql": "exit 0"}, 1, "FAIL database: cannot read secret " + secretARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(report)
			out, code := agent(t, dbCheck, "databaseConnectivity", nil, true, tt.stubs)
			assert.Equal(t, tt.wantExit, code, out)
			assert.Contains(t, out, tt.wantOut)
			assert.NotContains(t, out, "p:a", "the password never reaches the output")
			if tt.wantExit != 0 && !strings.Contains(tt.name, "query") && !strings.Contains(tt.name, "unencrypted") {
				return
			}
			b, err := os.ReadFile(report)
			require.NoError(t, err)
			got := string(b)
			assert.Contains(t, got, "user=app_user host="+dbCheck.Host+" port=5432 db=orders timeout=10")
			assert.Contains(t, got, "args=-X -A -t -v ON_ERROR_STOP=1 sslmode=verify-full sslrootcert=/etc/pki/rds/global-bundle.pem -c SELECT 1 -c SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
			assert.Contains(t, got, "mode=600", "the password file is private")
			assert.Contains(t, got, `line=*:*:*:*:p\:a\\ss'w"d`, "the password is escaped for the password file")
			assert.Contains(t, got, "pgpassword=unset", "the password is never in the environment")
			assert.NotContains(t, got[strings.Index(got, "args="):strings.Index(got, "mode=")], "p:a", "nor in an argument")
			passfile := strings.TrimSpace(strings.SplitN(strings.SplitN(got, "passfile=", 2)[1], "\n", 2)[0])
			_, err = os.Stat(passfile)
			assert.True(t, os.IsNotExist(err), "the password file is removed on exit")
		})
	}
}

func TestScriptServices(t *testing.T) {
	need(t, "ss")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	open := ln.Addr().(*net.TCPAddr).Port
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := closedLn.Addr().(*net.TCPAddr).Port
	closedLn.Close()
	systemctl := `[ "$1" = is-active ] || exit 9
case "$2" in app.service|nginx.service) echo active;; failed.service) echo failed; exit 3;; *) echo inactive; exit 3;; esac`

	tests := []struct {
		name     string
		check    validate.ServiceAvailability
		step     string
		wantExit int
		want     []string
	}{
		{"active units", validate.ServiceAvailability{Units: []string{"app.service", "nginx.service"}}, "systemdUnits", 0, []string{"PASS unit app.service is active", "PASS unit nginx.service is active"}},
		{"a failed unit", validate.ServiceAvailability{Units: []string{"app.service", "failed.service", "gone.service"}}, "systemdUnits", 1, []string{"PASS unit app.service", "FAIL unit failed.service is failed", "FAIL unit gone.service is inactive"}},
		{"a listening port", validate.ServiceAvailability{Ports: []int{open}}, "listeningPorts", 0, []string{fmt.Sprintf("PASS port %d is listening", open)}},
		{"a closed port", validate.ServiceAvailability{Ports: []int{open, closed}}, "listeningPorts", 1, []string{fmt.Sprintf("FAIL port %d has no listener", closed)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := agent(t, tt.check, tt.step, nil, false, map[string]string{"systemctl": systemctl})
			assert.Equal(t, tt.wantExit, code, out)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
		})
	}
}

func TestScriptFileStorage(t *testing.T) {
	need(t, "timeout", "mountpoint", "findmnt")
	if _, err := os.Stat("/proc/version"); err != nil {
		t.Skip("no /proc")
	}
	notMounted := t.TempDir()
	tests := []struct {
		name     string
		check    validate.FileStorage
		wantExit int
		want     string
	}{
		{"mounted and readable", validate.FileStorage{MountPoint: "/proc", FSType: "proc", ReadPath: "version"}, 0, "PASS files: /proc (proc) is mounted and /proc/version is readable"},
		{"mounted, directory listed", validate.FileStorage{MountPoint: "/proc"}, 0, "PASS files: /proc (proc) is mounted and /proc is readable"},
		{"not a mount point", validate.FileStorage{MountPoint: notMounted}, 1, "FAIL files: " + notMounted + " is not mounted"},
		{"another file system type", validate.FileStorage{MountPoint: "/proc", FSType: "nfs4"}, 1, "FAIL files: /proc is proc, expected nfs4"},
		{"missing file", validate.FileStorage{MountPoint: "/proc", ReadPath: "no-such-file"}, 1, "FAIL files: cannot read /proc/no-such-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.check.Validate())
			out, code := agent(t, tt.check, "fileStorage", nil, true, nil)
			assert.Equal(t, tt.wantExit, code, out)
			assert.Contains(t, out, tt.want)
		})
	}
}

// With ENV_VAR interpolation a parameter value is data: shell code in it
// runs nowhere, even if a value got past the allowed patterns.
func TestScriptParametersAreData(t *testing.T) {
	need(t, "curl")
	marker := filepath.Join(t.TempDir(), "PWNED")
	for _, evil := range []string{"/$(touch PWNED)", "/`touch PWNED`", "/'; touch PWNED; '", "/\"; touch PWNED; \""} {
		t.Run(evil, func(t *testing.T) {
			out, code := agent(t, validate.ApplicationHealth{Port: 1, Path: "/x"}, "applicationHealth", map[string]string{"httpPath": evil}, true, map[string]string{
				"curl":  `printf 200`,
				"touch": `echo touched > ` + marker,
			})
			assert.Equal(t, 0, code, out)
			assert.Contains(t, out, "PASS http: http://127.0.0.1:1"+evil, "the value reached curl verbatim")
			_, err := os.Stat(marker)
			assert.True(t, os.IsNotExist(err), "the value was never run as code")
		})
	}
}
