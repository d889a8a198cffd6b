package validate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// AssociationAPI is the part of the SSM client EnsureAssociation and
// DeleteAssociation use.
type AssociationAPI interface {
	CreateAssociation(context.Context, *ssm.CreateAssociationInput, ...func(*ssm.Options)) (*ssm.CreateAssociationOutput, error)
	DescribeAssociation(context.Context, *ssm.DescribeAssociationInput, ...func(*ssm.Options)) (*ssm.DescribeAssociationOutput, error)
	UpdateAssociation(context.Context, *ssm.UpdateAssociationInput, ...func(*ssm.Options)) (*ssm.UpdateAssociationOutput, error)
	DeleteAssociation(context.Context, *ssm.DeleteAssociationInput, ...func(*ssm.Options)) (*ssm.DeleteAssociationOutput, error)
	ListAssociations(context.Context, *ssm.ListAssociationsInput, ...func(*ssm.Options)) (*ssm.ListAssociationsOutput, error)
	AddTagsToResource(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	ListTagsForResource(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
}

// KindAssociation is the Change kind of a State Manager association.
const KindAssociation = "ssm-association"

// Defaults of the rate controls of runs and associations. Validation reads
// and changes nothing, so a quarter of the wave at a time is safe, and
// every instance is checked however many fail: a validation that stopped
// at the first errors would not name every failing server.
const (
	DefaultMaxConcurrency = "25%"
	DefaultMaxErrors      = "100%"
)

var (
	rateRe           = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$`)
	cronRe           = regexp.MustCompile(`^cron\(([^()]+)\)$`)
	maxConcurrencyRe = regexp.MustCompile(`^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`)
	maxErrorsRe      = regexp.MustCompile(`^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`)
	tagKeyRe         = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
)

// CheckSchedule checks a State Manager schedule expression: rate(N unit)
// with minute(s), hour(s) or day(s), at least every 30 minutes and a
// singular unit for 1, or cron(...) with six or seven fields.
func CheckSchedule(expr string) error {
	if m := rateRe.FindStringSubmatch(expr); m != nil {
		n, _ := strconv.Atoi(m[1])
		if (n == 1) != !strings.HasSuffix(m[2], "s") {
			return fmt.Errorf("%q: use a singular unit for 1 and a plural one otherwise", expr)
		}
		if strings.HasPrefix(m[2], "minute") && n < 30 {
			return fmt.Errorf("%q: State Manager runs an association at most every 30 minutes", expr)
		}
		return nil
	}
	if m := cronRe.FindStringSubmatch(expr); m != nil {
		if n := len(strings.Fields(m[1])); n == 6 || n == 7 {
			return nil
		}
	}
	return fmt.Errorf("%q is neither rate(N minutes|hours|days) nor cron(<6 or 7 fields>)", expr)
}

// checkTargets checks tag targets: 1 to 5 tag keys, 1 to 50 values each.
func checkTargets(field string, targets map[string][]string) error {
	if len(targets) == 0 || len(targets) > 5 {
		return fmt.Errorf("%s: 1 to 5 tag keys required, got %d", field, len(targets))
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(targets)) {
		if !tagKeyRe.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") {
			errs = append(errs, fmt.Errorf("%s: %q is not a tag key", field, k))
		}
		if n := len(targets[k]); n == 0 || n > 50 {
			errs = append(errs, fmt.Errorf("%s[%s]: 1 to 50 values required, got %d", field, k, n))
		}
		for _, v := range targets[k] {
			if v == "" || len(v) > 256 {
				errs = append(errs, fmt.Errorf("%s[%s]: value %q must be 1..256 characters", field, k, v))
			}
		}
	}
	return errors.Join(errs...)
}

// ssmTargets renders tag targets as SSM targets "tag:<key>", sorted.
func ssmTargets(targets map[string][]string) []types.Target {
	var out []types.Target
	for _, k := range slices.Sorted(maps.Keys(targets)) {
		out = append(out, types.Target{Key: aws.String("tag:" + k), Values: slices.Sorted(slices.Values(targets[k]))})
	}
	return out
}

func targetsString(ts []types.Target) string {
	var parts []string
	for _, t := range ts {
		vals := slices.Sorted(slices.Values(t.Values))
		parts = append(parts, aws.ToString(t.Key)+"="+strings.Join(vals, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// checkParameters checks parameter overrides against a document's
// declared parameters, with the service's rules: every name declared,
// every value matching the allowed pattern or values.
func checkParameters(field string, doc Document, params map[string]string) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(params)) {
		p, ok := doc.Parameters[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %q is not a parameter of document %s", field, name, doc.Name))
			continue
		}
		v := params[name]
		if p.AllowedPattern != "" && !match(p.AllowedPattern, v) {
			errs = append(errs, fmt.Errorf("%s[%s]: %q does not match %s", field, name, v, p.AllowedPattern))
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
			errs = append(errs, fmt.Errorf("%s[%s]: %q is not one of %v", field, name, v, p.AllowedValues))
		}
	}
	return errors.Join(errs...)
}

func ssmParameters(params map[string]string) map[string][]string {
	if len(params) == 0 {
		return nil
	}
	out := make(map[string][]string, len(params))
	for k, v := range params {
		out[k] = []string{v}
	}
	return out
}

// AssociationSpec describes the State Manager association that runs a
// validation document on a schedule.
type AssociationSpec struct {
	// Name is the association name; env.Name("validate-config-association").
	Name string
	// Document is the ensured document (EnsureDocument); the association
	// pins its Version.
	Document Document
	// Targets select the instances by tag: key → accepted values.
	Targets map[string][]string
	// Schedule is a rate or cron expression (see CheckSchedule).
	Schedule string
	// Parameters override document defaults; checked against Document.
	Parameters map[string]string
	// MaxConcurrency and MaxErrors default to DefaultMaxConcurrency and
	// DefaultMaxErrors.
	MaxConcurrency string
	MaxErrors      string
	// ComplianceSeverity of a failed run; HIGH when empty.
	ComplianceSeverity types.AssociationComplianceSeverity
}

// Validate checks the spec.
func (s AssociationSpec) Validate() error {
	var errs []error
	if err := migrationRuleSSM(s.Name); err != nil {
		errs = append(errs, fmt.Errorf("association.name: %w", err))
	}
	if s.Document.Name == "" || s.Document.Version == "" {
		errs = append(errs, errors.New("association.document: the ensured document (name and version) is required"))
	}
	if err := checkTargets("association.targets", s.Targets); err != nil {
		errs = append(errs, err)
	}
	if err := CheckSchedule(s.Schedule); err != nil {
		errs = append(errs, fmt.Errorf("association.schedule: %w", err))
	}
	if err := checkParameters("association.parameters", s.Document, s.Parameters); err != nil {
		errs = append(errs, err)
	}
	if s.MaxConcurrency != "" && !maxConcurrencyRe.MatchString(s.MaxConcurrency) {
		errs = append(errs, fmt.Errorf("association.maxConcurrency: %q must be a number or a percentage", s.MaxConcurrency))
	}
	if s.MaxErrors != "" && !maxErrorsRe.MatchString(s.MaxErrors) {
		errs = append(errs, fmt.Errorf("association.maxErrors: %q must be a number or a percentage", s.MaxErrors))
	}
	if s.ComplianceSeverity != "" && !slices.Contains(s.ComplianceSeverity.Values(), s.ComplianceSeverity) {
		errs = append(errs, fmt.Errorf("association.complianceSeverity: %q is not one of %v", s.ComplianceSeverity, s.ComplianceSeverity.Values()))
	}
	return errors.Join(errs...)
}

// desired is the association's managed state as SSM reports it.
type desired struct {
	document, version, schedule, concurrency, maxErrors, severity string
	targets                                                       []types.Target
	params                                                        map[string][]string
}

func (s AssociationSpec) desired() desired {
	d := desired{
		document: s.Document.Name, version: s.Document.Version, schedule: s.Schedule,
		concurrency: s.MaxConcurrency, maxErrors: s.MaxErrors, severity: string(s.ComplianceSeverity),
		targets: ssmTargets(s.Targets), params: ssmParameters(s.Parameters),
	}
	if d.concurrency == "" {
		d.concurrency = DefaultMaxConcurrency
	}
	if d.maxErrors == "" {
		d.maxErrors = DefaultMaxErrors
	}
	if d.severity == "" {
		d.severity = string(types.AssociationComplianceSeverityHigh)
	}
	return d
}

// Association is an ensured association.
type Association struct {
	ID      string
	Name    string
	Version string
}

// associationVisibleTimeout bounds the wait for a new association to be
// readable.
const associationVisibleTimeout = 2 * time.Minute

// EnsureAssociation makes the env's association exist and converge: the
// document and its pinned version, targets, schedule, parameters, rate
// controls, compliance severity and tags. It runs once right away (State
// Manager runs a new or updated association immediately) and then on the
// schedule.
//
// It finds the association by name among those carrying the env's
// ownership tag; one of the same name without the tag is not adopted, and
// more than one owned is an error. CreateAssociation takes no client
// token, so after a create EnsureAssociation waits until the association
// is readable: the next run then finds it instead of creating a second.
// UpdateAssociation resets every field its request leaves out, so an
// update sends the whole desired state, plus the fields the spec does not
// manage as they are, and the version it read (a concurrent change fails
// with InvalidAssociationVersion instead of being overwritten).
// Idempotent: a converged association costs reads only.
func EnsureAssociation(ctx context.Context, env migration.Env, api AssociationAPI, spec AssociationSpec) (Association, error) {
	if err := migration.Validate(env, spec); err != nil {
		return Association{}, fmt.Errorf("ensure association %q: %w", spec.Name, err)
	}
	a, err := ensureAssociation(ctx, env, api, spec)
	if err != nil {
		return Association{}, fmt.Errorf("ensure association %q: %w", spec.Name, err)
	}
	return a, nil
}

func ensureAssociation(ctx context.Context, env migration.Env, api AssociationAPI, spec AssociationSpec) (Association, error) {
	want := spec.desired()
	createDiff := []migration.FieldDiff{{Field: "document", To: want.document + " v" + versionLabel(want.version)}, {Field: "schedule", To: want.schedule}, {Field: "targets", To: targetsString(want.targets)}}
	if migration.IsPending(spec.Document.ARN) {
		// The document does not exist yet (dry run): nor can an
		// association of it.
		id := migration.Pending(spec.Name)
		env.Report(migration.Change{Kind: KindAssociation, Name: spec.Name, ID: id, Action: migration.ActionCreate, Diff: createDiff})
		return Association{ID: id, Name: spec.Name}, nil
	}
	owned, err := findAssociations(ctx, env, api, spec.Name, spec.Document.Name)
	if err != nil {
		return Association{}, err
	}
	if len(owned) > 1 {
		return Association{}, fmt.Errorf("%d associations named %s carry %s=%s (%v); expected one: delete the extras", len(owned), spec.Name, migration.OwnerTag, env.Suffix, owned)
	}
	if len(owned) == 0 {
		if env.DryRun || migration.IsPending(spec.Document.Version) {
			id := migration.Pending(spec.Name)
			env.Report(migration.Change{Kind: KindAssociation, Name: spec.Name, ID: id, Action: migration.ActionCreate, Diff: createDiff})
			return Association{ID: id, Name: spec.Name}, nil
		}
		var out *ssm.CreateAssociationOutput
		// A document created a moment ago may not be visible yet.
		err := env.Retry(ctx, []string{"InvalidDocument"}, func(ctx context.Context) error {
			var err error
			out, err = api.CreateAssociation(ctx, &ssm.CreateAssociationInput{
				AssociationName:    aws.String(spec.Name),
				Name:               aws.String(want.document),
				DocumentVersion:    aws.String(want.version),
				Targets:            want.targets,
				ScheduleExpression: aws.String(want.schedule),
				Parameters:         want.params,
				MaxConcurrency:     aws.String(want.concurrency),
				MaxErrors:          aws.String(want.maxErrors),
				ComplianceSeverity: types.AssociationComplianceSeverity(want.severity),
				Tags:               ssmTags(env.NameTags(spec.Name)),
			})
			return err
		})
		if err != nil {
			return Association{}, fmt.Errorf("create: %w", err)
		}
		id := aws.ToString(out.AssociationDescription.AssociationId)
		if err := waitAssociationVisible(ctx, env, api, id); err != nil {
			return Association{}, err
		}
		env.Report(migration.Change{Kind: KindAssociation, Name: spec.Name, ID: id, Action: migration.ActionCreate, Diff: createDiff})
		return Association{ID: id, Name: spec.Name, Version: aws.ToString(out.AssociationDescription.AssociationVersion)}, nil
	}

	id := owned[0]
	out, err := api.DescribeAssociation(ctx, &ssm.DescribeAssociationInput{AssociationId: aws.String(id)})
	if err != nil {
		return Association{}, fmt.Errorf("describe %s: %w", id, err)
	}
	have := out.AssociationDescription
	a := Association{ID: id, Name: spec.Name, Version: aws.ToString(have.AssociationVersion)}
	var diff []migration.FieldDiff
	field := func(name, from, to string) {
		if from != to {
			diff = append(diff, migration.FieldDiff{Field: name, From: from, To: to})
		}
	}
	field("document", aws.ToString(have.Name), want.document)
	field("documentVersion", aws.ToString(have.DocumentVersion), versionLabel(want.version))
	field("targets", targetsString(have.Targets), targetsString(want.targets))
	field("schedule", aws.ToString(have.ScheduleExpression), want.schedule)
	field("parameters", paramsString(have.Parameters), paramsString(want.params))
	field("maxConcurrency", aws.ToString(have.MaxConcurrency), want.concurrency)
	field("maxErrors", aws.ToString(have.MaxErrors), want.maxErrors)
	field("complianceSeverity", string(have.ComplianceSeverity), want.severity)
	field("applyOnlyAtCronInterval", strconv.FormatBool(have.ApplyOnlyAtCronInterval), "false")
	tags, err := associationTags(ctx, api, id)
	if err != nil {
		return Association{}, err
	}
	// Tag first, then the settings, while the diff lists the settings first.
	var c migration.Converge
	c.Differs(diff...)
	c.Tags(tags, env.NameTags(spec.Name), func(missing map[string]string) error {
		if _, err := api.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingAssociation, ResourceId: aws.String(id), Tags: ssmTags(missing)}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
		return nil
	})
	update := func() error {
		up, err := api.UpdateAssociation(ctx, &ssm.UpdateAssociationInput{
			AssociationId:      aws.String(id),
			AssociationVersion: have.AssociationVersion,
			AssociationName:    aws.String(spec.Name),
			Name:               aws.String(want.document),
			DocumentVersion:    aws.String(want.version),
			Targets:            want.targets,
			ScheduleExpression: aws.String(want.schedule),
			Parameters:         want.params,
			MaxConcurrency:     aws.String(want.concurrency),
			MaxErrors:          aws.String(want.maxErrors),
			ComplianceSeverity: types.AssociationComplianceSeverity(want.severity),
			// Not managed by the spec: sent back as they are, because
			// UpdateAssociation resets whatever the request leaves out.
			OutputLocation:                have.OutputLocation,
			CalendarNames:                 have.CalendarNames,
			SyncCompliance:                have.SyncCompliance,
			AlarmConfiguration:            have.AlarmConfiguration,
			ScheduleOffset:                have.ScheduleOffset,
			Duration:                      have.Duration,
			TargetLocations:               have.TargetLocations,
			TargetMaps:                    have.TargetMaps,
			AssociationDispatchAssumeRole: have.AssociationDispatchAssumeRole,
			AutomationTargetParameterName: have.AutomationTargetParameterName,
		})
		if err != nil {
			return fmt.Errorf("update %s: %w", id, err)
		}
		a.Version = aws.ToString(up.AssociationDescription.AssociationVersion)
		return nil
	}
	if len(diff) > 0 {
		c.Then(update)
	}
	if err := c.Apply(env, migration.Change{Kind: KindAssociation, Name: spec.Name, ID: id}); err != nil {
		return Association{}, err
	}
	return a, nil
}

func versionLabel(v string) string {
	if migration.IsPending(v) {
		return "(new version)"
	}
	return v
}

func paramsString(p map[string][]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+"="+strings.Join(p[k], ","))
	}
	return strings.Join(parts, " ")
}

// findAssociations returns the IDs of the env's associations called name:
// those carrying the env's ownership tag whose AssociationName is name or,
// among the associations of document docName (when set), whose Name tag
// is name — an UpdateAssociation that left the name out (which erases it)
// does not make the association a stranger.
func findAssociations(ctx context.Context, env migration.Env, api AssociationAPI, name, docName string) ([]string, error) {
	filters := [][]types.AssociationFilter{{{Key: types.AssociationFilterKeyAssociationName, Value: aws.String(name)}}}
	if docName != "" && !migration.IsPending(docName) {
		filters = append(filters, []types.AssociationFilter{{Key: types.AssociationFilterKeyName, Value: aws.String(docName)}})
	}
	var owned []string
	seen := map[string]bool{}
	for _, f := range filters {
		p := ssm.NewListAssociationsPaginator(api, &ssm.ListAssociationsInput{AssociationFilterList: f})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list associations: %w", err)
			}
			for _, a := range page.Associations {
				id := aws.ToString(a.AssociationId)
				if seen[id] {
					continue
				}
				seen[id] = true
				tags, err := associationTags(ctx, api, id)
				if awsx.HasCode(err, "InvalidResourceId") || awsx.IsNotFound(err) {
					continue // deleted meanwhile
				}
				if err != nil {
					return nil, err
				}
				if env.Owns(tags) && (aws.ToString(a.AssociationName) == name || tags["Name"] == name) {
					owned = append(owned, id)
				}
			}
		}
	}
	return owned, nil
}

func associationTags(ctx context.Context, api AssociationAPI, id string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingAssociation, ResourceId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", id, err)
	}
	return fromSSMTags(out.TagList), nil
}

func waitAssociationVisible(ctx context.Context, env migration.Env, api AssociationAPI, id string) error {
	return env.Poll(ctx, "ssm association "+id+" to be visible", 2*time.Second, associationVisibleTimeout, func(ctx context.Context) (string, bool, error) {
		_, err := api.DescribeAssociation(ctx, &ssm.DescribeAssociationInput{AssociationId: aws.String(id)})
		switch {
		case err == nil:
			return "", true, nil
		case awsx.IsNotFound(err):
			return "not visible yet", false, nil
		default:
			return "", false, err
		}
	})
}

// DeleteAssociation deletes the env's associations of the spec's name
// (duplicates included; see EnsureAssociation for how they are found). It
// touches only associations carrying the env's ownership tag and is a
// no-op when none exists. Only Name and Document.Name are read from the
// spec, so a destroy needs no ensured document.
func DeleteAssociation(ctx context.Context, env migration.Env, api AssociationAPI, spec AssociationSpec) error {
	if err := env.Validate(); err != nil {
		return fmt.Errorf("delete association %q: %w", spec.Name, err)
	}
	if err := migrationRuleSSM(spec.Name); err != nil {
		return fmt.Errorf("delete association %q: association.name: %w", spec.Name, err)
	}
	owned, err := findAssociations(ctx, env, api, spec.Name, spec.Document.Name)
	if err != nil {
		return fmt.Errorf("delete association %q: %w", spec.Name, err)
	}
	if len(owned) == 0 {
		env.ReportGone(KindAssociation, spec.Name)
		return nil
	}
	for _, id := range owned {
		if !env.DryRun {
			if _, err := api.DeleteAssociation(ctx, &ssm.DeleteAssociationInput{AssociationId: aws.String(id)}); err != nil && !awsx.IsNotFound(err) {
				return fmt.Errorf("delete association %q: %s: %w", spec.Name, id, err)
			}
		}
		env.Report(migration.Change{Kind: KindAssociation, Name: spec.Name, ID: id, Action: migration.ActionDelete})
	}
	return nil
}
