package rollback_test

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

const testTableARN = "arn:aws:dynamodb:us-east-1:123456789012:table/migration-tracking-dev"

func lambdaConfig(t *testing.T, env migration.Env) rollback.LambdaConfig {
	return rollback.LambdaConfig{
		Suffix: env.Suffix, Region: env.Region, Account: env.Account, Policy: defaultPolicy(t, env),
		HostedZoneID: "Z0123456789ABCDEFGHIJ", RecordNames: []string{"app.corp.internal."}, TableName: "migration-tracking-dev",
		TopicARN: testTopicARN, ReverseTaskARN: "arn:aws:dms:us-east-1:123456789012:task:REVERSETASKID", ForwardTaskARN: "arn:aws:dms:us-east-1:123456789012:task:FORWARDTASKID",
	}
}

// functionSpec returns a spec with a key made in cloud.
func functionSpec(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, code string) rollback.FunctionSpec {
	t.Helper()
	quiet := env
	quiet.Reporter = nil
	key, err := migration.EnsureKey(context.Background(), quiet, cloud.KMS(), migration.KeySpec{})
	require.NoError(t, err)
	zip, err := rollback.ZipBootstrap([]byte("\x7fELF fake executable " + code))
	require.NoError(t, err)
	return rollback.FunctionSpec{
		Zip: zip, KMSKeyARN: key.ARN, TableARN: testTableARN, Config: lambdaConfig(t, env),
		AlarmARNs: []string{rollback.AlarmARN(env, rollback.CompositeAlarmName(env))},
	}
}

func clients(cloud *fakecloud.Cloud) rollback.FunctionClients {
	return rollback.FunctionClients{Lambda: cloud.Lambda(), IAM: cloud.IAM(), Logs: cloud.Logs()}
}

func TestEnsureFunction(t *testing.T) {
	ctx := context.Background()
	env0, _, _ := cloudEnv(t) // names for the table: every case's env is alike
	ensure := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.FunctionSpec) {
		t.Helper()
		quiet := env
		quiet.Reporter = nil
		_, err := rollback.EnsureFunction(ctx, quiet, clients(cloud), spec)
		require.NoError(t, err)
		cloud.Clock().Advance(time.Minute)
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.FunctionSpec)
		edit       func(s *rollback.FunctionSpec)
		dryRun     bool
		faults     fakecloud.Faults
		wantAction migration.Action // of the function
		wantWrites []string
		wantErr    string
	}{
		{name: "missing: log group, role, function and the alarm's permission are created; create waits out IAM propagation", wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy", "CreateFunction", "CreateFunction", "CreateFunction", "CreateFunction", "AddPermission"}},
		{name: "converged: the same source changes nothing", setup: ensure, wantAction: migration.ActionNoop},
		{name: "new code: UpdateFunctionCode only", setup: ensure, edit: func(s *rollback.FunctionSpec) {
			s.Zip, _ = rollback.ZipBootstrap([]byte("\x7fELF fake executable v2"))
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateFunctionCode"}},
		{name: "new memory and config: UpdateFunctionConfiguration only", setup: ensure, edit: func(s *rollback.FunctionSpec) {
			s.MemoryMB = 512
			s.Config.Policy.DataLossBudget = 2 * time.Minute
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateFunctionConfiguration"}},
		{name: "another alarm: the permissions converge exactly", setup: ensure, edit: func(s *rollback.FunctionSpec) {
			s.AlarmARNs = []string{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-other-dev"}
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"RemovePermission", "AddPermission"}},
		{name: "a subscribed topic gets its permission; a statement someone else added stays", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.FunctionSpec) {
			ensure(t, env, cloud, spec)
			_, err := cloud.Lambda().AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("migration-rollback-dev"), StatementId: aws.String("someone-elses"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com")})
			require.NoError(t, err)
		}, edit: func(s *rollback.FunctionSpec) { s.TopicARNs = []string{testTopicARN} },
			wantAction: migration.ActionUpdate, wantWrites: []string{"AddPermission"}},
		{name: "the EventBridge rule gets its permission before the rule exists", setup: ensure, edit: func(s *rollback.FunctionSpec) {
			s.RuleARNs = []string{rollback.AlarmRuleARN(env0)}
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"AddPermission"}},
		{name: "a rule no longer listed loses its permission; the alarm's stays", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.FunctionSpec) {
			spec.RuleARNs = []string{rollback.AlarmRuleARN(env)}
			ensure(t, env, cloud, spec)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"RemovePermission"}},
		{name: "a rule ARN that is not one is refused before any call", edit: func(s *rollback.FunctionSpec) {
			s.RuleARNs = []string{"arn:aws:events:us-east-1:123456789012:event-bus/default"}
		}, wantErr: `function.ruleArns: "arn:aws:events:us-east-1:123456789012:event-bus/default" is not an EventBridge rule ARN`},
		{name: "the role's policy drifted: only the role is rewritten", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.FunctionSpec) {
			ensure(t, env, cloud, spec)
			drift := spec
			drift.TableARN = "arn:aws:dynamodb:us-east-1:123456789012:table/other"
			ensure(t, env, cloud, drift)
		}, wantAction: migration.ActionNoop, wantWrites: []string{"PutRolePolicy"}},
		{name: "eventual consistency everywhere: every step retries what it may", faults: fakecloud.Faults{NotFoundReads: 2}, wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateLogGroup", "PutRetentionPolicy", "PutRetentionPolicy", "PutRetentionPolicy", "CreateRole", "PutRolePolicy", "PutRolePolicy", "PutRolePolicy",
				"CreateFunction", "CreateFunction", "CreateFunction", "AddPermission"}},
		{name: "dry run writes nothing", dryRun: true, wantAction: migration.ActionCreate},
		{name: "a function of that name without the ownership tag is refused", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.FunctionSpec) {
			ensure(t, env, cloud, spec)
			_, err := cloud.Lambda().DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("migration-rollback-dev")})
			require.NoError(t, err)
			role := rollback.FunctionRoleName(env)
			_, err = cloud.Lambda().CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("migration-rollback-dev"),
				Role: aws.String("arn:aws:iam::123456789012:role/" + role), Runtime: lambdatypes.RuntimeProvidedal2023, Code: &lambdatypes.FunctionCode{ZipFile: spec.Zip}})
			require.NoError(t, err)
		}, wantErr: "refusing to adopt"},
		{name: "a zip without bootstrap is refused before any call", edit: func(s *rollback.FunctionSpec) {
			var buf bytes.Buffer
			w := zip.NewWriter(&buf)
			_, _ = w.Create("main")
			_ = w.Close()
			s.Zip = buf.Bytes()
		}, wantErr: "no bootstrap at the root"},
		{name: "a config over Lambda's 4 KB is refused", edit: func(s *rollback.FunctionSpec) {
			for i := range 40 {
				r := s.Config.Policy.Rules[0]
				r.Name = "copy-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
				s.Config.Policy.Rules = append(s.Config.Policy.Rules, r)
			}
		}, wantErr: "exceed the 4 KB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			spec := functionSpec(t, env, cloud, "v1")
			if tt.setup != nil {
				tt.setup(t, env, cloud, spec)
			}
			if tt.edit != nil {
				tt.edit(&spec)
			}
			cloud.ResetCalls()
			cloud.SetFaults(tt.faults)
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			fn, err := rollback.EnsureFunction(ctx, env, clients(cloud), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure function "migration-rollback-dev"`)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			var fnChange *migration.Change
			for _, c := range report.Changes() {
				if c.Kind == rollback.KindFunction {
					fnChange = &c
				}
			}
			require.NotNil(t, fnChange)
			assert.Equal(t, tt.wantAction, fnChange.Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.dryRun {
				assert.Empty(t, cloud.Lambda().Functions())
				return
			}
			cloud.SetFaults(fakecloud.Faults{})
			cloud.Clock().Advance(time.Minute)

			// The state: the function as specified.
			got, err := cloud.Lambda().GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("migration-rollback-dev")})
			require.NoError(t, err)
			cfg := got.Configuration
			assert.Equal(t, rollback.CodeSha256(spec.Zip), aws.ToString(cfg.CodeSha256))
			assert.Equal(t, fn.CodeSha256, aws.ToString(cfg.CodeSha256))
			assert.Equal(t, lambdatypes.RuntimeProvidedal2023, cfg.Runtime)
			assert.Equal(t, []lambdatypes.Architecture{lambdatypes.ArchitectureArm64}, cfg.Architectures)
			assert.Equal(t, spec.KMSKeyARN, aws.ToString(cfg.KMSKeyArn), "the environment is encrypted with the env key")
			assert.Equal(t, "/cutover/dev/rollback-lambda", aws.ToString(cfg.LoggingConfig.LogGroup))
			var gotCfg rollback.LambdaConfig
			require.NoError(t, json.Unmarshal([]byte(cfg.Environment.Variables[rollback.ConfigEnvVar]), &gotCfg))
			assert.Equal(t, spec.Config, gotCfg)
			assert.Equal(t, "dev", got.Tags["cutover:env"])
			policy := cloud.Lambda().FunctionPolicy("migration-rollback-dev")
			delete(policy, "someone-elses")
			var stmts [][2]string
			for _, v := range policy {
				stmts = append(stmts, v)
			}
			var want [][2]string
			for _, a := range spec.AlarmARNs {
				want = append(want, [2]string{"lambda.alarms.cloudwatch.amazonaws.com", a})
			}
			for _, a := range spec.TopicARNs {
				want = append(want, [2]string{"sns.amazonaws.com", a})
			}
			for _, a := range spec.RuleARNs {
				want = append(want, [2]string{"events.amazonaws.com", a})
			}
			assert.ElementsMatch(t, want, stmts, "exactly the statements of the spec")
			key, days, ok := cloud.Logs().LogGroupKey("/cutover/dev/rollback-lambda")
			require.True(t, ok)
			assert.Equal(t, spec.KMSKeyARN, key)
			assert.Equal(t, int32(90), days)
			inline := cloud.IAM().RoleInlinePolicies("migration-rollback-role-dev")
			assert.True(t, migration.PolicyEqual(inline["rollback"], rollback.FunctionRolePolicy(env, spec).JSON()))
			assert.Empty(t, cloud.IAM().RoleAttached("migration-rollback-role-dev"), "no managed policies: exactly the inline one")

			// A second apply of the same spec changes nothing.
			cloud.ResetCalls()
			report2 := &migration.Report{}
			env.Reporter = report2
			_, err = rollback.EnsureFunction(ctx, env, clients(cloud), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes())
			assert.Equal(t, map[migration.Action]int{migration.ActionNoop: 3}, report2.Counts())
		})
	}
}

func TestFunctionRolePolicy(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	spec := functionSpec(t, env, cloud, "v1")
	p := rollback.FunctionRolePolicy(env, spec)
	require.NoError(t, p.CheckLeastPrivilege())
	got := map[string][]string{}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			got[a] = s.Resource
		}
	}
	assert.Equal(t, map[string][]string{
		"route53:ChangeResourceRecordSets": {"arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"},
		"route53:ListResourceRecordSets":   {"arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"},
		"route53:GetChange":                {"arn:aws:route53:::change/*"},
		"dynamodb:GetItem":                 {testTableARN},
		"dynamodb:PutItem":                 {testTableARN},
		"dynamodb:UpdateItem":              {testTableARN},
		"dynamodb:Query":                   {testTableARN},
		"dynamodb:ConditionCheckItem":      {testTableARN},
		"sns:Publish":                      {testTopicARN},
		"cloudwatch:GetMetricData":         {"*"},
		"dms:StartReplicationTask":         {"arn:aws:dms:us-east-1:123456789012:task:REVERSETASKID"},
		"dms:DescribeReplicationTasks":     {"*"},
		"dms:DescribeReplicationInstances": {"*"},
		"dms:DescribeTableStatistics":      {"*"},
		"dms:StopReplicationTask":          {"arn:aws:dms:us-east-1:123456789012:task:FORWARDTASKID"},
		"kms:Decrypt":                      {spec.KMSKeyARN},
		"kms:GenerateDataKey":              {spec.KMSKeyARN},
		"logs:CreateLogStream":             {"arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/rollback-lambda:*"},
		"logs:PutLogEvents":                {"arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/rollback-lambda:*"},
	}, got)
}

func TestDeleteFunction(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	spec := functionSpec(t, env, cloud, "v1")
	_, err := rollback.EnsureFunction(ctx, env, clients(cloud), spec)
	require.NoError(t, err)
	cloud.ResetCalls()
	require.NoError(t, rollback.DeleteFunction(ctx, env, clients(cloud), spec))
	assert.Empty(t, cloud.Lambda().Functions())
	assert.NotContains(t, cloud.IAM().Roles(), "migration-rollback-role-dev")
	assert.NotContains(t, cloud.Logs().LogGroups(), "/cutover/dev/rollback-lambda")
	cloud.ResetCalls()
	require.NoError(t, rollback.DeleteFunction(ctx, env, clients(cloud), spec))
	assert.Empty(t, cloud.Writes(), "gone: a no-op")
}

func TestZipBootstrapIsReproducible(t *testing.T) {
	a, err := rollback.ZipBootstrap([]byte("binary"))
	require.NoError(t, err)
	b, err := rollback.ZipBootstrap([]byte("binary"))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	c, err := rollback.ZipBootstrap([]byte("binary2"))
	require.NoError(t, err)
	assert.NotEqual(t, rollback.CodeSha256(a), rollback.CodeSha256(c))
	r, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	require.NoError(t, err)
	require.Len(t, r.File, 1)
	assert.Equal(t, "bootstrap", r.File[0].Name)
	assert.Equal(t, "-rwxr-xr-x", r.File[0].Mode().String())
	assert.Equal(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), r.File[0].Modified.UTC(), "a fixed mtime: the bytes do not depend on when the zip is made")
	_, err = rollback.ZipBootstrap(nil)
	assert.Error(t, err)
}

// TestBuildZipIsReproducible builds a Lambda main for linux/arm64 twice
// with BuildZip: the same source gives the same zip, so the same
// CodeSha256, and EnsureFunction skips UpdateFunctionCode. The first build
// for arm64 on a cold cache takes about a minute; -short skips it.
func TestBuildZipIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a linux/arm64 binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	spec := rollback.BuildSpec{Dir: ".", Package: "./testdata/bootstrap"}
	first, err := rollback.BuildZip(ctx, spec)
	require.NoError(t, err)
	second, err := rollback.BuildZip(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, rollback.CodeSha256(first), rollback.CodeSha256(second))
	assert.True(t, bytes.Equal(first, second))

	r, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	require.NoError(t, err)
	require.Len(t, r.File, 1)
	f, err := r.File[0].Open()
	require.NoError(t, err)
	bin, err := io.ReadAll(f)
	require.NoError(t, err)
	exe, err := elf.NewFile(bytes.NewReader(bin))
	require.NoError(t, err)
	assert.Equal(t, elf.EM_AARCH64, exe.Machine, "built for arm64")
	assert.Equal(t, elf.ELFOSABI_NONE, exe.OSABI)
	assert.NotContains(t, string(bin), "/work/", "-trimpath: no build paths in the binary")

	_, err = rollback.BuildZip(ctx, rollback.BuildSpec{Dir: ".", Package: "./testdata/nope"})
	assert.ErrorContains(t, err, "go build ./testdata/nope")
}
