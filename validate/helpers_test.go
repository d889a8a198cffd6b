package validate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

// newEnv returns an env on a fresh fake cloud, collecting its changes.
func newEnv(t *testing.T) (migration.Env, *fakecloud.Cloud, *migration.Report) {
	t.Helper()
	cloud := fakecloud.New()
	report := &migration.Report{}
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}
	return env, cloud, report
}

const secretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-target-dev-AbCdEf"

var (
	appCheck = validate.ApplicationHealth{Port: 8443, Path: "/health", TLS: true, ServerName: "app.corp.example", CAFile: "/etc/pki/corp-ca.pem", ExpectBody: `"status":"UP"`}
	dbCheck  = validate.DatabaseConnectivity{Host: "rds-target-dev.abc123.us-east-1.rds.amazonaws.com", Database: "orders", SecretARN: secretARN, RootCertFile: "/etc/pki/rds/global-bundle.pem"}
	svcCheck = validate.ServiceAvailability{Units: []string{"app.service", "nginx.service"}, Ports: []int{8443, 9090}}
	fsCheck  = validate.FileStorage{MountPoint: "/mnt/files", FSType: "nfs4", ReadPath: ".cutover/sentinel"}
)

// docSpec is the application health document of env.
func docSpec(env migration.Env) validate.DocumentSpec {
	return validate.DocumentSpec{Name: env.Name(validate.DocApplication), Description: "health", Checks: []validate.Check{appCheck}}
}

// fullSpec is a spec with every check, targeting wave 1.
func fullSpec(keyARN string) validate.Spec {
	app, db, svc, fs := appCheck, dbCheck, svcCheck, fsCheck
	return validate.Spec{
		KMSKeyARN: keyARN, Targets: map[string][]string{"Wave": {"1"}},
		Application: &app, Database: &db, Services: &svc, Files: &fs,
		Schedule: "rate(30 minutes)",
	}
}

func writeOps(cloud *fakecloud.Cloud) []string {
	var ops []string
	for _, c := range cloud.Writes() {
		ops = append(ops, c.Op)
	}
	return ops
}

func actions(r *migration.Report) []migration.Action {
	var out []migration.Action
	for _, c := range r.Changes() {
		out = append(out, c.Action)
	}
	return out
}

// registerWave registers n managed instances tagged Wave=1 and named
// app-01.., and returns their IDs in order.
func registerWave(cloud *fakecloud.Cloud, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-0%016x", i+1)
		cloud.SSM().RegisterInstance(ids[i], map[string]string{"Wave": "1", "Role": "app", "Name": fmt.Sprintf("app-%02d", i+1)})
	}
	return ids
}

// recorder is a Recorder that keeps what it is given.
type recorder struct {
	mu      sync.Mutex
	results []migration.ValidationResult
	err     error
}

func (r *recorder) RecordValidation(_ context.Context, v migration.ValidationResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, v)
	return r.err
}

// ensureDoc ensures the application health document.
func ensureDoc(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) validate.Document {
	t.Helper()
	d, err := validate.EnsureDocument(context.Background(), env, cloud.SSM(), docSpec(env))
	require.NoError(t, err)
	return d
}
