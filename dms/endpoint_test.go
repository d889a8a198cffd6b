package dms_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// endpointDeps makes what the source endpoint needs: the CA and the
// access role for the source secret (created just now: not yet usable by
// DMS).
func (f *fixture) endpointDeps() (cert dms.Certificate, role migration.Role) {
	f.t.Helper()
	cert, err := dms.EnsureCertificate(f.ctx, f.env, f.cloud.DMS(), dms.CertificateSpec{Name: dms.CertSource, PEM: f.pem})
	require.NoError(f.t, err)
	role, err = dms.EnsureSecretsRole(f.ctx, f.env, f.cloud.IAM(), dms.SecretsRoleSpec{SecretARNs: []string{f.source}, KMSKeyARNs: []string{f.key}})
	require.NoError(f.t, err)
	return cert, role
}

func (f *fixture) sourceEndpoint(cert dms.Certificate, role migration.Role) dms.EndpointSpec {
	return dms.EndpointSpec{Name: dms.EndpointSource, DatabaseName: "monolith", SecretARN: f.source, AccessRoleARN: role.ARN,
		CertificateARN: cert.ARN, KMSKeyARN: f.key, PostgreSQL: dms.PostgreSQLOptions{HeartbeatEnable: true}}
}

func (f *fixture) describeEndpoint(id string) dmstypes.Endpoint {
	f.t.Helper()
	out, err := f.cloud.DMS().DescribeEndpoints(f.ctx, &awsdms.DescribeEndpointsInput{Filters: []dmstypes.Filter{{Name: aws.String("endpoint-id"), Values: []string{id}}}})
	require.NoError(f.t, err)
	require.Len(f.t, out.Endpoints, 1)
	return out.Endpoints[0]
}

// A new access role is not assumable for some seconds; DMS answers
// AccessDeniedFault and EnsureEndpoint retries exactly that.
func TestEndpointWaitsForRolePropagation(t *testing.T) {
	f := newFixture(t)
	cert, role := f.endpointDeps()
	f.reset()
	ep, err := dms.EnsureEndpoint(f.ctx, f.env, f.cloud.DMS(), f.sourceEndpoint(cert, role))
	require.NoError(t, err)
	assert.Contains(t, f.codes(), "AccessDeniedFault")
	assert.Equal(t, []string{"CreateEndpoint"}, f.writes())
	got := f.describeEndpoint("dms-source-dev")
	assert.Equal(t, ep.ARN, aws.ToString(got.EndpointArn))
	assert.Equal(t, dmstypes.DmsSslModeValueVerifyFull, got.SslMode)
	assert.Equal(t, f.source, aws.ToString(got.PostgreSQLSettings.SecretsManagerSecretId))
	assert.Empty(t, aws.ToString(got.Username), "no clear-text credentials")
	assert.Empty(t, aws.ToString(got.ServerName))

	// A role that may not read the secret keeps failing: the retries end
	// with DMS's error.
	bad := f.sourceEndpoint(cert, role)
	bad.Name, bad.SecretARN = dms.EndpointReverseTarget, f.createSecret("other", f.key, map[string]any{"username": "u", "password": "p", "host": "h", "port": 1})
	bad.PostgreSQL = dms.PostgreSQLOptions{}
	_, err = dms.EnsureEndpoint(f.ctx, f.env, f.cloud.DMS(), bad)
	require.ErrorContains(t, err, "not allowed secretsmanager:GetSecretValue")
}

func TestEnsureEndpoint(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fixture, arn string)
		dryRun     bool
		edit       func(f *fixture, s *dms.EndpointSpec)
		wantAction migration.Action
		wantWrites []string
		wantErr    string
	}{
		{name: "converged makes no write", wantAction: migration.ActionNoop},
		{name: "TLS downgraded by hand is restored", setup: func(f *fixture, arn string) {
			_, err := f.cloud.DMS().ModifyEndpoint(f.ctx, &awsdms.ModifyEndpointInput{EndpointArn: aws.String(arn), SslMode: dmstypes.DmsSslModeValueRequire})
			require.NoError(f.t, err)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyEndpoint"}},
		{name: "settings converge", edit: func(f *fixture, s *dms.EndpointSpec) {
			s.PostgreSQL.HeartbeatFrequencyMinutes, s.PostgreSQL.SlotName, s.DatabaseName = 2, "dms_forward", "monolith2"
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyEndpoint"}},
		{name: "a removed tag converges", setup: func(f *fixture, arn string) {
			_, err := f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"ManagedBy"}})
			require.NoError(f.t, err)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"AddTagsToResource"}},
		{name: "a KMS key change is refused", edit: func(f *fixture, s *dms.EndpointSpec) { s.KMSKeyARN = f.otherKey() }, wantErr: "kms key is immutable"},
		{name: "an engine change is refused", edit: func(f *fixture, s *dms.EndpointSpec) { s.Engine = "aurora-postgresql" }, wantErr: "engine is immutable"},
		{name: "a look-alike without the ownership tag is not adopted", setup: func(f *fixture, arn string) {
			_, err := f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{migration.OwnerTag}})
			require.NoError(f.t, err)
		}, wantErr: "refusing to adopt"},
		{name: "dry run reports drift and writes nothing", dryRun: true, edit: func(f *fixture, s *dms.EndpointSpec) { s.DatabaseName = "other" },
			wantAction: migration.ActionUpdate},
		{name: "dry run with a pending role reports create without a call", dryRun: true,
			edit: func(f *fixture, s *dms.EndpointSpec) {
				s.Name, s.AccessRoleARN, s.PostgreSQL = dms.EndpointReverseTarget, migration.Pending("role"), dms.PostgreSQLOptions{}
			},
			wantAction: migration.ActionCreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cert, role := f.endpointDeps()
			spec := f.sourceEndpoint(cert, role)
			ep, err := dms.EnsureEndpoint(f.ctx, f.env, f.cloud.DMS(), spec)
			require.NoError(t, err)
			if tt.setup != nil {
				tt.setup(f, ep.ARN)
			}
			if tt.edit != nil {
				tt.edit(f, &spec)
			}
			f.reset()
			f.env.DryRun = tt.dryRun
			got, err := dms.EnsureEndpoint(f.ctx, f.env, f.cloud.DMS(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure dms endpoint "dms-source-dev"`)
				assert.Empty(t, f.cloud.Writes())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(f.report))
			assert.Equal(t, tt.wantWrites, f.writes())
			if tt.dryRun {
				if tt.wantAction == migration.ActionCreate {
					assert.True(t, migration.IsPending(got.ARN))
					assert.Empty(t, f.cloud.Calls())
				}
				return
			}
			// Converged: the second run is a no-op.
			f.reset()
			_, err = dms.EnsureEndpoint(f.ctx, f.env, f.cloud.DMS(), spec)
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{migration.ActionNoop}, actions(f.report))
			assert.Empty(t, f.cloud.Writes())
			assert.Equal(t, dmstypes.DmsSslModeValueVerifyFull, f.describeEndpoint("dms-source-dev").SslMode)
		})
	}
}

func TestEnsureCertificate(t *testing.T) {
	f := newFixture(t)
	spec := dms.CertificateSpec{Name: dms.CertSource, PEM: f.pem}
	c, err := dms.EnsureCertificate(f.ctx, f.env, f.cloud.DMS(), spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"ImportCertificate"}, f.writes())
	assert.Equal(t, "dms-cert-source-dev", c.ID)

	// Converged; whitespace around the PEM does not matter.
	f.reset()
	spec.PEM = "\n" + f.pem + "\n\n"
	_, err = dms.EnsureCertificate(f.ctx, f.env, f.cloud.DMS(), spec)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, []migration.Action{migration.ActionNoop}, actions(f.report))

	// Another CA under the same name is refused: certificates are
	// immutable.
	f.reset()
	_, err = dms.EnsureCertificate(f.ctx, f.env, f.cloud.DMS(), dms.CertificateSpec{Name: dms.CertSource, PEM: f.pem2})
	require.ErrorContains(t, err, "certificate is immutable")
	assert.Empty(t, f.cloud.Writes())

	// Dry run of a missing one.
	f.reset()
	dry := f.env
	dry.DryRun = true
	c2, err := dms.EnsureCertificate(f.ctx, dry, f.cloud.DMS(), dms.CertificateSpec{Name: dms.CertTarget, PEM: f.pem2})
	require.NoError(t, err)
	assert.True(t, migration.IsPending(c2.ARN))
	assert.Empty(t, f.cloud.Writes())

	// A look-alike without the ownership tag is neither adopted nor
	// deleted.
	_, err = f.cloud.DMS().ImportCertificate(f.ctx, &awsdms.ImportCertificateInput{CertificateIdentifier: aws.String("dms-cert-target-dev"), CertificatePem: aws.String(f.pem2)})
	require.NoError(t, err)
	_, err = dms.EnsureCertificate(f.ctx, f.env, f.cloud.DMS(), dms.CertificateSpec{Name: dms.CertTarget, PEM: f.pem2})
	require.ErrorContains(t, err, "refusing to adopt")
	f.reset()
	require.NoError(t, dms.DeleteCertificate(f.ctx, f.env, f.cloud.DMS(), dms.CertificateSpec{Name: dms.CertTarget}))
	assert.Empty(t, f.cloud.Writes())
	assert.Contains(t, f.cloud.DMS().Resources()["certificate"], "dms-cert-target-dev")
}

// Deletes wait for their dependents: a certificate and endpoint in use by
// a task that is being deleted go once the task is gone.
func TestDeleteEndpointAndCertificate(t *testing.T) {
	f := newFixture(t)
	out := f.apply(f.spec())
	api := f.cloud.DMS()

	// In use by a task that is not going away: the delete waits, then
	// fails with DMS's error.
	err := dms.DeleteEndpoint(f.ctx, f.env, api, dms.EndpointSpec{Name: dms.EndpointSource})
	require.ErrorContains(t, err, "InvalidResourceStateFault")
	assert.Contains(t, err.Error(), "in use by replication task")

	// Start deleting the task without waiting: the endpoint delete waits
	// until the task is gone.
	_, err = api.DeleteReplicationTask(f.ctx, &awsdms.DeleteReplicationTaskInput{ReplicationTaskArn: aws.String(out.Forward.ARN)})
	require.NoError(t, err)
	f.reset()
	start := f.cloud.Clock().Now()
	require.NoError(t, dms.DeleteEndpoint(f.ctx, f.env, api, dms.EndpointSpec{Name: dms.EndpointSource}))
	assert.Greater(t, f.cloud.Clock().Now().Sub(start), 10*time.Second)
	assert.Contains(t, f.codes(), "InvalidResourceStateFault")
	assert.NotContains(t, f.cloud.DMS().Resources()["endpoint"], "dms-source-dev")

	// The reverse target still uses the source CA.
	require.Error(t, dms.DeleteCertificate(f.ctx, f.env, api, dms.CertificateSpec{Name: dms.CertSource}))
	require.NoError(t, dms.DeleteTask(f.ctx, f.env, api, dms.TaskSpec{Direction: dms.Reverse}))
	require.NoError(t, dms.DeleteEndpoint(f.ctx, f.env, api, dms.EndpointSpec{Name: dms.EndpointReverseTarget}))
	f.reset()
	require.NoError(t, dms.DeleteCertificate(f.ctx, f.env, api, dms.CertificateSpec{Name: dms.CertSource}))
	assert.Equal(t, []string{"DeleteCertificate"}, f.writes())

	// Gone: no-ops.
	f.reset()
	require.NoError(t, dms.DeleteEndpoint(f.ctx, f.env, api, dms.EndpointSpec{Name: dms.EndpointSource}))
	require.NoError(t, dms.DeleteCertificate(f.ctx, f.env, api, dms.CertificateSpec{Name: dms.CertSource}))
	assert.Empty(t, f.cloud.Writes())
}

// The secrets role reads exactly the endpoint secrets and decrypts only
// through Secrets Manager; its trust is the regional DMS principal of
// this account.
func TestSecretsRolePolicy(t *testing.T) {
	f := newFixture(t)
	spec := dms.SecretsRoleSpec{SecretARNs: []string{f.source}, KMSKeyARNs: []string{f.key, f.key}}
	rs := spec.RoleSpec(f.env)
	require.NoError(t, rs.Validate(), "passes CheckLeastPrivilege")
	doc := rs.Inline["read-endpoint-secrets"]
	require.Len(t, doc.Statement, 2)
	assert.Equal(t, migration.Strings{f.source}, doc.Statement[0].Resource)
	assert.Equal(t, migration.Strings{"secretsmanager:GetSecretValue"}, doc.Statement[0].Action)
	assert.Equal(t, migration.Strings{f.key}, doc.Statement[1].Resource, "one key, once")
	assert.Equal(t, migration.Strings{"secretsmanager.us-east-1.amazonaws.com"}, doc.Statement[1].Condition["StringEquals"]["kms:ViaService"])
	trust := rs.Trust.Statement[0]
	assert.Equal(t, migration.Strings{"dms.us-east-1.amazonaws.com"}, trust.Principal.Service)
	assert.Equal(t, migration.Strings{f.env.Account}, trust.Condition["StringEquals"]["aws:SourceAccount"])

	r, err := dms.EnsureSecretsRole(f.ctx, f.env, f.cloud.IAM(), spec)
	require.NoError(t, err)
	assert.Equal(t, "dms-secrets-role-dev", r.Name)
	f.reset()
	_, err = dms.EnsureSecretsRole(f.ctx, f.env, f.cloud.IAM(), spec)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	require.NoError(t, dms.DeleteSecretsRole(f.ctx, f.env, f.cloud.IAM(), dms.SecretsRoleSpec{}))
	assert.NotContains(t, f.cloud.IAM().Roles(), "dms-secrets-role-dev")

	// The service roles are shared: ensured with exactly their policies,
	// never deleted.
	_, err = dms.EnsureServiceRoles(f.ctx, f.env, f.cloud.IAM())
	require.NoError(t, err)
	assert.Equal(t, []string{dms.VPCRolePolicy}, f.cloud.IAM().RoleAttached(dms.VPCRoleName))
	assert.Equal(t, []string{dms.LogsRolePolicy}, f.cloud.IAM().RoleAttached(dms.LogsRoleName))
	for _, s := range dms.ServiceRoleSpecs() {
		assert.True(t, s.Shared)
		require.NoError(t, migration.DeleteRole(f.ctx, f.env, f.cloud.IAM(), s))
	}
	assert.Contains(t, f.cloud.IAM().Roles(), dms.VPCRoleName)
}
