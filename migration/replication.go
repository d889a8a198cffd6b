package migration

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// ReplicationIAMAPI is the IAM client EnsureMGNRoles uses: IAMAPI plus
// the creation of MGN's service-linked role.
//
// Two replication services are supported for the application servers:
//
//   - AWS Application Migration Service (MGN), the default. MGN is the
//     successor of CloudEndure Migration and needs account-wide roles with
//     fixed AWS names (MGNRoles) plus its service-linked role; see
//     EnsureMGNRoles, EnsureMGNService and EnsureReplicationTemplate.
//   - CloudEndure Migration, for estates that still run it. AWS has retired
//     CloudEndure Migration in most Regions (new projects cannot start
//     there) and points to MGN; use it only where a CloudEndure project
//     already exists. See CloudEndureSpec and EnsureCloudEndureRole.
type ReplicationIAMAPI interface {
	IAMAPI
	CreateServiceLinkedRole(context.Context, *iam.CreateServiceLinkedRoleInput, ...func(*iam.Options)) (*iam.CreateServiceLinkedRoleOutput, error)
}

// KindServiceLinkedRole is the Change kind of a service-linked role.
const KindServiceLinkedRole = "iam-service-linked-role"

// MGN role names. AWS fixes them: MGN looks its roles and instance
// profiles up by these names in every account.
const (
	MGNServiceLinkedRole          = "AWSServiceRoleForApplicationMigrationService"
	MGNReplicationServerRole      = "AWSApplicationMigrationReplicationServerRole"
	MGNConversionServerRole       = "AWSApplicationMigrationConversionServerRole"
	MGNMigrationHubRole           = "AWSApplicationMigrationMGHRole"
	MGNLaunchInstanceWithDrsRole  = "AWSApplicationMigrationLaunchInstanceWithDrsRole"
	MGNLaunchInstanceWithSsmRole  = "AWSApplicationMigrationLaunchInstanceWithSsmRole"
	MGNAgentRole                  = "AWSApplicationMigrationAgentRole"
	mgnServiceRolePath            = "/service-role/"
	awsManagedPolicy              = "arn:aws:iam::aws:policy/"
	awsManagedServiceRolePolicyNS = awsManagedPolicy + "service-role/"
)

// MGNRoles returns the account roles AWS Application Migration Service
// needs, as the MGN guide's "Initializing with the API" lists them: the
// replication and conversion server roles, the two launch-instance roles
// (EC2 trust, each with a same-named instance profile), the Migration Hub
// role, and the agent role (MGN trust with sts:SetSourceIdentity, for
// source servers "s-*" of this account only). Each carries only its AWS
// managed policies and no inline policy. They are Shared: account-wide,
// never removed by DeleteMGNRoles, and never stripped of anything.
func MGNRoles(env Env) []RoleSpec {
	ec2 := TrustPolicy("ec2.amazonaws.com")
	mgn := TrustPolicy("mgn.amazonaws.com")
	agentTrust := NewPolicy(Statement{
		Effect: "Allow", Principal: ServicePrincipal("mgn.amazonaws.com"), Action: Strings{"sts:AssumeRole", "sts:SetSourceIdentity"},
		Condition: Condition{"StringLike": {"sts:SourceIdentity": {"s-*"}, "aws:SourceAccount": {env.Account}}},
	})
	role := func(name, desc string, trust PolicyDocument, profile bool, policies ...string) RoleSpec {
		return RoleSpec{Name: name, Path: mgnServiceRolePath, Description: desc, Trust: trust, ManagedPolicies: policies, InstanceProfile: profile, Shared: true}
	}
	return []RoleSpec{
		role(MGNReplicationServerRole, "MGN replication servers", ec2, true, awsManagedServiceRolePolicyNS+"AWSApplicationMigrationReplicationServerPolicy"),
		role(MGNConversionServerRole, "MGN conversion servers", ec2, true, awsManagedServiceRolePolicyNS+"AWSApplicationMigrationConversionServerPolicy"),
		role(MGNMigrationHubRole, "MGN reports to Migration Hub", mgn, false, awsManagedServiceRolePolicyNS+"AWSApplicationMigrationMGHAccess"),
		role(MGNLaunchInstanceWithDrsRole, "Instances MGN launches with the DRS agent", ec2, true,
			awsManagedPolicy+"AmazonSSMManagedInstanceCore", awsManagedServiceRolePolicyNS+"AWSElasticDisasterRecoveryEc2InstancePolicy"),
		role(MGNLaunchInstanceWithSsmRole, "Instances MGN launches with SSM", ec2, true, awsManagedPolicy+"AmazonSSMManagedInstanceCore"),
		role(MGNAgentRole, "The MGN replication agent of source servers", agentTrust, false, awsManagedServiceRolePolicyNS+"AWSApplicationMigrationAgentPolicy_v2"),
	}
}

// EnsureMGNRoles makes MGN's service-linked role and MGNRoles(env) exist
// with their managed policies and instance profiles, before
// EnsureMGNService initializes the service. MGN, the successor of the
// retired CloudEndure Migration, is the library's default replication
// service.
//
// The service-linked role is created with CreateServiceLinkedRole when
// GetRole does not find it. A role that exists already is adopted as the
// account's (the roles are Shared) at the path it has — MGN finds its
// roles by name, and a role's path cannot change — and only gains the
// policies and instance profile it lacks. It reports one Change per role.
// Idempotent: converged roles cost reads only.
func EnsureMGNRoles(ctx context.Context, env Env, api ReplicationIAMAPI) ([]Role, error) {
	if err := env.Validate(); err != nil {
		return nil, fmt.Errorf("ensure mgn roles: %w", err)
	}
	if err := ensureServiceLinkedRole(ctx, env, api, MGNServiceLinkedRole, "mgn.amazonaws.com"); err != nil {
		return nil, fmt.Errorf("ensure mgn roles: %w", err)
	}
	var roles []Role
	for _, spec := range MGNRoles(env) {
		spec, err := existingPath(ctx, api, spec)
		if err != nil {
			return nil, fmt.Errorf("ensure mgn roles: %w", err)
		}
		r, err := EnsureRole(ctx, env, api, spec)
		if err != nil {
			return nil, fmt.Errorf("ensure mgn roles: %w", err)
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// existingPath returns spec with the path of the existing role of that
// name, if any.
func existingPath(ctx context.Context, api IAMAPI, spec RoleSpec) (RoleSpec, error) {
	got, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
	switch {
	case awsx.IsNotFound(err):
		return spec, nil
	case err != nil:
		return spec, fmt.Errorf("get role %s: %w", spec.Name, err)
	}
	spec.Path = aws.ToString(got.Role.Path)
	return spec, nil
}

func ensureServiceLinkedRole(ctx context.Context, env Env, api ReplicationIAMAPI, name, service string) error {
	got, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err == nil {
		env.Report(Change{Kind: KindServiceLinkedRole, Name: name, ID: aws.ToString(got.Role.Arn), Action: ActionNoop})
		return nil
	}
	if !awsx.IsNotFound(err) {
		return fmt.Errorf("get service-linked role %s: %w", name, err)
	}
	if env.DryRun {
		env.Report(Change{Kind: KindServiceLinkedRole, Name: name, ID: Pending(name), Action: ActionCreate})
		return nil
	}
	out, err := api.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(service)})
	if err != nil {
		// Created meanwhile by someone else (the MGN console, another env):
		// IAM says the name "has been taken".
		if awsx.HasCode(err, "InvalidInput") && strings.Contains(err.Error(), "has been taken") {
			env.Report(Change{Kind: KindServiceLinkedRole, Name: name, Action: ActionNoop, Note: "created concurrently"})
			return nil
		}
		return fmt.Errorf("create service-linked role for %s: %w", service, err)
	}
	env.Report(Change{Kind: KindServiceLinkedRole, Name: name, ID: aws.ToString(out.Role.Arn), Action: ActionCreate})
	return nil
}

// DeleteMGNRoles leaves MGN's roles and its service-linked role in place
// — they are the account's, shared with other envs and with MGN itself —
// and reports a noop for each, so that a destroy plan shows them.
func DeleteMGNRoles(ctx context.Context, env Env, api ReplicationIAMAPI) error {
	if err := env.Validate(); err != nil {
		return fmt.Errorf("delete mgn roles: %w", err)
	}
	env.Report(Change{Kind: KindServiceLinkedRole, Name: MGNServiceLinkedRole, Action: ActionNoop, Note: "service-linked role of the account; left in place"})
	var errs []error
	for _, spec := range MGNRoles(env) {
		errs = append(errs, DeleteRole(ctx, env, api, spec))
	}
	return errors.Join(errs...)
}

// CloudEndureSpec describes the cross-account role CloudEndure Migration
// assumes in the target account.
//
// CloudEndure Migration is retired in most Regions, and AWS Application
// Migration Service (MGN, EnsureMGNRoles) is its successor and the
// library's default. Both are supported: use this only where a
// CloudEndure project already replicates the servers.
type CloudEndureSpec struct {
	// CloudEndureAccountID is the AWS account the CloudEndure service
	// assumes the role from, as its console shows it.
	CloudEndureAccountID string
	// ExternalID is the external ID the CloudEndure project presents
	// (sts:ExternalId), against the confused deputy.
	ExternalID string
	// KMSKeyARN is the env key: replication and converted volumes are
	// encrypted with it.
	KMSKeyARN string
	// StagingSubnetID is the private subnet replication servers run in;
	// the only subnet the role can launch instances into.
	StagingSubnetID string
	// SecurityGroupIDs are the security groups of the replication
	// servers; the only ones the role can launch instances with. Configure
	// the CloudEndure project to use them rather than create its own.
	SecurityGroupIDs []string
}

var (
	externalIDRe = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	subnetIDRe   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	sgIDRe       = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
)

// Validate checks the spec.
func (s CloudEndureSpec) Validate() error {
	var errs []error
	if !accountRe.MatchString(s.CloudEndureAccountID) {
		errs = append(errs, fmt.Errorf("cloudEndure.accountId: %q is not a 12-digit AWS account ID", s.CloudEndureAccountID))
	}
	if len(s.ExternalID) < 2 || len(s.ExternalID) > 1224 || !externalIDRe.MatchString(s.ExternalID) {
		errs = append(errs, errors.New("cloudEndure.externalId: 2 to 1224 characters of [A-Za-z0-9_+=,.@:/-] required"))
	}
	if !IsPending(s.KMSKeyARN) && !strings.HasPrefix(s.KMSKeyARN, "arn:aws") {
		errs = append(errs, fmt.Errorf("cloudEndure.kmsKeyArn: %q is not a KMS key ARN (required)", s.KMSKeyARN))
	}
	if !IsPending(s.StagingSubnetID) && !subnetIDRe.MatchString(s.StagingSubnetID) {
		errs = append(errs, fmt.Errorf("cloudEndure.stagingSubnetId: %q is not a subnet ID", s.StagingSubnetID))
	}
	if len(s.SecurityGroupIDs) == 0 {
		errs = append(errs, errors.New("cloudEndure.securityGroupIds: at least one security group required"))
	}
	for i, id := range s.SecurityGroupIDs {
		if !IsPending(id) && !sgIDRe.MatchString(id) {
			errs = append(errs, fmt.Errorf("cloudEndure.securityGroupIds[%d]: %q is not a security group ID", i, id))
		}
	}
	return errors.Join(errs...)
}

func (s CloudEndureSpec) pending() bool {
	return AnyPending(append([]string{s.KMSKeyARN, s.StagingSubnetID}, s.SecurityGroupIDs...)...)
}

// CloudEndureRoleSpec returns the role CloudEndure Migration assumes,
// "cloudendure-replication-<suffix>": trusted by the CloudEndure account
// with the project's external ID, and allowed what replication and
// cutover need, scoped down from CloudEndure's published IAM policy
// (docs.cloudendure.com/Content/IAMPolicy.json), which grants ec2:Describe*,
// ec2:Delete* and network creation on "*":
//
//   - the EC2 Describe actions replication reads, on "*" (EC2 Describe
//     actions have no resource-level permissions; each is listed in
//     ResourceWildcardAllowed), in the env's Region only;
//   - RunInstances into the staging subnet with the spec's security groups
//     only; volumes and snapshots of this account and Region;
//   - tags only on the resources it creates (ec2:CreateAction);
//   - start, stop, terminate, attach, detach and delete only on what
//     CloudEndure tagged ("CloudEndure creation time");
//   - the env key through EC2 only, and grants for AWS resources only.
//
// No VPC, subnet, route, gateway or security group creation: the network
// is the env's. Where a CloudEndure project insists on IAM user access
// keys instead of a role, attach the role's inline policy to that user;
// the library never creates access keys.
func CloudEndureRoleSpec(env Env, spec CloudEndureSpec) RoleSpec {
	arn := func(kind string) string { return "arn:aws:ec2:" + env.Region + ":" + env.Account + ":" + kind + "/*" }
	region := Condition{"StringEquals": {"aws:RequestedRegion": {env.Region}}}
	var sgs []string
	for _, id := range spec.SecurityGroupIDs {
		sgs = append(sgs, "arn:aws:ec2:"+env.Region+":"+env.Account+":security-group/"+id)
	}
	launch := append([]string{
		"arn:aws:ec2:" + env.Region + ":" + env.Account + ":subnet/" + spec.StagingSubnetID,
		arn("instance"), arn("volume"), arn("network-interface"), arn("snapshot"),
		"arn:aws:ec2:" + env.Region + "::image/*",
	}, sgs...)
	tagged := Condition{"StringLike": {"ec2:ResourceTag/CloudEndure creation time": {"*"}}}
	policy := NewPolicy(
		Statement{Sid: "Describe", Effect: "Allow", Action: Strings{
			"ec2:DescribeAvailabilityZones", "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeInstances",
			"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSnapshots", "ec2:DescribeSubnets",
			"ec2:DescribeVolumes", "ec2:DescribeVpcs",
		}, Resource: Strings{"*"}, Condition: region},
		Allow("LaunchIntoStagingSubnet", []string{"ec2:RunInstances"}, launch),
		Allow("CreateStorage", []string{"ec2:CreateVolume", "ec2:CreateSnapshot"}, []string{arn("volume"), arn("snapshot")}),
		Statement{Sid: "TagOnCreate", Effect: "Allow", Action: Strings{"ec2:CreateTags"},
			Resource:  Strings{arn("instance"), arn("volume"), arn("snapshot"), arn("network-interface")},
			Condition: Condition{"StringEquals": {"ec2:CreateAction": {"RunInstances", "CreateVolume", "CreateSnapshot"}}}},
		Statement{Sid: "ManageOwnResources", Effect: "Allow", Action: Strings{
			"ec2:AttachVolume", "ec2:DeleteSnapshot", "ec2:DeleteVolume", "ec2:DetachVolume", "ec2:ModifyInstanceAttribute",
			"ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances",
		}, Resource: Strings{arn("instance"), arn("volume"), arn("snapshot")}, Condition: tagged},
		Statement{Sid: "EnvKeyThroughEC2", Effect: "Allow", Action: Strings{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"},
			Resource: Strings{spec.KMSKeyARN}, Condition: Condition{"StringEquals": {"kms:ViaService": {"ec2." + env.Region + ".amazonaws.com"}}}},
		Statement{Sid: "EnvKeyGrants", Effect: "Allow", Action: Strings{"kms:CreateGrant"},
			Resource: Strings{spec.KMSKeyARN}, Condition: Condition{"Bool": {"kms:GrantIsForAWSResource": {"true"}}}},
	)
	return RoleSpec{
		Name:        env.Name("cloudendure-replication"),
		Description: "CloudEndure Migration replicates the application servers (MGN is its successor)",
		Trust: NewPolicy(Statement{
			Effect: "Allow", Principal: AWSPrincipal("arn:aws:iam::" + spec.CloudEndureAccountID + ":root"), Action: Strings{"sts:AssumeRole"},
			Condition: Condition{"StringEquals": {"sts:ExternalId": {spec.ExternalID}}},
		}),
		Inline: map[string]PolicyDocument{"cloudendure-replication": policy},
	}
}

// EnsureCloudEndureRole makes CloudEndureRoleSpec exist and converge
// through EnsureRole (it refuses a role of that name without the env's
// ownership tag). While the key, subnet or a security group is a Pending
// ID (dry run) it reports a create without calling AWS. Idempotent.
func EnsureCloudEndureRole(ctx context.Context, env Env, api IAMAPI, spec CloudEndureSpec) (Role, error) {
	name := env.Name("cloudendure-replication")
	if err := Validate(env, spec); err != nil {
		return Role{}, fmt.Errorf("ensure role %q: %w", name, err)
	}
	role := CloudEndureRoleSpec(env, spec)
	if spec.pending() {
		env.Report(Change{Kind: KindRole, Name: name, ID: Pending(name), Action: ActionCreate})
		return Role{Name: name, ARN: RoleARN(env, role)}, nil
	}
	return EnsureRole(ctx, env, api, role)
}

// DeleteCloudEndureRole deletes the env's CloudEndure role through
// DeleteRole: only when it carries the env's ownership tag; a no-op when
// gone.
func DeleteCloudEndureRole(ctx context.Context, env Env, api IAMAPI, spec CloudEndureSpec) error {
	if err := Validate(env, spec); err != nil {
		return fmt.Errorf("delete role %q: %w", env.Name("cloudendure-replication"), err)
	}
	return DeleteRole(ctx, env, api, CloudEndureRoleSpec(env, spec))
}
