package validate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

// The test: a wave of 12 servers, one failing validation.
func TestRunWaveOfTwelveWithOneFailure(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	ids := registerWave(cloud, 12)
	d := ensureDoc(t, env, cloud)
	cloud.SSM().ScriptOutcome(ids[6], d.Name, types.CommandInvocationStatusFailed, "FAIL http: https://app.corp.example:8443/health returned HTTP 502, expected 200")
	rec := &recorder{}
	cloud.ResetCalls()
	start := cloud.Clock().Now()

	r, err := validate.Run(ctx, env, cloud.SSM(), rec, validate.RunSpec{Document: d, Targets: map[string][]string{"Wave": {"1"}}, Expect: ids})
	require.NoError(t, err)

	// The result names the failing server, and only it.
	assert.False(t, r.Passed)
	assert.Equal(t, d.Name, r.Name)
	require.Len(t, r.Instances, 12)
	var failed []migration.InstanceResult
	for _, inst := range r.Instances {
		if !inst.Passed {
			failed = append(failed, inst)
		} else {
			assert.Equal(t, "Success", inst.Status)
		}
	}
	require.Len(t, failed, 1)
	assert.Equal(t, ids[6], failed[0].InstanceID)
	assert.Equal(t, "app-07", failed[0].Name)
	assert.Equal(t, "Failed", failed[0].Status)
	assert.Contains(t, failed[0].Output, "[applicationHealth] FAIL http: https://app.corp.example:8443/health returned HTTP 502")

	// The phase cannot advance, and the error names the server.
	err = validate.Passed(r)
	require.Error(t, err)
	assert.ErrorIs(t, err, validate.ErrNotValidated)
	assert.Contains(t, err.Error(), ids[6])
	assert.Contains(t, err.Error(), "app-07")
	assert.Contains(t, err.Error(), "returned HTTP 502")
	var gate *validate.GateError
	require.ErrorAs(t, err, &gate)
	assert.Len(t, gate.Failures, 1)
	assert.Equal(t, 12, gate.Instances)
	require.ErrorIs(t, validate.Gate(migration.PhaseReplicating, migration.PhaseValidated, r), validate.ErrNotValidated)
	require.ErrorIs(t, validate.Gate(migration.PhaseValidated, migration.PhaseCuttingOver, r), validate.ErrNotValidated)

	// Recorded in tracking, exactly as returned.
	require.Len(t, rec.results, 1)
	assert.Equal(t, r, rec.results[0])

	// SSM itself calls the command a Success (the error stayed within
	// MaxErrors): Run did not trust that.
	cmds, err := cloud.SSM().ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(r.CommandID)})
	require.NoError(t, err)
	assert.Equal(t, types.CommandStatusSuccess, cmds.Commands[0].Status)

	// What was sent: pinned version, tag targets, CloudWatch output to the
	// env's group, rate controls that reach every server.
	assert.Equal(t, []string{"SendCommand"}, writeOps(cloud))
	sent := cloud.SSM().Commands()
	require.Len(t, sent, 1)
	assert.Equal(t, d.Version, sent[0].DocumentVersion)
	assert.Equal(t, map[string][]string{"tag:Wave": {"1"}}, sent[0].Targets)
	assert.Equal(t, "/cutover/dev/validation", sent[0].LogGroup)
	assert.True(t, sent[0].CloudWatch)
	assert.Equal(t, "25%", sent[0].MaxConcurrency)
	assert.Equal(t, "100%", sent[0].MaxErrors)
	assert.EqualValues(t, 600, sent[0].TimeoutSeconds)
	assert.Empty(t, sent[0].Parameters, "the document's defaults carry the spec")
	// The invocations came in pages (the fake pages by 10), read with details.
	assert.GreaterOrEqual(t, cloud.Count("SSM", "ListCommandInvocations"), 2)
	// It waited on the fake clock: 4 batches of 3.
	assert.GreaterOrEqual(t, cloud.Clock().Now().Sub(start), 4*(fakecloud.SSMDispatch+fakecloud.SSMRunTime))
}

func TestRunAllPassOpensTheGate(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	ids := registerWave(cloud, 12)
	d := ensureDoc(t, env, cloud)
	r, err := validate.Run(ctx, env, cloud.SSM(), nil, validate.RunSpec{Document: d, Targets: map[string][]string{"Wave": {"1"}}, Expect: ids})
	require.NoError(t, err)
	assert.True(t, r.Passed)
	assert.Len(t, r.Instances, 12)
	require.NoError(t, validate.Passed(r))
	require.NoError(t, validate.Gate(migration.PhaseReplicating, migration.PhaseValidated, r))
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	wave := map[string][]string{"Wave": {"1"}}
	tests := []struct {
		name string
		// setup registers instances and scripts outcomes; it returns the
		// run spec.
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec
		dryRun     bool
		wantErr    string
		wantIs     error
		wantPassed bool
		// wantFailed maps the failing instances (by index in ids, -1 for
		// none) to their status and a fragment of their output.
		wantFailed map[int][2]string
		wantCount  int
		wantCalls  bool // whether any SSM call is expected
		wantRecord bool
	}{
		{
			name: "an expected server outside the targets fails by name",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				cloud.SSM().RegisterInstance(ids[3], map[string]string{"Wave": "2", "Name": "app-04"})
				return validate.RunSpec{Document: d, Targets: wave, Expect: ids}
			},
			wantFailed: map[int][2]string{3: {validate.StatusNotTargeted, "did not reach this instance"}}, wantCount: 12, wantCalls: true, wantRecord: true,
		},
		{
			name: "an offline agent times out on delivery",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				cloud.SSM().SetOnline(ids[1], false)
				return validate.RunSpec{Document: d, Targets: wave, Expect: ids, DeliveryTimeout: time.Minute}
			},
			wantFailed: map[int][2]string{1: {"TimedOut", "DeliveryTimedOut"}}, wantCount: 12, wantCalls: true, wantRecord: true,
		},
		{
			name: "a check that runs too long times out",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				cloud.SSM().ScriptOutcome(ids[0], d.Name, types.CommandInvocationStatusTimedOut, "")
				return validate.RunSpec{Document: d, Targets: wave}
			},
			wantFailed: map[int][2]string{0: {"TimedOut", "ExecutionTimedOut"}}, wantCount: 12, wantCalls: true, wantRecord: true,
		},
		{
			name: "MaxErrors 0 stops later batches: every unchecked server is named",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				cloud.SSM().ScriptOutcome(ids[0], d.Name, types.CommandInvocationStatusFailed, "FAIL unit app.service is failed")
				return validate.RunSpec{Document: d, Targets: wave, MaxErrors: "0", MaxConcurrency: "6"}
			},
			wantFailed: map[int][2]string{0: {"Failed", "app.service"}, 6: {"Cancelled", ""}, 7: {"Cancelled", ""}, 8: {"Cancelled", ""}, 9: {"Cancelled", ""}, 10: {"Cancelled", ""}, 11: {"Cancelled", ""}},
			wantCount:  12, wantCalls: true, wantRecord: true,
		},
		{
			name: "targets that match nothing fail",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				return validate.RunSpec{Document: d, Targets: map[string][]string{"Wave": {"9"}}}
			},
			wantFailed: map[int][2]string{}, wantCount: 0, wantCalls: true, wantRecord: true,
		},
		{
			name: "instance IDs instead of tags",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				return validate.RunSpec{Document: d, InstanceIDs: ids[:5]}
			},
			wantPassed: true, wantCount: 5, wantCalls: true, wantRecord: true,
		},
		{
			name: "dry run sends nothing and records nothing", dryRun: true,
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				return validate.RunSpec{Document: d, Targets: wave}
			},
			wantFailed: map[int][2]string{}, wantCount: 0,
		},
		{
			name: "an override outside the parameter's pattern is refused before sending",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				return validate.RunSpec{Document: d, Targets: wave, Parameters: map[string]string{"httpPath": "/health'; reboot; '"}}
			},
			wantErr: "run.parameters[httpPath]",
		},
		{
			name: "a wait that ends first records the servers still running as failed",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, d validate.Document, ids []string) validate.RunSpec {
				cloud.SSM().SetOnline(ids[11], false)
				return validate.RunSpec{Document: d, Targets: wave, MaxConcurrency: "12", DeliveryTimeout: time.Hour, Timeout: 2 * time.Minute}
			},
			wantIs: awsx.ErrTimeout, wantFailed: map[int][2]string{11: {"Pending", "no result within 2m0s"}}, wantCount: 12, wantCalls: true, wantRecord: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			ids := registerWave(cloud, 12)
			d := ensureDoc(t, env, cloud)
			spec := tt.setup(t, env, cloud, d, ids)
			cloud.ResetCalls()
			env.DryRun = tt.dryRun
			rec := &recorder{}

			r, err := validate.Run(ctx, env, cloud.SSM(), rec, spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, cloud.Calls(), "refused before any call")
				assert.Empty(t, rec.results)
				return
			}
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCalls, len(cloud.Calls()) > 0)
			assert.Equal(t, tt.wantPassed, r.Passed)
			assert.Len(t, r.Instances, tt.wantCount)
			if tt.wantRecord {
				require.Len(t, rec.results, 1)
				assert.Equal(t, r, rec.results[0])
			} else {
				assert.Empty(t, rec.results)
			}
			failed := map[string]migration.InstanceResult{}
			for _, inst := range r.Instances {
				if !inst.Passed {
					failed[inst.InstanceID] = inst
				}
			}
			assert.Len(t, failed, len(tt.wantFailed), "failing instances: %v", failed)
			for i, want := range tt.wantFailed {
				got, ok := failed[ids[i]]
				if assert.True(t, ok, "instance %d (%s) must fail", i, ids[i]) {
					assert.Equal(t, want[0], got.Status)
					assert.Contains(t, got.Output, want[1])
				}
			}
			gateErr := validate.Passed(r)
			if tt.wantPassed {
				assert.NoError(t, gateErr)
			} else {
				require.ErrorIs(t, gateErr, validate.ErrNotValidated)
				for i := range tt.wantFailed {
					assert.Contains(t, gateErr.Error(), ids[i])
				}
			}
		})
	}
}

func TestRunRecorderFailureIsReturned(t *testing.T) {
	env, cloud, _ := newEnv(t)
	registerWave(cloud, 2)
	d := ensureDoc(t, env, cloud)
	rec := &recorder{err: errors.New("table unavailable")}
	r, err := validate.Run(context.Background(), env, cloud.SSM(), rec, validate.RunSpec{Document: d, Targets: map[string][]string{"Wave": {"1"}}})
	require.ErrorContains(t, err, "record result: table unavailable")
	assert.True(t, r.Passed, "the validation itself ran and passed")
	assert.Len(t, r.Instances, 2)
}

func TestRunUnderThrottling(t *testing.T) {
	env, cloud, _ := newEnv(t)
	ids := registerWave(cloud, 12)
	d := ensureDoc(t, env, cloud)
	cloud.SSM().ScriptOutcome(ids[2], d.Name, types.CommandInvocationStatusFailed, "FAIL port 9090 has no listener")
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.4, Services: []string{"SSM"}})
	r, err := validate.Run(context.Background(), env, cloud.SSM(), nil, validate.RunSpec{Document: d, Targets: map[string][]string{"Wave": {"1"}}, Expect: ids})
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	assert.Len(t, r.Instances, 12)
	assert.Equal(t, 1, cloud.Count("SSM", "SendCommand")-countCode(cloud, "SendCommand", "ThrottlingException"), "one command sent, however often it was throttled")
	assert.Len(t, cloud.SSM().Commands(), 1)
	require.ErrorContains(t, validate.Passed(r), ids[2])
}

func countCode(cloud *fakecloud.Cloud, op, code string) int {
	n := 0
	for _, c := range cloud.Calls() {
		if c.Op == op && c.Code == code {
			n++
		}
	}
	return n
}

func TestRunOutputIsRedactedAndBounded(t *testing.T) {
	env, cloud, _ := newEnv(t)
	ids := registerWave(cloud, 2)
	d := ensureDoc(t, env, cloud)
	cloud.SSM().ScriptOutcome(ids[0], d.Name, types.CommandInvocationStatusFailed, "FAIL database: psql: password=hunter2 token: abc123 postgresql://app:s3cret@db/orders")
	cloud.SSM().ScriptOutcome(ids[1], d.Name, types.CommandInvocationStatusFailed, strings.Repeat("x", 10000)+"\nFAIL at the end")
	r, err := validate.Run(context.Background(), env, cloud.SSM(), nil, validate.RunSpec{Document: d, Targets: map[string][]string{"Wave": {"1"}}})
	require.NoError(t, err)
	require.Len(t, r.Instances, 2)
	out := r.Instances[0].Output
	for _, secret := range []string{"hunter2", "abc123", "s3cret"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, "password=[REDACTED]")
	long := r.Instances[1].Output
	assert.LessOrEqual(t, len(long), validate.MaxExcerpt)
	assert.True(t, strings.HasPrefix(long, "…"))
	assert.Contains(t, long, "---Output truncated---", "SSM truncates the API output; the excerpt keeps its end")
}

func TestExcerpt(t *testing.T) {
	inv := types.CommandInvocation{
		Status: types.CommandInvocationStatusFailed, StatusDetails: aws.String("Failed"),
		CommandPlugins: []types.CommandPlugin{
			{Name: aws.String("systemdUnits"), Status: types.CommandPluginStatusSuccess, Output: aws.String("PASS unit app.service is active\n")},
			{Name: aws.String("listeningPorts"), Status: types.CommandPluginStatusFailed, Output: aws.String("FAIL port 9090 has no listener")},
			{Name: aws.String("fileStorage"), Status: types.CommandPluginStatusCancelled},
		},
	}
	assert.Equal(t, "[systemdUnits] PASS unit app.service is active\n[listeningPorts] FAIL port 9090 has no listener\n[fileStorage] Cancelled", validate.Excerpt(inv))
	inv.StatusDetails = aws.String("DeliveryTimedOut")
	inv.CommandPlugins = nil
	assert.Equal(t, "DeliveryTimedOut", validate.Excerpt(inv))
	// Multi-byte output is cut at a character boundary.
	inv.CommandPlugins = []types.CommandPlugin{{Name: aws.String("s"), Output: aws.String(strings.Repeat("é", 3000))}}
	ex := validate.Excerpt(inv)
	assert.LessOrEqual(t, len(ex), validate.MaxExcerpt)
	assert.True(t, strings.HasSuffix(ex, "é"))
	assert.True(t, strings.HasPrefix(ex, "…é"))
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"password=hunter2 ok", "password=[REDACTED] ok"},
		{`{"password": "hunter2"}`, `{"password": "[REDACTED]"}`},
		{"SECRET: abc", "SECRET: [REDACTED]"},
		{"postgresql://app:pw@db:5432/x", "postgresql://app:[REDACTED]@db:5432/x"},
		{"key AKIAABCDEFGHIJKLMNOP here", "key [REDACTED KEY ID] here"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "[REDACTED PRIVATE KEY]"},
		{"PASS database: host:5432/orders over TLS as app", "PASS database: host:5432/orders over TLS as app"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, validate.Redact(tt.in))
	}
}

func TestRunSpecValidate(t *testing.T) {
	env, cloud, _ := newEnv(t)
	d := validate.Document{Name: "validate-application-health-dev", Version: "1", Parameters: docSpec(env).Content().Parameters}
	wave := map[string][]string{"Wave": {"1"}}
	tests := []struct {
		spec validate.RunSpec
		want string
	}{
		{validate.RunSpec{Targets: wave}, "run.document"},
		{validate.RunSpec{Document: d}, "run.targets"},
		{validate.RunSpec{Document: d, Targets: wave, InstanceIDs: []string{"i-1"}}, "not both"},
		{validate.RunSpec{Document: d, Targets: map[string][]string{"a": {"1"}, "b": {"1"}, "c": {"1"}, "d": {"1"}, "e": {"1"}, "f": {"1"}}}, "1 to 5 tag keys"},
		{validate.RunSpec{Document: d, Targets: wave, Parameters: map[string]string{"httpTls": "maybe"}}, "not one of [true false]"},
		{validate.RunSpec{Document: d, Targets: wave, MaxConcurrency: "0"}, "run.maxConcurrency"},
		{validate.RunSpec{Document: d, Targets: wave, DeliveryTimeout: time.Second}, "run.deliveryTimeout"},
		{validate.RunSpec{Document: d, Targets: wave, LogGroup: "bad group"}, "run.logGroup"},
		{validate.RunSpec{Document: d, Targets: wave, Expect: []string{"i-0123456789abcdef0", ""}}, `run.expect[1]: "" is not an instance ID`},
		{validate.RunSpec{Document: d, InstanceIDs: []string{"i-0123456789abcdef0", "app-01"}}, `run.instanceIds[1]: "app-01" is not an instance ID`},
	}
	for _, tt := range tests {
		_, err := validate.Run(context.Background(), env, cloud.SSM(), nil, tt.spec)
		require.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, cloud.Calls())
}
