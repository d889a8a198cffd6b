package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func TestOperatorPolicy(t *testing.T) {
	env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012"}
	calls := []fakecloud.Call{
		{Service: "EC2", Op: "CreateVpc", Write: true},
		{Service: "EC2", Op: "CreateVpc", Write: true},
		{Service: "S3", Op: "PutBucketEncryption", Write: true},
		{Service: "S3", Op: "ListObjectsV2"},
		{Service: "DynamoDB", Op: "TransactWriteItems", Write: true},
		{Service: "STS", Op: "GetCallerIdentity"},
		{Service: "IAM", Op: "CreateRole", Write: true},
		{Service: "EFS", Op: "CreateMountTarget", Write: true},
		{Service: "EventBridge", Op: "PutRule", Write: true},
		{Service: "EventBridge", Op: "ListTagsForResource"},
	}
	p, err := operatorPolicy(env, calls)
	require.NoError(t, err)
	got := map[string][]string{}
	for _, st := range p.Statement {
		got[st.Sid] = st.Action
	}
	assert.Equal(t, []string{"ec2:CreateNetworkInterface", "ec2:CreateVpc", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}, got["MigrationEc2"], "deduplicated, with what EFS does on the caller's behalf")
	assert.Equal(t, []string{"elasticfilesystem:CreateMountTarget"}, got["MigrationElasticfilesystem"])
	assert.Equal(t, []string{"s3:ListBucket", "s3:PutEncryptionConfiguration"}, got["MigrationS3"])
	assert.Equal(t, []string{"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, got["MigrationDynamodb"])
	assert.Equal(t, []string{"events:ListTagsForResource", "events:PutRule"}, got["MigrationEvents"], "EventBridge's actions are events:")
	assert.NotContains(t, got, "MigrationSts", "GetCallerIdentity needs no permission")
	assert.Equal(t, []string{"iam:PassRole"}, got["PassEnvRolesToServices"])
	for _, st := range p.Statement {
		if st.Sid == "MigrationEc2" || st.Sid == "MigrationEvents" {
			assert.Equal(t, migration.Strings{"us-east-1"}, st.Condition["StringEquals"]["aws:RequestedRegion"])
		}
	}

	_, err = operatorPolicy(env, []fakecloud.Call{{Service: "Elastic Beanstalk", Op: "CreateApplication"}})
	assert.ErrorContains(t, err, "no IAM prefix for services [Elastic Beanstalk]")
}

// TestDeclaredCalls: the operator's policy covers every operation the
// platform's clients can make, not only those one simulated migration
// made: the repairs of drift need their own actions.
func TestDeclaredCalls(t *testing.T) {
	calls, err := declaredCalls()
	require.NoError(t, err)
	env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012"}
	p, err := operatorPolicy(env, calls)
	require.NoError(t, err, "every client's service has an IAM prefix")
	var actions []string
	for _, st := range p.Statement {
		actions = append(actions, st.Action...)
	}
	for _, want := range []string{
		"events:TagResource",                         // tags put back on the alarm rule
		"dms:ModifyReplicationInstance",              // instance drift
		"rds:ModifyDBInstance",                       // target drift
		"mgn:UpdateReplicationConfigurationTemplate", // template drift
		"ec2:CreateTags",                             // tags put back on any EC2 resource
		"s3:ListBucketVersions",                      // through the S3 overrides
		"elasticfilesystem:ModifyMountTargetSecurityGroups",
	} {
		assert.Contains(t, actions, want)
	}
	for _, a := range actions {
		assert.NotContains(t, a, "*", "no wildcard action: %s", a)
	}
}
