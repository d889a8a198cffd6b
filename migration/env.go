package migration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// Tag keys the library sets on everything it creates.
const (
	// OwnerTag is the ownership tag. Only a resource carrying
	// OwnerTag=<suffix> is this env's: it is the only thing Ensure adopts
	// and the only thing Delete removes.
	OwnerTag       = "cutover:env"
	TagEnvironment = "Environment"
	TagProject     = "Project"
	TagManagedBy   = "ManagedBy"
	// ManagedBy is the value of the ManagedBy tag.
	ManagedBy = "cutover"
	// DefaultProject is the Project tag when Env.Project is empty.
	DefaultProject = "cutover"
)

// maxTags is the per-resource tag limit shared by EC2, DMS, RDS, IAM,
// DynamoDB, KMS and the other services the library tags.
const maxTags = 50

// Env is one migration environment: where it runs, how its resources are
// named and tagged, and how it reports. It is passed by value to every
// Ensure and Delete function; the zero values of Clock, Reporter and Logger
// mean the wall clock, no reporting and no logging.
type Env struct {
	// Suffix names the environment; every resource name is
	// "<resource-type>-<suffix>". See Validate for the rules.
	Suffix string
	// Region is the AWS Region, for example "us-east-1".
	Region string
	// Account is the 12-digit AWS account ID. Policies and ARNs use it.
	Account string
	// Project is the Project tag; DefaultProject when empty.
	Project string
	// UserTags are added to every resource. They cannot override the
	// library's own tags.
	UserTags map[string]string
	// DryRun makes every Ensure and Delete read only: it reports what it
	// would do, and a missing resource gets a Pending ID.
	DryRun bool
	// Clock is the time source; nil means SystemClock.
	Clock Clock
	// Reporter receives every Change; nil drops them.
	Reporter Reporter
	// Logger receives structured logs; nil discards them. Secret values
	// are never logged.
	Logger *slog.Logger

	step    string      // the runbook step this env was handed to
	onEvent func(Event) // the runbook's progress sink
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)
)

// Validate checks the env before any AWS call: a region and a 12-digit
// account; a suffix that makes every name the library derives (Kinds, and
// the log group names) legal in the service that receives it; user tags
// within AWS limits that do not collide with the library's own tags.
// Every problem is reported, each naming its field and rule.
func (e Env) Validate() error {
	var errs []error
	if e.Suffix == "" {
		errs = append(errs, errors.New("env.suffix: required"))
	} else {
		for _, k := range Kinds {
			name := e.Name(k.Prefix) + strings.Repeat("a", k.Reserve)
			if err := k.Rule.Check(name); err != nil {
				errs = append(errs, fmt.Errorf("env.suffix: derived name %w", err))
				break
			}
		}
		if err := RuleLogGroup.Check(e.LogGroup("vpn-tunnels")); err != nil {
			errs = append(errs, fmt.Errorf("env.suffix: derived log group %w", err))
		}
	}
	if !regionRe.MatchString(e.Region) {
		errs = append(errs, fmt.Errorf("env.region: %q is not an AWS Region name such as us-east-1", e.Region))
	}
	if !accountRe.MatchString(e.Account) {
		errs = append(errs, fmt.Errorf("env.account: %q is not a 12-digit AWS account ID", e.Account))
	}
	if err := checkTagValue(e.Project); err != nil {
		errs = append(errs, fmt.Errorf("env.project: %w", err))
	}
	for _, k := range slices.Sorted(maps.Keys(e.UserTags)) {
		v := e.UserTags[k]
		switch {
		case k == "" || utf8.RuneCountInString(k) > 128:
			errs = append(errs, fmt.Errorf("env.tags: key %q must be 1..128 characters", k))
		case !tagCharsRe.MatchString(k):
			errs = append(errs, fmt.Errorf("env.tags: key %q: %s", k, tagCharsRule))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			errs = append(errs, fmt.Errorf("env.tags: key %q: the aws: prefix is reserved by AWS", k))
		case strings.HasPrefix(k, "cutover:") || k == TagEnvironment || k == TagProject || k == TagManagedBy:
			errs = append(errs, fmt.Errorf("env.tags: key %q is set by the library and cannot be overridden", k))
		}
		if err := checkTagValue(v); err != nil {
			errs = append(errs, fmt.Errorf("env.tags[%s]: %w", k, err))
		}
	}
	if n := len(e.Tags()) + 1; n > maxTags { // +1: the Name tag
		errs = append(errs, fmt.Errorf("env.tags: %d tags with the library's and Name; AWS allows at most %d per resource", n, maxTags))
	}
	return errors.Join(errs...)
}

// tagCharsRe is what AWS accepts in tag keys and values across the
// services the library tags: letters, digits and spaces in any script,
// and _ . : / = + - @.
var tagCharsRe = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

const tagCharsRule = "only letters, digits, spaces and _ . : / = + - @ are allowed in AWS tags"

// checkTagValue checks a tag value: at most 256 characters of tagCharsRe.
func checkTagValue(v string) error {
	switch {
	case utf8.RuneCountInString(v) > 256:
		return errors.New("at most 256 characters")
	case !tagCharsRe.MatchString(v):
		return fmt.Errorf("%q: %s", v, tagCharsRule)
	}
	return nil
}

// Name returns the name of a resource of the given type in this env:
// "<resourceType>-<suffix>", for example Name("dms-instance") is
// "dms-instance-dev".
func (e Env) Name(resourceType string) string { return resourceType + "-" + e.Suffix }

// LogGroup returns the CloudWatch Logs group name for one log of this env:
// "/cutover/<suffix>/<what>". The KMS key policy lets CloudWatch Logs use
// the env key for exactly the groups under "/cutover/<suffix>/".
func (e Env) LogGroup(what string) string { return "/cutover/" + e.Suffix + "/" + what }

// Tags returns the tags every resource of this env carries: Environment,
// Project, ManagedBy=cutover, the ownership tag OwnerTag=<suffix>, and the
// user's tags. The map is a fresh copy.
func (e Env) Tags() map[string]string {
	t := make(map[string]string, len(e.UserTags)+4)
	maps.Copy(t, e.UserTags)
	project := e.Project
	if project == "" {
		project = DefaultProject
	}
	t[TagEnvironment] = e.Suffix
	t[TagProject] = project
	t[TagManagedBy] = ManagedBy
	t[OwnerTag] = e.Suffix
	return t
}

// NameTags returns Tags plus Name=name.
func (e Env) NameTags(name string) map[string]string {
	t := e.Tags()
	t["Name"] = name
	return t
}

// Owns reports whether tags carry this env's exact ownership tag. Nothing
// else — a Name tag, a ManagedBy tag, an old tag format — means owned.
func (e Env) Owns(tags map[string]string) bool {
	v, ok := tags[OwnerTag]
	return ok && v == e.Suffix
}

// Now returns the env clock's current time.
func (e Env) Now() time.Time { return e.clock().Now() }

// Sleep waits d on the env clock, or until ctx ends.
func (e Env) Sleep(ctx context.Context, d time.Duration) error {
	return awsx.Sleep(ctx, e.clock(), d)
}

func (e Env) clock() Clock {
	if e.Clock == nil {
		return SystemClock()
	}
	return e.Clock
}

// Log returns the env logger, or one that discards.
func (e Env) Log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return e.Logger
}

// Report records a Change: it goes to the Reporter, to the runbook's
// progress events, and to the log. A Change never holds a secret value.
func (e Env) Report(c Change) {
	if e.Reporter != nil {
		e.Reporter.Report(c)
	}
	e.Log().Info("change", "action", string(c.Action), "kind", c.Kind, "name", c.Name, "id", c.ID, "step", e.step)
}

// Notes of the no-op changes a Delete reports.
const (
	// NoteGone: the resource was already deleted.
	NoteGone = "already deleted"
	// NoteNotOwned: the resource lacks the env's ownership tag; a Delete
	// never touches it.
	NoteNotOwned = "not owned by this env; left in place"
)

// ReportGone reports that a Delete found nothing to delete: a no-op
// change of the kind and name, noted NoteGone.
func (e Env) ReportGone(kind, name string) {
	e.Report(Change{Kind: kind, Name: name, Action: ActionNoop, Note: NoteGone})
}

// ReportNotOwned reports that a Delete left a resource alone because it
// lacks the env's ownership tag: a no-op change with its ID, noted
// NoteNotOwned.
func (e Env) ReportNotOwned(kind, name, id string) {
	e.Report(Change{Kind: kind, Name: name, ID: id, Action: ActionNoop, Note: NoteNotOwned})
}

// Poll calls cond every interval on the env clock until it reports done
// (state is ignored then), returns an error, timeout passes or ctx ends.
// While waiting it emits a "waiting" progress event naming what and the
// last state cond reported, so an operator sees what the step waits on.
func (e Env) Poll(ctx context.Context, what string, interval, timeout time.Duration, cond func(context.Context) (state string, done bool, err error)) error {
	start := e.Now()
	state := ""
	err := awsx.Poll(ctx, e.clock(), interval, timeout, func(ctx context.Context) (bool, error) {
		s, done, err := cond(ctx)
		state = s
		if err == nil && !done {
			e.waiting(what, state, e.Now().Sub(start))
		}
		return done, err
	})
	if err != nil {
		if state != "" && errors.Is(err, awsx.ErrTimeout) {
			return fmt.Errorf("waiting for %s: still %q: %w", what, state, err)
		}
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

// Wait waits for what using an SDK waiter's acceptor (see awsx.Acceptor)
// on the env clock, emitting "waiting" progress events. The delay between
// attempts backs off from 2 to 30 seconds, the SDK's way. retryCodes are
// the API error codes that mean "not visible yet" for this wait.
func Wait[In, Out, Opt any](ctx context.Context, env Env, what string, call func(context.Context, *In, ...Opt) (*Out, error), in *In, accept awsx.Acceptor[In, Out], timeout time.Duration, retryCodes ...string) (*Out, error) {
	return WaitEvery(ctx, env, what, 0, call, in, accept, timeout, retryCodes...)
}

// WaitEvery is Wait with the delay between attempts backing off to at most
// every (Wait's 30 seconds when 0): for a state that usually arrives
// within seconds and that someone is waiting on, such as a Route 53
// change becoming INSYNC during a rollback, where a long backoff would
// add up to half a minute to the reaction time.
func WaitEvery[In, Out, Opt any](ctx context.Context, env Env, what string, every time.Duration, call func(context.Context, *In, ...Opt) (*Out, error), in *In, accept awsx.Acceptor[In, Out], timeout time.Duration, retryCodes ...string) (*Out, error) {
	o := awsx.WaitOptions{
		Timeout:    timeout,
		RetryCodes: retryCodes,
		OnAttempt:  func(_ int, waited time.Duration) { env.waiting(what, "", waited) },
	}
	if every > 0 {
		o.MinDelay, o.MaxDelay = min(2*time.Second, every), every
	}
	out, err := awsx.Wait(ctx, env.clock(), call, in, accept, o)
	if err != nil {
		return out, fmt.Errorf("waiting for %s: %w", what, err)
	}
	return out, nil
}

// Retry calls fn until it succeeds or fails with an error code outside
// codes, up to 8 attempts with backoff on the env clock. Use it for an
// API's named eventual-consistency errors only (a role not yet assumable,
// an ID not yet visible); the SDK retryer already handles throttling.
func (e Env) Retry(ctx context.Context, codes []string, fn func(context.Context) error) error {
	return awsx.Retry(ctx, e.clock(), 8, time.Second, codes, fn)
}

func (e Env) waiting(what, state string, waited time.Duration) {
	if e.onEvent != nil {
		e.onEvent(Event{Type: EventWaiting, Step: e.step, Time: e.Now(), Waiting: what, State: state, Waited: waited})
	}
}

// Validate checks env and then spec, before any AWS call. Every Ensure and
// Delete function starts with it.
func Validate(env Env, spec interface{ Validate() error }) error {
	if err := env.Validate(); err != nil {
		return err
	}
	return spec.Validate()
}
