package dms_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// sourcePassword is the on-premises password in the source secret; the
// leak test looks for it everywhere.
const sourcePassword = "Src-P4ssw0rd-never-logged"

// fixture is a fake cloud holding what the dms package takes from other
// packages: the env key, three private subnets in three zones, the
// operator's source secret and two CA certificates.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	cloud   *fakecloud.Cloud
	env     migration.Env
	report  *migration.Report
	key     string
	subnets []string
	source  string // source secret ARN
	pem     string
	pem2    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	cloud := fakecloud.New()
	f := &fixture{t: t, ctx: ctx, cloud: cloud, report: &migration.Report{}}
	f.env = migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: f.report}
	key, err := migration.EnsureKey(ctx, f.env, cloud.KMS(), migration.KeySpec{})
	require.NoError(t, err)
	f.key = key.ARN
	for i, az := range []string{"a", "b", "c"} {
		id := "subnet-0private" + az
		cloud.DMS().AddSubnet(id, "vpc-0migration", cloud.Region()+az)
		if i < 3 {
			f.subnets = append(f.subnets, id)
		}
	}
	f.source = f.createSecret("onprem/pg13/migrator", f.key, map[string]any{"username": "migrator", "password": sourcePassword, "host": "pg13.dc1.example.internal", "port": 5432})
	f.pem, f.pem2 = testCA(t, "dc1 root CA"), testCA(t, "rds-ca-rsa2048-g1")
	f.reset()
	return f
}

// createSecret creates a secret directly in the fake (as an operator
// would) and returns its ARN.
func (f *fixture) createSecret(name, key string, value map[string]any) string {
	f.t.Helper()
	b, err := json.Marshal(value)
	require.NoError(f.t, err)
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))}
	if key != "" {
		in.KmsKeyId = aws.String(key)
	}
	out, err := f.cloud.SecretsManager().CreateSecret(f.ctx, in)
	require.NoError(f.t, err)
	return aws.ToString(out.ARN)
}

// reset empties the call log and starts a new report.
func (f *fixture) reset() {
	f.cloud.ResetCalls()
	f.report = &migration.Report{}
	f.env.Reporter = f.report
}

// writes returns the write operations of the call log, in order.
func (f *fixture) writes() []string {
	var out []string
	for _, c := range f.cloud.Writes() {
		if c.Code == "" {
			out = append(out, c.Op)
		}
	}
	return out
}

// calls counts the calls of one operation (any outcome).
func (f *fixture) calls(service, op string) int { return f.cloud.Count(service, op) }

// codes returns the error codes the call log saw.
func (f *fixture) codes() []string {
	var out []string
	for _, c := range f.cloud.Calls() {
		if c.Code != "" {
			out = append(out, c.Code)
		}
	}
	return out
}

func actions(r *migration.Report) []migration.Action {
	var out []migration.Action
	for _, c := range r.Changes() {
		out = append(out, c.Action)
	}
	return out
}

// change returns the one change of kind and name.
func change(t *testing.T, r *migration.Report, kind, name string) migration.Change {
	t.Helper()
	var found []migration.Change
	for _, c := range r.Changes() {
		if c.Kind == kind && c.Name == name {
			found = append(found, c)
		}
	}
	require.Len(t, found, 1, "changes of %s %s: %v", kind, name, r.Changes())
	return found[0]
}

// spec is the reference migration on the fixture's cloud.
func (f *fixture) spec() dms.Spec {
	return dms.Spec{
		SourceSizeGB:     500,
		PrivateSubnetIDs: f.subnets,
		SecurityGroupIDs: []string{"sg-0dms"},
		KMSKeyARN:        f.key,
		Source:           dms.SourceSpec{SecretARN: f.source, DatabaseName: "monolith", CACertificatePEM: f.pem},
		Target:           dms.TargetSpec{DatabaseName: "monolith", CACertificatePEM: f.pem2, SecurityGroupIDs: []string{"sg-0rds"}},
		Tables: dms.TableSelection{
			Include: []dms.TableRef{{Schema: "public", Table: "%"}, {Schema: "billing", Table: "invoice_lines"}},
			Exclude: []dms.TableRef{{Schema: "public", Table: "session_cache"}},
		},
	}
}

// stack applies the whole DMS side with Steps and returns its outputs.
func (f *fixture) stack(spec dms.Spec) (*migration.Runbook, *dms.Outputs) {
	f.t.Helper()
	out := &dms.Outputs{}
	c := dms.Clients{DMS: f.cloud.DMS(), RDS: f.cloud.RDS(), Secrets: f.cloud.SecretsManager(), IAM: f.cloud.IAM()}
	rb, err := migration.NewRunbook(migration.Options{}, dms.Steps(c, func() dms.Spec { return spec }, out)...)
	require.NoError(f.t, err)
	return rb, out
}

func (f *fixture) apply(spec dms.Spec) *dms.Outputs {
	f.t.Helper()
	rb, out := f.stack(spec)
	require.NoError(f.t, rb.Apply(f.ctx, f.env))
	return out
}

// testCA returns a self-signed CA certificate in PEM.
func testCA(t *testing.T, cn string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: fakecloud.Epoch.Add(-24 * time.Hour), NotAfter: fakecloud.Epoch.Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// deleteNow deletes a secret without a recovery window.
func deleteNow(arn string) *secretsmanager.DeleteSecretInput {
	return &secretsmanager.DeleteSecretInput{SecretId: aws.String(arn), ForceDeleteWithoutRecovery: aws.Bool(true)}
}
