package migration_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func cloudEnv(t *testing.T) (migration.Env, *fakecloud.Cloud, *migration.Report) {
	t.Helper()
	cloud := fakecloud.New()
	report := &migration.Report{}
	return migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}, cloud, report
}

func writeOps(cloud *fakecloud.Cloud) []string {
	var ops []string
	for _, c := range cloud.Writes() {
		ops = append(ops, c.Op)
	}
	return ops
}

func roleSpec(env migration.Env) migration.RoleSpec {
	return migration.RoleSpec{
		Name:            env.Name("dms-secrets-role"),
		Description:     "DMS reads the endpoint secrets",
		Trust:           migration.TrustPolicy("dms.us-east-1.amazonaws.com"),
		ManagedPolicies: []string{"arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole"},
		Inline: map[string]migration.PolicyDocument{"secrets": migration.NewPolicy(
			migration.Allow("ReadSecrets", []string{"secretsmanager:GetSecretValue"}, []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}),
		)},
	}
}

func TestEnsureRole(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud)
		edit       func(s *migration.RoleSpec)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantErr    string
	}{
		{name: "missing is created", wantAction: migration.ActionCreate, wantWrites: []string{"CreateRole", "AttachRolePolicy", "PutRolePolicy"}},
		{name: "converged makes no write", setup: ensureRoleOnce, wantAction: migration.ActionNoop},
		{
			name: "drift converges: extra policy detached, inline rewritten, trust restored",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				ensureRoleOnce(t, env, cloud)
				name := aws.String(env.Name("dms-secrets-role"))
				_, err := cloud.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")})
				require.NoError(t, err)
				_, err = cloud.IAM().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String("secrets"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::x/*"}]}`)})
				require.NoError(t, err)
				_, err = cloud.IAM().UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(migration.TrustPolicy("ec2.amazonaws.com").JSON())})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"UpdateAssumeRolePolicy", "DetachRolePolicy", "PutRolePolicy"},
		},
		{
			name: "an unowned role of that name is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				_, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(env.Name("dms-secrets-role")), AssumeRolePolicyDocument: aws.String(migration.TrustPolicy("dms.amazonaws.com").JSON())})
				require.NoError(t, err)
			},
			wantErr: "refusing to adopt",
		},
		{
			name:    "path is immutable",
			setup:   ensureRoleOnce,
			edit:    func(s *migration.RoleSpec) { s.Path = "/service-role/" },
			wantErr: "path is immutable",
		},
		{name: "dry run writes nothing", dryRun: true, wantAction: migration.ActionCreate},
		{
			name: "a shared role only gains what it lacks",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				_, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dms-vpc-role"), AssumeRolePolicyDocument: aws.String(migration.TrustPolicy("dms.amazonaws.com").JSON())})
				require.NoError(t, err)
				_, err = cloud.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("dms-vpc-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")})
				require.NoError(t, err)
			},
			edit: func(s *migration.RoleSpec) {
				*s = migration.RoleSpec{Name: "dms-vpc-role", Shared: true, Trust: migration.TrustPolicy("dms.amazonaws.com"),
					ManagedPolicies: []string{"arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"}}
			},
			wantAction: migration.ActionUpdate,
			wantWrites: []string{"AttachRolePolicy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			spec := roleSpec(env)
			if tt.edit != nil {
				tt.edit(&spec)
			}
			role, err := migration.EnsureRole(ctx, env, cloud.IAM(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			assert.Equal(t, tt.wantAction, report.Changes()[0].Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.dryRun {
				return
			}
			assert.Equal(t, "arn:aws:iam::123456789012:role/"+spec.Name, role.ARN)
			assert.ElementsMatch(t, spec.ManagedPolicies, subset(cloud.IAM().RoleAttached(spec.Name), spec.ManagedPolicies, spec.Shared))
			for name, doc := range spec.Inline {
				assert.True(t, migration.PolicyEqual(cloud.IAM().RoleInlinePolicies(spec.Name)[name], doc.JSON()), "inline policy %s", name)
			}
		})
	}
}

// subset returns the attached policies a non-shared role must have
// exactly, and for a shared role the required ones it has.
func subset(attached, want []string, shared bool) []string {
	if !shared {
		return attached
	}
	var out []string
	for _, a := range attached {
		for _, w := range want {
			if a == w {
				out = append(out, a)
			}
		}
	}
	return out
}

func ensureRoleOnce(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
	t.Helper()
	_, err := migration.EnsureRole(context.Background(), env, cloud.IAM(), roleSpec(env))
	require.NoError(t, err)
}

func TestDeleteRole(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	spec := roleSpec(env)
	spec.InstanceProfile = true
	_, err := migration.EnsureRole(ctx, env, cloud.IAM(), spec)
	require.NoError(t, err)
	shared := migration.RoleSpec{Name: "dms-vpc-role", Shared: true, Trust: migration.TrustPolicy("dms.amazonaws.com")}
	_, err = migration.EnsureRole(ctx, env, cloud.IAM(), shared)
	require.NoError(t, err)

	require.NoError(t, migration.DeleteRole(ctx, env, cloud.IAM(), spec))
	require.NoError(t, migration.DeleteRole(ctx, env, cloud.IAM(), shared))
	assert.Equal(t, []string{"dms-vpc-role"}, cloud.IAM().Roles(), "the shared role stays")

	cloud.ResetCalls()
	require.NoError(t, migration.DeleteRole(ctx, env, cloud.IAM(), spec))
	assert.Empty(t, cloud.Writes(), "deleting a deleted role is a no-op")
}

func TestRoleSpecValidate(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	tests := []struct {
		edit func(*migration.RoleSpec)
		want string
	}{
		{func(s *migration.RoleSpec) { s.Name = "" }, "role.name"},
		{func(s *migration.RoleSpec) { s.Name = "x" + string(make([]byte, 64)) }, "role.name"},
		{func(s *migration.RoleSpec) { s.Path = "service-role" }, "role.path"},
		{func(s *migration.RoleSpec) { s.Trust = migration.PolicyDocument{} }, "role.trust"},
		{func(s *migration.RoleSpec) { s.ManagedPolicies = []string{"AmazonDMSVPCManagementRole"} }, "role.managedPolicies"},
		{func(s *migration.RoleSpec) {
			s.Inline = map[string]migration.PolicyDocument{"all": migration.NewPolicy(migration.Allow("All", []string{"s3:*"}, []string{"arn:aws:s3:::b"}))}
		}, `wildcard action "s3:*"`},
		{func(s *migration.RoleSpec) {
			s.Inline = map[string]migration.PolicyDocument{"any": migration.NewPolicy(migration.Allow("Any", []string{"s3:GetObject"}, []string{"*"}))}
		}, `"s3:GetObject" on resource "*"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			spec := roleSpec(env)
			tt.edit(&spec)
			_, err := migration.EnsureRole(context.Background(), env, cloud.IAM(), spec)
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, cloud.Calls())
		})
	}
}
