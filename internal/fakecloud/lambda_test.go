package fakecloud_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

type lambdaFunctionCode struct{ content string }

func (c lambdaFunctionCode) zip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("bootstrap")
	require.NoError(t, err)
	_, err = f.Write([]byte("#!/bin/sh\necho " + c.content))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func (c lambdaFunctionCode) code(t *testing.T) *types.FunctionCode {
	return &types.FunctionCode{ZipFile: c.zip(t)}
}

func createLambdaRole(t *testing.T, cloud *fakecloud.Cloud, name string) string {
	t.Helper()
	out, err := cloud.IAM().CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	cloud.Clock().Advance(10 * time.Second) // IAM propagation
	return aws.ToString(out.Role.Arn)
}

func TestLambdaCreateValidation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		mod  func(t *testing.T, cloud *fakecloud.Cloud, in *lambda.CreateFunctionInput)
		code string
		msg  string
	}{
		{name: "retired go1.x runtime", mod: func(_ *testing.T, _ *fakecloud.Cloud, in *lambda.CreateFunctionInput) { in.Runtime = "go1.x" }, code: "InvalidParameterValueException", msg: "no longer supported"},
		{name: "role just created: IAM has not propagated it to Lambda yet", mod: func(t *testing.T, cloud *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			out, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("new-role"),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
			require.NoError(t, err)
			in.Role = out.Role.Arn
		}, code: "InvalidParameterValueException", msg: "cannot be assumed by Lambda"},
		{name: "role that does not exist", mod: func(_ *testing.T, _ *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			in.Role = aws.String("arn:aws:iam::123456789012:role/nope")
		}, code: "InvalidParameterValueException", msg: "cannot be assumed by Lambda"},
		{name: "role Lambda may not assume", mod: func(t *testing.T, cloud *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			out, err := cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ec2-role"),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
			require.NoError(t, err)
			cloud.Clock().Advance(time.Minute)
			in.Role = out.Role.Arn
		}, code: "InvalidParameterValueException", msg: "cannot be assumed by Lambda"},
		{name: "not a zip", mod: func(_ *testing.T, _ *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			in.Code = &types.FunctionCode{ZipFile: []byte("bootstrap")}
		}, code: "InvalidParameterValueException", msg: "Could not unzip"},
		{name: "environment over 4 KB", mod: func(_ *testing.T, _ *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"BIG": string(bytes.Repeat([]byte("x"), 4100))}}
		}, code: "InvalidParameterValueException", msg: "exceeded the 4KB limit"},
		{name: "reserved environment key", mod: func(_ *testing.T, _ *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}
		}, code: "InvalidParameterValueException", msg: "reserved keys"},
		{name: "unknown KMS key", mod: func(_ *testing.T, _ *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			in.KMSKeyArn = aws.String("arn:aws:kms:us-east-1:123456789012:key/0000")
		}, code: "KMSNotFoundException"},
		{name: "two architectures", mod: func(_ *testing.T, _ *fakecloud.Cloud, in *lambda.CreateFunctionInput) {
			in.Architectures = []types.Architecture{types.ArchitectureArm64, types.ArchitectureX8664}
		}, code: "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			role := createLambdaRole(t, cloud, "fn-role")
			in := &lambda.CreateFunctionInput{FunctionName: aws.String("fn"), Role: aws.String(role), Runtime: "provided.al2023", Code: lambdaFunctionCode{}.code(t)}
			tt.mod(t, cloud, in)
			_, err := cloud.Lambda().CreateFunction(ctx, in)
			require.Error(t, err)
			assert.Equal(t, tt.code, awsx.Code(err))
			assert.Contains(t, err.Error(), tt.msg)
			assert.Empty(t, cloud.Lambda().Functions())
		})
	}
}

func TestLambdaLifecycle(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	l := cloud.Lambda()
	role := createLambdaRole(t, cloud, "fn-role")
	zip1 := lambdaFunctionCode{"one"}.zip(t)
	out, err := l.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("fn"), Role: aws.String(role), Runtime: "provided.al2023",
		Architectures: []types.Architecture{types.ArchitectureArm64}, Code: &types.FunctionCode{ZipFile: zip1}, Tags: map[string]string{"cutover:env": "dev"}})
	require.NoError(t, err)
	sum := sha256.Sum256(zip1)
	assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), aws.ToString(out.CodeSha256), "CodeSha256 is base64(sha256(zip))")
	assert.Equal(t, types.StatePending, out.State)

	_, err = l.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("fn"), Role: aws.String(role), Runtime: "provided.al2023", Code: &types.FunctionCode{ZipFile: zip1}})
	assert.Equal(t, "ResourceConflictException", awsx.Code(err))

	// While Pending, updates and invocations conflict.
	_, err = l.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: zip1})
	assert.Equal(t, "ResourceConflictException", awsx.Code(err))
	_, err = l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn")})
	assert.Equal(t, "ResourceConflictException", awsx.Code(err))

	cloud.Clock().Advance(10 * time.Second)
	got, err := l.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
	require.NoError(t, err)
	assert.Equal(t, types.StateActive, got.Configuration.State)
	assert.Equal(t, []types.Architecture{types.ArchitectureArm64}, got.Configuration.Architectures)
	assert.Equal(t, "dev", got.Tags["cutover:env"])

	// An update is InProgress for a while; a second update must wait.
	zip2 := lambdaFunctionCode{"two"}.zip(t)
	up, err := l.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: zip2})
	require.NoError(t, err)
	assert.Equal(t, types.LastUpdateStatusInProgress, up.LastUpdateStatus)
	_, err = l.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), Timeout: aws.Int32(30)})
	assert.Equal(t, "ResourceConflictException", awsx.Code(err))
	cloud.Clock().Advance(5 * time.Second)
	cfg, err := l.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), Timeout: aws.Int32(30)})
	require.NoError(t, err)
	assert.Equal(t, int32(30), aws.ToInt32(cfg.Timeout))
	sum2 := sha256.Sum256(zip2)
	assert.Equal(t, base64.StdEncoding.EncodeToString(sum2[:]), aws.ToString(cfg.CodeSha256))
	cloud.Clock().Advance(5 * time.Second)

	// The resource policy.
	_, err = l.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("fn")})
	assert.Equal(t, "ResourceNotFoundException", awsx.Code(err), "no policy yet")
	_, err = l.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("fn"), StatementId: aws.String("s1"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("lambda.alarms.cloudwatch.amazonaws.com"), SourceArn: aws.String("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"), SourceAccount: aws.String("123456789012")})
	require.NoError(t, err)
	_, err = l.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("fn"), StatementId: aws.String("s1"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com")})
	assert.Equal(t, "ResourceConflictException", awsx.Code(err), "statement IDs are unique")
	pol, err := l.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("fn")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s1","Effect":"Allow","Principal":{"Service":"lambda.alarms.cloudwatch.amazonaws.com"},
		"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:fn",
		"Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},"ArnLike":{"AWS:SourceArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"}}}]}`, aws.ToString(pol.Policy))
	_, err = l.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("fn"), StatementId: aws.String("s2")})
	assert.Equal(t, "ResourceNotFoundException", awsx.Code(err))

	// Invocations run the in-process handler.
	out2, err := l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte(`{}`)})
	require.NoError(t, err)
	assert.Equal(t, "Unhandled", aws.ToString(out2.FunctionError), "no handler: the invocation fails")
	calls := 0
	l.SetHandler("fn", func(_ context.Context, p []byte) ([]byte, error) {
		calls++
		if string(p) == `{"fail":true}` {
			return nil, errors.New("boom")
		}
		return []byte(`{"ok":true}`), nil
	})
	out2, err = l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:fn"), Payload: []byte(`{}`)})
	require.NoError(t, err)
	assert.Equal(t, int32(200), out2.StatusCode)
	assert.JSONEq(t, `{"ok":true}`, string(out2.Payload))
	out2, err = l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"fail":true}`)})
	require.NoError(t, err)
	assert.Equal(t, int32(202), out2.StatusCode)
	assert.Equal(t, 4, calls, "an asynchronous invocation that fails is tried three times")
	_, err = l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte(`not json`)})
	assert.Equal(t, "InvalidRequestContentException", awsx.Code(err))

	_, err = l.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")})
	require.NoError(t, err)
	_, err = l.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
	assert.True(t, awsx.IsNotFound(err))
	assert.Equal(t, 5, cloud.Count("Lambda", "Invoke"), "every Invoke call is logged once; retries of the handler are not calls")
	assert.Len(t, l.Invocations(), 5, "the handler runs: one failed without handler, one sync, three async attempts")
}
