package validate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/migration"
)

// SSMAPI is every SSM call of the package: what EnsureSuite, RunSuite and
// DeleteSuite need. The SDK's *ssm.Client and the fake cloud's SSM satisfy
// it.
type SSMAPI interface {
	DocumentAPI
	AssociationAPI
	CommandAPI
}

// The name prefixes of the env's validation resources (env.Name(prefix)).
const (
	DocApplication   = "validate-application-health"
	DocDatabase      = "validate-database"
	DocConfiguration = "validate-configuration"
	AssociationName  = "validate-config-association"
)

// DefaultSchedule is how often the association re-runs the configuration
// check when the spec sets no schedule.
const DefaultSchedule = "rate(1 hour)"

// Spec is the whole post-migration validation of one env: which checks run
// on the migrated servers, which servers they are, and how often the
// configuration check re-runs. It yields up to three documents:
//
//   - validate-application-health-<suffix>: Application;
//   - validate-database-<suffix>: Database;
//   - validate-configuration-<suffix>: Services and Files, which a State
//     Manager association re-runs on Schedule.
type Spec struct {
	// KMSKeyARN is the env key (migration.Key.ARN). The log group that
	// receives the runs' output is encrypted with it.
	KMSKeyARN string
	// LogRetentionDays of that log group; 90 when 0.
	LogRetentionDays int
	// Targets select the servers by tag, for example {"Wave": {"1"}}.
	Targets map[string][]string
	// Expect lists the servers' instance IDs (from the MGN launch); each
	// run fails by name for one the command does not reach.
	Expect []string
	// The checks; at least one.
	Application *ApplicationHealth
	Database    *DatabaseConnectivity
	Services    *ServiceAvailability
	Files       *FileStorage
	// Schedule of the configuration check's association; DefaultSchedule
	// when empty. Unused without Services and Files.
	Schedule string
	// MaxConcurrency, MaxErrors and DeliveryTimeout of the runs (see
	// RunSpec).
	MaxConcurrency  string
	MaxErrors       string
	DeliveryTimeout time.Duration
}

// Documents returns the specs of the env's validation documents, in run
// order: application health, database, configuration — those whose checks
// the spec sets.
func (s Spec) Documents(env migration.Env) []DocumentSpec {
	var out []DocumentSpec
	if s.Application != nil {
		out = append(out, DocumentSpec{Name: env.Name(DocApplication), Description: "cutover " + env.Suffix + ": application health over HTTP(S) on the migrated server", Checks: []Check{*s.Application}})
	}
	if s.Database != nil {
		out = append(out, DocumentSpec{Name: env.Name(DocDatabase), Description: "cutover " + env.Suffix + ": TLS PostgreSQL connectivity from the migrated server, credentials from Secrets Manager", Checks: []Check{*s.Database}})
	}
	if s.Services != nil || s.Files != nil {
		var checks []Check
		if s.Services != nil {
			checks = append(checks, *s.Services)
		}
		if s.Files != nil {
			checks = append(checks, *s.Files)
		}
		out = append(out, DocumentSpec{Name: env.Name(DocConfiguration), Description: "cutover " + env.Suffix + ": services active, ports listening, file share mounted and readable", Checks: checks})
	}
	return out
}

func (s Spec) logGroup(env migration.Env) migration.LogGroupSpec {
	days := s.LogRetentionDays
	if days == 0 {
		days = 90
	}
	return migration.LogGroupSpec{Name: env.LogGroup("validation"), RetentionDays: days, KMSKeyARN: s.KMSKeyARN}
}

func (s Spec) schedule() string {
	if s.Schedule == "" {
		return DefaultSchedule
	}
	return s.Schedule
}

func (s Spec) association(env migration.Env, doc Document) AssociationSpec {
	return AssociationSpec{Name: env.Name(AssociationName), Document: doc, Targets: s.Targets, Schedule: s.schedule(), MaxConcurrency: s.MaxConcurrency, MaxErrors: s.MaxErrors}
}

// Validate checks the spec without the env: the checks, targets, key,
// schedule and rate controls.
func (s Spec) Validate() error {
	var errs []error
	if s.Application == nil && s.Database == nil && s.Services == nil && s.Files == nil {
		errs = append(errs, errors.New("validate: set at least one check (application, database, services, files)"))
	}
	for _, c := range []Check{ptrCheck(s.Application), ptrCheck(s.Database), ptrCheck(s.Services), ptrCheck(s.Files)} {
		if c != nil {
			if err := c.Validate(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if !migration.IsPending(s.KMSKeyARN) && !strings.HasPrefix(s.KMSKeyARN, "arn:aws") {
		errs = append(errs, fmt.Errorf("validate.kmsKeyArn: %q is not a KMS key ARN (required: the output log group is encrypted)", s.KMSKeyARN))
	}
	if s.LogRetentionDays != 0 && !slices.Contains(migration.LogRetentionDays, s.LogRetentionDays) {
		errs = append(errs, fmt.Errorf("validate.logRetentionDays: %d is not one of %v", s.LogRetentionDays, migration.LogRetentionDays))
	}
	if err := checkTargets("validate.targets", s.Targets); err != nil {
		errs = append(errs, err)
	}
	if len(s.Expect) > 1000 {
		errs = append(errs, errors.New("validate.expect: at most 1000 instances"))
	}
	if err := checkInstanceIDs("validate.expect", s.Expect); err != nil {
		errs = append(errs, err)
	}
	if err := CheckSchedule(s.schedule()); err != nil {
		errs = append(errs, fmt.Errorf("validate.schedule: %w", err))
	}
	if s.MaxConcurrency != "" && !maxConcurrencyRe.MatchString(s.MaxConcurrency) {
		errs = append(errs, fmt.Errorf("validate.maxConcurrency: %q must be a number or a percentage", s.MaxConcurrency))
	}
	if s.MaxErrors != "" && !maxErrorsRe.MatchString(s.MaxErrors) {
		errs = append(errs, fmt.Errorf("validate.maxErrors: %q must be a number or a percentage", s.MaxErrors))
	}
	if s.DeliveryTimeout != 0 && (s.DeliveryTimeout < 30*time.Second || s.DeliveryTimeout > 30*24*time.Hour) {
		errs = append(errs, fmt.Errorf("validate.deliveryTimeout: %v outside 30s..720h", s.DeliveryTimeout))
	}
	return errors.Join(errs...)
}

// ptrCheck turns a nil check pointer into a nil Check.
func ptrCheck[T Check](p *T) Check {
	if p == nil {
		return nil
	}
	return *p
}

// Suite is the ensured validation of an env.
type Suite struct {
	// LogGroup receives the output of every run.
	LogGroup string
	// Documents in run order.
	Documents []Document
	// Association re-runs the configuration document; zero without one.
	Association Association
}

// EnsureSuite makes the env's validation exist and converge: the
// encrypted log group for the runs' output (migration.EnsureLogGroup), the
// documents of the spec (EnsureDocument) and the association that re-runs
// the configuration document on the spec's schedule (EnsureAssociation).
// Every resource reports its own Change. Idempotent.
func EnsureSuite(ctx context.Context, env migration.Env, api SSMAPI, logs migration.LogsAPI, spec Spec) (Suite, error) {
	if err := migration.Validate(env, spec); err != nil {
		return Suite{}, fmt.Errorf("ensure validation: %w", err)
	}
	for _, d := range spec.Documents(env) {
		if err := d.Validate(); err != nil {
			return Suite{}, fmt.Errorf("ensure validation: %w", err)
		}
	}
	lg, err := migration.EnsureLogGroup(ctx, env, logs, spec.logGroup(env))
	if err != nil {
		return Suite{}, fmt.Errorf("ensure validation: %w", err)
	}
	suite := Suite{LogGroup: lg.Name}
	for _, ds := range spec.Documents(env) {
		d, err := EnsureDocument(ctx, env, api, ds)
		if err != nil {
			return suite, fmt.Errorf("ensure validation: %w", err)
		}
		suite.Documents = append(suite.Documents, d)
		if ds.Name == env.Name(DocConfiguration) {
			a, err := EnsureAssociation(ctx, env, api, spec.association(env, d))
			if err != nil {
				return suite, fmt.Errorf("ensure validation: %w", err)
			}
			suite.Association = a
		}
	}
	return suite, nil
}

// RunSuite runs every document of the suite on the spec's targets, one
// after the other, and returns one result per document (each recorded
// with rec). A run that fails to complete does not stop the others; its
// error is returned joined with theirs. Whether the phase may advance is
// Passed(results...) — or Gate.
func RunSuite(ctx context.Context, env migration.Env, api CommandAPI, rec Recorder, suite Suite, spec Spec) ([]migration.ValidationResult, error) {
	var results []migration.ValidationResult
	var errs []error
	for _, d := range suite.Documents {
		r, err := Run(ctx, env, api, rec, RunSpec{
			Document: d, Targets: spec.Targets, Expect: spec.Expect, LogGroup: suite.LogGroup,
			MaxConcurrency: spec.MaxConcurrency, MaxErrors: spec.MaxErrors, DeliveryTimeout: spec.DeliveryTimeout,
		})
		if err != nil {
			errs = append(errs, err)
		}
		if r.Name != "" {
			results = append(results, r)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return results, errors.Join(errs...)
}

// DeleteSuite deletes the env's validation in dependency order: the
// association, the documents, then the log group with the runs' output.
// Each delete touches only what carries the env's ownership tag and is a
// no-op when it is gone.
func DeleteSuite(ctx context.Context, env migration.Env, api SSMAPI, logs migration.LogsAPI, spec Spec) error {
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete validation: %w", err)
	}
	if err := DeleteAssociation(ctx, env, api, AssociationSpec{Name: env.Name(AssociationName), Document: Document{Name: env.Name(DocConfiguration)}}); err != nil {
		return fmt.Errorf("delete validation: %w", err)
	}
	for _, ds := range spec.Documents(env) {
		if err := DeleteDocument(ctx, env, api, ds); err != nil {
			return fmt.Errorf("delete validation: %w", err)
		}
	}
	if err := migration.DeleteLogGroup(ctx, env, logs, spec.logGroup(env)); err != nil {
		return fmt.Errorf("delete validation: %w", err)
	}
	return nil
}

// InstancePolicy returns the inline policy the migrated servers' instance
// role needs for the validation documents, beyond the AWS managed policy
// AmazonSSMManagedInstanceCore that makes them managed instances: read the
// database secret (and decrypt it through Secrets Manager with the env
// key), and write the runs' output to the validation log group — which
// exists already, so no logs:CreateLogGroup. Nothing else; it passes
// migration's CheckLeastPrivilege.
func InstancePolicy(env migration.Env, spec Spec) migration.PolicyDocument {
	group := migration.LogGroupARN(env, env.LogGroup("validation"))
	statements := []migration.Statement{
		migration.Allow("WriteValidationOutput", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, []string{group + ":*", group + ":log-stream:*"}),
		migration.Allow("FindValidationLogGroup", []string{"logs:DescribeLogGroups"}, []string{"arn:aws:logs:" + env.Region + ":" + env.Account + ":log-group:*"}),
	}
	if spec.Database != nil {
		statements = append(statements,
			migration.Allow("ReadDatabaseSecret", []string{"secretsmanager:GetSecretValue"}, []string{spec.Database.SecretARN}),
			migration.Statement{
				Sid: "DecryptDatabaseSecret", Effect: "Allow", Action: migration.Strings{"kms:Decrypt"}, Resource: migration.Strings{spec.KMSKeyARN},
				Condition: migration.Condition{"StringEquals": {"kms:ViaService": {"secretsmanager." + env.Region + ".amazonaws.com"}}},
			},
		)
	}
	return migration.NewPolicy(statements...)
}
