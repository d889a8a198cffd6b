package migration_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
)

func TestPolicyEqual(t *testing.T) {
	doc := migration.NewPolicy(migration.Statement{
		Sid: "Read", Effect: "Allow", Action: migration.Strings{"s3:GetObject", "s3:ListBucket"},
		Resource: migration.Strings{"arn:aws:s3:::b", "arn:aws:s3:::b/*"},
	}).JSON()
	tests := []struct {
		name  string
		other string
		equal bool
	}{
		{"identical", doc, true},
		{"URL-encoded as IAM returns it", url.QueryEscape(doc), true},
		{"lists reordered and a single string", `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]}]}`, true},
		{"different action", `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]}]}`, false},
		{"not JSON", `{`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.equal, migration.PolicyEqual(doc, tt.other))
		})
	}
}

func TestPrincipalJSON(t *testing.T) {
	p, err := migration.ParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:1:t","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	require.NoError(t, err)
	require.True(t, p.Statement[0].Principal.Any)
	assert.Contains(t, p.JSON(), `"Principal":"*"`)
	assert.Equal(t, migration.Strings{"false"}, p.Statement[0].Condition["Bool"]["aws:SecureTransport"])
}

func TestCheckLeastPrivilege(t *testing.T) {
	ok := migration.NewPolicy(
		migration.Allow("Metrics", []string{"cloudwatch:GetMetricData"}, []string{"*"}),
		migration.Allow("Table", []string{"dynamodb:GetItem"}, []string{"arn:aws:dynamodb:us-east-1:1:table/t"}),
	)
	assert.NoError(t, ok.CheckLeastPrivilege())
	bad := migration.NewPolicy(
		migration.Allow("All", []string{"*"}, []string{"arn:aws:s3:::b"}),
		migration.Allow("Svc", []string{"dynamodb:*"}, []string{"arn:aws:dynamodb:us-east-1:1:table/t"}),
		migration.Allow("Any", []string{"s3:GetObject"}, []string{"*"}),
		migration.Allow("Partial", []string{"ec2:Describe*"}, []string{"arn:aws:ec2:us-east-1:1:vpc/vpc-1"}),
	)
	err := bad.CheckLeastPrivilege()
	assert.ErrorContains(t, err, `statement "All": wildcard action "*"`)
	assert.ErrorContains(t, err, `statement "Svc": wildcard action "dynamodb:*"`)
	assert.ErrorContains(t, err, `statement "Any": action "s3:GetObject" on resource "*"`)
	assert.ErrorContains(t, err, `statement "Partial": wildcard action "ec2:Describe*"`)
}

func TestKeyPolicyIsLeastPrivilege(t *testing.T) {
	env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012"}
	p := migration.KeyPolicy(env)
	require.NoError(t, p.CheckKeyPolicy())
	sids := map[string]migration.Statement{}
	for _, s := range p.Statement {
		sids[s.Sid] = s
	}
	logs := sids["AllowCloudWatchLogs"]
	assert.Equal(t, migration.Strings{"logs.us-east-1.amazonaws.com"}, logs.Principal.Service)
	assert.Equal(t, migration.Strings{"arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/*"}, logs.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
	for _, sid := range []string{"AllowDataStoresViaService", "AllowGrantsViaService"} {
		s := sids[sid]
		assert.True(t, s.Principal.Any)
		assert.Equal(t, migration.Strings{"123456789012"}, s.Condition["StringEquals"]["kms:CallerAccount"], sid)
	}
	assert.ElementsMatch(t, migration.Strings{"dynamodb.us-east-1.amazonaws.com", "dms.us-east-1.amazonaws.com", "rds.us-east-1.amazonaws.com", "ec2.us-east-1.amazonaws.com", "lambda.us-east-1.amazonaws.com", "elasticfilesystem.us-east-1.amazonaws.com"},
		sids["AllowGrantsViaService"].Condition["StringEquals"]["kms:ViaService"])
	// DynamoDB the service may read the key's metadata, and nothing else.
	ddb := sids["AllowDynamoDBToDescribeKey"]
	assert.Equal(t, migration.Strings{"dynamodb.amazonaws.com"}, ddb.Principal.Service)
	assert.Equal(t, migration.Strings{"kms:Describe*", "kms:Get*", "kms:List*"}, ddb.Action)

	// A key policy that opens the key to anyone is refused.
	open := migration.NewPolicy(migration.Statement{Sid: "Open", Effect: "Allow", Principal: &migration.Principal{Any: true}, Action: migration.Strings{"kms:Decrypt"}, Resource: migration.Strings{"*"}})
	assert.ErrorContains(t, open.CheckKeyPolicy(), "without an account condition")
}
