package dms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cutoverkit/cutover/migration"
)

// The account-wide service roles DMS expects by these exact names.
const (
	// VPCRoleName is the role DMS uses to manage the network interfaces of
	// replication instances. Without it CreateReplicationSubnetGroup and
	// CreateReplicationInstance fail with AccessDeniedFault "dms-vpc-role
	// is not configured properly".
	VPCRoleName = "dms-vpc-role"
	// LogsRoleName is the role DMS uses to write task logs to CloudWatch
	// Logs (log groups dms-tasks-<instance>).
	LogsRoleName = "dms-cloudwatch-logs-role"
	// VPCRolePolicy and LogsRolePolicy are their AWS managed policies.
	VPCRolePolicy  = "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"
	LogsRolePolicy = "arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole"
)

// ServiceRoleSpecs returns the specs of dms-vpc-role and
// dms-cloudwatch-logs-role: trusting dms.amazonaws.com, each with exactly
// its AWS managed policy, and Shared — an account holds one of each for
// every env and tool, so they are created only when missing, only gain
// what they lack, and are never deleted by an env's destroy.
func ServiceRoleSpecs() []migration.RoleSpec {
	return []migration.RoleSpec{
		{Name: VPCRoleName, Description: "DMS manages the network interfaces of replication instances", Trust: migration.TrustPolicy("dms.amazonaws.com"), ManagedPolicies: []string{VPCRolePolicy}, Shared: true},
		{Name: LogsRoleName, Description: "DMS writes task logs to CloudWatch Logs", Trust: migration.TrustPolicy("dms.amazonaws.com"), ManagedPolicies: []string{LogsRolePolicy}, Shared: true},
	}
}

// EnsureServiceRoles makes both DMS service roles exist (see
// ServiceRoleSpecs). Idempotent; it never removes anything from a role.
func EnsureServiceRoles(ctx context.Context, env migration.Env, api migration.IAMAPI) ([]migration.Role, error) {
	var roles []migration.Role
	for _, spec := range ServiceRoleSpecs() {
		r, err := migration.EnsureRole(ctx, env, api, spec)
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// SecretsRoleSpec describes the role DMS assumes to read the endpoints'
// secrets ("dms-secrets-role-<suffix>").
type SecretsRoleSpec struct {
	// SecretARNs are the full ARNs of the secrets the endpoints use (the
	// source's and the target's). The role may read exactly these.
	SecretARNs []string
	// KMSKeyARNs are the keys the secrets are encrypted with; the role may
	// decrypt with them only through Secrets Manager.
	KMSKeyARNs []string
}

// Validate checks that every ARN is a full Secrets Manager secret ARN or
// KMS key ARN (or a dry run's pending ID) and that there is at least one
// of each.
func (s SecretsRoleSpec) Validate() error {
	var errs []error
	if len(s.SecretARNs) == 0 {
		errs = append(errs, errors.New("secretsRole.secretArns: at least one secret ARN required"))
	}
	for _, a := range s.SecretARNs {
		if err := checkSecretARN(a); err != nil {
			errs = append(errs, fmt.Errorf("secretsRole.secretArns: %w", err))
		}
	}
	if len(s.KMSKeyARNs) == 0 {
		errs = append(errs, errors.New("secretsRole.kmsKeyArns: at least one key ARN required"))
	}
	for _, a := range s.KMSKeyARNs {
		if err := checkKeyARN(a); err != nil {
			errs = append(errs, fmt.Errorf("secretsRole.kmsKeyArns: %w", err))
		}
	}
	return errors.Join(errs...)
}

// RoleSpec returns the IAM role spec: trust of the regional DMS principal
// dms.<region>.amazonaws.com (the one that reads secrets) limited to this
// account by aws:SourceAccount; an inline policy allowing
// secretsmanager:GetSecretValue on exactly the secret ARNs and kms:Decrypt
// on exactly the keys, only via Secrets Manager in the Region. It passes
// migration.CheckLeastPrivilege.
func (s SecretsRoleSpec) RoleSpec(env migration.Env) migration.RoleSpec {
	trust := migration.NewPolicy(migration.Statement{
		Effect: "Allow", Principal: migration.ServicePrincipal("dms." + env.Region + ".amazonaws.com"),
		Action:    migration.Strings{"sts:AssumeRole"},
		Condition: migration.Condition{"StringEquals": {"aws:SourceAccount": {env.Account}}},
	})
	secrets := slices.Sorted(slices.Values(s.SecretARNs))
	keys := slices.Compact(slices.Sorted(slices.Values(s.KMSKeyARNs)))
	policy := migration.NewPolicy(
		migration.Allow("ReadEndpointSecrets", []string{"secretsmanager:GetSecretValue"}, secrets),
		migration.Statement{
			Sid: "DecryptEndpointSecrets", Effect: "Allow", Action: migration.Strings{"kms:Decrypt"}, Resource: keys,
			Condition: migration.Condition{"StringEquals": {"kms:ViaService": {"secretsmanager." + env.Region + ".amazonaws.com"}}},
		},
	)
	return migration.RoleSpec{
		Name:        env.Name("dms-secrets-role"),
		Description: "DMS reads the endpoint secrets of env " + env.Suffix,
		Trust:       trust,
		Inline:      map[string]migration.PolicyDocument{"read-endpoint-secrets": policy},
	}
}

// EnsureSecretsRole makes the env's secrets access role exist and
// converge (see SecretsRoleSpec.RoleSpec). A new role is not usable by DMS
// for some seconds; EnsureEndpoint retries its AccessDeniedFault.
// Idempotent; it refuses to adopt a role of that name without the env's
// ownership tag.
func EnsureSecretsRole(ctx context.Context, env migration.Env, api migration.IAMAPI, spec SecretsRoleSpec) (migration.Role, error) {
	if err := migration.Validate(env, spec); err != nil {
		return migration.Role{}, fmt.Errorf("ensure role %q: %w", env.Name("dms-secrets-role"), err)
	}
	return migration.EnsureRole(ctx, env, api, spec.RoleSpec(env))
}

// DeleteSecretsRole deletes the env's secrets access role; a no-op when it
// is gone, and a role without the ownership tag is left in place.
func DeleteSecretsRole(ctx context.Context, env migration.Env, api migration.IAMAPI, spec SecretsRoleSpec) error {
	if err := env.Validate(); err != nil { // the name is all a delete needs
		return fmt.Errorf("delete role %q: %w", env.Name("dms-secrets-role"), err)
	}
	return migration.DeleteRole(ctx, env, api, spec.RoleSpec(env))
}

// checkSecretARN accepts a full secret ARN (with the six-character
// suffix Secrets Manager appends) or a pending ID.
func checkSecretARN(a string) error {
	if migration.IsPending(a) {
		return nil
	}
	parts := strings.SplitN(a, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "secretsmanager" || parts[5] != "secret" || parts[3] == "" || len(parts[4]) != 12 {
		return fmt.Errorf("%q is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX)", a)
	}
	name := parts[6]
	if i := strings.LastIndex(name, "-"); i < 1 || len(name)-i-1 != 6 {
		return fmt.Errorf("%q is a partial secret ARN; give the full ARN (ending in -XXXXXX) so the IAM policy names exactly this secret", a)
	}
	return nil
}

// checkKeyARN accepts a KMS key ARN (not an alias: DMS and IAM need the
// key) or a pending ID.
func checkKeyARN(a string) error {
	if migration.IsPending(a) {
		return nil
	}
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || parts[3] == "" || len(parts[4]) != 12 || !strings.HasPrefix(parts[5], "key/") || len(parts[5]) == 4 {
		return fmt.Errorf("%q is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; an alias is not accepted)", a)
	}
	return nil
}
