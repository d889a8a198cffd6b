package migration_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func TestEnsureMGNRoles(t *testing.T) {
	ctx := context.Background()
	names := []string{migration.MGNReplicationServerRole, migration.MGNConversionServerRole, migration.MGNMigrationHubRole,
		migration.MGNLaunchInstanceWithDrsRole, migration.MGNLaunchInstanceWithSsmRole, migration.MGNAgentRole}
	tests := []struct {
		name        string
		setup       func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud)
		dryRun      bool
		wantCreates int
		wantCounts  map[string]int // write operation -> calls
	}{
		{
			name:        "fresh account: service-linked role, six roles, four instance profiles",
			wantCreates: 7,
			wantCounts:  map[string]int{"CreateServiceLinkedRole": 1, "CreateRole": 6, "AttachRolePolicy": 7, "CreateInstanceProfile": 4, "AddRoleToInstanceProfile": 4},
		},
		{name: "converged makes no write", setup: ensureMGNRolesOnce},
		{name: "dry run writes nothing", dryRun: true, wantCreates: 7},
		{
			name: "a role made by hand at path / is adopted as it is and only gains what it lacks",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				_, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(migration.MGNAgentRole),
					AssumeRolePolicyDocument: aws.String(migration.TrustPolicy("mgn.amazonaws.com").JSON())})
				require.NoError(t, err)
				_, err = cloud.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(migration.MGNAgentRole), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSApplicationMigrationAgentPolicy")})
				require.NoError(t, err)
			},
			wantCreates: 6,
			wantCounts:  map[string]int{"CreateServiceLinkedRole": 1, "CreateRole": 5, "AttachRolePolicy": 7, "CreateInstanceProfile": 4, "AddRoleToInstanceProfile": 4},
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
			roles, err := migration.EnsureMGNRoles(ctx, env, cloud.IAM())
			require.NoError(t, err)
			assert.Len(t, roles, 6)
			assert.Equal(t, tt.wantCreates, report.Counts()[migration.ActionCreate], report.Summary())
			if tt.wantCounts != nil {
				got := map[string]int{}
				for _, op := range writeOps(cloud) {
					got[op]++
				}
				assert.Equal(t, tt.wantCounts, got)
			}
			if tt.dryRun || tt.wantCreates == 0 {
				assert.Empty(t, cloud.Writes())
			}
			if tt.wantCreates == 0 {
				assert.False(t, report.HasChanges(), report.Summary())
			}
			if tt.dryRun {
				return
			}
			assert.Subset(t, cloud.IAM().Roles(), append(names, migration.MGNServiceLinkedRole))
			for _, spec := range migration.MGNRoles(env) {
				assert.Subset(t, cloud.IAM().RoleAttached(spec.Name), spec.ManagedPolicies, spec.Name)
				assert.Empty(t, cloud.IAM().RoleInlinePolicies(spec.Name), "MGN roles carry no inline policy")
				got, err := cloud.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
				require.NoError(t, err)
				if spec.Name != migration.MGNAgentRole || tt.wantCreates == 7 {
					assert.Equal(t, "/service-role/", aws.ToString(got.Role.Path), spec.Name)
				}
				prof, err := cloud.IAM().GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(spec.Name)})
				if spec.InstanceProfile {
					require.NoError(t, err, spec.Name)
					assert.Equal(t, spec.Name, aws.ToString(prof.InstanceProfile.Roles[0].RoleName))
				} else {
					require.Error(t, err, "%s has no instance profile", spec.Name)
				}
			}
			if tt.wantCreates == 6 { // the hand-made agent role keeps its extra policy and its path
				assert.Contains(t, cloud.IAM().RoleAttached(migration.MGNAgentRole), "arn:aws:iam::aws:policy/AWSApplicationMigrationAgentPolicy")
				got, err := cloud.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(migration.MGNAgentRole)})
				require.NoError(t, err)
				assert.Equal(t, "/", aws.ToString(got.Role.Path))
			}
		})
	}
}

func ensureMGNRolesOnce(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
	t.Helper()
	_, err := migration.EnsureMGNRoles(context.Background(), env, cloud.IAM())
	require.NoError(t, err)
}

func TestMGNRolesMatchTheMGNGuide(t *testing.T) {
	env, _, _ := cloudEnv(t)
	byName := map[string]migration.RoleSpec{}
	for _, r := range migration.MGNRoles(env) {
		byName[r.Name] = r
		assert.True(t, r.Shared, r.Name)
		assert.NoError(t, r.Validate())
	}
	agent := byName[migration.MGNAgentRole].Trust.Statement[0]
	assert.Equal(t, migration.Strings{"sts:AssumeRole", "sts:SetSourceIdentity"}, agent.Action)
	assert.Equal(t, migration.Strings{"s-*"}, agent.Condition["StringLike"]["sts:SourceIdentity"])
	assert.Equal(t, migration.Strings{env.Account}, agent.Condition["StringLike"]["aws:SourceAccount"])
	assert.Equal(t, migration.Strings{"mgn.amazonaws.com"}, byName[migration.MGNMigrationHubRole].Trust.Statement[0].Principal.Service)
	assert.Equal(t, migration.Strings{"ec2.amazonaws.com"}, byName[migration.MGNReplicationServerRole].Trust.Statement[0].Principal.Service)
	assert.ElementsMatch(t, []string{"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/service-role/AWSElasticDisasterRecoveryEc2InstancePolicy"},
		byName[migration.MGNLaunchInstanceWithDrsRole].ManagedPolicies)
}

func TestDeleteMGNRolesLeavesTheAccountRoles(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	ensureMGNRolesOnce(t, env, cloud)
	before := cloud.IAM().Roles()
	cloud.ResetCalls()
	report := &migration.Report{}
	env.Reporter = report
	require.NoError(t, migration.DeleteMGNRoles(ctx, env, cloud.IAM()))
	assert.Empty(t, cloud.Writes())
	assert.Equal(t, before, cloud.IAM().Roles())
	assert.Equal(t, 7, report.Counts()[migration.ActionNoop])
}

func TestEnsureMGNServiceLinkedRoleRace(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	// Another tool created the service-linked role between our GetRole and
	// our create: IAM answers that the name has been taken.
	racer := &slrRace{ReplicationIAMAPI: cloud.IAM(), cloud: cloud}
	report := &migration.Report{}
	env.Reporter = report
	_, err := migration.EnsureMGNRoles(ctx, env, racer)
	require.NoError(t, err)
	assert.Equal(t, "created concurrently", report.Changes()[len(report.Changes())-1].Note)
}

// slrRace creates the service-linked role just before forwarding the
// caller's own CreateServiceLinkedRole.
type slrRace struct {
	migration.ReplicationIAMAPI
	cloud *fakecloud.Cloud
}

func (r *slrRace) CreateServiceLinkedRole(ctx context.Context, in *iam.CreateServiceLinkedRoleInput, o ...func(*iam.Options)) (*iam.CreateServiceLinkedRoleOutput, error) {
	if _, err := r.cloud.IAM().CreateServiceLinkedRole(ctx, in); err != nil {
		return nil, err
	}
	return r.ReplicationIAMAPI.CreateServiceLinkedRole(ctx, in, o...)
}

func cloudEndureSpec(key string) migration.CloudEndureSpec {
	return migration.CloudEndureSpec{CloudEndureAccountID: "210987654321", ExternalID: "ce-project-7f3a", KMSKeyARN: key,
		StagingSubnetID: "subnet-0a1b2c3d4e5f60718", SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}
}

func TestEnsureCloudEndureRole(t *testing.T) {
	ctx := context.Background()
	ensure := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
		_, err := migration.EnsureCloudEndureRole(ctx, env, cloud.IAM(), cloudEndureSpec(key))
		require.NoError(t, err)
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string)
		edit       func(*migration.CloudEndureSpec)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantErr    string
	}{
		{name: "missing is created", wantAction: migration.ActionCreate, wantWrites: []string{"CreateRole", "PutRolePolicy"}},
		{name: "converged makes no write", setup: ensure, wantAction: migration.ActionNoop},
		{
			name: "a new staging subnet rewrites the policy", setup: ensure,
			edit:       func(s *migration.CloudEndureSpec) { s.StagingSubnetID = "subnet-0fedcba9876543210" },
			wantAction: migration.ActionUpdate, wantWrites: []string{"PutRolePolicy"},
		},
		{
			name: "a new external ID rewrites the trust", setup: ensure,
			edit:       func(s *migration.CloudEndureSpec) { s.ExternalID = "ce-project-rotated" },
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateAssumeRolePolicy"},
		},
		{name: "dry run writes nothing", dryRun: true, wantAction: migration.ActionCreate},
		{
			name: "a pending subnet reports create without calling AWS", dryRun: true,
			edit: func(s *migration.CloudEndureSpec) {
				s.StagingSubnetID = migration.Pending("subnet-private-us-east-1a-dev")
			},
			wantAction: migration.ActionCreate,
		},
		{
			name: "a look-alike without the ownership tag is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, _ string) {
				_, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cloudendure-replication-dev"), AssumeRolePolicyDocument: aws.String(migration.TrustPolicy("ec2.amazonaws.com").JSON())})
				require.NoError(t, err)
			},
			wantErr: "refusing to adopt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			key := envKey(t, env, cloud)
			if tt.setup != nil {
				tt.setup(t, env, cloud, key)
			}
			spec := cloudEndureSpec(key)
			if tt.edit != nil {
				tt.edit(&spec)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			_, err := migration.EnsureCloudEndureRole(ctx, env, cloud.IAM(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			assert.Equal(t, tt.wantAction, report.Changes()[0].Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if strings.Contains(tt.name, "pending") {
				assert.Empty(t, cloud.Calls())
			}
			if tt.dryRun {
				return
			}
			want := migration.CloudEndureRoleSpec(env, spec).Inline["cloudendure-replication"]
			assert.True(t, migration.PolicyEqual(cloud.IAM().RoleInlinePolicies("cloudendure-replication-dev")["cloudendure-replication"], want.JSON()))
		})
	}
}

func TestCloudEndurePolicyIsLeastPrivilege(t *testing.T) {
	env, _, _ := cloudEnv(t)
	spec := cloudEndureSpec("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
	role := migration.CloudEndureRoleSpec(env, spec)
	doc := role.Inline["cloudendure-replication"]
	require.NoError(t, doc.CheckLeastPrivilege())
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			assert.NotContains(t, a, "*", "no wildcard action: %s", a)
			assert.NotContains(t, []string{"ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateSecurityGroup", "ec2:CreateRoute", "ec2:CreateInternetGateway"}, a, "the network is the env's")
		}
		if slices.Contains(s.Resource, "*") {
			assert.Equal(t, migration.Strings{"us-east-1"}, s.Condition["StringEquals"]["aws:RequestedRegion"], "describes stay in the Region")
		}
		for _, r := range s.Resource {
			if strings.HasPrefix(r, "arn:aws:ec2:") && !strings.Contains(r, "::image/") {
				assert.Contains(t, r, ":us-east-1:123456789012:", "EC2 resources of this account and Region only")
			}
		}
	}
	// RunInstances reaches the staging subnet and the spec's groups only.
	launch := doc.Statement[1]
	assert.Contains(t, launch.Resource, "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0a1b2c3d4e5f60718")
	assert.NotContains(t, launch.Resource, "arn:aws:ec2:us-east-1:123456789012:subnet/*")
	assert.Contains(t, launch.Resource, "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0")
	// Only the CloudEndure account, with the project's external ID.
	trust := role.Trust.Statement[0]
	assert.Equal(t, migration.Strings{"arn:aws:iam::210987654321:root"}, trust.Principal.AWS)
	assert.Equal(t, migration.Strings{"ce-project-7f3a"}, trust.Condition["StringEquals"]["sts:ExternalId"])
}

func TestDeleteCloudEndureRole(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	_, err := migration.EnsureCloudEndureRole(ctx, env, cloud.IAM(), cloudEndureSpec(key))
	require.NoError(t, err)
	require.NoError(t, migration.DeleteCloudEndureRole(ctx, env, cloud.IAM(), cloudEndureSpec(key)))
	assert.NotContains(t, cloud.IAM().Roles(), "cloudendure-replication-dev")
	cloud.ResetCalls()
	require.NoError(t, migration.DeleteCloudEndureRole(ctx, env, cloud.IAM(), cloudEndureSpec(key)))
	assert.Empty(t, cloud.Writes(), "deleting a deleted role is a no-op")
}

func TestCloudEndureSpecValidate(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	key := "arn:aws:kms:us-east-1:123456789012:key/x"
	for _, tt := range []struct {
		edit func(*migration.CloudEndureSpec)
		want string
	}{
		{func(s *migration.CloudEndureSpec) { s.CloudEndureAccountID = "ce" }, "cloudEndure.accountId"},
		{func(s *migration.CloudEndureSpec) { s.ExternalID = "" }, "cloudEndure.externalId"},
		{func(s *migration.CloudEndureSpec) { s.KMSKeyARN = "" }, "cloudEndure.kmsKeyArn"},
		{func(s *migration.CloudEndureSpec) { s.StagingSubnetID = "subnet-xyz" }, "cloudEndure.stagingSubnetId"},
		{func(s *migration.CloudEndureSpec) { s.SecurityGroupIDs = nil }, "cloudEndure.securityGroupIds: at least one"},
		{func(s *migration.CloudEndureSpec) { s.SecurityGroupIDs = []string{"default"} }, "cloudEndure.securityGroupIds[0]"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			spec := cloudEndureSpec(key)
			tt.edit(&spec)
			_, err := migration.EnsureCloudEndureRole(context.Background(), env, cloud.IAM(), spec)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, migration.DeleteCloudEndureRole(context.Background(), env, cloud.IAM(), spec), tt.want)
			assert.Empty(t, cloud.Calls())
		})
	}
}
