package fakecloud

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// State Manager associations: CreateAssociation, DescribeAssociation,
// UpdateAssociation (with AWS's rule that every optional field left out
// of the request is reset), DeleteAssociation and ListAssociations. An
// association runs once right after it is created or updated (its status
// goes Pending → Success after SSMAssociationFirstRun) and then on its
// schedule, which the fake validates but does not run.

type fakeAssociation struct {
	ID                      string              `json:"id"`
	AssociationName         string              `json:"associationName,omitempty"`
	Document                string              `json:"document"`
	DocumentVersion         string              `json:"documentVersion,omitempty"`
	Version                 int                 `json:"version"`
	Targets                 []fakeTarget        `json:"targets,omitempty"`
	Schedule                string              `json:"schedule,omitempty"`
	Parameters              map[string][]string `json:"parameters,omitempty"`
	MaxConcurrency          string              `json:"maxConcurrency,omitempty"`
	MaxErrors               string              `json:"maxErrors,omitempty"`
	ComplianceSeverity      string              `json:"complianceSeverity,omitempty"`
	ApplyOnlyAtCronInterval bool                `json:"applyOnlyAtCronInterval,omitempty"`
	Tags                    map[string]string   `json:"tags"`
	Created                 time.Time           `json:"created"`
	Updated                 time.Time           `json:"updated"`
}

var (
	ssmAssociationNameRe = regexp.MustCompile(`^[a-zA-Z0-9_\-.]{3,128}$`)
	// rate(N unit): State Manager runs associations at most every 30
	// minutes.
	ssmRateRe = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$`)
	ssmCronRe = regexp.MustCompile(`^cron\(([^()]+)\)$`)
)

// checkSchedule validates a State Manager schedule expression.
func checkSchedule(expr string) error {
	if m := ssmRateRe.FindStringSubmatch(expr); m != nil {
		n, _ := strconv.Atoi(m[1])
		singular := !strings.HasSuffix(m[2], "s")
		if (n == 1) != singular {
			return apiError("InvalidSchedule", "Schedule expression %s: use a singular unit for 1 and a plural one otherwise", expr)
		}
		if strings.HasPrefix(m[2], "minute") && n < 30 {
			return apiError("InvalidSchedule", "Schedule expression %s: associations run at most every 30 minutes", expr)
		}
		return nil
	}
	if m := ssmCronRe.FindStringSubmatch(expr); m != nil {
		if n := len(strings.Fields(m[1])); n == 6 || n == 7 {
			return nil
		}
	}
	return apiError("InvalidSchedule", "Schedule expression %q is not a valid cron or rate expression.", expr)
}

func (f *SSM) association(id string) (*fakeAssociation, error) {
	a, ok := f.st().Associations[id]
	if !ok || f.c.hidden("ssm-association:"+id) {
		return nil, apiError("AssociationDoesNotExist", "The specified association does not exist.")
	}
	return a, nil
}

// checkAssociation validates the document, version, targets, schedule,
// rates and parameters of an association.
func (f *SSM) checkAssociation(a *fakeAssociation) error {
	d, err := f.document(a.Document)
	if err != nil {
		return err
	}
	v, err := d.version(a.DocumentVersion)
	if err != nil {
		return err
	}
	doc, err := parseSSMContent(v.Content)
	if err != nil {
		return err
	}
	if a.AssociationName != "" && !ssmAssociationNameRe.MatchString(a.AssociationName) {
		return apiError("ValidationException", "AssociationName %q must match %s", a.AssociationName, ssmAssociationNameRe)
	}
	if len(a.Targets) == 0 {
		return apiError("InvalidTarget", "Targets are required")
	}
	var targets []types.Target
	for _, t := range a.Targets {
		targets = append(targets, types.Target{Key: aws.String(t.Key), Values: t.Values})
	}
	if _, _, err := f.resolveTargets(targets); err != nil {
		return apiError("InvalidTarget", "%v", err)
	}
	if a.Schedule != "" {
		if err := checkSchedule(a.Schedule); err != nil {
			return err
		}
		if a.ApplyOnlyAtCronInterval && !strings.HasPrefix(a.Schedule, "cron(") {
			return apiError("InvalidSchedule", "ApplyOnlyAtCronInterval is not supported with rate expressions")
		}
	}
	if a.MaxConcurrency != "" && !maxConcurrencyRe.MatchString(a.MaxConcurrency) {
		return apiError("ValidationException", "MaxConcurrency %q is not valid", a.MaxConcurrency)
	}
	if a.MaxErrors != "" && !maxErrorsRe.MatchString(a.MaxErrors) {
		return apiError("ValidationException", "MaxErrors %q is not valid", a.MaxErrors)
	}
	switch types.AssociationComplianceSeverity(a.ComplianceSeverity) {
	case "", types.AssociationComplianceSeverityCritical, types.AssociationComplianceSeverityHigh, types.AssociationComplianceSeverityMedium, types.AssociationComplianceSeverityLow, types.AssociationComplianceSeverityUnspecified:
	default:
		return apiError("ValidationException", "ComplianceSeverity %q is not valid", a.ComplianceSeverity)
	}
	if err := checkParameters(doc, a.Parameters); err != nil {
		return apiError("InvalidParameters", "%s", strings.TrimPrefix(err.Error(), "InvalidParameters: "))
	}
	return nil
}

func (f *SSM) associationDescription(a *fakeAssociation) *types.AssociationDescription {
	now := f.c.now()
	status := types.AssociationStatusNamePending
	d := &types.AssociationDescription{
		AssociationId: aws.String(a.ID), Name: aws.String(a.Document), AssociationVersion: aws.String(strconv.Itoa(a.Version)),
		Parameters: maps.Clone(a.Parameters), ComplianceSeverity: types.AssociationComplianceSeverity(a.ComplianceSeverity),
		ApplyOnlyAtCronInterval: a.ApplyOnlyAtCronInterval, Date: aws.Time(a.Created), LastUpdateAssociationDate: aws.Time(a.Updated),
	}
	if !now.Before(a.Updated.Add(SSMAssociationFirstRun)) {
		status = types.AssociationStatusNameSuccess
		d.LastExecutionDate = aws.Time(a.Updated.Add(SSMAssociationFirstRun))
		d.LastSuccessfulExecutionDate = d.LastExecutionDate
	}
	d.Status = &types.AssociationStatus{Name: status, Date: aws.Time(a.Updated), Message: aws.String(string(status))}
	d.Overview = &types.AssociationOverview{Status: aws.String(string(status)), DetailedStatus: aws.String(string(status))}
	for _, t := range a.Targets {
		d.Targets = append(d.Targets, types.Target{Key: aws.String(t.Key), Values: slices.Clone(t.Values)})
	}
	for _, p := range []struct {
		v   string
		dst **string
	}{{a.AssociationName, &d.AssociationName}, {a.DocumentVersion, &d.DocumentVersion}, {a.Schedule, &d.ScheduleExpression}, {a.MaxConcurrency, &d.MaxConcurrency}, {a.MaxErrors, &d.MaxErrors}} {
		if p.v != "" {
			*p.dst = aws.String(p.v)
		}
	}
	return d
}

func fakeTargets(ts []types.Target) []fakeTarget {
	var out []fakeTarget
	for _, t := range ts {
		out = append(out, fakeTarget{Key: aws.ToString(t.Key), Values: slices.Clone(t.Values)})
	}
	return out
}

// CreateAssociation creates an association of a document with targets.
// Association names are not unique.
func (f *SSM) CreateAssociation(ctx context.Context, in *ssm.CreateAssociationInput, _ ...func(*ssm.Options)) (*ssm.CreateAssociationOutput, error) {
	var out *ssm.CreateAssociationOutput
	err := f.c.call(ctx, ssm.ServiceID, "CreateAssociation", true, func() error {
		if in.InstanceId != nil {
			return apiError("ValidationException", "the fake supports Targets, not the legacy InstanceId")
		}
		a := &fakeAssociation{
			AssociationName: aws.ToString(in.AssociationName), Document: aws.ToString(in.Name), DocumentVersion: aws.ToString(in.DocumentVersion),
			Version: 1, Targets: fakeTargets(in.Targets), Schedule: aws.ToString(in.ScheduleExpression), Parameters: maps.Clone(in.Parameters),
			MaxConcurrency: aws.ToString(in.MaxConcurrency), MaxErrors: aws.ToString(in.MaxErrors), ComplianceSeverity: string(in.ComplianceSeverity),
			ApplyOnlyAtCronInterval: in.ApplyOnlyAtCronInterval, Tags: map[string]string{}, Created: f.c.now(), Updated: f.c.now(),
		}
		if err := f.checkAssociation(a); err != nil {
			return err
		}
		for _, t := range in.Tags {
			a.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		a.ID = f.c.newUUID()
		f.st().Associations[a.ID] = a
		f.c.created("ssm-association:" + a.ID)
		out = &ssm.CreateAssociationOutput{AssociationDescription: f.associationDescription(a)}
		return nil
	})
	return out, err
}

// DescribeAssociation describes an association by AssociationId.
func (f *SSM) DescribeAssociation(ctx context.Context, in *ssm.DescribeAssociationInput, _ ...func(*ssm.Options)) (*ssm.DescribeAssociationOutput, error) {
	var out *ssm.DescribeAssociationOutput
	err := f.c.call(ctx, ssm.ServiceID, "DescribeAssociation", false, func() error {
		if in.AssociationId == nil {
			return apiError("ValidationException", "the fake describes associations by AssociationId only")
		}
		a, err := f.association(*in.AssociationId)
		if err != nil {
			return err
		}
		out = &ssm.DescribeAssociationOutput{AssociationDescription: f.associationDescription(a)}
		return nil
	})
	return out, err
}

// UpdateAssociation replaces an association's settings. As in AWS, every
// optional field the request leaves out is reset to empty — callers must
// send the whole desired state. AssociationVersion, when given, must be
// the latest version or "$LATEST" (optimistic concurrency). Name (the
// document) keeps its value when omitted.
func (f *SSM) UpdateAssociation(ctx context.Context, in *ssm.UpdateAssociationInput, _ ...func(*ssm.Options)) (*ssm.UpdateAssociationOutput, error) {
	var out *ssm.UpdateAssociationOutput
	err := f.c.call(ctx, ssm.ServiceID, "UpdateAssociation", true, func() error {
		a, err := f.association(aws.ToString(in.AssociationId))
		if err != nil {
			return err
		}
		if v := aws.ToString(in.AssociationVersion); v != "" && v != "$LATEST" && v != strconv.Itoa(a.Version) {
			return apiError("InvalidAssociationVersion", "The version you specified is not valid: the latest version is %d.", a.Version)
		}
		next := *a
		next.AssociationName = aws.ToString(in.AssociationName)
		if in.Name != nil {
			next.Document = *in.Name
		}
		next.DocumentVersion = aws.ToString(in.DocumentVersion)
		next.Targets = fakeTargets(in.Targets)
		if len(in.Targets) == 0 {
			next.Targets = a.Targets // AWS refuses to clear targets; keep them
		}
		next.Schedule = aws.ToString(in.ScheduleExpression)
		next.Parameters = maps.Clone(in.Parameters)
		next.MaxConcurrency = aws.ToString(in.MaxConcurrency)
		next.MaxErrors = aws.ToString(in.MaxErrors)
		next.ComplianceSeverity = string(in.ComplianceSeverity)
		next.ApplyOnlyAtCronInterval = in.ApplyOnlyAtCronInterval
		if err := f.checkAssociation(&next); err != nil {
			return err
		}
		next.Version++
		next.Updated = f.c.now()
		*a = next
		out = &ssm.UpdateAssociationOutput{AssociationDescription: f.associationDescription(a)}
		return nil
	})
	return out, err
}

// DeleteAssociation deletes an association by AssociationId.
func (f *SSM) DeleteAssociation(ctx context.Context, in *ssm.DeleteAssociationInput, _ ...func(*ssm.Options)) (*ssm.DeleteAssociationOutput, error) {
	err := f.c.call(ctx, ssm.ServiceID, "DeleteAssociation", true, func() error {
		if in.AssociationId == nil {
			return apiError("ValidationException", "the fake deletes associations by AssociationId only")
		}
		if _, err := f.association(*in.AssociationId); err != nil {
			return err
		}
		delete(f.st().Associations, *in.AssociationId)
		return nil
	})
	return &ssm.DeleteAssociationOutput{}, err
}

// ListAssociations lists associations, filtered by AssociationName, Name
// (the document) or AssociationId, paginated.
func (f *SSM) ListAssociations(ctx context.Context, in *ssm.ListAssociationsInput, _ ...func(*ssm.Options)) (*ssm.ListAssociationsOutput, error) {
	var out *ssm.ListAssociationsOutput
	err := f.c.call(ctx, ssm.ServiceID, "ListAssociations", false, func() error {
		s := f.st()
		var all []types.Association
		for _, id := range sortedKeys(s.Associations) {
			a := s.Associations[id]
			if f.c.hidden("ssm-association:" + id) {
				continue
			}
			keep := true
			for _, flt := range in.AssociationFilterList {
				v := aws.ToString(flt.Value)
				switch flt.Key {
				case types.AssociationFilterKeyAssociationName:
					keep = keep && a.AssociationName == v
				case types.AssociationFilterKeyName:
					keep = keep && a.Document == v
				case types.AssociationFilterKeyAssociationId:
					keep = keep && a.ID == v
				default:
					return apiError("InvalidFilterKey", "the fake filters associations by AssociationName, Name and AssociationId only")
				}
			}
			if !keep {
				continue
			}
			d := f.associationDescription(a)
			all = append(all, types.Association{
				AssociationId: d.AssociationId, AssociationName: d.AssociationName, AssociationVersion: d.AssociationVersion,
				DocumentVersion: d.DocumentVersion, Name: d.Name, ScheduleExpression: d.ScheduleExpression, Targets: d.Targets,
				Overview: d.Overview, LastExecutionDate: d.LastExecutionDate,
			})
		}
		items, next, err := page(all, in.NextToken, pageSize(in.MaxResults, 50))
		if err != nil {
			return err
		}
		out = &ssm.ListAssociationsOutput{Associations: items, NextToken: next}
		return nil
	})
	return out, err
}

// Associations returns the IDs of the associations, sorted.
func (f *SSM) Associations() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Associations)
}
