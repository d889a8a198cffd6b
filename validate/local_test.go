package validate_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/validate"
)

func TestCheckHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"status":"UP"}`) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/health", http.StatusFound) })
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	plain := httptest.NewServer(mux)
	defer plain.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	tests := []struct {
		name       string
		check      validate.HTTPCheck
		wantErr    string
		wantPassed bool
		wantOut    string
	}{
		{name: "healthy over verified TLS", check: validate.HTTPCheck{Name: "green", URL: srv.URL + "/health", RootCAs: pool, ExpectBody: `"UP"`}, wantPassed: true, wantOut: "HTTP 200"},
		{name: "unexpected body", check: validate.HTTPCheck{Name: "green", URL: srv.URL + "/health", RootCAs: pool, ExpectBody: "DOWN"}, wantOut: `does not contain "DOWN"`},
		{name: "a redirect is not followed", check: validate.HTTPCheck{Name: "green", URL: srv.URL + "/moved", RootCAs: pool}, wantOut: "HTTP 302, expected 200"},
		{name: "a missing page", check: validate.HTTPCheck{Name: "green", URL: srv.URL + "/nope", RootCAs: pool}, wantOut: "HTTP 404, expected 200"},
		{name: "a certificate from an unknown CA fails", check: validate.HTTPCheck{Name: "green", URL: srv.URL + "/health"}, wantOut: "certificate"},
		{name: "plain HTTP is refused by default", check: validate.HTTPCheck{Name: "green", URL: plain.URL + "/health"}, wantErr: "httpCheck.url"},
		{name: "plain HTTP when allowed", check: validate.HTTPCheck{Name: "green", URL: plain.URL + "/health", AllowPlainHTTP: true}, wantPassed: true},
		{name: "credentials in the URL are refused", check: validate.HTTPCheck{Name: "green", URL: "https://u:p@example.com/"}, wantErr: "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _, _ := newEnv(t)
			rec := &recorder{}
			r, err := validate.CheckHTTP(context.Background(), env, rec, tt.check)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, rec.results)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantPassed, r.Passed)
			require.Len(t, r.Instances, 1)
			assert.Equal(t, tt.check.URL, r.Instances[0].InstanceID)
			assert.Contains(t, r.Instances[0].Output, tt.wantOut)
			require.Len(t, rec.results, 1)
			assert.Equal(t, r, rec.results[0])
			if !tt.wantPassed {
				require.ErrorIs(t, validate.Passed(r), validate.ErrNotValidated)
				assert.Contains(t, validate.Passed(r).Error(), "green on "+tt.check.URL)
			}
		})
	}
}

func TestCheckTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()
	env, _, _ := newEnv(t)

	r, err := validate.CheckTCP(context.Background(), env, nil, validate.TCPCheck{Name: "db-port", Address: ln.Addr().String()})
	require.NoError(t, err)
	assert.True(t, r.Passed)
	assert.Equal(t, validate.StatusPassed, r.Instances[0].Status)

	r, err = validate.CheckTCP(context.Background(), env, nil, validate.TCPCheck{Name: "db-port", Address: closedAddr})
	require.NoError(t, err)
	assert.False(t, r.Passed)
	assert.Equal(t, validate.StatusFailed, r.Instances[0].Status)
	assert.True(t, strings.Contains(r.Instances[0].Output, "refused"), r.Instances[0].Output)

	_, err = validate.CheckTCP(context.Background(), env, nil, validate.TCPCheck{Name: "db-port", Address: "db"})
	require.ErrorContains(t, err, "tcpCheck.address")
}
