package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// CommandAPI is the part of the SSM client Run uses.
type CommandAPI interface {
	SendCommand(context.Context, *ssm.SendCommandInput, ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
	ListCommands(context.Context, *ssm.ListCommandsInput, ...func(*ssm.Options)) (*ssm.ListCommandsOutput, error)
	ListCommandInvocations(context.Context, *ssm.ListCommandInvocationsInput, ...func(*ssm.Options)) (*ssm.ListCommandInvocationsOutput, error)
}

// Recorder records the outcome of a validation run. The tracking Store
// implements it; the example program passes it in.
type Recorder interface {
	RecordValidation(ctx context.Context, r migration.ValidationResult) error
}

// MaxExcerpt bounds the output excerpt of one instance in a result: the
// last MaxExcerpt bytes of its steps' output. The full output is in the
// CloudWatch Logs group of the run.
const MaxExcerpt = 2048

// Status of an expected instance the command never reached.
const StatusNotTargeted = "NotTargeted"

// RunSpec describes one validation run: a document sent to the instances
// its targets select.
type RunSpec struct {
	// Document is the ensured document; Run pins its Version.
	Document Document
	// Targets select the instances by tag: key → accepted values (an
	// instance must match every key). Exactly one of Targets and
	// InstanceIDs is set.
	Targets map[string][]string
	// InstanceIDs name up to 50 instances instead.
	InstanceIDs []string
	// Expect lists the instances that must answer — the wave's servers.
	// An expected instance the command does not reach (not tagged, not
	// managed by SSM, agent offline) fails the run by name. Without it, a
	// server missing from the targets would go unnoticed.
	Expect []string
	// Parameters override document defaults; checked against the
	// document's patterns before anything is sent.
	Parameters map[string]string
	// LogGroup receives the full output; env.LogGroup("validation") when
	// empty. Create it first with migration.EnsureLogGroup, encrypted with
	// the env key: SSM would otherwise create it unencrypted, if the
	// instance role allowed it.
	LogGroup string
	// MaxConcurrency and MaxErrors default to DefaultMaxConcurrency and
	// DefaultMaxErrors.
	MaxConcurrency string
	MaxErrors      string
	// DeliveryTimeout is how long SSM tries to deliver the command to an
	// instance (SendCommand's TimeoutSeconds); 10 minutes when 0.
	DeliveryTimeout time.Duration
	// Timeout bounds the whole wait; DeliveryTimeout plus 15 minutes when 0.
	Timeout time.Duration
	// PollInterval is the delay between status reads; 10s when 0.
	PollInterval time.Duration
	// Comment is shown in the console; at most 100 characters.
	Comment string
}

// Validate checks the spec.
func (s RunSpec) Validate() error {
	var errs []error
	if s.Document.Name == "" || s.Document.Version == "" {
		errs = append(errs, errors.New("run.document: the ensured document (name and version) is required"))
	}
	switch {
	case len(s.Targets) > 0 && len(s.InstanceIDs) > 0:
		errs = append(errs, errors.New("run: set targets or instanceIds, not both"))
	case len(s.InstanceIDs) > 50:
		errs = append(errs, fmt.Errorf("run.instanceIds: at most 50, got %d", len(s.InstanceIDs)))
	case len(s.InstanceIDs) == 0:
		if err := checkTargets("run.targets", s.Targets); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkInstanceIDs("run.instanceIds", s.InstanceIDs); err != nil {
		errs = append(errs, err)
	}
	if err := checkInstanceIDs("run.expect", s.Expect); err != nil {
		errs = append(errs, err)
	}
	if err := checkParameters("run.parameters", s.Document, s.Parameters); err != nil {
		errs = append(errs, err)
	}
	if s.LogGroup != "" {
		if err := migration.RuleLogGroup.Check(s.LogGroup); err != nil {
			errs = append(errs, fmt.Errorf("run.logGroup: %w", err))
		}
	}
	if s.MaxConcurrency != "" && !maxConcurrencyRe.MatchString(s.MaxConcurrency) {
		errs = append(errs, fmt.Errorf("run.maxConcurrency: %q must be a number or a percentage", s.MaxConcurrency))
	}
	if s.MaxErrors != "" && !maxErrorsRe.MatchString(s.MaxErrors) {
		errs = append(errs, fmt.Errorf("run.maxErrors: %q must be a number or a percentage", s.MaxErrors))
	}
	if s.DeliveryTimeout != 0 && (s.DeliveryTimeout < 30*time.Second || s.DeliveryTimeout > 30*24*time.Hour) {
		errs = append(errs, fmt.Errorf("run.deliveryTimeout: %v outside 30s..720h", s.DeliveryTimeout))
	}
	if s.Timeout < 0 || s.PollInterval < 0 {
		errs = append(errs, errors.New("run: timeout and pollInterval must not be negative"))
	}
	if len(s.Comment) > 100 {
		errs = append(errs, errors.New("run.comment: at most 100 characters"))
	}
	return errors.Join(errs...)
}

// instanceIDRe matches an EC2 instance ID or an SSM managed instance ID.
var instanceIDRe = regexp.MustCompile(`^(i|mi)-[0-9a-f]{8,17}$`)

// checkInstanceIDs checks that every entry is an instance ID: an empty
// one (a server whose launch named no instance) would otherwise be
// expected, never reached, and fail the run without naming a server.
func checkInstanceIDs(field string, ids []string) error {
	var errs []error
	for i, id := range ids {
		if !instanceIDRe.MatchString(id) {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is not an instance ID (i-... or mi-...)", field, i, id))
		}
	}
	return errors.Join(errs...)
}

func (s RunSpec) deliveryTimeout() time.Duration { return cmp.Or(s.DeliveryTimeout, 10*time.Minute) }

// Run sends the spec's document, at its pinned version, to the instances
// its targets select, waits on the env clock until every invocation has
// ended, and returns one InstanceResult per instance: passed only on
// status Success, with the last MaxExcerpt bytes of its output (values
// that look like credentials are redacted). The full output goes to the
// CloudWatch Logs group.
//
// The result passes only when at least one instance answered, every
// instance succeeded and every expected instance answered. SSM's own
// command status is not trusted for this: it reads Success when the
// errors stayed within MaxErrors.
//
// Run records the result with rec (nil records nothing) before returning
// it. When the wait ends first, the result is recorded as failed, naming
// the instances still running, and returned with the error. In a dry run
// Run sends nothing and returns a failed result with a Pending command ID.
func Run(ctx context.Context, env migration.Env, api CommandAPI, rec Recorder, spec RunSpec) (migration.ValidationResult, error) {
	if err := migration.Validate(env, spec); err != nil {
		return migration.ValidationResult{}, fmt.Errorf("run %q: %w", spec.Document.Name, err)
	}
	r, err := run(ctx, env, api, rec, spec)
	if err != nil {
		return r, fmt.Errorf("run %q: %w", spec.Document.Name, err)
	}
	return r, nil
}

func run(ctx context.Context, env migration.Env, api CommandAPI, rec Recorder, spec RunSpec) (migration.ValidationResult, error) {
	doc := spec.Document
	result := migration.ValidationResult{Name: doc.Name, At: env.Now()}
	if env.DryRun || migration.IsPending(doc.Version) {
		result.CommandID = migration.Pending(doc.Name)
		return result, nil
	}
	logGroup := cmp.Or(spec.LogGroup, env.LogGroup("validation"))
	in := &ssm.SendCommandInput{
		DocumentName:           aws.String(doc.Name),
		DocumentVersion:        aws.String(doc.Version),
		Parameters:             ssmParameters(spec.Parameters),
		MaxConcurrency:         aws.String(cmp.Or(spec.MaxConcurrency, DefaultMaxConcurrency)),
		MaxErrors:              aws.String(cmp.Or(spec.MaxErrors, DefaultMaxErrors)),
		TimeoutSeconds:         aws.Int32(int32(spec.deliveryTimeout() / time.Second)),
		CloudWatchOutputConfig: &types.CloudWatchOutputConfig{CloudWatchLogGroupName: aws.String(logGroup), CloudWatchOutputEnabled: true},
		Comment:                aws.String(cmp.Or(spec.Comment, truncate("cutover "+env.Suffix+": "+doc.Name, 100))),
	}
	what := "instances " + strings.Join(spec.InstanceIDs, ",")
	if len(spec.InstanceIDs) > 0 {
		in.InstanceIds = spec.InstanceIDs
	} else {
		in.Targets = ssmTargets(spec.Targets)
		what = targetsString(in.Targets)
	}
	var sent *ssm.SendCommandOutput
	// A document version made a moment ago may not be visible yet.
	err := env.Retry(ctx, []string{"InvalidDocument", "InvalidDocumentVersion"}, func(ctx context.Context) error {
		var err error
		sent, err = api.SendCommand(ctx, in)
		return err
	})
	if err != nil {
		return result, fmt.Errorf("send command: %w", err)
	}
	id := aws.ToString(sent.Command.CommandId)
	result.CommandID = id
	env.Log().Info("validation sent", "document", doc.Name, "version", doc.Version, "command", id, "targets", what)

	timeout := cmp.Or(spec.Timeout, spec.deliveryTimeout()+15*time.Minute)
	waitErr := env.Poll(ctx, "validation "+doc.Name+" on "+what, cmp.Or(spec.PollInterval, 10*time.Second), timeout, func(ctx context.Context) (string, bool, error) {
		out, err := api.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
		switch {
		case awsx.HasCode(err, "InvalidCommandId"):
			return "not visible yet", false, nil
		case err != nil:
			return "", false, err
		case len(out.Commands) == 0:
			return "not visible yet", false, nil
		}
		c := out.Commands[0]
		switch c.Status {
		case types.CommandStatusSuccess, types.CommandStatusFailed, types.CommandStatusTimedOut, types.CommandStatusCancelled:
			return string(c.Status), true, nil
		}
		return fmt.Sprintf("%s, %d of %d instances done", c.Status, c.CompletedCount, c.TargetCount), false, nil
	})
	if waitErr != nil && !errors.Is(waitErr, awsx.ErrTimeout) {
		return result, waitErr
	}
	instances, err := invocations(ctx, api, id)
	if err != nil {
		return result, err
	}
	for i := range instances {
		if waitErr != nil && !instances[i].Passed && !terminalStatus(instances[i].Status) {
			instances[i].Output = truncate(fmt.Sprintf("no result within %v: still %s", timeout, instances[i].Status), MaxExcerpt)
		}
	}
	seen := map[string]bool{}
	for _, inst := range instances {
		seen[inst.InstanceID] = true
	}
	for _, want := range spec.Expect {
		if !seen[want] {
			seen[want] = true
			instances = append(instances, migration.InstanceResult{
				InstanceID: want, Status: StatusNotTargeted,
				Output: fmt.Sprintf("the command did not reach this instance: check that it carries the tags %s and that its SSM agent is online", what),
			})
		}
	}
	slices.SortFunc(instances, func(a, b migration.InstanceResult) int { return cmp.Compare(a.InstanceID, b.InstanceID) })
	result.Instances = instances
	result.Passed = len(instances) > 0 && waitErr == nil
	failed := 0
	for _, inst := range instances {
		if !inst.Passed {
			result.Passed = false
			failed++
			env.Log().Warn("validation failed", "document", doc.Name, "instance", inst.InstanceID, "name", inst.Name, "status", inst.Status)
		}
	}
	result.At = env.Now()
	env.Log().Info("validation done", "document", doc.Name, "command", id, "instances", len(instances), "failed", failed, "passed", result.Passed)
	if rec != nil {
		if err := rec.RecordValidation(ctx, result); err != nil {
			return result, errors.Join(waitErr, fmt.Errorf("record result: %w", err))
		}
	}
	return result, waitErr
}

func terminalStatus(s string) bool {
	switch types.CommandInvocationStatus(s) {
	case types.CommandInvocationStatusSuccess, types.CommandInvocationStatusFailed, types.CommandInvocationStatusTimedOut, types.CommandInvocationStatusCancelled:
		return true
	}
	return s == StatusNotTargeted
}

// invocations reads every invocation of a command, with its steps'
// output.
func invocations(ctx context.Context, api CommandAPI, id string) ([]migration.InstanceResult, error) {
	var out []migration.InstanceResult
	p := ssm.NewListCommandInvocationsPaginator(api, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), Details: true})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list invocations of %s: %w", id, err)
		}
		for _, inv := range page.CommandInvocations {
			out = append(out, migration.InstanceResult{
				InstanceID: aws.ToString(inv.InstanceId),
				Name:       aws.ToString(inv.InstanceName),
				Passed:     inv.Status == types.CommandInvocationStatusSuccess,
				Status:     string(inv.Status),
				Output:     Excerpt(inv),
			})
		}
	}
	return out, nil
}

// Excerpt renders an invocation's outcome for a result: the status
// details when they say more than the status (DeliveryTimedOut,
// ExecutionTimedOut, Undeliverable), then each step's output prefixed
// with its name, redacted (see Redact), keeping the last MaxExcerpt bytes.
func Excerpt(inv types.CommandInvocation) string {
	var b strings.Builder
	if d := aws.ToString(inv.StatusDetails); d != "" && d != string(inv.Status) {
		fmt.Fprintf(&b, "%s\n", d)
	}
	for _, p := range inv.CommandPlugins {
		out := strings.TrimSpace(aws.ToString(p.Output))
		switch {
		case out != "":
			fmt.Fprintf(&b, "[%s] %s\n", aws.ToString(p.Name), out)
		case p.Status != types.CommandPluginStatusSuccess:
			fmt.Fprintf(&b, "[%s] %s\n", aws.ToString(p.Name), p.Status)
		}
	}
	return tail(Redact(strings.TrimSpace(b.String())), MaxExcerpt)
}

var redactions = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)`), "[REDACTED PRIVATE KEY]"},
	{regexp.MustCompile(`(?i)\b([a-z]+ql(?:\+[a-z]+)?://[^:/@\s]+):[^@\s]+@`), "$1:[REDACTED]@"},
	{regexp.MustCompile(`(?i)(password|passwd|pwd|secret|secretstring|token|api[_-]?key|access[_-]?key)("?\s*[:=]\s*"?)[^\s",;]+`), "${1}${2}[REDACTED]"},
	{regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`), "[REDACTED KEY ID]"},
}

// Redact masks what looks like a credential in command output: values of
// password=, secret:, token= and the like, passwords in connection URLs,
// private keys and access key IDs. The documents print no credentials;
// this is a second line of defence against a script or tool that does.
func Redact(s string) string {
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// tail keeps the last max bytes of s, cut at a character boundary and
// marked with a leading ellipsis.
func tail(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	i := len(s) - max + len(mark)
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return mark + s[i:]
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
