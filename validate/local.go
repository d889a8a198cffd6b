package validate

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/migration"
)

// Local checks run from the operator's machine, not on the instances.
// Each returns a migration.ValidationResult with one InstanceResult per
// target (InstanceID is the endpoint or table), records it with rec (nil
// records nothing), and returns an error only for a spec it refuses: a
// failing check is a failed result, which Passed and Gate act on.

// Statuses of the targets of local checks.
const (
	StatusPassed   = "Passed"
	StatusFailed   = "Failed"
	StatusMatch    = "Match"
	StatusMismatch = "Mismatch"
	StatusError    = "Error"
)

// maxBody bounds how much of a response CheckHTTP reads.
const maxBody = 1 << 20

// HTTPCheck is a request from the operator's machine, for example to the
// green endpoint before traffic moves to it.
type HTTPCheck struct {
	// Name of the result, for example "green-health".
	Name string
	// URL to GET. It must be https unless AllowPlainHTTP.
	URL string
	// ExpectStatus is the status to get; 200 when 0. Redirects are not
	// followed: a redirect is its own status.
	ExpectStatus int
	// ExpectBody, when set, must appear in the body (first 1 MiB).
	ExpectBody string
	// RootCAs verify the server certificate; nil means the system pool.
	// Verification is never turned off, and TLS is 1.2 or later.
	RootCAs *x509.CertPool
	// Timeout bounds the request; 10s when 0.
	Timeout time.Duration
	// AllowPlainHTTP permits an http:// URL, for an endpoint behind a
	// TLS-terminating load balancer checked from inside the VPC.
	AllowPlainHTTP bool
}

// Validate checks the spec.
func (c HTTPCheck) Validate() error {
	var errs []error
	if c.Name == "" || len(c.Name) > 128 {
		errs = append(errs, errors.New("httpCheck.name: 1..128 characters required"))
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || u.Host == "":
		errs = append(errs, fmt.Errorf("httpCheck.url: %q is not an absolute URL", c.URL))
	case u.Scheme == "http" && !c.AllowPlainHTTP:
		errs = append(errs, fmt.Errorf("httpCheck.url: %q is plain HTTP; use https, or set AllowPlainHTTP for an endpoint behind TLS termination", c.URL))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, fmt.Errorf("httpCheck.url: scheme %q is not https", u.Scheme))
	case u.User != nil:
		errs = append(errs, errors.New("httpCheck.url: credentials in the URL are refused"))
	}
	if c.ExpectStatus != 0 && (c.ExpectStatus < 100 || c.ExpectStatus > 599) {
		errs = append(errs, fmt.Errorf("httpCheck.expectStatus: %d is not an HTTP status", c.ExpectStatus))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("httpCheck.timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

// CheckHTTP sends one GET and passes when the status and body are as
// expected.
func CheckHTTP(ctx context.Context, env migration.Env, rec Recorder, c HTTPCheck) (migration.ValidationResult, error) {
	if err := migration.Validate(env, c); err != nil {
		return migration.ValidationResult{}, fmt.Errorf("check http %q: %w", c.Name, err)
	}
	inst := migration.InstanceResult{InstanceID: c.URL}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(c.Timeout, 10*time.Second))
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12},
			Proxy:           http.ProxyFromEnvironment,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	want := cmp.Or(c.ExpectStatus, http.StatusOK)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
			resp.Body.Close()
			switch {
			case rerr != nil:
				err = fmt.Errorf("reading the body: %w", rerr)
			case resp.StatusCode != want:
				inst.Output = fmt.Sprintf("HTTP %d, expected %d", resp.StatusCode, want)
			case c.ExpectBody != "" && !strings.Contains(string(body), c.ExpectBody):
				inst.Output = fmt.Sprintf("HTTP %d, but the body does not contain %q", resp.StatusCode, c.ExpectBody)
			default:
				inst.Passed, inst.Output = true, fmt.Sprintf("HTTP %d", resp.StatusCode)
			}
		}
	}
	if err != nil {
		inst.Output = err.Error()
	}
	return finishLocal(ctx, env, rec, c.Name, inst)
}

// TCPCheck connects to a TCP endpoint from the operator's machine, for
// example the target database's port over the VPN.
type TCPCheck struct {
	Name string
	// Address is host:port.
	Address string
	// Timeout bounds the connection; 5s when 0.
	Timeout time.Duration
}

// Validate checks the spec.
func (c TCPCheck) Validate() error {
	var errs []error
	if c.Name == "" || len(c.Name) > 128 {
		errs = append(errs, errors.New("tcpCheck.name: 1..128 characters required"))
	}
	if host, port, err := net.SplitHostPort(c.Address); err != nil || host == "" || port == "" {
		errs = append(errs, fmt.Errorf("tcpCheck.address: %q is not host:port", c.Address))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("tcpCheck.timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

// CheckTCP passes when a TCP connection to the address succeeds.
func CheckTCP(ctx context.Context, env migration.Env, rec Recorder, c TCPCheck) (migration.ValidationResult, error) {
	if err := migration.Validate(env, c); err != nil {
		return migration.ValidationResult{}, fmt.Errorf("check tcp %q: %w", c.Name, err)
	}
	inst := migration.InstanceResult{InstanceID: c.Address}
	d := net.Dialer{Timeout: cmp.Or(c.Timeout, 5*time.Second)}
	conn, err := d.DialContext(ctx, "tcp", c.Address)
	if err != nil {
		inst.Output = err.Error()
	} else {
		inst.Passed, inst.Output = true, "connected to "+conn.RemoteAddr().String()
		conn.Close()
	}
	return finishLocal(ctx, env, rec, c.Name, inst)
}

// finishLocal builds, records and returns the result of a local check.
func finishLocal(ctx context.Context, env migration.Env, rec Recorder, name string, insts ...migration.InstanceResult) (migration.ValidationResult, error) {
	r := migration.ValidationResult{Name: name, At: env.Now(), Passed: len(insts) > 0}
	for i := range insts {
		if insts[i].Status == "" {
			insts[i].Status = StatusFailed
			if insts[i].Passed {
				insts[i].Status = StatusPassed
			}
		}
		insts[i].Output = tail(Redact(insts[i].Output), MaxExcerpt)
		if !insts[i].Passed {
			r.Passed = false
			env.Log().Warn("local check failed", "check", name, "target", insts[i].InstanceID, "status", insts[i].Status)
		}
	}
	r.Instances = insts
	if rec != nil {
		if err := rec.RecordValidation(context.WithoutCancel(ctx), r); err != nil {
			return r, fmt.Errorf("check %q: record result: %w", name, err)
		}
	}
	return r, nil
}
