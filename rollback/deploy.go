package rollback

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// LambdaAPI is the part of the Lambda client EnsureFunction and
// DeleteFunction use.
type LambdaAPI interface {
	CreateFunction(context.Context, *lambda.CreateFunctionInput, ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	UpdateFunctionCode(context.Context, *lambda.UpdateFunctionCodeInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	AddPermission(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
	TagResource(context.Context, *lambda.TagResourceInput, ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
	DeleteFunction(context.Context, *lambda.DeleteFunctionInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
}

// FunctionClients are the clients EnsureFunction and DeleteFunction use:
// the function, its role and its log group.
type FunctionClients struct {
	Lambda LambdaAPI
	IAM    migration.IAMAPI
	Logs   migration.LogsAPI
}

// KindFunction is the Change kind of the rollback Lambda function.
const KindFunction = "lambda-function"

// Runtime and architecture of the rollback function.
const (
	FunctionRuntime = lambdatypes.RuntimeProvidedal2023
	FunctionArch    = lambdatypes.ArchitectureArm64
)

// FunctionName returns the rollback function's name, "migration-rollback-<suffix>".
func FunctionName(env migration.Env) string { return env.Name("migration-rollback") }

// FunctionRoleName returns its role's name, "migration-rollback-role-<suffix>".
func FunctionRoleName(env migration.Env) string { return env.Name("migration-rollback-role") }

// FunctionLogGroup returns its log group, "/cutover/<suffix>/rollback-lambda".
func FunctionLogGroup(env migration.Env) string { return env.LogGroup("rollback-lambda") }

// FunctionARN returns the function's ARN in env's account and Region.
func FunctionARN(env migration.Env) string {
	return "arn:aws:lambda:" + env.Region + ":" + env.Account + ":function:" + FunctionName(env)
}

// FunctionSpec describes the rollback Lambda.
type FunctionSpec struct {
	// Zip is the deployment package: a zip holding an executable named
	// bootstrap for linux/arm64 (BuildZip, or a prebuilt one). Its SHA-256
	// decides whether the code is updated.
	Zip []byte
	// KMSKeyARN is the env key: it encrypts the environment variables and
	// the log group; the role may decrypt with it (the tracking table and
	// the topic are encrypted with it too).
	KMSKeyARN string
	// TableARN is the tracking table the function records in.
	TableARN string
	// Config is the handler's configuration (environment variable
	// ConfigEnvVar): it names the hosted zone, table, topic and reverse
	// task the role is scoped to.
	Config LambdaConfig
	// AlarmARNs are the alarms allowed to invoke the function directly
	// (PolicyAlarms.Composite.ARN): one resource-policy statement each,
	// for principal lambda.alarms.cloudwatch.amazonaws.com with the
	// account and the alarm ARN as conditions.
	AlarmARNs []string
	// TopicARNs are SNS topics allowed to invoke the function (when the
	// example subscribes it to the notification topic): one statement
	// each for principal sns.amazonaws.com with the topic as source.
	TopicARNs []string
	// RuleARNs are EventBridge rules allowed to invoke the function
	// (AlarmRuleARN, the second delivery path of the alarm): one
	// statement each for principal events.amazonaws.com with the account
	// and the rule as conditions.
	RuleARNs []string
	// MemoryMB, TimeoutSeconds and LogRetentionDays default to 256, 120
	// and 90.
	MemoryMB         int32
	TimeoutSeconds   int32
	LogRetentionDays int
}

var (
	tableARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$`)
	alarmARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:[0-9]{12}:alarm:.+$`)
	topicARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	kmsARNRe   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$`)
	ruleARNRe  = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:rule/([A-Za-z0-9._-]{1,256}/)?[A-Za-z0-9._-]{1,64}$`)
)

// Validate checks the spec: a zip holding bootstrap, the key and table
// ARNs, a complete Config, alarm, topic and rule ARNs and sizes within
// Lambda's limits.
func (s FunctionSpec) Validate() error {
	var errs []error
	if err := checkBootstrapZip(s.Zip); err != nil {
		errs = append(errs, fmt.Errorf("function.zip: %w", err))
	}
	if !migration.IsPending(s.KMSKeyARN) && !kmsARNRe.MatchString(s.KMSKeyARN) {
		errs = append(errs, fmt.Errorf("function.kmsKeyArn: %q is not a KMS key ARN (required)", s.KMSKeyARN))
	}
	if !migration.IsPending(s.TableARN) && !tableARNRe.MatchString(s.TableARN) {
		errs = append(errs, fmt.Errorf("function.tableArn: %q is not a DynamoDB table ARN", s.TableARN))
	}
	if err := s.Config.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("function.config: %w", err))
	}
	for _, a := range s.AlarmARNs {
		if !migration.IsPending(a) && !alarmARNRe.MatchString(a) {
			errs = append(errs, fmt.Errorf("function.alarmArns: %q is not a CloudWatch alarm ARN", a))
		}
	}
	for _, a := range s.TopicARNs {
		if !migration.IsPending(a) && !topicARNRe.MatchString(a) {
			errs = append(errs, fmt.Errorf("function.topicArns: %q is not an SNS topic ARN", a))
		}
	}
	for _, a := range s.RuleARNs {
		if !migration.IsPending(a) && !ruleARNRe.MatchString(a) {
			errs = append(errs, fmt.Errorf("function.ruleArns: %q is not an EventBridge rule ARN", a))
		}
	}
	if s.MemoryMB != 0 && (s.MemoryMB < 128 || s.MemoryMB > 10240) {
		errs = append(errs, fmt.Errorf("function.memoryMb: %d outside 128..10240", s.MemoryMB))
	}
	if s.TimeoutSeconds != 0 && (s.TimeoutSeconds < 1 || s.TimeoutSeconds > 900) {
		errs = append(errs, fmt.Errorf("function.timeoutSeconds: %d outside 1..900", s.TimeoutSeconds))
	}
	if s.LogRetentionDays != 0 && !slices.Contains(migration.LogRetentionDays, s.LogRetentionDays) {
		errs = append(errs, fmt.Errorf("function.logRetentionDays: %d is not one of %v", s.LogRetentionDays, migration.LogRetentionDays))
	}
	return errors.Join(errs...)
}

func (s FunctionSpec) memory() int32  { return cmpOr(s.MemoryMB, 256) }
func (s FunctionSpec) timeout() int32 { return cmpOr(s.TimeoutSeconds, 120) }
func (s FunctionSpec) retention() int {
	if s.LogRetentionDays == 0 {
		return 90
	}
	return s.LogRetentionDays
}

func cmpOr(v, d int32) int32 {
	if v == 0 {
		return d
	}
	return v
}

// FunctionRolePolicy returns the function role's inline policy, exactly
// what the handler does and nothing more:
//
//   - route53:ChangeResourceRecordSets and ListResourceRecordSets on the
//     hosted zone, route53:GetChange on changes (waiting for INSYNC);
//   - DynamoDB item operations on the tracking table;
//   - sns:Publish on the topic;
//   - cloudwatch:GetMetricData (no resource-level permissions exist);
//   - dms:StartReplicationTask and DescribeReplicationTasks on the reverse
//     task;
//   - kms:Decrypt and GenerateDataKey on the env key (the encrypted
//     environment, table and topic);
//   - logs:CreateLogStream and PutLogEvents on its own log group.
func FunctionRolePolicy(env migration.Env, spec FunctionSpec) migration.PolicyDocument {
	c := spec.Config
	zone := "arn:aws:route53:::hostedzone/" + strings.TrimPrefix(c.HostedZoneID, "/hostedzone/")
	var switchDB []migration.Statement
	if c.ForwardTaskARN != "" {
		switchDB = append(switchDB, migration.Allow("StopForwardReplication", []string{"dms:StopReplicationTask"}, []string{c.ForwardTaskARN}))
	}
	return migration.NewPolicy(append([]migration.Statement{
		migration.Allow("ShiftWeights", []string{"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"}, []string{zone}),
		migration.Allow("WaitForInsync", []string{"route53:GetChange"}, []string{"arn:aws:route53:::change/*"}),
		migration.Allow("TrackingItems", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}, []string{spec.TableARN}),
		migration.Allow("Notify", []string{"sns:Publish"}, []string{c.TopicARN}),
		migration.Allow("ReadMetrics", []string{"cloudwatch:GetMetricData"}, []string{"*"}),
		migration.Allow("StartReverseReplication", []string{"dms:StartReplicationTask"}, []string{c.ReverseTaskARN}),
		migration.Allow("ReadReplication", []string{"dms:DescribeReplicationTasks", "dms:DescribeReplicationInstances", "dms:DescribeTableStatistics"}, []string{"*"}),
		migration.Allow("UseEnvKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{spec.KMSKeyARN}),
		migration.Allow("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []string{migration.LogGroupARN(env, FunctionLogGroup(env)) + ":*"}),
	}, switchDB...)...)
}

// Function is the ensured rollback function.
type Function struct {
	Name       string
	ARN        string
	RoleARN    string
	LogGroup   string
	CodeSha256 string
}

// functionTimeout bounds waits for the function to become active or
// finish an update.
const functionTimeout = 5 * time.Minute

// EnsureFunction makes the rollback Lambda exist and converge, with its
// log group and role:
//
//   - the log group FunctionLogGroup (EnsureLogGroup: the env key,
//     LogRetentionDays);
//   - the role FunctionRoleName (EnsureRole: trusted by
//     lambda.amazonaws.com, FunctionRolePolicy inline, nothing else);
//   - the function FunctionName: runtime provided.al2023 on arm64, the
//     zip's code (UpdateFunctionCode only when CodeSha256 differs — the
//     same source gives the same zip, so a second apply changes nothing),
//     the configuration as ConfigEnvVar encrypted with the env key, logs
//     to the log group, memory and timeout, the env's tags, and exactly
//     one resource-policy statement per alarm, topic and rule ARN (stale
//     ones of this package removed, others' left alone).
//
// It refuses a function of that name without the env's ownership tag.
// Creating retries while IAM has not propagated the new role ("cannot be
// assumed"), and every update waits for the previous one to finish, as
// Lambda requires. Reports a Change for the log group, the role and the
// function.
func EnsureFunction(ctx context.Context, env migration.Env, api FunctionClients, spec FunctionSpec) (Function, error) {
	name := FunctionName(env)
	if err := migration.Validate(env, spec); err != nil {
		return Function{}, fmt.Errorf("ensure function %q: %w", name, err)
	}
	f, err := ensureFunction(ctx, env, api, spec, name)
	if err != nil {
		return Function{}, fmt.Errorf("ensure function %q: %w", name, err)
	}
	return f, nil
}

func ensureFunction(ctx context.Context, env migration.Env, api FunctionClients, spec FunctionSpec, name string) (Function, error) {
	lg, err := migration.EnsureLogGroup(ctx, env, api.Logs, migration.LogGroupSpec{Name: FunctionLogGroup(env), RetentionDays: spec.retention(), KMSKeyARN: spec.KMSKeyARN})
	if err != nil {
		return Function{}, err
	}
	role, err := migration.EnsureRole(ctx, env, api.IAM, migration.RoleSpec{
		Name:        FunctionRoleName(env),
		Description: "Rollback Lambda of cutover env " + env.Suffix,
		Trust:       migration.TrustPolicy("lambda.amazonaws.com"),
		Inline:      map[string]migration.PolicyDocument{"rollback": FunctionRolePolicy(env, spec)},
	})
	if err != nil {
		return Function{}, err
	}
	sha := CodeSha256(spec.Zip)
	cfgJSON, err := json.Marshal(spec.Config)
	if err != nil {
		return Function{}, fmt.Errorf("config: %w", err)
	}
	envVars := map[string]string{ConfigEnvVar: string(cfgJSON)}
	fn := Function{Name: name, ARN: FunctionARN(env), RoleARN: role.ARN, LogGroup: lg.Name, CodeSha256: sha}

	got, err := api.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil && !awsx.IsNotFound(err) {
		return Function{}, fmt.Errorf("get: %w", err)
	}
	if err != nil { // missing
		if env.DryRun || migration.AnyPending(role.ARN, spec.KMSKeyARN, spec.TableARN) {
			env.Report(migration.Change{Kind: KindFunction, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate})
			return fn, nil
		}
		in := &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Role: aws.String(role.ARN), Runtime: FunctionRuntime, Handler: aws.String("bootstrap"),
			Architectures: []lambdatypes.Architecture{FunctionArch}, Code: &lambdatypes.FunctionCode{ZipFile: spec.Zip},
			Description: aws.String(functionDescription(env)), MemorySize: aws.Int32(spec.memory()), Timeout: aws.Int32(spec.timeout()),
			Environment: &lambdatypes.Environment{Variables: envVars}, KMSKeyArn: aws.String(spec.KMSKeyARN),
			LoggingConfig: &lambdatypes.LoggingConfig{LogGroup: aws.String(lg.Name), LogFormat: lambdatypes.LogFormatJson},
			Tags:          env.NameTags(name),
		}
		// A new role is not assumable by Lambda for some seconds.
		err := env.Retry(ctx, []string{"InvalidParameterValueException"}, func(ctx context.Context) error {
			out, err := api.Lambda.CreateFunction(ctx, in)
			if err == nil {
				fn.ARN = aws.ToString(out.FunctionArn)
			}
			if err != nil && !strings.Contains(err.Error(), "cannot be assumed") && awsx.HasCode(err, "InvalidParameterValueException") {
				return fmt.Errorf("%w (not retried: not the role propagation error)", errNoRetry{err})
			}
			return err
		})
		if awsx.IsAlreadyExists(err) {
			return ensureFunction(ctx, env, api, spec, name) // lost a race or a response: converge what is there
		}
		if err != nil {
			return Function{}, fmt.Errorf("create: %w", err)
		}
		if err := waitFunction(ctx, env, api.Lambda, name, true); err != nil {
			return Function{}, err
		}
		if _, err := syncPermissions(ctx, env, api.Lambda, name, spec, false); err != nil {
			return Function{}, err
		}
		env.Report(migration.Change{Kind: KindFunction, Name: name, ID: fn.ARN, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "codeSha256", From: "", To: sha}}})
		return fn, nil
	}

	cfg := got.Configuration
	fn.ARN = aws.ToString(cfg.FunctionArn)
	if !env.Owns(got.Tags) {
		return Function{}, fmt.Errorf("function %s exists without the ownership tag %s=%s; refusing to adopt it", fn.ARN, migration.OwnerTag, env.Suffix)
	}
	var c migration.Converge
	codeChanged := aws.ToString(cfg.CodeSha256) != sha || !slices.Equal(cfg.Architectures, []lambdatypes.Architecture{FunctionArch})
	if codeChanged {
		c.Fix("codeSha256", aws.ToString(cfg.CodeSha256), sha, func() error {
			if err := waitFunction(ctx, env, api.Lambda, name, false); err != nil {
				return err
			}
			if _, err := api.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: spec.Zip, Architectures: []lambdatypes.Architecture{FunctionArch}}); err != nil {
				return fmt.Errorf("update code: %w", err)
			}
			return nil
		})
	}
	var haveEnv map[string]string
	if cfg.Environment != nil {
		haveEnv = cfg.Environment.Variables
	}
	haveLog := ""
	if cfg.LoggingConfig != nil {
		haveLog = aws.ToString(cfg.LoggingConfig.LogGroup) + "/" + string(cfg.LoggingConfig.LogFormat)
	}
	cfgDiff := []migration.FieldDiff{}
	add := func(field, from, to string) {
		if from != to {
			cfgDiff = append(cfgDiff, migration.FieldDiff{Field: field, From: from, To: to})
		}
	}
	add("role", aws.ToString(cfg.Role), role.ARN)
	add("runtime", string(cfg.Runtime), string(FunctionRuntime))
	add("handler", aws.ToString(cfg.Handler), "bootstrap")
	add("description", aws.ToString(cfg.Description), functionDescription(env))
	add("memoryMb", fmt.Sprint(aws.ToInt32(cfg.MemorySize)), fmt.Sprint(spec.memory()))
	add("timeoutSeconds", fmt.Sprint(aws.ToInt32(cfg.Timeout)), fmt.Sprint(spec.timeout()))
	add("kmsKeyArn", aws.ToString(cfg.KMSKeyArn), spec.KMSKeyARN)
	add("logging", haveLog, lg.Name+"/"+string(lambdatypes.LogFormatJson))
	if !maps.Equal(haveEnv, envVars) {
		cfgDiff = append(cfgDiff, migration.FieldDiff{Field: "environment", From: "(differs)", To: "spec"})
	}
	c.FixAll(cfgDiff, func() error {
		if err := waitFunction(ctx, env, api.Lambda, name, false); err != nil {
			return err
		}
		if _, err := api.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(name), Role: aws.String(role.ARN), Runtime: FunctionRuntime, Handler: aws.String("bootstrap"),
			Description: aws.String(functionDescription(env)), MemorySize: aws.Int32(spec.memory()), Timeout: aws.Int32(spec.timeout()),
			Environment: &lambdatypes.Environment{Variables: envVars}, KMSKeyArn: aws.String(spec.KMSKeyARN),
			LoggingConfig: &lambdatypes.LoggingConfig{LogGroup: aws.String(lg.Name), LogFormat: lambdatypes.LogFormatJson},
		}); err != nil {
			return fmt.Errorf("update configuration: %w", err)
		}
		return nil
	})
	c.Tags(got.Tags, env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.Lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(fn.ARN), Tags: missing}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	})
	permDiff, err := syncPermissions(ctx, env, api.Lambda, name, spec, true)
	if err != nil {
		return Function{}, err
	}
	c.FixAll(permDiff, func() error {
		_, err := syncPermissions(ctx, env, api.Lambda, name, spec, false)
		return err
	})
	if codeChanged || len(cfgDiff) > 0 {
		c.Then(func() error { return waitFunction(ctx, env, api.Lambda, name, false) })
	}
	if err := c.Apply(env, migration.Change{Kind: KindFunction, Name: name, ID: fn.ARN}); err != nil {
		return Function{}, err
	}
	return fn, nil
}

// errNoRetry hides an error code from env.Retry.
type errNoRetry struct{ err error }

// Error returns the hidden error's message.
func (e errNoRetry) Error() string { return e.err.Error() }

func functionDescription(env migration.Env) string {
	return "Rolls cutover env " + env.Suffix + " back to blue when its rollback alarm fires"
}

// waitFunction waits for the function to be Active (new) or for its last
// update to finish, with the SDK waiters' acceptors on the env clock.
func waitFunction(ctx context.Context, env migration.Env, api LambdaAPI, name string, active bool) error {
	in := &lambda.GetFunctionInput{FunctionName: aws.String(name)}
	var accept awsx.Acceptor[lambda.GetFunctionInput, lambda.GetFunctionOutput]
	what := "function " + name + " to finish updating"
	if active {
		lambda.NewFunctionActiveV2Waiter(api, func(o *lambda.FunctionActiveV2WaiterOptions) { accept = o.Retryable })
		what = "function " + name + " to be active"
	} else {
		lambda.NewFunctionUpdatedV2Waiter(api, func(o *lambda.FunctionUpdatedV2WaiterOptions) { accept = o.Retryable })
	}
	_, err := migration.Wait(ctx, env, what, api.GetFunction, in, accept, functionTimeout, "ResourceNotFoundException")
	return err
}

// statementPrefix marks the resource-policy statements this package owns.
const statementPrefix = "cutover-"

var sidUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// statementID returns the statement ID for a source ARN: the prefix, the
// kind and the source's name, cut to Lambda's 100 characters with a hash
// when long.
func statementID(kind, sourceARN string) string {
	name := sourceARN[strings.LastIndex(sourceARN, ":")+1:]
	id := statementPrefix + kind + "-" + sidUnsafe.ReplaceAllString(name, "_")
	if len(id) > 100 {
		sum := sha256.Sum256([]byte(sourceARN))
		id = id[:83] + "-" + fmt.Sprintf("%x", sum[:8])
	}
	return id
}

// syncPermissions makes the resource policy hold exactly one statement
// per alarm ARN (principal lambda.alarms.cloudwatch.amazonaws.com), per
// topic ARN (principal sns.amazonaws.com) and per EventBridge rule ARN
// (principal events.amazonaws.com), each conditioned on the env's
// account and that source ARN, and no other statement of this package;
// statements others added are left alone. With diffOnly it only reports
// what it would change.
func syncPermissions(ctx context.Context, env migration.Env, api LambdaAPI, name string, spec FunctionSpec, diffOnly bool) ([]migration.FieldDiff, error) {
	type stmt struct{ principal, sourceARN, sourceAccount string }
	have := map[string]stmt{}
	out, err := api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name)})
	switch {
	case err != nil && !awsx.IsNotFound(err):
		return nil, fmt.Errorf("get policy: %w", err)
	case err == nil:
		var doc struct {
			Statement []struct {
				Sid       string
				Principal struct{ Service string }
				Condition map[string]map[string]string
			}
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
			return nil, fmt.Errorf("get policy: %w", err)
		}
		for _, s := range doc.Statement {
			have[s.Sid] = stmt{principal: s.Principal.Service, sourceARN: s.Condition["ArnLike"]["AWS:SourceArn"], sourceAccount: s.Condition["StringEquals"]["AWS:SourceAccount"]}
		}
	}
	want := map[string]stmt{}
	for _, a := range spec.AlarmARNs {
		want[statementID("alarm", a)] = stmt{principal: "lambda.alarms.cloudwatch.amazonaws.com", sourceARN: a, sourceAccount: env.Account}
	}
	for _, a := range spec.TopicARNs {
		want[statementID("sns", a)] = stmt{principal: "sns.amazonaws.com", sourceARN: a, sourceAccount: env.Account}
	}
	for _, a := range spec.RuleARNs {
		want[statementID("events", a)] = stmt{principal: "events.amazonaws.com", sourceARN: a, sourceAccount: env.Account}
	}
	var diff []migration.FieldDiff
	for _, sid := range slices.Sorted(maps.Keys(have)) {
		if !strings.HasPrefix(sid, statementPrefix) {
			continue // not ours
		}
		if w, ok := want[sid]; ok && w == have[sid] {
			continue
		}
		diff = append(diff, migration.FieldDiff{Field: "permission " + sid, From: have[sid].sourceARN, To: ""})
		if !diffOnly {
			if _, err := api.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String(sid)}); err != nil && !awsx.IsNotFound(err) {
				return nil, fmt.Errorf("remove permission %s: %w", sid, err)
			}
		}
	}
	for _, sid := range slices.Sorted(maps.Keys(want)) {
		if h, ok := have[sid]; ok && h == want[sid] {
			continue
		}
		w := want[sid]
		diff = append(diff, migration.FieldDiff{Field: "permission " + sid, From: "", To: w.sourceARN})
		if !diffOnly && !migration.IsPending(w.sourceARN) {
			if _, err := api.AddPermission(ctx, &lambda.AddPermissionInput{
				FunctionName: aws.String(name), StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
				Principal: aws.String(w.principal), SourceAccount: aws.String(w.sourceAccount), SourceArn: aws.String(w.sourceARN),
			}); err != nil {
				return nil, fmt.Errorf("add permission %s: %w", sid, err)
			}
		}
	}
	return diff, nil
}

// DeleteFunction deletes the rollback function, then its role and log
// group, each only when it carries the env's ownership tag; each is a
// no-op when gone.
func DeleteFunction(ctx context.Context, env migration.Env, api FunctionClients, spec FunctionSpec) error {
	name := FunctionName(env)
	if err := env.Validate(); err != nil {
		return fmt.Errorf("delete function %q: %w", name, err)
	}
	got, err := api.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	switch {
	case err != nil && !awsx.IsNotFound(err):
		return fmt.Errorf("delete function %q: get: %w", name, err)
	case err != nil:
		env.ReportGone(KindFunction, name)
	case !env.Owns(got.Tags):
		env.ReportNotOwned(KindFunction, name, aws.ToString(got.Configuration.FunctionArn))
		return nil
	default:
		if !env.DryRun {
			if _, err := api.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil && !awsx.IsNotFound(err) {
				return fmt.Errorf("delete function %q: %w", name, err)
			}
		}
		env.Report(migration.Change{Kind: KindFunction, Name: name, ID: aws.ToString(got.Configuration.FunctionArn), Action: migration.ActionDelete})
	}
	roleSpec := migration.RoleSpec{Name: FunctionRoleName(env), Trust: migration.TrustPolicy("lambda.amazonaws.com")}
	if err := migration.DeleteRole(ctx, env, api.IAM, roleSpec); err != nil {
		return err
	}
	return migration.DeleteLogGroup(ctx, env, api.Logs, migration.LogGroupSpec{Name: FunctionLogGroup(env), RetentionDays: spec.retention(), KMSKeyARN: spec.KMSKeyARN})
}

// CodeSha256 returns what Lambda reports as a package's CodeSha256: the
// base64 of the SHA-256 of the zip.
func CodeSha256(zipFile []byte) string {
	sum := sha256.Sum256(zipFile)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// zipTime is the modification time of every zip entry: fixed, so a zip's
// bytes depend only on its content.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// ZipBootstrap packs a Lambda bootstrap executable reproducibly: one
// entry named bootstrap, mode 0755, a fixed modification time, deflated.
// The same binary always gives the same bytes, so the same CodeSha256.
func ZipBootstrap(binary []byte) ([]byte, error) {
	if len(binary) == 0 {
		return nil, errors.New("zip bootstrap: empty executable")
	}
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	f, err := w.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	if _, err := f.Write(binary); err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	return buf.Bytes(), nil
}

// checkBootstrapZip checks a package holds an executable bootstrap at its
// root, as the provided.al2023 runtime requires.
func checkBootstrapZip(b []byte) error {
	if len(b) == 0 {
		return errors.New("required (see BuildZip)")
	}
	if len(b) > 50<<20 {
		return fmt.Errorf("%d bytes exceed the 50 MB of a direct upload", len(b))
	}
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("not a zip: %w", err)
	}
	for _, f := range r.File {
		if f.Name == "bootstrap" {
			if f.Mode()&0o111 == 0 {
				return errors.New("bootstrap is not executable (mode 0755 needed)")
			}
			return nil
		}
	}
	return errors.New("no bootstrap at the root of the zip")
}

// BuildSpec says what BuildZip builds.
type BuildSpec struct {
	// Dir is the directory go build runs in (inside the module).
	Dir string
	// Package is the main package, relative to Dir ("./cmd/rollback") or
	// an import path.
	Package string
	// Go is the go command; "" means "go" on PATH.
	Go string
}

// BuildZip builds the Lambda's bootstrap for linux/arm64 and zips it
// (ZipBootstrap). The build is reproducible — CGO off, -trimpath,
// -buildvcs=false, -buildid= and stripped, tag lambda.norpc — so the same
// source and toolchain give the same CodeSha256 and a second apply
// changes nothing.
func BuildZip(ctx context.Context, spec BuildSpec) ([]byte, error) {
	if spec.Dir == "" || spec.Package == "" {
		return nil, errors.New("build bootstrap: dir and package are required")
	}
	goCmd := spec.Go
	if goCmd == "" {
		goCmd = "go"
	}
	tmp, err := os.MkdirTemp("", "cutover-bootstrap-")
	if err != nil {
		return nil, fmt.Errorf("build bootstrap: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", out, spec.Package)
	cmd.Dir = spec.Dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build bootstrap: go build %s: %w\n%s", spec.Package, err, msg)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("build bootstrap: %w", err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode()&fs.ModePerm&0o100 == 0 {
		return nil, errors.New("build bootstrap: the output is not executable")
	}
	return ZipBootstrap(bin)
}
