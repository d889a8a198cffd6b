package fakecloud_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

const iamTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// The IAM answers the replication roles depend on: the codes Ensure and
// Delete branch on, and the checks that catch a mistyped policy.
func TestIAMErrorsMatchIAM(t *testing.T) {
	ctx := context.Background()
	role := aws.String("r")
	tests := []struct {
		name string
		call func(c *fakecloud.Cloud) error
		want string
	}{
		{"a malformed trust policy", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(`{"Statement":[]}`)})
			return err
		}, "MalformedPolicyDocument"},
		{"a role name taken", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R"), AssumeRolePolicyDocument: aws.String(iamTrust)})
			return err
		}, "EntityAlreadyExists"},
		{"a missing role", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity"},
		{"an AWS managed policy that does not exist (mistyped path)", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSApplicationMigrationReplicationServerPolicy")})
			return err
		}, "NoSuchEntity"},
		{"a role name used as a policy", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSApplicationMigrationLaunchInstanceWithSsmRole")})
			return err
		}, "NoSuchEntity"},
		{"deleting a role with a policy attached", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")})
			require.NoError(t, err)
			_, err = c.IAM().DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
			return err
		}, "DeleteConflict"},
		{"deleting a role still in its instance profile", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: role})
			require.NoError(t, err)
			_, err = c.IAM().AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: role, RoleName: role})
			require.NoError(t, err)
			_, err = c.IAM().DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
			return err
		}, "DeleteConflict"},
		{"a second service-linked role of MGN", func(c *fakecloud.Cloud) error {
			_, err := c.IAM().CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("mgn.amazonaws.com")})
			require.NoError(t, err)
			_, err = c.IAM().CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("mgn.amazonaws.com")})
			if err != nil {
				assert.Contains(t, err.Error(), "has been taken")
			}
			return err
		}, "InvalidInput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakecloud.New()
			_, err := c.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(iamTrust)})
			require.NoError(t, err)
			err = tt.call(c)
			require.Error(t, err)
			assert.Equal(t, tt.want, awsx.Code(err))
		})
	}
}

func TestIAMServiceLinkedRoleOfMGN(t *testing.T) {
	ctx := context.Background()
	c := fakecloud.New()
	out, err := c.IAM().CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("mgn.amazonaws.com")})
	require.NoError(t, err)
	assert.Equal(t, "AWSServiceRoleForApplicationMigrationService", aws.ToString(out.Role.RoleName))
	assert.Equal(t, "/aws-service-role/mgn.amazonaws.com/", aws.ToString(out.Role.Path))
	assert.Equal(t, "arn:aws:iam::123456789012:role/aws-service-role/mgn.amazonaws.com/AWSServiceRoleForApplicationMigrationService", aws.ToString(out.Role.Arn))
	// IAM role names are case-insensitive.
	got, err := c.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("awsservicerole" + "forapplicationmigrationservice")})
	require.NoError(t, err)
	assert.Equal(t, out.Role.Arn, got.Role.Arn)
	assert.Equal(t, []string{"AWSServiceRoleForApplicationMigrationService"}, c.IAM().Roles())
	require.Len(t, c.Writes(), 1)
	assert.Equal(t, "CreateServiceLinkedRole", c.Writes()[0].Op)
}
