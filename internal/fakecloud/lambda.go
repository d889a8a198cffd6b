package fakecloud

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Lambda is the fake Lambda client. Get it with Cloud.Lambda.
//
// It models what deploying and invoking a function meets:
//
//   - CreateFunction validates the name, the runtime (go1.x is refused as
//     retired), the architecture, the zip (it must unzip; CodeSha256 is
//     base64(SHA-256(zip)) as in Lambda), environment variables (4 KB in
//     total, no reserved keys), timeout and memory, and the role: it must
//     exist in the fake IAM, be at least roleAssumableAfter old (IAM
//     propagation) and trust lambda.amazonaws.com, or Lambda "cannot
//     assume" it (InvalidParameterValueException, the error IAM
//     propagation causes for real). A KMSKeyArn must name an enabled key.
//   - A new function is Pending for functionPendingFor, an update leaves
//     LastUpdateStatus InProgress for functionUpdateFor (fake time); an
//     update or an invoke meanwhile is ResourceConflictException, so a
//     deployer has to wait the way the SDK waiters do.
//   - AddPermission, GetPolicy and RemovePermission keep the resource
//     policy; a delivery from a CloudWatch alarm (invokeLambda hook) is
//     accepted only when the policy allows lambda.alarms.cloudwatch.amazonaws.com
//     for that alarm, and one from SNS only when it allows
//     sns.amazonaws.com for that topic, and one from an EventBridge rule
//     (invokeLambdaAs hook) only when it allows events.amazonaws.com for
//     that rule.
//   - Invoke runs the in-process handler set with SetHandler, outside the
//     cloud's lock: RequestResponse returns its payload (FunctionError
//     "Unhandled" when it fails), Event returns 202 and runs it at once,
//     retrying a failure twice as Lambda's asynchronous invocation does;
//     DryRun only checks. A function without a handler records the
//     invocation and fails it. Invocations keeps every one for assertions.
type Lambda struct{ c *Cloud }

// Lambda returns the Lambda client of the cloud.
func (c *Cloud) Lambda() *Lambda { return &Lambda{c: c} }

func init() {
	register("lambda", func() any { return &lambdaState{} })
	invokeLambda = func(c *Cloud, functionARN string, payload []byte) error {
		return c.Lambda().deliver(functionARN, payload)
	}
	invokeLambdaAs = func(c *Cloud, functionARN, principal, sourceARN, kind string, payload []byte) error {
		return c.Lambda().deliverAs(functionARN, principal, sourceARN, kind, payload)
	}
}

const (
	// roleAssumableAfter is how long after its creation a role becomes
	// assumable by Lambda: IAM is eventually consistent.
	roleAssumableAfter = 5 * time.Second
	// functionPendingFor is how long a new function stays Pending.
	functionPendingFor = 5 * time.Second
	// functionUpdateFor is how long an update stays InProgress.
	functionUpdateFor = 3 * time.Second
)

type lambdaState struct {
	Functions map[string]*fakeFunction `json:"functions"`
}

type fakeFunction struct {
	Name         string            `json:"name"`
	ARN          string            `json:"arn"`
	Runtime      string            `json:"runtime"`
	Role         string            `json:"role"`
	Handler      string            `json:"handler,omitempty"`
	Description  string            `json:"description,omitempty"`
	Architecture string            `json:"architecture"`
	CodeSha256   string            `json:"codeSha256"`
	CodeSize     int64             `json:"codeSize"`
	Env          map[string]string `json:"env,omitempty"`
	KMSKeyARN    string            `json:"kmsKeyArn,omitempty"`
	LogGroup     string            `json:"logGroup,omitempty"`
	LogFormat    string            `json:"logFormat,omitempty"`
	Timeout      int32             `json:"timeout"`
	Memory       int32             `json:"memory"`
	Tags         map[string]string `json:"tags"`
	Policy       []lambdaStatement `json:"policy,omitempty"`
	Revision     int               `json:"revision"`
	Created      time.Time         `json:"created"`
	Modified     time.Time         `json:"modified"`
	UpdateDone   time.Time         `json:"updateDone"`
}

type lambdaStatement struct {
	Sid           string `json:"sid"`
	Action        string `json:"action"`
	Principal     string `json:"principal"`
	SourceArn     string `json:"sourceArn,omitempty"`
	SourceAccount string `json:"sourceAccount,omitempty"`
}

// Invocation is one invocation of a function as the fake ran it.
type Invocation struct {
	Time     time.Time `json:"time"`
	Function string    `json:"function"`
	Type     string    `json:"type"` // RequestResponse, Event, or "alarm"/"sns"/"eventbridge" for deliveries
	Payload  []byte    `json:"payload"`
	Attempt  int       `json:"attempt"`
	Err      string    `json:"error,omitempty"`
}

// LambdaHandler is an in-process function body: it gets the invocation
// payload and returns the response payload.
type LambdaHandler func(ctx context.Context, payload []byte) ([]byte, error)

type lambdaRuntime struct {
	handlers    map[string]LambdaHandler
	invocations []Invocation
}

var (
	lambdaNameRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	lambdaEnvKeyRe = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
	lambdaSidRe    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,100}$`)
	roleARNRe      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/(.+/)?([\w+=,.@-]{1,64})$`)
)

// lambdaRuntimes are the runtimes the fake accepts; retired ones are refused.
var lambdaRuntimes = []string{"provided.al2023", "provided.al2", "python3.12", "python3.13", "nodejs20.x", "nodejs22.x", "java21"}

var lambdaReservedEnv = []string{"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
	"AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}

func (f *Lambda) st() *lambdaState {
	s := state[lambdaState](f.c, "lambda")
	if s.Functions == nil {
		s.Functions = map[string]*fakeFunction{}
	}
	return s
}

func (f *Lambda) rt() *lambdaRuntime {
	return runtimeState(f.c, "lambda-runtime", func() *lambdaRuntime { return &lambdaRuntime{handlers: map[string]LambdaHandler{}} })
}

// fnName resolves a function name, ARN or partial ARN, dropping a
// $LATEST qualifier; other qualifiers are refused (the fake keeps no
// versions or aliases).
func (f *Lambda) fnName(ref string) (string, error) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.Split(ref, ":")
		if len(parts) < 7 || parts[5] != "function" {
			return "", apiError("InvalidParameterValueException", "invalid function ARN %s", ref)
		}
		name = parts[6]
		if len(parts) == 8 && parts[7] != "$LATEST" {
			return "", apiError("InvalidParameterValueException", "the fake keeps no function versions or aliases (%s)", ref)
		}
	}
	return name, nil
}

func (f *Lambda) function(ref string) (*fakeFunction, error) {
	name, err := f.fnName(ref)
	if err != nil {
		return nil, err
	}
	fn, ok := f.st().Functions[name]
	if !ok || f.c.hidden("function:"+name) {
		return nil, notFound("ResourceNotFoundException", "Function not found: %s", f.c.arn("lambda", "function:"+name))
	}
	return fn, nil
}

func (fn *fakeFunction) state(now time.Time) types.State {
	if now.Before(fn.Created.Add(functionPendingFor)) {
		return types.StatePending
	}
	return types.StateActive
}

func (fn *fakeFunction) updateStatus(now time.Time) types.LastUpdateStatus {
	if now.Before(fn.UpdateDone) {
		return types.LastUpdateStatusInProgress
	}
	return types.LastUpdateStatusSuccessful
}

// busy returns ResourceConflictException while the function is pending or
// an update is in progress. Call with mu held.
func (f *Lambda) busy(fn *fakeFunction) error {
	now := f.c.now()
	if fn.state(now) == types.StatePending {
		return apiError("ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending")
	}
	if fn.updateStatus(now) == types.LastUpdateStatusInProgress {
		return apiError("ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: %s", fn.ARN)
	}
	return nil
}

func (fn *fakeFunction) config(now time.Time) *types.FunctionConfiguration {
	cfg := &types.FunctionConfiguration{
		FunctionName: aws.String(fn.Name), FunctionArn: aws.String(fn.ARN), Runtime: types.Runtime(fn.Runtime), Role: aws.String(fn.Role),
		Architectures: []types.Architecture{types.Architecture(fn.Architecture)}, CodeSha256: aws.String(fn.CodeSha256), CodeSize: fn.CodeSize,
		Timeout: aws.Int32(fn.Timeout), MemorySize: aws.Int32(fn.Memory), PackageType: types.PackageTypeZip, Version: aws.String("$LATEST"),
		LastModified: aws.String(fn.Modified.UTC().Format("2006-01-02T15:04:05.000-0700")), RevisionId: aws.String(fmt.Sprintf("rev-%d", fn.Revision)),
		State: fn.state(now), LastUpdateStatus: fn.updateStatus(now),
		LoggingConfig: &types.LoggingConfig{LogGroup: aws.String(fn.LogGroup), LogFormat: types.LogFormat(fn.LogFormat)},
	}
	if fn.LogGroup == "" {
		cfg.LoggingConfig.LogGroup = aws.String("/aws/lambda/" + fn.Name)
	}
	if fn.LogFormat == "" {
		cfg.LoggingConfig.LogFormat = types.LogFormatText
	}
	if fn.Handler != "" {
		cfg.Handler = aws.String(fn.Handler)
	}
	if fn.Description != "" {
		cfg.Description = aws.String(fn.Description)
	}
	if fn.KMSKeyARN != "" {
		cfg.KMSKeyArn = aws.String(fn.KMSKeyARN)
	}
	if len(fn.Env) > 0 {
		env := map[string]string{}
		for k, v := range fn.Env {
			env[k] = v
		}
		cfg.Environment = &types.EnvironmentResponse{Variables: env}
	}
	return cfg
}

// checkZip returns the CodeSha256 and size of a deployment package, or
// the error Lambda gives for one it cannot unzip.
func checkZip(b []byte) (string, int64, error) {
	if len(b) == 0 {
		return "", 0, apiError("InvalidParameterValueException", "Uploaded file must be a non-empty zip")
	}
	if len(b) > 50<<20 {
		return "", 0, apiError("RequestEntityTooLargeException", "Request must be smaller than 70167211 bytes for the operation")
	}
	if _, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil {
		return "", 0, apiError("InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:]), int64(len(b)), nil
}

// checkRole applies Lambda's "can it assume the role" check against the
// fake IAM. Call with mu held.
func (f *Lambda) checkRole(arn string) error {
	m := roleARNRe.FindStringSubmatch(arn)
	if m == nil {
		return apiError("ValidationException", "1 validation error detected: Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern", arn)
	}
	r, ok := state[iamState](f.c, "iam").Roles[strings.ToLower(m[2])]
	if !ok || r.ARN != arn || f.c.hidden(r.ID) || f.c.now().Before(r.Created.Add(roleAssumableAfter)) {
		return apiError("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
	}
	if trustsService(r.Trust, "lambda.amazonaws.com") {
		return nil
	}
	return apiError("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
}

// checkConfig validates the mutable configuration of a function. Call
// with mu held.
func (f *Lambda) checkConfig(fn *fakeFunction) error {
	if fn.Runtime == "go1.x" || fn.Runtime == "provided" {
		return apiError("InvalidParameterValueException", "The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", fn.Runtime)
	}
	if !slices.Contains(lambdaRuntimes, fn.Runtime) {
		return apiError("InvalidParameterValueException", "Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set", fn.Runtime)
	}
	if fn.Timeout < 1 || fn.Timeout > 900 {
		return apiError("InvalidParameterValueException", "Timeout must be 1..900 seconds, got %d", fn.Timeout)
	}
	if fn.Memory < 128 || fn.Memory > 10240 {
		return apiError("InvalidParameterValueException", "MemorySize must be 128..10240 MB, got %d", fn.Memory)
	}
	if len(fn.Description) > 256 {
		return apiError("InvalidParameterValueException", "Description must be at most 256 characters")
	}
	size := 0
	for k, v := range fn.Env {
		if !lambdaEnvKeyRe.MatchString(k) {
			return apiError("InvalidParameterValueException", "Environment variable key %q must match [a-zA-Z]([a-zA-Z0-9_])+", k)
		}
		if slices.Contains(lambdaReservedEnv, k) {
			return apiError("InvalidParameterValueException", "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", k)
		}
		size += len(k) + len(v)
	}
	if size > 4096 {
		return apiError("InvalidParameterValueException", "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %d bytes", size)
	}
	if fn.KMSKeyARN != "" {
		k, err := f.c.KMS().key(fn.KMSKeyARN)
		if err != nil || k.State != "Enabled" {
			return apiError("KMSNotFoundException", "Lambda was unable to configure access to your environment variables because the KMS key was not found: %s", fn.KMSKeyARN)
		}
	}
	if fn.LogFormat != "" && fn.LogFormat != string(types.LogFormatText) && fn.LogFormat != string(types.LogFormatJson) {
		return apiError("InvalidParameterValueException", "LogFormat must be Text or JSON")
	}
	return f.checkRole(fn.Role)
}

// trustsService reports whether a trust policy (plain or URL-encoded
// JSON) lets service assume the role.
func trustsService(trust, service string) bool {
	if t, err := url.QueryUnescape(trust); err == nil && strings.HasPrefix(trust, "%7B") {
		trust = t
	}
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct {
				Service json.RawMessage
			}
			Action json.RawMessage
		}
	}
	if json.Unmarshal([]byte(trust), &doc) != nil {
		return false
	}
	list := func(raw json.RawMessage) []string {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			return []string{one}
		}
		var many []string
		_ = json.Unmarshal(raw, &many)
		return many
	}
	for _, st := range doc.Statement {
		if st.Effect == "Allow" && slices.Contains(list(st.Principal.Service), service) && slices.Contains(list(st.Action), "sts:AssumeRole") {
			return true
		}
	}
	return false
}

func archOf(archs []types.Architecture) (string, error) {
	switch len(archs) {
	case 0:
		return string(types.ArchitectureX8664), nil
	case 1:
		if archs[0] == types.ArchitectureArm64 || archs[0] == types.ArchitectureX8664 {
			return string(archs[0]), nil
		}
	}
	return "", apiError("InvalidParameterValueException", "Architectures must hold exactly one of x86_64 and arm64")
}

// CreateFunction creates a zip-packaged function.
func (f *Lambda) CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, _ ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error) {
	var out *lambda.CreateFunctionOutput
	err := f.c.call(ctx, lambda.ServiceID, "CreateFunction", true, func() error {
		name := aws.ToString(in.FunctionName)
		if !lambdaNameRe.MatchString(name) {
			return apiError("ValidationException", "1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint", name)
		}
		s := f.st()
		if _, ok := s.Functions[name]; ok {
			return apiError("ResourceConflictException", "Function already exist: %s", name)
		}
		if in.PackageType == types.PackageTypeImage || in.Code == nil || in.Code.ZipFile == nil {
			return apiError("InvalidParameterValueException", "the fake supports zip packages uploaded as ZipFile only")
		}
		sha, size, err := checkZip(in.Code.ZipFile)
		if err != nil {
			return err
		}
		arch, err := archOf(in.Architectures)
		if err != nil {
			return err
		}
		now := f.c.now()
		fn := &fakeFunction{
			Name: name, ARN: f.c.arn("lambda", "function:"+name), Runtime: string(in.Runtime), Role: aws.ToString(in.Role),
			Handler: aws.ToString(in.Handler), Description: aws.ToString(in.Description), Architecture: arch, CodeSha256: sha, CodeSize: size,
			KMSKeyARN: aws.ToString(in.KMSKeyArn), Timeout: 3, Memory: 128, Tags: map[string]string{}, Revision: 1,
			Created: now, Modified: now,
		}
		if in.Timeout != nil {
			fn.Timeout = *in.Timeout
		}
		if in.MemorySize != nil {
			fn.Memory = *in.MemorySize
		}
		if in.Environment != nil {
			fn.Env = map[string]string{}
			for k, v := range in.Environment.Variables {
				fn.Env[k] = v
			}
		}
		if lc := in.LoggingConfig; lc != nil {
			fn.LogGroup, fn.LogFormat = aws.ToString(lc.LogGroup), string(lc.LogFormat)
		}
		if err := f.checkConfig(fn); err != nil {
			return err
		}
		for k, v := range in.Tags {
			fn.Tags[k] = v
		}
		s.Functions[name] = fn
		f.c.created("function:" + name)
		out = &lambda.CreateFunctionOutput{}
		cfg := fn.config(now)
		copyConfig(out, cfg)
		return nil
	})
	return out, err
}

// copyConfig fills an output struct that has FunctionConfiguration's
// fields (CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration
// outputs) from cfg.
func copyConfig(out any, cfg *types.FunctionConfiguration) {
	b, _ := json.Marshal(cfg)
	_ = json.Unmarshal(b, out)
}

// GetFunction describes a function: configuration, code location, tags.
func (f *Lambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	var out *lambda.GetFunctionOutput
	err := f.c.call(ctx, lambda.ServiceID, "GetFunction", false, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		tags := map[string]string{}
		for k, v := range fn.Tags {
			tags[k] = v
		}
		out = &lambda.GetFunctionOutput{
			Configuration: fn.config(f.c.now()),
			Code:          &types.FunctionCodeLocation{RepositoryType: aws.String("S3"), Location: aws.String("https://awslambda-" + f.c.region + "-tasks.s3." + f.c.region + ".amazonaws.com/snapshots/" + f.c.account + "/" + fn.Name)},
			Tags:          tags,
		}
		return nil
	})
	return out, err
}

// UpdateFunctionCode replaces the code (and optionally the architecture).
func (f *Lambda) UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error) {
	var out *lambda.UpdateFunctionCodeOutput
	err := f.c.call(ctx, lambda.ServiceID, "UpdateFunctionCode", true, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		if err := f.busy(fn); err != nil {
			return err
		}
		if in.ZipFile == nil {
			return apiError("InvalidParameterValueException", "the fake supports ZipFile code updates only")
		}
		sha, size, err := checkZip(in.ZipFile)
		if err != nil {
			return err
		}
		arch := fn.Architecture
		if len(in.Architectures) > 0 {
			if arch, err = archOf(in.Architectures); err != nil {
				return err
			}
		}
		if in.RevisionId != nil && *in.RevisionId != fmt.Sprintf("rev-%d", fn.Revision) {
			return apiError("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")
		}
		if in.DryRun {
			out = &lambda.UpdateFunctionCodeOutput{}
			copyConfig(out, fn.config(f.c.now()))
			return nil
		}
		now := f.c.now()
		fn.CodeSha256, fn.CodeSize, fn.Architecture = sha, size, arch
		fn.Revision++
		fn.Modified, fn.UpdateDone = now, now.Add(functionUpdateFor)
		out = &lambda.UpdateFunctionCodeOutput{}
		copyConfig(out, fn.config(now))
		return nil
	})
	return out, err
}

// UpdateFunctionConfiguration changes the configuration fields given.
func (f *Lambda) UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	var out *lambda.UpdateFunctionConfigurationOutput
	err := f.c.call(ctx, lambda.ServiceID, "UpdateFunctionConfiguration", true, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		if err := f.busy(fn); err != nil {
			return err
		}
		if in.RevisionId != nil && *in.RevisionId != fmt.Sprintf("rev-%d", fn.Revision) {
			return apiError("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")
		}
		next := *fn
		if in.Runtime != "" {
			next.Runtime = string(in.Runtime)
		}
		if in.Role != nil {
			next.Role = *in.Role
		}
		if in.Handler != nil {
			next.Handler = *in.Handler
		}
		if in.Description != nil {
			next.Description = *in.Description
		}
		if in.Timeout != nil {
			next.Timeout = *in.Timeout
		}
		if in.MemorySize != nil {
			next.Memory = *in.MemorySize
		}
		if in.KMSKeyArn != nil {
			next.KMSKeyARN = *in.KMSKeyArn
		}
		if in.Environment != nil {
			next.Env = map[string]string{}
			for k, v := range in.Environment.Variables {
				next.Env[k] = v
			}
		}
		if lc := in.LoggingConfig; lc != nil {
			next.LogGroup, next.LogFormat = aws.ToString(lc.LogGroup), string(lc.LogFormat)
		}
		if err := f.checkConfig(&next); err != nil {
			return err
		}
		now := f.c.now()
		next.Revision++
		next.Modified, next.UpdateDone = now, now.Add(functionUpdateFor)
		*fn = next
		out = &lambda.UpdateFunctionConfigurationOutput{}
		copyConfig(out, fn.config(now))
		return nil
	})
	return out, err
}

// AddPermission adds a statement to the function's resource policy.
func (f *Lambda) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, _ ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	var out *lambda.AddPermissionOutput
	err := f.c.call(ctx, lambda.ServiceID, "AddPermission", true, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		sid := aws.ToString(in.StatementId)
		if !lambdaSidRe.MatchString(sid) {
			return apiError("ValidationException", "1 validation error detected: Value '%s' at 'statementId' failed to satisfy constraint", sid)
		}
		if aws.ToString(in.Action) == "" || aws.ToString(in.Principal) == "" {
			return apiError("ValidationException", "Action and Principal are required")
		}
		if slices.ContainsFunc(fn.Policy, func(s lambdaStatement) bool { return s.Sid == sid }) {
			return apiError("ResourceConflictException", "The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", sid)
		}
		st := lambdaStatement{Sid: sid, Action: aws.ToString(in.Action), Principal: aws.ToString(in.Principal), SourceArn: aws.ToString(in.SourceArn), SourceAccount: aws.ToString(in.SourceAccount)}
		fn.Policy = append(fn.Policy, st)
		fn.Revision++
		b, _ := json.Marshal(st.document(fn.ARN))
		out = &lambda.AddPermissionOutput{Statement: aws.String(string(b))}
		return nil
	})
	return out, err
}

func (s lambdaStatement) document(resource string) map[string]any {
	principal := map[string]any{"Service": s.Principal}
	if !strings.HasSuffix(s.Principal, ".amazonaws.com") {
		principal = map[string]any{"AWS": s.Principal}
	}
	doc := map[string]any{"Sid": s.Sid, "Effect": "Allow", "Principal": principal, "Action": s.Action, "Resource": resource}
	cond := map[string]any{}
	if s.SourceAccount != "" {
		cond["StringEquals"] = map[string]string{"AWS:SourceAccount": s.SourceAccount}
	}
	if s.SourceArn != "" {
		cond["ArnLike"] = map[string]string{"AWS:SourceArn": s.SourceArn}
	}
	if len(cond) > 0 {
		doc["Condition"] = cond
	}
	return doc
}

// GetPolicy returns the function's resource policy, or
// ResourceNotFoundException when it has none.
func (f *Lambda) GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, _ ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	var out *lambda.GetPolicyOutput
	err := f.c.call(ctx, lambda.ServiceID, "GetPolicy", false, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		if len(fn.Policy) == 0 {
			return notFound("ResourceNotFoundException", "The resource you requested does not exist.")
		}
		var sts []map[string]any
		for _, s := range fn.Policy {
			sts = append(sts, s.document(fn.ARN))
		}
		b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": sts})
		out = &lambda.GetPolicyOutput{Policy: aws.String(string(b)), RevisionId: aws.String(fmt.Sprintf("rev-%d", fn.Revision))}
		return nil
	})
	return out, err
}

// RemovePermission removes a statement of the resource policy.
func (f *Lambda) RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, _ ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error) {
	err := f.c.call(ctx, lambda.ServiceID, "RemovePermission", true, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		sid := aws.ToString(in.StatementId)
		i := slices.IndexFunc(fn.Policy, func(s lambdaStatement) bool { return s.Sid == sid })
		if i < 0 {
			return notFound("ResourceNotFoundException", "Statement %s is not found in resource policy.", sid)
		}
		fn.Policy = slices.Delete(fn.Policy, i, i+1)
		fn.Revision++
		return nil
	})
	return &lambda.RemovePermissionOutput{}, err
}

// DeleteFunction deletes a function and its resource policy.
func (f *Lambda) DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, _ ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error) {
	err := f.c.call(ctx, lambda.ServiceID, "DeleteFunction", true, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		delete(f.st().Functions, fn.Name)
		return nil
	})
	return &lambda.DeleteFunctionOutput{StatusCode: 204}, err
}

// ListTags lists a function's tags (by ARN).
func (f *Lambda) ListTags(ctx context.Context, in *lambda.ListTagsInput, _ ...func(*lambda.Options)) (*lambda.ListTagsOutput, error) {
	var out *lambda.ListTagsOutput
	err := f.c.call(ctx, lambda.ServiceID, "ListTags", false, func() error {
		fn, err := f.function(aws.ToString(in.Resource))
		if err != nil {
			return err
		}
		out = &lambda.ListTagsOutput{Tags: map[string]string{}}
		for k, v := range fn.Tags {
			out.Tags[k] = v
		}
		return nil
	})
	return out, err
}

// TagResource adds or overwrites a function's tags (by ARN).
func (f *Lambda) TagResource(ctx context.Context, in *lambda.TagResourceInput, _ ...func(*lambda.Options)) (*lambda.TagResourceOutput, error) {
	err := f.c.call(ctx, lambda.ServiceID, "TagResource", true, func() error {
		fn, err := f.function(aws.ToString(in.Resource))
		if err != nil {
			return err
		}
		for k, v := range in.Tags {
			fn.Tags[k] = v
		}
		if len(fn.Tags) > 50 {
			return apiError("InvalidParameterValueException", "a function can have at most 50 tags")
		}
		return nil
	})
	return &lambda.TagResourceOutput{}, err
}

// Invoke runs the function's in-process handler (see the type comment).
func (f *Lambda) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	var h LambdaHandler
	var name string
	typ := in.InvocationType
	if typ == "" {
		typ = types.InvocationTypeRequestResponse
	}
	err := f.c.call(ctx, lambda.ServiceID, "Invoke", false, func() error {
		fn, err := f.function(aws.ToString(in.FunctionName))
		if err != nil {
			return err
		}
		if fn.state(f.c.now()) == types.StatePending {
			return apiError("ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending")
		}
		if typ == types.InvocationTypeEvent && len(in.Payload) > 1<<20 || len(in.Payload) > 6<<20 {
			return apiError("RequestTooLargeException", "Request must be smaller than the invocation payload limit")
		}
		if len(in.Payload) > 0 && !json.Valid(in.Payload) {
			return apiError("InvalidRequestContentException", "Could not parse request body into json")
		}
		name, h = fn.Name, f.rt().handlers[fn.Name]
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch typ {
	case types.InvocationTypeDryRun:
		return &lambda.InvokeOutput{StatusCode: 204}, nil
	case types.InvocationTypeEvent:
		f.runAsync(ctx, name, h, string(typ), in.Payload)
		return &lambda.InvokeOutput{StatusCode: 202}, nil
	}
	payload, herr := f.run(ctx, name, h, string(typ), in.Payload, 1)
	out := &lambda.InvokeOutput{StatusCode: 200, ExecutedVersion: aws.String("$LATEST"), Payload: payload}
	if herr != nil {
		b, _ := json.Marshal(map[string]string{"errorMessage": herr.Error(), "errorType": fmt.Sprintf("%T", herr)})
		out.FunctionError, out.Payload = aws.String("Unhandled"), b
	}
	return out, nil
}

// run runs the handler once, outside the lock, and records it.
func (f *Lambda) run(ctx context.Context, name string, h LambdaHandler, typ string, payload []byte, attempt int) ([]byte, error) {
	var out []byte
	var err error
	if h == nil {
		err = fmt.Errorf("fakecloud: no in-process handler for function %s (SetHandler)", name)
	} else {
		out, err = h(ctx, slices.Clone(payload))
	}
	rec := Invocation{Time: f.c.now(), Function: name, Type: typ, Payload: slices.Clone(payload), Attempt: attempt}
	if err != nil {
		rec.Err = err.Error()
	}
	f.c.mu.Lock()
	rt := f.rt()
	rt.invocations = append(rt.invocations, rec)
	f.c.mu.Unlock()
	return out, err
}

// runAsync runs an asynchronous invocation: up to three attempts, as
// Lambda retries a failed asynchronous invocation twice.
func (f *Lambda) runAsync(ctx context.Context, name string, h LambdaHandler, typ string, payload []byte) {
	for attempt := 1; attempt <= 3; attempt++ {
		if _, err := f.run(ctx, name, h, typ, payload, attempt); err == nil || h == nil {
			return
		}
	}
}

// deliver is the invokeLambda hook: an asynchronous invocation by another
// service, accepted only when the resource policy lets that service (and
// that source) invoke the function.
func (f *Lambda) deliver(functionARN string, payload []byte) error {
	principal, source, kind := deliverySource(payload)
	return f.deliverAs(functionARN, principal, source, kind, payload)
}

// deliverAs is an asynchronous invocation by principal for source (""
// for a caller the fake does not check), accepted only when the resource
// policy allows it; kind names it in Invocations.
func (f *Lambda) deliverAs(functionARN, principal, source, kind string, payload []byte) error {
	f.c.mu.Lock()
	fn, err := f.function(functionARN)
	if err != nil {
		f.c.mu.Unlock()
		return err
	}
	if principal != "" && !fn.allows(principal, source, f.c.account) {
		f.c.mu.Unlock()
		return apiError("AccessDeniedException", "%s is not authorized to invoke %s for source %s", principal, fn.ARN, source)
	}
	name, h := fn.Name, f.rt().handlers[fn.Name]
	f.c.mu.Unlock()
	f.runAsync(context.Background(), name, h, kind, payload)
	return nil
}

// deliverySource tells who sends a payload: a CloudWatch alarm action or
// an SNS subscription, with the source ARN the resource policy must match.
func deliverySource(payload []byte) (principal, source, kind string) {
	var probe struct {
		Source   string `json:"source"`
		AlarmArn string `json:"alarmArn"`
		Records  []struct {
			EventSource string `json:"EventSource"`
			Sns         struct {
				TopicArn string `json:"TopicArn"`
			} `json:"Sns"`
		} `json:"Records"`
	}
	if json.Unmarshal(payload, &probe) != nil {
		return "", "", "Event"
	}
	if probe.Source == "aws.cloudwatch" && probe.AlarmArn != "" {
		return "lambda.alarms.cloudwatch.amazonaws.com", probe.AlarmArn, "alarm"
	}
	if len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sns" {
		return "sns.amazonaws.com", probe.Records[0].Sns.TopicArn, "sns"
	}
	return "", "", "Event"
}

// allows reports whether the resource policy lets principal invoke the
// function for source (ArnLike: * and ? wildcards) in account.
func (fn *fakeFunction) allows(principal, source, account string) bool {
	for _, s := range fn.Policy {
		if s.Principal != principal || (s.Action != "lambda:InvokeFunction" && s.Action != "lambda:*") {
			continue
		}
		if s.SourceAccount != "" && s.SourceAccount != account {
			continue
		}
		if s.SourceArn != "" && !arnLike(s.SourceArn, source) {
			continue
		}
		return true
	}
	return false
}

func arnLike(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	ok, _ := regexp.MatchString(re, s)
	return ok
}

// SetHandler makes name's invocations run h in process; nil removes it.
// Handlers are not saved with the state.
func (f *Lambda) SetHandler(name string, h LambdaHandler) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if h == nil {
		delete(f.rt().handlers, name)
		return
	}
	f.rt().handlers[name] = h
}

// Invocations returns every invocation the fake ran, oldest first.
func (f *Lambda) Invocations() []Invocation {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return slices.Clone(f.rt().invocations)
}

// FunctionPolicy returns the (Principal, SourceArn) pairs of a function's
// resource policy by statement ID, for assertions.
func (f *Lambda) FunctionPolicy(name string) map[string][2]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	fn, ok := f.st().Functions[name]
	if !ok {
		return nil
	}
	out := map[string][2]string{}
	for _, s := range fn.Policy {
		out[s.Sid] = [2]string{s.Principal, s.SourceArn}
	}
	return out
}

// Functions returns the names of every function, for assertions.
func (f *Lambda) Functions() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Functions)
}
